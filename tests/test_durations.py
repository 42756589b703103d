from __future__ import annotations

import pytest

from hpconfig.durations import DurationError, format_duration, iso_duration, parse_duration

DAY = 86400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * DAY),
        ("P30D", 30 * DAY),
        ("PT720H", 30 * DAY),
        ("720h", 30 * DAY),
        ("4w", 28 * DAY),
        ("P4W", 28 * DAY),
        ("P1DT12H", 36 * 3600),
        ("PT90M", 5400),
    ],
)
def test_forms_normalise_to_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0d", "longer than zero"),
        ("P0D", "longer than zero"),
        ("-P1D", "longer than zero"),
        ("P1M", "months or years"),
        ("P2Y", "months or years"),
        (30, "with a unit"),
        ("30m", "not a duration"),
        ("P", "not an ISO-8601"),
        ("PT0.5S", "whole number"),
    ],
)
def test_rejections_say_why(text: object, reason: str) -> None:
    with pytest.raises(DurationError, match=reason):
        parse_duration(text)


def test_formatting_round_trips() -> None:
    assert format_duration(30 * DAY) == "30d"
    assert format_duration(36 * 3600) == "36h"
    assert iso_duration(30 * DAY) == "PT720H"
    for seconds in (DAY, 36 * 3600, 5400):
        assert parse_duration(iso_duration(seconds)) == seconds
