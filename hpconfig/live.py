"""Controls as the API answers them → live ``Control`` values, normalised like desired ones.

Owns the mapping from Hyperproof's field names to the manifest's (``domainName`` → ``domain``,
``owner.email`` → ``owner``, ``freshForDuration`` → ``freshness.duration``...) and the parsing
of the API's timestamps, which come in several precisions and offset styles. It must not talk
HTTP. A value it cannot understand is kept as it came, so it shows as drift instead of crashing
or, worse, passing as equal.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from hpconfig.durations import DurationError, parse_duration
from hpconfig.model import NORMALISE, Control

# API field → manifest field; the owner and the duration are handled apart.
_PLAIN = {
    "name": "name",
    "description": "description",
    "notes": "notes",
    "domainName": "domain",
    "status": "status",
    "workStatus": "workStatus",
    "implementation": "implementation",
    "testingStatus": "testingStatus",
    "freshnessPolicy": "freshness.policy",
}
_TEXT = ("name", "description", "notes", "domain", "workStatus")

_TIMESTAMP = re.compile(
    r"^(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
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
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc)


def user_label(user: Any) -> str | None:
    """A user object → the email, or the name for a service account without one."""
    if not isinstance(user, dict):
        return None
    if user.get("email"):
        return str(user["email"])
    name = " ".join(str(user[k]) for k in ("givenName", "surname") if user.get(k))
    return name or user.get("id")


def live_control(api: dict[str, Any]) -> Control:
    values: dict[str, Any] = {}
    written: dict[str, Any] = {}
    for api_name, name in _PLAIN.items():
        raw = api.get(api_name)
        written[name] = raw
        if raw is None:
            values[name] = "" if name in _TEXT else None
        elif isinstance(raw, str):
            values[name] = NORMALISE[name](raw)
        else:
            values[name] = raw
    owner = api.get("owner")
    email = owner.get("email") if isinstance(owner, dict) else None
    written["owner"] = email or user_label(owner)
    values["owner"] = NORMALISE["owner"](email) if email else None
    duration = api.get("freshForDuration")
    written["freshness.duration"] = duration
    try:
        values["freshness.duration"] = parse_duration(duration) if duration else None
    except DurationError:
        values["freshness.duration"] = f"unparsed:{duration}"
    updated = parse_timestamp(api.get("updatedOn"))
    return Control(
        identifier=str(api.get("controlIdentifier")),
        values=values,
        written=written,
        live_id=api.get("id"),
        updated_by=user_label(api.get("updatedBy")),
        updated_on=updated.strftime("%Y-%m-%dT%H:%M:%SZ") if updated else api.get("updatedOn"),
    )
