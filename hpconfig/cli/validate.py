"""`hpconfig validate` and `hpconfig schema`: offline checks and the shipped schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.output import emit, message
from hpconfig.errors import ExitCode, problem_order
from hpconfig.manifest.project import load_project
from hpconfig.manifest.schema import SCHEMA_NAMES, schema_text
from hpconfig.render import diagnostics


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How to report problems.",
)
@click.pass_obj
def validate(obj: dict[str, Any], paths: tuple[Path, ...], output_format: str) -> int:
    """Check manifests and the config offline; report every problem with file:line:col."""
    project = load_project(list(paths), obj["config_path"])
    note_inputs(project)
    problems = project.problems
    if output_format != "text":  # the warnings too, in one sorted list
        every = sorted(problems + project.warnings, key=problem_order)
    if output_format == "json":
        emit(diagnostics.render_json(every, len(project.files), len(project.desired)), kind="json")
    elif output_format == "github":
        for part, is_command in diagnostics.render_github(every):
            emit(part, kind="commands" if is_command else "text")
    else:
        emit(diagnostics.render_text(problems))
    files = plural(len(project.files), "file")
    ruleset = project.config.assertions
    if ruleset.rules:
        message(
            f"hpconfig: {plural(len(ruleset.rules), 'check rule')} and "
            f"{plural(len(ruleset.waivers), 'waiver')} (CEL compiled)"
        )
    if problems:
        message(f"{plural(len(problems), 'problem')} in {files}.")
        return ExitCode.INVALID_INPUT
    message(f"{plural(len(project.desired), 'control')} in {files}: valid.")
    return ExitCode.OK


@cli.command("schema")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="manifest")
def schema_command(name: str) -> int:
    """Print a JSON Schema (for editors and other tools)."""
    emit(schema_text(name), kind="json")
    return ExitCode.OK
