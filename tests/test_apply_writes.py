"""Writes that never duplicate and never lie: each fault of a write against the real sandbox,
with the requests it must (and must not) lead to, and fail-fast against --keep-going."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.apply.outcome import Status
from hpconfig.apply.writer import Writer
from hpconfig.cli import cli
from hpconfig.owners import directory
from hpconfig.plan import Change
from hpconfig.project_config import ProjectConfig
from hpconfig.remote import writes
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.fetch import make_plan
from hpconfig.sandbox import Sandbox
from tests import helpers

CANARY = "CANARY-90b2e1-never-print-me"
MANIFEST = """\
controls:
  - identifier: SOC2-A1.1
    owner: alice@example.com
  - identifier: SOC2-A1.2
    implementation: completed
  - identifier: SOC2-A1.3
    freshness: {policy: manual, duration: 180d}
  - identifier: NEW-1
    name: A new control
    description: Created by apply.
"""


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    return example_seed


@pytest.fixture
def client(hpconfig_sandbox: Sandbox) -> Iterator[HyperproofClient]:
    with HyperproofClient(helpers.settings_for(hpconfig_sandbox)) as made:
        yield made


def planned(client: HyperproofClient, identifier: str) -> tuple[Writer, Change]:
    plan = make_plan(client, helpers.desired_from(MANIFEST), ProjectConfig())
    writer = Writer(client, directory(client.list_users(include_deactivated=True)))
    return writer, next(c for c in plan.changes if c.identifier == identifier)


def calls(sandbox: Sandbox) -> list[str]:
    return [
        f"{e['method']} {e['path'].rsplit('/', 1)[-1] if e['method'] != 'POST' else e['path']}"
        + (f" [{e['fault']}]" if e.get("fault") else "")
        for e in sandbox.requests()
        if e["path"].startswith("/v1/controls")
    ]


def control(sandbox: Sandbox, identifier: str) -> list[dict[str, Any]]:
    return [c for c in sandbox.state()["controls"] if c["controlIdentifier"] == identifier]


@pytest.mark.parametrize("fault", ["server-error", "drop", "gateway-timeout"])
def test_an_ambiguous_patch_that_did_not_land_is_read_back_then_sent_once_more(
    hpconfig_sandbox: Sandbox, client: HyperproofClient, fault: str
) -> None:
    writer, change = planned(client, "SOC2-A1.2")
    hpconfig_sandbox.clear_requests()
    hpconfig_sandbox.add_fault(fault, path="/v1/controls/*", method="PATCH")
    outcome = writer.write(change)
    assert outcome.status is Status.APPLIED, outcome.message
    assert "sent twice" in outcome.message
    cid = change.live_id
    assert calls(hpconfig_sandbox) == [f"PATCH {cid} [{fault}]", f"GET {cid}", f"PATCH {cid}"]
    assert control(hpconfig_sandbox, "SOC2-A1.2")[0]["implementation"] == "completed"


def test_an_ambiguous_patch_that_landed_is_reconciled_without_a_second(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "SOC2-A1.2")
    writes.patch_control(client, change.live_id or "", {"implementation": "completed"})
    hpconfig_sandbox.clear_requests()
    hpconfig_sandbox.add_fault("bad-gateway", path="/v1/controls/*", method="PATCH")
    outcome = writer.write(change)
    assert outcome.status is Status.RECONCILED
    assert calls(hpconfig_sandbox) == [
        f"PATCH {change.live_id} [bad-gateway]",
        f"GET {change.live_id}",
    ]


def test_a_patch_ambiguous_twice_fails_and_says_its_state_is_unknown(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "SOC2-A1.2")
    hpconfig_sandbox.add_fault("drop", path="/v1/controls/*", method="PATCH", count=2)
    outcome = writer.write(change)
    assert outcome.status is Status.FAILED
    assert "is unknown" in outcome.message
    assert [c for c in calls(hpconfig_sandbox) if c.startswith("PATCH")] == [
        f"PATCH {change.live_id} [drop]",
        f"PATCH {change.live_id} [drop]",
    ]


def test_a_refused_patch_is_a_failure_without_a_read_back(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "SOC2-A1.2")
    hpconfig_sandbox.clear_requests()
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls/*", method="PATCH", status=400)
    outcome = writer.write(change)
    assert outcome.status is Status.FAILED and "HTTP 400" in outcome.message
    assert calls(hpconfig_sandbox) == [f"PATCH {change.live_id} [server-error]"]


def test_a_throttled_write_is_retried_because_the_api_refused_it(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "SOC2-A1.1")
    hpconfig_sandbox.clear_requests()
    hpconfig_sandbox.add_fault("rate-limit", path="/v1/controls/*", method="PATCH", retry_after=0)
    hpconfig_sandbox.add_fault("quota", path="/v1/controls/*", method="PATCH", retry_after=0)
    outcome = writer.write(change)
    assert outcome.status is Status.APPLIED and not outcome.message
    assert len([c for c in calls(hpconfig_sandbox) if c.startswith("PATCH")]) == 3


def test_an_ambiguous_post_is_looked_up_and_sent_again_only_when_absent(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "NEW-1")
    hpconfig_sandbox.clear_requests()
    hpconfig_sandbox.add_fault("unavailable", path="/v1/controls", method="POST")
    outcome = writer.write(change)
    assert outcome.status is Status.APPLIED
    assert calls(hpconfig_sandbox) == [
        "POST /v1/controls [unavailable]",
        "GET controls",
        "GET controls",
        "POST /v1/controls",
    ]
    assert len(control(hpconfig_sandbox, "NEW-1")) == 1


def _exists(client: HyperproofClient, **fields: Any) -> None:
    body = {
        "controlIdentifier": "NEW-1",
        "name": "A new control",
        "description": "Created by apply.",
    }
    writes.create_control(client, {**body, **fields})


@pytest.mark.parametrize("fault", ["drop", "bad-gateway", None])
def test_a_post_that_landed_or_a_409_adopts_the_control_at_its_target(
    hpconfig_sandbox: Sandbox, client: HyperproofClient, fault: str | None
) -> None:
    writer, change = planned(client, "NEW-1")
    _exists(client)  # as if the first POST had landed (or another run made it)
    if fault:
        hpconfig_sandbox.add_fault(fault, path="/v1/controls", method="POST")
    hpconfig_sandbox.clear_requests()
    outcome = writer.write(change)
    assert outcome.status is Status.RECONCILED, outcome.message
    assert "adopted" in outcome.message
    assert [c for c in calls(hpconfig_sandbox) if c.startswith("POST")] == [
        f"POST /v1/controls [{fault}]" if fault else "POST /v1/controls"
    ]
    assert len(control(hpconfig_sandbox, "NEW-1")) == 1


def test_a_409_for_a_control_with_other_values_fails_and_writes_nothing_more(
    hpconfig_sandbox: Sandbox, client: HyperproofClient
) -> None:
    writer, change = planned(client, "NEW-1")
    _exists(client, name="Somebody else's")
    outcome = writer.write(change)
    assert outcome.status is Status.FAILED
    assert "HTTP 409" in outcome.message and "plan again" in outcome.message
    (made,) = control(hpconfig_sandbox, "NEW-1")
    assert made["name"] == "Somebody else's"


# --- through the CLI: fail-fast, --keep-going, the journal, the canary --------------------------


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    helpers.write_tree(tmp_path, {"controls/c.yaml": MANIFEST})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(sandbox: Sandbox, *args: str) -> Result:
    env = helpers.env_for(sandbox, CANARY)
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def journal(work: Path) -> list[dict[str, Any]]:
    (path,) = (work / ".hpconfig" / "journal").glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_fail_fast_stops_starting_writes_at_the_first_failure(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    hpconfig_sandbox.add_fault(
        "server-error", path="/v1/controls", method="POST", status=400, message=f"no {CANARY}"
    )
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--parallelism", "1")
    assert result.exit_code == 4
    assert "0 applied, 0 already applied, 0 reconciled, 1 failed, 0 stale, 3 not attempted" in (
        result.stdout
    )
    assert "nothing rolls back" in result.stderr
    lines = journal(work)
    assert [(e["type"], e.get("outcome")) for e in lines] == [
        ("apply_start", None),
        ("apply_errored", "failed"),
        ("apply_skipped", "not_attempted"),
        ("apply_skipped", "not_attempted"),
        ("apply_skipped", "not_attempted"),
        ("summary", None),
    ]
    text = result.stdout + result.stderr + json.dumps(lines)
    assert CANARY not in text and "HTTP 400" in text


def test_keep_going_applies_the_rest_after_a_failure(hpconfig_sandbox: Sandbox, work: Path) -> None:
    hpconfig_sandbox.add_fault(
        "server-error", path="/v1/controls", method="POST", status=400, message=f"x {CANARY}"
    )
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--keep-going", "--json")
    assert result.exit_code == 4
    for text in (result.stdout, result.stderr, json.dumps(journal(work))):
        assert CANARY not in text  # the secret, echoed by the server, is in no output
    errored = [json.loads(x) for x in result.stdout.splitlines() if "apply_errored" in x]
    assert "HTTP 400: x ********" in errored[0]["message"]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["counts"] == {
        "applied": 3,
        "already_applied": 0,
        "reconciled": 0,
        "failed": 1,
        "stale": 0,
        "not_attempted": 0,
    }
    after = run(hpconfig_sandbox, "plan", "controls", "--format", "json")
    assert [c["identifier"] for c in json.loads(after.stdout)["changes"]] == ["NEW-1"]


def test_parallel_writes_apply_everything_once(hpconfig_sandbox: Sandbox, work: Path) -> None:
    many = "controls:\n" + "".join(
        f"  - {{identifier: P-{i:03d}, name: Parallel {i}, description: made in parallel}}\n"
        for i in range(40)
    )
    (work / "controls" / "c.yaml").write_text(many)
    (work / "hpconfig.yaml").write_text("manifests: [controls/]\nsafety: {maxCreates: 40}\n")
    hpconfig_sandbox.add_fault("drop", path="/v1/controls", method="POST")
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--parallelism", "8")
    assert result.exit_code == 0, result.stderr
    made = [c["controlIdentifier"] for c in hpconfig_sandbox.state()["controls"]]
    assert sorted(i for i in made if i.startswith("P-")) == [f"P-{i:03d}" for i in range(40)]
    assert "40 applied" in result.stdout


def test_sigterm_stops_new_writes_waits_for_the_one_in_flight_and_records_the_rest(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    """A real process, a real signal: the journal says exactly what was written."""
    import os
    import signal
    import subprocess
    import sys

    hpconfig_sandbox.configure(latency=0.5)  # each write takes a while: one is in flight
    env = {**os.environ, **helpers.env_for(hpconfig_sandbox, CANARY)}
    args = ["apply", "controls", "--auto-approve", "--json", "--parallelism", "1"]
    with subprocess.Popen(
        [sys.executable, "-m", "hpconfig", *args],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["type"] == "apply_start"
        process.send_signal(signal.SIGTERM)
        rest, err = process.communicate()
    assert process.returncode == 130, err
    assert "SIGTERM: starting no new writes" in err
    lines = journal(work)
    # The signal lands while the first write is in flight (it finishes and is recorded), or,
    # on a loaded machine, in the instant between its apply_start line and its request (then
    # it is not sent): either way the journal and Hyperproof agree.
    first_outcome = (lines[1]["type"], lines[1]["outcome"])
    assert first_outcome in (("apply_complete", "applied"), ("apply_skipped", "not_attempted"))
    assert [(e["type"], e.get("outcome")) for e in lines[2:]] == [
        ("apply_skipped", "not_attempted"),
        ("apply_skipped", "not_attempted"),
        ("apply_skipped", "not_attempted"),
        ("summary", None),
    ]
    assert lines[0]["type"] == "apply_start"
    assert lines[-1]["interrupted"] is True and lines[-1]["exit_code"] == 130
    assert [json.loads(line) for line in rest.splitlines()] == lines[1:]
    written = [e for e in hpconfig_sandbox.requests() if e["method"] in ("PATCH", "POST")]
    landed = len([e for e in written if e["path"].startswith("/v1/")])
    assert landed == (1 if first_outcome[0] == "apply_complete" else 0)
