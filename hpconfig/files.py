"""Files on disk: read bounded, written atomically, never anything but a regular file.

Owns ``read_bounded`` (manifests and configs: regular files only, at most ``MAX_FILE_BYTES``,
never a hang on a FIFO or a device), ``unique_files`` (one file once, whatever its name),
``write_atomically`` (a reader sees the old file or the new one, never a torn one) and the
rules for report paths (``--out``, ``--sarif``, ``--markdown``), checked before a plan runs:

- ``-``, ``/dev/stdout`` and ``/dev/stderr`` mean those streams (the CLI writes them);
- a regular file, or a path that does not exist yet in an existing directory, is written
  atomically; an existing file keeps its mode, a new one gets the mode the umask gives;
- a character device (``/dev/null``, a terminal) is written through, never replaced;
- a FIFO is written through when a reader has it open, and refused otherwise (it would hang);
- a symlink is never replaced, and followed only to a character device or a FIFO: a pull request
  can commit a symlink named ``plan.json`` that points anywhere, so a link to a regular file is
  refused rather than written through;
- a directory, a socket, a block device, or a missing parent directory is refused.

A refusal is ``ReportPathError`` (exit 3); a failed write is too, never a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpconfig.errors import ReportPathError, UsageError

STREAMS = {"-": "stdout", "/dev/stdout": "stdout", "/dev/stderr": "stderr"}
# POSIX flags; Windows has neither FIFOs nor controlling terminals, so 0 loses nothing there.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


def _umask() -> int:
    """The process's umask. Linux tells it in /proc; elsewhere setting and restoring it is the
    only way, which a thread creating a file at that moment could notice."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, then rename it over
    ``path``: a reader sees the old file or the new one, never a torn one. The file keeps the
    mode it had; a new one gets the umask's (mkstemp alone would make it 0600)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ReportTarget:
    """Where one report goes: a stream, a file to replace atomically, or a node to write into."""

    option: str  # the option that named it, for messages
    path: Path
    stream: str | None = None  # "stdout" | "stderr"
    write_through: bool = False  # a character device or a FIFO: opened, never replaced

    @property
    def identity(self) -> tuple[object, ...]:
        """Two targets with one identity are the same destination."""
        if self.stream:
            return ("stream", self.stream)
        try:
            info = os.stat(self.path)
            return ("node", info.st_dev, info.st_ino)
        except OSError:
            return ("path", os.path.realpath(self.path))


def _fifo_has_reader(path: Path) -> bool:
    try:
        descriptor = os.open(path, os.O_WRONLY | _NONBLOCK)
    except OSError as error:
        if error.errno == errno.ENXIO:
            return False
        raise
    os.close(descriptor)
    return True


def symlinked_directory(path: Path) -> Path | None:
    """The first directory of a relative report path that is a symlink, if any. A relative path
    is walked from the working directory, the checkout, whose links a pull request commits; an
    absolute path is the CI owner's own choice and is taken as given."""
    if path.is_absolute():
        return None
    walked = Path()
    for part in path.parent.parts:
        walked = walked / part
        if os.path.islink(walked):
            return walked
    return None


def report_target(option: str, text: str) -> ReportTarget:
    """Check a report path before anything runs: ReportPathError says why it cannot be used."""
    if text in STREAMS:
        return ReportTarget(option, Path(text), stream=STREAMS[text])
    path = Path(text)

    def refuse(why: str) -> ReportPathError:
        return ReportPathError(f"{option} {text}: {why}")

    linked = symlinked_directory(path)
    if linked is not None:
        raise refuse(
            f"{linked} is a symlink; hpconfig writes a report only through real directories "
            "(a pull request can commit a link that leads out of the repository)"
        )
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        parent = path.parent
        if not parent.is_dir():
            raise refuse(f"the directory {parent} does not exist; create it first") from None
        return ReportTarget(option, path)
    except OSError as error:
        raise refuse(f"cannot use it: {error.strerror}") from None
    try:
        info = os.stat(path)  # follows a symlink
    except OSError:
        raise refuse("a symlink that leads nowhere; hpconfig does not write through it") from None
    kind = info.st_mode
    if stat.S_ISCHR(kind):
        return ReportTarget(option, path, write_through=True)
    if stat.S_ISFIFO(kind):
        if not _fifo_has_reader(path):
            raise refuse("a FIFO that nothing reads; writing to it would wait forever")
        return ReportTarget(option, path, write_through=True)
    if stat.S_ISLNK(link.st_mode):
        raise refuse("a symlink; hpconfig never replaces one or writes a file through it")
    if stat.S_ISREG(kind):
        return ReportTarget(option, path)
    what = file_kind(kind)
    raise refuse(f"{what}; give the path of a file")


