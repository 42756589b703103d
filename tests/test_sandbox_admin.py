"""The sandbox's admin path: who may use it, and what it accepts."""

from __future__ import annotations

import json
import re
import socket
import threading
from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox
from tests.test_sandbox_api import token

JSON = {"Content-Type": "application/json"}


def admin(sandbox: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sandbox.root_url}/_sandbox{path}", timeout=10, **kwargs)


def still_serving(sandbox: Sandbox) -> None:
    bearer = token(sandbox)
    answer = requests.get(
        sandbox.api_url + "/v1/controls", headers={"Authorization": f"Bearer {bearer}"}, timeout=10
    )
    assert answer.status_code == 200 and len(answer.json()) == 39


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "rate-limit", "count": "3"}, "'count' must be an integer"),
        ({"kind": "rate-limit", "count": 2.5}, "'count' must be an integer"),
        ({"kind": "rate-limit", "count": True}, "'count' must be an integer"),
        ({"kind": "rate-limit", "count": -1}, "'count' must be between 0"),
        ({"kind": "rate-limit", "fraction": "half"}, "'fraction' must be a finite number"),
        ({"kind": "rate-limit", "retry_after": -3}, "'retry_after' must be between 0"),
        ({"kind": "rate-limit", "status": 1000}, "'status' must be between 100 and 599"),
        ({"kind": "rate-limit", "status": 42}, "'status' must be between 100 and 599"),
        ({"kind": "rate-limit", "path": 7}, "'path' must be a string"),
        ({"kind": "rate-limit", "colour": "red"}, "unknown fault key(s) ['colour']"),
        ({"kind": 5}, "'kind' must be a string"),
        ({"kind": "earthquake"}, "unknown fault kind 'earthquake'"),
    ],
)
def test_fault_bodies_are_checked(hpconfig_sandbox: Sandbox, body: Any, words: str) -> None:
    answer = admin(hpconfig_sandbox, "POST", "/faults", json=body)
    assert answer.status_code == 400
    assert words in answer.json()["message"]
    assert hpconfig_sandbox.admin("GET", "/faults") == []
    still_serving(hpconfig_sandbox)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"latency": -1}', "'latency' must be between 0"),
        (b'{"latency": "5"}', "'latency' must be a finite number"),
        (b'{"latency": 100000}', "'latency' must be between 0 and 600"),
        (b'{"tokenLifetime": NaN}', "'tokenLifetime' must be a finite number"),
        (b'{"tokenLifetime": Infinity}', "'tokenLifetime' must be a finite number"),
        (b'{"tokenLifetime": null}', "'tokenLifetime' must be a finite number"),
        (b'{"latency": 0, "speed": 3}', "unknown setting(s) ['speed']"),
        (b'{"latency": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests deeper than 64"),
        (b"[" * 100_000, "nests deeper than 64"),
    ],
)
def test_settings_are_checked_and_nothing_is_half_applied(
    hpconfig_sandbox: Sandbox, raw: bytes, words: str
) -> None:
    answer = admin(hpconfig_sandbox, "POST", "/settings", data=raw, headers=JSON)
    assert answer.status_code == 400
    assert words in answer.json()["message"]
    settings = hpconfig_sandbox.server.settings
    assert (settings.latency, settings.token_lifetime) == (0.0, 3600)
    still_serving(hpconfig_sandbox)


def test_deeply_nested_fault_json_is_a_400(hpconfig_sandbox: Sandbox) -> None:
    raw = b'{"kind": "drop", "message": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = admin(hpconfig_sandbox, "POST", "/faults", data=raw, headers=JSON)
    assert answer.status_code == 400
    still_serving(hpconfig_sandbox)


@pytest.mark.parametrize(
    "host",
    ["evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "10.0.0.1:8765", ""],
)
def test_a_host_that_is_not_a_loopback_name_is_refused(
    hpconfig_sandbox: Sandbox, host: str
) -> None:
    # a web page that rebinds its DNS name to 127.0.0.1 still sends that name as Host
    for method, path in (("GET", "/state"), ("POST", "/reset")):
        answer = admin(hpconfig_sandbox, method, path, headers={**JSON, "Host": host}, json={})
        assert answer.status_code == 403
        assert "loopback name in Host" in answer.json()["message"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:8765", "LocalHost", "[::1]:80"])
def test_loopback_host_names_are_served(hpconfig_sandbox: Sandbox, host: str) -> None:
    answer = admin(hpconfig_sandbox, "GET", "/faults", headers={"Host": host})
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1.nip.io"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_requests_from_web_pages_of_other_sites_are_refused(
    hpconfig_sandbox: Sandbox, headers: dict[str, str]
) -> None:
    hpconfig_sandbox.add_fault("unavailable", count=5)
    answer = admin(hpconfig_sandbox, "DELETE", "/faults", headers={**JSON, **headers}, json={})
    assert answer.status_code == 403
    assert len(hpconfig_sandbox.admin("GET", "/faults")) == 1


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_change_must_be_sent_as_json(hpconfig_sandbox: Sandbox, content_type: str | None) -> None:
    # the bodies a browser sends cross-site without asking first
    headers = {"Content-Type": content_type} if content_type else {}
    answer = admin(hpconfig_sandbox, "POST", "/faults", data=b'{"kind": "drop"}', headers=headers)
    assert answer.status_code == 415
    assert hpconfig_sandbox.admin("GET", "/faults") == []
    same_origin = {**JSON, "Origin": hpconfig_sandbox.root_url}
    answer = admin(hpconfig_sandbox, "POST", "/faults", json={"kind": "drop"}, headers=same_origin)
    assert answer.status_code == 201


def serve_as_if_from(sandbox: Sandbox, claimed: str) -> bytes:
    """Hand the server a real loopback connection, claiming it comes from ``claimed``."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname()[:2], timeout=20)
        accepted, _ = listener.accept()
    with client:
        sandbox.server.process_request(accepted, (claimed, 40000))
        client.sendall(
            b"GET /_sandbox/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    return received


def test_a_caller_beyond_loopback_is_refused(hpconfig_sandbox: Sandbox) -> None:
    refused = serve_as_if_from(hpconfig_sandbox, "203.0.113.9")
    assert re.match(rb"HTTP/1\.1 403 ", refused)
    assert b"answers loopback callers only" in refused
    served = serve_as_if_from(hpconfig_sandbox, "127.0.0.1")
    assert re.match(rb"HTTP/1\.1 200 ", served)
    assert hpconfig_sandbox.client_secret.encode() not in served


def test_the_admin_path_keeps_serving_under_concurrent_bad_input(hpconfig_sandbox: Sandbox) -> None:
    bad = [b'{"count": "x", "kind": "drop"}', b"[" * 10_000, b'{"latency": -1}', b"\xff\xfe"]
    codes: list[int] = []

    def send(raw: bytes) -> None:
        path = "/settings" if b"latency" in raw else "/faults"
        codes.append(admin(hpconfig_sandbox, "POST", path, data=raw, headers=JSON).status_code)

    threads = [threading.Thread(target=send, args=(raw,)) for raw in bad * 5]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [400] * len(threads)
    assert json.loads(json.dumps(hpconfig_sandbox.state()))["controls"]
    still_serving(hpconfig_sandbox)
