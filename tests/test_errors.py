"""One way out: every exception hpconfig raises for users is in errors.py's drawn tree, and only
the CLI's one handler turns them into exit codes."""

from __future__ import annotations

import importlib
import pkgutil
import re

import hpconfig
from hpconfig import errors
from tests.conftest import ROOT


def _every_module() -> list[str]:
    every = pkgutil.walk_packages(hpconfig.__path__, "hpconfig.")
    return [info.name for info in every if info.name != "hpconfig.__main__"]  # it runs the CLI


def test_every_user_facing_exception_is_defined_in_errors_and_drawn_in_its_tree() -> None:
    found = {}
    for name in _every_module():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, errors.HpconfigError):
                found[value.__qualname__] = value.__module__
    assert found and set(found.values()) == {"hpconfig.errors"}, found
    tree = (errors.__doc__ or "").split("::", 1)[1]
    for name in found:
        assert re.search(rf"^[\s│]*(├── |└── )?{name}\b", tree, re.M), f"{name} is not drawn"


def test_no_command_exits_or_raises_clicks_exceptions_itself() -> None:
    for path in sorted((ROOT / "hpconfig" / "cli").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "SystemExit" not in text, path.name
        assert "ClickException(" not in text, path.name
        if path.name != "app.py":  # the one handler
            assert "sys.exit(" not in text, path.name
