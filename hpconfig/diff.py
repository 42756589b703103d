"""Desired × live × ignore rules × safety limits → a ``Plan``. Pure: no I/O.

Only fields a manifest sets are compared, on values both sides normalised the same way (see
``model.NORMALISE``), so a difference of form is no drift. A control equal on every managed
field costs one dict comparison; the fields of a control that differs are named with ``!=``, one
by one (every managed field is flat).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.control import Control, api_values, fingerprint
from hpconfig.durations import format_duration
from hpconfig.plan import Change, ChangeKind, FieldChange, NotCompared, Plan, Safety, Unmanaged
from hpconfig.project_config import IgnoreRule, SafetyLimits

DEFAULT_LIMITS = SafetyLimits()
# What Hyperproof requires of a new control [3p], by manifest name.
CREATE_REQUIRED = tuple(
    name for name in ("name", "description") if name in hp.CREATE_REQUIRED_FIELDS
)


def change_kind(wanted: Mapping[str, Any], actual: Mapping[str, Any]) -> ChangeKind:
    """Archiving is destroy-class and unarchiving a restore: each its own kind, so every
    report marks it and apply can ask for permission and count it."""
    if wanted.get("status") == hp.STATUS_ARCHIVED:
        return ChangeKind.ARCHIVE
    if wanted.get("status") == hp.STATUS_ACTIVE and actual.get("status") == hp.STATUS_ARCHIVED:
        return ChangeKind.RESTORE
    return ChangeKind.UPDATE


def create_problems(values: Mapping[str, Any]) -> tuple[str, ...]:
    missing = [name for name in CREATE_REQUIRED if not values.get(name)]
    if not missing:
        return ()
    return (
        f"a control that Hyperproof lacks is created, and a new control needs "
        f"{' and '.join(CREATE_REQUIRED)}; this one has no {' or '.join(missing)}",
    )


def shown(name: str, value: Any, written: Any) -> Any:
    """A value as a report shows it: durations in one unit, the rest as written."""
    if name == "freshness.duration" and isinstance(value, int):
        return format_duration(value)
    return written


def _differing_fields(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    # Every managed field is flat (text, an enum, seconds): `!=` names them. deepdiff paid its
    # way only for nested values, and cost about 6x at 30,000 drifted controls.
    return sorted(name for name, value in expected.items() if actual.get(name) != value)


def _ignored(rules: Iterable[IgnoreRule], identifier: str, name: str) -> bool:
    return any(rule.ignores(identifier, name) for rule in rules)


@dataclass
class Compared:
    """What comparing some declared controls with some live ones found, before the plan is
    assembled: ``diff`` compares them all at once; a large plan compares shares of the
    organization in worker processes and assembles their parts (``remote.fetch``)."""

    changes: list[Change] = dataclass_field(default_factory=list)
    not_compared: list[NotCompared] = dataclass_field(default_factory=list)
    unmanaged: list[Unmanaged] = dataclass_field(default_factory=list)
    in_sync: int = 0
    ignored: int = 0
    declared_live: int = 0  # declared controls that Hyperproof has


def diff(
    desired: Mapping[str, Control],
    live: Mapping[str, Control],
    rules: tuple[IgnoreRule, ...] = (),
    limits: SafetyLimits = DEFAULT_LIMITS,
    not_comparable: Mapping[str, NotCompared] | None = None,
    live_problems: tuple[Any, ...] = (),
) -> Plan:
    """The plan of ``desired`` against ``live``, leaving out what ``rules`` ignore and judging
    its size by ``limits``. ``not_comparable``: live identifiers hpconfig cannot compare
    (malformed, duplicated); a declared one becomes a ``NotCompared`` entry, never a create or
    an update."""
    return assemble([compare(desired, live, rules, not_comparable)], rules, limits, live_problems)


def compare(
    desired: Mapping[str, Control],
    live: Mapping[str, Control],
    rules: tuple[IgnoreRule, ...] = (),
    not_comparable: Mapping[str, NotCompared] | None = None,
) -> Compared:
    """``diff``'s comparison of ``desired`` with ``live``, unassembled."""
    found = Compared()
    changes, not_compared = found.changes, found.not_compared
    in_sync = 0
    ignored_count = 0
    for identifier, want in desired.items():
        if not_comparable and identifier in not_comparable:
            not_compared.append(replace(not_comparable[identifier], source=want.source))
            continue
        have = live.get(identifier)
        if have is None:
            fields = tuple(
                FieldChange(
                    name, shown(name, value, want.written[name]), None, want.location_of(name)
                )
                for name, value in sorted(want.values.items())
            )
            target = api_values(want.values)
            changes.append(
                Change(
                    identifier,
                    ChangeKind.CREATE,
                    want.source,
                    fields,
                    target=target,
                    wanted=dict(want.values),
                    problems=create_problems(want.values),
                )
            )
            continue
        ignored: tuple[str, ...] = ()
        if rules:
            compared = {n: v for n, v in want.values.items() if not _ignored(rules, identifier, n)}
            ignored = tuple(
                n
                for n, v in sorted(want.values.items())
                if n not in compared and have.values.get(n) != v
            )
            ignored_count += len(ignored)
        else:  # no rules (the common case): every managed field is compared
            compared = want.values
        have_values = have.values
        actual = {n: have_values.get(n) for n in compared}
        if compared == actual:
            in_sync += 1
            continue
        differing = _differing_fields(compared, actual)
        fields = tuple(
            FieldChange(
                name,
                shown(name, compared[name], want.written[name]),
                shown(name, actual[name], have.written.get(name)),
                want.location_of(name),
            )
            for name in differing
        )
        wanted = {name: compared[name] for name in differing}
        # The status is always seen: a plan made against an active control must not be applied
        # to one archived since (or the reverse), whether or not the manifest manages it.
        seen = {name: have.values.get(name) for name in sorted({*compared, "status"})}
        changes.append(
            Change(
                identifier,
                change_kind(wanted, actual),
                want.source,
                fields,
                have.live_id,
                have.updated_by,
                have.updated_on,
                ignored,
                target=api_values(wanted),
                fingerprint=fingerprint(have, seen),
                wanted=wanted,
                seen=seen,
            )
        )
    found.unmanaged = [
        Unmanaged(identifier, control.live_id)
        for identifier, control in sorted(live.items())
        if identifier not in desired and control.values.get("status") != "archived"
    ]
    found.declared_live = sum(1 for identifier in desired if identifier in live)
    found.in_sync, found.ignored = in_sync, ignored_count
    return found


