"""SARIF that GitHub code scanning accepts: the schema, GitHub's rules (by Microsoft's SARIF
multitool when it is installed, and always by explicit checks), the 25,000-result cap, rule help,
URIs relative to the repository root and percent-encoded, and messages that stay plain text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.errors import Location
from hpconfig.plan import Change, FieldChange, Plan
from hpconfig.render.sarif import MAX_RESULTS, SRCROOT, plain, sarif_document
from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES, ROOT

SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0-rtm.5.json").read_text())
# `make test` installs the multitool here when npm can (Makefile); SARIF_MULTITOOL overrides.
MULTITOOL_IN_VENV = (
    Path(sys.prefix) / "sarif-multitool" / "node_modules" / "@microsoft" / "sarif-multitool-linux"
)


def _plan(missing: int, drifted: int, files: tuple[str, str] = ("a.yaml", "b.yaml")) -> Plan:
    """A plan with ``missing`` creates and ``drifted`` updates of two fields each."""
    creates = [
        Change(
            f"M-{i:05d}", "create", Location(files[0], i + 1, 3), (FieldChange("name", "x", None),)
        )
        for i in range(missing)
    ]
    updates = [
        Change(
            f"D-{i:05d}",
            "update",
            Location(files[1], i + 1, 3),
            (FieldChange("name", "new", "old"), FieldChange("owner", "a@x.io", "b@x.io")),
        )
        for i in range(drifted)
    ]
    return Plan(changes=tuple(creates + updates), unmanaged=(), in_sync=0)


def github_rule_problems(document: dict[str, Any]) -> list[str]:
    """The GitHub rules of the multitool (GH1001-GH1007, GH2012) that this output can break."""
    problems = []
    run = document["runs"][0]
    if len(run["results"]) > MAX_RESULTS:
        problems.append("GH1004: more than 25,000 results")
    for rule in run["tool"]["driver"]["rules"]:
        for key in ("shortDescription", "fullDescription", "helpUri"):
            if not rule.get(key):
                problems.append(f"{rule['id']}: no {key}")
        if not rule.get("help", {}).get("text") or not rule["help"].get("markdown"):
            problems.append(f"GH2012: {rule['id']} has no help text and markdown")
    bases = run.get("originalUriBaseIds", {})
    for result in run["results"]:
        if not result["message"].get("text"):
            problems.append("GH1007: a message without text")
        if not result.get("partialFingerprints"):
            problems.append("a result without partialFingerprints")
        for location in result.get("locations", []):
            physical = location["physicalLocation"]
            uri, base = (
                physical["artifactLocation"]["uri"],
                physical["artifactLocation"].get("uriBaseId"),
            )
            if "region" not in physical or physical["region"].get("startLine", 0) < 1:
                problems.append(f"GH1003: no region at {uri}")
            if base is None and not uri.startswith("file:///"):
                problems.append(f"GH1005: {uri} is relative without a base")
            if base is not None and (base not in bases or not bases[base]["uri"].endswith("/")):
                problems.append(f"{uri}: base {base} is not defined as a directory URI")
            if " " in uri or "#" in uri:
                problems.append(f"{uri} is not percent-encoded")
    return problems


def _multitool() -> Path | None:
    named = os.environ.get("SARIF_MULTITOOL")
    candidates = [Path(named)] if named else [MULTITOOL_IN_VENV / "Sarif.Multitool"]
    return next((path for path in candidates if path.is_file() and os.access(path, os.X_OK)), None)


def _validate(document: dict[str, Any], tmp_path: Path) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    assert github_rule_problems(document) == []
    multitool = _multitool()
    if multitool is None:  # the explicit checks above stand in for it
        return
    log, out = tmp_path / "log.sarif", tmp_path / "validation.sarif"
    log.write_text(json.dumps(document))
    completed = subprocess.run(
        [
            str(multitool),
            "validate",
            str(log),  # before the list-valued options, which would take it as an item
            "--rule-kind",
            "Gh;Sarif",
            "--output",
            str(out),
            "--log",
            "ForceOverwrite",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    findings = [
        f"{r['ruleId']}: {r['message'].get('text', r['message'])}"
        for r in json.loads(out.read_text())["runs"][0].get("results", [])
        if r.get("level", "warning") in ("error", "warning")
    ]
    assert findings == [], completed.stdout


def test_the_explicit_checks_catch_what_github_rejects() -> None:
    document = sarif_document(_plan(1, 1))
    document["runs"][0]["tool"]["driver"]["rules"] = [{"id": "HPC001"}]
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"].pop("region")
    problems = github_rule_problems(document)
    assert any(p.startswith("GH2012") for p in problems)
    assert any(p.startswith("GH1003") for p in problems)
    assert any(p.startswith("GH1005") for p in problems)


def test_a_capped_run_keeps_missing_controls_first_and_says_how_many_were_left_out(
    tmp_path: Path,
) -> None:
    document = sarif_document(_plan(3, 10), max_results=15)
    run = document["runs"][0]
    results = run["results"]
    assert len(results) == 15
    assert [r["ruleId"] for r in results[:3]] == ["HPC002"] * 3
    identifiers = [r["properties"]["identifier"] for r in results[3:]]
    assert identifiers == sorted(identifiers) and identifiers[-1] == "D-00005"
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("8 of 23 results were left out")
    assert "invocations" not in sarif_document(_plan(3, 10))["runs"][0]


def test_the_cap_is_githubs_and_a_run_at_the_cap_is_accepted(tmp_path: Path) -> None:
    document = sarif_document(_plan(10, MAX_RESULTS // 2), root=tmp_path, cwd=tmp_path)
    results = document["runs"][0]["results"]
    assert len(results) == MAX_RESULTS == 25_000
    assert github_rule_problems(document) == []
    # the schema and the multitool take minutes over 25,000 results of the same few shapes
    document["runs"][0]["results"] = results[:50] + results[-50:]
    _validate(document, tmp_path)


def test_uris_are_relative_to_the_root_percent_encoded_and_absolute_outside(tmp_path: Path) -> None:
    root, cwd = tmp_path / "repo ü", tmp_path / "repo ü" / "sub"
    plan = _plan(1, 1, files=("controls/a b#1.yaml", "../../elsewhere/c.yaml"))
    run = sarif_document(plan, root=root, cwd=cwd)["runs"][0]
    inside, outside = (
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"][:2]
    )
    assert inside == {"uri": "sub/controls/a%20b%231.yaml", "uriBaseId": SRCROOT}
    assert outside == {"uri": (tmp_path / "elsewhere" / "c.yaml").as_uri()}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == root.as_uri() + "/"
    assert "%C3%BC" in run["originalUriBaseIds"][SRCROOT]["uri"]
    _validate(sarif_document(plan, root=root, cwd=cwd), tmp_path)


def test_rules_carry_the_help_github_requires(tmp_path: Path) -> None:
    rules = sarif_document(_plan(1, 1))["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["helpUri"].endswith("README.md#sarif-for-code-scanning")
    heading = "#### SARIF for code scanning"
    assert heading in (ROOT / "README.md").read_text()  # the anchor helpUri names


def test_messages_stay_plain_text_and_form_no_link() -> None:
    assert plain("see [docs](https://evil.example) \\[x]") == (
        "see \\[docs\\](https://evil.example) \\\\\\[x\\]"
    )
    hostile = Plan(
        changes=(
            Change(
                "C-[1](https://evil.example)",
                "update",
                Location("a.yaml", 1, 1),
                (FieldChange("name", "ok", "[click me](https://evil.example)"),),
            ),
        ),
        unmanaged=(),
        in_sync=0,
    )
    text = sarif_document(hostile)["runs"][0]["results"][0]["message"]["text"]
    assert "[click me]" not in text and "\\[click me\\]" in text
    assert "C-\\[1\\]" in text


def test_plan_writes_uris_relative_to_the_github_workspace(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "work space"
    shutil.copytree(EXAMPLES, workspace / "compliance", ignore=shutil.ignore_patterns("github"))
    monkeypatch.chdir(workspace / "compliance")
    result = CliRunner().invoke(
        cli,
        ["plan", "controls", "--format", "sarif"],
        env={
            "HYPERPROOF_API_URL": hpconfig_sandbox.api_url,
            "HYPERPROOF_TOKEN_URL": hpconfig_sandbox.token_url,
            "HYPERPROOF_CLIENT_ID": hpconfig_sandbox.client_id,
            "HYPERPROOF_CLIENT_SECRET": hpconfig_sandbox.client_secret,
            "GITHUB_WORKSPACE": str(workspace),
        },
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert "compliance/controls/access.yaml" in uris
    assert document["runs"][0]["originalUriBaseIds"][SRCROOT]["uri"] == (
        workspace.resolve().as_uri() + "/"
    )
    _validate(document, tmp_path)
