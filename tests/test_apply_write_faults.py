"""`hpconfig apply` against writes that land and then fail: the sandbox's ``commit-*`` faults.

Each test plans one update and one create, then applies the saved plan while the sandbox lets a
write land and spoils its answer (drops the connection, answers 5xx, holds the answer past the
client's read timeout, or answers the 409 of a duplicate). apply must find out the truth: a
PATCH that landed is ``reconciled`` without a second PATCH, a POST that landed is adopted
without a second POST, no identifier is ever created twice, and the journal claims only writes
the sandbox's own log shows as landed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests.helpers import env_for, write_tree

NEW = "NEW-1"
RENAMED = "Renamed by apply"


def run(sandbox: Sandbox, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env_for(sandbox), catch_exceptions=False)


@pytest.fixture
def planned(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A saved plan of one update (a name) and one create; what it names. Planned and applied
    from tmp_path, as apply reads a saved plan's manifests only inside the working directory."""
    monkeypatch.chdir(tmp_path)
    live = hpconfig_sandbox.state()["controls"][0]
    write_tree(
        tmp_path,
        {
            "controls/m.yaml": (
                "controls:\n"
                f"  - identifier: {json.dumps(live['controlIdentifier'])}\n"
                f"    name: {json.dumps(RENAMED)}\n"
                f"  - identifier: {NEW}\n"
                "    name: New\n"
                "    description: A control that apply creates\n"
            )
        },
    )
    plan = tmp_path / "plan.json"
    result = run(hpconfig_sandbox, "plan", "controls", "--out", str(plan))
    assert result.exit_code == 0, result.output
    actions = sorted(c["action"] for c in json.loads(plan.read_text())["changes"])
    assert actions == ["create", "update"]
    hpconfig_sandbox.clear_requests()
    return {"plan": plan, "id": live["id"], "identifier": live["controlIdentifier"]}


def apply(sandbox: Sandbox, planned: dict[str, Any], *extra: str) -> tuple[Result, list[Any]]:
    journal = planned["plan"].with_name("journal.jsonl")
    result = run(
        sandbox,
        "apply",
        str(planned["plan"]),
        "--auto-approve",
        "--journal",
        str(journal),
        *extra,
    )
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    return result, lines


def outcomes(journal: list[dict[str, Any]]) -> dict[str, str]:
    return {e["identifier"]: e["outcome"] for e in journal if "outcome" in e}


def check_the_truth(sandbox: Sandbox, planned: dict[str, Any], journal: list[Any]) -> None:
    """The organization is at the plan's targets, once each, and the journal claims only
    writes that the sandbox's log shows as landed."""
    controls = sandbox.state()["controls"]
    identifiers = Counter(c["controlIdentifier"] for c in controls)
    assert identifiers[NEW] == 1, "created twice"
    assert next(c for c in controls if c["id"] == planned["id"])["name"] == RENAMED
    landed = {
        (e["method"], e["path"])
        for e in sandbox.requests()
        if (e["handled_status"] or e["status"]) in (200, 201) and e["method"] in ("PATCH", "POST")
    }
    for event in journal:
        if event["type"] != "apply_complete":
            continue
        if event["action"] == "create" and event["outcome"] == "applied":
            assert ("POST", "/v1/controls") in landed, event
        elif event["action"] == "update" and event["outcome"] == "applied":
            assert ("PATCH", f"/v1/controls/{event['id']}") in landed, event
        # reconciled: apply read the control back and found it at the target (asserted above)


