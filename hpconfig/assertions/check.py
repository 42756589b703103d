"""One check run: live records and the manifests' declarations → the report.

Owns the joining of both sides (a control a manifest declares is *managed*, and its results are
located at the line that declares it; any other is located by identifier and Hyperproof id),
the controls Hyperproof holds but hpconfig could not read (malformed, or an identifier held by
two controls: an ``error`` result for every rule whose identifier patterns take them, since no
rule can judge them), and the baseline's part. Pure.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hpconfig.assertions import cel
from hpconfig.assertions.evaluate import Result, Status, Subject, evaluate, uses_cel
from hpconfig.assertions.report import CheckReport, fixed_entries
from hpconfig.assertions.ruleset import RuleSet
from hpconfig.errors import Location


def subjects(records: Sequence[dict[str, Any]], sources: Mapping[str, Location]) -> list[Subject]:
    """Records with ``managed`` and ``source`` filled in from the manifests' declarations."""
    found = []
    for record in records:
        source = sources.get(record["identifier"])
        record = {
            **record,
            "managed": source is not None,
            "source": f"{source.file}:{source.line}" if source else "",
        }
        found.append(Subject(record["identifier"], record["id"] or None, record, source))
    return found


def _unreadable(
    ruleset: RuleSet,
    unreadable: Sequence[tuple[str, tuple[str, ...], str]],
    sources: Mapping[str, Location],
) -> list[Result]:
    results = []
    for identifier, ids, detail in unreadable:
        for rule in ruleset.rules:
            globs = rule.selection.controls
            if globs and not any(fnmatch.fnmatchcase(identifier, g) for g in globs):
                continue
            results.append(
                Result(
                    rule=rule.id,
                    severity=rule.severity,
                    identifier=identifier,
                    live_id=", ".join(ids) or None,
                    status=Status.ERROR,
                    reason=f"Hyperproof's copy could not be read: {detail}",
                    source=sources.get(identifier),
                )
            )
    return results


def run_check(
    ruleset: RuleSet,
    records: Sequence[dict[str, Any]],
    sources: Mapping[str, Location],
    now: datetime,
    unreadable: Sequence[tuple[str, tuple[str, ...], str]] = (),
    baseline: frozenset[tuple[str, str]] = frozenset(),
    backend: str | None = None,
) -> CheckReport:
    """Every rule on every control it selects; ``sources``: identifier → declaring line."""
    results = evaluate(ruleset, subjects(records, sources), now, baseline, backend)
    results += _unreadable(ruleset, unreadable, sources)
    ordered = tuple(sorted(results, key=Result.sort_key))
    return CheckReport(
        rules=ruleset.rules,
        results=ordered,
        controls=len(records) + len(unreadable),
        fixed=fixed_entries(baseline, ordered),
        backend=(backend or cel.default_backend()) if any(map(uses_cel, ruleset.rules)) else "",
    )
