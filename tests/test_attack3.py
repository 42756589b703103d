"""Regression tests from the third security review of the worker processes, the JSON report
layout and the container cap on JSON answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORK_FAILS = """
import errno, os, sys
from hpconfig import workers
real_fork, calls = os.fork, []

def fork():
    calls.append(1)
    if len(calls) > int(sys.argv[1]):  # a pids limit, or EMFILE on the pipe
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    return real_fork()

os.fork = fork
before = len(os.listdir("/proc/self/fd"))
items = list(range(40))
same = workers.map_shares(lambda i: i * i, items, workers.shares([1] * 40, 4))
print(same == [i * i for i in items], len(os.listdir("/proc/self/fd")) == before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are Linux only")
@pytest.mark.parametrize("forks", ["0", "1", "2"])
def test_a_worker_that_cannot_be_started_is_done_here(forks: str) -> None:
    # A worker is an accelerator: with no process or pipe left for it (a container's pids
    # limit, ulimit -n), the run reads that share itself instead of an internal error (exit 1).
    done = subprocess.run(
        [sys.executable, "-c", FORK_FAILS, forks],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert (done.stdout, done.stderr) == ("True True\n", "")
