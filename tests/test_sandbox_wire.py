"""The sandbox on the wire: framing, limits, deadlines and workers, over raw loopback sockets."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox
from hpconfig.sandbox.server import Limits, SandboxOptions
from tests.test_sandbox_api import token

GUARD = 20  # seconds a test socket waits before it gives up; never reached when all is well


@pytest.fixture
def sandbox(example_seed: dict[str, Any]) -> Iterator[Sandbox]:
    with Sandbox(example_seed, limits=Limits(max_body=4096)) as running:
        yield running


def connect(sandbox: Sandbox) -> socket.socket:
    host, port = sandbox.server.server_address[:2]
    sock = socket.create_connection((str(host), port), timeout=GUARD)
    return sock


def exchange(sandbox: Sandbox, data: bytes) -> bytes:
    """Send ``data`` on one connection and read until the server closes it."""
    with connect(sandbox) as sock:
        sock.sendall(data)
        return read_to_close(sock)


def read_to_close(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def form_request(body: bytes, framing: bytes) -> bytes:
    return (
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n" + framing + b"\r\n" + body
    )


def credentials(sandbox: Sandbox) -> bytes:
    return (
        f"grant_type=client_credentials&client_id={sandbox.client_id}"
        f"&client_secret={sandbox.client_secret}"
    ).encode()


CLOSE = b"GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def test_a_chunked_body_is_read_as_a_body_not_as_the_next_request(sandbox: Sandbox) -> None:
    body = credentials(sandbox)
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    answer = exchange(sandbox, form_request(chunked, b"Transfer-Encoding: chunked\r\n") + CLOSE)
    assert statuses(answer) == [200, 401]  # a token, then the next request on the connection
    assert b'"access_token": "eyJ' in answer


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Content-Length: -5\r\n", 400),
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: +5\r\n", 400),
        (b"Content-Length: 1e3\r\n", 400),
        (b"Content-Length: \xc2\xb2\r\n", 400),  # a superscript two: a digit to str.isdigit
        (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        (b"", 411),  # a body with no length at all
        (b"Content-Length: 99999999999\r\n", 413),
        (b"Transfer-Encoding: gzip\r\n", 501),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
    ],
)
def test_bodies_it_cannot_frame_are_refused_and_the_connection_closed(
    sandbox: Sandbox, framing: bytes, status: int
) -> None:
    answer = exchange(sandbox, form_request(b"grant_type=x", framing) + CLOSE)
    assert statuses(answer) == [status]  # nothing after it is taken for a request
    assert b'"statusCode": %d' % status in answer
    assert token(sandbox)  # and the server goes on serving


@pytest.mark.parametrize(
    ("chunked", "status"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", 400),  # not hexadecimal
        (b"3\r\nabcdef\r\n0\r\n\r\n", 400),  # longer than its size
        (b"800\r\n" + b"a" * 2048 + b"\r\n801\r\n" + b"a" * 2049 + b"\r\n0\r\n\r\n", 413),
    ],
)
def test_a_malformed_or_oversized_chunked_body_is_refused(
    sandbox: Sandbox, chunked: bytes, status: int
) -> None:
    answer = exchange(sandbox, form_request(chunked, b"Transfer-Encoding: chunked\r\n") + CLOSE)
    assert statuses(answer) == [status]


def test_an_oversized_body_is_refused_before_it_is_read(sandbox: Sandbox) -> None:
    bearer = token(sandbox)
    answer = requests.patch(
        f"{sandbox.api_url}/v1/controls/x",
        data=b"{" + b" " * 5000 + b"}",
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
        timeout=GUARD,
    )
    assert answer.status_code == 413
    assert "4096 bytes" in answer.json()["message"]


def test_deeply_nested_json_is_a_400_and_the_server_keeps_serving(
    example_seed: dict[str, Any],
) -> None:
    with Sandbox(example_seed) as sandbox:
        bearer = token(sandbox)
        control = sandbox.state()["controls"][0]["id"]
        for body in (b"[" * 100_000 + b"]" * 100_000, b'{"notes": ' + b"[" * 70 + b"]" * 70 + b"}"):
            answer = requests.patch(
                f"{sandbox.api_url}/v1/controls/{control}",
                data=body,
                headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
                timeout=GUARD,
            )
            assert answer.status_code == 400
            assert "nests deeper than 64 levels" in answer.json()["message"]
        assert token(sandbox)


def test_an_idle_connection_is_closed_after_the_idle_timeout(
    example_seed: dict[str, Any],
) -> None:
    settings = SandboxOptions(idle_timeout=0.2)
    with Sandbox(example_seed, settings=settings) as sandbox, connect(sandbox) as sock:
        assert sock.recv(1) == b""  # closed by the server, not by our guard


def test_a_half_sent_request_is_dropped_at_its_deadline(example_seed: dict[str, Any]) -> None:
    settings = SandboxOptions(idle_timeout=5, request_timeout=0.3)
    with Sandbox(example_seed, settings=settings) as sandbox:
        for partial in (
            b"GET /v1/controls HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # headers never end
            form_request(b"grant_type=", b"Content-Length: 100\r\n"),  # the body never ends
        ):
            with connect(sandbox) as sock:
                sock.sendall(partial)
                assert read_to_close(sock) == b""


def test_a_trickling_client_is_dropped_although_it_is_never_quiet_for_long(
    example_seed: dict[str, Any],
) -> None:
    settings = SandboxOptions(idle_timeout=5, request_timeout=0.5)
    with Sandbox(example_seed, settings=settings) as sandbox, connect(sandbox) as sock:
        closed = False
        for byte in b"GET /v1/controls HTTP/1.1\r\nX-Slow: " + b"x" * 200:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.02)  # a slow client, not a backoff
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                closed = sock.recv(1) == b""
            sock.setblocking(True)
            if closed:
                break
        assert closed


def test_connections_share_a_bounded_pool_of_workers(example_seed: dict[str, Any]) -> None:
    settings = SandboxOptions(idle_timeout=0.3)
    with Sandbox(example_seed, settings=settings, limits=Limits(workers=2)) as sandbox:
        quiet = [connect(sandbox) for _ in range(6)]  # each would have had its own thread
        try:
            answer = requests.get(sandbox.api_url + "/v1/users", timeout=GUARD)
            assert answer.status_code == 401  # served once the quiet ones timed out
            for sock in quiet:
                assert sock.recv(1) == b""
            pool = list(sandbox.server.workers)
            assert len(pool) == 2
        finally:
            for sock in quiet:
                sock.close()
    assert not any(worker.is_alive() for worker in pool)  # stopping the sandbox ends them


CANARY = "CANARY-5b1e-never-print-me"


def test_a_secret_sent_in_any_framing_never_reaches_answers_logs_or_state(
    example_seed: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hpconfig")
    form = f"grant_type=client_credentials&client_id=sandbox-ci-client&client_secret={CANARY}"
    body = form.encode()
    requests_sent = [
        form_request(body, b"Content-Length: %d\r\n" % len(body)),
        form_request(
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body), b"Transfer-Encoding: chunked\r\n"
        ),
        form_request(body, b"Content-Length: -1\r\n"),
        form_request(body, b""),
        form_request(b"zz\r\n" + body, b"Transfer-Encoding: chunked\r\n"),
        b"PATCH /v1/controls/x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + body
        + b"\r\nContent-Length: %d\r\n\r\n" % (len(body) + 13)
        + b'{"notes": "'
        + body
        + b'"}',
        b"POST /_sandbox/faults HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json"
        b"\r\nContent-Length: %d\r\n\r\n" % (len(body) + 4) + b'["' + body + b'"]',
    ]
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file) as sandbox:
        answers = [exchange(sandbox, request + CLOSE) for request in requests_sent]
        log = json.dumps(sandbox.requests())
    assert statuses(answers[0]) == [401, 401]  # a wrong secret, then the closing request
    for text in (*[a.decode("latin-1") for a in answers], log, caplog.text):
        assert CANARY not in text
    assert all(CANARY not in path.read_text() for path in tmp_path.iterdir())


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"GET /?client_secret=" + CANARY.encode() + b" HTTP/1.1 and more\r\n", 400),
        (b"BREW /v1/controls?client_secret=" + CANARY.encode() + b" HTTP/1.1\r\n", 501),
        (b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n", 414),
        (b"GET /v1/controls HTTP/1.1\r\n" + b"X-Long: " + b"y" * 70_000 + b"\r\n", 431),
    ],
)
def test_requests_the_server_cannot_parse_get_a_json_answer_that_echoes_nothing(
    sandbox: Sandbox, request_line: bytes, status: int
) -> None:
    answer = exchange(sandbox, request_line + b"Host: 127.0.0.1\r\n\r\n")
    assert statuses(answer) == [status]
    assert b'"statusCode": %d' % status in answer
    assert CANARY.encode() not in answer and b"xxxx" not in answer


def test_connections_beyond_the_queue_are_closed_at_once(example_seed: dict[str, Any]) -> None:
    settings = SandboxOptions(idle_timeout=30)
    limits = Limits(workers=1, queued=2)
    with Sandbox(example_seed, settings=settings, limits=limits) as sandbox:
        held = [connect(sandbox) for _ in range(3)]  # one served, two waiting
        try:
            with connect(sandbox) as extra:
                assert extra.recv(1) == b""  # closed without waiting for the idle timeout
        finally:
            for sock in held:
                sock.close()


def test_a_body_it_would_refuse_is_refused_before_100_continue(sandbox: Sandbox) -> None:
    with connect(sandbox) as sock:
        sock.sendall(form_request(b"", b"Content-Length: 99999999\r\nExpect: 100-continue\r\n"))
        answer = read_to_close(sock)  # the body was never sent; the server must not wait for it
    assert statuses(answer) == [413]
    assert b"100 Continue" not in answer


def test_a_body_it_accepts_gets_100_continue_first(sandbox: Sandbox) -> None:
    body = credentials(sandbox)
    with connect(sandbox) as sock:
        sock.sendall(
            form_request(b"", b"Content-Length: %d\r\nExpect: 100-continue\r\n" % len(body))
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body + CLOSE)
        answer = read_to_close(sock)
    assert statuses(answer) == [200, 401]
