"""Input problems → text, JSON or GitHub workflow commands (pure).

A problem's file name, JSON path and message can carry text from data (a file name, a key, an
excerpt of a value): every line is made inert, so one problem is one output line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hpconfig.errors import Problem
from hpconfig.untrusted import inert, inert_json

FORMAT_VERSION = "1"


def render_text(problems: Sequence[Problem]) -> str:
    return "".join(f"{inert(str(problem))}\n" for problem in problems)


def render_json(problems: Sequence[Problem], files: int, controls: int) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "valid": not any(p.severity == "error" for p in problems),
        "summary": {"files": files, "controls": controls, "problems": len(problems)},
        "diagnostics": [problem.to_dict() for problem in problems],
    }
    return inert_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def render_github(problems: Sequence[Problem]) -> list[tuple[str, bool]]:
    """The full list as log lines (commands stopped), then annotations on the lines they
    concern (capped); each part says whether it is hpconfig's own commands."""
    from hpconfig.render.github import problem_annotation, quarantine, render_annotations

    annotations = [problem_annotation(problem, "hpconfig validate") for problem in problems]
    commands = render_annotations(annotations, "the full list is in this step's log")
    return quarantine(render_text(problems), commands)
