"""Bounded reads and deadlines: huge, trickling, compressed-bomb and deep answers; retries that
say what they wait for; numbers at the network's edge. Through the real sandbox and hostile
servers on loopback."""

from __future__ import annotations

import gc
import socket
import threading
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.errors import ApiError
from hpconfig.remote import answers
from hpconfig.remote.answers import (
    MAX_CONTAINERS,
    Answer,
    TooMany,
    TransportFailure,
    parse_json,
    retry_after,
)
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.retrying import Deadline, RateGate, Retrier
from hpconfig.remote.settings import RetryPolicy
from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES
from tests.helpers import NO_WAIT, env_for, settings_for
from tests.hostile import serve

MiB = 1024 * 1024


def plan(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["plan", str(EXAMPLES), *args], env=env)


# --- size -----------------------------------------------------------------------------------


def test_a_huge_answer_stops_at_the_cap(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("huge", path="/v1/controls", size=8 * MiB)
    result = plan(env_for(hpconfig_sandbox, HPCONFIG_MAX_RESPONSE_MB="1"))
    assert result.exit_code == 4, result.stderr
    assert "the answer is larger than the cap of 1 MB (counted after decompression" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("gzip-bomb", path="/v1/controls", size=256 * MiB)
    with HyperproofClient(settings_for(hpconfig_sandbox, max_response_bytes=4 * MiB)) as client:
        client.auth.token()  # signed in before measuring
        gc.collect()
        tracemalloc.start()
        try:
            with pytest.raises(ApiError, match="larger than the cap of 4 MB"):
                client.list_controls()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The bomb inflates to 256 MiB; reading stops one chunk (1 MiB) past the 4 MiB cap.
    assert peak < 4 * MiB + 8 * MiB, f"peak {peak / MiB:.1f} MiB"  # urllib3 2.5: 267 MiB


# --- time -----------------------------------------------------------------------------------


def test_a_trickling_body_ends_at_the_request_deadline(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("trickle", path="/v1/controls", delay=0.05)
    settings = settings_for(hpconfig_sandbox, request_timeout=0.5, read_timeout=5)
    with HyperproofClient(settings) as client, pytest.raises(ApiError) as raised:
        client.list_controls()
    assert "the answer did not arrive in time (a slow server)" in str(raised.value)


@pytest.mark.parametrize("through_a_proxy", [False, True])
def test_trickling_headers_end_at_the_request_deadline(
    hpconfig_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, through_a_proxy: bool
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle_headers() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.05):  # one byte of a header, forever
                try:
                    connection.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=trickle_headers, daemon=True)
    thread.start()
    api_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    if through_a_proxy:  # the trickler is the proxy; the token request meets it first
        monkeypatch.setenv("HTTP_PROXY", api_url)
        monkeypatch.setenv("NO_PROXY", "")
        api_url = hpconfig_sandbox.api_url
    settings = settings_for(hpconfig_sandbox, api_url=api_url, request_timeout=0.5)
    try:
        with HyperproofClient(settings) as client, pytest.raises(ApiError) as raised:
            client.list_controls()
    finally:
        stop.set()
        listener.close()
    assert "the answer did not arrive in time (a slow server)" in str(raised.value)


def test_a_trickling_body_ends_at_the_run_deadline(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("trickle", path="/v1/controls", delay=0.05)
    result = plan(env_for(hpconfig_sandbox), "--timeout", "1")
    assert result.exit_code == 4
    assert "the run's time limit of 1 s ran out (--timeout or HPCONFIG_TIMEOUT" in result.stderr


def test_a_retry_says_what_it_waits_for(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("rate-limit", path="/v1/controls", count=1)
    hpconfig_sandbox.add_fault("unavailable", path="/oauth/token", count=1)
    result = plan(env_for(hpconfig_sandbox))
    assert result.exit_code == 0, result.stderr
    url = hpconfig_sandbox.api_url
    assert f"POST {url}/oauth/token: HTTP 503; retry 1 of 5 in 0.0 s" in result.stderr
    assert f"GET {url}/v1/controls: HTTP 429; retry 1 of 5 in 0.0 s" in result.stderr


def test_json_nested_100000_deep_is_an_api_error(hpconfig_sandbox: Sandbox) -> None:
    with serve(lambda seen: (200, {}, b"[" * 100_000 + b"]" * 100_000)) as api:
        result = plan(env_for(hpconfig_sandbox, HYPERPROOF_API_URL=api.url))
    assert result.exit_code == 4
    assert "the JSON nests too deeply to read" in result.stderr


def test_json_of_too_many_objects_is_refused_before_it_is_parsed() -> None:
    """25 MB of `[{},{},...]` would take about 0.6 GB parsed; it is refused unparsed."""
    body = b"[" + b"{}," * (MAX_CONTAINERS + 1) + b"{}]"
    tracemalloc.start()
    try:
        with pytest.raises(TooMany, match="more than 8,000,000 objects and lists"):
            parse_json(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_an_answer_of_too_many_objects_is_an_api_error(
    hpconfig_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "MAX_CONTAINERS", 1000)
    monkeypatch.setattr(answers, "MEASURED_FROM", 1000)
    with serve(lambda seen: (200, {}, b"[" + b"{}," * 1000 + b"{}]")) as api:
        result = plan(env_for(hpconfig_sandbox, HYPERPROOF_API_URL=api.url))
    assert result.exit_code == 4
    assert "the JSON holds more than 1,000 objects and lists" in result.stderr


# --- the retry loop, pure -------------------------------------------------------------------


class Script:
    """Plays outcomes in order; records the waits instead of sleeping."""

    def __init__(self, *outcomes: Answer | TransportFailure) -> None:
        self.outcomes = list(outcomes)
        self.sent = 0
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def attempt(self, deadline_at: float) -> Answer:
        self.sent += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, TransportFailure):
            raise outcome
        return outcome

    def retrier(self, policy: RetryPolicy = NO_WAIT, run: float = 600) -> Retrier:
        deadline = Deadline(run, self.clock)
        return Retrier(policy, deadline, RateGate(self.clock), sleep=self.sleep)


def status(code: int, **headers: str) -> Answer:
    body = b'{"message": "Bandwidth quota exceeded. Try again later."}' if code == 403 else b"{}"
    return Answer("u", code, headers, body)


@pytest.mark.parametrize(
    ("outcome", "retried"),
    [
        (status(429), True),
        (status(403), True),  # the quota 403
        (TransportFailure("connect", "connection refused"), True),  # nothing was sent
        (status(503), False),
        (TransportFailure("timeout", "timed out"), False),
        (TransportFailure("dropped", "closed"), False),
    ],
)
def test_a_write_is_retried_only_when_it_surely_did_not_land(
    outcome: Answer | TransportFailure, retried: bool
) -> None:
    script = Script(outcome, status(200))
    try:
        answer = script.retrier().call("PATCH", "u", script.attempt)
    except ApiError as error:
        assert not retried
        assert "may or may not have landed" in str(error)
        assert script.sent == 1
        return
    assert answer.status == (200 if retried else 503)
    assert script.sent == (2 if retried else 1)


def test_retry_after_caps_and_the_run_deadline() -> None:
    policy = RetryPolicy(attempts=3, backoff_factor=0.5, jitter=0, retry_after_max=60)
    script = Script(status(429, **{"Retry-After": "3600"}), status(200))
    assert script.retrier(policy).call("GET", "u", script.attempt).status == 200
    assert script.waits == [60]  # cut to the cap
    script = Script(status(429, **{"Retry-After": "30"}), status(200))
    with pytest.raises(ApiError, match="the run's time limit of 10 s ran out"):
        script.retrier(policy, run=10).call("GET", "u", script.attempt)
    assert script.waits == [] and script.sent == 1  # it did not wait for nothing


def test_one_rate_limit_backoff_is_shared() -> None:
    now = [0.0]
    gate = RateGate(lambda: now[0])
    gate.hold(5)
    gate.hold(2)  # a shorter hold does not shorten the wait
    assert gate.wait_time() == 5
    now[0] = 4
    assert gate.wait_time() == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("²", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("7", 7.0),
        ("999999999999", 999999999999.0),
        ("9" * 400, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),  # in the past
        ("Fri, 99 Foo 2015 99:99:99 GMT", None),
    ],
)
def test_every_retry_after_form(header: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": header}) == seconds


def test_retry_after_as_a_future_date() -> None:
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    when = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after({"Retry-After": when}, now=now) == 90


# --- numbers at the edge --------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--read-timeout", "--connect-timeout", "--timeout"])
@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e400", "99999999"])
def test_timeout_flags_refuse_odd_numbers(option: str, value: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(EXAMPLES), option, value])
    assert result.exit_code == 64
    assert "must be a number of seconds above 0" in result.stderr


@pytest.mark.parametrize("value", [".inf", ".nan", "-3", "1.0e9"])
def test_config_timeouts_refuse_odd_numbers(tmp_path: Path, value: str) -> None:
    config = tmp_path / "hpconfig.yaml"
    config.write_text(f"timeouts: {{connect: 5, read: {value}}}\n")
    env = {"HYPERPROOF_CLIENT_ID": "i", "HYPERPROOF_CLIENT_SECRET": "s"}
    result = CliRunner().invoke(
        cli, ["--config", str(config), "plan", str(EXAMPLES / "controls")], env=env
    )
    assert result.exit_code == 3, result.output
    assert f"{config}" in result.stderr and "$.timeouts.read" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots", "99999999"])
def test_the_size_cap_setting_is_checked(value: str) -> None:
    env = {"HYPERPROOF_CLIENT_ID": "i", "HYPERPROOF_CLIENT_SECRET": "s"}
    result = CliRunner().invoke(
        cli, ["plan", str(EXAMPLES)], env={**env, "HPCONFIG_MAX_RESPONSE_MB": value}
    )
    assert result.exit_code == 3
    assert "HPCONFIG_MAX_RESPONSE_MB must be a whole number of megabytes" in result.stderr


@pytest.mark.parametrize(
    "header", ["²", "-5", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT"]
)
def test_odd_retry_after_headers_from_a_real_server(hpconfig_sandbox: Sandbox, header: str) -> None:
    first = [(429, {"Retry-After": header}, b"{}")]
    with serve(lambda seen: first.pop() if first else (200, {}, b"[]")) as api:
        result = plan(env_for(hpconfig_sandbox, HYPERPROOF_API_URL=api.url))
    assert result.exit_code == 0, result.stderr
    assert "HTTP 429; retry 1 of 5 in 0.0 s" in result.stderr


def test_a_write_answered_503_is_not_re_sent(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("unavailable", path="/v1/controls/*", method="PATCH", count=5)
    with HyperproofClient(settings_for(hpconfig_sandbox)) as client:
        control_id = client.list_controls()[0]["id"]
        with pytest.raises(ApiError) as raised:
            client.request("PATCH", f"/v1/controls/{control_id}", json={"notes": "n"})
    assert "HTTP 503" in str(raised.value) and "may or may not have landed" in str(raised.value)
    patches = [e for e in hpconfig_sandbox.requests() if e["method"] == "PATCH"]
    assert len(patches) == 1
