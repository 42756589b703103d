"""Shared fixtures: paths, a fixed 'today', and a guard that fails any non-loopback connection."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest

# The sandbox fixture is opt-in (hpconfig registers no pytest entry point); this suite opts in.
pytest_plugins = ["hpconfig.sandbox.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples"
TODAY = date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach any address but loopback."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
        ):
            raise AssertionError(f"a test tried to reach {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def example_seed() -> dict[str, Any]:
    return json.loads((EXAMPLES / "sandbox" / "org.json").read_text(encoding="utf-8"))


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    """The plugin's sandbox fixture starts from the example organization in these tests."""
    return example_seed
