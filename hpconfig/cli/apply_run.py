"""What an apply run says as it goes: the journal, the ``--json`` events, progress, signals.

Owns ``Recorder``: every event goes to the journal first (flushed and fsynced, redacted), then
to stdout as one JSON line with ``--json``, and as progress on stderr (a bar on a terminal, a
line per control otherwise). A journal that cannot be written stops the run from starting new
writes (the record would lie otherwise). Also ``stop_on_signals`` (SIGINT and SIGTERM stop new
writes; those in flight finish and are recorded) and the wording of a stale plan.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from hpconfig.apply.journal import Journal
from hpconfig.apply.outcome import Outcome, Status, stamped, start_event, summary_event
from hpconfig.cli.app import plural
from hpconfig.cli.output import emit, message, progress, safe_text
from hpconfig.plan import Change
from hpconfig.render.text import value_text

BAR_WIDTH = 24


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    def __init__(
        self,
        journal: Journal | None,
        json_events: bool,
        run: str,
        plan_sha256: str,
        stop: threading.Event,
        total: int = 0,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.journal = journal
        self.json_events = json_events
        self.run = run
        self.plan_sha256 = plan_sha256
        self.stop = stop
        self.total = total
        self.clock = clock
        self.outcomes: list[Outcome] = []
        self.journal_error: str | None = None
        self.bar = bool(getattr(sys.stderr, "isatty", lambda: False)())

    def event(self, event: dict[str, Any]) -> None:
        line = json.dumps(
            stamped(event, self.clock(), self.run, self.plan_sha256), ensure_ascii=False
        )
        if self.journal is not None:
            try:
                self.journal.write(safe_text(line, kind="json"))
            except OSError as error:
                self.journal_error = f"{self.journal.path}: {error.strerror}"
                self.journal = None
                self.stop.set()  # a write the journal cannot record is not started
        if self.json_events:
            emit(line, kind="json", nl=True)

    def start(self, change: Change) -> None:
        self.event(start_event(change))
        if self.bar:
            self._bar(change.identifier)

    def outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.event(outcome.to_event())
        line = _line(outcome, len(self.outcomes), self.total)
        if self.bar and outcome.status is not Status.FAILED:
            self._bar(outcome.change.identifier)
        else:
            if self.bar:
                progress("")
            message(line)

    def _bar(self, current: str) -> None:
        done = len(self.outcomes)
        filled = BAR_WIDTH * done // max(self.total, 1)
        failed = sum(1 for o in self.outcomes if o.status is Status.FAILED)
        progress(
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total} {current}"
            + (f" ({failed} failed)" if failed else "")
        )

    def finish(self, exit_code: int, interrupted: bool) -> None:
        if self.bar:
            progress("", done=False)
        self.event(summary_event(self.outcomes, exit_code, interrupted))
        if self.journal is not None:
            self.journal.close()


def _line(outcome: Outcome, done: int, total: int) -> str:
    change = outcome.change
    fields = ", ".join(sorted(change.wanted))
    text = f"hpconfig: [{done}/{total}] {change.identifier}: {outcome.status.label}"
    text += f" ({change.action.value}: {fields})" if fields else f" ({change.action.value})"
    if outcome.message and outcome.status is not Status.STALE:
        text += f": {outcome.message}"
    return text


def stale_report(stale: list[Outcome]) -> str:
    """Each stale control: why, who changed it and when, and each field's two values."""
    lines = []
    for outcome in stale:
        who = ""
        if outcome.updated_by or outcome.updated_on:
            who = f" (last changed by {outcome.updated_by or 'someone'} on {outcome.updated_on})"
        lines.append(f"  {outcome.change.identifier}: {outcome.message}{who}")
        for item in outcome.stale:
            lines.append(
                f"      {item.field}: the plan saw {value_text(item.planned)}, Hyperproof has "
                f"{value_text(item.now)}"
            )
    return "\n".join(lines)


def refusal_for_stale(stale: list[Outcome]) -> str:
    return (
        f"the plan is stale: {plural(len(stale), 'control')} changed in Hyperproof since it was "
        "made; nothing was written. Plan again and review the new plan (or pass --skip-stale "
        f"to apply the rest):\n{stale_report(stale)}"
    )


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop``: no new writes; those in flight finish and are recorded."""

    def handler(signum: int, frame: Any) -> None:
        if not stop.is_set():
            message(
                f"hpconfig: {signal.Signals(signum).name}: starting no new writes; waiting for "
                "those in flight"
            )
        stop.set()

    previous: dict[int, Any] = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: no handlers to set
            previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old)
