"""The shape of the package: what importing (and running) a part of it loads, in a fresh
interpreter, so that the pure core stays pure and each wing stays on its side."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


def test_a_plan_with_drift_needs_no_deepdiff() -> None:
    """Flat fields compare with `==`: deepdiff is for the benchmark's yardstick only."""
    loaded = loaded_after(
        "from tests.helpers import big_plan\nassert len(big_plan(50).changes) == 50"
    )
    assert "deepdiff" not in loaded
