"""Credentials go only to Hyperproof: redirects, hostile token answers, redaction, settings.

Hostile servers run on loopback (``tests.hostile``); a second origin records what it receives
and must never see the secret or a token.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig.cli import cli
from hpconfig.errors import ApiError, AuthError
from hpconfig.remote.answers import Answer, redact, server_message
from hpconfig.remote.auth import check_token_answer
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.settings import Secret, Settings
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import EXAMPLES
from tests.hostile import recorder, redirect_to, serve

# Characters that change under every encoding: /, +, a quote, a space, a non-ASCII letter.
CANARY = 'CANARY-7f3a/9c+"é never print'
CREDS = {"HYPERPROOF_CLIENT_ID": "id", "HYPERPROOF_CLIENT_SECRET": "s"}


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    return example_seed


def env_for(sandbox: Sandbox, **overrides: str) -> dict[str, str]:
    """The sandbox's environment with the canary as the secret."""
    return helpers.env_for(sandbox, CANARY, **overrides)


def plan(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--debug", "plan", str(EXAMPLES), *args], env=env, catch_exceptions=False
    )


def assert_clean(result: Result, *tokens: str) -> None:
    """No credential in any output, in any encoding, and no traceback."""
    text = result.stdout + result.stderr
    for value in (CANARY, quote(CANARY, safe=""), quote_plus(CANARY), *tokens):
        assert value not in text
    assert "CANARY" not in text
    assert "Traceback" not in text


def no_credential_in(hostile_text: str, sandbox: Sandbox) -> None:
    assert "CANARY" not in hostile_text
    assert "client_secret" not in hostile_text
    assert "Bearer" not in hostile_text and "eyJ" not in hostile_text


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_the_token_request_follows_no_redirect(hpconfig_sandbox: Sandbox, status: int) -> None:
    with serve(recorder()) as second, serve(redirect_to(second.url + "/steal", status)) as first:
        result = plan(env_for(hpconfig_sandbox, HYPERPROOF_TOKEN_URL=first.url + "/oauth/token"))
    assert result.exit_code == 4
    assert f"HTTP {status} redirects to {second.url}; hpconfig sends the client secret" in (
        result.stderr
    )
    assert "/steal" not in result.stderr  # the origin only, never the path
    assert second.seen == []
    assert_clean(result)


def test_an_api_redirect_to_another_origin_is_not_followed_nor_re_signed(
    hpconfig_sandbox: Sandbox,
) -> None:
    with serve(recorder(401)) as second:
        hpconfig_sandbox.add_fault("redirect", path="/v1/controls", location=second.url + "/v1")
        result = plan(env_for(hpconfig_sandbox))
    assert result.exit_code == 4
    assert f"HTTP 307: redirects to {second.url}" in result.stderr
    assert "follows no redirect away from the API's origin" in result.stderr
    assert second.seen == []
    paths = [entry["path"] for entry in hpconfig_sandbox.requests()]
    assert paths == ["/oauth/token", "/v1/controls"]  # no second sign-in
    assert_clean(result)


