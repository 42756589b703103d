"""The journal: one JSON object per line, written as it happens, flushed and fsynced.

Owns opening the journal safely (never through a symlink, only a regular file, appended to, mode
0600 when created; the default is ``.hpconfig/journal/apply-<UTC time>-<run>.jsonl`` under the
working directory, whose folders it makes) and writing each line so that a job cancelled or
killed half-way leaves a true record: a line is on disk before the next write starts. Lines are
given already rendered (the CLI redacts them); this module does not know what they mean.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from hpconfig.errors import ReportPathError
from hpconfig.files import symlinked_directory

DEFAULT_FOLDER = Path(".hpconfig") / "journal"


def default_path(now: datetime, run: str) -> Path:
    return DEFAULT_FOLDER / f"apply-{now.strftime('%Y%m%dT%H%M%SZ')}-{run}.jsonl"


class Journal:
    def __init__(self, path: Path, make_folders: bool = False) -> None:
        self.path = path
        linked = symlinked_directory(path)
        if linked is not None:  # a pull request commits links: the record stays in the checkout
            raise ReportPathError(
                f"--journal {path}: {linked} is a symlink; a relative journal path is not "
                "followed through one (give an absolute path to write elsewhere)"
            )
        if make_folders:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ReportPathError(
                    f"--journal {path}: cannot make its folder: {error.strerror}"
                ) from None
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        flags |= getattr(os, "O_NONBLOCK", 0)  # a FIFO must not hang the run before it starts
        try:
            self.fd = os.open(path, flags, 0o600)
        except OSError as error:
            raise ReportPathError(
                f"--journal {path}: cannot open it for writing: {error.strerror} (a journal "
                "is a regular file, never a symlink)"
            ) from None
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):
            os.close(self.fd)
            raise ReportPathError(f"--journal {path}: not a regular file")
        os.set_blocking(self.fd, True)

    def write(self, line: str) -> None:
        """One line, on disk when this returns (OSError when it cannot be)."""
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        while data:
            written = os.write(self.fd, data)
            data = data[written:]
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
