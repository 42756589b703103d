"""Every benchmark still runs: each at its smallest size, checked for its rows, never its times
(issue 15: the figures come from the scripts, so a script that broke would leave the README's
figures unfounded). The sandbox's benchmark has its own test (test_sandbox_bench.py)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_benchmark

ROOT = Path(__file__).resolve().parent.parent
RATIO = r"\d+\.\d\dx"


def _rows(out: str, *labels: str) -> None:
    lines = out.splitlines()
    assert lines[0].split() == ["work", "hpconfig", "floor", "ratio", "target"], out
    for label in labels:
        found = [line for line in lines if line.startswith(label)]
        assert found, (label, out)
        assert " ms " in found[0] or " s " in found[0] or " MB " in found[0], found[0]
        assert "x  " in found[0] or found[0].rstrip().endswith("x"), found[0]


def test_the_validate_benchmark_prints_every_row() -> None:
    out = run_benchmark(
        "validate_bench.py",
        "--sizes", "40", "80", "--files", "4", "--invalid-controls", "200",
        "--invalid-files", "4", "--rounds", "1",
    )  # fmt: skip
    _rows(
        out,
        "validate of one small file (the hook)",
        "hpconfig --version",
        "validate, 40 controls in 4 files",
        "validate, 80 controls in 4 files",
        "validate, 200 controls, 1% invalid",
        "validate, 200 controls, 50% invalid",
        "  the same in one process (HPCONFIG_JOBS=1)",
    )
    assert "python -X importtime of that validate" in out and "hpconfig.cli" in out
    assert "billion laughs: rejected" in out


def test_the_plan_benchmark_prints_every_row() -> None:
    out = run_benchmark(
        "plan_bench.py",
        "--controls", "20", "40", "--files", "2", "--latency-ms", "1", "--rounds", "1",
        "--scale", "60", "--scale-files", "3", "--diff-controls", "30",
        "--json-controls", "30", "--naive-controls", "10",
    )  # fmt: skip
    _rows(
        out,
        "plan, 20 controls, 1 ms/request, clean",
        "plan, 20 controls, 1 ms/request, every control drifted",
        "plan, 40 controls, 1 ms/request, clean",
        "plan, 40 controls, 1 ms/request, every control drifted",
        "plan, 60 controls in 3 files",
        "  linear: the time of 60 controls against 20",
        "  peak memory, 60 controls",
        "diff alone, 30 controls that all differ",
        "decode the list of 30 controls",
        "  the same in one process (HPCONFIG_JOBS=1)",
    )
    assert "requests of one plan: POST /oauth/token, GET /v1/controls" in out
    assert "naive DeepDiff" in out


def test_the_hostile_benchmark_runs() -> None:
    out = run_benchmark(
        "hostile_bench.py",
        "--controls", "20", "--huge-mb", "3", "--bomb-mb", "3", "--cap-mb", "1", "--timeout", "1",
    )  # fmt: skip
    assert "plan of 20 controls: peak" in out
    assert "huge answer of 3 MB (cap 1 MB)" in out and "exit 4" in out
    assert "gzip-bomb answer of 3 MB (cap 1 MB)" in out
    assert "trickling server, --timeout 1: ended after" in out
