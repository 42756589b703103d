"""The stale check: each planned change against one fresh read of the organization.

Before the first write apply reads the organization once more and sorts each change:

- the live values of its managed fields are those the plan saw (the fingerprint matches) →
  it is written;
- Hyperproof already has the target values → nothing to write (``already_applied``; Pulumi's
  safe subset: someone made the same change, or an earlier run did);
- anything else → ``stale``, with each field that moved (what the plan saw, what Hyperproof has
  now) and who changed the control last. A control gone, one whose identifier another control
  holds now, or one that appeared since a create was planned is stale too.

Pure: the caller fetches the organization (``remote.live.read_live``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpconfig.apply.outcome import Outcome, StaleField, Status
from hpconfig.control import Control, fingerprint
from hpconfig.durations import format_duration
from hpconfig.plan import Change

if TYPE_CHECKING:  # the type only: this module stays pure, loading nothing of remote/
    from hpconfig.remote.live import LiveSet


def shown(name: str, value: Any) -> Any:
    """A normalised value as a stale report shows it (durations in one unit)."""
    if name == "freshness.duration" and isinstance(value, int):
        return format_duration(value)
    return value


def at_target(live: Control, change: Change) -> bool:
    return all(live.values.get(name) == value for name, value in change.wanted.items())


def _stale(change: Change, message: str, live: Control | None = None, names: Any = ()) -> Outcome:
    fields = tuple(
        StaleField(name, shown(name, change.seen.get(name)), shown(name, live.values.get(name)))
        for name in names
        if live is not None
    )
    return Outcome(
        change,
        Status.STALE,
        live.live_id if live is not None else change.live_id,
        message,
        fields,
        live.updated_by if live is not None else None,
        live.updated_on if live is not None else None,
    )


def verdict(change: Change, fresh: LiveSet) -> Outcome | None:
    """None: write it; else the outcome without a write (already applied, or stale)."""
    if change.identifier in fresh.not_compared:
        detail = fresh.not_compared[change.identifier].detail
        return _stale(change, f"Hyperproof's copy cannot be compared now: {detail}")
    live = fresh.controls.get(change.identifier)
    if not change.action.existing:
        if live is None:
            return None
        if at_target(live, change):
            return Outcome(change, Status.ALREADY_APPLIED, live.live_id, "created since the plan")
        return _stale(
            change,
            "a control with this identifier was created in Hyperproof since the plan",
            live,
            sorted(n for n in change.wanted if live.values.get(n) != change.wanted[n]),
        )
    if live is None:
        return _stale(change, "the control is no longer in Hyperproof (or its identifier changed)")
    if live.live_id != change.live_id:
        return _stale(change, f"another control (id {live.live_id}) holds the identifier now")
    if fingerprint(live, change.seen) == change.fingerprint:
        return None
    if at_target(live, change):
        return Outcome(change, Status.ALREADY_APPLIED, live.live_id)
    moved = sorted(n for n in change.seen if live.values.get(n) != change.seen[n])
    return _stale(change, "changed in Hyperproof since the plan", live, moved)
