"""The import benchmark still runs: its smallest size, checked for its rows, never its times."""

from __future__ import annotations

from tests.helpers import run_benchmark


def test_the_import_benchmark_prints_every_row() -> None:
    rows = run_benchmark("import_bench.py", "--controls", "20", "--users", "3", "--rounds", "1")
    assert "Imported 20 controls into" in rows
    assert "plan of the imported manifests: No changes. 20 in sync." in rows
    assert "wall time: hpconfig plan " in rows and "x\n" in rows
    assert "peak memory: hpconfig plan " in rows and " RSS, ratio " in rows
