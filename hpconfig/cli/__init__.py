"""The command line. ``app`` holds the group and the error mapping; each command lives in its
own module, imported only when that command runs (or when ``--help`` lists them all), so that
``hpconfig validate`` in a pre-commit hook never loads the HTTP client or the plan's renderers.

A new command is one line in ``COMMANDS``: its name and ``"module:attribute"``.
"""

from __future__ import annotations

from typing import NoReturn

from hpconfig.cli.app import cli, use_color

__all__ = ["COMMANDS", "cli", "main", "use_color"]

COMMANDS = {
    "apply": "hpconfig.cli.apply:apply",
    "check": "hpconfig.cli.check:check",
    "demo": "hpconfig.cli.plan:demo",
    "import": "hpconfig.cli.importing:import_command",
    "plan": "hpconfig.cli.plan:plan",
    "refresh": "hpconfig.cli.refresh:refresh",
    "sandbox": "hpconfig.cli.sandbox:sandbox",
    "schema": "hpconfig.cli.validate:schema_command",
    "validate": "hpconfig.cli.validate:validate",
}
cli.lazy_commands.update(COMMANDS)


def main() -> NoReturn:
    """The ``hpconfig`` command: run, then leave without tearing the interpreter down."""
    cli.fast_exit = True
    cli.main(prog_name="hpconfig")
