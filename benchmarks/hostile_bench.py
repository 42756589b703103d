"""Issue 9 figures: peak memory of `hpconfig plan` on 10,000 controls, and against hostile
answers (a 500 MB body, a 1 GiB gzip bomb) with the default size cap; the time a trickling
server takes to be cut off by `--timeout`. Each plan runs as a fresh process. Run:
`python benchmarks/hostile_bench.py`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import peak_rss_mb, sandbox_env, timed  # noqa: E402

from hpconfig.remote.settings import DEFAULT_MAX_RESPONSE_MB  # noqa: E402
from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402

MiB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--huge-mb", type=int, default=500)
    parser.add_argument("--bomb-mb", type=int, default=1024)
    parser.add_argument("--cap-mb", type=int, default=DEFAULT_MAX_RESPONSE_MB)
    parser.add_argument("--timeout", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        org = generate_org(args.controls, 50)
        manifests = Path(tmp) / "manifests"
        write_manifests(manifests, args.controls, 20, 50, org)
        with Sandbox(org) as sandbox:
            env = sandbox_env(
                sandbox, HPCONFIG_RETRY_BACKOFF="0", HPCONFIG_MAX_RESPONSE_MB=str(args.cap_mb)
            )
            plan = [sys.executable, "-m", "hpconfig", "plan", str(manifests)]
            clean = peak_rss_mb(plan, env)
            print(f"plan of {args.controls} controls: peak {clean:.0f} MB RSS")
            for kind, size in (("huge", args.huge_mb), ("gzip-bomb", args.bomb_mb)):
                sandbox.add_fault(kind, path="/v1/controls", size=size * MiB, count=None)
                _, ended = timed(plan, env)
                peak = peak_rss_mb(plan, env)
                sandbox.clear_faults()
                last = ended.stderr.strip().splitlines()[-1]
                print(
                    f"{kind} answer of {size} MB (cap {args.cap_mb} MB): peak "
                    f"{peak:.0f} MB RSS, exit {ended.returncode}: {last[:110]}"
                )
            sandbox.add_fault("trickle", path="/v1/controls", delay=0.5, count=None)
            one = Path(tmp) / "one.yaml"  # a small manifest: the time is the network's
            one.write_text("controls:\n  - identifier: C-00001\n")
            timeout = f"{args.timeout:g}"
            command = [sys.executable, "-m", "hpconfig", "plan", str(one), "--timeout", timeout]
            elapsed, ended = timed(command, env)
            print(
                f"trickling server, --timeout {timeout}: ended after {elapsed:.1f} s, "
                f"exit {ended.returncode}"
            )


if __name__ == "__main__":
    main()
