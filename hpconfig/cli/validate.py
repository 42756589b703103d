"""`hpconfig validate` and `hpconfig schema`: offline checks and the shipped schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.errors import ExitCode
from hpconfig.project import load_project
from hpconfig.render import diagnostics
from hpconfig.schema import SCHEMA_NAMES, schema_text


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
    every = sorted(problems + project.warnings)
    if output_format == "json":
        text = diagnostics.render_json(every, len(project.files), len(project.desired))
    elif output_format == "github":
        text = diagnostics.render_github(every)
    else:
        text = diagnostics.render_text(problems)
    click.echo(text, nl=False)
    files = plural(len(project.files), "file")
    if problems:
        click.echo(f"{plural(len(problems), 'problem')} in {files}.", err=True)
        return ExitCode.INVALID_INPUT
    click.echo(f"{plural(len(project.desired), 'control')} in {files}: valid.", err=True)
    return ExitCode.OK


@cli.command("schema")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="manifest")
def schema_command(name: str) -> int:
    """Print a JSON Schema (for editors and other tools)."""
    click.echo(schema_text(name), nl=False)
    return ExitCode.OK
