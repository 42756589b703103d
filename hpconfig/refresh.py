"""What ``refresh`` takes from Hyperproof: a plan and the live controls → the values to write.

Owns which drifted fields refresh may write and in which form: the live value in the form a
manifest writes it (durations as seconds for the formatter, an owner's email as Hyperproof
spells it, one-line and free text normalised, so that it plans equal), and why any other field
or control is left alone: a control that is not in Hyperproof, one that cannot be compared, a
field an ignore rule drops, a field outside ``--fields``, a live value no manifest can hold (an
owner without an email, a status or enum value the manifest schema does not take, a duration
that does not parse). Pure: no files, no YAML, no HTTP; ``manifest.rewrite`` edits the text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpconfig.control import FIELD_TABLE, Control
from hpconfig.plan import ChangeKind, Plan

_ORDER = {managed.name: index for index, managed in enumerate(FIELD_TABLE)}


@dataclass(frozen=True)
class FieldUpdate:
    """One field of one control to set in its manifest: ``value`` as a manifest states it (a
    duration as its text, ``30d``; None: nothing to write, see ``policy: none``), and the values
    as the plan shows them."""

    identifier: str
    field: str
    value: Any
    was: Any
    now: Any


@dataclass(frozen=True)
class LeftAlone:
    """A control (``field`` None) or a field refresh does not write, and why."""

    identifier: str
    field: str | None
    reason: str
    file: str | None = None


@dataclass(frozen=True)
class ControlUpdate:
    """The fields of one control to set, where it is declared, who changed it in Hyperproof."""

    identifier: str
    file: str
    line: int
    fields: tuple[FieldUpdate, ...]
    updated_by: str | None
    updated_on: str | None


@dataclass
class Work:
    """Everything a refresh run found: updates by file, and what it leaves alone."""

    updates: dict[str, list[ControlUpdate]] = field(default_factory=dict)
    left_alone: list[LeftAlone] = field(default_factory=list)


# The live value of a field as a manifest states it (``manifest.writer.stated_value``, import's
# own: one reading of the field table in the import direction): None when Hyperproof has
# nothing to state, ValueError (with the reason) when no manifest can state it exactly. Passed
# in, so that this module stays pure.
StateValue = Callable[[Control, str], Any]


def _stated(state: StateValue, live: Control, name: str) -> tuple[Any, str | None]:
    """The value to write, or (None, why it cannot be written)."""
    try:
        value = state(live, name)
    except ValueError as why:
        return None, str(why)
    if value is None:
        return None, "Hyperproof has no value for it that a manifest can state; remove it by hand"
    return value, None


def refresh_work(
    plan: Plan,
    live: Mapping[str, Control],
    state: StateValue,
    fields: Collection[str] | None = None,
) -> Work:
    """The fields to write and what is left alone, from ``plan`` and the ``live`` controls it
    was made from, each value as ``state`` states it; with ``fields``, only those fields."""
    work = Work()
    for change in plan.changes:
        file = change.source.file if change.source else None
        if change.action == ChangeKind.CREATE:
            work.left_alone.append(
                LeftAlone(change.identifier, None, "not in Hyperproof; left as it is", file)
            )
            continue
        for name in change.ignored:
            work.left_alone.append(
                LeftAlone(change.identifier, name, "an ignore rule drops it; not touched", file)
            )
        have = live.get(change.identifier)
        if have is None or change.source is None:  # pragma: no cover - an update has both
            continue
        updates = []
        policy_to_none = any(
            item.field == "freshness.policy" and have.values.get(item.field) == "none"
            for item in change.fields
        )
        # In the field table's order: fields added to a control follow it (owner before freshness).
        for item in sorted(change.fields, key=lambda f: _ORDER.get(f.field, len(_ORDER))):
            if fields is not None and item.field not in fields:
                work.left_alone.append(
                    LeftAlone(change.identifier, item.field, "not among --fields", file)
                )
                continue
            if item.field == "freshness.duration" and policy_to_none:
                # `policy: none` on the control drops an inherited duration; a duration the
                # control states itself goes by hand (the edits refuse to delete it).
                updates.append(
                    FieldUpdate(change.identifier, item.field, None, item.expected, None)
                )
                continue
            value, why = _stated(state, have, item.field)
            if why is not None:
                work.left_alone.append(LeftAlone(change.identifier, item.field, why, file))
                continue
            updates.append(
                FieldUpdate(change.identifier, item.field, value, item.expected, item.actual)
            )
        if updates:
            work.updates.setdefault(change.source.file, []).append(
                ControlUpdate(
                    change.identifier,
                    change.source.file,
                    change.source.line,
                    tuple(updates),
                    change.updated_by,
                    change.updated_on,
                )
            )
    for entry in plan.not_compared:
        file = entry.source.file if entry.source else None
        work.left_alone.append(
            LeftAlone(entry.identifier, None, f"not compared ({entry.detail}); left as it is", file)
        )
    return work
