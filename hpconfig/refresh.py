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

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpconfig.control import FIELD_TABLE, FIELDS_BY_NAME, Control, normalise_text
from hpconfig.plan import ChangeKind, Plan

_ORDER = {managed.name: index for index, managed in enumerate(FIELD_TABLE)}


@dataclass(frozen=True)
class FieldUpdate:
    """One field of one control to set in its manifest: ``value`` in manifest form (seconds for
    a duration), and the values as the plan shows them."""

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

    @property
    def count(self) -> int:
        return sum(len(c.fields) for updates in self.updates.values() for c in updates)


def manifest_value(name: str, live: Control) -> tuple[Any, str | None]:
    """The live value of field ``name`` as a manifest writes it, or (None, why it cannot be)."""
    managed = FIELDS_BY_NAME[name]
    value = live.values.get(name)
    if name == "owner":
        if value is None:
            return (
                None,
                "the owner in Hyperproof has no email (a service account?); no manifest can "
                "name it",
            )
        written = live.written.get(name)
        return (written.strip() if isinstance(written, str) else value), None
    if name == "freshness.duration":
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, None
        if value is None:
            return None, "Hyperproof has no duration; remove it from the manifest by hand"
        return None, "Hyperproof's duration is not one a manifest can hold"
    if managed.enum:
        if value in managed.enum:
            return value, None
        shown = "nothing" if value is None else repr(value)
        return (
            None,
            f"Hyperproof has {shown}, which a manifest cannot set "
            f"(one of {', '.join(managed.enum)})",
        )
    if isinstance(value, str):
        # Normalised: what the plan compares, without stray whitespace. Multi-line text gets
        # its last line break back, so that it is written as the usual `|` block.
        if managed.normalise is normalise_text and "\n" in value:
            return value + "\n", None
        return value, None
    return None, "Hyperproof's value is not text"


def refresh_work(
    plan: Plan,
    live: Mapping[str, Control],
    fields: Collection[str] | None = None,
) -> Work:
    """The fields to write and what is left alone, from ``plan`` and the ``live`` controls it
    was made from; with ``fields``, only those fields are written."""
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
            if (
                item.field == "freshness.duration"
                and policy_to_none
                and have.values.get(item.field) is None
            ):
                # `policy: none` on the control drops an inherited duration; an own one goes
                # by hand (the rewrite refuses to delete).
                updates.append(
                    FieldUpdate(change.identifier, item.field, None, item.expected, None)
                )
                continue
            value, why = manifest_value(item.field, have)
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
