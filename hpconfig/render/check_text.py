"""A check's report → the terminal text and the Markdown of a pull-request comment. Pure.

Text: one line per rule (its verdict, id, title, severity and counts), under it each result that
is not ok (skips are only counted), located at the manifest line that declares the control, or
by identifier and Hyperproof id for a control no manifest declares; the summary line last.
Markdown: the summary, a table of rules, then a table of results, cut to fit GitHub's limits
(the summary always survives). Every value from data goes through ``inert`` (text) or the
Markdown escapes of ``render.markdown`` (``code``, ``prose``), so that no rule message or
control field can act.
"""

from __future__ import annotations

from hpconfig.assertions.evaluate import Result
from hpconfig.assertions.report import CheckReport
from hpconfig.render.markdown import COMMENT_LIMIT, RunContext, code, prose
from hpconfig.render.text import COLOURS
from hpconfig.untrusted import inert

MARKER = "<!-- hpconfig-check -->"
SYMBOLS = {"alarm": "✗", "error": "E", "waived": "~", "baselined": "=", "skip": "-", "ok": "✓"}
_SHOWN = ("alarm", "error", "waived", "baselined")


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"\x1b[{COLOURS[colour]}m{text}\x1b[0m" if enabled else text


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"  # as cli.app.plural


def mark(result: Result) -> str:
    """✗ for what fails the run, ! for an alarm that does not (a warning or notice rule)."""
    return "!" if result.outcome == "alarm" and not result.fails else SYMBOLS[result.outcome]


def where(result: Result) -> str:
    """``file:line`` of the declaring manifest, or ``unmanaged, id ...``: always inert."""
    if result.source is not None:
        return f"{inert(result.source.file)}:{result.source.line}"
    return f"unmanaged, id {inert(result.live_id or 'unknown')}"


def summary_line(report: CheckReport) -> str:
    """``Check: 2 failing. 3 alarms, 1 waived, ...``: the last line of every report."""
    s = report.summary()
    head = "Check passed" if not s["failing"] else f"Check failed: {s['failing']} failing"
    counts = [
        _plural(s["alarm"], "alarm"),
        f"{s['waived']} waived",
        f"{s['baselined']} baselined",
        _plural(s["error"], "error"),
        f"{s['ok']} ok",
        f"{s['skip']} skipped",
    ]
    return (
        f"{head}. {', '.join(counts)}; {_plural(s['rules'], 'rule')} on "
        f"{_plural(s['controls'], 'control')}."
    )


_COUNTED = {
    "alarm": ("alarm", "alarms"),
    "error": ("error", "errors"),
    "waived": ("waived", "waived"),
    "baselined": ("baselined", "baselined"),
    "ok": ("ok", "ok"),
    "skip": ("skipped", "skipped"),
}


def _counts(counter: dict[str, int]) -> str:
    parts = [_plural(counter[name], *_COUNTED[name]) for name in _COUNTED if counter.get(name)]
    return ", ".join(parts) or "no control selected"


def _waiver_text(result: Result) -> str:
    waiver = result.waiver or result.expired_waiver
    if waiver is None:
        return ""
    parts = []
    if waiver.approver:
        parts.append(f"approved by {inert(waiver.approver)}")
    if waiver.ticket:
        parts.append(f"ticket {inert(waiver.ticket)}")
    by = f" ({', '.join(parts)})" if parts else ""
    until = waiver.expires.isoformat() if waiver.expires else "no expiry date"
    if result.expired_waiver is not None:
        return f"a waiver expired on {until}{by}: {inert(waiver.reason)}"
    return f"waived until {until}{by}: {inert(waiver.reason)}"


def render_text(report: CheckReport, color: bool = False) -> str:
    lines: list[str] = []
    per_rule = report.per_rule()
    by_rule: dict[str, list[Result]] = {}
    for result in report.results:
        if result.outcome in _SHOWN:
            by_rule.setdefault(result.rule, []).append(result)
    for rule in report.rules:
        shown = by_rule.get(rule.id, [])
        failing = any(result.fails for result in shown)
        symbol, colour = ("✗", "red") if failing else ("!", "update") if shown else ("✓", "green")
        head = f"{symbol} {inert(rule.id)}  {inert(rule.title)}  [{rule.severity}]"
        lines.append(_paint(head, colour, color) + f"  {_counts(per_rule.get(rule.id, {}))}")
        for result in shown:
            place = f"({where(result)})  {result.outcome}"
            lines.append(f"    {mark(result)} {inert(result.identifier)}  {place}")
            lines.append(f"        {inert(result.reason)}")
            waiver = _waiver_text(result)
            if waiver:
                lines.append(_paint(f"        {waiver}", "dim", color))
    if report.fixed:
        lines.append("")
        entries = _plural(len(report.fixed), "entry", "entries")
        lines.append(f"No longer alarming, so the baseline can lose {entries}:")
        lines += [f"  - {inert(e.rule)} {inert(e.identifier)}" for e in report.fixed]
    lines.append("")
    lines.append(_paint(summary_line(report), "bold", color))
    return "\n".join(lines) + "\n"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _row(result: Result) -> str:
    place = (
        code(f"{result.source.file}:{result.source.line}", in_table=True)
        if result.source
        else "unmanaged, id " + code(result.live_id or "unknown", in_table=True)
    )
    reason = prose(result.reason).replace("|", "\\|")
    waiver = _waiver_text(result)
    if waiver:
        reason += " — " + prose(waiver).replace("|", "\\|")
    return (
        f"| {mark(result)} {result.outcome} | {code(result.rule, in_table=True)} | "
        f"{code(result.identifier, in_table=True)} | {place} | {reason} |"
    )


def render_markdown(
    report: CheckReport,
    limit: int = COMMENT_LIMIT,
    context: RunContext | None = None,
    marker: bool = True,
) -> str:
    head = [MARKER] if marker else []
    head += ["### hpconfig check", "", f"**{summary_line(report)}**", ""]
    head += ["| rule | severity | results |", "|---|---|---|"]
    per_rule = report.per_rule()
    for rule in report.rules:
        head.append(
            f"| {code(rule.id, in_table=True)} {prose(rule.title).replace('|', chr(92) + '|')} | "
            f"{rule.severity} | {_counts(per_rule.get(rule.id, {}))} |"
        )
    head.append("")
    if context is not None:
        head += [context.line().replace("Planned", "Checked"), ""]
    tail = ""
    if report.fixed:
        entries = ", ".join(f"{code(e.rule)} {code(e.identifier)}" for e in report.fixed[:50])
        more = f" and {len(report.fixed) - 50} more" if len(report.fixed) > 50 else ""
        tail = f"\nNo longer alarming (remove from the baseline): {entries}{more}.\n"
    rows = [_row(result) for result in report.noteworthy()]
    head_text = "\n".join(head) + "\n"
    if not rows:
        return head_text + tail
    table = "| result | rule | control | where | reason |\n|---|---|---|---|---|\n"
    budget = limit - _size(head_text) - _size(tail) - _size(table) - 300
    kept: list[str] = []
    used = 0
    for row in rows:
        if used + _size(row) + 1 > budget:
            break
        kept.append(row)
        used += _size(row) + 1
    cut = ""
    if len(kept) < len(rows):
        cut = (
            f"\n_{len(rows) - len(kept)} more results left out to fit the size limit; see the "
            "JSON report (`--out`) or the job's log._\n"
        )
    return head_text + table + "\n".join(kept) + "\n" + cut + tail