def test_the_sandbox_redirect_fault_points_at_another_origin(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("redirect", path="/v1/controls")
    result = plan(env_for(hpconfig_sandbox))
    assert result.exit_code == 4
    port = hpconfig_sandbox.api_url.rsplit(":", 1)[1]
    assert f"redirects to http://localhost:{port}" in result.stderr
    assert len(hpconfig_sandbox.requests()) == 2  # nothing arrived through "localhost"


def test_a_same_origin_redirect_is_followed(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault(
        "redirect", path="/v1/controls", location=hpconfig_sandbox.api_url + "/v1/controls"
    )
    result = plan(env_for(hpconfig_sandbox))
    assert result.exit_code == 0, result.stderr
    assert "Plan: 1 to create, 3 to update." in result.stdout


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return context, bundle


def test_https_token_url_redirecting_to_http_gets_nothing(
    hpconfig_sandbox: Sandbox, tls: tuple[ssl.SSLContext, Path]
) -> None:
    context, bundle = tls
    with serve(recorder(200)) as plain, serve(redirect_to(plain.url + "/token"), context) as first:
        env = env_for(
            hpconfig_sandbox,
            HYPERPROOF_TOKEN_URL=first.url + "/oauth/token",
            REQUESTS_CA_BUNDLE=str(bundle),
        )
        result = plan(env)
        untrusted = plan({**env, "REQUESTS_CA_BUNDLE": ""})
    assert result.exit_code == 4
    assert f"HTTP 307 redirects to {plain.url}" in result.stderr
    assert len(first.seen) == 1 and first.seen[0].method == "POST"  # it reached the https URL
    assert plain.seen == []
    assert_clean(result)
    assert untrusted.exit_code == 4
    assert "TLS handshake failed" in untrusted.stderr


# --- the token answer -----------------------------------------------------------------------


def answer(body: Any, status: int = 200, raw: bytes | None = None) -> Answer:
    data = raw if raw is not None else json.dumps(body).encode()
    return Answer("https://a.example/oauth/token", status, {"Content-Type": "x"}, data)


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": "", "token_type": "bearer"},
        {"access_token": 42, "token_type": "bearer"},
        {"access_token": "SECRETTOKEN with space"},
        {"access_token": "SECRETTOKEN\r\nX-Evil: 1"},
        {"access_token": "SECRETTOKEN€"},
        {"access_token": "SECRETTOKEN\x00"},
        {"access_token": "SECRETTOKEN", "token_type": "mac"},
        {"access_token": "SECRETTOKEN", "expires_in": -1},
        {"access_token": "SECRETTOKEN", "expires_in": 0},
        {"access_token": "SECRETTOKEN", "expires_in": "soon"},
        {"access_token": "SECRETTOKEN", "expires_in": True},
        ["SECRETTOKEN"],
        {"token": "SECRETTOKEN"},
    ],
)
def test_a_bad_token_answer_is_an_auth_error_that_never_shows_it(body: Any) -> None:
    with pytest.raises(AuthError) as raised:
        check_token_answer(answer(body), "https://a.example/oauth/token")
    assert "SECRETTOKEN" not in str(raised.value)
    assert raised.value.exit_code == 4


def test_token_answer_lifetimes() -> None:
    url = "https://a.example/oauth/token"
    assert check_token_answer(answer({"access_token": "t"}), url)[1] == 300  # missing: short
    assert check_token_answer(answer({"access_token": "t", "expires_in": 1e12}), url)[1] == 86400
    assert check_token_answer(answer({"access_token": "t", "expires_in": "60"}), url)[1] == 60
    token, _ = check_token_answer(answer({"access_token": "t", "token_type": "BEARER"}), url)
    assert token.reveal() == "t"
    with pytest.raises(AuthError, match="not JSON"):  # NaN is not JSON
        check_token_answer(answer(None, raw=b'{"access_token": "t", "expires_in": NaN}'), url)


def test_a_token_with_cr_lf_from_a_real_server_is_exit_4(hpconfig_sandbox: Sandbox) -> None:
    body = json.dumps({"access_token": "tok\r\nX-Injected: yes", "token_type": "bearer"})
    with serve(lambda seen: (200, {}, body.encode())) as tokens:
        result = plan(env_for(hpconfig_sandbox, HYPERPROOF_TOKEN_URL=tokens.url + "/token"))
    assert result.exit_code == 4
    assert "the access_token holds whitespace, control or non-latin-1" in result.stderr
    assert "X-Injected" not in result.stderr
    assert [e["path"] for e in hpconfig_sandbox.requests()] == []  # the API saw nothing


