"""A plan's report formats, by name: the one table ``plan --format`` and the report files use.

Each renderer takes the plan and the ``ReportOptions`` of the run and gives the parts to print,
each with its kind: ``text``, ``json``, or ``commands`` (GitHub workflow commands that hpconfig
itself wrote), so that the output path treats each part as it must. Adding a format is one
entry here. Pure: it must not print, read files or know the environment; the CLI passes what it
found (colour, the repository root, the workflow run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hpconfig.plan import Plan

if TYPE_CHECKING:
    from hpconfig.render.markdown import RunContext

# Each renderer is imported by its format's function: a run loads only the formats it writes.

# A part of a report and its kind, as the CLI's output path takes it.
PartKind = Literal["text", "json", "commands"]
Part = tuple[str, PartKind]


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False  # the text report in colour (a terminal, no NO_COLOR)
    show_unmanaged: bool = False
    root: Path | None = None  # SARIF URIs are relative to this repository root ...
    cwd: Path | None = None  # ... from this working directory
    run: RunContext | None = None  # the workflow run the Markdown names


def _text(plan: Plan, options: ReportOptions) -> list[Part]:
    from hpconfig.render.text import render_text

    return [(render_text(plan, color=options.color, show_unmanaged=options.show_unmanaged), "text")]


def _json(plan: Plan, options: ReportOptions) -> list[Part]:
    from hpconfig.render.json import render_json

    return [(render_json(plan), "json")]


def _markdown(plan: Plan, options: ReportOptions) -> list[Part]:
    from hpconfig.render.markdown import render_markdown

    return [(render_markdown(plan, context=options.run), "text")]


def _github(plan: Plan, options: ReportOptions) -> list[Part]:
    """The text report for the log, then the annotations, the log quarantined between them."""
    from hpconfig.render.github import quarantine, render_plan_annotations
    from hpconfig.render.text import render_text

    log_text = render_text(plan, color=False, show_unmanaged=options.show_unmanaged)
    parts: list[Part] = []
    for part, is_command in quarantine(log_text, render_plan_annotations(plan)):
        parts.append((part, "commands" if is_command else "text"))
    return parts


def _sarif(plan: Plan, options: ReportOptions) -> list[Part]:
    from hpconfig.render.sarif import render_sarif

    return [(render_sarif(plan, options.root, options.cwd), "json")]


PLAN_FORMATS: dict[str, Callable[[Plan, ReportOptions], list[Part]]] = {
    "text": _text,
    "json": _json,
    "markdown": _markdown,
    "github": _github,
    "sarif": _sarif,
}
