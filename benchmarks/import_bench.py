"""Issue 13 figures: `hpconfig import` of 10,000 controls against `hpconfig plan` of the same
organization (the manifests import just wrote), side by side in the same run.

Import does what plan does (sign in, fetch, read the live controls) and then builds every
manifest, proves it by loading and planning it in memory, and writes the files; plan reads
those files and compares. The ratio says what the writing and the self-check cost over a
plan. Also the peak memory of each. Both run as fresh processes, interleaved, best of
--rounds. Run: `python benchmarks/import_bench.py`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import peak_rss_mb, sandbox_env, timed  # noqa: E402

from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    org = generate_org(args.controls, args.users)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(org, latency=args.latency_ms / 1000) as sandbox,
    ):
        env = sandbox_env(sandbox)
        target = Path(tmp) / "project"

        def import_command(where: Path) -> list[str]:
            return [python, "-m", "hpconfig", "import", "--to", str(where)]

        _, first = timed(import_command(target), env)  # also warms the sandbox and the disk
        assert first.returncode == 0, first.stderr
        plan = [python, "-m", "hpconfig", "plan", str(target), "--detailed-exitcode"]
        _, planned = timed(plan, env)
        assert planned.returncode == 0, planned.stdout + planned.stderr
        imports, plans = [], []
        for round_number in range(args.rounds):
            scratch = Path(tmp) / f"round-{round_number}"
            elapsed, completed = timed(import_command(scratch), env)
            assert completed.returncode == 0, completed.stderr
            imports.append(elapsed)
            shutil.rmtree(scratch)
            elapsed, completed = timed(plan, env)
            assert completed.returncode == 0, completed.stderr
            plans.append(elapsed)
        import_mb = peak_rss_mb(import_command(Path(tmp) / "memory"), env)
        plan_mb = peak_rss_mb(plan, env)
        files = sorted(target.rglob("*.yaml"))
        size = sum(path.stat().st_size for path in files)
    print(
        f"input: {args.controls} controls, {args.users} users; sandbox latency "
        f"{args.latency_ms:g} ms per request"
    )
    print(
        f"import wrote {len(files)} YAML files, {size / 1e6:.1f} MB; " + first.stdout.split("\n")[0]
    )
    print(f"plan of the imported manifests: {planned.stdout.strip().splitlines()[0]}")
    print(
        f"wall time: hpconfig plan {min(plans):.2f} s, hpconfig import {min(imports):.2f} s, "
        f"ratio {min(imports) / min(plans):.2f}x"
    )
    print(
        f"peak memory: hpconfig plan {plan_mb:.0f} MB RSS, hpconfig import {import_mb:.0f} MB "
        f"RSS, ratio {import_mb / plan_mb:.2f}x"
    )


if __name__ == "__main__":
    main()
