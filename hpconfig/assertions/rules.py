"""Rules, waivers and message templates: what ``hpconfig check`` asserts, as frozen data.

Owns ``Rule`` (an id, a title, a severity, a ``Selection`` of controls and one ``Assertion``),
``Waiver`` (an accepted alarm, with a reason and an expiry), ``Template`` (a rule's message,
with the control's fields put in by name only) and the names of the fields a rule can look at
(``RECORD_FIELDS``). Rule files are read and checked by ``manifest.assertions_file``; this module
must not parse YAML, read files or talk HTTP.

A message template takes ``{field}`` for the fields of ``RECORD_FIELDS`` and ``{{``/``}}`` for
braces, nothing else: no attribute access, indexing or format specs, so that a template from a
pull request cannot reach into objects, and a value from Hyperproof is put in as text, never
interpreted. The renderers make that text inert.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from hpconfig.assertions.cel import Expression
from hpconfig.assertions.ruleset import RuleSet as RuleSet  # its home is the light module
from hpconfig.errors import Location

# The fields of a control that rules, selections and messages see; ``control.<name>`` in CEL
# (``control.freshness.duration``). Durations are whole seconds; absent text is "".
RECORD_FIELDS: tuple[str, ...] = (
    "identifier",
    "id",
    "name",
    "description",
    "notes",
    "domain",
    "owner",
    "ownerType",
    "status",
    "workStatus",
    "implementation",
    "testingStatus",
    "health",
    "freshness.policy",
    "freshness.duration",
    "freshness.state",
    "freshness.asOf",
    "managed",
    "source",
)
# What `required` and `allowed` may name: the fields with text values.
TEXT_FIELDS = tuple(f for f in RECORD_FIELDS if f not in ("freshness.duration", "managed"))
DURATION_FIELDS = ("freshness.duration",)
SEVERITIES = ("error", "warning", "notice")
BUILT_INS = ("required", "allowed", "atMost", "atLeast", "evidenceFresh", "ownerActive")


def field_value(record: dict[str, Any], name: str) -> Any:
    """``freshness.duration`` → ``record["freshness"]["duration"]``; None when absent."""
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Selection:
    """Which controls a rule looks at; every part given must hold (and).

    ``statuses`` defaults to active controls: an archived control is retired, and a rule that
    means archived ones says so."""

    controls: tuple[str, ...] = ()  # identifier globs
    domains: tuple[str, ...] = ()  # domain globs
    statuses: tuple[str, ...] = ("active",)
    managed: bool | None = None  # True: declared in a manifest; False: only in Hyperproof
    when: Expression | None = None  # CEL; evaluated only when the rest holds

    def matches_fields(self, record: dict[str, Any]) -> bool:
        """Everything but ``when`` (which can fail, and is the caller's)."""
        identifier = record.get("identifier") or ""
        if self.controls and not any(fnmatch.fnmatchcase(identifier, g) for g in self.controls):
            return False
        domain = record.get("domain") or ""
        if self.domains and not any(fnmatch.fnmatchcase(domain, g) for g in self.domains):
            return False
        if self.statuses and record.get("status") not in self.statuses:
            return False
        return self.managed is None or bool(record.get("managed")) == self.managed


@dataclass(frozen=True)
class Assertion:
    """One of the built-in forms, or a CEL expression that must give true."""

    kind: str  # a name of BUILT_INS, or "expression"
    fields: tuple[str, ...] = ()  # required
    allowed: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # field → the values allowed
    limits: tuple[tuple[str, int], ...] = ()  # atMost/atLeast: field → seconds
    expression: Expression | None = None


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class Template:
    """A rule's message, split once into literal text and field names."""

    parts: tuple[tuple[bool, str], ...]  # (is a field, text or field name)

    def render(self, values: dict[str, str]) -> str:
        return "".join(values.get(text, "") if is_field else text for is_field, text in self.parts)


def parse_template(text: str, names: tuple[str, ...]) -> tuple[Template | None, str | None]:
    """The template, or the problem with it (an unknown field, a lone brace, a format spec)."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append((False, text[position : match.start()]))
        position = match.end()
        token = match.group()
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
            continue
        name = match.group(1)
        if name is None:
            return None, f"a lone {token!r} at character {match.start() + 1}; write {token * 2}"
        if name not in names:
            shown = name if len(name) <= 40 else name[:37] + "..."
            return None, (
                f"{{{shown}}} is not a field a message can show; use one of: "
                + ", ".join(f"{{{n}}}" for n in names)
            )
        parts.append((True, name))
    parts.append((False, text[position:]))
    return Template(tuple(part for part in parts if part[0] or part[1])), None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str  # error | warning | notice
    selection: Selection
    assertion: Assertion
    message: Template | None = None
    source: Location | None = None


@dataclass(frozen=True)
class Waiver:
    """Alarms of one rule on some controls, accepted until ``expires``, for a reason."""

    rule: str
    controls: tuple[str, ...]
    reason: str
    approver: str | None = None
    ticket: str | None = None
    expires: date | None = None
    source: Location | None = None

    def covers(self, rule: str, identifier: str) -> bool:
        return rule == self.rule and any(fnmatch.fnmatchcase(identifier, g) for g in self.controls)

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "controls": list(self.controls),
            "reason": self.reason,
            "approver": self.approver,
            "ticket": self.ticket,
            "expires": self.expires.isoformat() if self.expires else None,
        }
