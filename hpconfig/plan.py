"""The plan: what differs between git and Hyperproof, as plain, ordered, JSON-able data.

Owns ``ChangeKind`` (create, update, restore, archive: the kinds of change, in their one order),
``FieldChange``, ``Change``, ``PlanContext`` (what a saved plan must match to be applied) and
``Plan``, the plan's order (a ``Plan`` sorts itself: by kind, then by identifier), its counts
and ``to_dict`` (the JSON report, ``schemas/plan.schema.json``). A change carries what reports
show and what apply needs: the target in API form and as normalised values, for a live control
its id, ``updatedOn``, the live values of its managed fields and their fingerprint, which a stale
check compares, and the problems that keep apply from making it. The safety figures are
``safety``'s. Pure: it must not read files, talk HTTP or print; the renderers word a plan
(``render/``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from hpconfig.errors import Location
from hpconfig.project_config import IgnoreRule
from hpconfig.safety import Safety

__all__ = [
    "FORMAT_VERSION",
    "Change",
    "ChangeKind",
    "FieldChange",
    "NotCompared",
    "Plan",
    "PlanContext",
    "Safety",
    "Unmanaged",
]

# Additions only within a version (the schema says so): a plan saved for apply adds keys (the
# ``apply`` section, each change's target, live values and problems, two kinds) to version 1.
FORMAT_VERSION = "1"
SAVED_PLAN_VERSION = "1"  # of the ``apply`` section: apply refuses a saved plan of another


class ChangeKind(str, enum.Enum):
    """The kinds of change, in the one order plans, reports and apply follow. A str, so that the
    JSON report says ``"create"``; every renderer has an entry for every kind (a test says so)."""

    CREATE = "create"
    UPDATE = "update"
    RESTORE = "restore"  # archived → active: the control comes back, its links do not
    ARCHIVE = "archive"  # active → archived: destroy-class, needs --allow-archive

    @property
    def existing(self) -> bool:
        """A change to a control Hyperproof has (everything but a create)."""
        return self is not ChangeKind.CREATE

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def order(self) -> int:
        return _KIND_ORDER[self]


_KIND_ORDER = {kind: index for index, kind in enumerate(ChangeKind)}


@dataclass(frozen=True)
class FieldChange:
    """One field: the manifest's value (expected) and Hyperproof's (actual), as shown."""

    field: str
    expected: Any
    actual: Any
    source: Location | None = dataclass_field(
        default=None, compare=False
    )  # where the manifest sets it

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class Change:
    identifier: str
    action: ChangeKind
    source: Location | None
    fields: tuple[FieldChange, ...]
    live_id: str | None = None
    updated_by: str | None = None
    updated_on: str | None = None
    ignored: tuple[str, ...] = ()  # fields that differ but an ignore rule drops
    # What apply sends: API field → value in API form (an owner as its email until apply looks
    # the user up); and the fingerprint of the live values of the managed fields (updates only).
    target: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)
    fingerprint: str | None = None
    # The normalised values apply compares: the manifest's for the fields it changes
    # (``wanted``), and the live ones of every compared field when planned (``seen``, what the
    # fingerprint digests), so a stale check names the field that moved and both values.
    wanted: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)
    seen: dict[str, Any] = dataclass_field(default_factory=dict, compare=False)
    problems: tuple[str, ...] = ()  # why apply cannot make this change (an owner, a create)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", ChangeKind(self.action))  # "create" is accepted too

    def sort_key(self) -> tuple[int, str]:
        return self.action.order, self.identifier

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "identifier": self.identifier,
            "action": self.action.value,
            "source": {"file": self.source.file, "line": self.source.line} if self.source else None,
            "fields": [change.to_dict() for change in self.fields],
        }
        if self.action.existing:
            document["live"] = {
                "id": self.live_id,
                "updatedBy": self.updated_by,
                "updatedOn": self.updated_on,
                "fingerprint": self.fingerprint,
                "values": dict(sorted(self.seen.items())),
            }
        if self.ignored:
            document["ignored_fields"] = list(self.ignored)
        document["target"] = dict(sorted(self.target.items()))
        document["target_values"] = dict(sorted(self.wanted.items()))
        if self.problems:
            document["problems"] = list(self.problems)
        return document


@dataclass(frozen=True)
class Unmanaged:
    identifier: str
    id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "id": self.id}


@dataclass(frozen=True)
class NotCompared:
    """A declared control hpconfig could not compare: Hyperproof's copy is malformed, or two
    live controls hold its identifier. A plan with one cannot be "in sync", and apply must not
    touch the ids it names."""

    identifier: str
    reason: str  # malformed | duplicate-identifier
    ids: tuple[str, ...]
    detail: str
    source: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "reason": self.reason,
            "ids": list(self.ids),
            "detail": self.detail,
            "source": {"file": self.source.file, "line": self.source.line} if self.source else None,
        }


@dataclass(frozen=True)
class PlanContext:
    """What a saved plan must match to be applied: who made it, against which API, from which
    inputs (``manifests_digest``: the desired values, ignore rules and limits, so a change of
    a manifest or of ``hpconfig.yaml`` since the plan shows), and which selection."""

    hpconfig_version: str
    api_url: str
    manifests_digest: str
    paths: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()  # --controls patterns of the plan

    def to_dict(self) -> dict[str, Any]:
        return {
            "saved_plan_version": SAVED_PLAN_VERSION,
            "hpconfig_version": self.hpconfig_version,
            "api_url": self.api_url,
            "manifests_digest": self.manifests_digest,
            "paths": list(self.paths),
            "controls": list(self.controls),
        }


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...]
    in_sync: int
    ignore_rules: tuple[IgnoreRule, ...] = ()
    safety: Safety | None = None
    ignored_fields: int = 0
    not_compared: tuple[NotCompared, ...] = ()
    live_problems: tuple[Any, ...] = ()  # live_check.LiveProblem: each malformed live control
    context: PlanContext | None = None  # set by the CLI: what apply checks a saved plan against

    def __post_init__(self) -> None:
        # One order, whoever builds the plan: reports and apply follow it.
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=Change.sort_key)))
        object.__setattr__(
            self, "unmanaged", tuple(sorted(self.unmanaged, key=lambda item: item.identifier))
        )
        object.__setattr__(
            self, "not_compared", tuple(sorted(self.not_compared, key=lambda i: i.identifier))
        )

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def complete(self) -> bool:
        """Every declared control was compared: only then can the plan say "in sync"."""
        return not self.not_compared

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def problems(self) -> tuple[Change, ...]:
        """The changes apply cannot make as planned (each says why)."""
        return tuple(change for change in self.changes if change.problems)

    def summary(self) -> dict[str, int]:
        counts = {kind.value: self.count(kind) for kind in ChangeKind}
        return {**counts, "unmanaged": len(self.unmanaged), "in_sync": self.in_sync}

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "summary": self.summary(),
            "changes": [change.to_dict() for change in self.changes],
            "unmanaged": [item.to_dict() for item in self.unmanaged],
            "ignore_rules": [rule.to_dict() for rule in self.ignore_rules],
            "not_compared": [item.to_dict() for item in self.not_compared],
            "live_problems": [problem.to_dict() for problem in self.live_problems],
        }
        if self.safety is not None:
            document["safety"] = self.safety.to_dict()
        if self.context is not None:
            document["apply"] = self.context.to_dict()
        return document
