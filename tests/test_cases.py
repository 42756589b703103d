"""Data-driven cases: each input file beside the exact messages (or values) it must give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpconfig.manifest.config_file import load_config
from hpconfig.manifest.project import load_project
from tests.conftest import CASES, TODAY

INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.suffix != ".expected")
INVALID_CONFIG = sorted((CASES / "invalid-config").glob("*.yaml"))
VALID = sorted(p for p in (CASES / "valid").iterdir() if p.suffix in (".yaml", ".yml"))


def _expected(case: Path) -> list[str]:
    expected = case.parent / (case.name.rsplit(".", 1)[0] + ".expected")
    return expected.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_manifest_gives_exact_messages(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case.parent)
    project = load_project([Path(case.name)], today=TODAY)
    assert [str(problem) for problem in project.problems] == _expected(case)
    assert not project.valid


@pytest.mark.parametrize("case", INVALID_CONFIG, ids=lambda p: p.name)
def test_invalid_config_gives_exact_messages(case: Path) -> None:
    _, problems = load_config(case, TODAY, case.name)
    assert [str(problem) for problem in sorted(problems)] == _expected(case)


def test_secret_values_never_appear_in_config_messages() -> None:
    case = CASES / "invalid-config" / "secret-keys.yaml"
    _, problems = load_config(case, TODAY, case.name)
    assert problems
    assert all("CANARY" not in str(problem) for problem in problems)


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_manifest_gives_expected_controls(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case.parent)
    project = load_project([Path(case.name)], today=TODAY)
    assert project.problems == []
    expected = json.loads((case.parent / (case.name.rsplit(".", 1)[0] + ".json")).read_text())
    assert {key: control.values for key, control in project.desired.items()} == expected


def test_every_invalid_case_has_its_expected_file() -> None:
    for case in INVALID + INVALID_CONFIG:
        assert _expected(case), f"{case.name} expects no message"
