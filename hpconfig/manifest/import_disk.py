"""The disk side of ``hpconfig import``: where plan reads manifests, what exists, writing.

Owns: which folders the project's plan reads (``manifest_roots``, the same choice as
``manifest.project``), whether ``--to`` lies inside one of them, which names in the target are
taken, the modeline a new file in an existing project gets (the one its neighbours use), and
writing the files, each atomically (``files.write_atomically``), manifests before the config
that lists them. It decides nothing about content (``importing`` does) and never talks HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hpconfig.errors import InputProblem
from hpconfig.files import read_head, write_atomically
from hpconfig.manifest.config_file import find_config
from hpconfig.manifest.loader import YAML_SUFFIXES
from hpconfig.manifest.writer import MANIFEST_MODELINE
from hpconfig.project_config import ProjectConfig

_MODELINE = "# yaml-language-server: $schema="
# The schema's own address ($id), for a new file whose neighbours name no schema.
SCHEMA_URL = "https://hpconfig.dev/schemas/manifest.schema.json"


def manifest_roots(
    paths: list[Path], config_path: Path | None, config: ProjectConfig
) -> list[Path]:
    """The files and folders plan reads for these arguments (as ``load_project`` chooses)."""
    _, replaces = find_config(config_path, paths)
    if replaces and config.manifests:
        return list(config.manifests)
    return list(paths) or [Path(".")]


def covered_by(target: Path, roots: Iterable[Path]) -> bool:
    """True when ``target`` is a folder plan walks: one of ``roots`` or inside one."""
    resolved = target.resolve()
    for root in roots:
        if root.is_dir():
            base = root.resolve()
            if base == resolved or base in resolved.parents:
                return True
    return False


def stems_in(folder: Path) -> set[str]:
    """The file stems a new manifest in ``folder`` must not take (case folded: a
    case-insensitive file system takes ``Access.yaml`` for ``access.yaml``)."""
    if not folder.is_dir():
        return set()
    return {entry.name.rsplit(".", 1)[0].casefold() for entry in folder.iterdir()}


def _modeline_of(path: Path) -> str | None:
    try:
        head = read_head(path, 4096).decode("utf-8", "replace")
    except OSError:
        return None
    first = head.split("\n", 1)[0].rstrip("\r")
    return first if first.startswith(_MODELINE) and first.isprintable() else None


def modeline_for(folder: Path, project: Any) -> str:
    """The modeline of a new manifest in ``folder``: a neighbour's in the same folder; else one
    of the project's, its relative path rebased on ``folder`` when the schema exists there;
    else the schema's URL."""
    files = [Path(name) for name in project.files]
    here = [f for f in files if f.resolve().parent == folder.resolve()]
    for file in [*here, *(f for f in files if f not in here)]:
        line = _modeline_of(file)
        if line is None:
            continue
        reference = line[len(_MODELINE) :].strip()
        if "://" in reference:
            return line + "\n"
        schema = (file.parent / reference).resolve()
        if schema.is_file():
            return _MODELINE + Path(os.path.relpath(schema, folder.resolve())).as_posix() + "\n"
    return _MODELINE + SCHEMA_URL + "\n" if files else MANIFEST_MODELINE


def existing_targets(target: Path, files: Iterable[str]) -> list[Path]:
    """The files to write that exist already (a dangling symlink counts)."""
    return [target / path for path in files if os.path.lexists(target / path)]


def stray_manifests(folder: Path, files: Mapping[str, str]) -> list[Path]:
    """YAML files in ``folder`` that this import does not write (plan would read them too)."""
    if not folder.is_dir():
        return []
    written = {(folder.parent / path).resolve() for path in files}
    return sorted(
        entry
        for entry in folder.rglob("*")
        if entry.name.endswith(YAML_SUFFIXES) and entry.resolve() not in written
    )


def write_files(target: Path, files: Mapping[str, str]) -> None:
    """Write every file under ``target``, each atomically; ``hpconfig.yaml`` last, so that it
    never lists manifests that are not there yet."""
    order = sorted(files, key=lambda path: (path == "hpconfig.yaml", path))
    refuse_symlinked_folders(target, order)  # every file checked before the first is written
    for path in order:
        destination = target / path
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(destination, files[path])
        except OSError as error:
            raise InputProblem(
                f"cannot write {destination}: {error.strerror or type(error).__name__}"
            ) from None


def refuse_symlinked_folders(target: Path, files: Iterable[str]) -> None:
    """``InputProblem`` when a folder between ``target`` and a file to write (relative to it)
    is a symlink: a checkout can hold a link that leads out of the repository. ``target``
    itself is the user's choice and taken as given."""
    for path in files:
        walked = target
        for part in Path(path).parent.parts:
            walked = walked / part
            if os.path.islink(walked):
                raise InputProblem(
                    f"{walked}: a symlink; import writes only through real folders inside --to; "
                    "nothing was written"
                )