def assemble(
    parts: Iterable[Compared],
    rules: tuple[IgnoreRule, ...] = (),
    limits: SafetyLimits = DEFAULT_LIMITS,
    live_problems: tuple[Any, ...] = (),
) -> Plan:
    """The plan of the comparisons in ``parts`` (of disjoint controls), and its safety."""
    changes: list[Change] = []
    not_compared: list[NotCompared] = []
    unmanaged: list[Unmanaged] = []
    in_sync = ignored = declared_live = 0
    for part in parts:
        changes += part.changes
        not_compared += part.not_compared
        unmanaged += part.unmanaged
        in_sync += part.in_sync
        ignored += part.ignored
        declared_live += part.declared_live
    existing = declared_live + len(unmanaged) + len(not_compared)
    safety = Safety(
        updates=sum(1 for c in changes if c.action.existing),
        existing=existing,
        max_percent=limits.max_change_percent,
        min_controls=limits.min_controls,
        creates=sum(1 for c in changes if c.action == ChangeKind.CREATE),
        archives=sum(1 for c in changes if c.action == ChangeKind.ARCHIVE),
        max_creates=limits.max_creates,
        max_archives=limits.max_archives,
    )
    return Plan(
        changes=tuple(changes),
        unmanaged=tuple(unmanaged),
        in_sync=in_sync,
        ignore_rules=rules,
        safety=safety,
        ignored_fields=ignored,
        not_compared=tuple(not_compared),
        live_problems=live_problems,
    )
