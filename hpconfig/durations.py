"""Freshness durations: ``30d``, ``720h``, ``4w`` and ISO-8601 (``P30D``, ``PT720H``) → seconds.

Owns the one rule for what a duration is, so that the manifest, the API's ``freshForDuration``
and reports agree: ``30d``, ``P30D`` and ``PT720H`` are the same value. ISO-8601 parsing is
isodate's; this module adds hpconfig's limits (positive, at most 100 years, whole seconds, no
months or years).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from hpconfig.untrusted import excerpt

_SHORT = re.compile(r"([0-9]+)([wdh])")
_SHORT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600}
# Longer than any evidence stays fresh; beyond it, a typo (or an attempt to overflow a date).
MAX_SECONDS = 100 * 366 * 86400
_TOO_LONG = "is longer than 100 years; write a shorter duration"


class DurationError(ValueError):
    """A duration that hpconfig does not accept; the message says why and what to write."""


@lru_cache(maxsize=1024)  # manifests repeat a handful of durations thousands of times
def parse_duration(text: object) -> int:
    """A duration as written → whole seconds, or DurationError saying why not."""
    if not isinstance(text, str):
        raise DurationError(
            f"{excerpt(text)} is not a duration; write it with a unit, e.g. 30d or P30D"
        )
    value = text.strip()
    if len(value) > 40:  # no real duration is this long; int() of thousands of digits raises
        raise DurationError(f"{excerpt(text)} {_TOO_LONG}")
    short = _SHORT.fullmatch(value)
    if short:
        seconds = int(short.group(1)) * _SHORT_SECONDS[short.group(2)]
    else:
        if not value.startswith(("P", "-P", "+P")):
            raise DurationError(
                f"{excerpt(text)} is not a duration; write e.g. 30d, 720h, 4w, P30D or PT720H"
            )
        import isodate  # the ISO forms only: manifests mostly write 30d, and a hook starts faster

        try:
            parsed = isodate.parse_duration(value)
        except OverflowError:
            raise DurationError(f"{excerpt(text)} {_TOO_LONG}") from None
        except (isodate.ISO8601Error, ValueError):
            raise DurationError(
                f"{excerpt(text)} is not an ISO-8601 duration; write e.g. P30D or PT720H"
            ) from None
        if not isinstance(parsed, timedelta):
            raise DurationError(
                f"{excerpt(text)} uses months or years, which have no fixed length; "
                "write days or hours instead (e.g. P90D)"
            )
        total = parsed.total_seconds()
        if total != int(total):
            raise DurationError(f"{excerpt(text)} is not a whole number of seconds")
        seconds = int(total)
    if seconds <= 0:
        raise DurationError(f"{excerpt(text)} must be longer than zero")
    if seconds > MAX_SECONDS:
        raise DurationError(f"{excerpt(text)} {_TOO_LONG}")
    return seconds


def format_duration(seconds: int) -> str:
    """Seconds → the shortest readable form: ``30d``, ``36h``, ``90m`` written as ``PT90M``."""
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    import isodate

    return str(isodate.duration_isoformat(timedelta(seconds=seconds)))


def iso_duration(seconds: int) -> str:
    """Seconds → the ISO-8601 form Hyperproof stores (``PT720H``)."""
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    import isodate

    return str(isodate.duration_isoformat(timedelta(seconds=seconds)))
