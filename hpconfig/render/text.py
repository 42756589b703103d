"""Plan → the terminal report, like Terraform's: a symbol per action, then `field: old → new`.

Pure. Colour is a parameter (the CLI decides: a terminal, and no NO_COLOR); multi-line text
changes show as a unified diff, every line of it indented. Everything that comes from data (an
identifier, a file name, a value, a user, an ignore rule's reason) goes through
``hpconfig.untrusted.inert``, so its control characters show as escapes and its newlines never
start an output line.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from hpconfig.plan import Change, ChangeKind, Plan
from hpconfig.untrusted import inert

SYMBOLS = {
    ChangeKind.CREATE: "+",
    ChangeKind.UPDATE: "~",
    ChangeKind.RESTORE: "^",
    ChangeKind.ARCHIVE: "-",
}
BY_KIND = SYMBOLS
COLOURS = {
    "create": "32",
    "update": "33",
    "restore": "36",
    "archive": "31",
    "dim": "2",
    "bold": "1",
    "red": "31",
    "green": "32",
}
# What each destroy- or restore-class change means, said under it in every report.
ARCHIVE_NOTE = (
    "archive: Hyperproof removes its links to requirements, risks, scopes and tasks, and "
    "unarchiving does not bring them back; apply needs --allow-archive"
)
RESTORE_NOTE = (
    "restore (unarchive): its former links to requirements, risks, scopes and tasks do not "
    "come back; cancelled tasks stay cancelled"
)
KIND_NOTES = {ChangeKind.ARCHIVE: ARCHIVE_NOTE, ChangeKind.RESTORE: RESTORE_NOTE}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, colour: str) -> str:
        return f"\x1b[{COLOURS[colour]}m{text}\x1b[0m" if self.enabled else text


def value_text(value: Any) -> str:
    """A value as reports show it: strings JSON-quoted, every control character escaped."""
    if value is None:
        return "(none)"
    return inert(json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value))


def as_text(value: Any) -> str:
    """A value as the text a diff compares (nothing for no value)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def diff_lines(actual: str, expected: str) -> list[str]:
    """A unified diff of two texts, without its header; each line inert (``str.splitlines``
    also splits at the separators that ``inert`` would escape)."""
    diff = difflib.unified_diff(
        actual.splitlines(), expected.splitlines(), "hyperproof", "manifest", lineterm="", n=1
    )
    return [inert(line) for line in list(diff)[2:]]


def _field_lines(change: Change, paint: _Paint) -> list[str]:
    lines: list[str] = []
    for item in change.fields:
        expected, actual = item.expected, item.actual
        multiline = any(isinstance(v, str) and "\n" in v.strip() for v in (expected, actual))
        if change.action == "create":
            lines.append(f"      {item.field}: {value_text(expected)}")
        elif multiline:
            lines.append(f"      {item.field}:")
            for line in diff_lines(as_text(actual), as_text(expected)):
                colour = (
                    "red" if line.startswith("-") else "green" if line.startswith("+") else "dim"
                )
                lines.append("        " + paint(line, colour))
        else:
            lines.append(f"      {item.field}: {value_text(actual)} → {value_text(expected)}")
    return lines


def summary_line(plan: Plan) -> str:
    """``Plan: 1 to create, 3 to update. 36 in sync, 1 unmanaged.``: the last line of a report."""
    summary = plan.summary()
    if not plan.changes and plan.not_compared:
        text = f"No changes in what could be compared. {summary['in_sync']} in sync"
    elif not plan.changes:
        text = f"No changes. {summary['in_sync']} in sync"
    else:
        parts = [f"{summary[kind]} to {kind}" for kind in ChangeKind if summary[kind]]
        text = f"Plan: {', '.join(parts)}. {summary['in_sync']} in sync"
    if summary["unmanaged"]:
        text += f", {summary['unmanaged']} unmanaged"
    if plan.not_compared:
        text += f", {len(plan.not_compared)} could not be compared"
    return text + "."


def render_text(plan: Plan, color: bool = False, show_unmanaged: bool = False) -> str:
    paint = _Paint(color)
    lines: list[str] = []
    for change in plan.changes:
        where = f"  ({inert(change.source.file)}:{change.source.line})" if change.source else ""
        symbol = SYMBOLS[change.action]
        lines.append(
            paint(f"  {symbol} {inert(change.identifier)}", change.action) + paint(where, "dim")
        )
        if change.action in KIND_NOTES:
            lines.append(paint(f"      {KIND_NOTES[change.action]}", change.action))
        lines += _field_lines(change, paint)
        for problem in change.problems:
            lines.append(paint(f"      ! cannot apply: {inert(problem)}", "red"))
        if change.action.existing and (change.updated_by or change.updated_on):
            when = inert((change.updated_on or "").replace("T", " ").replace("Z", " UTC"))
            who = inert(change.updated_by or "someone")
            lines.append(paint(f"      changed in Hyperproof by {who} on {when}".rstrip(), "dim"))
        if change.ignored:
            lines.append(paint(f"      ignored: {', '.join(change.ignored)}", "dim"))
        lines.append("")
    for item in plan.not_compared:
        where = f"  ({inert(item.source.file)}:{item.source.line})" if item.source else ""
        lines.append(
            paint(f"  ! {value_text(item.identifier)} could not be compared", "red") + where
        )
        lines.append(f"      {inert(item.reason)}: {value_text(item.detail)}")
        lines.append("")
    if plan.live_problems:
        lines.append(f"Hyperproof data hpconfig could not use ({len(plan.live_problems)}):")
        lines += [
            f"  {value_text(p.id)} {value_text(p.identifier)} {inert(p.field)}: "
            f"{value_text(p.message)}"
            for p in plan.live_problems[:20]
        ]
        if len(plan.live_problems) > 20:
            lines.append(f"  ... and {len(plan.live_problems) - 20} more in the JSON report")
        lines.append("")
    if show_unmanaged and plan.unmanaged:
        lines.append("Unmanaged (in Hyperproof, in no manifest):")
        lines += [f"  ? {inert(item.identifier)}" for item in plan.unmanaged]
        lines.append("")
    for rule in plan.ignore_rules:
        scope = inert(", ".join(rule.controls)) if rule.controls else "all controls"
        until = f" (until {rule.expires.isoformat()})" if rule.expires else ""
        reason = inert(rule.reason)
        lines.append(paint(f"Ignored: {', '.join(rule.fields)} on {scope}: {reason}{until}", "dim"))
    if plan.safety is not None:
        for reason in plan.safety.reasons:
            lines.append(f"Warning: apply will refuse this plan without --force: {reason}.")
    if plan.problems:
        count = len(plan.problems)
        lines.append(
            f"Error: {count} change{'s' if count != 1 else ''} cannot be applied as planned "
            "(marked ! above); apply refuses the plan until the manifests are fixed."
        )
    lines.append(paint(summary_line(plan), "bold"))
    return "\n".join(lines) + "\n"
