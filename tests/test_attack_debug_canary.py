"""The client secret and the bearer token never show at --debug in the four commands that
landed together (apply, import, refresh, check): not on stdout or stderr, not in the journal,
a report or a file written, with Hyperproof's strings as hostile as the seeds make them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import EXAMPLES

CANARY = "CANARY-attack-debug-7f3a-never-print-me"


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    return example_seed


def test_no_secret_or_token_at_debug_in_apply_refresh_check_and_their_files(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    for folder in ("controls", "checks"):
        shutil.copytree(EXAMPLES / folder, project / folder)
    shutil.copy(EXAMPLES / "hpconfig.yaml", project / "hpconfig.yaml")
    monkeypatch.chdir(project)
    summary = tmp_path / "summary.md"
    env = helpers.env_for(hpconfig_sandbox, CANARY, GITHUB_STEP_SUMMARY=str(summary))
    runs = [
        ("refresh", "controls", "--dry-run", "--markdown", str(tmp_path / "body.md")),
        ("refresh", "controls", "--markdown", str(tmp_path / "body2.md")),
        ("check", ".", "--format", "github", "--sarif", str(tmp_path / "check.sarif")),
        ("plan", "controls", "--out", str(tmp_path / "plan.json")),
        ("apply", str(tmp_path / "plan.json"), "--json", "--allow-archive", "--force"),
    ]
    said = []
    for args in runs:
        result = CliRunner().invoke(cli, ["--debug", *args], env=env, catch_exceptions=False)
        assert "DEBUG" in result.stderr, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, result.stderr
        said += [result.stdout, result.stderr]
    written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert summary.is_file() and list((project / ".hpconfig" / "journal").glob("*.jsonl"))
    assert "accepted from Hyperproof" in said[3] and '"outcome": "applied"' in said[-2]
    for text in said + written:
        assert CANARY not in text
        assert "Bearer " not in text and "access_token" not in text
