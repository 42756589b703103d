"""The Makefile: `make demo` installs hpconfig alone, `make test` adds the test tools, and
PYTHON=... given for a .venv of another interpreter rebuilds it instead of being ignored.

Dry runs (`make -n`) on scratch environments: nothing is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-n", "-f", str(ROOT / "Makefile"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def _fake_venv(tmp_path: Path, identity: str) -> Path:
    """A .venv whose python says it is ``identity``; enough for the Makefile's check."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    python = venv / "bin" / "python"
    python.write_text(f"#!/bin/sh\necho '{identity}'\n")
    python.chmod(0o755)
    return venv


def test_demo_installs_hpconfig_without_the_test_tools(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").touch()
    demo = _make(tmp_path, "VENV=venv", "demo")
    assert demo.returncode == 0, demo.stderr
    assert "pip install --quiet --disable-pip-version-check -e .\n" in demo.stdout
    assert "[test]" not in demo.stdout and "npm" not in demo.stdout
    test = _make(tmp_path, "VENV=venv", "test")
    assert "-e '.[test]'" in test.stdout and "npm install" in test.stdout


def test_python_given_for_a_venv_of_another_interpreter_rebuilds_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").touch()
    venv = _fake_venv(tmp_path, "/opt/python3.9 (3, 9, 0)")
    kept = _make(tmp_path, "VENV=venv", "demo")  # no PYTHON given: the venv is the choice
    assert kept.returncode == 0 and venv.exists()
    rebuilt = _make(tmp_path, "VENV=venv", f"PYTHON={sys.executable}", "demo")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "venv was made with another Python (/opt/python3.9 (3, 9, 0)); rebuilding it" in (
        rebuilt.stdout
    )
    assert not venv.exists()
    assert f"{sys.executable} -m venv venv" in rebuilt.stdout


def test_python_given_for_the_same_interpreter_keeps_the_venv(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").touch()
    identity = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.base_prefix, sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    venv = _fake_venv(tmp_path, identity)
    kept = _make(tmp_path, "VENV=venv", f"PYTHON={sys.executable}", "demo")
    assert kept.returncode == 0 and venv.exists() and "rebuilding" not in kept.stdout


def test_a_python_that_does_not_run_is_named(tmp_path: Path) -> None:
    failed = _make(tmp_path, "PYTHON=/no/such/python3.99", "demo")
    assert failed.returncode == 2
    assert "PYTHON=/no/such/python3.99 does not run" in failed.stderr
