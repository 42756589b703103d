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


def test_json_of_too_many_strings_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not only objects and lists swell: `["ab","ab",...]` takes 15 times its size parsed (a
    # 256 MB answer, 4 GB) and holds no `{` or `[` for the container cap to count.
    from hpconfig.remote import answers

    monkeypatch.setattr(answers, "MEASURED_FROM", 1000)
    monkeypatch.setattr(answers, "MAX_CONTAINERS", 1000)
    monkeypatch.setattr(answers, "MAX_VALUES", 2000)
    for body in (b"[" + b'"ab",' * 2001 + b'"ab"]', b"{" + b'"k":1.5,' * 2001 + b'"k":0}'):
        with pytest.raises(answers.TooMany, match="more than 2,000 values"):
            answers.parse_json(body)
    assert len(answers.parse_json(b"[" + b'"ab",' * 1500 + b'"ab"]')) == 1501


def test_ten_thousand_controls_are_far_below_the_value_cap() -> None:
    import json

    from hpconfig.remote import answers
    from hpconfig.sandbox.seeds import generate_org

    body = json.dumps(generate_org(10_000, 50)["controls"]).encode()
    assert (body.count(b",") + body.count(b":")) * 10 < answers.MAX_VALUES
    assert len(answers.parse_json(body)) == 10_000


@pytest.mark.parametrize("value", ["²", "٣", "9" * 5000])
def test_jobs_other_than_ascii_digits_are_a_usage_error_not_a_crash(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "²".isdigit() is true and int("²") raises ValueError; int() of 5,000 digits too (exit 1).
    from hpconfig import workers
    from hpconfig.errors import UsageError

    monkeypatch.setenv("HPCONFIG_JOBS", value)
    with pytest.raises(UsageError, match="HPCONFIG_JOBS must be a whole number"):
        workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 20)


ORPHANED = """
import os, sys, time
from hpconfig import workers
parent = os.getpid()

def work(item):
    if os.getpid() != parent:
        time.sleep(0.05)  # a worker reading 200 files of 50 ms each: 10 s
    return item

print(os.getpid(), flush=True)
workers.map_shares(work, list(range(400)), workers.shares([1] * 400, 2))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are Linux only")
def test_a_worker_whose_parent_is_gone_stops_at_the_next_file() -> None:
    # Killed alone (SIGKILL, the OOM killer, a SIGTERM sent to hpconfig only), hpconfig left
    # its workers reading their whole share for nobody, holding its stdout open meanwhile.
    import os
    import signal
    import time

    run = subprocess.Popen(
        [sys.executable, "-c", ORPHANED], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert run.stdout is not None
    pid = int(run.stdout.readline())
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + 30
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    run.stdout.read()  # end of file once the worker, which shares the pipe, is gone too
    run.wait()
    assert time.monotonic() - killed < 3
