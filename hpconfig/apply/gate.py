"""What refuses an apply before any write: problems, archives without permission, thresholds.

Owns the three refusals, in the order they are checked, each with what to do:

1. a change that cannot be made (an owner that is unknown, deactivated or a service account; a
   create without name or description): ``InputProblem``, exit 3: fix the manifests;
2. an archive without ``--allow-archive`` or ``safety.allowArchive``: ``UnsafePlanError``,
   exit 5; ``--force`` does not stand in for the permission;
3. a safety threshold exceeded: ``UnsafePlanError``, exit 5, unless ``--force``.

Also ``select`` (``--controls`` over a plan's changes). Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hpconfig.errors import InputProblem, UnsafePlanError
from hpconfig.plan import ChangeKind, Plan
from hpconfig.safety import Safety, SafetyLimits


def select(plan: Plan, only: Callable[[str], bool] | None) -> Plan:
    if only is None:
        return plan
    return replace(plan, changes=tuple(c for c in plan.changes if only(c.identifier)))


def safety_of(plan: Plan, limits: SafetyLimits) -> Safety:
    """The plan's figures against ``limits`` (what a saved plan was judged by is recomputed:
    the limits are part of its inputs' digest, so they are the same)."""
    existing = plan.safety.existing if plan.safety is not None else 0
    return Safety(
        updates=sum(1 for c in plan.changes if c.action.existing),
        existing=existing,
        max_percent=limits.max_change_percent,
        min_controls=limits.min_controls,
        creates=plan.count(ChangeKind.CREATE),
        archives=plan.count(ChangeKind.ARCHIVE),
        max_creates=limits.max_creates,
        max_archives=limits.max_archives,
    )


def _listed(items: list[str], limit: int = 20) -> str:
    shown = items[:limit] + ([f"and {len(items) - limit} more"] if len(items) > limit else [])
    return "\n".join(f"  {item}" for item in shown)


def refuse_if_unsafe(plan: Plan, limits: SafetyLimits, allow_archive: bool, force: bool) -> Safety:
    """Raise for the first refusal that holds; else the plan's ``Safety``."""
    if plan.problems:
        lines = [f"{c.identifier}: {problem}" for c in plan.problems for problem in c.problems]
        raise InputProblem(
            f"{len(plan.problems)} change(s) cannot be applied as planned; nothing was "
            f"written. Fix the manifests and plan again:\n{_listed(lines)}"
        )
    archives = [c.identifier for c in plan.changes if c.action == ChangeKind.ARCHIVE]
    unallowed = [i for i in archives if not (allow_archive or limits.may_archive(i))]
    if unallowed:
        raise UnsafePlanError(
            f"the plan archives {len(unallowed)} control(s) and archiving is destroy-class "
            "(Hyperproof removes their links to requirements, risks, scopes and tasks; "
            "unarchiving does not bring them back); nothing was written. Pass --allow-archive "
            f"(--force does not stand in for it) or list them under safety.allowArchive:\n"
            f"{_listed(unallowed)}"
        )
    safety = safety_of(plan, limits)
    if safety.exceeded and not force:
        raise UnsafePlanError(
            "the plan is over the safety limits of hpconfig.yaml; nothing was written: "
            + "; ".join(safety.reasons)
            + ". Review it, then pass --force to apply it anyway, or change safety: in "
            "hpconfig.yaml"
        )
    return safety
