"""The client against the sandbox's faults: retries, renewal, and clear final errors."""

from __future__ import annotations

from typing import Any

import pytest

from hpconfig.errors import ApiError, AuthError
from hpconfig.remote.auth import TokenSource
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.settings import Secret, Settings
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.helpers import NO_WAIT


def settings_for(sandbox: Sandbox, **overrides: Any) -> Settings:
    """Short timeouts: these tests wait on faults that answer late."""
    return helpers.settings_for(sandbox, **{"connect_timeout": 2, "read_timeout": 5, **overrides})


@pytest.fixture
def client(hpconfig_sandbox: Sandbox) -> Any:
    with HyperproofClient(settings_for(hpconfig_sandbox)) as made:
        yield made


def calls(sandbox: Sandbox) -> list[tuple[str, str, int]]:
    return [(e["method"], e["path"], e["status"]) for e in sandbox.requests()]


def test_a_plan_fetch_is_a_token_and_one_list(hpconfig_sandbox: Sandbox, client: Any) -> None:
    assert len(client.list_controls()) == 39
    assert calls(hpconfig_sandbox) == [("POST", "/oauth/token", 200), ("GET", "/v1/controls", 200)]
    entry = hpconfig_sandbox.requests()[0]
    assert entry["content_type"] == "application/x-www-form-urlencoded"
    assert entry["body_keys"] == ["client_id", "client_secret", "grant_type"]


def test_token_is_cached_between_calls(hpconfig_sandbox: Sandbox, client: Any) -> None:
    client.list_controls()
    client.list_users()
    assert [c[1] for c in calls(hpconfig_sandbox)].count("/oauth/token") == 1


def test_token_expiring_in_the_middle_of_a_run_is_renewed(
    hpconfig_sandbox: Sandbox, client: Any
) -> None:
    client.list_controls()
    hpconfig_sandbox.revoke_tokens()  # the server forgets the token, as after expiry
    assert len(client.list_controls()) == 39
    assert calls(hpconfig_sandbox)[1:] == [
        ("GET", "/v1/controls", 200),
        ("GET", "/v1/controls", 401),
        ("POST", "/oauth/token", 200),
        ("GET", "/v1/controls", 200),
    ]


def test_token_is_renewed_before_expires_in_runs_out(hpconfig_sandbox: Sandbox) -> None:
    now = [1000.0]
    settings = settings_for(hpconfig_sandbox)
    with HyperproofClient(settings) as made:
        made.auth = TokenSource(
            settings.token_url,
            settings.client_id,
            settings.secret,
            made._post_token,
            clock=lambda: now[0],
        )
        made.list_users()
        now[0] += 3600 - 31  # 31 s left: still good
        made.list_users()
        assert made.auth.tokens_fetched == 1
        now[0] += 2  # 29 s left: inside the 30 s margin, renewed first
        made.list_users()
        assert made.auth.tokens_fetched == 2
    assert [c[2] for c in calls(hpconfig_sandbox)] == [200] * 5  # never a 401


