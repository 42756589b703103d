"""`hpconfig plan` and `hpconfig demo`, through the real command, against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli, use_color
from hpconfig.manifest.schema import load_schema
from hpconfig.render.markdown import MARKER, render_markdown
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import EXAMPLES
from tests.helpers import big_plan

CANARY = "CANARY-7f3a9c-never-print-me"
SUMMARY = "Plan: 1 to create, 3 to update. 36 in sync, 1 unmanaged."


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY  # the secret every test here uses
    return example_seed


def env_for(sandbox: Sandbox, secret: str = CANARY) -> dict[str, str]:
    """The sandbox's environment with the canary as the secret, colour left to the terminal."""
    return helpers.env_for(sandbox, secret, NO_COLOR="")


def run(sandbox: Sandbox | None, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = env if env is not None else (env_for(sandbox) if sandbox else {})
    return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)


def assert_no_canary(result: Result, *files: Path) -> None:
    for text in (result.stdout, result.stderr, *(f.read_text() for f in files if f.exists())):
        assert CANARY not in text
        assert "Bearer ey" not in text


def test_plan_text_report(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "  ~ SOC2-CC6.1  (examples/controls/access.yaml:8)" in out
    assert '      owner: "bob@example.com" → "alice@example.com"' in out
    assert "      changed in Hyperproof by bob@example.com on 2026-11-20 10:00:00 UTC" in out
    assert '      freshness.duration: "15d" → "30d"' in out
    assert "  + SOC2-PI1.1  (examples/controls/monitoring.yaml:43)" in out
    assert "Ignored: notes on SOC2-CC6.*" in out
    assert out.rstrip().endswith(SUMMARY)
    assert "SOC2-CC9.9" not in out  # unmanaged: counted, listed only when asked
    assert "\x1b[" not in out  # no colour off a terminal
    listed = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--show-unmanaged").stdout
    assert "  ? SOC2-CC9.9" in listed
    assert "reading Hyperproof at" in result.stderr


def test_detailed_exitcode(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    assert run(hpconfig_sandbox, "plan", str(EXAMPLES), "--detailed-exitcode").exit_code == 2
    in_sync = tmp_path / "in-sync.yaml"
    in_sync.write_text(
        "controls:\n  - identifier: SOC2-CC6.2\n    owner: ALICE@example.com\n"
        "    freshness: {duration: P90D}\n"
    )
    result = run(hpconfig_sandbox, "plan", str(in_sync), "--detailed-exitcode")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("No changes. 1 in sync, 38 unmanaged.")


def test_json_report_matches_the_contract_and_the_schema(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "json", "--out", str(out))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(document)
    assert out.read_text() == result.stdout
    assert document["summary"] == {
        "create": 1,
        "update": 3,
        "restore": 0,
        "archive": 0,
        "unmanaged": 1,
        "in_sync": 36,
    }
    update = next(c for c in document["changes"] if c["identifier"] == "SOC2-CC6.1")
    assert update == {
        "identifier": "SOC2-CC6.1",
        "action": "update",
        "source": {"file": "examples/controls/access.yaml", "line": 8},
        "fields": [
            {"field": "owner", "expected": "alice@example.com", "actual": "bob@example.com"}
        ],
        "live": {
            "id": update["live"]["id"],
            "updatedBy": "bob@example.com",
            "updatedOn": "2026-11-20T10:00:00Z",
            "fingerprint": update["live"]["fingerprint"],
            "values": update["live"]["values"],
        },
        "target": {"owner": "alice@example.com"},
        "target_values": {"owner": "alice@example.com"},
    }
    assert update["live"]["values"]["owner"] == "bob@example.com"
    assert document["unmanaged"] == [
        {"identifier": "SOC2-CC9.9", "id": document["unmanaged"][0]["id"]}
    ]
    assert [c["action"] for c in document["changes"]] == ["create", "update", "update", "update"]


def test_reports_are_byte_identical_across_runs(hpconfig_sandbox: Sandbox) -> None:
    for output in ("text", "json", "markdown"):
        first = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", output).stdout
        second = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", output).stdout
        assert first == second


def test_out_writes_json_whatever_the_format(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--format", "markdown", "--out", str(out))
    assert result.stdout.startswith(MARKER)
    jsonschema.Draft202012Validator(load_schema("plan")).validate(json.loads(out.read_text()))


def test_invalid_manifests_exit_3_before_any_request(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("controls:\n  - identifier: X\n    owner: bob@\n")
    result = run(hpconfig_sandbox, "plan", str(bad))
    assert result.exit_code == 3
    assert (
        "bad.yaml:3:12: $.controls[0].owner: 'bob@' is not a valid email address" in result.stderr
    )
    assert hpconfig_sandbox.requests() == []


def test_wrong_credentials_exit_4_and_name_the_variables(hpconfig_sandbox: Sandbox) -> None:
    env = env_for(hpconfig_sandbox, secret="not-the-secret")
    result = run(hpconfig_sandbox, "--debug", "plan", str(EXAMPLES), env=env)
    assert result.exit_code == 4
    assert "sign-in refused" in result.stderr
    assert "HYPERPROOF_CLIENT_ID and HYPERPROOF_CLIENT_SECRET" in result.stderr
    assert "not-the-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_missing_credentials_exit_4(hpconfig_sandbox: Sandbox) -> None:
    env = env_for(hpconfig_sandbox)
    env["HYPERPROOF_CLIENT_SECRET"] = ""
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), env=env)
    assert result.exit_code == 4
    assert "no client credentials: set HYPERPROOF_CLIENT_SECRET" in result.stderr


def test_api_failure_exit_4_with_method_url_status(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls", count=10)
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES))
    assert result.exit_code == 4
    assert (
        f"Error: GET {hpconfig_sandbox.api_url}/v1/controls failed: HTTP 500: Internal server error"
    ) in result.stderr


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "html",
            "HTTP 502: an HTML page (502 Bad Gateway), not JSON (still failing after retries)",
        ),
        ("malformed", "HTTP 200: the answer is not valid JSON"),
    ],
)
def test_unusable_answers_exit_4_with_a_clear_message(
    hpconfig_sandbox: Sandbox, kind: str, message: str
) -> None:
    hpconfig_sandbox.add_fault(kind, path="/v1/controls", count=100)
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES))
    assert result.exit_code == 4
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_plain_http_to_a_remote_host_is_refused(hpconfig_sandbox: Sandbox) -> None:
    env = {**env_for(hpconfig_sandbox), "HYPERPROOF_API_URL": "http://api.example.com"}
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), env=env)
    assert result.exit_code == 3
    assert "uses plain http" in result.stderr
    assert hpconfig_sandbox.requests() == []


