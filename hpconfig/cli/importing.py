"""`hpconfig import`: write manifests for the live controls, proven to plan clean first.

The order is the safety: sign in and fetch; select; build every file in memory
(``manifest.importing``); plan those texts against the same live controls (``verify``: a
difference is a bug, exit 1, nothing written); check the targets on disk (an existing file is
exit 3 unless ``--force``; ``--unmanaged`` never replaces one); then write each file atomically.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hpconfig import hyperproof as hp
from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.connection import connection_options
from hpconfig.cli.output import emit, message
from hpconfig.control import Control
from hpconfig.errors import ExitCode, InputError, InputProblem
from hpconfig.manifest.import_disk import (
    covered_by,
    existing_targets,
    manifest_roots,
    modeline_for,
    refuse_symlinked_folders,
    stems_in,
    stray_manifests,
    write_files,
)
from hpconfig.manifest.importing import (
    CONFIG_NAME,
    CONTROLS_DIR,
    ImportPlan,
    Skipped,
    plan_import,
    verify,
    with_config,
)
from hpconfig.manifest.project import load_project
from hpconfig.manifest.schema import schema_text
from hpconfig.perf import paused_gc
from hpconfig.project_config import ProjectConfig
from hpconfig.untrusted import excerpt

SCHEMA_FILES = {f"schemas/{name}.schema.json": name for name in ("manifest", "config")}


def _globs(values: tuple[str, ...]) -> list[str]:
    return [glob.strip() for value in values for glob in value.split(",") if glob.strip()]


def _select(
    live: dict[str, Control], patterns: tuple[str, ...], domains: tuple[str, ...]
) -> Callable[[str], bool]:
    """``--controls`` (shell patterns, as plan's) and ``--domain`` (names, exact, surrounding
    spaces ignored): a pattern or a name that matches no live control is a mistake (exit 3)."""
    globs = _globs(patterns)
    names = {name.strip() for name in domains}
    unmatched = [g for g in globs if not any(fnmatch.fnmatchcase(i, g) for i in live)]
    known = {control.values.get("domain") for control in live.values()}
    unmatched += [f"--domain {excerpt(n)}" for n in sorted(names) if n not in known]
    if unmatched:
        raise InputProblem(
            f"{', '.join(unmatched)}: no control in Hyperproof matches; identifiers are matched "
            "whole and case-sensitively (* and ? as in a shell), domains by their exact name"
        )

    def accepts(identifier: str) -> bool:
        if globs and not any(fnmatch.fnmatchcase(identifier, g) for g in globs):
            return False
        return not names or live[identifier].values.get("domain") in names

    return accepts


def _fetch(settings: Any, archived: bool) -> Any:
    from hpconfig.remote.client import HyperproofClient
    from hpconfig.remote.live import read_live

    message(f"hpconfig: reading Hyperproof at {settings.api_url} ...")
    with HyperproofClient(settings) as client:
        answers = client.list_controls()
        if archived:
            answers = [*answers, *client.list_controls(status=hp.STATUS_ARCHIVED)]
    return read_live(answers)


def _connection(settings: Any) -> dict[str, str]:
    """What ``hpconfig.yaml`` says about where to connect: the region, and the URLs when they
    are not the region's and a repository file may name them (Hyperproof's hosts, loopback)."""
    from hpconfig.urls import trusted_in_a_repository

    connection = {"region": settings.region}
    api, token = hp.REGIONS[settings.region]
    for key, url, default in (
        ("apiUrl", settings.api_url, api),
        ("tokenUrl", settings.token_url, token),
    ):
        if url.rstrip("/") == default.rstrip("/"):
            continue
        if trusted_in_a_repository(url):
            connection[key] = url
        else:
            message(
                f"hpconfig: note: {key} {url} is not written to {CONFIG_NAME}: a repository "
                "file may name only Hyperproof's hosts and loopback; set it in the environment"
            )
    return connection


def _skipped_messages(live: Any, accepts: Callable[[str], bool]) -> list[Skipped]:
    """Live controls hpconfig cannot read (malformed, duplicated, without an identifier)."""
    skipped = [
        Skipped(identifier, item.detail)
        for identifier, item in sorted(live.not_compared.items())
        if accepts(identifier)
    ]
    skipped += [
        Skipped("", f"the control with id {problem.id or '?'} has no identifier")
        for problem in live.problems
        if not problem.identifier
    ]
    return skipped


@cli.command("import")
@click.option(
    "--to",
    "target",
    required=True,
    # Not file_okay=False: click would refuse a file as a usage error (64) before the
    # command's own check, which names it as bad input (3), as the README says.
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The folder to write (created if missing).",
)
@click.option(
    "--controls",
    multiple=True,
    metavar="GLOB",
    help="Only controls whose identifier matches (repeat, or separate with commas).",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="NAME",
    help="Only this domain (its exact name; repeat for several).",
)
@click.option("--include-archived", is_flag=True, help="Archived controls too (status: archived).")
@click.option("--force", is_flag=True, help="Replace files that exist (never with --unmanaged).")
@click.option(
    "--unmanaged",
    is_flag=True,
    help="Only controls no manifest declares (manifests given as PATHS, as for plan), in new "
    "files inside --to; existing files are left alone.",
)
@connection_options
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def import_command(
    obj: dict[str, Any],
    /,
    target: Path,
    controls: tuple[str, ...],
    domains: tuple[str, ...],
    include_archived: bool,
    force: bool,
    unmanaged: bool,
    paths: tuple[Path, ...],
    **connection: Any,
) -> int:
    """Write manifests for the controls in Hyperproof, proven to plan clean before writing."""
    from hpconfig.remote import settings as settings_module

    if paths and not unmanaged:
        raise InputProblem(
            "PATHS name the project's manifests, for --unmanaged only; without it, import "
            "writes a whole new project in --to"
        )
    if target.exists() and not target.is_dir():
        raise InputProblem(f"--to {target}: exists and is not a folder")
    config = ProjectConfig()
    declared: dict[str, Control] = {}
    if unmanaged:
        project = load_project(list(paths), obj["config_path"])
        note_inputs(project)
        if project.problems:
            raise InputError(project.problems)
        roots = manifest_roots(list(paths), obj["config_path"], project.config)
        if not covered_by(target, roots):
            shown = ", ".join(str(root) for root in roots)
            raise InputProblem(
                f"--to {target} is not among the manifests plan reads ({shown}); give a folder "
                f"inside one of them, or add it to `manifests` in {CONFIG_NAME} first"
            )
        config, declared = project.config, project.desired
    elif obj["config_path"] is not None:
        from hpconfig.manifest.config_file import load_config
        from hpconfig.manifest.project import utc_today

        config, problems = load_config(obj["config_path"], utc_today())
        if problems:
            raise InputError(problems)
    settings = settings_module.resolve(config, **connection)
    live = _fetch(settings, include_archived)
    accepts = _select(live.controls, controls, domains)
    chosen = {
        identifier: control
        for identifier, control in live.controls.items()
        if accepts(identifier) and identifier not in declared
    }
    skipped = [s for s in _skipped_messages(live, accepts) if s.identifier not in declared]
    with paused_gc():  # many small objects, none of them garbage until the run ends
        if unmanaged:
            result = plan_import(
                chosen, taken=stems_in(target), folder="", modeline=modeline_for(target, project)
            )
        else:
            result = plan_import(chosen)
            with_config(result, _connection(settings))
        verify(result)
    if not result.controls:
        _say_skipped([*skipped, *result.skipped])
        why = "every control is declared in a manifest" if unmanaged else "no control to write"
        emit(f"Nothing to import: {why} (or skipped above); no file written.", nl=True)
        return ExitCode.OK
    if not unmanaged:
        result.files.update({path: schema_text(name) for path, name in SCHEMA_FILES.items()})
    _write(result, target, force and not unmanaged, unmanaged)
    _report(result, target, [*skipped, *result.skipped], unmanaged)
    return ExitCode.OK


def _write(result: ImportPlan, target: Path, force: bool, unmanaged: bool) -> None:
    refuse_symlinked_folders(target, result.files)  # before "exists": it may exist over there
    existing = existing_targets(target, result.files)
    if existing and not force:
        shown = ", ".join(str(path) for path in existing[:5])
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        hint = "" if unmanaged else "; give --force to replace them, or another --to"
        raise InputProblem(f"{shown}{more}: already exists; nothing was written{hint}")
    strays = [] if unmanaged else stray_manifests(target / CONTROLS_DIR, result.files)
    if strays:
        shown = ", ".join(str(path) for path in strays[:5])
        more = f" and {len(strays) - 5} more" if len(strays) > 5 else ""
        message(
            f"hpconfig: note: plan will also read {shown}{more}, which this import did not "
            "write; delete what an earlier import left"
        )
    write_files(target, result.files)


def _say_skipped(skipped: list[Skipped]) -> None:
    for item in skipped:
        name = f"{excerpt(item.identifier)}: " if item.identifier else ""
        message(f"hpconfig: skipped {name}{item.reason}")


def _report(result: ImportPlan, target: Path, skipped: list[Skipped], unmanaged: bool) -> None:
    _say_skipped(skipped)
    counts: dict[str, int] = {}
    for path in result.file_of.values():
        counts[path] = counts.get(path, 0) + 1
    lines = [
        f"Imported {plural(len(result.controls), 'control')} into "
        f"{plural(len(counts), 'manifest')} in {target}"
        + (f"; skipped {len(skipped)} (see above)." if skipped else ".")
    ]
    for path in result.files:
        count = f" ({plural(counts[path], 'control')})" if path in counts else ""
        lines.append(f"  {target / path}{count}")
    if unmanaged:
        lines.append("Next: `hpconfig plan`, with the same manifests, shows them in sync.")
    else:
        lines.append(f"Next: `hpconfig plan {target}` shows them in sync.")
    emit("\n".join(lines), nl=True)
