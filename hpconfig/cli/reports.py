"""Every report of one plan: stdout in the chosen format, --out, --sarif, --markdown, and the
step summary, each through the one output path (``cli.output``) or a checked report file
(``files.write_report``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hpconfig.cli.app import log, use_color
from hpconfig.cli.output import Kind, emit
from hpconfig.files import ReportTarget, write_report
from hpconfig.manifest.config_file import repository_root


def _write(target: ReportTarget, text: str, kind: Kind) -> None:
    if target.stream is not None:
        emit(text, err=target.stream == "stderr", kind=kind)
    else:
        write_report(target, text)


def _plan_summary(plan: Any, context: Any) -> str:
    from hpconfig.render.markdown import STEP_SUMMARY_LIMIT, render_markdown

    return render_markdown(plan, STEP_SUMMARY_LIMIT, context=context)


def _step_summary(plan: Any, context: Any, summary: Callable[[Any, Any], str]) -> None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions sets it (capped at 1 MiB)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(summary(plan, context) + "\n")
    except OSError as error:
        log.warning("cannot append to GITHUB_STEP_SUMMARY (%s): %s", path, error.strerror)


def _repository_root(cwd: Path) -> Path:
    """SARIF URIs are relative to this: GitHub's checkout, else the git top level, else here."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        return Path(workspace).resolve()
    return repository_root(cwd)


def write_reports(
    plan: Any,
    options: dict[str, Any],
    targets: dict[str, ReportTarget],
    formats: Mapping[str, Callable[[Any, Any], list[Any]]] | None = None,
    summary: Callable[[Any, Any], str] = _plan_summary,
) -> None:
    """Every output asked for, from one plan (or a check, or both, with their ``formats``):
    stdout, --out, --sarif, --markdown, the summary, each rendered by the format of that name
    (``render.formats``)."""
    from hpconfig.render.formats import PLAN_FORMATS, ReportOptions
    from hpconfig.render.markdown import run_context

    formats = formats or PLAN_FORMATS

    color = options["color"]
    cwd = Path.cwd()
    report = ReportOptions(
        color=use_color(sys.stdout) if color is None else color,
        show_unmanaged=options.get("show_unmanaged", False),
        root=_repository_root(cwd),
        cwd=cwd,
        run=run_context(os.environ, datetime.now(timezone.utc)),
    )
    for option, name in (("out", "json"), ("sarif", "sarif"), ("markdown", "markdown")):
        if option in targets:
            for text, kind in formats[name](plan, report):
                _write(targets[option], text, kind)
    _step_summary(plan, report.run, summary)
    for text, kind in formats[options["output_format"]](plan, report):
        emit(text, kind=kind, color=report.color if kind == "text" else False)
