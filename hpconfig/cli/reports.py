"""Every report of one plan: stdout in the chosen format, --out, --sarif, --markdown, and the
step summary, each through the one output path (``cli.output``) or a checked report file
(``files.write_report``)."""

from __future__ import annotations

import os
import sys
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


def _step_summary(plan: Any, context: Any) -> None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions sets it (capped at 1 MiB)."""
    from hpconfig.render.markdown import STEP_SUMMARY_LIMIT, render_markdown

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(render_markdown(plan, STEP_SUMMARY_LIMIT, context=context) + "\n")
    except OSError as error:
        log.warning("cannot append to GITHUB_STEP_SUMMARY (%s): %s", path, error.strerror)


def _repository_root(cwd: Path) -> Path:
    """SARIF URIs are relative to this: GitHub's checkout, else the git top level, else here."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        return Path(workspace).resolve()
    return repository_root(cwd)


def write_reports(plan: Any, options: dict[str, Any], targets: dict[str, ReportTarget]) -> None:
    """Every output asked for, from one plan: stdout, --out, --sarif, --markdown, the summary."""
    from hpconfig.render.github import quarantine, render_plan_annotations
    from hpconfig.render.json import render_json
    from hpconfig.render.markdown import render_markdown, run_context
    from hpconfig.render.sarif import render_sarif
    from hpconfig.render.text import render_text

    context = run_context(os.environ, datetime.now(timezone.utc))
    cwd = Path.cwd()
    sarif_root = _repository_root(cwd)
    if "out" in targets:
        _write(targets["out"], render_json(plan), "json")
    if "sarif" in targets:
        _write(targets["sarif"], render_sarif(plan, sarif_root, cwd), "json")
    if "markdown" in targets:
        _write(targets["markdown"], render_markdown(plan, context=context), "text")
    _step_summary(plan, context)
    output_format, unmanaged = options["output_format"], options["show_unmanaged"]
    if output_format == "json":
        emit(render_json(plan), kind="json")
    elif output_format == "markdown":
        emit(render_markdown(plan, context=context))
    elif output_format == "sarif":
        emit(render_sarif(plan, sarif_root, cwd), kind="json")
    elif output_format == "github":
        log_text = render_text(plan, color=False, show_unmanaged=unmanaged)
        for part, is_command in quarantine(log_text, render_plan_annotations(plan)):
            emit(part, kind="commands" if is_command else "text")
    else:
        color = options["color"]
        paint = use_color(sys.stdout) if color is None else color
        emit(render_text(plan, color=paint, show_unmanaged=unmanaged), color=paint)
