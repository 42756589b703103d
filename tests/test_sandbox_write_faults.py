"""The sandbox's write faults: a request handled (the write lands) and then its answer spoilt.

Each fault is tried over real HTTP against the sandbox; the organization (``GET /_sandbox/state``
and a fresh ``GET`` on another connection) must hold the write whatever the client heard, and
the request log must say both what was sent and how the request was really handled.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox
from hpconfig.sandbox.store import read_state
from tests import helpers
from tests.test_sandbox_api import token
from tests.test_sandbox_behaviour import _start_command

NEW = {"controlIdentifier": "NEW-1", "name": "New", "description": "A new control"}


def call(sandbox: Sandbox, bearer: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", 10)
    return requests.request(
        method, sandbox.api_url + path, headers={"Authorization": f"Bearer {bearer}"}, **kwargs
    )


def first_control(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.state()["controls"][0]  # type: ignore[no-any-return]


def stored(sandbox: Sandbox, control_id: str) -> dict[str, Any]:
    return next(c for c in sandbox.state()["controls"] if c["id"] == control_id)


def with_identifier(sandbox: Sandbox, identifier: str) -> list[dict[str, Any]]:
    return [c for c in sandbox.state()["controls"] if c["controlIdentifier"] == identifier]


def last_entry(sandbox: Sandbox, method: str) -> dict[str, Any]:
    return [e for e in sandbox.requests() if e["method"] == method][-1]


def test_commit_drop_writes_the_patch_then_closes_the_connection(
    hpconfig_sandbox: Sandbox,
) -> None:
    bearer = token(hpconfig_sandbox)
    control = first_control(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-drop", path="/v1/controls/*", method="PATCH")
    with pytest.raises(requests.ConnectionError):
        call(
            hpconfig_sandbox,
            bearer,
            "PATCH",
            f"/v1/controls/{control['id']}",
            json={"notes": "landed"},
        )
    assert stored(hpconfig_sandbox, control["id"])["notes"] == "landed"
    entry = last_entry(hpconfig_sandbox, "PATCH")
    assert (entry["fault"], entry["status"], entry["handled_status"]) == ("commit-drop", 0, 200)
    # count=1 by default: the next write is answered
    again = call(
        hpconfig_sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"notes": "x"}
    )
    assert again.status_code == 200 and last_entry(hpconfig_sandbox, "PATCH")["fault"] is None


def test_commit_drop_on_a_create_leaves_one_control_and_a_resend_is_the_real_409(
    hpconfig_sandbox: Sandbox,
) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-drop", path="/v1/controls", method="POST")
    with pytest.raises(requests.ConnectionError):
        call(hpconfig_sandbox, bearer, "POST", "/v1/controls", json=NEW)
    assert len(with_identifier(hpconfig_sandbox, "NEW-1")) == 1
    # A client that re-sent the create blindly would be told so: the API's own duplicate check.
    resent = call(hpconfig_sandbox, bearer, "POST", "/v1/controls", json=NEW)
    assert resent.status_code == 409
    assert resent.json() == {
        "statusCode": 409,
        "message": "A control with identifier 'NEW-1' already exists",
    }
    assert len(with_identifier(hpconfig_sandbox, "NEW-1")) == 1
    # The filter endpoint (what a client adopting the control reads) finds it.
    found = call(
        hpconfig_sandbox,
        bearer,
        "PUT",
        "/v1/controls/filter",
        json={"controlIds": [with_identifier(hpconfig_sandbox, "NEW-1")[0]["id"]]},
    )
    assert [c["controlIdentifier"] for c in found.json()] == ["NEW-1"]


@pytest.mark.parametrize(("status", "message"), [(None, "Internal server error"), (503, "Busy")])
def test_commit_error_writes_then_answers_a_5xx(
    hpconfig_sandbox: Sandbox, status: int | None, message: str
) -> None:
    bearer = token(hpconfig_sandbox)
    control = first_control(hpconfig_sandbox)
    options = {} if status is None else {"status": status, "message": message}
    hpconfig_sandbox.add_fault("commit-error", path="/v1/controls/*", method="PATCH", **options)
    answer = call(
        hpconfig_sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"notes": "landed"}
    )
    expected = status or 500
    assert answer.status_code == expected
    assert answer.json() == {"statusCode": expected, "message": message}
    fresh = call(hpconfig_sandbox, bearer, "GET", f"/v1/controls/{control['id']}")
    assert fresh.json()["notes"] == "landed"  # a GET after the failure sees the write
    entry = last_entry(hpconfig_sandbox, "PATCH")
    assert (entry["fault"], entry["status"], entry["handled_status"]) == (
        "commit-error",
        expected,
        200,
    )


def test_commit_error_on_a_refused_write_writes_nothing(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    control = first_control(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-error", method="PATCH")
    answer = call(
        hpconfig_sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"status": "gone"}
    )
    assert answer.status_code == 500
    assert stored(hpconfig_sandbox, control["id"]) == control
    assert last_entry(hpconfig_sandbox, "PATCH")["handled_status"] == 400


def test_commit_stall_writes_at_once_and_answers_after_the_client_gave_up(
    hpconfig_sandbox: Sandbox,
) -> None:
    bearer = token(hpconfig_sandbox)
    control = first_control(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-stall", method="PATCH", delay=3)
    with pytest.raises(requests.ReadTimeout):
        call(
            hpconfig_sandbox,
            bearer,
            "PATCH",
            f"/v1/controls/{control['id']}",
            json={"notes": "slow"},
            timeout=(5, 0.3),
        )
    # The write is in while the answer is still held back.
    assert stored(hpconfig_sandbox, control["id"])["notes"] == "slow"
    assert hpconfig_sandbox.admin("GET", "/faults") == []  # fired once


def test_commit_stall_answers_the_real_answer_to_a_patient_client(
    hpconfig_sandbox: Sandbox,
) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-stall", path="/v1/controls", method="POST", delay=0.2)
    created = call(hpconfig_sandbox, bearer, "POST", "/v1/controls", json=NEW)
    assert created.status_code == 201 and created.json()["controlIdentifier"] == "NEW-1"
    assert created.headers["Connection"] == "close"
    entry = last_entry(hpconfig_sandbox, "POST")
    assert (entry["fault"], entry["status"], entry["handled_status"]) == ("commit-stall", 201, 201)


def test_commit_late_lands_the_write_after_the_client_gave_up(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    control = first_control(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-late", method="PATCH", delay=1)
    with pytest.raises(requests.ReadTimeout):
        call(
            hpconfig_sandbox,
            bearer,
            "PATCH",
            f"/v1/controls/{control['id']}",
            json={"notes": "late"},
            timeout=(5, 0.2),
        )
    # not yet: a client reading it back now sees the old value...
    assert stored(hpconfig_sandbox, control["id"])["notes"] == control["notes"]
    # ...while the request is in the log from its start (no answer, not handled), so that a
    # client that has an answer never races the sandbox to the log...
    held = [e for e in hpconfig_sandbox.requests() if e["method"] == "PATCH"]
    assert [(e["status"], e["handled_status"]) for e in held] == [(0, None)]
    for _ in range(400):  # ...and the write lands once the hold is over (the log says so)
        if any(e["method"] == "PATCH" and e["handled_status"] for e in hpconfig_sandbox.requests()):
            break
        time.sleep(0.01)  # the hold ends on the sandbox's clock
    entry = last_entry(hpconfig_sandbox, "PATCH")
    assert (entry["fault"], entry["handled_status"]) == ("commit-late", 200)
    assert stored(hpconfig_sandbox, control["id"])["notes"] == "late"


def test_a_stopping_sandbox_does_not_wait_out_a_stall(example_seed: dict[str, Any]) -> None:
    sandbox = Sandbox(example_seed).start()
    bearer = token(sandbox)
    control = first_control(sandbox)
    sandbox.add_fault("commit-stall", method="PATCH", delay=60)
    outcome: list[BaseException] = []

    def write() -> None:
        try:
            call(sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"notes": "n"})
        except requests.RequestException as error:
            outcome.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(1000):  # until the write has landed: the stall comes after it
        if stored(sandbox, control["id"])["notes"] == "n":
            break
    else:
        raise AssertionError("the write never landed")
    sandbox.stop()  # joins each worker for at most 5 s; a worker still in the stall would stay
    writer.join(timeout=10)
    assert not writer.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)
    assert not [w for w in sandbox.server.workers if w.is_alive()]


def test_commit_conflict_creates_the_control_and_answers_409(hpconfig_sandbox: Sandbox) -> None:
    bearer = token(hpconfig_sandbox)
    hpconfig_sandbox.add_fault("commit-conflict", path="/v1/controls", method="POST")
    answer = call(hpconfig_sandbox, bearer, "POST", "/v1/controls", json=NEW)
    assert answer.status_code == 409
    # the very answer a real duplicate gets, so a client cannot tell them apart
    assert answer.json() == {
        "statusCode": 409,
        "message": "A control with identifier 'NEW-1' already exists",
    }
    [created] = with_identifier(hpconfig_sandbox, "NEW-1")
    assert created["name"] == "New"
    entry = last_entry(hpconfig_sandbox, "POST")
    assert (entry["fault"], entry["status"], entry["handled_status"]) == (
        "commit-conflict",
        409,
        201,
    )


def test_a_write_behind_a_commit_fault_is_in_the_state_journal_before_any_answer(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file) as sandbox:
        bearer = token(sandbox)
        control = first_control(sandbox)
        sandbox.add_fault("commit-drop", method="PATCH")
        with pytest.raises(requests.ConnectionError):
            call(sandbox, bearer, "PATCH", f"/v1/controls/{control['id']}", json={"notes": "kept"})
        # what a sandbox killed now would start from (a kill -9 replays exactly these files)
        on_disk = read_state(state_file, example_seed)
        assert next(c for c in on_disk["controls"] if c["id"] == control["id"])["notes"] == "kept"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "commit-error", "status": 404}, "commit-error answers a 5xx status"),
        ({"kind": "commit-error", "status": 200}, "commit-error answers a 5xx status"),
        ({"kind": "commit-stall", "delay": 61}, "delay must be between 0 and 60 seconds"),
        ({"kind": "commit-late", "delay": -1}, "'delay' must be between 0"),
        ({"kind": "commit-stall", "delay": "long"}, "'delay' must be a finite number"),
        ({"kind": "commit-drop", "count": -1}, "'count' must be between 0"),
        ({"kind": "commit-later"}, "unknown fault kind 'commit-later'"),
    ],
)
def test_write_fault_bodies_are_checked(hpconfig_sandbox: Sandbox, body: Any, words: str) -> None:
    answer = requests.post(f"{hpconfig_sandbox.root_url}/_sandbox/faults", json=body, timeout=10)
    assert answer.status_code == 400
    assert words in answer.json()["message"]
    assert hpconfig_sandbox.admin("GET", "/faults") == []


def test_the_command_takes_write_faults_and_checks_them() -> None:
    refused = _start_command("--fault", "commit-error,method=PATCH,status=404")
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 64
    assert "commit-error answers a 5xx status" in err
    process = _start_command(
        "--seed", "examples/sandbox/org.json", "--fault", "commit-conflict,method=POST"
    )
    try:
        exports = helpers.read_exports(process)
        url = exports["HYPERPROOF_API_URL"]
        faults = requests.get(url + "/_sandbox/faults", timeout=10).json()
        assert [(f["kind"], f["method"]) for f in faults] == [("commit-conflict", "POST")]
        bearer = helpers.bearer_from_exports(exports)
        answer = requests.post(
            url + "/v1/controls",
            json=NEW,
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=10,
        )
        assert answer.status_code == 409
        state = requests.get(url + "/_sandbox/state", timeout=10).json()
        assert [c["controlIdentifier"] for c in state["controls"]].count("NEW-1") == 1
    finally:
        process.terminate()
        process.communicate(timeout=30)
