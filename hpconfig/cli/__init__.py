"""The command line. ``app`` holds the group and the error mapping; each command lives in its
own module, imported only when that command runs (or when ``--help`` lists them all), so that
``hpconfig validate`` in a pre-commit hook never loads the HTTP client or the plan's renderers.

A new command is one line in ``COMMANDS``: its name and ``"module:attribute"``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

from hpconfig.cli.app import cli, use_color

__all__ = ["COMMANDS", "cli", "main", "use_color"]

COMMANDS = {
    "demo": "hpconfig.cli.plan:demo",
    "plan": "hpconfig.cli.plan:plan",
    "sandbox": "hpconfig.cli.sandbox:sandbox",
    "schema": "hpconfig.cli.validate:schema_command",
    "validate": "hpconfig.cli.validate:validate",
}
cli.lazy_commands.update(COMMANDS)


def main() -> NoReturn:
    """The ``hpconfig`` command: run, then leave without tearing the interpreter down."""
    try:
        cli.main(prog_name="hpconfig")
    except SystemExit as stop:
        _leave(stop.code)
    raise AssertionError("cli.main always exits")  # pragma: no cover


def _leave(code: str | int | None) -> NoReturn:
    """Exit with ``code`` once the output is flushed and the exit handlers have run, skipping
    the interpreter's teardown: freeing every module one by one took 10 ms, a tenth of a
    pre-commit hook's run. Only the command line exits this way (never ``cli.main`` in a
    test); with another thread alive, or output that cannot be flushed, Python exits as usual.
    """
    if (code is not None and not isinstance(code, int)) or threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    atexit._run_exitfuncs()  # logging's shutdown and any other handler, as at a normal exit
    os._exit(code or 0)
