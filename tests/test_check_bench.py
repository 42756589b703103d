"""The check benchmark still runs: its smallest size, checked for its rows, never its times."""

from __future__ import annotations

from hpconfig.assertions import cel
from tests.helpers import run_benchmark


def test_the_check_benchmark_prints_every_row() -> None:
    rows = run_benchmark("check_bench.py", "--controls", "20", "--rounds", "1")
    assert "controls: 20, rules: 10 (5 built-in, 5 CEL), evaluations: 200" in rows
    assert "fetch alone (token, 2 control lists, users, over HTTP): " in rows
    for backend in cel.available_backends():
        assert f"{backend}: evaluation " in rows and "x the fetch; CEL alone " in rows
    if len(cel.available_backends()) == 2:
        assert "CEL per evaluation: cel-python / cel-expr-python = " in rows
