"""Manifest and config files on disk → loaded documents; finding them in directories.

Owns: which files are read (regular files only, bounded in size: ``files.read_bounded``), each
once however it is named, and walking directories. Parsing is ``composer``'s; it must not know
what a manifest means: the schema and the model do that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from hpconfig.errors import Location, Problem
from hpconfig.files import read_bounded, read_head
from hpconfig.manifest.composer import (  # noqa: F401 - loader's names, as callers know them
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    load_text,
)
from hpconfig.manifest.document import Document
from hpconfig.manifest.sniff import looks_like_manifest

YAML_SUFFIXES = (".yaml", ".yml")
CONFIG_NAMES = ("hpconfig.yaml", "hpconfig.yml")


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and load one file; an unreadable file is a problem, not an exception."""
    file = display or str(path)
    try:
        raw = read_bounded(path)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return None, [Problem(Location(file), "", f"cannot read the file: {reason}")]
    return load_text(file, raw)


def display_name(path: Path) -> str:
    """Paths in messages are relative to the working directory when they are below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path.absolute()) if relative.startswith("..") else relative


def discover(
    paths: Sequence[Path], skipped: list[tuple[Path, str]] | None = None
) -> tuple[list[Path], list[Problem]]:
    """Files and directories → the YAML files below them, sorted, each once.

    Directories are walked recursively for ``*.yaml`` and ``*.yml``; hidden directories (``.git``,
    ``.github``) are not entered, and files that are no manifest (``not_a_manifest``) are left
    out, each added to ``skipped`` with the reason. A file named on its own is always read.
    """
    found: dict[Path, None] = {}
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            for file in _walk(path, skipped if skipped is not None else []):
                found.setdefault(file, None)
        elif path.is_file() or path.exists():  # not a regular file: load_file says what
            found.setdefault(path, None)
        else:
            problems.append(Problem(Location(str(path)), "", "no such file or directory"))
    return sorted(found), problems


def _walk(directory: Path, skipped: list[tuple[Path, str]]) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES):
                reason = not_a_manifest(Path(root) / name)
                if reason:
                    skipped.append((Path(root) / name, reason))
                else:
                    yield Path(root) / name


_SNIFF_BYTES = 1 << 20  # a manifest's top-level keys are found long before this


def not_a_manifest(path: Path) -> str | None:
    """Why a YAML file met in a directory walk is not a manifest, or None when it may be one.

    Unreadable files are kept: reading them later gives the located error.
    """
    if path.name.startswith("."):
        return "hidden"
    if path.name in CONFIG_NAMES:
        return "the project config"
    if path.is_symlink():
        return None  # not read to sniff it: the project checks first where it leads
    try:
        head = read_head(path, _SNIFF_BYTES)  # never blocks on a FIFO met in the walk
    except OSError:
        return None
    return None if looks_like_manifest(head) else "no `controls` or `defaults` at the top level"
