"""What apply will need from a plan: targets in API form, the live object, a fingerprint that a
stale check can compare, and one order whoever builds the plan."""

from __future__ import annotations

from typing import Any

from hpconfig.control import fingerprint
from hpconfig.diff import diff
from hpconfig.plan import Change, ChangeKind, Plan, Unmanaged
from hpconfig.remote.live import live_control
from tests.helpers import desired_from

MANIFEST = """
controls:
  - identifier: C-1
    name: Access
    owner: alice@example.com
    freshness: {policy: manual, duration: 30d}
  - identifier: C-2
    name: New control
    description: |
      Created by apply.
    freshness: {duration: 12w}
"""
MANAGED = ("name", "owner", "freshness.policy", "freshness.duration", "status")


def live(**changes: Any) -> dict[str, Any]:
    control: dict[str, Any] = {
        "id": "c1",
        "controlIdentifier": "C-1",
        "name": "Access",
        "description": "Written in Hyperproof",
        "owner": {"id": "u-bob", "email": "bob@example.com"},
        "freshnessPolicy": "manual",
        "freshForDuration": "PT360H",
        "updatedOn": "2026-11-20T10:00:00Z",
    }
    control.update(changes)
    return control


def changes(api: dict[str, Any]) -> dict[ChangeKind, Change]:
    plan = diff(desired_from(MANIFEST), {"C-1": live_control(api)})
    return {change.action: change for change in plan.changes}


def test_each_change_carries_its_target_in_api_form() -> None:
    found = changes(live())
    update, create = found[ChangeKind.UPDATE], found[ChangeKind.CREATE]
    assert update.target == {"owner": "alice@example.com", "freshForDuration": "PT720H"}
    assert create.target == {
        "name": "New control",
        "description": "Created by apply.",
        "freshForDuration": "PT2016H",
    }
    assert (update.live_id, update.updated_on) == ("c1", "2026-11-20T10:00:00Z")
    assert (create.live_id, create.fingerprint) == (None, None)


def test_the_fingerprint_is_of_the_managed_live_values_and_ignores_form() -> None:
    planned = changes(live())[ChangeKind.UPDATE].fingerprint
    assert planned == fingerprint(live_control(live()), MANAGED)
    assert planned is not None and len(planned) == 64
    same_form = live(freshForDuration="P15D", owner={"id": "u-bob", "email": "BOB@example.com"})
    assert changes(same_form)[ChangeKind.UPDATE].fingerprint == planned
    unmanaged_edit = live(description="Edited again in Hyperproof")
    assert changes(unmanaged_edit)[ChangeKind.UPDATE].fingerprint == planned
    managed_edit = live(owner={"id": "u-carol", "email": "carol@example.com"})
    assert fingerprint(live_control(managed_edit), MANAGED) != planned


def test_a_plan_sorts_itself_whoever_builds_it() -> None:
    plan = Plan(
        changes=(
            Change("B", ChangeKind.UPDATE, None, ()),
            Change("C", ChangeKind.CREATE, None, ()),
            Change("A", ChangeKind.UPDATE, None, ()),
        ),
        unmanaged=(Unmanaged("Z", "z"), Unmanaged("Y", "y")),
        in_sync=0,
    )
    assert [(c.action.value, c.identifier) for c in plan.changes] == [
        ("create", "C"),
        ("update", "A"),
        ("update", "B"),
    ]
    assert [item.identifier for item in plan.unmanaged] == ["Y", "Z"]
