"""Manifests read by worker processes (``hpconfig.workers``): the same reports, byte for byte,
as one process gives; a worker that fails changes nothing; Ctrl-C leaves no worker behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.generate import write_manifests
from benchmarks.measure import sandbox_env
from hpconfig import workers
from hpconfig.errors import UsageError
from hpconfig.sandbox import Sandbox
from hpconfig.sandbox.seeds import generate_org

ROOT = Path(__file__).resolve().parents[1]


def _hpconfig(*args: str, jobs: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HPCONFIG_JOBS": jobs, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "hpconfig", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1.5 MB of manifests (over ``MIN_PARALLEL_BYTES``) in 8 files, 2 % of the controls
    invalid, one identifier declared in two files and one twice in a file."""
    root = tmp_path_factory.mktemp("large")
    org = generate_org(5_000, 20)
    files = write_manifests(root / "controls", 5_000, 8, 20, org, invalid=0.02)
    first = org["controls"][0]["controlIdentifier"]
    last = org["controls"][-1]["controlIdentifier"]
    with files[-1].open("a", encoding="utf-8") as out:
        out.write(f"  - identifier: {first}\n    name: again, in another file\n")
        out.write(f"  - identifier: {last}\n    name: again, in the same file\n")
    assert sum(f.stat().st_size for f in files) > workers.MIN_PARALLEL_BYTES
    return root


def test_workers_report_exactly_what_one_process_does(large: Path) -> None:
    one = _hpconfig("validate", "controls", "--format", "json", jobs="1", cwd=large)
    two = _hpconfig("validate", "controls", "--format", "json", jobs="2", cwd=large)
    four = _hpconfig("validate", "controls", "--format", "json", jobs="4", cwd=large)
    assert one.returncode == two.returncode == four.returncode == 3
    assert one.stdout == two.stdout == four.stdout
    problems = json.loads(one.stdout)["diagnostics"]
    assert sum("is declared twice" in p["message"] for p in problems) == 2
    assert len(problems) > 50


def test_a_plan_is_the_same_with_workers(tmp_path: Path) -> None:
    org = generate_org(5_000, 20)
    write_manifests(tmp_path / "valid", 5_000, 8, 20, org)
    org["controls"][7]["name"] += " (renamed in the UI)"
    outputs = []
    with Sandbox(org) as sandbox:
        for jobs in ("1", "2"):
            command = [sys.executable, "-m", "hpconfig", "plan", "valid", "--format", "json"]
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=tmp_path, check=False,
                env=sandbox_env(sandbox, HPCONFIG_JOBS=jobs),
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-2000:]
            outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["summary"]["in_sync"] == 4_999


FAILING_WORKERS = """
import os, sys
from hpconfig import workers
parent = os.getpid()

def work(item):
    if os.getpid() != parent:
        how = sys.argv[1]
        if how == "raise":
            raise RuntimeError("a bug in a worker")
        if how == "kill":
            os.kill(os.getpid(), 9)
        if how == "unpicklable":
            return lambda: item
        if how == "exit":
            os._exit(0)  # leaves without a result
    return item * item

items = list(range(40))
print(workers.map_shares(work, items, workers.shares([1] * 40, 4)) == [i * i for i in items])
"""


@pytest.mark.parametrize("how", ["raise", "kill", "unpicklable", "exit", "none"])
def test_a_worker_that_fails_is_redone_here_and_changes_nothing(how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FAILING_WORKERS, how],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert done.stdout == "True\n"
    assert done.stderr == ""  # a worker prints nothing, even a traceback


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are Linux only")
def test_ctrl_c_stops_the_workers_too(tmp_path: Path) -> None:
    write_manifests(tmp_path / "controls", 40_000, 4, 20, generate_org(40_000, 20))
    env = {**os.environ, "HPCONFIG_JOBS": "4"}
    command = [sys.executable, "-m", "hpconfig", "validate", "controls"]
    run = subprocess.Popen(
        command, cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _children(run.pid) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _children(run.pid), "no worker was started"
    os.killpg(run.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # nothing of the group is left


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=40), st.integers(1, 8))
def test_shares_are_contiguous_none_empty_and_cover_every_item(
    sizes: list[int], count: int
) -> None:
    parts = workers.shares(sizes, count)
    assert [i for part in parts for i in part] == list(range(len(sizes)))
    assert all(len(part) for part in parts)
    assert len(parts) == min(count, len(sizes))


