"""Kill tests: a real `hpconfig apply` process killed with SIGKILL at random points of a run of
100 writes, then applied again, against a sandbox in its own process that keeps its `--state`.

At every kill point: no identifier exists twice, and every write the journal claims
(``apply_complete``) is in the organization and in the sandbox's own request log as a write that
landed. At the end: the organization equals the manifests (`plan --detailed-exitcode` is 0, even
against a sandbox killed and restarted from its state file: plan, apply and plan across separate
processes), each create landed exactly once, and one more apply sends no write. The kill points
come from a seeded generator, so a failure replays.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from hpconfig.sandbox import generate_org
from tests import helpers

UPDATES = 90
CREATES = 10
KILL_SEED = 12
KILL_POINTS = 3


def hpconfig(*args: str) -> list[str]:
    return [sys.executable, "-m", "hpconfig", *args]


class SandboxProcess:
    """`hpconfig sandbox --state` in its own process, which outlives every apply killed."""

    def __init__(self, seed: Path, state: Path) -> None:
        self.seed, self.state = seed, state
        self.process: subprocess.Popen[str] | None = None
        self.exports: dict[str, str] = {}

    def start(self) -> None:
        self.process = subprocess.Popen(
            hpconfig(
                "sandbox",
                "--port",
                "0",
                "--seed",
                str(self.seed),
                "--state",
                str(self.state),
                "--latency-ms",
                "5",  # so that a kill lands mid-run, with writes in flight
            ),  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.exports = helpers.read_exports(self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)

    def admin(self, path: str) -> Any:
        url = self.exports["HYPERPROOF_API_URL"] + "/_sandbox" + path
        return requests.get(url, timeout=30).json()

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.exports,
            "HYPERPROOF_CLIENT_SECRET_FILE": "",
            "HPCONFIG_RETRY_BACKOFF": "0",
            "NO_COLOR": "1",
        }


@pytest.fixture
def org_and_manifests(tmp_path: Path) -> tuple[dict[str, Any], Path, Path]:
    org = generate_org(controls=UPDATES + 10, users=5)
    seed = tmp_path / "org.json"
    seed.write_text(json.dumps(org))
    lines = ["controls:"]
    for control in org["controls"][:UPDATES]:
        lines += [
            f"  - identifier: {control['controlIdentifier']}",
            f"    name: {json.dumps(control['name'] + ' (reviewed)')}",
        ]
    for index in range(CREATES):
        lines += [
            f"  - identifier: NEW-{index:02d}",
            f"    name: New control {index}",
            "    description: Created by apply",
        ]
    manifests = tmp_path / "controls"
    helpers.write_tree(manifests, {"m.yaml": "\n".join(lines) + "\n"})
    return org, seed, manifests


def lines_of(path: Path) -> list[dict[str, Any]]:
    """The journal's whole lines (a line cut by the kill is not a claim)."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text.split("\n")[:-1]]


def check_claims(
    sandbox: SandboxProcess, journal: list[dict[str, Any]], targets: dict[str, str]
) -> None:
    """No identifier twice; each write the journal claims is in the state and the log."""
    state = sandbox.admin("/state")["controls"]
    identifiers = Counter(c["controlIdentifier"] for c in state)
    assert max(identifiers.values()) == 1, [i for i, n in identifiers.items() if n > 1]
    by_id = {c["id"]: c for c in state}
    log = sandbox.admin("/requests")
    landed_patches = {
        e["path"].rsplit("/", 1)[1]
        for e in log
        if e["method"] == "PATCH" and 200 in (e["status"], e["handled_status"])
    }
    for event in journal:
        if event["type"] != "apply_complete":
            continue
        control = by_id.get(event["id"])
        assert control is not None, f"the journal claims {event['identifier']}, not in Hyperproof"
        assert control["controlIdentifier"] == event["identifier"]
        assert control["name"] == targets[event["identifier"]], event
        if event["action"] == "update" and event["outcome"] == "applied":
            assert event["id"] in landed_patches, f"no PATCH of {event['identifier']} landed"


def started(journal: list[dict[str, Any]]) -> int:
    return sum(1 for e in journal if e["type"] == "apply_start")


