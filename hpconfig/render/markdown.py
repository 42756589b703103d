"""Plan → a pull-request comment: a summary table, then one collapsible section per control.

Pure. GitHub refuses comments over 65,536 characters and step summaries over 1 MiB, so the
report is cut at ``limit``, counted in UTF-8 bytes (never fewer than characters): the summary
always survives, controls are dropped from the end, and the report says how many it left out
and where the full report is.
"""

from __future__ import annotations

from hpconfig.plan import Change, Plan
from hpconfig.render.text import value_text

MARKER = "<!-- hpconfig-plan -->"
COMMENT_LIMIT = 65_000
STEP_SUMMARY_LIMIT = 1024 * 1024 - 1024  # GitHub's 1 MiB per step, less room for other steps


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _section(change: Change) -> str:
    symbol = {"create": "➕ create", "update": "✏️ update"}[change.action]
    where = f" — `{change.source.file}:{change.source.line}`" if change.source else ""
    rows = ["| field | Hyperproof | manifest |", "|---|---|---|"]
    for item in change.fields:
        rows.append(
            f"| `{item.field}` | {_escape(value_text(item.actual))} | "
            f"{_escape(value_text(item.expected))} |"
        )
    body = "\n".join(rows)
    if change.action == "update" and change.updated_by:
        when = (change.updated_on or "")[:10]
        body += f"\n\nChanged in Hyperproof by {change.updated_by} on {when}."
    if change.ignored:
        body += f"\n\nIgnored: {', '.join(f'`{f}`' for f in change.ignored)}."
    return (
        f"<details><summary><code>{change.identifier}</code> {symbol}{where}</summary>\n\n"
        f"{body}\n\n</details>\n"
    )


def render_markdown(plan: Plan, limit: int = COMMENT_LIMIT, full_report: str = "") -> str:
    summary = plan.summary()
    head = [
        MARKER,
        "### hpconfig plan",
        "",
        f"**{plan.summary_line()}**",
        "",
        "| create | update | in sync | unmanaged |",
        "|---:|---:|---:|---:|",
        f"| {summary['create']} | {summary['update']} | {summary['in_sync']} | "
        f"{summary['unmanaged']} |",
        "",
    ]
    tail: list[str] = []
    for rule in plan.ignore_rules:
        scope = ", ".join(rule.controls) if rule.controls else "all controls"
        tail.append(f"- Ignored `{', '.join(rule.fields)}` on {scope}: {rule.reason}")
    if plan.safety is not None and plan.safety.exceeded:
        tail.append(
            f"- ⚠️ Updates {plan.safety.percent:.0f}% of existing controls, over the "
            f"{plan.safety.max_percent:g}% safety limit."
        )
    if plan.not_compared:
        tail.append(
            f"- ⚠️ {len(plan.not_compared)} declared controls could not be compared (malformed "
            "or duplicated in Hyperproof); the job's log and the JSON report name them."
        )
    head_text = "\n".join(head) + "\n"
    tail_text = ("\n" + "\n".join(tail) + "\n") if tail else ""
    sections = [_section(change) for change in plan.changes]
    where = full_report or "the JSON report (`--out`) or the job's log"
    budget = limit - _size(head_text) - _size(tail_text) - 200  # room for the "left out" line
    kept: list[str] = []
    used = 0
    for section in sections:
        if used + _size(section) > budget:
            break
        kept.append(section)
        used += _size(section)
    left_out = len(sections) - len(kept)
    cut = (
        f"\n_{left_out} more controls left out to fit the size limit; see {where}._\n"
        if left_out
        else ""
    )
    return head_text + "".join(kept) + cut + tail_text
