"""Input problems → text, JSON or GitHub workflow commands (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hpconfig.errors import Problem
from hpconfig.render.github import problem_annotation, render_annotations

FORMAT_VERSION = "1"


def render_text(problems: Sequence[Problem]) -> str:
    return "".join(f"{problem}\n" for problem in problems)


def render_json(problems: Sequence[Problem], files: int, controls: int) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "valid": not any(p.severity == "error" for p in problems),
        "summary": {"files": files, "controls": controls, "problems": len(problems)},
        "diagnostics": [problem.to_dict() for problem in problems],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_github(problems: Sequence[Problem]) -> str:
    """The full list as log lines, then annotations on the lines they concern (capped)."""
    annotations = [problem_annotation(problem, "hpconfig validate") for problem in problems]
    return render_text(problems) + render_annotations(
        annotations, "the full list is in this step's log"
    )
