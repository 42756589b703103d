"""The live freshness state of a sandbox control, worked out as Hyperproof does: from
``freshAsOfDate`` and ``freshForDuration`` against the current time.

Owns ``freshness_state``: ``fresh`` until the evidence's age passes the duration, ``expired``
after; ``noFreshness`` for a control whose policy is ``none``; for a control without a date
or a usable duration, the state stored in the seed stands. It also says until when the state
holds, so that the sandbox's cached answers stay right as time passes. The clock is the
caller's (``Limits.clock``), so tests fix it. It must not know HTTP or files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from hpconfig.durations import DurationError, parse_duration

Clock = Callable[[], datetime]
FOREVER = math.inf

_INSTANT = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def instant(text: Any) -> datetime | None:
    """``2026-11-01T09:00:00Z`` (any precision; an offset, or none for UTC) → aware UTC."""
    match = _INSTANT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    zone = match.group(2) or "+00:00"
    zone = "+00:00" if zone == "Z" else (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}")
    try:
        return datetime.fromisoformat(match.group(1) + zone).astimezone(timezone.utc)
    except ValueError:
        return None


def freshness_state(stored: dict[str, Any], now: datetime) -> tuple[str | None, float]:
    """The state to answer (None: the stored one stands) and the POSIX time it holds until."""
    policy = stored.get("freshnessPolicy")
    if policy == "none":
        return "noFreshness", FOREVER
    as_of = instant(stored.get("freshAsOfDate"))
    if policy != "manual" or as_of is None:
        return None, FOREVER
    try:
        expires = as_of + timedelta(seconds=parse_duration(stored.get("freshForDuration")))
    except (DurationError, OverflowError):
        return None, FOREVER
    if now < expires:
        return "fresh", expires.timestamp()
    return "expired", FOREVER
