"""A check's report → JSON, GitHub workflow annotations and SARIF. Pure.

JSON is ``CheckReport.to_dict`` (``schemas/check.schema.json``), inert like the plan's. The
annotations: failing results first (as errors), then alarms of warning and notice rules, each on
the manifest line that declares the control (a control no manifest declares: on the line of the
rule that raised it), capped as ``render.github`` caps them. SARIF: one reporting descriptor per
rule (``ruleId`` is the rule's id), one result per alarm or error, a waived alarm with an
external suppression and its justification, a baselined one with ``baselineState:
unchanged``, and fingerprints of rule and control (never of values), so code scanning tracks an
alarm across runs and closes it when it goes. The machinery (URIs, plain text, the caps) is
``render.sarif``'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hpconfig.assertions.evaluate import Result, Status, fingerprint
from hpconfig.assertions.report import CheckReport
from hpconfig.assertions.rules import Rule
from hpconfig.render.github import Annotation, render_annotations
from hpconfig.render.json import dump_document
from hpconfig.render.sarif import HELP_URI, MAX_RESULTS, _Artifacts, _location, plain

FINGERPRINT_KEY = "hpconfig/check-rule-control/v1"
LEVELS = {"error": "error", "warning": "warning", "notice": "note"}
CHECK_HELP_URI = HELP_URI.replace("#sarif-for-code-scanning", "#hpconfig-check-path")


def render_json(report: CheckReport) -> str:
    return dump_document(report.to_dict())


def _rule_of(report: CheckReport, rule_id: str) -> Rule | None:
    return next((rule for rule in report.rules if rule.id == rule_id), None)


def _annotation(report: CheckReport, result: Result) -> Annotation:
    rule = _rule_of(report, result.rule)
    where = result.source or (rule.source if rule else None)
    level = (
        "error"
        if result.fails
        else {"error": "error", "warning": "warning"}.get(result.severity, "notice")
    )
    if not result.fails and result.status == Status.ALARM and result.severity == "error":
        level = "warning"  # accepted, yet worth seeing
    subject = result.identifier if result.source else f"{result.identifier} (id {result.live_id})"
    return Annotation(
        level,
        f"{subject}: {result.reason}",
        file=where.file if where else None,
        line=where.line if where else 0,
        title=f"Check {result.rule}: {result.outcome}",
    )


def check_annotations(report: CheckReport) -> list[Annotation]:
    shown = [r for r in report.noteworthy() if r.outcome in ("alarm", "error")]
    return [_annotation(report, result) for result in shown]


def render_check_annotations(report: CheckReport) -> str:
    return render_annotations(
        check_annotations(report), "the full check is in this step's log and its JSON report"
    )


def _markdown(text: str) -> str:
    from hpconfig.render.markdown import prose

    return prose(text)


def _descriptor(rule: Rule) -> dict[str, Any]:
    help_text = (
        f"{rule.title}. An alarm of this rule means a control in Hyperproof does not meet it. "
        "Fix the control in Hyperproof (or its manifest, then apply), or accept the alarm with "
        "a waiver (a reason, an approver, a ticket and an expiry date) in the rule file."
    )
    return {
        "id": rule.id,
        "shortDescription": {"text": plain(rule.title)},
        "fullDescription": {"text": plain(rule.title)},
        "help": {
            "text": plain(help_text),
            "markdown": "**hpconfig check.** " + _markdown(help_text),
        },
        "helpUri": CHECK_HELP_URI,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["compliance", "hpconfig-check"]},
    }


def _result(
    report: CheckReport, result: Result, index: int, artifacts: _Artifacts
) -> dict[str, Any]:
    rule = _rule_of(report, result.rule)
    where = result.source or (rule.source if rule else None)
    subject = result.identifier if result.source else f"{result.identifier} (id {result.live_id})"
    document: dict[str, Any] = {
        "ruleId": result.rule,
        "ruleIndex": index,
        "level": "error" if result.status == Status.ERROR else LEVELS[result.severity],
        "message": {"text": plain(f"{subject}: {result.reason}")},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(result.rule, result.identifier)},
        "properties": {
            "identifier": result.identifier,
            "id": result.live_id,
            "status": result.status.value,
        },
        "baselineState": "unchanged" if result.baselined else "new",
    }
    if where is not None:
        document["locations"] = [_location(artifacts, where.file, where.line, where.column)]
    if result.source is None:
        document.setdefault("locations", [{}])[0]["logicalLocations"] = [
            {
                "name": result.identifier,
                "kind": "object",
                "fullyQualifiedName": f"hyperproof/controls/{result.identifier}",
            }
        ]
    if result.waiver is not None:
        justification = result.waiver.reason
        if result.waiver.expires:
            justification += f" (until {result.waiver.expires.isoformat()})"
        document["suppressions"] = [{"kind": "external", "justification": plain(justification)}]
    return document


def sarif_parts(
    report: CheckReport, artifacts: _Artifacts, offset: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The check's reporting descriptors and results; rule indexes start at ``offset``."""
    descriptors = [_descriptor(rule) for rule in report.rules]
    index = {rule.id: offset + number for number, rule in enumerate(report.rules)}
    results = [
        _result(report, result, index[result.rule], artifacts)
        for result in report.noteworthy()
        if result.status in (Status.ALARM, Status.ERROR) and result.rule in index
    ]
    return descriptors, results


def sarif_document(
    report: CheckReport, root: Path | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    from hpconfig import __version__
    from hpconfig.render.sarif import INFORMATION_URI, SARIF_SCHEMA, SRCROOT

    descriptors, results = sarif_parts(report, _Artifacts(root, cwd))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "hpconfig",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}}
    cap_results(run)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def cap_results(run: dict[str, Any], limit: int = MAX_RESULTS) -> None:
    """At most ``limit`` results (code scanning rejects more), failing ones first as they come,
    and a notification that says how many were left out."""
    results = run["results"]
    if len(results) <= limit:
        return
    run["results"] = results[:limit]
    notification = {
        "level": "warning",
        "descriptor": {"id": "HPC901"},
        "message": {
            "text": f"{len(results) - limit} of {len(results)} results were left out: code "
            f"scanning accepts at most {limit} a run. The JSON report has every result."
        },
    }
    invocations = run.setdefault("invocations", [{"executionSuccessful": True}])
    invocations[0].setdefault("toolExecutionNotifications", []).append(notification)


def render_sarif(report: CheckReport, root: Path | None = None, cwd: Path | None = None) -> str:
    return json.dumps(sarif_document(report, root, cwd), indent=2, ensure_ascii=False) + "\n"
