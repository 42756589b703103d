"""`hpconfig plan` and `hpconfig demo`: sign in, fetch, diff, and write every report asked for."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.connection import connection_options, plan_context
from hpconfig.cli.output import message
from hpconfig.cli.reports import write_reports
from hpconfig.errors import ExitCode, InputError, InputProblem
from hpconfig.files import report_targets
from hpconfig.manifest.project import load_project
from hpconfig.render.formats import PLAN_FORMATS


def _refuse_invalid(problems: list[Any], output_format: str) -> None:
    """Invalid inputs stop the run before any network call; in CI they become annotations."""
    raise InputError(problems, annotate=output_format == "github")


def _selection(patterns: tuple[str, ...], declared: Any) -> Callable[[str], bool] | None:
    """``--controls``: shell patterns (repeated or comma-separated) over identifiers."""
    globs = [glob.strip() for value in patterns for glob in value.split(",") if glob.strip()]
    if not globs:
        return None
    unmatched = [g for g in globs if not any(fnmatch.fnmatchcase(i, g) for i in declared)]
    if unmatched:
        raise InputProblem(
            f"--controls {', '.join(unmatched)}: no declared control matches; identifiers are "
            "matched whole and case-sensitively, with * and ? as in a shell (quote them)"
        )
    return lambda identifier: any(fnmatch.fnmatchcase(identifier, g) for g in globs)


def _plan_with(settings: Any, project: Any, only: Callable[[str], bool] | None = None) -> Any:
    from hpconfig.remote.client import HyperproofClient
    from hpconfig.remote.fetch import make_plan

    declared = [key for key in project.desired if only is None or only(key)]
    of = "" if only is None else f" (of {len(project.desired)})"
    message(
        f"hpconfig: {plural(len(declared), 'control')}{of} declared in "
        f"{plural(len(project.files), 'file')}; reading Hyperproof at {settings.api_url} ..."
    )
    with HyperproofClient(settings) as client:
        return make_plan(client, project.desired, project.config, only)


def _plan_options(function: Any) -> Any:
    options = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(list(PLAN_FORMATS)),
            default="text",
            show_default=True,
            help="The report on stdout (github: the text report, then workflow annotations).",
        ),
        click.option(
            "--out",
            metavar="FILE",
            help="Also write the JSON report here, whatever --format prints (- for stdout).",
        ),
        click.option(
            "--sarif",
            metavar="FILE",
            help="Also write a SARIF 2.1.0 report (for code scanning) to this file (- for stdout).",
        ),
        click.option(
            "--markdown",
            metavar="FILE",
            help="Also write the Markdown report (a pull-request comment) here (- for stdout).",
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


_detailed_exitcode = click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when in sync, 2 when the plan has changes or controls it could not compare.",
)

_controls_option = click.option(
    "--controls",
    "controls",
    multiple=True,
    metavar="GLOB",
    help="Plan only the controls whose identifier matches (repeat, or separate with commas).",
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_plan_options
@_detailed_exitcode
@_controls_option
@connection_options
@click.pass_obj
def plan(
    obj: dict[str, Any],
    /,
    paths: tuple[Path, ...],
    detailed_exitcode: bool,
    controls: tuple[str, ...],
    region: str | None,
    api_url: str | None,
    token_url: str | None,
    client_id: str | None,
    connect_timeout: float | None,
    read_timeout: float | None,
    run_timeout: float | None,
    **report: Any,
) -> int:
    """Compare the manifests with Hyperproof and report the drift (read-only)."""
    from hpconfig.remote import settings as settings_module

    targets = report_targets(report)
    project = load_project(list(paths), obj["config_path"])
    note_inputs(project, github=report["output_format"] == "github")
    if project.problems:  # checked before any network call
        _refuse_invalid(project.problems, report["output_format"])
    settings = settings_module.resolve(
        project.config,
        region=region,
        api_url=api_url,
        token_url=token_url,
        client_id=client_id,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        run_timeout=run_timeout,
    )
    only = _selection(controls, project.desired)
    result = _plan_with(settings, project, only)
    context = plan_context(project, settings, only, paths, controls)
    result = dataclasses.replace(result, context=context)
    write_reports(result, report, targets)
    _say_digest(result, report.get("out"))
    _warn_problems(result)
    return _exit_code(result, detailed_exitcode)


def _say_digest(result: Any, out: str | None) -> None:
    from hpconfig.render.json import plan_sha256

    digest = plan_sha256(result)
    if out and out != "-":
        message(
            f"hpconfig: plan saved to {out} (sha256 {digest}); apply exactly this plan with "
            f"`hpconfig apply {out} --plan-sha256 {digest}`"
        )
    else:
        message(f"hpconfig: plan sha256 {digest} (of the JSON report, as --out FILE saves it)")


def _warn_problems(result: Any) -> None:
    """Changes apply cannot make are in every report; stderr says so too. A create without name
    or description is the manifest's error: exit 3 once the reports are out, so the pull
    request's check fails. An owner that cannot own is the organization's data, not an input of
    the plan: a warning only (apply refuses it)."""
    from hpconfig.errors import Location, Problem
    from hpconfig.owners import OWNER

    incomplete = [
        Problem(c.source or Location(""), "", p)
        for c in result.problems
        for p in c.problems
        if not p.startswith(OWNER)
    ]
    if incomplete:
        raise InputError(incomplete)
    if result.problems:
        lines = [f"  {c.identifier}: {p}" for c in result.problems for p in c.problems]
        more = len(lines) - 20
        message(
            f"Warning: {plural(len(result.problems), 'change')} cannot be applied as planned; "
            "apply will refuse the plan (exit 3) until the manifests are fixed:\n"
            + "\n".join(lines[:20])
            + (f"\n  and {more} more" if more > 0 else "")
        )


def _exit_code(result: Any, detailed_exitcode: bool) -> int:
    # A declared control that could not be compared may differ: never "in sync" then.
    changed = result.has_changes or not result.complete
    return ExitCode.CHANGES if detailed_exitcode and changed else ExitCode.OK


@cli.command()
@_plan_options
@_detailed_exitcode
@_controls_option
@click.option(
    "--seed",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The sandbox organization (default: examples/sandbox/org.json).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def demo(
    obj: dict[str, Any],
    /,
    detailed_exitcode: bool,
    controls: tuple[str, ...],
    seed: Path | None,
    paths: tuple[Path, ...],
    **report: Any,
) -> int:
    """Plan examples/ against the sandbox, through the real sign-in and HTTP code."""
    from hpconfig.remote.settings import Secret, Settings
    from hpconfig.sandbox import Sandbox, load_seed
    from hpconfig.sandbox.seeds import EXAMPLE_SEED

    targets = report_targets(report)
    seed = seed or EXAMPLE_SEED
    manifests = list(paths) or [Path("examples")]
    absent = [str(p) for p in (seed, *manifests) if not p.exists()]
    if absent:
        raise InputProblem(
            f"{', '.join(absent)}: not found here. The demo plans examples/ against "
            "examples/sandbox/org.json of the hpconfig repository: run it from the root of a "
            "clone (`make demo`), or give manifest PATHS and --seed FILE"
        )
    project = load_project(manifests, obj["config_path"])
    note_inputs(project)
    if project.problems:
        _refuse_invalid(project.problems, report["output_format"])
    only = _selection(controls, project.desired)
    try:
        sandbox_runner = Sandbox(load_seed(seed))
    except OSError as error:
        raise InputProblem(
            f"cannot start the sandbox on a free loopback port: {error.strerror}; the demo "
            "needs to listen on 127.0.0.1"
        ) from None
    with sandbox_runner as sandbox:
        message(f"hpconfig demo: a sandbox Hyperproof API is listening at {sandbox.api_url}")
        settings = Settings(
            api_url=sandbox.api_url,
            token_url=sandbox.token_url,
            client_id=sandbox.client_id,
            secret=Secret(sandbox.client_secret),
        )
        result = _plan_with(settings, project, only)
        sent = sandbox.requests()
    write_reports(result, report, targets)
    calls = ", ".join(f"{entry['method']} {entry['path']}" for entry in sent)
    message(f"hpconfig demo: the plan made {plural(len(sent), 'request')} ({calls}).")
    return _exit_code(result, detailed_exitcode)
