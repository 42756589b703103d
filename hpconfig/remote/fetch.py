"""Fetch the live organization and plan against it: the one network step of ``plan``.

Owns which lists to ask for: the active controls always (one request, the whole organization),
and the archived ones only when a manifest declares an archived control or declares one the
active list lacks, so that an archived control is never mistaken for a missing one. The number
of requests never grows with the number of controls. A selection (``plan --controls``) limits
both sides before the diff, and the desired side before the fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hpconfig import hyperproof as hp
from hpconfig.control import Control
from hpconfig.diff import diff
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


def make_plan(
    client: HyperproofClient,
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
) -> Plan:
    """The plan; with ``only``, of the controls whose identifier it accepts, on both sides."""
    return plan_and_live(client, desired, config, only)[0]


def plan_and_live(
    client: HyperproofClient,
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
) -> tuple[Plan, dict[str, Control]]:
    """The plan, and the live controls it compared (what ``refresh`` writes back)."""
    if only is not None:
        desired = {key: control for key, control in desired.items() if only(key)}
    live = fetch_live(client, desired)
    controls, not_compared, problems = live.controls, live.not_compared, live.problems
    if only is not None:
        controls = {key: control for key, control in controls.items() if only(key)}
        not_compared = {key: item for key, item in not_compared.items() if only(key)}
        problems = tuple(p for p in problems if not p.identifier or only(p.identifier))
    plan = diff(desired, controls, config.ignore, config.limits, not_compared, problems)
    return plan, controls
