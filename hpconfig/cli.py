"""The command line: the only module that prints and sets exit codes.

Every ``HpconfigError`` is caught in one place (``_Group.main``) and turned into a message on
stderr and its exit code; a traceback only with ``--debug``. Click's usage errors exit 64.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from hpconfig import __version__
from hpconfig.errors import ExitCode, HpconfigError, InputError
from hpconfig.project import load_project
from hpconfig.render import diagnostics
from hpconfig.schema import SCHEMA_NAMES, schema_text

log = logging.getLogger("hpconfig")


class _Group(click.Group):
    """Maps click's errors and hpconfig's exceptions to exit codes, in one place."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        debug = "--debug" in (args[0] if args and args[0] is not None else sys.argv[1:])
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            error.show()
            sys.exit(ExitCode.USAGE)
        except click.ClickException as error:
            error.show()
            sys.exit(ExitCode.FAILURE)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except InputError as error:
            click.echo(diagnostics.render_text(error.problems), err=True, nl=False)
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except HpconfigError as error:
            if debug:
                log.debug("stopped by", exc_info=True)
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)
        except Exception as error:  # a bug, not the user's mistake
            if debug:
                raise
            click.echo(
                f"Error: internal error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback, and please report it)",
                err=True,
            )
            sys.exit(ExitCode.FAILURE)
        sys.exit(code or 0)


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hpconfig")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    # urllib3 says "Retrying (...)" at WARNING on every retry; hpconfig reports the outcome
    # itself, so its chatter shows with --debug only.
    urllib3_log = logging.getLogger("urllib3")
    urllib3_log.handlers[:] = [handler]
    urllib3_log.propagate = False
    urllib3_log.setLevel(logging.DEBUG if debug else logging.ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hpconfig")
@click.option("--debug", is_flag=True, help="Log every step to stderr; show tracebacks of bugs.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="HPCONFIG_CONFIG",
    help="The project config (default: hpconfig.yaml in the given directory or here).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, config_path: Path | None) -> None:
    """Configuration as code for Hyperproof controls."""
    _configure_logging(debug)
    ctx.obj = {"config_path": config_path, "debug": debug}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How to report problems.",
)
@click.pass_obj
def validate(obj: dict[str, Any], paths: tuple[Path, ...], output_format: str) -> int:
    """Check manifests and the config offline; report every problem with file:line:col."""
    project = load_project(list(paths), obj["config_path"])
    problems = project.problems
    if output_format == "json":
        text = diagnostics.render_json(problems, len(project.files), len(project.desired))
    elif output_format == "github":
        text = diagnostics.render_github(problems)
    else:
        text = diagnostics.render_text(problems)
    click.echo(text, nl=False)
    files = f"{len(project.files)} file{'s' if len(project.files) != 1 else ''}"
    if problems:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {files}.", err=True)
        return ExitCode.INVALID_INPUT
    click.echo(f"{len(project.desired)} controls in {files}: valid.", err=True)
    return ExitCode.OK


def _write_atomically(path: Path, text: str) -> None:
    import tempfile

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report(
    plan: Any, output_format: str, out: Path | None, color: bool | None, show_unmanaged: bool
) -> None:
    from hpconfig.render.json import render_json
    from hpconfig.render.markdown import render_markdown
    from hpconfig.render.text import render_text

    if out is not None:
        try:
            _write_atomically(out, render_json(plan))
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    if output_format == "json":
        click.echo(render_json(plan), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(plan), nl=False)
    else:
        paint = use_color(sys.stdout) if color is None else color
        click.echo(
            render_text(plan, color=paint, show_unmanaged=show_unmanaged), nl=False, color=paint
        )


def _plan_with(settings: Any, project: Any) -> Any:
    from hpconfig.client import HyperproofClient
    from hpconfig.planning import make_plan

    click.echo(
        f"hpconfig: {len(project.desired)} controls declared in {len(project.files)} files; "
        f"reading Hyperproof at {settings.api_url} ...",
        err=True,
    )
    with HyperproofClient(settings) as client:
        return make_plan(client, project.desired, project.config)


def _plan_options(function: Any) -> Any:
    options = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["text", "json", "markdown"]),
            default="text",
            show_default=True,
            help="The report on stdout.",
        ),
        click.option(
            "--out",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Also write the JSON report to this file, whatever --format prints.",
        ),
        click.option(
            "--show-unmanaged",
            is_flag=True,
            help="List the controls in Hyperproof that no manifest declares.",
        ),
        click.option(
            "--color/--no-color",
            default=None,
            help="Colour the text report (default: on a terminal without NO_COLOR).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_plan_options
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when in sync, 2 when the plan has changes (as Terraform).",
)
@click.option("--region", type=click.Choice(["us", "eu", "gov"]), help="Hyperproof region.")
@click.option("--api-url", help="API host root; overrides the region's.")
@click.option("--token-url", help="OAuth token URL; overrides the region's.")
@click.option("--client-id", help="The API client's id (the secret only from the environment).")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds.")
@click.option("--read-timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds.")
@click.pass_obj
def plan(
    obj: dict[str, Any],
    paths: tuple[Path, ...],
    output_format: str,
    out: Path | None,
    show_unmanaged: bool,
    color: bool | None,
    detailed_exitcode: bool,
    region: str | None,
    api_url: str | None,
    token_url: str | None,
    client_id: str | None,
    connect_timeout: float | None,
    read_timeout: float | None,
) -> int:
    """Compare the manifests with Hyperproof and report the drift (read-only)."""
    from hpconfig import settings as settings_module

    project = load_project(list(paths), obj["config_path"])
    if project.problems:  # checked before any network call
        raise InputError(project.problems)
    settings = settings_module.resolve(
        project.config,
        region=region,
        api_url=api_url,
        token_url=token_url,
        client_id=client_id,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    result = _plan_with(settings, project)
    _report(result, output_format, out, color, show_unmanaged)
    if detailed_exitcode and result.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


@cli.command()
@_plan_options
@click.option(
    "--seed",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The sandbox organization (default: examples/sandbox/org.json).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def demo(
    obj: dict[str, Any],
    output_format: str,
    out: Path | None,
    show_unmanaged: bool,
    color: bool | None,
    seed: Path | None,
    paths: tuple[Path, ...],
) -> int:
    """Plan examples/ against the sandbox, through the real sign-in and HTTP code."""
    from hpconfig.sandbox import Sandbox, load_seed
    from hpconfig.sandbox.seeds import EXAMPLE_SEED
    from hpconfig.settings import Secret, Settings

    seed = seed or EXAMPLE_SEED
    manifests = list(paths) or [Path("examples")]
    if not seed.is_file() or not all(p.exists() for p in manifests):
        raise click.ClickException(
            "the demo plans examples/ against examples/sandbox/org.json: run it from a clone of "
            "the hpconfig repository, or give PATHS and --seed"
        )
    project = load_project(manifests, obj["config_path"])
    if project.problems:
        raise InputError(project.problems)
    with Sandbox(load_seed(seed)) as sandbox:
        click.echo(
            f"hpconfig demo: a sandbox Hyperproof API is listening at {sandbox.api_url}", err=True
        )
        settings = Settings(
            api_url=sandbox.api_url,
            token_url=sandbox.token_url,
            client_id=sandbox.client_id,
            secret=Secret(sandbox.client_secret),
        )
        result = _plan_with(settings, project)
        sent = sandbox.requests()
    _report(result, output_format, out, color, show_unmanaged)
    calls = ", ".join(f"{entry['method']} {entry['path']}" for entry in sent)
    click.echo(f"hpconfig demo: the plan made {len(sent)} requests ({calls}).", err=True)
    return ExitCode.OK


@cli.command("schema")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="manifest")
def schema_command(name: str) -> int:
    """Print a JSON Schema (for editors and other tools)."""
    click.echo(schema_text(name), nl=False)
    return ExitCode.OK


def _fault_option(text: str) -> dict[str, Any]:
    """``rate-limit,path=/v1/controls,count=2,retry_after=1`` → Fault keyword arguments."""
    kind, *pairs = text.split(",")
    options: dict[str, Any] = {"kind": kind.strip()}
    numbers = {"count": int, "fraction": float, "retry_after": float, "status": int}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in (*numbers, "path", "method", "message"):
            raise click.BadParameter(
                f"{pair!r}: expected key=value with a key of "
                "path, method, count, fraction, retry_after, status, message"
            )
        try:
            options[key] = numbers[key](value) if key in numbers else value
        except ValueError:
            raise click.BadParameter(f"{pair!r}: {key} takes a number") from None
    return options


@cli.command()
@click.option(
    "--seed",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Seed organization (JSON). Default: examples/sandbox/org.json when present, "
    "else a generated organization of 20 controls.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Keep the organization in this file across runs (written atomically).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but loopback exposes the unauthenticated admin path.",
)
@click.option("--port", default=8765, show_default=True, help="Port; 0 picks a free one.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Delay added to every request.")
@click.option(
    "--token-lifetime",
    default=3600.0,
    show_default=True,
    help="Seconds an access token lives (expires_in).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND[,key=value...]",
    help="A fault from the start, e.g. rate-limit,path=/v1/controls,count=2. Kinds: "
    "rate-limit, quota, unauthorized, server-error, bad-gateway, unavailable, "
    "gateway-timeout, drop, malformed, html. Repeatable.",
)
def sandbox(
    seed: Path | None,
    state_path: Path | None,
    host: str,
    port: int,
    latency_ms: float,
    token_lifetime: float,
    faults: tuple[str, ...],
) -> int:
    """Run the local Hyperproof API in the foreground (Ctrl-C stops it)."""
    import ipaddress

    from hpconfig.sandbox import Sandbox, generate_org, load_seed
    from hpconfig.sandbox.faults import Fault
    from hpconfig.sandbox.seeds import EXAMPLE_SEED

    if seed is None and EXAMPLE_SEED.is_file():
        seed = EXAMPLE_SEED
    organization = load_seed(seed) if seed else generate_org(controls=20, users=5)
    fault_list = []
    for text in faults:
        try:
            fault_list.append(Fault(**_fault_option(text)))
        except (TypeError, ValueError) as error:
            raise click.BadParameter(str(error), param_hint="--fault") from None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        click.echo(
            f"Warning: binding {host}: the sandbox's admin path (/_sandbox) has no "
            "authentication; anyone who can reach this address can change its state.",
            err=True,
        )
    try:
        runner = Sandbox(organization, state_path, host, port, latency_ms / 1000, token_lifetime)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
    for fault in fault_list:
        runner.server.faults.add(fault)
    org = runner.server.org
    click.echo(
        f"# hpconfig sandbox: {len(org.controls)} controls, {len(org.users)} users"
        + (f", state in {state_path}" if state_path else "")
        + ". Ctrl-C stops it.",
        err=True,
    )
    click.echo(f"export HYPERPROOF_API_URL={runner.api_url}")
    click.echo(f"export HYPERPROOF_TOKEN_URL={runner.token_url}")
    click.echo(f"export HYPERPROOF_CLIENT_ID={runner.client_id}")
    # the sandbox's own made-up secret, from the seed: printing it is the point
    click.echo(f"export HYPERPROOF_CLIENT_SECRET={runner.client_secret}")
    sys.stdout.flush()
    try:
        runner.server.serve_forever()
    except KeyboardInterrupt:
        click.echo("# sandbox stopped", err=True)
    finally:
        runner.server.server_close()
    return ExitCode.OK


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def main() -> NoReturn:
    cli.main(prog_name="hpconfig")
