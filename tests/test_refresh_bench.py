"""The refresh benchmarks still run: their smallest size, checked for their rows, never times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> str:
    completed = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=600, check=False, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_refresh_benchmark_prints_every_row() -> None:
    bench = str(ROOT / "benchmarks" / "refresh_bench.py")
    rows = _run(bench, "--controls", "40", "--drifted", "4", "--files", "2", "--rounds", "1")
    assert "input: 40 controls in 2 files, 4 of them drifted" in rows
    assert "Refresh: 12 fields of 4 controls in 2 files accepted from Hyperproof." in rows
    assert "Plan afterwards: no changes." in rows
    assert "hpconfig refresh" in rows and "ratio" in rows
    assert "peak memory: plan" in rows


def test_the_fidelity_measurement_prints_both_techniques() -> None:
    rows = _run(str(ROOT / "benchmarks" / "refresh_fidelity.py"))
    assert rows.count("  targeted ") == rows.count("  ruamel ") >= 5
    targeted = next(line for line in rows.splitlines() if line.startswith("targeted:"))
    # the technique refresh uses changes no line that holds no changed value, in any case
    assert targeted.startswith("targeted: 0 collateral lines in all, 0 files")
