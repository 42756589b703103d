"""`hpconfig check` and `plan --check`, through the real command, against the sandbox: exit
codes, one fetch, every format, the baseline, report paths, and hostile data kept inert."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.manifest.schema import load_schema
from hpconfig.sandbox import Sandbox
from tests import actions_runner, helpers
from tests.conftest import EXAMPLES
from tests.gfm import ALLOWED, rendered

CANARY = "CANARY-check-41b7-never-print-me"


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    return example_seed


def run(sandbox: Sandbox, *args: str, **env: str) -> Result:
    environment = helpers.env_for(sandbox, CANARY, **{"GITHUB_STEP_SUMMARY": "", **env})
    result = CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)
    for text in (result.stdout, result.stderr):
        assert CANARY not in text and "Bearer ey" not in text
        assert "Traceback" not in text
    return result


def test_check_reports_alarms_and_exits_6(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "check", str(EXAMPLES))
    assert result.exit_code == 6, result.stderr
    out = result.stdout
    assert "✗ owner-active  Every active control is owned by an active person  [error]" in out
    unmanaged = re.search(r"✗ SOC2-CC9\.9  \(unmanaged, id [0-9a-f-]{36}\)  alarm", out)
    assert unmanaged, out  # an unmanaged control: by identifier and Hyperproof id
    assert "'frank@example.com' is deactivated" in out
    assert "✗ SOC2-CC7.2  (examples/controls/operations.yaml:11)  alarm" in out  # its manifest line
    assert "~ SOC2-CC1.1  (examples/controls/governance.yaml:8)  waived" in out
    assert "approved by ciso@example.com, ticket GRC-101" in out
    assert "! SOC2-CC9.1  (examples/controls/operations.yaml:46)  alarm" in out  # a warning
    assert "✓ owner-and-domain" in out
    assert out.rstrip().splitlines()[-1].startswith("Check failed: ")
    assert "6 rules on 40 controls." in out


def test_one_fetch_whatever_the_number_of_rules(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    hpconfig_sandbox.clear_requests()
    run(hpconfig_sandbox, "check", str(EXAMPLES))
    many = [(e["method"], e["path"]) for e in hpconfig_sandbox.requests()]
    assert many == [
        ("POST", "/oauth/token"),
        ("GET", "/v1/controls"),
        ("GET", "/v1/controls"),
        ("GET", "/v1/users"),
    ]
    helpers.write_tree(
        tmp_path,
        {
            "hpconfig.yaml": "manifests: [m.yaml]\nassertions:\n  rules:\n"
            "    - {id: one, title: One rule, severity: error, assert: {ownerActive: true}}\n",
            "m.yaml": "controls:\n  - {identifier: SOC2-CC6.1, name: n, description: d}\n",
        },
    )
    hpconfig_sandbox.clear_requests()
    assert run(hpconfig_sandbox, "check", str(tmp_path)).exit_code == 6
    assert len(hpconfig_sandbox.requests()) == len(many)


def test_json_report_follows_its_schema(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "check", str(EXAMPLES), "--format", "json")
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(load_schema("check")).validate(document)
    assert document["summary"]["rules"] == 6 and document["summary"]["failing"] >= 6
    waived = [r for r in document["results"] if r["outcome"] == "waived"]
    assert waived and all(r["waiver"]["ticket"] == "GRC-101" for r in waived)
    unmanaged = next(r for r in document["results"] if r["identifier"] == "SOC2-CC9.9")
    assert unmanaged["source"] is None and unmanaged["id"]


def test_sarif_has_one_rule_per_assertion_and_stable_fingerprints(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    documents = []
    for name in ("a.sarif", "b.sarif"):
        run(hpconfig_sandbox, "check", str(EXAMPLES), "--sarif", str(tmp_path / name))
        documents.append(json.loads((tmp_path / name).read_text()))
    run_ = documents[0]["runs"][0]
    rules = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert rules == [
        "owner-active",
        "owner-and-domain",
        "freshness-window",
        "evidence-fresh",
        "healthy",
        "access-tested",
    ]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
    waived = [r for r in run_["results"] if r.get("suppressions")]
    assert waived and waived[0]["suppressions"][0]["kind"] == "external"
    unmanaged = next(r for r in run_["results"] if r["properties"]["identifier"] == "SOC2-CC9.9")
    assert unmanaged["locations"][0]["logicalLocations"][0]["name"] == "SOC2-CC9.9"
    prints = [[r["partialFingerprints"] for r in d["runs"][0]["results"]] for d in documents]
    assert prints[0] == prints[1]


def test_github_format_annotates_within_the_cap(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "check", str(EXAMPLES), "--format", "github")
    found = actions_runner.run(result.stdout)
    names = [command.name for _, command in found]
    assert names[0] == "stop-commands"
    annotations = found[2:]
    assert 0 < len(annotations) <= 10
    first = annotations[0][1]
    assert first.name == "error" and first.properties["title"].startswith("Check ")


def test_baseline_new_unchanged_and_fixed(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    written = run(hpconfig_sandbox, "check", str(EXAMPLES), "--write-baseline", str(baseline))
    assert written.exit_code == 6  # writing a baseline does not change this run's verdict
    document = json.loads(baseline.read_text())
    keys = {(a["rule"], a["identifier"]) for a in document["alarms"]}
    assert ("owner-active", "SOC2-CC9.9") in keys
    unchanged = run(hpconfig_sandbox, "check", str(EXAMPLES), "--baseline", str(baseline))
    assert unchanged.exit_code == 0, unchanged.stdout
    assert "=" in unchanged.stdout and "baselined" in unchanged.stdout
    dropped = {"rule": "owner-active", "identifier": "SOC2-CC9.9"}
    document["alarms"] = [a for a in document["alarms"] if a != dropped]
    document["alarms"].append({"rule": "owner-active", "identifier": "SOC2-CC6.1"})
    baseline.write_text(json.dumps(document))
    later = run(
        hpconfig_sandbox, "check", str(EXAMPLES), "--baseline", str(baseline), "--format", "json"
    )
    assert later.exit_code == 6  # the alarm left out of the baseline is new
    report = json.loads(later.stdout)
    failing = [(r["rule"], r["identifier"]) for r in report["results"] if r["fails"]]
    assert failing == [("owner-active", "SOC2-CC9.9")]
    assert report["baseline_fixed"] == [{"rule": "owner-active", "identifier": "SOC2-CC6.1"}]
    assert "1 baseline entry no longer alarm" in later.stderr


def test_a_malformed_baseline_is_a_located_input_error(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"kind": "hpconfig-check-baseline",\n "alarms": [}')
    result = run(hpconfig_sandbox, "check", str(EXAMPLES), "--baseline", str(baseline))
    assert result.exit_code == 3
    assert f"{baseline}:2:" in result.stderr and "not valid JSON" in result.stderr
    hpconfig_sandbox.clear_requests()
    baseline.write_text('{"alarms": []}')
    assert run(hpconfig_sandbox, "check", str(EXAMPLES), "--baseline", str(baseline)).exit_code == 3
    assert hpconfig_sandbox.requests() == []  # refused before any request


def test_write_baseline_goes_through_the_report_path_checks(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("keep me")
    link = tmp_path / "baseline.json"
    os.symlink(target, link)
    hpconfig_sandbox.clear_requests()
    result = run(hpconfig_sandbox, "check", str(EXAMPLES), "--write-baseline", str(link))
    assert result.exit_code == 3 and "--write-baseline" in result.stderr
    assert target.read_text() == "keep me" and hpconfig_sandbox.requests() == []


def test_plan_check_is_one_fetch_and_one_report(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    hpconfig_sandbox.clear_requests()
    result = run(
        hpconfig_sandbox,
        "plan",
        str(EXAMPLES),
        "--check",
        "--detailed-exitcode",
        "--out",
        str(tmp_path / "r.json"),
    )
    assert result.exit_code == 6  # alarms outrank drift (which alone would be 2)
    assert len(hpconfig_sandbox.requests()) == 4
    out = result.stdout
    assert "Plan: 1 to create, 3 to update." in out and out.rstrip().splitlines()[-1].startswith(
        "Check failed"
    )
    document = json.loads((tmp_path / "r.json").read_text())
    jsonschema.Draft202012Validator(load_schema("plan")).validate(document)
    assert document["summary"]["update"] == 3 and document["check"]["summary"]["rules"] == 6
    alone = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "json")
    assert "check" not in json.loads(alone.stdout)  # without --check, the plan as it was


def test_plan_takes_baseline_options_only_with_check(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--baseline", str(tmp_path / "b.json"))
    assert result.exit_code == 64 and "go with --check" in result.stderr


def test_check_without_rules_says_what_to_do(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    helpers.write_tree(
        tmp_path, {"m.yaml": "controls:\n  - {identifier: A, name: n, description: d}\n"}
    )
    result = run(hpconfig_sandbox, "check", str(tmp_path))
    assert result.exit_code == 3 and "no check rules" in result.stderr


def test_demo_shows_the_check_below_the_plan() -> None:
    result = CliRunner().invoke(cli, ["demo", "--check"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "Plan: 1 to create, 3 to update." in result.stdout
    assert "Check failed" in result.stdout
    assert "the plan and the check made 4 requests" in result.stderr
    detailed = CliRunner().invoke(
        cli, ["demo", "--check", "--detailed-exitcode"], catch_exceptions=False
    )
    assert detailed.exit_code == 6


# --- hostile data --------------------------------------------------------------------------

HOSTILE = (
    "x\n::error file=a.yaml,line=1::pwned\r##[error]legacy\x1b[2J\x9b31m <img src=x> "
    "[link](https://evil.example) @org/team </details> | pipe | `tick` \u202eevil {detail}"
)


@pytest.fixture
def hostile_sandbox(example_seed: dict[str, Any]) -> Any:
    seed = copy.deepcopy(example_seed)
    seed["clients"][0]["clientSecret"] = CANARY
    template = seed["controls"][0]
    control = copy.deepcopy(template)
    control.update(
        id="::error::id",
        controlIdentifier="::warning::" + HOSTILE[:40],
        name=HOSTILE,
        domainName=HOSTILE,
        health=HOSTILE,
        testingStatus="notTested",
    )
    seed["controls"] = [control]
    with Sandbox(seed) as sandbox:
        yield sandbox


def _hostile_project(folder: Path) -> Path:
    rule_message = json.dumps("{name} in {domain} ::error::from-rule ##[x] @team <b>{health}</b>")
    helpers.write_tree(
        folder,
        {
            ".git/HEAD": "",
            "hpconfig.yaml": "manifests: [m.yaml]\nassertions:\n  rules:\n"
            "    - id: healthy\n      title: '::error::title ##[x] @team'\n      severity: error\n"
            "      assert: {allowed: {health: [healthy]}}\n"
            f"      message: {rule_message}\n"
            "    - id: cel\n      title: CEL\n      severity: warning\n"
            "      assert: {expression: 'control.name.size() < 5'}\n",
            "m.yaml": "controls:\n  - {identifier: C, name: n, description: d}\n",
        },
    )
    return folder


@pytest.mark.parametrize("output_format", ["text", "json", "markdown", "sarif", "github"])
def test_hostile_strings_in_controls_and_rules_stay_inert(
    hostile_sandbox: Sandbox, tmp_path: Path, output_format: str
) -> None:
    project = _hostile_project(tmp_path / "repo")
    result = run(hostile_sandbox, "check", str(project), "--format", output_format)
    assert result.exit_code == 6, result.stderr
    for text in (result.stdout, result.stderr):
        raw = re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
        assert raw == []
        assert actions_runner.loose_commands(text) == [] or output_format == "github"
    if output_format == "github":
        found = actions_runner.run(result.stdout)
        assert [c.name for _, c in found][2:] == ["error", "warning"]
        for _, command in found[2:]:
            assert "\n" not in command.data and "\x1b" not in command.data
    if output_format == "markdown":
        elements = rendered(result.stdout)
        assert set(elements.tags) <= ALLOWED and elements.links == []
        assert elements.tags.count("h3") == 1
        assert not re.search(r"(^|[^\w])@[A-Za-z0-9]", "".join(elements.prose))
    if output_format == "json":
        document = json.loads(result.stdout)
        reason = next(r["reason"] for r in document["results"] if r["rule"] == "healthy")
        assert reason.startswith(HOSTILE)  # the value exactly, escaped only as JSON
        assert "{detail}" in reason  # a brace in data is never a placeholder


def test_sarif_of_check_and_plan_check_is_what_code_scanning_accepts(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    from tests.test_sarif import _validate

    for args in (["check"], ["plan", "--check"]):
        result = run(hpconfig_sandbox, *args, str(EXAMPLES), "--format", "sarif")
        _validate(json.loads(result.stdout), tmp_path)


def test_a_waiver_about_to_expire_warns_and_an_expired_one_alarms_again(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()  # the day hpconfig judges expiry by
    soon = (today + timedelta(days=3)).isoformat()
    past = (today - timedelta(days=2)).isoformat()
    helpers.write_tree(
        tmp_path,
        {
            "hpconfig.yaml": "manifests: [m.yaml]\nassertions:\n  rules:\n"
            "    - {id: owners, title: Owners, severity: error, assert: {ownerActive: true}}\n"
            "    - {id: fresh, title: Fresh, severity: error, assert: {evidenceFresh: true}}\n"
            "  waivers:\n"
            f"    - {{rule: owners, controls: [SOC2-CC9.9], reason: Named, expires: '{soon}'}}\n"
            f"    - {{rule: fresh, controls: [SOC2-CC7.2], reason: Lapsed, expires: '{past}'}}\n",
            "m.yaml": "controls:\n  - {identifier: SOC2-CC6.1, name: n, description: d}\n",
        },
    )
    result = run(hpconfig_sandbox, "check", str(tmp_path))
    assert result.exit_code == 6
    assert f"this waiver expires in 3 days ({soon})" in result.stderr
    assert f"this waiver expired on {past}" in result.stderr
    assert "~ SOC2-CC9.9" in result.stdout and "waived until" in result.stdout
    assert "✗ SOC2-CC7.2" in result.stdout and f"a waiver expired on {past}" in result.stdout


def test_plan_check_with_controls_checks_the_same_selection(hpconfig_sandbox: Sandbox) -> None:
    args = ("plan", str(EXAMPLES), "--check", "--controls", "SOC2-CC6.*", "--format", "json")
    document = json.loads(run(hpconfig_sandbox, *args).stdout)
    identifiers = {r["identifier"] for r in document["check"]["results"]}
    assert identifiers and all(i.startswith("SOC2-CC6.") for i in identifiers)


def test_the_step_summary_gets_the_check(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("")
    run(hpconfig_sandbox, "check", str(EXAMPLES), GITHUB_STEP_SUMMARY=str(summary))
    text = summary.read_text()
    assert text.startswith("<!-- hpconfig-check -->\n### hpconfig check")
    assert "| `owner-active` Every active control is owned by an active person | error |" in text


def test_check_takes_the_connection_flags_of_plan(hpconfig_sandbox: Sandbox) -> None:
    env = helpers.env_for(hpconfig_sandbox, CANARY, HYPERPROOF_API_URL="", HYPERPROOF_TOKEN_URL="")
    args = [
        "check",
        str(EXAMPLES),
        "--api-url",
        hpconfig_sandbox.api_url,
        "--token-url",
        hpconfig_sandbox.token_url,
        "--timeout",
        "60",
    ]
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 6, result.stderr
    bad = CliRunner().invoke(cli, [*args, "--read-timeout", "nan"], env=env)
    assert bad.exit_code == 64
