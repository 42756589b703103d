"""The live mapping and the diff: right classes, and no false drift."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from hpconfig.diff import diff
from hpconfig.project_config import IgnoreRule, SafetyLimits
from hpconfig.remote.live import live_control, parse_timestamp
from hpconfig.render.text import summary_line
from tests.helpers import desired_from


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-09-12T20:59:47.694353Z", datetime(2023, 9, 12, 20, 59, 47, 694353, timezone.utc)),
        (
            "2025-01-12T18:26:10.0053650+00:00",
            datetime(2025, 1, 12, 18, 26, 10, 5365, timezone.utc),
        ),
        ("2024-02-24T12:01:57+0000", datetime(2024, 2, 24, 12, 1, 57, tzinfo=timezone.utc)),
        ("2024-02-24T14:01:57+02:00", datetime(2024, 2, 24, 12, 1, 57, tzinfo=timezone.utc)),
        ("2024-02-24T12:01:57", datetime(2024, 2, 24, 12, 1, 57, tzinfo=timezone.utc)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_of_every_documented_shape(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def api_control(**overrides: Any) -> dict[str, Any]:
    control = {
        "id": "c1",
        "controlIdentifier": "C-1",
        "name": "Access",
        "description": "Line one\nLine two",
        "notes": None,
        "domainName": "Access Control",
        "status": "active",
        "workStatus": "operating",
        "implementation": "completed",
        "testingStatus": "notTested",
        "freshnessPolicy": "manual",
        "freshForDuration": "PT720H",
        "owner": {"id": "u1", "email": "Alice@Example.com", "givenName": "Alice"},
        "updatedBy": {"id": "u2", "email": "bob@example.com"},
        "updatedOn": "2026-11-20T10:00:00.1234567+00:00",
    }
    control.update(overrides)
    return control


def desired(yaml_text: str) -> Any:
    return desired_from(yaml_text)


BASE = """
controls:
  - identifier: C-1
    name: Access
    description: "Line one  \\r\\nLine two\\n"
    owner: alice@example.com
    domain: Access Control
    freshness: {policy: manual, duration: 30d}
"""


def test_live_mapping() -> None:
    control = live_control(api_control())
    assert control.values["owner"] == "alice@example.com"
    assert control.values["freshness.duration"] == 30 * 86400
    assert control.values["notes"] == ""
    assert control.updated_by == "bob@example.com"
    assert control.updated_on == "2026-11-20T10:00:00Z"
    robot = live_control(
        api_control(
            updatedBy={"id": "s", "email": "", "givenName": "ci-bot", "surname": "Service account"},
            owner=None,
        )
    )
    assert robot.updated_by == "ci-bot Service account"
    assert robot.values["owner"] is None


@pytest.mark.parametrize("duration", ["PT720H", "P30D", "PT43200M", "P4W2D"])
def test_differences_of_form_are_no_drift(duration: str) -> None:
    live = {
        "C-1": live_control(
            api_control(freshForDuration=duration, description="Line one\r\nLine two  \r\n")
        )
    }
    plan = diff(desired(BASE), live)
    assert plan.changes == () and plan.in_sync == 1


def test_unmanaged_fields_are_never_compared() -> None:
    live = {"C-1": live_control(api_control(implementation="unknown", notes="x", workStatus="w"))}
    assert diff(desired(BASE), live).changes == ()


def test_update_create_unmanaged_and_in_sync() -> None:
    want = desired(
        BASE
        + """
  - identifier: C-2
    owner: carol@example.com
  - identifier: C-3
    name: Brand new
"""
    )
    live = {
        "C-1": live_control(
            api_control(owner={"id": "u3", "email": "bob@example.com"}, freshForDuration="PT360H")
        ),
        "C-2": live_control(
            api_control(id="c2", controlIdentifier="C-2", owner={"email": "CAROL@example.com"})
        ),
        "C-9": live_control(api_control(id="c9", controlIdentifier="C-9")),
        "C-8": live_control(api_control(id="c8", controlIdentifier="C-8", status="archived")),
    }
    plan = diff(want, live)
    assert plan.summary() == {
        "create": 1,
        "update": 1,
        "restore": 0,
        "archive": 0,
        "unmanaged": 1,
        "in_sync": 1,
    }
    create, update = plan.changes
    assert (create.identifier, create.action) == ("C-3", "create")
    assert [(f.field, f.expected, f.actual) for f in create.fields] == [("name", "Brand new", None)]
    assert (update.identifier, update.action, update.live_id) == ("C-1", "update", "c1")
    assert [(f.field, f.expected, f.actual) for f in update.fields] == [
        ("freshness.duration", "30d", "15d"),
        ("owner", "alice@example.com", "bob@example.com"),
    ]
    assert update.updated_by == "bob@example.com"
    assert [u.identifier for u in plan.unmanaged] == ["C-9"]
    assert summary_line(plan) == "Plan: 1 to create, 1 to update. 1 in sync, 1 unmanaged."


def test_owner_missing_in_hyperproof_is_drift() -> None:
    plan = diff(desired(BASE), {"C-1": live_control(api_control(owner=None))})
    assert [(f.field, f.actual) for f in plan.changes[0].fields] == [("owner", None)]


def test_ignore_rules_drop_fields_and_are_reported() -> None:
    live = {
        "C-1": live_control(
            api_control(owner={"email": "bob@example.com"}, freshForDuration="PT1H")
        )
    }
    rules = (
        IgnoreRule(fields=("owner",), reason="r", controls=("C-*",), expires=date(2099, 1, 1)),
        IgnoreRule(fields=("freshness",), reason="r2", controls=("OTHER-*",)),
    )
    plan = diff(desired(BASE), live, rules)
    (change,) = plan.changes
    assert [f.field for f in change.fields] == ["freshness.duration"]
    assert change.ignored == ("owner",)
    everything = diff(desired(BASE), live, (IgnoreRule(("owner", "freshness"), "r"),))
    assert everything.changes == () and everything.in_sync == 1 and everything.ignored_fields == 2


def test_safety_threshold() -> None:
    text = "controls:\n" + "".join(f"  - {{identifier: C-{i}, name: N}}\n" for i in range(10))
    live = {
        f"C-{i}": live_control(api_control(controlIdentifier=f"C-{i}", name="N" if i > 3 else "X"))
        for i in range(10)
    }
    plan = diff(desired(text), live, limits=SafetyLimits(30, 10))
    assert plan.safety is not None
    assert plan.safety.updates == 4 and plan.safety.exceeded
    relaxed = diff(desired(text), live, limits=SafetyLimits(50, 10))
    assert relaxed.safety is not None and not relaxed.safety.exceeded


def test_unparseable_live_duration_shows_as_drift() -> None:
    plan = diff(desired(BASE), {"C-1": live_control(api_control(freshForDuration="P1M"))})
    assert [(f.field, f.actual) for f in plan.changes[0].fields] == [("freshness.duration", "P1M")]
