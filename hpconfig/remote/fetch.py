"""Fetch the live organization and plan against it: the one network step of ``plan``.

Owns which lists to ask for: the active controls always (one request, the whole organization),
and the archived ones only when a manifest declares an archived control or declares one the
active list lacks, so that an archived control is never mistaken for a missing one. The number
of requests never grows with the number of controls. A selection (``plan --controls``) limits
both sides before the diff, and the desired side before the fetch. The users list is asked
for once, and only when a change writes an owner, to mark owners that cannot be written. Also
owns how a large organization is shared out to worker processes for the plan
(``plan_of_answers``): by identifier, so that each share is whole.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig import workers
from hpconfig.control import Control
from hpconfig.diff import Compared, assemble, compare, diff
from hpconfig.owners import directory, owners_to_check, with_owner_problems
from hpconfig.perf import paused_gc
from hpconfig.plan import Plan
from hpconfig.project_config import ProjectConfig
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.live import LiveSet, each_once, read_live

log = logging.getLogger("hpconfig.planning")


def fetch_live(client: HyperproofClient, desired: dict[str, Control]) -> LiveSet:
    with paused_gc():
        return read_live(fetch_answers(client, desired))


def fetch_answers(client: HyperproofClient, desired: dict[str, Control]) -> list[Any]:
    """The organization's controls as the API lists them (the active ones, and the archived
    ones when ``desired`` may need them), unchecked."""
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
    return answers


def _share_of(identifier: str, count: int) -> int:
    """The share of an identifier: the same in every run (a plan is reproducible, and so are
    its tests), and about as many identifiers in each."""
    return zlib.crc32(identifier.encode("utf-8", "surrogatepass")) % count


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
    with paused_gc():
        plan = plan_of_answers(fetch_answers(client, desired), desired, config, only)
    return check_owners(client, plan) if owners else plan


def plan_of_answers(
    answers: list[Any],
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
) -> Plan:
    """``plan_from_live(read_live(answers), ...)``, on several cores for a large organization:
    the answers are shared out by identifier (every answer of one identifier in one share, so
    that each share finds the duplicates and the unmanaged controls of its identifiers), each
    worker checks, converts and compares its share with the declared controls of its
    identifiers and hands back only what it found (``diff.Compared``), and the plan is
    assembled here. The same plan as one process makes (tests compare them)."""
    count = workers.jobs(len(answers), len(answers), workers.MIN_PARALLEL_CONTROLS)
    if count == 1:
        return plan_from_live(read_live(answers), desired, config, only)
    shares: list[list[Any]] = [[] for _ in range(count)]
    held: set[str] = set()
    for api in each_once(answers):  # a share cannot see that another holds the same id
        key = api.get("controlIdentifier") if isinstance(api, dict) else None
        key = key if isinstance(key, str) else ""
        held.add(key)
        shares[_share_of(key, count)].append(api)
    mine: list[dict[str, Control]] = [{} for _ in range(count)]
    creates: dict[str, Control] = {}
    for key, control in desired.items():
        if key in held:
            mine[_share_of(key, count)][key] = control
        else:
            creates[key] = control

    def compare_share(index: int) -> tuple[Compared, tuple[Any, ...]]:
        live = read_live(shares[index])
        controls, not_compared, problems = live.controls, live.not_compared, live.problems
        if only is not None:
            controls = {key: control for key, control in controls.items() if only(key)}
            not_compared = {key: item for key, item in not_compared.items() if only(key)}
            problems = tuple(p for p in problems if not p.identifier or only(p.identifier))
        return compare(mine[index], controls, config.ignore, not_compared), problems

    found = workers.map_shares(
        compare_share, list(range(count)), [range(i, i + 1) for i in range(count)]
    )
    parts = [part for part, _ in found] + [compare(creates, {}, config.ignore)]
    problems = tuple(sorted(p for _, share_problems in found for p in share_problems))
    return assemble(parts, config.ignore, config.limits, problems)


def plan_and_live(
    client: HyperproofClient,
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
    owners: bool = True,
) -> tuple[Plan, dict[str, Control]]:
    """The plan, and the live controls it compared (what ``refresh`` writes back)."""
    if only is not None:
        desired = {key: control for key, control in desired.items() if only(key)}
    live = fetch_live(client, desired)
    plan = plan_from_live(live, desired, config, only)
    controls = live.controls
    if only is not None:
        controls = {key: control for key, control in controls.items() if only(key)}
    return (check_owners(client, plan) if owners else plan), controls


def plan_from_live(
    live: LiveSet,
    desired: dict[str, Control],
    config: ProjectConfig,
    only: Callable[[str], bool] | None = None,
    users: Iterable[Any] | None = None,
) -> Plan:
    """The plan of a live set already fetched (``plan --check`` fetches once for both); with
    ``users`` (a users list fetched already), its owners checked against them."""
    if only is not None:
        desired = {key: control for key, control in desired.items() if only(key)}
    controls, not_compared, problems = live.controls, live.not_compared, live.problems
    if only is not None:
        controls = {key: control for key, control in controls.items() if only(key)}
        not_compared = {key: item for key, item in not_compared.items() if only(key)}
        problems = tuple(p for p in problems if not p.identifier or only(p.identifier))
    plan = diff(desired, controls, config.ignore, config.limits, not_compared, problems)
    if users is not None and owners_to_check(plan):
        plan = with_owner_problems(plan, directory(users))
    return plan


def check_owners(client: HyperproofClient, plan: Plan) -> Plan:
    """Mark each change whose owner cannot be written (unknown, deactivated, a service
    account), from one ``GET /v1/users`` that is made only when some change writes an owner."""
    if not owners_to_check(plan):
        return plan
    return with_owner_problems(plan, directory(client.list_users(include_deactivated=True)))