REPORT_OPTIONS = ("out", "sarif", "markdown")


def report_targets(report: Mapping[str, Any]) -> dict[str, ReportTarget]:
    """Every report path checked before anything runs: the same destination twice is a usage
    error (64), a path that cannot take a report an input error (3)."""
    targets: dict[str, ReportTarget] = {}
    for name in REPORT_OPTIONS:
        if report[name] is not None:
            targets[name] = report_target(f"--{name}", report[name])
    # The --format report always goes to standard output, so a report option naming it (or the
    # file stdout is redirected to) would interleave two documents into one invalid stream.
    seen: dict[tuple[object, ...], str] = {("stream", "stdout"): "format"}
    try:
        stdout = os.fstat(1)
        if stat.S_ISREG(stdout.st_mode):
            seen[("node", stdout.st_dev, stdout.st_ino)] = "format"
    except OSError:
        pass
    for name, target in targets.items():
        if seen.get(target.identity) == "format":
            raise UsageError(
                f"--{name} {target.path} names standard output, where the --format report "
                f"already goes; give --{name} a file, or choose the format with --format"
            )
        if target.identity in seen:
            raise UsageError(
                f"--{seen[target.identity]} and --{name} name the same destination "
                f"({target.path}); give each report its own"
            )
        seen[target.identity] = name
    return targets


def write_report(target: ReportTarget, text: str) -> None:
    """Write a checked report file (not a stream: the CLI prints those)."""
    try:
        if target.write_through:
            descriptor = os.open(target.path, os.O_WRONLY | _NOCTTY | _NONBLOCK)
            if _NONBLOCK:
                os.set_blocking(descriptor, True)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
        else:
            if os.path.islink(target.path):  # became one since it was checked
                raise ReportPathError(f"{target.option} {target.path}: a symlink; not replaced")
            write_atomically(target.path, text)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ReportPathError(f"cannot write {target.option} {target.path}: {reason}") from None


# The largest file read as a manifest or config: 10,000 controls take about 2.5 MB.
MAX_FILE_BYTES = 16 * 1024 * 1024
# All the manifests of one run: 100,000 controls take about 35 MB, so this leaves room.
MAX_TOTAL_BYTES = 128 * 1024 * 1024


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a regular file; OSError for anything else, never a wait."""
    info = os.stat(path)
    _require_regular(info.st_mode, 0, size)
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        _require_regular(os.fstat(descriptor).st_mode, 0, size)
        return os.read(descriptor, size)
    finally:
        os.close(descriptor)


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file (a symlink followed to one), at most ``limit``.

    Anything else raises ``OSError`` with a message a person understands, and never blocks: the
    type is checked before the file is opened, opened with O_NONBLOCK (a FIFO swapped in since
    then does not wait for a writer), and checked again on the open descriptor.
    """
    info = os.stat(path)
    _require_regular(info.st_mode, info.st_size, limit)
    flags = os.O_RDONLY | _NONBLOCK | _NOCTTY | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        _require_regular(info.st_mode, info.st_size, limit)
        chunks = []
        total = 0
        while total <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # the file grew while it was read
            _require_regular(info.st_mode, total, limit)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words, for the messages that refuse it."""
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return words
    return "a special file"


def _require_regular(mode: int, size: int, limit: int) -> None:
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, f"{file_kind(mode)}, not a regular file; only files are read")
    if size > limit:
        raise OSError(
            errno.EFBIG,
            f"{size:,} bytes, more than the {limit:,} a manifest may have; split it into files",
        )


def unique_files(files: Sequence[Path]) -> list[Path]:
    """Each file once, however it was named (``a.yaml``, ``./x/../a.yaml``, a symlink to it):
    the first name stands."""
    seen: set[object] = set()
    unique = []
    for file in files:
        try:
            info = os.stat(file)
            identity: object = (info.st_dev, info.st_ino)
        except OSError:
            identity = os.path.realpath(file)
        if identity not in seen:
            seen.add(identity)
            unique.append(file)
    return unique