def test_no_workers_for_small_inputs_or_beside_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HPCONFIG_JOBS", "2")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 20) == 2
    assert workers.jobs(workers.MIN_PARALLEL_BYTES - 1, 20) == 1
    assert workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 1) == 1
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 20) == 1
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setenv("HPCONFIG_JOBS", "1")
    assert workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 20) == 1


@pytest.mark.parametrize("value", ["0", "-1", "two", "65", "1.5"])
def test_a_bad_jobs_setting_is_a_usage_error(value: str, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("version: 1\ncontrols: []\n")
    done = _hpconfig("validate", "c.yaml", jobs=value, cwd=tmp_path)
    assert done.returncode == 64
    assert "HPCONFIG_JOBS must be a whole number from 1 to 64" in done.stderr
    with pytest.raises(UsageError):
        os.environ["HPCONFIG_JOBS"] = value
        try:
            workers.jobs(10 * workers.MIN_PARALLEL_BYTES, 20)
        finally:
            del os.environ["HPCONFIG_JOBS"]


def test_the_worker_module_stays_out_of_a_small_validate() -> None:
    """pickle and signal are imported only by a run that starts workers (the hook starts
    without them)."""
    code = textwrap.dedent(
        """
        import sys
        from hpconfig.cli import cli
        try:
            cli.main(["validate", "examples/controls"], prog_name="hpconfig")
        except SystemExit:
            pass
        print("pickle" in sys.modules or "signal" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip().endswith("False")


PLAN_IN_SHARES = """
import copy, dataclasses, os, sys
from hpconfig import workers
from hpconfig.project_config import IgnoreRule, ProjectConfig
from hpconfig.remote import fetch
from hpconfig.remote.live import live_control, read_live
from hpconfig.render.json import render_json
from hpconfig.sandbox.seeds import generate_org

org = generate_org(6_000, 20)
answers = org["controls"]
desired = {}
for index, api in enumerate(answers):
    control = live_control(copy.deepcopy(api))
    if index % 10 == 1:  # drifted in the manifest
        control = dataclasses.replace(control, values={**control.values, "name": "renamed"})
    if index % 10 != 2:  # else unmanaged
        desired[control.identifier] = control
for index in range(40):  # declared, not in Hyperproof: creates
    extra = live_control({**copy.deepcopy(answers[0]), "controlIdentifier": f"NEW-{index}"})
    desired[extra.identifier] = extra
hostile = [
    {**answers[3], "id": "dup-1"},  # a second control with the identifier of answers[3]
    {**answers[5], "owner": {"email": 42}},  # malformed: answers[5]'s identifier twice now
    {**answers[7], "controlIdentifier": None, "id": "no-identifier"},
    "not a control",
    {**answers[9], "id": answers[11]["id"]},  # an id seen before, another identifier
    {**answers[13], "controlIdentifier": "   ", "id": "blank"},
    {**answers[15], "status": "archived", "controlIdentifier": "ARCHIVED-1", "id": "arch-1"},
    {**answers[25], "id": "dup-25"},  # a duplicate that --controls leaves out (GEN-0002*)
    {**answers[27], "freshForDuration": {"days": 1}},  # malformed, left out the same way
]
for index in range(30, 90, 2):  # ids seen before under other identifiers, duplicates, no id
    hostile.append({**answers[index], "id": answers[index + 1]["id"]})
    hostile.append({**answers[index + 200], "id": f"second-{index}"})
    hostile.append({**answers[index + 400], "id": None, "owner": {"email": 42}})
answers = answers + hostile + [answers[20]]  # answers[20] twice (active and archived lists)
config = ProjectConfig(ignore=(IgnoreRule(fields=("notes",), controls=("GEN-0001*",),
                                          reason="r", expires=None),))
only = (lambda key: not key.startswith("GEN-0002")) if sys.argv[1] == "only" else None
mine = {k: c for k, c in desired.items() if only is None or only(k)}
one = fetch.plan_from_live(read_live(answers), mine, config, only)
for jobs in ("2", "3", "4"):
    os.environ["HPCONFIG_JOBS"] = jobs
    assert workers.jobs(len(answers), len(answers), workers.MIN_PARALLEL_CONTROLS) == int(jobs)
    shared = fetch.plan_of_answers(answers, mine, config, only)
    assert render_json(one) == render_json(shared), jobs
print(one.summary(), len(one.not_compared), len(one.live_problems))
"""


@pytest.mark.parametrize("only", ["all", "only"])
def test_a_large_organization_is_compared_in_shares_as_in_one_process(only: str) -> None:
    env = {**os.environ, "HPCONFIG_JOBS": "3"}
    done = subprocess.run(
        [sys.executable, "-c", PLAN_IN_SHARES, only],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'create': 40" in done.stdout
