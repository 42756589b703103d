"""Where two parsers could read one input two ways, hpconfig refuses it (found by an attacker's
pass over the threat model): a host that a resolver decodes, a redirect whose host urllib and
urllib3 read differently, a lone surrogate from the API, a credential echoed in an encoding the
redaction did not list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.loopback import is_loopback_host
from hpconfig.remote.answers import WITHHELD, Answer, redact, server_message
from hpconfig.remote.settings import Secret
from hpconfig.sandbox import Sandbox
from hpconfig.urls import ambiguous, origin
from tests import helpers
from tests.conftest import EXAMPLES
from tests.hostile import Seen, recorder, serve

CANARY = "CANARY+s3cr/3t=XYZ-never-print"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1%2eattacker.example:8081/oauth/token",
        "http://127.0.0.2:9712\\@127.0.0.1:9711/v1/controls",
        "https://evil.example\\@api.hyperproof.app/v1",
        "https://api.hyperproof.app .evil.example/",
        "https://api.hyperprооf.app/",  # Cyrillic o
    ],
)
def test_a_url_parsers_may_read_two_ways_has_no_origin(url: str) -> None:
    assert ambiguous(url)
    assert origin(url) == ""


def test_a_zone_id_makes_only_an_ipv6_literal_loopback() -> None:
    assert not is_loopback_host("127.0.0.1%2eattacker.example")
    assert is_loopback_host("[::1%eth0]")
    assert origin("http://[::1]:8080/x") == "http://[::1]:8080"


@pytest.mark.parametrize("where", ["config", "environment"])
def test_a_percent_encoded_loopback_name_is_refused_before_any_request(
    where: str, tmp_path: Path
) -> None:
    with serve(recorder(200, b"{}")) as attacker:
        port = attacker.url.rsplit(":", 1)[1]
        url = f"http://127.0.0.1%2eattacker.example:{port}"
        env = {
            "HYPERPROOF_CLIENT_ID": "id",
            "HYPERPROOF_CLIENT_SECRET": CANARY,
            "HPCONFIG_RETRY_BACKOFF": "0",
        }
        (tmp_path / "controls.yaml").write_text("controls:\n  - identifier: A-1\n")
        if where == "config":
            (tmp_path / "hpconfig.yaml").write_text(
                f"manifests: [controls.yaml]\napiUrl: {url}\ntokenUrl: {url}/oauth/token\n"
            )
        else:
            env.update(HYPERPROOF_API_URL=url, HYPERPROOF_TOKEN_URL=url + "/oauth/token")
        result = CliRunner().invoke(cli, ["plan", str(tmp_path)], env=env)
    assert result.exit_code == 3, result.stderr
    assert "does not accept" in result.stderr or "not Hyperproof's" in result.stderr
    assert attacker.seen == []
    assert "CANARY" not in result.stdout + result.stderr


def test_a_redirect_hiding_another_host_behind_a_backslash_gets_no_token(
    hpconfig_sandbox: Sandbox,
) -> None:
    with serve(recorder(200, b"[]")) as second:
        sandbox_host = hpconfig_sandbox.api_url.removeprefix("http://")
        location = f"{second.url}\\@{sandbox_host}/v1/controls"
        hpconfig_sandbox.add_fault("redirect", path="/v1/controls", location=location)
        result = CliRunner().invoke(
            cli, ["plan", str(EXAMPLES)], env=helpers.env_for(hpconfig_sandbox)
        )
    assert result.exit_code == 4, result.stderr
    assert "follows no redirect away from the API's origin" in result.stderr
    assert second.seen == []


def _hostile_api(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    if seen.path.startswith("/oauth/token"):
        return 200, {}, b'{"access_token": "tok", "token_type": "bearer", "expires_in": 600}'
    # A lone surrogate is valid JSON (an escape) but no UTF-8 writer can encode it.
    return 200, {}, b'[{"id": "\\ud800", "controlIdentifier": "SOC2-CC6.1\\udfff", "name": "x"}]'


def test_a_lone_surrogate_from_the_api_crashes_no_report(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    with serve(_hostile_api) as api:
        env = {
            "HYPERPROOF_API_URL": api.url,
            "HYPERPROOF_TOKEN_URL": api.url + "/oauth/token",
            "HYPERPROOF_CLIENT_ID": "id",
            "HYPERPROOF_CLIENT_SECRET": CANARY,
            "HPCONFIG_RETRY_BACKOFF": "0",
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        result = CliRunner().invoke(
            cli,
            [
                "plan",
                str(EXAMPLES),
                "--format",
                "markdown",
                "--out",
                str(tmp_path / "plan.json"),
                "--markdown",
                str(tmp_path / "plan.md"),
                "--sarif",
                str(tmp_path / "plan.sarif"),
            ],
            env=env,
        )
    assert result.exit_code in (0, 2), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["format_version"]
    assert summary.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "echo",
    [
        "CANARY%2bs3cr%2f3t%3dXYZ-never-print",  # percent-encoding, lower-case hex
        "CANARY+s3cr\\/3t=XYZ-never-print",  # JSON's optional \/ in a plain-text body
        "".join(f"&#{ord(c)};" for c in CANARY),  # HTML numeric entities
        "".join(f"%{ord(c):02X}" for c in CANARY),  # every character escaped
        CANARY.upper(),
        CANARY[:10] + "\u200b" + CANARY[10:],  # split by a zero-width space
        CANARY[:10] + "\n" + CANARY[10:],  # split by a newline
    ],
)
def test_an_echo_in_an_unlisted_encoding_is_redacted_or_withheld(echo: str) -> None:
    secret = Secret(CANARY)
    for body in (f"bad secret {echo}".encode(), json.dumps({"message": echo}).encode()):
        shown = server_message(Answer("u", 400, {}, body), secret)
        assert "canary" not in shown.casefold(), shown
    assert redact("nothing secret here", secret) == "nothing secret here"
    assert redact(f"x {CANARY.upper()} y", secret) == WITHHELD
