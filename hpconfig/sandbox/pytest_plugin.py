"""A pytest plugin: the ``hpconfig_sandbox`` fixture, for the test suites that ask for it.

Opt-in, with ``pytest_plugins = ["hpconfig.sandbox.pytest_plugin"]`` in a ``conftest.py``: it is
not registered as an entry point, so installing hpconfig adds nothing to other projects' pytest
runs. Each test gets its own sandbox on a free loopback port, in a thread, stopped afterwards.
Override ``hpconfig_sandbox_seed`` to start from another organization.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hpconfig.sandbox.runner import Sandbox
from hpconfig.sandbox.seeds import generate_org


@pytest.fixture
def hpconfig_sandbox_seed() -> dict[str, Any]:
    return generate_org(controls=20, users=5)


@pytest.fixture
def hpconfig_sandbox(hpconfig_sandbox_seed: dict[str, Any]) -> Iterator[Sandbox]:
    with Sandbox(hpconfig_sandbox_seed) as sandbox:
        yield sandbox
