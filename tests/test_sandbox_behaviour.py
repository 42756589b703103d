"""The sandbox's faults, request log, reset, persistence, concurrency and command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from hpconfig.loopback import is_loopback_host
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.test_sandbox_api import token


def patch_notes(sandbox: Sandbox, bearer: str, control_id: str, notes: str) -> requests.Response:
    return requests.patch(
        f"{sandbox.api_url}/v1/controls/{control_id}",
        json={"notes": notes},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=30,
    )


def get_controls(sandbox: Sandbox, bearer: str, **kwargs: Any) -> requests.Response:
    return requests.get(
        sandbox.api_url + "/v1/controls",
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=5,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("rate-limit", 429, "Rate limit is exceeded. Try again in 5 seconds."),
        ("quota", 403, "Bandwidth quota exceeded. Try again later."),
        ("unauthorized", 401, "Unauthorized"),
        ("server-error", 500, "Internal server error"),
        ("bad-gateway", 502, "Bad gateway"),
        ("unavailable", 503, "Service unavailable"),
        ("gateway-timeout", 504, "Gateway timeout"),
    ],
)
def test_status_faults_answer_the_documented_shape(
    hpconfig_sandbox: Sandbox, kind: str, status: int, message: str
) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault(kind, path="/v1/controls", count=2)
    for _ in range(2):
        answer = get_controls(hpconfig_sandbox, bearer)
        assert answer.status_code == status
        assert answer.json() == {"statusCode": status, "message": message}
        assert "Retry-After" not in answer.headers
    assert get_controls(hpconfig_sandbox, bearer).status_code == 200


def test_retry_after_header_is_sent_when_asked(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("rate-limit", path="/v1/*", retry_after=7)
    answer = get_controls(hpconfig_sandbox, bearer)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"


def test_drop_closes_the_connection_without_an_answer(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("drop", path="/v1/controls")
    with pytest.raises(requests.ConnectionError):
        get_controls(hpconfig_sandbox, bearer)
    assert get_controls(hpconfig_sandbox, bearer).status_code == 200


def test_malformed_body_and_html_page(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("malformed", path="/v1/controls")
    answer = get_controls(hpconfig_sandbox, bearer)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    hpconfig_sandbox.add_fault("html", path="/v1/controls")
    answer = get_controls(hpconfig_sandbox, bearer)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"] == "text/html"
    assert "<h1>502 Bad Gateway</h1>" in answer.text


def test_faults_match_method_and_path_only(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("unavailable", path="/v1/users*", method="GET", count=5)
    bearer = token(hpconfig_sandbox)  # the token path is not matched
    assert get_controls(hpconfig_sandbox, bearer).status_code == 200
    users = requests.get(
        hpconfig_sandbox.api_url + "/v1/users",
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=5,
    )
    assert users.status_code == 503
    assert hpconfig_sandbox.admin("GET", "/faults")[0]["count"] == 4


def test_fraction_faults_fire_for_about_that_share(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("unavailable", path="/v1/users", fraction=0.5)
    statuses = [
        requests.get(
            hpconfig_sandbox.api_url + "/v1/users",
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=5,
        ).status_code
        for _ in range(60)
    ]
    failed = statuses.count(503)
    assert 15 <= failed <= 45, failed
    assert statuses.count(200) == 60 - failed


def test_faults_on_the_token_path(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("server-error", path="/oauth/token")
    answer = requests.post(
        hpconfig_sandbox.token_url, data={"grant_type": "client_credentials"}, timeout=5
    )
    assert answer.status_code == 500


def test_unknown_fault_kind_is_refused(hpconfig_sandbox: Sandbox) -> None:
    with pytest.raises(Exception, match="400"):
        hpconfig_sandbox.add_fault("earthquake")


def test_log_records_token_validity_and_body_keys_never_values(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    get_controls(hpconfig_sandbox, "wrong")
    control = get_controls(hpconfig_sandbox, bearer).json()[0]
    requests.patch(
        hpconfig_sandbox.api_url + f"/v1/controls/{control['id']}",
        json={"notes": "n", "name": "x"},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=5,
    )
    hpconfig_sandbox.state()  # admin calls are not logged
    log = hpconfig_sandbox.requests()
    assert [(e["method"], e["path"], e["token"], e["status"]) for e in log] == [
        ("POST", "/oauth/token", "", 200),
        ("GET", "/v1/controls", "invalid", 401),
        ("GET", "/v1/controls", "valid", 200),
        ("PATCH", f"/v1/controls/{control['id']}", "valid", 200),
    ]
    assert log[0]["body_keys"] == ["client_id", "client_secret", "grant_type"]
    assert log[3]["body_keys"] == ["name", "notes"]
    assert hpconfig_sandbox.client_secret not in json.dumps(log)
    assert hpconfig_sandbox.client_secret not in json.dumps(hpconfig_sandbox.state())


def test_reset_restores_the_seed_and_clears_faults_and_log(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    control = get_controls(hpconfig_sandbox, bearer).json()[0]
    patch_notes(hpconfig_sandbox, bearer, control["id"], "changed")
    hpconfig_sandbox.add_fault("unavailable", count=100)
    hpconfig_sandbox.reset()
    assert hpconfig_sandbox.requests() == []
    assert hpconfig_sandbox.admin("GET", "/faults") == []
    bearer = token(hpconfig_sandbox)
    again = [c for c in get_controls(hpconfig_sandbox, bearer).json() if c["id"] == control["id"]]
    assert again[0]["notes"] == control["notes"]


def test_state_persists_across_restarts(example_seed: dict[str, Any], tmp_path: Path) -> None:
    state = tmp_path / "org.state.json"
    with Sandbox(example_seed, state_path=state) as sandbox:
        bearer = token(sandbox)
        control = get_controls(sandbox, bearer).json()[0]
        patch_notes(sandbox, bearer, control["id"], "kept across runs")
    assert json.loads(state.read_text())["controls"]
    with Sandbox(example_seed, state_path=state) as sandbox:
        bearer = token(sandbox)
        found = [c for c in get_controls(sandbox, bearer).json() if c["id"] == control["id"]]
        assert found[0]["notes"] == "kept across runs"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_fifty_concurrent_readers_get_correct_answers(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    expected = get_controls(hpconfig_sandbox, bearer).json()
    results: list[Any] = []

    def read() -> None:
        with requests.Session() as session:
            answer = session.get(
                hpconfig_sandbox.api_url + "/v1/controls",
                headers={"Authorization": f"Bearer {bearer}"},
                timeout=30,
            )
            results.append(answer.json() if answer.status_code == 200 else answer.status_code)

    threads = [threading.Thread(target=read) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 50
    assert all(result == expected for result in results)


def test_concurrent_writers_lose_no_update_and_never_tear_the_state_file(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state = tmp_path / "org.state.json"
    with Sandbox(example_seed, state_path=state) as sandbox:
        bearer = token(sandbox)
        controls = get_controls(sandbox, bearer).json()
        torn: list[str] = []
        stop = threading.Event()

        def watch() -> None:  # the file must parse whenever anyone looks
            while not stop.is_set():
                try:
                    json.loads(state.read_text())
                except ValueError as error:
                    torn.append(str(error))

        def write(index: int) -> None:
            control = controls[index % len(controls)]
            patch_notes(sandbox, bearer, control["id"], f"writer {index}")

        watcher = threading.Thread(target=watch)
        watcher.start()
        writers = [threading.Thread(target=write, args=(i,)) for i in range(len(controls))]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        stop.set()
        watcher.join()
        assert torn == []
        final = {c["id"]: c["notes"] for c in get_controls(sandbox, bearer).json()}
        assert all(final[c["id"]] == f"writer {i}" for i, c in enumerate(controls))
    # a stopped sandbox leaves one whole snapshot
    saved = {c["id"]: c["notes"] for c in json.loads(state.read_text())["controls"]}
    assert all(saved[c["id"]] == f"writer {i}" for i, c in enumerate(controls))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("::1%lo", True),
        ("10.0.0.1", False),
        ("192.168.1.2", False),
        ("::ffff:10.0.0.1", False),
        ("nonsense", False),
    ],
)
def test_admin_path_is_for_loopback_callers_only(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def _start_command(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hpconfig", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_sandbox_command_prints_exports_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = _start_command(
        "--seed",
        "examples/sandbox/org.json",
        "--fault",
        "rate-limit,path=/v1/controls,count=1,retry_after=0",
    )
    try:
        assert process.stdout is not None
        exports = helpers.read_exports(process)
        assert exports["HYPERPROOF_CLIENT_ID"] == "sandbox-ci-client"
        assert exports["HYPERPROOF_TOKEN_URL"] == exports["HYPERPROOF_API_URL"] + "/oauth/token"
        bearer = helpers.bearer_from_exports(exports)
        first = requests.get(
            exports["HYPERPROOF_API_URL"] + "/v1/controls",
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=5,
        )
        assert first.status_code == 429  # the fault given at start
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "sandbox stopped" in err and "Traceback" not in err


def test_sandbox_command_stops_on_ctrl_c_when_started_with_sigint_ignored() -> None:
    # A shell starts a background job (`hpconfig sandbox &`) with SIGINT ignored; Ctrl-C (or
    # `kill -INT`) must still stop the sandbox cleanly, as the README promises.
    process = subprocess.Popen(
        [sys.executable, "-m", "hpconfig", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError("SIGINT did not stop a sandbox started with it ignored") from None
    assert process.returncode == 0
    assert "sandbox stopped" in err and "Traceback" not in err


def test_sandbox_command_warns_when_binding_beyond_loopback() -> None:
    process = _start_command("--host", "0.0.0.0")
    try:
        assert process.stdout is not None
        process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert "Warning: binding 0.0.0.0" in err


def test_sandbox_command_rejects_a_bad_fault() -> None:
    process = _start_command("--fault", "earthquake")
    _, err = process.communicate(timeout=10)
    assert process.returncode == 64
    assert "unknown fault kind 'earthquake'" in err


def test_admin_path_errors(hpconfig_sandbox: Sandbox) -> None:
    url = hpconfig_sandbox.root_url + "/_sandbox"
    assert requests.get(url + "/nothing", timeout=5).status_code == 404
    as_json = {"Content-Type": "application/json"}
    bad = requests.post(url + "/faults", data=b"[1, 2]", headers=as_json, timeout=5)
    assert bad.status_code == 400
    not_json = requests.post(url + "/settings", data=b"{not json", headers=as_json, timeout=5)
    assert not_json.status_code == 400
