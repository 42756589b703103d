"""The ``--state`` file: the organization kept on disk across runs, fast and crash-safe.

Owns two files beside each other: the snapshot ``FILE`` (the organization as a seed, compact JSON,
written atomically) and the journal ``FILE.journal`` (one line per write: a sequence number and the
control as written). A write appends its line with one ``os.write`` *before* the sandbox answers it,
so a killed sandbox has every write it acknowledged on disk; nothing is re-encoded, since the line
is the control's cached API JSON. Now and then (``compact_every`` writes; by default as many as
there are controls, so that a snapshot costs about as much as the lines it folds in) a background
thread writes a new snapshot from the same cached bytes and drops the journal lines it covers; at
start the journal is replayed over the snapshot (lines the snapshot already holds, after a kill
between the two steps, are skipped by their sequence number; a last line cut short by a kill was
never acknowledged and is dropped), temporary files a killed process left are removed, and a corrupt
snapshot or journal is an ``InputError`` naming the file, line and problem. A power cut may lose the
writes since the last snapshot: lines are not fsynced one by one. ``claim`` locks ``FILE.lock``,
so that two sandboxes never share the files. It must not know HTTP.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpconfig.errors import InputError, Location, Problem

try:
    import fcntl
except ImportError:  # Windows: one sandbox per state file is then the user's to keep
    fcntl = None  # type: ignore[assignment]
from hpconfig.files import write_atomically
from hpconfig.sandbox.seeds import load_seed
from hpconfig.sandbox.state import Organization

log = logging.getLogger("hpconfig.sandbox")

SEQ_KEY = "journalSeq"  # in the snapshot: the last journal line it includes
MIN_COMPACT_EVERY = 1000  # journal lines between snapshots, at the least, by default


def journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def claim(path: Path) -> int:
    """Lock ``FILE.lock`` for this process: two sandboxes on one state would undo each other's
    writes. The descriptor to keep open; -1 where the platform has no ``flock``."""
    if fcntl is None:
        return -1
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise InputError([Problem(Location(str(lock)), "", f"cannot open: {error}")]) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        message = f"in use by another sandbox ({lock.name} is locked); stop it or use another file"
        raise InputError([Problem(Location(str(path)), "", message)]) from None
    return fd


def remove_temporaries(path: Path) -> list[Path]:
    """Delete what ``write_atomically`` leaves behind when killed (``.FILE.xxxx``)."""
    removed = []
    for leftover in path.parent.glob(glob.escape(f".{path.name}.") + "*"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def read_state(path: Path, seed: dict[str, Any]) -> dict[str, Any]:
    """The organization the state files hold (the seed when there is no snapshot yet)."""
    for leftover in remove_temporaries(path):
        log.info("removed %s, left by a sandbox that was stopped while writing", leftover)
    journal = journal_path(path)
    if not path.exists():
        journal.unlink(missing_ok=True)  # a journal without its snapshot belongs to nothing
        return seed
    state = load_seed(path)
    done = state.get(SEQ_KEY, 0)
    if not isinstance(done, int) or isinstance(done, bool) or done < 0:
        problem = Problem(Location(str(path)), f"$.{SEQ_KEY}", "must be a non-negative integer")
        raise InputError([problem])
    if journal.exists():
        done = replay(journal, done, state)
    state[SEQ_KEY] = done
    return state


def replay(journal: Path, done: int, state: dict[str, Any]) -> int:
    """Apply the journal's lines after sequence number ``done`` to ``state``'s controls; the
    last sequence number seen, so that numbering goes on from it."""
    try:
        data = journal.read_bytes()
    except OSError as error:
        raise InputError([Problem(Location(str(journal)), "", f"cannot read: {error}")]) from None
    lines = data.split(b"\n")
    if lines[-1]:
        log.warning("%s: dropped a last line cut short (never acknowledged)", journal)
    index = {control["id"]: n for n, control in enumerate(state["controls"])}
    for number, line in enumerate(lines[:-1], start=1):
        seq, control = _journal_line(journal, number, line)
        if seq <= done:
            continue
        done = seq
        if control["id"] in index:
            state["controls"][index[control["id"]]] = control
        else:
            index[control["id"]] = len(state["controls"])
            state["controls"].append(control)
    return done


def _journal_line(journal: Path, number: int, line: bytes) -> tuple[int, dict[str, Any]]:
    where = Location(str(journal), number, 1)
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise InputError([Problem(where, "", f"not a journal line: {error}")]) from None
    if not isinstance(entry, dict):
        raise InputError([Problem(where, "$", "a journal line is a JSON object")])
    seq, control = entry.get("seq"), entry.get("control")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InputError([Problem(where, "$.seq", "must be an integer")])
    if not (
        isinstance(control, dict)
        and isinstance(control.get("id"), str)
        and isinstance(control.get("controlIdentifier"), str)
    ):
        raise InputError(
            [Problem(where, "$.control", "must be a control with a string id and identifier")]
        )
    return seq, control


class StateStore:
    """Keeps one organization in ``path``; ``attach`` it, and ``close`` it after the last write."""

    def __init__(self, path: Path, compact_every: int | None = None) -> None:
        self.path = path
        self.journal = journal_path(path)
        self.compact_every = compact_every
        self.seq = 0
        self.since_snapshot = 0
        self.fd = -1
        self.org: Organization | None = None
        self.wake = threading.Event()
        # Held through a whole compaction, and taken before the organization's lock: a reset's
        # snapshot must not be overwritten by an older one that was being written meanwhile.
        self.snapshots = threading.Lock()
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.lock_fd = -1

    def open(self, seed: dict[str, Any]) -> dict[str, Any]:
        """Claim the state files for this sandbox, and read them (``read_state``)."""
        self.lock_fd = claim(self.path)
        try:
            return read_state(self.path, seed)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Let another sandbox use the state files (the kernel does it too if this one dies)."""
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1

    def attach(self, org: Organization, seq: int = 0) -> None:
        """Write a first snapshot (folding any journal in), then journal every write; ``seq``
        is the last sequence number ``read_state`` saw, so that old lines are never replayed."""
        self.org = org
        self.seq = seq
        with org.lock:
            self.snapshot()
            org.on_write = self.append
        self.thread = threading.Thread(target=self._compactor, name="sandbox-state", daemon=True)
        self.thread.start()

    def append(self, encoded: bytes) -> None:
        """One write's line; under the organization's lock, so lines keep the order of writes.
        An OSError (a full disk) leaves the journal as it was, and the write unanswered."""
        line = b'{"seq": %d, "control": %s}\n' % (self.seq + 1, encoded)
        end = os.lseek(self.fd, 0, os.SEEK_END)
        written = os.write(self.fd, line)
        if written != len(line):  # a cut line would stop the next start: take it back
            os.ftruncate(self.fd, end)
            raise OSError(f"the journal {self.journal} took {written} of {len(line)} bytes")
        self.seq += 1
        self.since_snapshot += 1
        every = self.compact_every or max(
            MIN_COMPACT_EVERY, len(self.org.controls) if self.org else 0
        )
        if self.since_snapshot >= every:
            self.since_snapshot = 0
            self.wake.set()

    def snapshot(self) -> None:
        """A whole snapshot now, and an empty journal; the caller holds the organization's lock."""
        assert self.org is not None
        write_atomically(self.path, _snapshot_text(self.org.header(), self._controls(), self.seq))
        self._restart_journal(b"")
        self.since_snapshot = 0

    def _controls(self) -> list[bytes]:
        assert self.org is not None
        return self.org.encoded_controls()

    def _restart_journal(self, keep: bytes) -> None:
        """Replace the journal with ``keep`` (lines newer than the snapshot) and append to it."""
        write_atomically(self.journal, keep.decode())
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND)

    def _compactor(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            if self.stopping:
                return
            try:
                self.compact()
            except OSError as error:  # the journal still holds every write; try again later
                log.error("cannot write the state snapshot %s: %s", self.path, error)

    def compact(self) -> None:
        """A snapshot of the state now, written while writers go on; then the journal shrinks."""
        assert self.org is not None
        with self.snapshots:
            with self.org.lock:
                header, controls, seq = self.org.header(), self._controls(), self.seq
                offset = os.lseek(self.fd, 0, os.SEEK_END)
            write_atomically(self.path, _snapshot_text(header, controls, seq))
            with self.org.lock:
                with open(self.journal, "rb") as stream:
                    stream.seek(offset)
                    newer = stream.read()
                self._restart_journal(newer)

    def reload(self, load: Callable[[], None]) -> None:
        """Replace the organization (``load`` does) and snapshot it at once (a reset)."""
        assert self.org is not None
        with self.snapshots, self.org.lock:
            load()
            self.snapshot()

    def close(self) -> None:
        """Stop the compactor and leave one whole snapshot and an empty journal."""
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join()
        if self.org is not None and self.fd >= 0:
            with self.org.lock:
                self.org.on_write = None
                self.snapshot()
                os.close(self.fd)
                self.fd = -1
                self.journal.unlink(missing_ok=True)  # the snapshot holds every write
        self.release()


def _snapshot_text(header: dict[str, Any], controls: list[bytes], seq: int) -> str:
    """The snapshot from already encoded controls: only the small header is encoded here."""
    head = json.dumps({**header, SEQ_KEY: seq})[:-1]  # the object left open for its controls
    return head + ', "controls": [' + b", ".join(controls).decode() + "]}\n"
