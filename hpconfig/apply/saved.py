"""A saved plan (the JSON report of ``plan --out``) ↔ a ``Plan`` apply can execute.

Owns the inputs' digest (``inputs_digest``: the desired values of the planned controls, the
ignore rules, the safety limits and the selection, canonical JSON, sha256), the reading of a
saved plan back into a ``Plan`` (each change's target, the manifest's values, the live values
and fingerprint), and the checks that refuse one: malformed, not a saved plan, a fingerprint
that does not digest its live values (exit 3, ``InputProblem``); made by another hpconfig, for
another API, or from other manifests than those here now (exit 5, ``UnsafePlanError``). Pure:
the caller reads the file and validates it against ``plan.schema.json`` first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from hpconfig.control import FIELDS_BY_NAME, Control, api_values, fingerprint
from hpconfig.errors import InputProblem, Location, UnsafePlanError
from hpconfig.plan import (
    FORMAT_VERSION,
    SAVED_PLAN_VERSION,
    Change,
    ChangeKind,
    FieldChange,
    Plan,
    PlanContext,
)
from hpconfig.project_config import IgnoreRule
from hpconfig.safety import Safety, SafetyLimits

REPLAN = "run `hpconfig plan --out FILE` again and have the new plan reviewed"


def inputs_digest(
    desired: Mapping[str, Control],
    rules: Iterable[IgnoreRule],
    limits: SafetyLimits,
    controls: Iterable[str] = (),
) -> str:
    """sha256 of what a plan was made from, apart from Hyperproof: a manifest or
    ``hpconfig.yaml`` changed since the plan changes it; a comment or a reordering does not."""
    document = {
        "controls": {key: desired[key].values for key in sorted(desired)},
        "ignore": [rule.to_dict() for rule in rules],
        "limits": limits.to_dict(),
        "selection": sorted(controls),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _malformed(file: str, why: str) -> InputProblem:
    return InputProblem(f"{file}: not a plan hpconfig apply can use: {why}; {REPLAN}")


def _change(document: dict[str, Any]) -> Change:
    source = document.get("source")
    live = document.get("live") or {}
    return Change(
        identifier=document["identifier"],
        action=ChangeKind(document["action"]),
        source=Location(source["file"], source["line"]) if source else None,
        fields=tuple(
            FieldChange(item["field"], item["expected"], item["actual"])
            for item in document["fields"]
        ),
        live_id=live.get("id"),
        updated_by=live.get("updatedBy"),
        updated_on=live.get("updatedOn"),
        ignored=tuple(document.get("ignored_fields", ())),
        target=dict(document.get("target", {})),
        fingerprint=live.get("fingerprint"),
        wanted=dict(document.get("target_values", {})),
        seen=dict(live.get("values") or {}),
        problems=tuple(document.get("problems", ())),
    )


def _check_change(file: str, change: Change) -> None:
    where = f"the change of {change.identifier!r}"
    if set(change.wanted) - set(FIELDS_BY_NAME) or len(change.target) != len(change.wanted):
        raise _malformed(file, f"{where} has a target its values do not match")
    if change.action.existing:
        if not change.live_id or not change.fingerprint:
            raise _malformed(file, f"{where} names no live control or fingerprint")
        live = Control(change.identifier, change.seen, {})
        if fingerprint(live, change.seen) != change.fingerprint:
            raise _malformed(file, f"{where} has live values its fingerprint does not digest")


def read_saved(file: str, document: Any) -> Plan:
    """A saved plan's document (valid against ``plan.schema.json``) → its ``Plan``."""
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise _malformed(file, f"its format_version is not {FORMAT_VERSION!r}")
    section = document.get("apply")
    if not isinstance(section, dict):
        raise _malformed(
            file, "it has no `apply` section (a report of `plan --format json`, not `--out`?)"
        )
    if section.get("saved_plan_version") != SAVED_PLAN_VERSION:
        raise _malformed(file, f"its saved_plan_version is not {SAVED_PLAN_VERSION!r}")
    changes = tuple(_change(item) for item in document["changes"])
    seen: set[str] = set()
    for change in changes:
        if change.identifier in seen:
            raise _malformed(file, f"{change.identifier!r} has two changes")
        seen.add(change.identifier)
        _check_change(file, change)
    safety = document.get("safety") or {}
    context = PlanContext(
        hpconfig_version=section["hpconfig_version"],
        api_url=section["api_url"],
        manifests_digest=section["manifests_digest"],
        paths=tuple(section["paths"]),
        controls=tuple(section["controls"]),
    )
    summary = document["summary"]
    return Plan(
        changes=changes,
        unmanaged=(),
        in_sync=summary["in_sync"],
        safety=Safety(
            updates=sum(1 for c in changes if c.action.existing),
            existing=int(safety.get("existing", 0)),
            max_percent=float(safety.get("max_change_percent", 100)),
            min_controls=int(safety.get("min_controls", 0)),
        ),
        context=context,
    )


def check_compatible(file: str, plan: Plan, version: str, api_url: str, digest: str) -> None:
    """Refuse a saved plan made by another hpconfig, for another API, or from other inputs."""
    context = plan.context
    assert context is not None
    if context.hpconfig_version != version:
        raise UnsafePlanError(
            f"{file} was made by hpconfig {context.hpconfig_version} and this is {version}: a "
            f"saved plan is applied by the version that made it; {REPLAN}"
        )
    if context.api_url.rstrip("/") != api_url.rstrip("/"):
        raise UnsafePlanError(
            f"{file} was made against {context.api_url}, not {api_url}: refusing to apply it "
            f"to another organization; check HYPERPROOF_API_URL (or --region), or {REPLAN}"
        )
    if context.manifests_digest != digest:
        raise UnsafePlanError(
            f"{file} was made from other manifests or another hpconfig.yaml than those here "
            f"now (the inputs' digest differs): apply only what was reviewed; {REPLAN}"
        )


def check_targets(file: str, plan: Plan, desired: Mapping[str, Control]) -> None:
    """Each change writes what the manifests here say, and nothing else: a plan file edited
    after it was made (its targets) is refused even without ``--plan-sha256``."""
    for change in plan.changes:
        want = desired.get(change.identifier)
        follows = want is not None and all(
            name in want.values and want.values[name] == value
            for name, value in change.wanted.items()
        )
        if not follows or api_values(change.wanted) != change.target:
            raise UnsafePlanError(
                f"{file}: the change of {change.identifier!r} does not follow from the manifests "
                f"here (was the file edited?); nothing was written; {REPLAN}"
            )
