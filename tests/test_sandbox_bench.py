"""The sandbox benchmark still runs: its smallest size, checked for its rows, never its times."""

from __future__ import annotations

from tests.helpers import run_benchmark


def test_the_sandbox_benchmark_prints_every_row() -> None:
    rows = run_benchmark(
        "sandbox_bench.py",
        "--controls",
        "30",
        "--users",
        "3",
        "--clients",
        "2",
        "--writes",
        "16",
        "--writers",
        "2",
        "--readers",
        "1",
        "--rounds",
        "1",
    )
    for label in (
        "GET /v1/controls, 30 controls",
        "2 clients at once: all answered",
        "PATCH/s, 30 controls, 1 writer(s): without --state",
        "PATCH/s, 30 controls, 2 writer(s): without --state",
        "the old --state, the whole organization indented on every write",
        "PATCH/s, 2 writers while 1 readers list the organization",
        "memory over 16 more writes with --state",
    ):
        assert label in rows, rows
    assert "wrong answers: 0" in rows
