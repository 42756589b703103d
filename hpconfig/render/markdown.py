"""Plan → a pull-request comment: a summary table, then one collapsible section per control.

Pure. GitHub refuses comments over 65,536 characters and step summaries over 1 MiB, so the
report is cut at ``limit``, counted in UTF-8 bytes (never fewer than characters): the summary
always survives, controls are dropped from the end, and the report says how many it left out
and where the full report is.

Every value from data renders as inert text, in one of three places: a code span (``code``:
values, identifiers, users; no Markdown, HTML, autolink or mention acts inside one, and its
fence is longer than any backtick run in the value), HTML (``html_code``: inside ``<summary>``,
where Markdown is not parsed), or prose (``prose``: every ASCII punctuation mark escaped, and a
zero-width joiner after each ``@`` so that no mention notifies and no address becomes a link).
Multi-line text changes are a fenced ``diff`` block whose fence is longer than any backtick run
in the data.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hpconfig.plan import Change, ChangeKind, FieldChange, Plan
from hpconfig.render.json import plan_sha256
from hpconfig.render.text import KIND_NOTES, as_text, diff_lines, summary_line, value_text
from hpconfig.untrusted import inert

MARKER = "<!-- hpconfig-plan -->"
COMMENT_LIMIT = 65_000
STEP_SUMMARY_LIMIT = 1024 * 1024 - 1024  # GitHub's 1 MiB per step, less room for other steps
BY_KIND = {  # a section's heading
    ChangeKind.CREATE: "➕ create",
    ChangeKind.UPDATE: "✏️ update",
    ChangeKind.RESTORE: "♻️ restore (links do not come back)",
    ChangeKind.ARCHIVE: "🗄️ **archive** (destroys links)",
}

_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_ZWJ = "\u200d"
_BACKTICKS = re.compile(r"`+")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def prose(text: str) -> str:
    """Free text from data as Markdown that renders exactly as the text, and never acts."""
    escaped = _PUNCTUATION.sub(r"\\\1", inert(text))
    return escaped.replace("@", "@" + _ZWJ)


def code(text: str, in_table: bool = False) -> str:
    """Text from data as one inline code span (pipes escaped for a table cell)."""
    text = inert(text) or " "  # an empty span would not be one
    fence = "`" * (_longest_backticks(text) + 1)
    # CommonMark strips one space from each end of a span that has one at both ends, and a
    # span may not start or end with its own fence character: a space of padding keeps both.
    edge = text[:1] == " " == text[-1:] and text.strip(" ")
    pad = " " if text.startswith("`") or text.endswith("`") or edge else ""
    span = f"{fence}{pad}{text}{pad}{fence}"
    return span.replace("|", "\\|") if in_table else span


def html_code(text: str) -> str:
    """Text from data inside raw HTML (where Markdown is not parsed), as ``<code>``."""
    return "<code>" + html.escape(inert(text), quote=True).replace("@", "@" + _ZWJ) + "</code>"


@dataclass(frozen=True)
class RunContext:
    """Which commit and workflow run made the comment, and when, so a stale one shows."""

    when: datetime
    commit: str | None = None
    run_url: str | None = None
    run_id: str | None = None

    def line(self) -> str:
        parts = ["Planned"]
        if self.commit:
            parts.append(f"at commit `{self.commit[:12]}`")
        if self.run_url and self.run_id:
            parts.append(f"by [workflow run {self.run_id}]({self.run_url})")
        parts.append(f"on {self.when.strftime('%Y-%m-%d %H:%M:%S')} UTC")
        return "<sub>" + " ".join(parts) + ".</sub>"


def run_context(environ: Mapping[str, str], now: datetime) -> RunContext | None:
    """The ``GITHUB_*`` variables of a workflow run, when present; each checked for its form,
    since a link is built from them."""
    sha = environ.get("GITHUB_SHA", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    server = environ.get("GITHUB_SERVER_URL", "")
    repository = environ.get("GITHUB_REPOSITORY", "")
    commit = sha if re.fullmatch(r"[0-9a-f]{7,64}", sha) else None
    run = run_id if re.fullmatch(r"[0-9]{1,20}", run_id) else None
    if commit is None and run is None:
        return None
    url = None
    if (
        run
        and re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?", server)
        and re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository)
    ):
        url = f"{server}/{repository}/actions/runs/{run}"
    return RunContext(when=now, commit=commit, run_url=url, run_id=run)


def _multiline(item: FieldChange) -> bool:
    return any(isinstance(v, str) and "\n" in v.strip() for v in (item.expected, item.actual))


def _diff_block(item: FieldChange) -> str:
    lines = diff_lines(as_text(item.actual), as_text(item.expected))
    fence = "`" * max(3, _longest_backticks("\n".join(lines)) + 1)
    body = "\n".join(lines)
    return f"`{item.field}` (Hyperproof → manifest):\n\n{fence}diff\n{body}\n{fence}"


def _section(change: Change) -> str:
    symbol = BY_KIND[change.action]
    where = f" — {html_code(f'{change.source.file}:{change.source.line}')}" if change.source else ""
    rows = ["| field | Hyperproof | manifest |", "|---|---|---|"]
    diffs = []
    for item in change.fields:
        if change.action.existing and _multiline(item):
            rows.append(f"| `{item.field}` | (text, below) | (text, below) |")
            diffs.append(_diff_block(item))
            continue
        actual = code(value_text(item.actual), in_table=True)
        rows.append(
            f"| `{item.field}` | {actual} | {code(value_text(item.expected), in_table=True)} |"
        )
    body = "\n".join(rows)
    if change.action in KIND_NOTES:
        body = f"> [!CAUTION]\n> {prose(KIND_NOTES[change.action])}\n\n" + body
    if diffs:
        body += "\n\n" + "\n\n".join(diffs)
    for problem in change.problems:
        body += f"\n\n❌ Cannot apply: {prose(problem)}"
    if change.action.existing and change.updated_by:
        when = code((change.updated_on or "")[:10])
        body += f"\n\nChanged in Hyperproof by {code(change.updated_by)} on {when}."
    if change.ignored:
        body += f"\n\nIgnored: {', '.join(f'`{f}`' for f in change.ignored)}."
    return (
        f"<details><summary>{html_code(change.identifier)} {symbol}{where}</summary>\n\n"
        f"{body}\n\n</details>\n"
    )


def _unmanaged(plan: Plan, budget: int) -> str:
    """The unmanaged controls, collapsed, as many as fit in ``budget`` bytes."""
    if not plan.unmanaged:
        return ""
    count = len(plan.unmanaged)
    head = (
        f"\n<details><summary>{count} unmanaged control{'s' if count != 1 else ''} "
        "(in Hyperproof, in no manifest)</summary>\n\n"
    )
    foot = "\n</details>\n"
    items: list[str] = []
    used = _size(head) + _size(foot) + 100
    for item in plan.unmanaged:
        line = f"- {code(item.identifier)}\n"
        if used + _size(line) > budget:
            items.append(f"- and {count - len(items)} more\n")
            break
        items.append(line)
        used += _size(line)
    return head + "".join(items) + foot


def render_markdown(
    plan: Plan,
    limit: int = COMMENT_LIMIT,
    full_report: str = "",
    context: RunContext | None = None,
) -> str:
    summary = plan.summary()
    head = [MARKER, "### hpconfig plan", "", f"**{summary_line(plan)}**", ""]
    if plan.safety is not None and plan.safety.exceeded:
        reasons = "; ".join(plan.safety.reasons)
        head += [
            f"> [!WARNING]\n> Apply will refuse this plan without `--force`: {reasons}.",
            "",
        ]
    if summary["archive"]:
        head += [
            f"> [!CAUTION]\n> This plan **archives {summary['archive']}** "
            f"control{'s' if summary['archive'] != 1 else ''}: Hyperproof removes the links of "
            "an archived control to requirements, risks, scopes and tasks, and unarchiving does "
            "not bring them back. Apply needs `--allow-archive`.",
            "",
        ]
    if plan.problems:
        count = len(plan.problems)
        head += [
            f"> [!IMPORTANT]\n> {count} change{'s' if count != 1 else ''} cannot be applied as "
            "planned (marked ❌ below); apply refuses the plan until the manifests are fixed.",
            "",
        ]
    head += [
        "| create | update | restore | archive | in sync | unmanaged |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary['create']} | {summary['update']} | {summary['restore']} | "
        f"{summary['archive']} | {summary['in_sync']} | {summary['unmanaged']} |",
        "",
    ]
    if plan.not_compared:
        count = len(plan.not_compared)
        head[5:5] = [
            f"> [!WARNING]\n> {count} declared control{'s' if count != 1 else ''} could not be "
            "compared (malformed or duplicated in Hyperproof); the job's log and the JSON report "
            "name them.",
            "",
        ]
    if plan.context is not None:
        head += [
            f"Plan sha256: `{plan_sha256(plan)}` (quote it to `hpconfig apply --plan-sha256`)",
            "",
        ]
    if context is not None:
        head += [context.line(), ""]
    tail: list[str] = []
    for rule in plan.ignore_rules:
        scope = ", ".join(code(c) for c in rule.controls) if rule.controls else "all controls"
        fields = ", ".join(f"`{f}`" for f in rule.fields)
        tail.append(f"- Ignored {fields} on {scope}: {prose(rule.reason)}")
    head_text = "\n".join(head) + "\n"
    tail_text = ("\n" + "\n".join(tail) + "\n") if tail else ""
    sections = [_section(change) for change in plan.changes]
    where = full_report or "the JSON report (`--out`) or the job's log"
    budget = limit - _size(head_text) - _size(tail_text) - 200  # room for the "left out" line
    unmanaged = _unmanaged(plan, max(budget // 4, 0))
    budget -= _size(unmanaged)
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
    return head_text + "".join(kept) + cut + unmanaged + tail_text