def test_a_401_once_signs_in_again(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("unauthorized", path="/v1/controls", count=1)
    assert len(client.list_controls()) == 39
    assert client.auth.tokens_fetched == 2


def test_a_401_twice_is_an_auth_error(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("unauthorized", path="/v1/controls", count=2)
    with pytest.raises(AuthError) as raised:
        client.list_controls()
    message = str(raised.value)
    assert "GET http://127.0.0.1" in message and "HTTP 401" in message
    assert "HYPERPROOF_CLIENT_ID" in message


@pytest.mark.parametrize("retry_after", [None, 0, 3600])
def test_429_is_retried_with_or_without_retry_after(
    hpconfig_sandbox: Sandbox, client: Any, retry_after: float | None
) -> None:
    options = {"retry_after": retry_after} if retry_after is not None else {}
    hpconfig_sandbox.add_fault("rate-limit", path="/v1/controls", count=2, **options)
    assert len(client.list_controls()) == 39  # a Retry-After of an hour is cut to the cap (0 here)
    assert [c[2] for c in calls(hpconfig_sandbox)] == [200, 429, 429, 200]


def test_the_quota_403_is_transient(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("quota", path="/v1/controls", count=2)
    assert len(client.list_controls()) == 39
    assert [c[2] for c in calls(hpconfig_sandbox)] == [200, 403, 403, 200]


def test_a_permission_403_is_not_retried(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault(
        "quota", path="/v1/controls", count=5, message="Forbidden: missing permission control.read"
    )
    with pytest.raises(ApiError) as raised:
        client.list_controls()
    assert raised.value.status == 403
    assert "lacks the permission" in str(raised.value)
    assert [c[2] for c in calls(hpconfig_sandbox)] == [200, 403]


@pytest.mark.parametrize("kind", ["unavailable", "bad-gateway", "gateway-timeout", "drop"])
def test_transient_failures_then_success(hpconfig_sandbox: Sandbox, client: Any, kind: str) -> None:
    hpconfig_sandbox.add_fault(kind, path="/v1/controls", count=1)
    assert len(client.list_controls()) == 39


def test_retries_are_bounded_and_the_error_names_method_url_status_message(
    hpconfig_sandbox: Sandbox, client: Any
) -> None:
    hpconfig_sandbox.add_fault("unavailable", path="/v1/controls", count=100)
    with pytest.raises(ApiError) as raised:
        client.list_controls()
    error = raised.value
    assert (error.method, error.status) == ("GET", 503)
    assert error.url == hpconfig_sandbox.api_url + "/v1/controls"
    assert str(error) == (
        f"GET {hpconfig_sandbox.api_url}/v1/controls failed: HTTP 503: "
        "Service unavailable (still failing after retries)"
    )
    assert len(calls(hpconfig_sandbox)) == 1 + 1 + NO_WAIT.attempts


def test_a_500_is_not_retried(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls", count=1)
    with pytest.raises(ApiError, match="HTTP 500: Internal server error"):
        client.list_controls()


def test_malformed_body_is_a_clear_error(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("malformed", path="/v1/controls")
    with pytest.raises(ApiError) as raised:
        client.list_controls()
    assert "the answer is not valid JSON (application/json: " in str(raised.value)


def test_an_html_error_page_is_a_clear_error(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("html", path="/v1/controls", count=100)
    with pytest.raises(ApiError) as raised:
        client.list_controls()
    assert "HTTP 502: an HTML page (502 Bad Gateway), not JSON" in str(raised.value)


def test_a_dropped_connection_every_time_says_so(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("drop", path="/v1/controls", count=100)
    with pytest.raises(ApiError) as raised:
        client.list_controls()
    assert raised.value.status is None
    assert "no response: the connection was closed without an answer" in str(raised.value)


def test_read_timeouts_are_retried_then_reported(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.configure(latency=0.3)
    slow = HyperproofClient(settings_for(hpconfig_sandbox, read_timeout=0.1))
    with slow, pytest.raises(ApiError, match="no response: timed out"):
        slow.list_controls()


def test_wrong_credentials_name_the_variables_and_never_the_secret(
    hpconfig_sandbox: Sandbox,
) -> None:
    settings = settings_for(hpconfig_sandbox, secret=Secret("CANARY-wrong-secret"))
    with HyperproofClient(settings) as wrong, pytest.raises(AuthError) as raised:
        wrong.list_controls()
    message = str(raised.value)
    assert "HTTP 401: invalid_client" in message
    assert "HYPERPROOF_CLIENT_ID and HYPERPROOF_CLIENT_SECRET" in message
    assert "CANARY" not in message and "CANARY" not in repr(raised.value)


def test_token_endpoint_failures_are_retried(hpconfig_sandbox: Sandbox, client: Any) -> None:
    hpconfig_sandbox.add_fault("unavailable", path="/oauth/token", count=1)
    assert len(client.list_controls()) == 39


def test_connection_refused(hpconfig_sandbox: Sandbox) -> None:
    settings = settings_for(
        hpconfig_sandbox, api_url="http://127.0.0.1:9", token_url="http://127.0.0.1:9/oauth/token"
    )
    with HyperproofClient(settings) as nowhere, pytest.raises(ApiError) as raised:
        nowhere.list_controls()
    assert "POST http://127.0.0.1:9/oauth/token failed: no response: connection refused" in str(
        raised.value
    )


def test_every_request_has_timeouts_and_a_trace_header(
    hpconfig_sandbox: Sandbox, client: Any
) -> None:
    sent: list[Any] = []
    original = client.session.request

    def spy(method: str, url: str, **kwargs: Any) -> Any:
        sent.append(kwargs)
        return original(method, url, **kwargs)

    client.session.request = spy
    client.list_controls()
    assert sent and all(kwargs["timeout"] == (2, 5) for kwargs in sent)
    api_calls = [kwargs for kwargs in sent if "headers" in kwargs]
    assert api_calls and all(k["headers"]["traceparent"].startswith("00-") for k in api_calls)


def test_a_server_that_echoes_the_secret_or_token_is_redacted(hpconfig_sandbox: Sandbox) -> None:
    settings = settings_for(hpconfig_sandbox)
    with HyperproofClient(settings) as made:
        made.list_users()
        token = made.auth.current_token
        assert token is not None
        hpconfig_sandbox.add_fault(
            "server-error",
            path="/v1/controls",
            message=f"bad token {token.reveal()} for secret {hpconfig_sandbox.client_secret}",
        )
        with pytest.raises(ApiError) as raised:
            made.list_controls()
    text = str(raised.value)
    assert "bad token ******** for secret ********" in text
    assert token.reveal() not in text and hpconfig_sandbox.client_secret not in text
