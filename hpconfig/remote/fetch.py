"""Fetch the live organization and plan against it: the one network step of ``plan``.

Owns which lists to ask for: the active controls always (one request, the whole organization),
and the archived ones only when a manifest declares an archived control or declares one the
active list lacks, so that an archived control is never mistaken for a missing one. The number
of requests never grows with the number of controls. A selection (``plan --controls``) limits
both sides before the diff, and the desired side before the fetch. The users list is asked
for once, and only when a change writes an owner, to mark owners that cannot be written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hpconfig import hyperproof as hp
from hpconfig.control import Control
from hpconfig.diff import diff
from hpconfig.owners import directory, owners_to_check, with_owner_problems
from hpconfig.perf import paused_gc
from hpconfig.plan import Plan
from hpconfig.project_config import ProjectConfig
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.live import LiveSet, read_live

log = logging.getLogger("hpconfig.planning")


def fetch_live(client: HyperproofClient, desired: dict[str, Control]) -> LiveSet:
    with paused_gc():
        return _fetch_live(client, desired)


def _fetch_live(client: HyperproofClient, desired: dict[str, Control]) -> LiveSet:
    answers = client.list_controls()
    active = {
        a.get("controlIdentifier")
        for a in answers
        if isinstance(a, dict) and isinstance(a.get("controlIdentifier"), str)
    }
    wants_archived = any(c.values.get("status") == hp.STATUS_ARCHIVED for c in desired.values())
    if wants_archived or any(identifier not in active for identifier in desired):
        log.debug("asking for archived controls too")
        answers = [*answers, *client.list_controls(status=hp.STATUS_ARCHIVED)]
    return read_live(answers)


def fetch_again(client: HyperproofClient, identifiers: set[str], restores: bool) -> LiveSet:
    """Apply's stale check: the active list, and the archived one only when a control to
    restore is expected there or a planned identifier is not active (created or archived since)."""
    answers = client.list_controls()
    active = {a.get("controlIdentifier") for a in answers if isinstance(a, dict)}
    if restores or not identifiers <= active:
        answers = [*answers, *client.list_controls(status=hp.STATUS_ARCHIVED)]
    return read_live(answers)


def make_plan(
    client: HyperproofClient,
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
    owners: bool = True,
) -> Plan:
    """The plan; with ``only``, of the controls whose identifier it accepts, on both sides;
    with ``owners``, its owners checked (apply checks them itself, with the same one list)."""
    if only is not None:
        desired = {key: control for key, control in desired.items() if only(key)}
    live = fetch_live(client, desired)
    controls, not_compared, problems = live.controls, live.not_compared, live.problems
    if only is not None:
        controls = {key: control for key, control in controls.items() if only(key)}
        not_compared = {key: item for key, item in not_compared.items() if only(key)}
        problems = tuple(p for p in problems if not p.identifier or only(p.identifier))
    plan = diff(desired, controls, config.ignore, config.limits, not_compared, problems)
    return check_owners(client, plan) if owners else plan


def check_owners(client: HyperproofClient, plan: Plan) -> Plan:
    """Mark each change whose owner cannot be written (unknown, deactivated, a service
    account), from one ``GET /v1/users`` that is made only when some change writes an owner."""
    if not owners_to_check(plan):
        return plan
    return with_owner_problems(plan, directory(client.list_users(include_deactivated=True)))
