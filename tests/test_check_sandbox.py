"""The sandbox serves what a check reads: the freshness state worked out from freshAsOfDate and
the duration against its clock (injectable, so these tests fix it), health, testing status and
users with their types, deactivated ones included when asked."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import requests

from hpconfig.sandbox import Sandbox
from tests.test_sandbox_api import token

START = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def _get(sandbox: Sandbox, path: str, **params: str) -> Any:
    answer = requests.get(
        sandbox.api_url + path,
        params=params,
        headers={"Authorization": f"Bearer {token(sandbox)}"},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.json()


def test_freshness_follows_the_clock_and_cached_answers_follow_it_too(
    example_seed: dict[str, Any],
) -> None:
    seed = copy.deepcopy(example_seed)
    control = next(c for c in seed["controls"] if c["controlIdentifier"] == "SOC2-CC7.1")
    control.update(freshAsOfDate="2026-11-01T12:00:00Z", freshForDuration="PT720H")  # 30 days
    now = [START]
    with Sandbox(seed, clock=lambda: now[0]) as sandbox:

        def state() -> str:
            listed = _get(sandbox, "/v1/controls")
            return next(c for c in listed if c["controlIdentifier"] == "SOC2-CC7.1")["freshness"]

        assert state() == "fresh"
        assert state() == "fresh"  # the cached answer
        now[0] = datetime(2026, 12, 1, 12, 0, 1, tzinfo=timezone.utc)
        assert state() == "expired"  # the cache holds only until the state changes
        by_id = _get(sandbox, f"/v1/controls/{control['id']}")
        assert by_id["freshness"] == "expired"


def test_no_freshness_policy_is_no_freshness(example_seed: dict[str, Any]) -> None:
    with Sandbox(example_seed, clock=lambda: START) as sandbox:
        listed = {c["controlIdentifier"]: c for c in _get(sandbox, "/v1/controls")}
        assert listed["SOC2-CC9.1"]["freshness"] == "noFreshness"
        assert listed["SOC2-CC9.1"]["health"] == "atRisk"
        assert listed["SOC2-CC7.2"]["freshness"] == "expired"  # fresh as of 2025-06-02, 30 days
        assert listed["SOC2-CC1.1"]["freshness"] == "fresh"
        assert listed["SOC2-CC1.1"]["testingStatus"] == "notTested"


def test_users_with_their_types_and_states(example_seed: dict[str, Any]) -> None:
    with Sandbox(example_seed) as sandbox:
        active = {u["email"]: u for u in _get(sandbox, "/v1/users")}
        everyone = {u["email"]: u for u in _get(sandbox, "/v1/users", includeDeactivated="true")}
    assert "frank@example.com" not in active
    assert everyone["frank@example.com"]["type"] == "deactivatedUser"
    assert everyone["frank@example.com"]["state"] == "deactivated"
    assert any(u["type"] == "serviceAccount" for u in everyone.values())
