"""`hpconfig refresh`: accept the changes made in Hyperproof into the manifests.

Plans as ``plan`` does (the same inputs, selection and ignore rules), takes the drifted fields'
live values (``hpconfig.refresh``), edits each manifest in place (``manifest.rewrite``), checks
that the edited manifests now plan equal for those fields, and then prints the unified diff on
stdout and what it did on stderr. Without ``--dry-run`` each changed file is replaced
atomically, and only when it still holds the bytes that were planned; a manifest that is a
symlink, or is reached through one, is refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.connection import connect, connection_options
from hpconfig.cli.output import emit, message
from hpconfig.cli.plan import _refuse_invalid, _selection
from hpconfig.control import FIELDS
from hpconfig.errors import ExitCode, InputProblem, ReportPathError, UsageError
from hpconfig.files import (
    check_replaceable,
    read_bounded,
    report_target,
    write_atomically,
    write_report,
)
from hpconfig.manifest.project import load_project


def _fields(values: tuple[str, ...]) -> frozenset[str] | None:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not names:
        return None
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise UsageError(
            f"--fields {', '.join(unknown)}: not a field a manifest sets; the fields are "
            f"{', '.join(FIELDS)}"
        )
    return frozenset(names)


def _read(path: Path) -> str:
    try:
        return read_bounded(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:  # it was just read as a manifest
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise InputProblem(f"{path}: cannot read it again to refresh it: {reason}") from None


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--controls",
    multiple=True,
    metavar="GLOB",
    help="Refresh only the controls whose identifier matches (repeat, or separate with commas).",
)
@click.option(
    "--fields",
    multiple=True,
    metavar="NAME",
    help="Refresh only these fields (repeat, or separate with commas), e.g. owner,description.",
)
@click.option("--dry-run", is_flag=True, help="Print the diff; change no file.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there is something to refresh (with --dry-run: something to accept).",
)
@click.option(
    "--markdown",
    metavar="FILE",
    help="Also write a pull-request body (who changed what, and when; the diff) here.",
)
@connection_options
@click.pass_obj
def refresh(
    obj: dict[str, Any],
    /,
    paths: tuple[Path, ...],
    controls: tuple[str, ...],
    fields: tuple[str, ...],
    dry_run: bool,
    detailed_exitcode: bool,
    markdown: str | None,
    **connection: Any,
) -> int:
    """Rewrite the manifests so that drifted fields match Hyperproof, changing nothing else."""
    from hpconfig.manifest.rewrite import rewrite
    from hpconfig.manifest.writer import stated_value
    from hpconfig.refresh import refresh_work
    from hpconfig.remote.fetch import plan_and_live
    from hpconfig.render.refresh import Refreshed, markdown_body, summary_text, unified_diff

    wanted = _fields(fields)
    markdown_target = report_target("--markdown", markdown) if markdown else None
    if markdown_target is not None and markdown_target.stream == "stdout":
        raise UsageError("--markdown - would mix the body into the diff on stdout; give a file")
    project = load_project(list(paths), obj["config_path"], keep_documents=True)
    note_inputs(project)
    if project.problems:
        _refuse_invalid(project.problems, "text")
    only = _selection(controls, project.desired)
    declared = [key for key in project.desired if only is None or only(key)]
    with connect(project, connection) as client:
        message(
            f"hpconfig: {plural(len(declared), 'control')} declared in "
            f"{plural(len(project.files), 'file')}; reading Hyperproof at "
            f"{client.settings.api_url} ..."
        )
        plan, live = plan_and_live(client, project.desired, project.config, only, owners=False)
    work = refresh_work(plan, live, stated_value, wanted)
    left = list(work.left_alone)
    changed: dict[str, tuple[Path, str, str]] = {}  # file → (path, old text, new text)
    regions: dict[str, Any] = {}
    refreshed: list[Refreshed] = []
    for file, updates in sorted(work.updates.items()):
        path = Path(file)
        old = _read(path)
        # The document the plan was made from, when the file still holds what was read.
        loaded = project.documents.get(file)
        result = rewrite(old, updates, file, loaded)
        left += result.refused
        applied = {(f.identifier, f.field) for f in result.applied}
        for update in updates:
            names = tuple(f.field for f in update.fields if (update.identifier, f.field) in applied)
            if names:
                refreshed.append(Refreshed(update, names))
        if result.text != old:
            changed[file] = (path, old, result.text)
            regions[file] = result.regions
    if not dry_run:
        for file, (path, old, _) in changed.items():  # every file before any is written
            check_replaceable(path)
            if _read(path) != old:
                raise InputProblem(
                    f"{file} changed while refresh ran; nothing was written (run it again)"
                )
    diff = "".join(
        unified_diff(file, old, new, regions[file]) for file, (_, old, new) in changed.items()
    )
    left.sort(key=lambda item: (item.identifier, item.field or ""))
    if diff:
        emit(diff)
    if not dry_run:
        for file, (path, _, new) in changed.items():
            try:
                write_atomically(path, new)
            except OSError as error:
                raise ReportPathError(f"cannot write {file}: {error.strerror}") from None
    message(summary_text(refreshed, left, dry_run).rstrip("\n"))
    if markdown_target is not None:
        body = markdown_body(refreshed, left, diff)
        if markdown_target.stream is not None:
            emit(body, err=True)
        else:
            write_report(markdown_target, body)
    if detailed_exitcode and changed:
        return ExitCode.CHANGES
    return ExitCode.OK
