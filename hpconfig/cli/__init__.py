"""The command line. ``app`` holds the group and the error mapping; each command module adds
its commands to it when imported here."""

from __future__ import annotations

from typing import NoReturn

from hpconfig.cli import apply, plan, sandbox, validate  # noqa: F401 - registers the commands
from hpconfig.cli.app import accept_global_options, cli, use_color

__all__ = ["cli", "main", "use_color"]

for _command in cli.commands.values():
    accept_global_options(_command)


def main() -> NoReturn:
    cli.main(prog_name="hpconfig")
