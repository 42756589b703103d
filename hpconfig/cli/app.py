"""The command group: exit codes, logging, and helpers every command shares.

Every ``HpconfigError`` is caught in one place (``_Group.main``) and turned into a message on
stderr and its exit code; a traceback only with ``--debug``. Click's usage errors exit 64.
The ``hpconfig.cli`` package is the only place that prints and sets exit codes, and it prints
only through ``hpconfig.cli.output`` (redacted, inert, encodable).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import click

from hpconfig import __version__
from hpconfig.cli.output import InertFormatter, emit, message
from hpconfig.errors import ExitCode, HpconfigError, InputError, OutputError
from hpconfig.render import diagnostics

log = logging.getLogger("hpconfig")


class _Group(click.Group):
    """Maps click's errors and hpconfig's exceptions to exit codes, in one place; finds each
    command in ``lazy_commands`` (name → ``"module:attribute"``, filled by ``hpconfig.cli``) and
    imports its module only when the command is asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}
        self.fast_exit = False  # the `hpconfig` command sets it; never a test's cli.main

    def _exit(self, code: int) -> NoReturn:
        if self.fast_exit:
            _exit_at_once(code)
        sys.exit(code)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)  # a module's @cli.command() may have already
        if command is not None and not getattr(command, "_hpconfig_globals", False):
            accept_global_options(command)
        return command

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        debug = "--debug" in (args[0] if args and args[0] is not None else sys.argv[1:])
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            if error.ctx is not None:
                hint = f"Try '{error.ctx.command_path} {error.ctx.help_option_names[0]}' for help."
                message(f"{error.ctx.get_usage()}\n{hint}\n")
            message(f"Error: {error.format_message()}")
            self._exit(ExitCode.USAGE)
        except click.ClickException as error:
            message(f"Error: {error.format_message()}")
            self._exit(error.exit_code)  # click's own (a file it could not open): its code
        except click.Abort:
            message("Aborted.")
            self._exit(130)
        except (BrokenPipeError, OutputError) as error:
            if not isinstance(error, OutputError):
                error = OutputError("cannot write to standard output: the reader closed it")
            _quiet_stdout()
            message(f"Error: {error}")
            self._exit(ExitCode.OUTPUT)
        except InputError as error:
            if error.annotate:  # in CI: the list in the log, then annotations on the lines
                for part, is_command in diagnostics.render_github(error.problems):
                    emit(part, kind="commands" if is_command else "text")
            else:
                emit(diagnostics.render_text(error.problems), err=True)
            message(f"Error: {error}")
            self._exit(error.exit_code)
        except HpconfigError as error:
            if debug:
                log.debug("stopped by", exc_info=True)
            message(f"Error: {error}")
            self._exit(error.exit_code)
        except Exception as error:  # a bug, not the user's mistake
            if debug:
                raise
            message(
                f"Error: internal error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback, and please report it)"
            )
            self._exit(ExitCode.FAILURE)
        try:
            sys.stdout.flush()  # a full disk shows here, when a report was buffered
        except OSError as error:
            _quiet_stdout()
            message(f"Error: cannot write to standard output: {error.strerror}")
            self._exit(ExitCode.OUTPUT)
        self._exit(code or 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence: click cuts it to the terminal's width with
        "...", and `hpconfig --help` showed half-sentences ("or the..."); the table wraps."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _exit_at_once(code: int) -> NoReturn:
    """Exit with ``code`` once the output is flushed and the exit handlers have run, skipping
    the interpreter's teardown: freeing every module one by one took 10 ms, a tenth of a
    pre-commit hook's run. With another thread alive, or output that cannot be flushed, Python
    exits as usual."""
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    atexit._run_exitfuncs()  # logging's shutdown and any other handler, as at a normal exit
    os._exit(code)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):  # CliRunner has no real descriptor
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(InertFormatter("%(levelname)s %(name)s: %(message)s"))
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


def _late_debug(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["debug"] = True
        _configure_logging(True)


def _late_config(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)["config_path"] = value


def accept_global_options(command: click.Command) -> None:
    """``--debug`` and ``--config`` after the command name too (`hpconfig plan --debug`).

    The group's own options are parsed before the command's, so these only add to them; the
    environment (HPCONFIG_CONFIG) is read by the group alone, so a flag here always wins.
    """
    command._hpconfig_globals = True  # type: ignore[attr-defined]  # once per command
    command.params += [
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            is_eager=True,  # logging is on before any other option is looked at
            callback=_late_debug,
            help="As `hpconfig --debug`: log every step to stderr.",
        ),
        click.Option(
            ["--config"],
            type=click.Path(path_type=Path, dir_okay=False),
            expose_value=False,
            callback=_late_config,
            help="As `hpconfig --config FILE`: the project config.",
        ),
    ]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 control``, ``2 controls``: every count the commands print goes through here."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def note_inputs(project: Any, github: bool = False) -> None:
    """Say on stderr which config was read, which was not, which YAML files were skipped, and
    the warnings (in GitHub Actions also as annotations, on stdout with the others)."""
    if project.config.file:
        message(f"hpconfig: config {project.config.file}")
    for warning in project.warnings:
        message(f"Warning: {warning}")
    if github and project.warnings:
        from hpconfig.render.github import problem_annotation, render_annotations

        annotations = [problem_annotation(w, "hpconfig") for w in project.warnings]
        emit(
            render_annotations(annotations, "the full list is in this step's log"), kind="commands"
        )
    for name in project.unused_configs:
        message(
            f"hpconfig: note: {name} is not used (a config is read from --config, from the only "
            "directory given, or from the working directory)"
        )
    if project.skipped:
        shown = [f"{name} ({reason})" for name, reason in project.skipped[:5]]
        if len(project.skipped) > 5:
            shown.append(f"{len(project.skipped) - 5} more")
        message(
            f"hpconfig: skipped {plural(len(project.skipped), 'YAML file')} that "
            f"{'is' if len(project.skipped) == 1 else 'are'} not "
            f"{'a manifest' if len(project.skipped) == 1 else 'manifests'}: {', '.join(shown)}; "
            "name a file to check it anyway"
        )


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())
