"""YAML and encoding errors → problems located at their line and column, in a person's words.

Used by ``composer``; owns only the wording, never the parsing.
"""

from __future__ import annotations

import yaml

from hpconfig.errors import Location, Problem


def utf8_problem(file: str, raw: bytes, error: UnicodeDecodeError) -> Problem:
    before = raw[: error.start]
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1) + 1
    byte = raw[error.start : error.start + 1].hex()
    return Problem(
        Location(file, line, column),
        "",
        f"the file is not valid UTF-8 (byte 0x{byte}); save it as UTF-8",
    )


def yaml_problem(file: str, error: yaml.YAMLError, text: str | None = None) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    if isinstance(error, yaml.reader.ReaderError) and text is not None:
        before = text[: error.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return Problem(
            Location(file, line, column),
            "",
            f"character #x{error.character:04x} is not allowed in YAML ({error.reason}); remove it",
        )
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if "expected a single document" in f"{problem} {context}":
        message = "a file holds one YAML document; remove the second one (after '---')"
    elif problem:
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    else:
        message = f"YAML syntax error: {error}"
    return Problem(Location(file, line, column), "", message)
