"""Measuring whole commands, shared by the benchmark scripts."""

from __future__ import annotations

import subprocess
import sys
import time

RSS_PROBE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


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