def writes(sandbox: Sandbox, held: str | None = None) -> Counter[str]:
    """The writes the sandbox received. A request is logged once answered, and one ``held`` by
    a commit-stall or commit-late fault after its hold, when apply has long moved on: wait for
    that entry first."""
    for _ in range(400):
        if held is None or any(e["fault"] == held for e in sandbox.requests()):
            break
        time.sleep(0.025)  # the hold ends on the sandbox's clock; nothing to send meanwhile
    return Counter(
        e["method"]
        for e in sandbox.requests()
        if e["method"] in ("PATCH", "POST", "PUT") and e["path"].startswith("/v1/")
    )


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("commit-drop", {}),
        ("commit-error", {}),
        ("commit-error", {"status": 503}),
        ("commit-stall", {"delay": 3}),
    ],
)
def test_a_patch_that_landed_is_reconciled_never_sent_twice(
    hpconfig_sandbox: Sandbox, planned: dict[str, Any], kind: str, options: dict[str, Any]
) -> None:
    hpconfig_sandbox.add_fault(kind, path="/v1/controls/*", method="PATCH", **options)
    result, journal = apply(hpconfig_sandbox, planned, "--read-timeout", "1")
    assert result.exit_code == 0, result.output
    assert outcomes(journal) == {planned["identifier"]: "reconciled", NEW: "applied"}
    assert writes(hpconfig_sandbox, kind if kind == "commit-stall" else None) == {
        "PATCH": 1,
        "POST": 1,
    }
    reads_back = [
        e
        for e in hpconfig_sandbox.requests()
        if e["path"] == f"/v1/controls/{planned['id']}" and e["method"] == "GET"
    ]
    assert len(reads_back) == 1  # the one GET that found the truth
    check_the_truth(hpconfig_sandbox, planned, journal)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("commit-drop", {}),
        ("commit-error", {}),
        ("commit-stall", {"delay": 3}),
        ("commit-conflict", {}),
    ],
)
def test_a_create_that_landed_is_adopted_never_created_twice(
    hpconfig_sandbox: Sandbox, planned: dict[str, Any], kind: str, options: dict[str, Any]
) -> None:
    hpconfig_sandbox.add_fault(kind, path="/v1/controls", method="POST", **options)
    result, journal = apply(hpconfig_sandbox, planned, "--read-timeout", "1")
    assert result.exit_code == 0, result.output
    assert outcomes(journal) == {planned["identifier"]: "applied", NEW: "reconciled"}
    assert writes(hpconfig_sandbox, kind if kind == "commit-stall" else None) == {
        "PATCH": 1,
        "POST": 1,
    }  # the POST was sent once
    check_the_truth(hpconfig_sandbox, planned, journal)
    adopted = next(e for e in journal if e.get("outcome") == "reconciled")
    created = next(c for c in hpconfig_sandbox.state()["controls"] if c["controlIdentifier"] == NEW)
    assert adopted["id"] == created["id"]


def test_a_write_dropped_before_it_landed_is_sent_once_more(
    hpconfig_sandbox: Sandbox, planned: dict[str, Any]
) -> None:
    # `drop` answers instead of handling: the write never landed, and the read-back says so
    hpconfig_sandbox.add_fault("drop", path="/v1/controls/*", method="PATCH")
    hpconfig_sandbox.add_fault("drop", path="/v1/controls", method="POST")
    result, journal = apply(hpconfig_sandbox, planned)
    assert result.exit_code == 0, result.output
    assert outcomes(journal) == {planned["identifier"]: "applied", NEW: "applied"}
    assert writes(hpconfig_sandbox) == {"PATCH": 2, "POST": 2}
    check_the_truth(hpconfig_sandbox, planned, journal)


def test_every_ambiguous_attempt_failing_is_reported_not_guessed(
    hpconfig_sandbox: Sandbox, planned: dict[str, Any]
) -> None:
    # the PATCH fails ambiguously and never lands: one read-back, one more PATCH, then failure
    hpconfig_sandbox.add_fault("unavailable", path="/v1/controls/*", method="PATCH", count=2)
    result, journal = apply(hpconfig_sandbox, planned, "--keep-going")
    assert result.exit_code == 4, result.output
    assert outcomes(journal)[planned["identifier"]] == "failed"
    assert writes(hpconfig_sandbox)["PATCH"] == 2
    assert not [e for e in journal if e["type"] == "apply_complete" and e["action"] == "update"]
    live = next(c for c in hpconfig_sandbox.state()["controls"] if c["id"] == planned["id"])
    assert live["name"] != RENAMED


def test_a_write_that_lands_after_apply_gave_up_on_it_ends_right_and_once(
    hpconfig_sandbox: Sandbox, planned: dict[str, Any]
) -> None:
    # Both writes are held 3 s, then land: apply's read-back finds neither yet, so it sends
    # each once more. The late PATCH writes the same values again; the late POST meets the
    # control the second POST made, and the API's 409 keeps it from being made twice.
    hpconfig_sandbox.add_fault("commit-late", path="/v1/controls/*", method="PATCH", delay=3)
    hpconfig_sandbox.add_fault("commit-late", path="/v1/controls", method="POST", delay=3)
    result, journal = apply(hpconfig_sandbox, planned, "--read-timeout", "1")
    assert result.exit_code == 0, result.output
    assert outcomes(journal) == {planned["identifier"]: "applied", NEW: "applied"}
    for _ in range(400):
        late = [e for e in hpconfig_sandbox.requests() if e["fault"] == "commit-late"]
        if len(late) == 2 and all(e["handled_status"] is not None for e in late):
            break  # both in the log from their start, and both handled now
        time.sleep(0.025)  # the holds end on the sandbox's clock
    assert sorted((e["method"], e["handled_status"]) for e in late) == [
        ("PATCH", 200),
        ("POST", 409),
    ]
    assert writes(hpconfig_sandbox) == {"PATCH": 2, "POST": 2}
    check_the_truth(hpconfig_sandbox, planned, journal)
