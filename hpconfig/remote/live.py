"""Controls as the API answers them → live ``Control`` values, normalised like desired ones.

Owns the live ``Control`` of an API control (each field read and normalised as the field
table of ``hpconfig.control`` says: ``domainName`` → ``domain``, ``owner.email`` → ``owner``,
``freshForDuration`` → ``freshness.duration``...), the parsing
of the API's timestamps, which come in several precisions and offset styles, and ``read_live``:
the untrusted list → the controls that can be compared, by identifier, and those that cannot
(malformed per ``live_check``, or an identifier held by two controls), with every problem
worded. A control without an identifier is listed, never matched. It must not talk HTTP. A
duration it cannot understand is kept as it came, so it shows as drift instead of crashing or,
worse, passing as equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hpconfig.control import FIELD_TABLE, Control, same
from hpconfig.durations import DurationError
from hpconfig.plan import NotCompared
from hpconfig.remote.live_check import LiveProblem, control_problems, text_of

_TIMESTAMP = re.compile(
    r"^(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$",
    re.ASCII,
)


def parse_timestamp(text: str | None) -> datetime | None:
    """``2023-09-12T20:59:47.694353Z``, ``...10.0053650+00:00``, ``...57+0000`` → aware UTC.

    Seven-digit fractions are cut to microseconds; a missing zone is taken as UTC. None when
    the text is not a timestamp.
    """
    if not text:
        return None
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return None
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    zone = match.group("zone") or "Z"
    zone = "+00:00" if zone == "Z" else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
    try:
        parsed = datetime.fromisoformat(f"{match.group('main')}.{fraction}{zone}")
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # month 13, year 0, or beyond datetime's range in UTC
        return None


def user_label(user: Any) -> str | None:
    """A user object → the email, or the name for a service account without one."""
    if not isinstance(user, dict):
        return None
    if user.get("email"):
        return str(user["email"])
    name = " ".join(str(user[k]) for k in ("givenName", "surname") if user.get(k))
    return name or user.get("id")


# The field table as live_control walks it for every control, in its order: (name, the API key
# when the field is read as it is, else its reader, the normaliser unless it is the identity,
# whether it is free text).
_FIELDS = tuple(
    (
        f.name,
        getattr(f.read, "api_field", None),
        f.read,
        None if f.normalise is same else f.normalise,
        f.text,
    )
    for f in FIELD_TABLE
)


def live_control(
    api: dict[str, Any], parse: Callable[[str | None], datetime | None] = parse_timestamp
) -> Control:
    """An API control → a live ``Control``, through the field table's ``read`` and normalisers.

    A field the API leaves out or sends as null is the empty text for free text, else None; a
    duration that does not parse is kept as it came, so that it shows as drift. ``parse`` reads
    ``updatedOn`` (``read_live`` passes one that remembers what ``live_check`` has read)."""
    values: dict[str, Any] = {}
    written: dict[str, Any] = {}
    for name, key, read, normalise, text in _FIELDS:
        raw = api.get(key) if key is not None else read(api)
        if name == "owner":  # reports name an owner without an email (a service account) too
            written[name] = raw or user_label(api.get("owner"))
            values[name] = normalise(raw) if raw and normalise else None
            continue
        written[name] = raw
        if raw is None:
            values[name] = "" if text else None
        elif name == "freshness.duration" and normalise:
            try:
                values[name] = normalise(raw) if raw else None
            except (DurationError, ValueError, OverflowError):
                values[name] = f"unparsed:{raw}"
        elif normalise is not None and isinstance(raw, str):
            values[name] = normalise(raw)
        else:
            values[name] = raw
    updated = parse(api.get("updatedOn"))
    return Control(
        identifier=str(api.get("controlIdentifier")),
        values=values,
        written=written,
        live_id=api.get("id"),
        updated_by=user_label(api.get("updatedBy")),
        updated_on=updated.strftime("%Y-%m-%dT%H:%M:%SZ") if updated else api.get("updatedOn"),
    )


@dataclass(frozen=True)
class LiveSet:
    """The organization as fetched: what can be compared, what cannot, and why."""

    controls: dict[str, Control]
    not_compared: dict[str, NotCompared]  # by identifier: malformed, or held by two controls
    problems: tuple[LiveProblem, ...]

    def knows(self, identifier: str) -> bool:
        return identifier in self.controls or identifier in self.not_compared


def each_once(answers: Iterable[Any]) -> Iterator[Any]:
    """The API's answers without those whose id an earlier one has: the same control in two
    lists (active, archived) is read once."""
    seen: set[str] = set()
    for api in answers:
        raw_id = api.get("id") if isinstance(api, dict) else None
        if isinstance(raw_id, str) and raw_id:
            if raw_id in seen:
                continue
            seen.add(raw_id)
        yield api


def read_live(answers: Iterable[Any]) -> LiveSet:
    """Every element of the API's lists (any JSON) → a ``LiveSet``; never raises on data."""
    groups: dict[str, list[tuple[str, list[tuple[str, str]], Any]]] = {}
    problems: list[LiveProblem] = []
    read: dict[str | None, datetime | None] = {}  # each timestamp parsed once, checked and used

    def parse(text: str | None) -> datetime | None:
        if text not in read:
            read[text] = parse_timestamp(text)
        return read[text]

    for api in each_once(answers):
        found = control_problems(api, parse)
        raw_id = api.get("id") if isinstance(api, dict) else None
        raw_identifier = api.get("controlIdentifier") if isinstance(api, dict) else None
        identifier = raw_identifier if isinstance(raw_identifier, str) else ""
        live_id = text_of(raw_id)
        if found:
            problems += [
                LiveProblem(identifier or text_of(raw_identifier), live_id, field, message)
                for field, message in found
            ]
        if not identifier.strip():
            if not found:
                problems.append(
                    LiveProblem("", live_id, "controlIdentifier", "no identifier: never matched")
                )
            continue
        groups.setdefault(identifier, []).append((live_id, found, api))
    controls: dict[str, Control] = {}
    not_compared: dict[str, NotCompared] = {}
    for identifier, entries in groups.items():
        if len(entries) == 1 and not entries[0][1]:  # the common case: one sound control
            controls[identifier] = live_control(entries[0][2], parse)
            continue
        ids = tuple(sorted(entry[0] for entry in entries))
        if len(entries) > 1:
            detail = (
                f"{len(ids)} controls in Hyperproof have this identifier (ids {', '.join(ids)}); "
                "neither is compared or changed until one is renamed or archived"
            )
            not_compared[identifier] = NotCompared(identifier, "duplicate-identifier", ids, detail)
            problems.append(LiveProblem(identifier, ", ".join(ids), "controlIdentifier", detail))
        else:
            detail = "; ".join(f"{field}: {message}" for field, message in entries[0][1])
            not_compared[identifier] = NotCompared(identifier, "malformed", ids, detail)
    return LiveSet(controls, not_compared, tuple(sorted(problems)))
