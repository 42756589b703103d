"""The offline pipeline: config and paths → desired controls and every input problem.

Owns the order ``config → discover → load → schema → model`` that ``validate`` runs alone and
``plan`` runs before any network call, and what the commands say about the inputs beside the
problems: warnings (valid, but worth saying), the YAML files a walk skipped and why, and config
files in the given directories that were not used. It must not print, exit, or talk HTTP.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from hpconfig import workers
from hpconfig.control import Control
from hpconfig.errors import Location, Problem, Severity, problem_order
from hpconfig.files import MAX_TOTAL_BYTES, unique_files
from hpconfig.manifest import schema
from hpconfig.manifest.config_file import find_config, load_config, repository_root
from hpconfig.manifest.desired import FileControls, file_controls, merge_controls
from hpconfig.manifest.document import Document
from hpconfig.manifest.loader import CONFIG_NAMES, discover, display_name, load_file
from hpconfig.perf import paused_gc
from hpconfig.project_config import ProjectConfig


@dataclass
class Project:
    """What the inputs say: the config, the desired controls, the files read, every problem."""

    config: ProjectConfig
    desired: dict[str, Control] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # worth saying; the inputs are valid
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it is no manifest)
    unused_configs: list[str] = field(default_factory=list)  # in a given directory, not used
    # Each file's loaded document, by display name; kept only when asked (refresh edits them).
    documents: dict[str, Document] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def _leaves_repository(file: Path) -> bool:
    """True for a symlink whose target lies outside the repository of the folder holding it."""
    if not file.is_symlink():
        return False
    root = repository_root(file.parent)
    target = file.resolve()
    return root != target and root not in target.parents


def _inside_repositories(files: list[Path], paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Files a directory walk found, less symlinks that lead outside that directory's repository
    (a pull request can commit ``controls/x.yaml -> /etc/shadow``); a file named itself stays."""
    roots = {path: repository_root(path) for path in paths if path.is_dir()}
    kept: list[Path] = []
    problems: list[Problem] = []
    for file in files:
        walked = [root for path, root in roots.items() if path in file.parents]
        if walked and file.is_symlink():
            target = file.resolve()
            if not any(root == target or root in target.parents for root in walked):
                problems.append(
                    Problem(
                        Location(display_name(file)),
                        "",
                        "a symlink that leads outside the repository; it is not read",
                    )
                )
                continue
        kept.append(file)
    return kept, problems


def load_project(
    paths: list[Path],
    config_path: Path | None = None,
    today: date | None = None,
    keep_documents: bool = False,
) -> Project:
    """Read everything the command line names; never raises for bad input. With
    ``keep_documents``, the loaded documents stay in ``Project.documents``."""
    with paused_gc():
        return _load_project(paths, config_path, today, keep_documents)


def _load_project(
    paths: list[Path], config_path: Path | None, today: date | None, keep_documents: bool
) -> Project:
    today = today or utc_today()
    problems: list[Problem] = []
    found, replaces = find_config(config_path, paths)
    config = ProjectConfig()
    if found is not None:
        if not found.exists():  # anything else (a FIFO, a device) load_config names
            problems.append(
                Problem(Location(display_name(found)), "", "the config file does not exist")
            )
        elif config_path is None and _leaves_repository(found):
            problems.append(
                Problem(
                    Location(display_name(found)),
                    "",
                    "a symlink that leads outside the repository; it is not read "
                    "(name a config outside it with --config)",
                )
            )
        else:
            config, config_problems = load_config(found, today, display_name(found))
            problems += config_problems
    manifest_paths = list(paths)
    if replaces and config.manifests:
        manifest_paths = list(config.manifests)
    if not manifest_paths:
        manifest_paths = [Path(".")]
    skipped: list[tuple[Path, str]] = []
    files, missing = discover(manifest_paths, skipped)
    files, outside = _inside_repositories(unique_files(files), manifest_paths)
    problems += missing + outside
    names: list[str] = []
    todo: list[tuple[Path, str]] = []
    sizes: list[int] = []
    budget = MAX_TOTAL_BYTES
    for file in files:
        name = display_name(file)
        names.append(name)
        # Each file is capped when read; the sum is capped too, so that a pull request of many
        # large files cannot make one run's memory and log grow without bound.
        size = 0
        with contextlib.suppress(OSError):
            size = os.stat(file).st_size
        budget -= size
        if budget < 0:
            problems.append(
                Problem(
                    Location(name),
                    "",
                    f"not read: the manifests of this run pass {MAX_TOTAL_BYTES:,} bytes in "
                    "all; split the run (give fewer paths) or remove files",
                )
            )
            continue
        todo.append((file, name))
        sizes.append(size)
    # Large repositories are read on several cores (``workers``); a run that keeps the
    # documents (import, refresh) reads them here.
    count = 1 if keep_documents else workers.jobs(sum(sizes), len(todo))
    read = workers.map_shares(
        lambda item: _read_manifest(item, keep_documents), todo, workers.shares(sizes, count)
    )
    documents: list[Document] = []
    for file_problems, _, document in read:
        problems += file_problems
        if keep_documents and document is not None:
            documents.append(document)
    if not files and not missing:
        problems.append(
            Problem(
                Location(display_name(manifest_paths[0])),
                "",
                "no manifest files (*.yaml, *.yml) found here",
            )
        )
    desired, model_problems = merge_controls(c for _, c, _ in read if c is not None)
    problems += model_problems
    return Project(
        config=config,
        desired=desired,
        files=names,
        problems=sorted((p for p in problems if p.severity != Severity.WARNING), key=problem_order),
        warnings=sorted((p for p in problems if p.severity == Severity.WARNING), key=problem_order),
        skipped=sorted((display_name(path), reason) for path, reason in skipped),
        unused_configs=_unused_configs(paths, found),
        documents={doc.file: doc for doc in documents},
    )


def _read_manifest(
    item: tuple[Path, str], keep: bool
) -> tuple[list[Problem], FileControls | None, Document | None]:
    """One manifest → its load and schema problems, what the model makes of it, and with
    ``keep`` the document (a worker hands back no document)."""
    file, name = item
    document, problems = load_file(file, name)
    if document is None:
        return problems, None, None
    schema_problems, invalid = schema.check(document, "manifest")
    return problems + schema_problems, file_controls(document, invalid), document if keep else None


def _unused_configs(paths: list[Path], used: Path | None) -> list[str]:
    """ProjectConfig files in the given directories that this run does not read (worth a note)."""
    unused = []
    for path in paths:
        for name in CONFIG_NAMES:
            candidate = path / name
            if candidate.is_file() and (used is None or candidate.resolve() != used.resolve()):
                unused.append(display_name(candidate))
    return unused