# --- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        CANARY,
        quote(CANARY, safe=""),
        quote(CANARY),
        quote_plus(CANARY),
        json.dumps(CANARY)[1:-1],
        json.dumps(CANARY, ensure_ascii=False)[1:-1],
        " ".join(CANARY.split()),
        "x" * 190 + CANARY,  # cut in the middle by the message limit
        CANARY[:12],  # the server itself cut it: its start ends the text
    ],
)
def test_every_echo_of_the_secret_is_redacted(echo: str) -> None:
    secret = Secret(CANARY)
    for body in (
        json.dumps({"message": f"bad secret {echo}"}).encode(),
        f"bad secret {echo}".encode(),  # a malformed body
        f"<html><title>bad {echo}</title></html>".encode(),
    ):
        shown = server_message(Answer("u", 500, {}, body), secret)
        assert "CANARY" not in shown and "7f3a" not in shown, shown
    assert "CANARY" not in redact(f"a {echo}", secret)


def test_echoed_secret_in_an_api_error_through_the_cli(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault(
        "server-error", path="/v1/controls", message=f"oops {quote_plus(CANARY)} " + "y" * 300
    )
    result = plan(env_for(hpconfig_sandbox))
    assert result.exit_code == 4
    assert "oops ********" in result.stderr
    assert_clean(result)


# --- the canary through every new path, with --debug ----------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "code"),
    [
        ("redirect", {}, 4),
        ("huge", {"size": 4 * 1024 * 1024}, 4),
        ("gzip-bomb", {"size": 64 * 1024 * 1024}, 4),
        ("trickle", {"delay": 0.05}, 4),
        ("malformed-control", {"identifier": "SOC2-CC6.2"}, 0),
        ("duplicate-identifier", {"identifier": "SOC2-CC6.1"}, 0),
        ("rate-limit", {"retry_after": 0}, 0),
        ("quota", {}, 0),
        ("unauthorized", {}, 0),
        ("unauthorized", {"count": 2}, 4),
    ],
)
def test_no_credential_reaches_any_output_on_the_new_paths(
    hpconfig_sandbox: Sandbox, tmp_path: Path, kind: str, options: dict[str, Any], code: int
) -> None:
    hpconfig_sandbox.add_fault(kind, path="/v1/controls", **options)
    out = tmp_path / "plan.json"
    result = plan(
        env_for(hpconfig_sandbox, HPCONFIG_MAX_RESPONSE_MB="1", HPCONFIG_TIMEOUT="1"),
        "--out",
        str(out),
    )
    assert result.exit_code == code, result.stderr
    tokens = list(hpconfig_sandbox.server.org.tokens)
    assert tokens  # a sign-in happened, so there was a token to leak
    assert_clean(result, *tokens)
    if out.exists():
        text = out.read_text()
        assert "CANARY" not in text and not any(token in text for token in tokens)


@settings(max_examples=100, deadline=None)
@given(
    value=st.text(min_size=8, max_size=40).filter(lambda v: "*" not in v and v.strip()),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_no_encoding_of_a_credential_survives_redaction(
    value: str, before: str, after: str
) -> None:
    secret = Secret(value)
    for form in {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}:
        shown = redact(before + form + after, secret)
        assert form not in shown


def test_an_older_token_echoed_after_a_renewal_is_redacted(hpconfig_sandbox: Sandbox) -> None:
    settings = Settings(
        api_url=hpconfig_sandbox.api_url,
        token_url=hpconfig_sandbox.token_url,
        client_id=hpconfig_sandbox.client_id,
        secret=Secret(CANARY),
    )
    with HyperproofClient(settings) as client:
        client.list_users()
        first = client.auth.current_token
        assert first is not None
        client.auth.token(force=True)
        hpconfig_sandbox.add_fault(
            "server-error", path="/v1/controls", message=f"stale {first.reveal()}"
        )
        with pytest.raises(ApiError) as raised:
            client.list_controls()
    assert first.reveal() not in str(raised.value)
    assert "stale ********" in str(raised.value)
