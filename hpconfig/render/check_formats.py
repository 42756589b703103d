"""A check's report formats by name, alone (``check``) and with a plan (``plan --check``).

The same table as ``render.formats`` (and its ``ReportOptions``): each renderer gives the parts
to print with their kinds. With a plan, both go in one report: the plan's text then the check's;
one JSON document (the plan's, with the check under ``"check"``); one Markdown comment (the
plan's, then the check's section, within one size limit); the plan's annotations and the
check's under one cap; one SARIF run holding both sets of rules and results. Pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from hpconfig.assertions.report import CheckReport
from hpconfig.plan import Plan
from hpconfig.render import check_machine, check_text
from hpconfig.render.formats import Part, ReportOptions
from hpconfig.render.github import Annotation, change_annotation, quarantine, render_annotations
from hpconfig.render.json import dump_document
from hpconfig.render.markdown import COMMENT_LIMIT
from hpconfig.render.markdown import render_markdown as plan_markdown
from hpconfig.render.sarif import _Artifacts, sarif_document
from hpconfig.render.text import render_text as plan_text


def _github(log_text: str, annotations: list[Annotation]) -> list[Part]:
    commands = render_annotations(
        annotations, "the full report is in this step's log and in its JSON and SARIF reports"
    )
    return [
        (part, "commands" if is_command else "text")
        for part, is_command in quarantine(log_text, commands)
    ]


CHECK_FORMATS: dict[str, Callable[[CheckReport, ReportOptions], list[Part]]] = {
    "text": lambda report, o: [(check_text.render_text(report, color=o.color), "text")],
    "json": lambda report, o: [(check_machine.render_json(report), "json")],
    "markdown": lambda report, o: [(check_text.render_markdown(report, context=o.run), "text")],
    "github": lambda report, o: _github(
        check_text.render_text(report), check_machine.check_annotations(report)
    ),
    "sarif": lambda report, o: [(check_machine.render_sarif(report, o.root, o.cwd), "json")],
}

Both = tuple[Plan, CheckReport]


def _text(both: Both, o: ReportOptions) -> list[Part]:
    plan, report = both
    text = plan_text(plan, color=o.color, show_unmanaged=o.show_unmanaged)
    return [(text + "\n" + check_text.render_text(report, color=o.color), "text")]


# The last pair rendered and its text (as ``render.json``'s: --out, the digest and the
# Markdown's digest are of one rendering).
_last: tuple[Both, str] | None = None


def both_json(both: Both) -> str:
    """One JSON document: the plan's, with the check under ``"check"`` (what ``--out`` saves)."""
    global _last
    if _last is None or _last[0] is not both:
        plan, report = both
        document: dict[str, Any] = {**plan.to_dict(), "check": report.to_dict()}
        _last = (both, dump_document(document))
    return _last[1]


def both_sha256(both: Both) -> str:
    """The digest of the saved document, as ``sha256sum`` and ``apply --plan-sha256`` see it."""
    return hashlib.sha256(both_json(both).encode("utf-8")).hexdigest()


def _json(both: Both, o: ReportOptions) -> list[Part]:
    return [(both_json(both), "json")]


def _markdown(both: Both, o: ReportOptions) -> list[Part]:
    plan, report = both
    check = check_text.render_markdown(report, COMMENT_LIMIT // 2, marker=False)
    size = len(check.encode("utf-8"))
    digest = both_sha256(both) if plan.context is not None else None
    text = plan_markdown(plan, COMMENT_LIMIT - size - 10, context=o.run, digest=digest)
    return [(text + "\n" + check, "text")]


def _github_both(both: Both, o: ReportOptions) -> list[Part]:
    plan, report = both
    log_text = (
        plan_text(plan, show_unmanaged=o.show_unmanaged) + "\n" + check_text.render_text(report)
    )
    failing = [a for a in check_machine.check_annotations(report) if a.level == "error"]
    others = [a for a in check_machine.check_annotations(report) if a.level != "error"]
    drift = [
        change_annotation(change)
        for change in sorted(plan.changes, key=lambda c: (c.action != "update", c.identifier))
    ]
    return _github(log_text, failing + drift + others)


def _sarif(both: Both, o: ReportOptions) -> list[Part]:
    plan, report = both
    document = sarif_document(plan, o.root, o.cwd)
    run = document["runs"][0]
    rules = list(run["tool"]["driver"]["rules"])
    descriptors, results = check_machine.sarif_parts(report, _Artifacts(o.root, o.cwd), len(rules))
    run["tool"]["driver"]["rules"] = rules + descriptors
    run["results"] = run["results"] + results
    check_machine.cap_results(run)
    return [(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "json")]


PLAN_CHECK_FORMATS: dict[str, Callable[[Both, ReportOptions], list[Part]]] = {
    "text": _text,
    "json": _json,
    "markdown": _markdown,
    "github": _github_both,
    "sarif": _sarif,
}
