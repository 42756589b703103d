"""Whatever bytes a server sends, a plan ends with a located error (exit 4), never exit 1.

A raw TCP server on loopback answers every connection with the same bytes; the sandbox signs in.
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES


@contextmanager
def raw_server(answer: bytes) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                try:
                    connection.settimeout(2)
                    connection.recv(65536)
                    connection.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers, "", ""])).encode("latin-1")


BOMB = gzip.compress(b"[" * 10)
ANSWERS = {
    "garbage": b"NOT HTTP AT ALL\r\n\r\n",
    "empty": b"",
    "short body": head("200 OK", "Content-Length: 100") + b"[1, 2",
    "bad length": head("200 OK", "Content-Length: -5") + b"[]",
    "bad chunk": head("200 OK", "Transfer-Encoding: chunked") + b"zz\r\n[]\r\n0\r\n\r\n",
    "bad gzip": head("200 OK", "Content-Encoding: gzip", "Content-Length: 4") + b"abcd",
    "gzip of bad JSON": head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(BOMB)}")
    + BOMB,
    "encodings chained": head(
        "200 OK", "Content-Encoding: gzip, gzip, gzip, gzip, gzip, gzip, gzip", "Content-Length: 2"
    )
    + b"[]",
    "bad redirect": head("302 Found", "Location: http://[::1", "Content-Length: 0"),
    "redirect without location": head("307 Temporary Redirect", "Content-Length: 0"),
    "not JSON": head("200 OK", "Content-Length: 5") + b"hello",
    "JSON object": head("200 OK", "Content-Length: 2") + b"{}",
    "NaN": head("200 OK", "Content-Length: 5") + b"[NaN]",
    "huge number": head("200 OK", "Content-Length: 7") + b"[1e999]",
    "long digits": head("200 OK", "Content-Length: 5002") + b"[" + b"9" * 5000 + b"]",
    "latin-1 header": head("200 OK", "X-Name: caf\xe9", "Content-Length: 2") + b"[]",
    "status 999": head("999 Odd", "Content-Length: 2") + b"[]",
    "status 100 then nothing": head("100 Continue"),
}


@pytest.mark.parametrize("name", list(ANSWERS))
def test_any_answer_ends_in_exit_0_or_4_never_1(hpconfig_sandbox: Sandbox, name: str) -> None:
    with raw_server(ANSWERS[name]) as api:
        env = {
            "HYPERPROOF_API_URL": api,
            "HYPERPROOF_TOKEN_URL": hpconfig_sandbox.token_url,
            "HYPERPROOF_CLIENT_ID": hpconfig_sandbox.client_id,
            "HYPERPROOF_CLIENT_SECRET": hpconfig_sandbox.client_secret,
            "HYPERPROOF_CLIENT_SECRET_FILE": "",
            "HPCONFIG_RETRY_BACKOFF": "0",
            "HPCONFIG_RETRY_ATTEMPTS": "1",
            "HPCONFIG_TIMEOUT": "10",
        }
        result = CliRunner().invoke(cli, ["plan", str(EXAMPLES)], env=env)
    assert result.exit_code in (0, 4), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    if result.exit_code == 4:
        assert f"GET {api}/v1/controls" in result.stderr


@pytest.mark.parametrize("name", list(ANSWERS))
def test_any_token_answer_ends_in_exit_4_never_1(hpconfig_sandbox: Sandbox, name: str) -> None:
    with raw_server(ANSWERS[name]) as tokens:
        env = {
            "HYPERPROOF_API_URL": hpconfig_sandbox.api_url,
            "HYPERPROOF_TOKEN_URL": tokens + "/oauth/token",
            "HYPERPROOF_CLIENT_ID": hpconfig_sandbox.client_id,
            "HYPERPROOF_CLIENT_SECRET": "CANARY-wire",
            "HYPERPROOF_CLIENT_SECRET_FILE": "",
            "HPCONFIG_RETRY_BACKOFF": "0",
            "HPCONFIG_RETRY_ATTEMPTS": "1",
            "HPCONFIG_TIMEOUT": "10",
        }
        result = CliRunner().invoke(cli, ["plan", str(EXAMPLES)], env=env)
    assert result.exit_code == 4, result.stderr
    assert "internal error" not in result.stderr and "CANARY" not in result.stderr
    assert f"{tokens}/oauth/token" in result.stderr
    assert hpconfig_sandbox.requests() == []  # no API request without a usable token
