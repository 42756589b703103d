"""What became of each change, as values, events and one summary.

Owns ``Status`` (applied, already applied, reconciled, failed, stale, not attempted),
``Outcome`` (one change's), the events of ``--json`` and of the journal (one JSON object per
line, like ``terraform apply -json``; ``schemas/apply-event.schema.json``):

- ``apply_start``: a write is about to be sent (the journal has it before the write);
- ``apply_complete``: it landed (``applied``), or an ambiguous failure turned out to have
  landed or was adopted (``reconciled``);
- ``apply_errored``: it failed (``failed``), with the error;
- ``apply_skipped``: no write was sent: ``already_applied``, ``stale``, ``not_attempted``;
- ``summary``: the counts, the exit code and whether the run was interrupted.

Every event carries ``type``, ``time`` (UTC), ``run`` (the run's id) and ``plan_sha256``. A
journal never has ``apply_complete`` for a write that did not land. Pure: the caller gives
the time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from hpconfig.plan import Change

EVENT_VERSION = "1"
REMAINS = "run `hpconfig plan`: what remains is the complement"


class Status(str, enum.Enum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    RECONCILED = "reconciled"
    FAILED = "failed"
    STALE = "stale"
    NOT_ATTEMPTED = "not_attempted"

    @property
    def event(self) -> str:
        return _EVENT[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_EVENT = {
    Status.APPLIED: "apply_complete",
    Status.RECONCILED: "apply_complete",
    Status.FAILED: "apply_errored",
    Status.ALREADY_APPLIED: "apply_skipped",
    Status.STALE: "apply_skipped",
    Status.NOT_ATTEMPTED: "apply_skipped",
}


@dataclass(frozen=True)
class StaleField:
    """A managed field that moved since the plan: what the plan saw, what Hyperproof has."""

    field: str
    planned: Any
    now: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "planned": self.planned, "now": self.now}


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    live_id: str | None = None  # the control written (a create's new id)
    message: str = ""  # the error, or why nothing was sent
    stale: tuple[StaleField, ...] = ()
    updated_by: str | None = None  # who changed a stale control last, and when
    updated_on: str | None = None

    def to_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": self.status.event,
            "identifier": self.change.identifier,
            "action": self.change.action.value,
            "outcome": self.status.value,
            "id": self.live_id or self.change.live_id,
            "fields": sorted(self.change.wanted),
        }
        if self.message:
            event["message"] = self.message
        if self.status is Status.STALE:
            event["stale"] = [item.to_dict() for item in self.stale]
            event["updatedBy"] = self.updated_by
            event["updatedOn"] = self.updated_on
        return event


def start_event(change: Change) -> dict[str, Any]:
    return {
        "type": "apply_start",
        "identifier": change.identifier,
        "action": change.action.value,
        "id": change.live_id,
        "fields": sorted(change.wanted),
    }


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    found = {status.value: 0 for status in Status}
    for outcome in outcomes:
        found[outcome.status.value] += 1
    return found


def summary_event(outcomes: list[Outcome], exit_code: int, interrupted: bool) -> dict[str, Any]:
    return {
        "type": "summary",
        "counts": counts(outcomes),
        "exit_code": exit_code,
        "interrupted": interrupted,
        "message": summary_text(outcomes),
    }


def stamped(event: dict[str, Any], time: str, run: str, plan_sha256: str) -> dict[str, Any]:
    return {
        "type": event["type"],
        "version": EVENT_VERSION,
        "time": time,
        "run": run,
        "plan_sha256": plan_sha256,
        **{k: v for k, v in event.items() if k != "type"},
    }


def summary_text(outcomes: list[Outcome]) -> str:
    """``Apply: 3 applied, 1 already applied, ...``; then what to run next."""
    found = counts(outcomes)
    parts = ", ".join(f"{found[status.value]} {status.label}" for status in Status)
    return f"Apply: {parts}. Next, {REMAINS}."
