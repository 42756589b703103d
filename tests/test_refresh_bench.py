"""The refresh benchmarks still run: their smallest size, checked for their rows, never times."""

from __future__ import annotations

from tests.helpers import run_benchmark


def test_the_refresh_benchmark_prints_every_row() -> None:
    rows = run_benchmark(
        "refresh_bench.py", "--controls", "40", "--drifted", "4", "--files", "2", "--rounds", "1"
    )
    assert "input: 40 controls in 2 files, 4 of them drifted" in rows
    assert "Refresh: 12 fields of 4 controls in 2 files accepted from Hyperproof." in rows
    assert "Plan afterwards: no changes." in rows
    assert "hpconfig refresh" in rows and "ratio" in rows
    assert "peak memory: plan" in rows


def test_the_fidelity_measurement_prints_both_techniques() -> None:
    rows = run_benchmark("refresh_fidelity.py")
    assert rows.count("  targeted ") == rows.count("  ruamel ") >= 5
    targeted = next(line for line in rows.splitlines() if line.startswith("targeted:"))
    # the technique refresh uses changes no line that holds no changed value, in any case
    assert targeted.startswith("targeted: 0 collateral lines in all, 0 files")