def landed_creates(sandbox: SandboxProcess) -> int:
    return sum(
        1
        for e in sandbox.admin("/requests")
        if e["method"] == "POST"
        and e["path"] == "/v1/controls"
        and 201 in (e["status"], e["handled_status"])
    )


def test_apply_killed_at_random_points_ends_exact_and_never_lies(
    tmp_path: Path, org_and_manifests: tuple[dict[str, Any], Path, Path]
) -> None:
    org, seed, manifests = org_and_manifests
    targets = {c["controlIdentifier"]: c["name"] + " (reviewed)" for c in org["controls"][:UPDATES]}
    targets.update({f"NEW-{i:02d}": f"New control {i}" for i in range(CREATES)})
    sandbox = SandboxProcess(seed, tmp_path / "state.json")
    sandbox.start()
    try:
        plan = tmp_path / "plan.json"
        made = subprocess.run(
            hpconfig("plan", str(manifests), "--out", str(plan)),
            env=sandbox.env(), capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert len(json.loads(plan.read_text())["changes"]) == UPDATES + CREATES
        digest = hashlib.sha256(plan.read_bytes()).hexdigest()
        apply_args = hpconfig(
            "apply", str(plan), "--auto-approve", "--plan-sha256", digest, "--parallelism", "4",
            "--force",  # 90% of the controls change: over the default safety threshold
        )  # fmt: skip

        rng = random.Random(KILL_SEED)
        killed_mid_run = 0
        remaining = UPDATES + CREATES  # at most: writes in flight at a kill may have landed
        for attempt in range(KILL_POINTS):
            journal = tmp_path / f"journal-{attempt}.jsonl"
            # killed once this many writes have started, in the first half of what remains: a
            # loaded machine that pauses this process for a while must still find the run going
            kill_after = rng.randint(1, max(1, remaining // 2))
            process = subprocess.Popen(
                [*apply_args, "--journal", str(journal)],
                env=sandbox.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
            )  # fmt: skip
            while process.poll() is None and started(lines_of(journal)) < kill_after:
                time.sleep(0.002)  # watching the journal grow; the run goes on meanwhile
            process.send_signal(signal.SIGKILL)
            _, err = process.communicate(timeout=60)
            written = lines_of(journal)
            assert started(written) >= min(kill_after, 1), err  # it got to its writes
            if process.returncode == -signal.SIGKILL and written[-1]["type"] != "summary":
                killed_mid_run += 1
            else:
                assert process.returncode == 0, err  # it finished before the kill point
            check_claims(sandbox, written, targets)
            remaining -= sum(1 for e in written if e["type"] == "apply_complete")
        assert killed_mid_run >= 1

        journal = tmp_path / "journal-final.jsonl"
        final = subprocess.run(
            [*apply_args, "--journal", str(journal)],
            env=sandbox.env(), capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert final.returncode == 0, final.stderr
        check_claims(sandbox, lines_of(journal), targets)
        summary = lines_of(journal)[-1]
        assert summary["type"] == "summary" and summary["counts"]["failed"] == 0
        # the runs killed before did part of the work: this one found it already applied
        assert summary["counts"]["already_applied"] > 0
        assert landed_creates(sandbox) == CREATES  # each create landed exactly once

        # One more apply sends no write.
        before = len(sandbox.admin("/requests"))
        again = subprocess.run(
            [*apply_args, "--journal", str(tmp_path / "journal-again.jsonl")],
            env=sandbox.env(), capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        after = sandbox.admin("/requests")[before:]
        assert not [
            e for e in after if e["method"] in ("PATCH", "POST") and e["path"] != "/oauth/token"
        ]
    finally:
        sandbox.kill()

    # The sandbox killed too: restarted from its state, it holds every write (plan, apply and
    # plan across separate processes), and the manifests plan clean against it.
    sandbox.start()
    try:
        planned = subprocess.run(
            hpconfig("plan", str(manifests), "--detailed-exitcode"),
            env=sandbox.env(), capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert planned.returncode == 0, planned.stdout + planned.stderr
        state = sandbox.admin("/state")["controls"]
        assert Counter(c["controlIdentifier"] for c in state).most_common(1)[0][1] == 1
    finally:
        sandbox.kill()
