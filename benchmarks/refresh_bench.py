"""Issue 13 figures: `hpconfig refresh` of 1,000 drifted controls in 10,000 (20 files), against
`hpconfig plan` of the same organization and manifests, side by side in the same run.

Each drifted control (every tenth) has three fields changed in Hyperproof: its description
(two new lines), its owner and its duration. Both commands run as fresh processes, interleaved,
on a fresh copy of the manifests each time (the copy is not timed), best of --rounds; peak
memory is the resident set of one run of each. The refresh is checked: afterwards `plan` finds
nothing to change. The sandbox adds --latency-ms to every request (0: the figures are
hpconfig's own work). Run: `python benchmarks/refresh_bench.py`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import peak_rss_mb, sandbox_env, timed  # noqa: E402

from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402


def drift(org: dict[str, Any], every: int) -> int:
    """Change three fields of every ``every``-th control, as someone in the UI would."""
    users = [user for user in org["users"] if user.get("email")]
    changed = 0
    for index, control in enumerate(org["controls"]):
        if index % every:
            continue
        control["description"] = f"Changed in the UI for control {index}.\nSecond line."
        control["owner"] = users[(users.index(control["owner"]) + 1) % len(users)]
        control["freshForDuration"] = "P14D"
        control["updatedBy"] = users[0]
        control["updatedOn"] = "2026-11-30T08:00:00Z"
        changed += 1
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--drifted", type=int, default=1_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    org = generate_org(args.controls, 50)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pristine = root / "pristine"
        write_manifests(pristine, args.controls, args.files, 50, org)
        drifted = drift(org, max(1, args.controls // args.drifted))
        with Sandbox(org, latency=args.latency_ms / 1000) as sandbox:
            env = sandbox_env(sandbox)

            def fresh(name: str) -> Path:
                target = root / name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(pristine, target)
                return target

            plans, refreshes = [], []
            for round_index in range(args.rounds):
                manifests = fresh("work")
                elapsed, completed = timed([python, "-m", "hpconfig", "plan", str(manifests)], env)
                assert completed.returncode == 0, completed.stderr
                plans.append(elapsed)
                elapsed, completed = timed(
                    [python, "-m", "hpconfig", "refresh", str(manifests)], env
                )
                assert completed.returncode == 0, completed.stderr
                refreshes.append(elapsed)
                if round_index == 0:
                    summary = next(
                        line
                        for line in completed.stderr.splitlines()
                        if line.startswith("Refresh:")
                    )
                    after = [python, "-m", "hpconfig", "plan", "--detailed-exitcode"]
                    check = timed([*after, str(manifests)], env)[1]
                    assert check.returncode == 0, check.stdout[-2000:] + check.stderr
            plan_mb = peak_rss_mb([python, "-m", "hpconfig", "plan", str(fresh("rss"))], env)
            refresh_mb = peak_rss_mb([python, "-m", "hpconfig", "refresh", str(fresh("rss"))], env)
    print(
        f"input: {args.controls} controls in {args.files} files, {drifted} of them drifted "
        f"(3 fields each); sandbox latency {args.latency_ms:g} ms per request"
    )
    print(f"refresh said: {summary} Plan afterwards: no changes.")
    print(
        f"wall time (best of {args.rounds}): hpconfig plan {min(plans):.2f} s, hpconfig refresh "
        f"{min(refreshes):.2f} s, ratio {min(refreshes) / min(plans):.2f}x"
    )
    print(
        f"peak memory: plan {plan_mb:.0f} MB RSS, refresh {refresh_mb:.0f} MB RSS, "
        f"ratio {refresh_mb / plan_mb:.2f}x"
    )


if __name__ == "__main__":
    main()
