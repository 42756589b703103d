"""Rules × controls → results: every rule on every control it selects, managed or not.

Owns ``Subject`` (one control as rules see it: its record, its Hyperproof id, and the manifest
line that declares it when managed), ``Result`` (ok, alarm, skip or error, with a reason
sentence, and the waiver or baseline that accepts an alarm) and ``evaluate``. A rule that fails
on one control (a CEL error) is an ``error`` result for that control; nothing here raises on
data. Pure: no HTTP, no YAML, no printing; the time comes from the caller.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hpconfig.assertions import cel
from hpconfig.assertions.builtins import JUDGES
from hpconfig.assertions.rules import RECORD_FIELDS, Rule, Waiver, field_value
from hpconfig.assertions.ruleset import RuleSet
from hpconfig.durations import format_duration
from hpconfig.errors import Location


class Status(str, enum.Enum):
    OK = "ok"
    ALARM = "alarm"
    SKIP = "skip"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Subject:
    """One control as rules see it."""

    identifier: str
    live_id: str | None
    record: dict[str, Any]  # the fields of RECORD_FIELDS, nested as CEL sees them
    source: Location | None = None  # the manifest line that declares it, when managed


def fingerprint(rule: str, identifier: str) -> str:
    """Stable across runs and values: the same alarm keeps its identity while it lasts."""
    return hashlib.sha256(f"{rule}\0{identifier}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Result:
    rule: str
    severity: str
    identifier: str
    live_id: str | None
    status: Status
    reason: str
    source: Location | None = None
    waiver: Waiver | None = None  # a valid waiver that accepts this alarm
    expired_waiver: Waiver | None = None  # a waiver that would, had it not expired
    baselined: bool = False

    @property
    def accepted(self) -> bool:
        return self.waiver is not None or self.baselined

    @property
    def fails(self) -> bool:
        """Whether this result fails the run: an error (a rule could not judge the control),
        or an alarm of an ``error`` rule that no waiver or baseline accepts."""
        if self.status == Status.ERROR:
            return True
        return self.status == Status.ALARM and self.severity == "error" and not self.accepted

    @property
    def outcome(self) -> str:
        """What reports show: the status, or ``waived``/``baselined`` for an accepted alarm."""
        if self.status == Status.ALARM and self.waiver is not None:
            return "waived"
        if self.status == Status.ALARM and self.baselined:
            return "baselined"
        return self.status.value

    def sort_key(self) -> tuple[str, str, str]:
        return self.rule, self.identifier, self.live_id or ""

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "identifier": self.identifier,
            "id": self.live_id,
            "status": self.status.value,
            "outcome": self.outcome,
            "reason": self.reason,
            "source": {"file": self.source.file, "line": self.source.line} if self.source else None,
            "fingerprint": fingerprint(self.rule, self.identifier),
            "fails": self.fails,
        }
        if self.waiver is not None:
            document["waiver"] = self.waiver.to_dict()
        if self.expired_waiver is not None:
            document["expired_waiver"] = self.expired_waiver.to_dict()
        if self.baselined:
            document["baselined"] = True
        return document


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def template_values(record: dict[str, Any], rule: Rule, detail: str) -> dict[str, str]:
    values = {name: _text(field_value(record, name)) for name in RECORD_FIELDS}
    duration = field_value(record, "freshness.duration")
    if isinstance(duration, int) and not isinstance(duration, bool) and duration > 0:
        values["freshness.duration"] = format_duration(duration)
    values.update(rule=rule.id, title=rule.title, detail=detail)
    return values


TEMPLATE_NAMES = (*RECORD_FIELDS, "rule", "title", "detail")
MAX_REASON = 2000  # characters of one result's reason, whatever its template repeats


def _judge(rule: Rule, subject: Subject, bound: Any, now: datetime) -> tuple[Status, str] | None:
    """The verdict of one rule on one control, or None when the rule does not select it."""
    selection = rule.selection
    if not selection.matches_fields(subject.record):
        return None
    try:
        if selection.when is not None:
            chosen = selection.when.evaluate(bound)
            if not isinstance(chosen, bool):
                return Status.ERROR, f"the selection gave {_kind(chosen)}, not true or false"
            if not chosen:
                return None
        assertion = rule.assertion
        if assertion.expression is not None:
            value = assertion.expression.evaluate(bound)
            if not isinstance(value, bool):
                return Status.ERROR, f"the expression gave {_kind(value)}, not true or false"
            if value:
                return Status.OK, "the expression holds"
            return Status.ALARM, "the expression is false"
    except cel.CelEvaluationError as error:
        return Status.ERROR, f"the expression failed on this control: {error}"
    status, detail = JUDGES[rule.assertion.kind](rule.assertion, subject.record, now)
    return Status(status), detail


RULE_SECONDS = 10.0  # CEL time one rule may take over all controls
# CEL time all rules may take together: a rule file may hold 100 rules, each under its own
# budget, which would otherwise hold a run for 100 x RULE_SECONDS.
CHECK_SECONDS = 60.0
_STOPPED = (
    f"not evaluated: this rule's CEL took more than {RULE_SECONDS:g} s over the controls before "
    "this one, and was stopped; make it cheaper"
)
_STOPPED_ALL = (
    f"not evaluated: the CEL of all rules together took more than {CHECK_SECONDS:g} s before "
    "this control, and was stopped; make the rules cheaper"
)


def _selectable(rule: Rule, subject: Subject) -> bool:
    return rule.selection.matches_fields(subject.record)


def _kind(value: Any) -> str:
    kinds = ((str, "a string"), ((int, float), "a number"), (list, "a list"), (dict, "a map"))
    if value is None:
        return "null"
    return next((name for kind, name in kinds if isinstance(value, kind)), "a value")


def _waiver_for(waivers: tuple[Waiver, ...], rule: str, identifier: str) -> Waiver | None:
    for waiver in waivers:
        if waiver.covers(rule, identifier):
            return waiver
    return None


def uses_cel(rule: Rule) -> bool:
    return rule.assertion.expression is not None or rule.selection.when is not None


def evaluate(
    ruleset: RuleSet,
    subjects: list[Subject],
    now: datetime,
    baseline: frozenset[tuple[str, str]] = frozenset(),
    backend: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[Result]:
    """Every rule on every control it selects, sorted by rule and identifier.

    One evaluation is bounded by the expression's bounds; a whole rule by ``RULE_SECONDS`` of
    CEL in all, and every rule together by ``CHECK_SECONDS``: past either, the remaining
    evaluations are ``error`` results, so that no rule file from a pull request can hold a run
    for long, however it multiplies its costs."""
    today: date = now.date()
    results: list[Result] = []
    needs_cel = any(uses_cel(rule) for rule in ruleset.rules)
    spent: dict[str, float] = {}
    total = 0.0
    for subject in subjects:
        bound = cel.bind(subject.record, backend) if needs_cel else None
        for rule in ruleset.rules:
            if not uses_cel(rule):
                verdict = _judge(rule, subject, bound, now)
            elif spent.get(rule.id, 0.0) > RULE_SECONDS or total > CHECK_SECONDS:
                why = _STOPPED if spent.get(rule.id, 0.0) > RULE_SECONDS else _STOPPED_ALL
                verdict = (Status.ERROR, why) if _selectable(rule, subject) else None
            else:
                start = clock()
                verdict = _judge(rule, subject, bound, now)
                took = clock() - start
                spent[rule.id] = spent.get(rule.id, 0.0) + took
                total += took
            if verdict is None:
                continue
            status, detail = verdict
            results.append(_result(rule, subject, status, detail, ruleset.waivers, today, baseline))
    return sorted(results, key=Result.sort_key)


def _result(
    rule: Rule,
    subject: Subject,
    status: Status,
    detail: str,
    waivers: tuple[Waiver, ...],
    today: date,
    baseline: frozenset[tuple[str, str]],
) -> Result:
    reason = detail
    waiver = expired = None
    baselined = False
    if status == Status.ALARM:
        if rule.message is not None:
            reason = rule.message.render(template_values(subject.record, rule, detail))
            if len(reason) > MAX_REASON:  # a template repeating a long field, on every control
                reason = reason[: MAX_REASON - 3] + "..."
        found = _waiver_for(waivers, rule.id, subject.identifier)
        if found is not None and found.expired(today):
            expired = found
        else:
            waiver = found
        baselined = (rule.id, subject.identifier) in baseline
    return Result(
        rule=rule.id,
        severity=rule.severity,
        identifier=subject.identifier,
        live_id=subject.live_id,
        status=status,
        reason=reason,
        source=subject.source,
        waiver=waiver,
        expired_waiver=expired,
        baselined=baselined,
    )