def test_flags_override_the_environment(hpconfig_sandbox: Sandbox) -> None:
    env = {**env_for(hpconfig_sandbox), "HYPERPROOF_API_URL": "http://127.0.0.1:9"}
    result = run(
        hpconfig_sandbox, "plan", str(EXAMPLES), "--api-url", hpconfig_sandbox.api_url, env=env
    )
    assert result.exit_code == 0, result.stderr


def test_canary_secret_appears_nowhere(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    for args in (
        ["--debug", "plan", str(EXAMPLES), "--out", str(out)],
        ["--debug", "plan", str(EXAMPLES), "--format", "json"],
        ["--debug", "plan", str(EXAMPLES), "--format", "markdown", "--show-unmanaged"],
        ["--debug", "validate", str(EXAMPLES)],
        ["--debug", "validate", "--format", "json", str(EXAMPLES)],
    ):
        result = run(hpconfig_sandbox, *args)
        assert result.exit_code == 0, result.stderr
        assert "DEBUG" in result.stderr or args[1] == "validate"
        assert_no_canary(result, out)
    hpconfig_sandbox.add_fault("unauthorized", path="/v1/controls", count=5)
    failed = run(
        hpconfig_sandbox, "--debug", "plan", str(EXAMPLES), "--out", str(tmp_path / "x.json")
    )
    assert failed.exit_code == 4
    assert_no_canary(failed)
    wrong_id = {**env_for(hpconfig_sandbox), "HYPERPROOF_CLIENT_ID": "someone-else"}
    refused = run(hpconfig_sandbox, "--debug", "plan", str(EXAMPLES), env=wrong_id)
    assert refused.exit_code == 4
    assert_no_canary(refused)
    for args in (["--debug", "demo", "--format", "json"], ["--debug", "schema", "config"]):
        other = run(hpconfig_sandbox, *args)
        assert other.exit_code == 0, other.stderr
        assert_no_canary(other)


def test_canary_secret_never_reaches_the_sandbox_command_output() -> None:
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "hpconfig", "--debug", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HYPERPROOF_CLIENT_SECRET": CANARY, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(4)]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert lines[3].startswith("export HYPERPROOF_CLIENT_SECRET=sandbox-secret")
    assert CANARY not in "".join(lines) + out + err


def test_demo_plans_the_examples_against_the_sandbox() -> None:
    result = CliRunner().invoke(
        cli, ["demo"], env={"HYPERPROOF_CLIENT_SECRET": ""}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(SUMMARY)
    assert (
        "the plan made 4 requests (POST /oauth/token, GET /v1/controls, GET /v1/controls, "
        "GET /v1/users)" in result.stderr
    )


def test_color_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal()) is True
    assert use_color(object()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Terminal()) is False


def test_forced_colour(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--color")
    assert "\x1b[33m  ~ SOC2-CC6.1" in result.stdout


def test_markdown_keeps_the_summary_and_says_what_it_left_out() -> None:
    plan = big_plan(1000)
    text = render_markdown(plan)
    assert len(text) <= 65_000
    assert text.startswith(MARKER)
    assert "**Plan: 1000 to update. 0 in sync.**" in text
    shown = text.count("<details>")
    assert 0 < shown < 1000
    assert f"_{1000 - shown} more controls left out to fit the size limit" in text
    small = render_markdown(big_plan(3))
    assert small.count("<details>") == 3 and "left out" not in small


def test_an_archived_control_is_never_taken_for_a_missing_one(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    manifest = tmp_path / "archived.yaml"
    manifest.write_text(
        "controls:\n  - {identifier: SOC2-CC2.3, status: active}\n"
        "  - {identifier: SOC2-CC2.2, status: active}\n"
    )
    result = run(hpconfig_sandbox, "plan", str(manifest), "--format", "json")
    document = json.loads(result.stdout)
    assert document["summary"]["create"] == 0
    (change,) = document["changes"]
    assert change["identifier"] == "SOC2-CC2.3" and change["action"] == "restore"
    assert change["fields"] == [{"field": "status", "expected": "active", "actual": "archived"}]
    paths = [(e["path"], e["query"]) for e in hpconfig_sandbox.requests()]
    assert paths[1:] == [("/v1/controls", {}), ("/v1/controls", {"status": ["archived"]})]
