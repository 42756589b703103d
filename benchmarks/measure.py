"""Measuring whole commands, and printing a figure beside its floor, shared by the benchmarks.

Every row is ``work | hpconfig | fair floor | ratio | target``: both sides measured in the same
run, interleaved, best of the rounds (the machine is shared and noisy; the ratio is what
counts). A fair floor is what a careful script does for the same work: PyYAML's ``CSafeLoader``
and ``json.loads`` with the garbage collector paused, in a fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RSS_PROBE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

HEADER = f"{'work':<64} {'hpconfig':>10} {'floor':>10} {'ratio':>7}  target"


def compile_package() -> None:
    """Byte-compile hpconfig as an install does: with PYTHONDONTWRITEBYTECODE set, a checkout
    whose modules changed would otherwise compile them again in every measured command."""
    import compileall

    import hpconfig

    compileall.compile_dir(Path(hpconfig.__file__).parent, quiet=1)


def timed(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time of one command, and how it ended."""
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, completed


def peak_rss_mb(command: list[str], env: dict[str, str] | None = None) -> float:
    """Peak resident memory of one command alone, read by a fresh parent process."""
    probe = [sys.executable, "-c", RSS_PROBE, *command]
    out = subprocess.run(probe, capture_output=True, text=True, env=env, check=True)
    return int(out.stdout.strip()) / 1024


def best_of(
    rounds: int,
    ours: list[str],
    floor: list[str],
    env: dict[str, str] | None = None,
    expect: Callable[[subprocess.CompletedProcess[str]], bool] = lambda c: c.returncode == 0,
    ours_env: dict[str, str] | None = None,
) -> tuple[float, float]:
    """The best wall time of each command over ``rounds``, run in turn (floor first);
    ``ours_env``, when given, is hpconfig's environment instead of ``env``."""
    floors, ourses = [], []
    for _ in range(rounds):
        elapsed, completed = timed(floor, env)
        assert completed.returncode == 0, completed.stderr[-2000:]
        floors.append(elapsed)
        elapsed, completed = timed(ours, env if ours_env is None else ours_env)
        assert expect(completed), (completed.returncode, completed.stderr[-2000:])
        ourses.append(elapsed)
    return min(ourses), min(floors)


def one_process(env: dict[str, str] | None = None) -> dict[str, str]:
    """hpconfig's environment with its worker processes turned off (``HPCONFIG_JOBS=1``): the
    fair floor is one process, so the benchmarks print this side too."""
    return {**(env if env is not None else os.environ), "HPCONFIG_JOBS": "1"}


def show(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def row(label: str, ours: float, floor: float, target: float | None, unit: str = "s") -> None:
    """One line of the table: the figures, their ratio, and the target with its verdict."""
    ratio = ours / floor if floor else float("inf")
    if unit == "s":
        shown = (show(ours), show(floor))
    else:
        shown = (f"{ours:.0f} {unit}", f"{floor:.0f} {unit}")
    verdict = "" if target is None else f"<= {target:g}x {'met' if ratio <= target else 'MISSED'}"
    print(f"{label:<64} {shown[0]:>10} {shown[1]:>10} {ratio:>6.2f}x  {verdict}", flush=True)


def sandbox_env(sandbox: Any, **more: str) -> dict[str, str]:
    """The environment of an hpconfig command signing in to ``sandbox``, without colour."""
    return {
        **os.environ,
        "HYPERPROOF_API_URL": sandbox.api_url,
        "HYPERPROOF_TOKEN_URL": sandbox.token_url,
        "HYPERPROOF_CLIENT_ID": sandbox.client_id,
        "HYPERPROOF_CLIENT_SECRET": sandbox.client_secret,
        "NO_COLOR": "1",
        **more,
    }
