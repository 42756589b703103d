"""Work spread over the machine's cores: the manifests of a large repository are read, and the
live controls of a large organization compared (``remote.fetch.plan_of_answers``), by forked
worker processes, each a share, while this process does the first share.

Owns how many processes (``jobs``: ``HPCONFIG_JOBS``, else the cores this process may use, at
most ``MAX_JOBS``; one below ``MIN_PARALLEL_BYTES`` of manifests or ``MIN_PARALLEL_CONTROLS``
live controls, where a fork costs more than it saves), how files are shared (``shares``:
contiguous, by size, so the order of the results is the order of the items), and
``map_shares``: the results of every share, in order.

A worker is an accelerator, never a source of truth: it is forked only on Linux and only while
this process runs no other thread (a fork copies locks another thread may hold); it returns a
pickle over a pipe of its own to the process that forked it, and prints nothing; when it fails
in any way (an exception, a signal, a result that does not read back), this process does its
share itself, so a bug shows exactly as it would without workers. Ctrl-C reaches the workers
too (they are in the foreground process group); any left are killed and reaped on the way out.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hpconfig.errors import UsageError

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_JOBS = 4
# Below this much input (about 3,000 controls) the workers' fork and pickle cost more than the
# share they take (benchmarks/validate_bench.py prints both sides at 1,000 and 10,000 controls).
MIN_PARALLEL_BYTES = 1_000_000
# Below this many live controls, converting and comparing them in workers costs more than it
# saves (the fork of a large process, the pickles of what the workers found).
MIN_PARALLEL_CONTROLS = 5_000
ENV = "HPCONFIG_JOBS"


def jobs(total: int, items: int, minimum: int = MIN_PARALLEL_BYTES) -> int:
    """How many processes should do ``items`` pieces of work of ``total`` in all (bytes, or
    controls with ``minimum=MIN_PARALLEL_CONTROLS``): one below ``minimum``."""
    wanted = _wanted()
    if wanted == 1 or items < 2 or total < minimum or not _can_fork():
        return 1
    return min(wanted, items)


def _can_fork() -> bool:
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False  # macOS's system libraries are not fork-safe; Windows has no fork
    # A test's in-process server, a watchdog: a fork could copy a lock another thread holds.
    return threading.active_count() == 1


def _wanted() -> int:
    text = os.environ.get(ENV, "").strip()
    if not text:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # pragma: no cover - not Linux
            cores = os.cpu_count() or 1
        return max(1, min(cores, MAX_JOBS))
    # ASCII digits only: int() takes "٣" and str.isdigit() "²", which int() refuses (exit 1)
    if not (text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= 64):
        raise UsageError(f"{ENV} must be a whole number from 1 to 64 (1: no worker processes)")
    return int(text)


def shares(sizes: Sequence[int], count: int) -> list[range]:
    """Split item indices into ``count`` contiguous ranges of about equal total size, none empty."""
    count = max(1, min(count, len(sizes)))
    total = sum(sizes)
    bounds: list[range] = []
    running = start = 0
    for index, size in enumerate(sizes):
        running += size
        remaining_items = len(sizes) - index - 1
        remaining_shares = count - len(bounds) - 1
        full = running * count >= total * (len(bounds) + 1)
        if remaining_shares and (full or remaining_items == remaining_shares):
            bounds.append(range(start, index + 1))
            start = index + 1
    bounds.append(range(start, len(sizes)))
    return bounds


def map_shares(
    function: Callable[[Item], Result], items: Sequence[Item], parts: list[range]
) -> list[Result]:
    """``[function(item) for item in items]``, the first share here and each other in a forked
    worker; the same list, in the same order, whether or not a worker succeeds."""
    if len(parts) < 2:
        return [function(item) for item in items]
    import pickle  # only a run with workers (a hook's validate starts without them)
    import signal

    stops = {signal.SIGINT, signal.SIGTERM}
    started: list[tuple[int, int, range]] = []
    try:
        for part in parts[1:]:
            # Ctrl-C waits while a worker is forked and recorded: one that came in between
            # would raise in both processes, and the worker would go on as hpconfig itself.
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
            try:
                started.append((*_fork(function, [items[i] for i in part]), part))
            except OSError:
                break  # no pipe or no process left (ulimit -n, a pids limit): do the rest here
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        results = [function(items[i]) for i in parts[0]]
        for index, (pid, pipe, part) in enumerate(started):
            started[index] = (pid, -1, part)  # the pipe is _collect's to close from here
            share = _collect(pid, pipe, pickle.loads)
            started[index] = (0, -1, part)  # and the worker is reaped
            if share is None or len(share) != len(part):
                share = [function(items[i]) for i in part]  # the worker failed: do it here
            results.extend(share)
        for part in parts[1 + len(started) :]:  # the shares no worker was started for
            results.extend(function(items[i]) for i in part)
        return results
    finally:
        for pid, pipe, _ in started:
            _stop(pid, pipe)


def _fork(function: Callable[[Item], Result], share: list[Item]) -> tuple[int, int]:
    import pickle
    import signal

    parent = os.getpid()
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the worker: compute, hand back, and leave without running any exit handler
        code = 1
        try:
            stops = {signal.SIGINT, signal.SIGTERM}
            for number in stops:  # a stop ends a worker at once, without a traceback
                signal.signal(number, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            os.close(read_end)
            results = []
            for item in share:
                if os.getppid() != parent:  # orphaned (SIGKILL, a SIGTERM to hpconfig alone)
                    raise SystemExit  # stop now, not after the share: nobody reads it
                results.append(function(item))
            data = pickle.dumps(results, pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the parent redoes the share and reports
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, pipe: int, loads: Callable[[bytes], Any]) -> list[Any] | None:
    """The worker's results, or None when it failed; the worker is reaped either way."""
    chunks = []
    try:
        with os.fdopen(pipe, "rb") as stream:
            while chunk := stream.read(1 << 20):
                chunks.append(chunk)
    except OSError:
        chunks = []
    _, status = os.waitpid(pid, 0)
    if status != 0 or not chunks:
        return None
    try:
        result = loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - a truncated pickle: redo the share here
        return None
    return result if isinstance(result, list) else None


def _stop(pid: int, pipe: int) -> None:
    """Kill and reap a worker left running (Ctrl-C, an error in this process)."""
    if pipe >= 0:
        with contextlib.suppress(OSError):
            os.close(pipe)
    if pid:
        try:
            # Still this process's child? One reaped already (Ctrl-C just after _collect's
            # waitpid) is not, and its pid may be another process's by now: never kill that.
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
