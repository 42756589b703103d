"""The pure parts of apply: the executor's bound and stop, signals, owners, a saved plan read
back, the inputs' digest, and the gate's order of refusals."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from dataclasses import replace

import pytest

from hpconfig.apply.execute import execute
from hpconfig.apply.gate import refuse_if_unsafe
from hpconfig.apply.outcome import Outcome, Status, summary_text
from hpconfig.apply.saved import inputs_digest, read_saved
from hpconfig.cli.apply_run import Recorder, stop_on_signals
from hpconfig.errors import InputProblem, UnsafePlanError
from hpconfig.owners import directory, with_owner_problems
from hpconfig.plan import Change, ChangeKind, PlanContext
from hpconfig.remote.live import live_control
from hpconfig.render.json import render_json
from hpconfig.safety import Safety, SafetyLimits
from tests.helpers import big_plan, desired_from


def _changes(count: int) -> list[Change]:
    return [Change(f"C-{i:03d}", ChangeKind.UPDATE, None, ()) for i in range(count)]


def test_at_most_parallelism_writes_are_in_flight_and_all_are_recorded() -> None:
    lock = threading.Lock()
    in_flight = peak = 0

    def write(change: Change) -> Outcome:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.005)  # a write's latency, so that they overlap
        with lock:
            in_flight -= 1
        return Outcome(change, Status.APPLIED)

    started: list[str] = []
    outcomes = execute(
        _changes(30),
        write,
        3,
        False,
        threading.Event(),
        lambda c: started.append(c.identifier),
        lambda o: None,
    )
    assert peak == 3
    assert started == [f"C-{i:03d}" for i in range(30)]
    assert [o.status for o in outcomes] == [Status.APPLIED] * 30


def test_a_stop_lets_in_flight_writes_finish_and_records_the_rest_as_not_attempted() -> None:
    stop = threading.Event()

    def write(change: Change) -> Outcome:
        stop.set()  # a signal arrives while the first write is in flight
        return Outcome(change, Status.APPLIED)

    recorded: list[Outcome] = []
    execute(_changes(5), write, 1, False, stop, lambda c: None, recorded.append)
    assert [o.status for o in recorded] == [Status.APPLIED] + [Status.NOT_ATTEMPTED] * 4
    assert "stopped" in recorded[-1].message


def test_a_bug_in_a_writer_is_recorded_as_a_failure_and_stops_the_run() -> None:
    def write(change: Change) -> Outcome:
        raise RuntimeError("boom")

    outcomes = execute(_changes(3), write, 1, False, threading.Event(), lambda c: None, print)
    assert [o.status for o in outcomes] == [Status.FAILED] + [Status.NOT_ATTEMPTED] * 2
    assert "boom" in outcomes[0].message


def test_sigterm_and_sigint_set_the_stop_and_the_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for number in (signal.SIGTERM, signal.SIGINT):
        stop = threading.Event()
        with stop_on_signals(stop):
            os.kill(os.getpid(), number)
            time.sleep(0.01)  # the handler runs in the main thread between bytecodes
        assert stop.is_set()
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_summary_names_every_outcome_and_what_to_run_next() -> None:
    change = _changes(1)[0]
    text = summary_text([Outcome(change, Status.RECONCILED), Outcome(change, Status.STALE)])
    assert text == (
        "Apply: 0 applied, 0 already applied, 1 reconciled, 0 failed, 1 stale, 0 not attempted. "
        "Next, run `hpconfig plan`: what remains is the complement."
    )


USERS = [
    {"id": "u1", "email": "Alice@Example.com", "type": "activeUser"},
    {"id": "u2", "email": "bot@example.com", "type": "syncServiceAccount"},
    {"id": "u3", "email": "gone@example.com", "type": "deactivatedUser"},
    {"id": "u4", "email": "twin@example.com", "type": "activeUser"},
    {"id": "u5", "email": "TWIN@example.com", "type": "activeUser"},
    {"id": 7, "email": "no-id@example.com"},
    "not a user",
]


@pytest.mark.parametrize(
    ("email", "user_id", "problem"),
    [
        ("alice@example.com", "u1", None),
        ("ALICE@example.com", "u1", None),
        ("bot@example.com", None, "service account"),
        ("gone@example.com", None, "deactivated"),
        ("twin@example.com", None, "the email of 2 users"),
        ("no-id@example.com", None, "no user"),
        ("nobody@example.com", None, "no user"),
    ],
)
def test_owner_emails_match_case_insensitively_and_who_cannot_own_is_named(
    email: str, user_id: str | None, problem: str | None
) -> None:
    users = directory(USERS)
    assert users.user_id(email) == user_id
    found = users.problem(email)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_recheck_of_owners_replaces_the_earlier_owner_problems() -> None:
    change = Change("C-1", ChangeKind.UPDATE, None, (), target={"owner": "gone@example.com"})
    plan = big_plan(0)
    plan = replace(plan, changes=(change,))
    first = with_owner_problems(plan, directory(USERS))
    assert len(first.changes[0].problems) == 1
    fixed = directory([{"id": "u3", "email": "gone@example.com", "type": "activeUser"}])
    assert with_owner_problems(first, fixed).changes[0].problems == ()


def _saved(plan_text: str, live: dict[str, dict[str, object]]) -> tuple[dict[str, object], str]:
    from hpconfig.diff import diff

    desired = desired_from(plan_text)
    plan = diff(desired, {k: live_control(v) for k, v in live.items()})
    digest = inputs_digest(desired, (), SafetyLimits())
    plan = replace(plan, context=PlanContext("0.1", "http://api", digest))
    return json.loads(render_json(plan)), render_json(plan)


def test_a_saved_plan_reads_back_to_the_same_changes_and_context() -> None:
    live = {
        "C-1": {"id": "c1", "controlIdentifier": "C-1", "name": "Old", "status": "active"},
    }
    document, _ = _saved(
        "controls:\n  - {identifier: C-1, name: New, freshness: {duration: 30d}}\n"
        "  - {identifier: C-2, name: Two, description: made}\n",
        live,
    )
    plan = read_saved("plan.json", document)
    assert [c.to_dict() for c in plan.changes] == document["changes"]
    assert plan.context is not None and plan.context.to_dict() == document["apply"]
    update = next(c for c in plan.changes if c.action == ChangeKind.UPDATE)
    assert update.wanted == {"freshness.duration": 2592000, "name": "New"}
    assert update.target == {"freshForDuration": "PT720H", "name": "New"}
    assert update.seen == {"freshness.duration": None, "name": "Old", "status": "active"}


def test_the_inputs_digest_follows_values_not_form() -> None:
    one = desired_from("controls:\n  - {identifier: C-1, name: A, freshness: {duration: 30d}}\n")
    same = desired_from(
        "controls:\n  - identifier: C-1\n    freshness: {duration: P30D}\n    name: A\n"
    )
    other = desired_from("controls:\n  - {identifier: C-1, name: B, freshness: {duration: 30d}}\n")
    limits = SafetyLimits()
    assert inputs_digest(one, (), limits) == inputs_digest(same, (), limits)
    assert inputs_digest(one, (), limits) != inputs_digest(other, (), limits)
    assert inputs_digest(one, (), limits) != inputs_digest(one, (), SafetyLimits(max_archives=1))
    assert inputs_digest(one, (), limits) != inputs_digest(one, (), limits, ["C-*"])


def test_the_gate_refuses_problems_first_then_archives_then_thresholds() -> None:
    archive = Change("A", ChangeKind.ARCHIVE, None, ())
    bad = Change("B", ChangeKind.UPDATE, None, (), problems=("owner x is no user",))
    plan = replace(big_plan(0), changes=(archive, bad), safety=Safety(0, 1, 30, 0))
    limits = SafetyLimits(max_change_percent=0, min_controls=0)
    with pytest.raises(InputProblem, match="B: owner x is no user"):
        refuse_if_unsafe(plan, limits, allow_archive=True, force=True)
    plan = replace(plan, changes=(archive,))
    with pytest.raises(UnsafePlanError, match="--allow-archive"):
        refuse_if_unsafe(plan, limits, allow_archive=False, force=True)
    with pytest.raises(UnsafePlanError, match="maxChangePercent"):
        refuse_if_unsafe(plan, limits, allow_archive=True, force=False)
    assert refuse_if_unsafe(plan, limits, allow_archive=True, force=True).archives == 1
    allowed = SafetyLimits(max_change_percent=100, allow_archive=("A*",))
    refuse_if_unsafe(plan, allowed, allow_archive=False, force=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_one_bar_and_failures_get_their_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    recorder = Recorder(None, False, "r", "0" * 64, threading.Event(), total=2)
    one, two = _changes(2)
    recorder.start(one)
    recorder.outcome(Outcome(one, Status.APPLIED))
    recorder.start(two)
    recorder.outcome(Outcome(two, Status.FAILED, message="HTTP 400: \x1b[31mred"))
    text = terminal.getvalue()
    assert "\r\x1b[2K[############............] 1/2 C-001" in text
    assert "hpconfig: [2/2] C-001: failed (update): HTTP 400: \\x1b[31mred\n" in text
    assert text.count("\n") == 1  # the bar rewrites one line; only the failure has its own


def test_confirmation_takes_only_yes_and_needs_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpconfig.cli import apply as apply_command
    from hpconfig.errors import UsageError

    with pytest.raises(UsageError, match="no terminal"):
        apply_command._confirm(auto_approve=False)
    apply_command._confirm(auto_approve=True)
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with pytest.raises(UsageError, match="cancelled"):
        apply_command._confirm(auto_approve=False)
    monkeypatch.setattr(sys, "stdin", _Terminal("yes\n"))
    apply_command._confirm(auto_approve=False)


def test_the_connection_pool_holds_apply_s_most_parallel_writes() -> None:
    from hpconfig.cli.apply import MAX_PARALLELISM
    from hpconfig.remote.client import POOL_SIZE

    assert POOL_SIZE >= MAX_PARALLELISM


def test_a_write_whose_start_could_not_be_recorded_is_not_sent() -> None:
    stop = threading.Event()
    sent: list[str] = []

    def write(change: Change) -> Outcome:
        sent.append(change.identifier)
        return Outcome(change, Status.APPLIED)

    def start(change: Change) -> None:
        if change.identifier == "C-001":
            stop.set()  # as the recorder does when the journal cannot take the line

    outcomes = execute(_changes(3), write, 1, False, stop, start, lambda o: None)
    assert sent == ["C-000"]
    assert [o.status for o in outcomes] == [Status.APPLIED] + [Status.NOT_ATTEMPTED] * 2


def test_the_event_schema_is_published_by_the_schema_command() -> None:
    from click.testing import CliRunner

    from hpconfig.cli import cli

    result = CliRunner().invoke(cli, ["schema", "apply-event"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "hpconfig apply event"
