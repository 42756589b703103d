"""GitHub Actions workflow commands (``::error file=...,line=...::message``).

GitHub shows at most 10 annotations of a kind per step and drops the rest silently, so callers
pass the most important first and this module ends with one notice that says how many it left
out and where to see them.

hpconfig's annotations are the only commands it prints. Their text from data is made inert,
then escaped by GitHub's rules (``%``, CR and LF; ``:`` and ``,`` too in properties). The log
that comes before them (the text report, the list of problems) is printed between
``::stop-commands::<token>`` and ``::<token>::`` (``quarantine``), with a token derived from
that log so that no data can contain it; its lines are also guarded one by one
(``hpconfig.untrusted.guard_log``) wherever they are printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hpconfig.errors import Problem
from hpconfig.plan import Change, ChangeKind, Plan
from hpconfig.render.text import ARCHIVE_NOTE, RESTORE_NOTE, value_text
from hpconfig.untrusted import inert, stop_token

ANNOTATIONS_PER_STEP = 10


def escape_data(text: str) -> str:
    """A command's message: inert (so no CR or LF is left), then ``%`` escaped."""
    return inert(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    message: str
    file: str | None = None
    line: int = 0
    column: int = 0
    title: str | None = None

    def command(self) -> str:
        properties = []
        if self.file:
            properties.append(f"file={escape_property(self.file)}")
        if self.line:
            properties.append(f"line={self.line}")
        if self.column:
            properties.append(f"col={self.column}")
        if self.title:
            properties.append(f"title={escape_property(self.title)}")
        joined = " " + ",".join(properties) if properties else ""
        return f"::{self.level}{joined}::{escape_data(self.message)}"


def quarantine(log: str, commands: str) -> list[tuple[str, bool]]:
    """``log`` between ``::stop-commands::`` and its resume line, then ``commands``; each part
    says whether it is hpconfig's own commands (True) or text from data (False)."""
    if not log:
        return [(commands, True)]
    token = stop_token(log)
    return [
        (f"::stop-commands::{token}\n", True),
        (log, False),
        (f"::{token}::\n", True),
        (commands, True),
    ]


def render_annotations(
    annotations: Sequence[Annotation], where: str, limit: int = ANNOTATIONS_PER_STEP
) -> str:
    """Workflow commands, at most ``limit``; the last says how many more and ``where`` to look."""
    if len(annotations) <= limit:
        shown, rest = list(annotations), 0
    else:
        shown, rest = list(annotations[: limit - 1]), len(annotations) - (limit - 1)
    lines = [annotation.command() for annotation in shown]
    if rest:
        more = Annotation(
            "notice",
            f"{rest} more not shown as annotations (GitHub shows {limit} per step); {where}",
            title="hpconfig: more findings",
        )
        lines.append(more.command())
    return "\n".join(lines) + ("\n" if lines else "")


def _value(value: object, limit: int = 120) -> str:
    text = value_text(value)
    return text if len(text) <= limit else text[: limit - 4] + '..."'


def problem_annotation(problem: Problem, title: str) -> Annotation:
    return Annotation(
        problem.severity.value,
        f"{problem.path}: {problem.message}" if problem.path else problem.message,
        file=problem.location.file,
        line=problem.location.line,
        column=problem.location.column,
        title=title,
    )


def _missing_annotation(change: Change) -> Annotation:
    source = change.source
    return Annotation(
        "warning",
        "declared here but not found in Hyperproof; apply will create it",
        file=source.file if source else None,
        line=source.line if source else 0,
        title=f"Missing in Hyperproof: {change.identifier}",
    )


def _drift_annotation(change: Change) -> Annotation:
    source = change.source
    parts = [
        f"{item.field}: {_value(item.expected)} in git, {_value(item.actual)} in Hyperproof"
        for item in change.fields
    ]
    if change.updated_by:
        parts.append(f"changed by {change.updated_by} on {(change.updated_on or '')[:10]}")
    return Annotation(
        "warning",
        "; ".join(parts),
        file=source.file if source else None,
        line=source.line if source else 0,
        title=f"Drift: {change.identifier}",
    )


def _restated(annotation: Annotation, level: str, prefix: str, title: str) -> Annotation:
    """``annotation`` at the same place, as ``level``, its message after ``prefix``."""
    return Annotation(
        level, prefix + annotation.message, file=annotation.file, line=annotation.line, title=title
    )


def _archive_annotation(change: Change) -> Annotation:
    return _restated(
        _drift_annotation(change),
        "error",
        f"{ARCHIVE_NOTE}. ",
        f"Archive (destroys links): {change.identifier}",
    )


def _restore_annotation(change: Change) -> Annotation:
    return _restated(
        _drift_annotation(change), "warning", f"{RESTORE_NOTE}. ", f"Restore: {change.identifier}"
    )


BY_KIND: dict[ChangeKind, Callable[[Change], Annotation]] = {
    ChangeKind.CREATE: _missing_annotation,
    ChangeKind.UPDATE: _drift_annotation,
    ChangeKind.RESTORE: _restore_annotation,
    ChangeKind.ARCHIVE: _archive_annotation,
}


def change_annotation(change: Change) -> Annotation:
    annotation = BY_KIND[change.action](change)
    if not change.problems:
        return annotation
    return _restated(
        annotation,
        "error",
        "cannot apply: " + "; ".join(change.problems) + ". ",
        f"Cannot apply: {change.identifier}",
    )


def render_plan_annotations(plan: Plan, limit: int = ANNOTATIONS_PER_STEP) -> str:
    """Drift on live controls first (someone changed Hyperproof), then missing controls."""
    ordered = sorted(plan.changes, key=lambda c: (c.action == "create", c.identifier))
    return render_annotations(
        [change_annotation(change) for change in ordered],
        "the full plan is in this step's log and in its JSON and SARIF reports",
        limit,
    )
