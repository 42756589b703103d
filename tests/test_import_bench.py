"""The import benchmark still runs: its smallest size, checked for its rows, never its times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_benchmark_prints_every_row() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "import_bench.py"),
            "--controls",
            "20",
            "--users",
            "3",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows = completed.stdout
    assert "Imported 20 controls into" in rows
    assert "plan of the imported manifests: No changes. 20 in sync." in rows
    assert "wall time: hpconfig plan " in rows and "x\n" in rows
    assert "peak memory: hpconfig plan " in rows and " RSS, ratio " in rows
