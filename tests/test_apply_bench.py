"""The apply benchmark still runs: its smallest size, checked for its rows, never its times."""

from __future__ import annotations

import re

from tests.helpers import run_benchmark


def test_the_apply_benchmark_prints_every_row() -> None:
    rows = run_benchmark(
        "apply_bench.py", "--updates", "12", "--latency-ms", "1", "--parallelism", "1", "2"
    )
    # exactly the requests the issue counts: one token, one users, the list, one per write
    assert re.search(
        r"requests made by one apply: 15 \(1 x GET /v1/controls, 1 x GET /v1/users, "
        r"12 x PATCH /v1/controls/\{id\}, 1 x POST /oauth/token\); "
        r"1 token \+ 1 users \+ 1 list\(s\) \+ 12 writes = 15",
        rows,
    ), rows
    for parallelism in (1, 2):
        assert re.search(
            rf"parallelism {parallelism}: hpconfig apply [\d.]+ s; floor \(writes x latency / "
            rf"parallelism\) [\d.]+ s, ratio [\d.]+x; bare requests script [\d.]+ s, ratio",
            rows,
        ), rows
    assert "speed-up from parallelism 1 to 2" in rows
    assert re.search(r"peak memory of hpconfig apply: \d+ MB RSS", rows), rows
