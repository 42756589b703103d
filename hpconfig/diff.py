"""Desired × live → a ``Plan``. Pure: no I/O.

Only fields a manifest sets are compared, on values both sides normalised the same way (see
``model.NORMALISE``), so a difference of form is no drift. A control equal on every managed
field costs one dict comparison; deepdiff names the fields only of controls that differ, since
a DeepDiff over whole lists with ``ignore_order`` is quadratic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from hpconfig.config import Config, IgnoreRule
from hpconfig.durations import format_duration
from hpconfig.model import Control
from hpconfig.plan import Change, FieldChange, NotCompared, Plan, Safety, Unmanaged


def shown(name: str, value: Any, written: Any) -> Any:
    """A value as a report shows it: durations in one unit, the rest as written."""
    if name == "freshness.duration" and isinstance(value, int):
        return format_duration(value)
    return written


def _differing_fields(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    from deepdiff import DeepDiff  # imported on the first drift: a clean plan never needs it

    difference = DeepDiff(actual, expected, view="tree")
    names: set[str] = set()
    for items in difference.values():
        for item in items:
            path = item.path(output_format="list")
            if path:
                names.add(str(path[0]))
    return sorted(names)


def _ignored(rules: Iterable[IgnoreRule], identifier: str, name: str) -> bool:
    return any(rule.ignores(identifier, name) for rule in rules)


def diff(
    desired: dict[str, Control],
    live: dict[str, Control],
    config: Config | None = None,
    not_comparable: Mapping[str, NotCompared] | None = None,
    live_problems: tuple[Any, ...] = (),
) -> Plan:
    """``not_comparable``: live identifiers hpconfig cannot compare (malformed, duplicated);
    a declared one becomes a ``NotCompared`` entry, never a create or an update."""
    config = config or Config()
    rules = config.ignore
    changes: list[Change] = []
    not_compared: list[NotCompared] = []
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
            changes.append(Change(identifier, "create", want.source, fields))
            continue
        compared = {n: v for n, v in want.values.items() if not _ignored(rules, identifier, n)}
        actual = {n: have.values.get(n) for n in compared}
        ignored = tuple(
            n
            for n, v in sorted(want.values.items())
            if n not in compared and have.values.get(n) != v
        )
        ignored_count += len(ignored)
        if compared == actual:
            in_sync += 1
            continue
        fields = tuple(
            FieldChange(
                name,
                shown(name, compared[name], want.written[name]),
                shown(name, actual[name], have.written.get(name)),
                want.location_of(name),
            )
            for name in _differing_fields(compared, actual)
        )
        changes.append(
            Change(
                identifier,
                "update",
                want.source,
                fields,
                have.live_id,
                have.updated_by,
                have.updated_on,
                ignored,
            )
        )
    unmanaged = tuple(
        Unmanaged(identifier, control.live_id)
        for identifier, control in sorted(live.items())
        if identifier not in desired and control.values.get("status") != "archived"
    )
    existing = sum(1 for identifier in desired if identifier in live) + len(unmanaged)
    existing += len(not_compared)
    safety = Safety(
        updates=sum(1 for c in changes if c.action == "update"),
        existing=existing,
        max_percent=config.max_change_percent,
        min_controls=config.min_controls,
    )
    return Plan(
        changes=tuple(sorted(changes, key=Change.sort_key)),
        unmanaged=unmanaged,
        in_sync=in_sync,
        ignore_rules=rules,
        safety=safety,
        ignored_fields=ignored_count,
        not_compared=tuple(sorted(not_compared, key=lambda item: item.identifier)),
        live_problems=live_problems,
    )
