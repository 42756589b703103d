"""The built-in assertions: each judges one control's record and says why, in a sentence.

Owns what ``required``, ``allowed``, ``atMost``/``atLeast``, ``evidenceFresh`` and
``ownerActive`` mean. Each gives a status (``ok``, ``alarm`` or ``skip``) and a detail sentence
that names the values it looked at. Pure: the record and the time come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.assertions.rules import Assertion, field_value
from hpconfig.durations import format_duration as duration_text

Verdict = tuple[str, str]  # (ok | alarm | skip, a detail sentence)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    return repr(value) if isinstance(value, str) else str(value)


def _required(assertion: Assertion, record: dict[str, Any], now: datetime) -> Verdict:
    missing = [name for name in assertion.fields if field_value(record, name) in (None, "")]
    if missing:
        return "alarm", f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    return "ok", f"{', '.join(assertion.fields)} set"


def _allowed(assertion: Assertion, record: dict[str, Any], now: datetime) -> Verdict:
    wrong = []
    for name, values in assertion.allowed:
        value = field_value(record, name)
        if value not in values:
            allowed = ", ".join(_shown(v) for v in values)
            wrong.append(f"{name} is {_shown(value)}, not one of {allowed}")
    if wrong:
        return "alarm", "; ".join(wrong)
    return "ok", ", ".join(f"{name} allowed" for name, _ in assertion.allowed)


def _limit(most: bool) -> Callable[[Assertion, dict[str, Any], datetime], Verdict]:
    def judge(assertion: Assertion, record: dict[str, Any], now: datetime) -> Verdict:
        wrong, unknown = [], []
        for name, limit in assertion.limits:
            value = field_value(record, name)
            if not isinstance(value, int) or isinstance(value, bool):
                unknown.append(name)
            elif (value > limit) if most else (value < limit):
                word = "longer" if most else "shorter"
                wrong.append(
                    f"{name} is {duration_text(value)}, {word} than {duration_text(limit)}"
                )
        if wrong:
            return "alarm", "; ".join(wrong)
        if unknown:
            return "skip", f"{', '.join(unknown)} not set"
        bound = "at most" if most else "at least"
        return "ok", ", ".join(
            f"{name} {duration_text(field_value(record, name))}, {bound} {duration_text(limit)}"
            for name, limit in assertion.limits
        )

    return judge


def _evidence_fresh(assertion: Assertion, record: dict[str, Any], now: datetime) -> Verdict:
    freshness = record.get("freshness") or {}
    policy, state = freshness.get("policy"), freshness.get("state")
    if policy == "none" or state == "noFreshness":
        return "skip", "the control has no freshness policy"
    if state == "expired":
        return "alarm", f"its evidence expired (fresh as of {_shown(freshness.get('asOf'))})"
    if state == "fresh":
        return "ok", "its evidence is fresh"
    until = fresh_until(freshness)
    if until is None:
        return "skip", f"the freshness state is {_shown(state)} and cannot be worked out"
    if until <= now:
        return "alarm", f"its evidence expired on {until.strftime('%Y-%m-%d')}"
    return "ok", f"its evidence is fresh until {until.strftime('%Y-%m-%d')}"


def fresh_until(freshness: dict[str, Any]) -> datetime | None:
    """When evidence fresh as of ``asOf`` stops being fresh, or None when unknown."""
    duration = freshness.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        return None
    try:  # the remote wing writes asOf as 2026-11-27T12:00:00Z, or "" when it has none
        as_of = datetime.fromisoformat(str(freshness.get("asOf") or "").replace("Z", "+00:00"))
        return as_of + timedelta(seconds=duration)
    except (ValueError, OverflowError):
        return None


def _owner_active(assertion: Assertion, record: dict[str, Any], now: datetime) -> Verdict:
    owner, kind = record.get("owner") or "", record.get("ownerType") or ""
    if not owner and not kind:
        return "alarm", "the control has no owner"
    who = _shown(owner) if owner else "its owner"
    if not kind:
        return "alarm", f"{who} is not a user of the organization"
    if kind in hp.DEACTIVATED_TYPES:
        return "alarm", f"{who} is deactivated"
    if kind in hp.SERVICE_ACCOUNT_TYPES:
        return "alarm", f"{who} is a service account, not a person"
    if kind != hp.ACTIVE_USER_TYPE:
        return "alarm", f"{who} is a {kind}, not an active user"
    return "ok", f"{who} is an active person"


JUDGES: dict[str, Callable[[Assertion, dict[str, Any], datetime], Verdict]] = {
    "required": _required,
    "allowed": _allowed,
    "atMost": _limit(most=True),
    "atLeast": _limit(most=False),
    "evidenceFresh": _evidence_fresh,
    "ownerActive": _owner_active,
}
