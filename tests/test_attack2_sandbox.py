"""A second attacker's pass over the sandbox's admin path and faults: bodies that would hold the
server's memory, CPU or a worker without bound, or make a fault write headers of its own."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox
from hpconfig.sandbox.faults import MAX_FAULTS
from tests.test_sandbox_admin import admin, still_serving
from tests.test_sandbox_api import token
from tests.test_sandbox_write_faults import call, first_control


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # gzip of 2**50 spaces is built in memory (a terabyte, days of CPU) before a byte leaves
        ({"kind": "gzip-bomb", "size": 2**50}, "size must be at most"),
        ({"kind": "huge", "size": 2**62}, "size must be at most"),
        # a header value is written as given: CR LF would start headers (or a body) of its own
        ({"kind": "redirect", "location": "/x\r\nSet-Cookie: a=b"}, "location must be"),
        ({"kind": "redirect", "location": "/\u00e9\u2603"}, "location must be"),
    ],
)
def test_fault_values_that_would_hold_the_server_or_split_a_header_are_refused(
    hpconfig_sandbox: Sandbox, body: Any, words: str
) -> None:
    answer = admin(hpconfig_sandbox, "POST", "/faults", json=body)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]
    assert hpconfig_sandbox.admin("GET", "/faults") == []
    still_serving(hpconfig_sandbox)


def test_the_fault_book_is_bounded(hpconfig_sandbox: Sandbox) -> None:
    # each fault may carry a control of up to 10 MiB: without a bound, memory grows per POST
    session = requests.Session()
    url = f"{hpconfig_sandbox.root_url}/_sandbox/faults"
    body = {"kind": "drop", "path": "/nowhere", "count": None}
    for _ in range(MAX_FAULTS):
        assert session.post(url, json=body, timeout=10).status_code == 201
    answer = session.post(url, json=body, timeout=10)
    assert answer.status_code == 400
    assert f"at most {MAX_FAULTS} faults" in answer.json()["message"]
    assert len(hpconfig_sandbox.admin("GET", "/faults")) == MAX_FAULTS
    hpconfig_sandbox.clear_faults()
    assert session.post(url, json=body, timeout=10).status_code == 201
    still_serving(hpconfig_sandbox)


def _busy(sandbox: Sandbox) -> None:
    pause = threading.Event()
    for _ in range(6000):  # until a worker holds the connection (at most 30 s on a busy host)
        with sandbox.server.pool_lock:
            if sandbox.server.connections:
                return
        pause.wait(0.005)
    raise AssertionError("no worker took the request")


def test_a_stopping_sandbox_does_not_wait_out_the_latency_nor_write_after_it(
    example_seed: dict[str, Any],
) -> None:
    sandbox = Sandbox(example_seed).start()
    bearer = token(sandbox)
    control = first_control(sandbox)
    sandbox.admin("POST", "/settings", {"latency": 600})
    outcome: list[BaseException] = []

    def write() -> None:
        try:
            call(sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"notes": "n"})
        except requests.RequestException as error:
            outcome.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    _busy(sandbox)
    sandbox.stop()  # joins each worker for at most 5 s: one asleep for 600 s would stay
    writer.join(timeout=10)
    assert not writer.is_alive()
    assert not [w for w in sandbox.server.workers if w.is_alive()]
    # the stopped sandbox wrote nothing
    kept = next(c for c in sandbox.server.org.dump()["controls"] if c["id"] == control["id"])
    assert kept.get("notes") != "n"


def test_a_stopping_sandbox_does_not_wait_out_a_trickle(example_seed: dict[str, Any]) -> None:
    sandbox = Sandbox(example_seed).start()
    bearer = token(sandbox)
    sandbox.add_fault("trickle", path="/v1/controls", delay=60)
    with socket.create_connection(("127.0.0.1", sandbox.server.server_address[1])) as client:
        client.sendall(
            f"GET /v1/controls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {bearer}"
            "\r\n\r\n".encode()
        )
        client.settimeout(10)
        assert client.recv(1).startswith(b"H")  # the headers left; the body trickles
        sandbox.stop()
        assert not [w for w in sandbox.server.workers if w.is_alive()]
