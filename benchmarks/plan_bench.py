"""Issue 4 figures: `hpconfig plan` on 10,000 controls in 20 files, the sandbox adding 50 ms to
every request, against the floor of the same run: fetching the list (with its token) and
`json.loads`-ing it, plus parsing the manifests with `CSafeLoader`. Also the requests one plan
makes, its peak memory, and the naive script users write (DeepDiff with ignore_order over both
lists) at 3,000 controls, against hpconfig at the same size.

Both sides run as fresh processes, interleaved, best of --rounds. Run:
`python benchmarks/plan_bench.py`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import peak_rss_mb, timed  # noqa: E402

from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402

FLOOR = """
import json, sys, yaml, requests
from pathlib import Path
api, token_url, client_id, secret, manifests = sys.argv[1:6]
with requests.Session() as session:
    token = session.post(token_url, data={"grant_type": "client_credentials",
        "client_id": client_id, "client_secret": secret}, timeout=60).json()["access_token"]
    answer = session.get(api + "/v1/controls", headers={"Authorization": "Bearer " + token},
                         timeout=60)
    controls = json.loads(answer.content)
for path in sorted(Path(manifests).glob("*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
"""

NAIVE = """
import json, sys, time, yaml, requests
from pathlib import Path
from deepdiff import DeepDiff
api, token_url, client_id, secret, manifests = sys.argv[1:6]
with requests.Session() as session:
    token = session.post(token_url, data={"grant_type": "client_credentials",
        "client_id": client_id, "client_secret": secret}, timeout=60).json()["access_token"]
    live = session.get(api + "/v1/controls", headers={"Authorization": "Bearer " + token},
                       timeout=60).json()
KEYS = ("identifier", "name", "owner", "domain", "implementation", "workStatus")
desired = []
for path in sorted(Path(manifests).glob("*.yaml")):
    for control in yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)["controls"]:
        desired.append({key: control.get(key) for key in KEYS})
# Only the fields that need no normalisation: with descriptions and durations in, nearly every
# item differs in form, DeepDiff pairs them all, and 3,000 controls took 654 s here.
live = [{"identifier": c["controlIdentifier"], "name": c["name"], "owner": c["owner"]["email"],
         "domain": c["domainName"], "implementation": c["implementation"],
         "workStatus": c["workStatus"]} for c in live]
diff = DeepDiff(desired, live, ignore_order=True)
print(len(diff))
"""


def setup(root: Path, controls: int, files: int) -> tuple[Path, dict]:
    org = generate_org(controls, 50)
    manifests = root / f"manifests-{controls}"
    write_manifests(manifests, controls, files, 50, org)
    return manifests, org


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--naive-controls", type=int, default=3_000)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifests, org = setup(root, args.controls, args.files)
        with Sandbox(org, latency=args.latency_ms / 1000) as sandbox:
            env = {
                **os.environ,
                "HYPERPROOF_API_URL": sandbox.api_url,
                "HYPERPROOF_TOKEN_URL": sandbox.token_url,
                "HYPERPROOF_CLIENT_ID": sandbox.client_id,
                "HYPERPROOF_CLIENT_SECRET": sandbox.client_secret,
                "NO_COLOR": "1",
            }
            plan = [python, "-m", "hpconfig", "plan", str(manifests)]
            floor_args = [
                python,
                "-c",
                FLOOR,
                sandbox.api_url,
                sandbox.token_url,
                sandbox.client_id,
                sandbox.client_secret,
                str(manifests),
            ]
            timed(floor_args, env)  # warm the sandbox's serialised list and the disk cache
            sandbox.clear_requests()
            _, first = timed(plan, env)
            assert first.returncode == 0, first.stderr
            requests_made = [f"{e['method']} {e['path']}" for e in sandbox.requests()]
            floors, plans = [], []
            for _ in range(args.rounds):
                elapsed, completed = timed(floor_args, env)
                assert completed.returncode == 0, completed.stderr
                floors.append(elapsed)
                elapsed, completed = timed(plan, env)
                assert completed.returncode == 0, completed.stderr
                plans.append(elapsed)
            peak_mb = peak_rss_mb(plan, env)
        print(
            f"input: {args.controls} controls in {args.files} files; sandbox latency "
            f"{args.latency_ms:g} ms per request; the plan said: {first.stdout.strip()}"
        )
        print(
            f"requests made by one plan: {len(requests_made)} ({', '.join(requests_made)}); "
            "target exactly 2"
        )
        ratio = min(plans) / min(floors)
        print(
            f"wall time: floor {min(floors):.2f} s, hpconfig plan {min(plans):.2f} s, "
            f"ratio {ratio:.2f}x (target <= 1.5x)"
        )
        print(f"peak memory of hpconfig plan: {peak_mb:.0f} MB RSS (target < 400 MB)")

        naive_manifests, naive_org = setup(root, args.naive_controls, args.files)
        with Sandbox(naive_org) as sandbox:
            env = {
                **os.environ,
                "HYPERPROOF_API_URL": sandbox.api_url,
                "HYPERPROOF_TOKEN_URL": sandbox.token_url,
                "HYPERPROOF_CLIENT_ID": sandbox.client_id,
                "HYPERPROOF_CLIENT_SECRET": sandbox.client_secret,
            }
            naive_time, naive = timed(
                [
                    python,
                    "-c",
                    NAIVE,
                    sandbox.api_url,
                    sandbox.token_url,
                    sandbox.client_id,
                    sandbox.client_secret,
                    str(naive_manifests),
                ],
                env,
            )
            assert naive.returncode == 0, naive.stderr
            ours_time, ours = timed([python, "-m", "hpconfig", "plan", str(naive_manifests)], env)
            assert ours.returncode == 0, ours.stderr
        print(
            f"naive DeepDiff(ignore_order=True) over both lists at {args.naive_controls} "
            f"controls (6 plain fields each): {naive_time:.2f} s; hpconfig plan on all fields: "
            f"{ours_time:.2f} s; the naive script takes {naive_time / ours_time:.1f}x as long"
        )


if __name__ == "__main__":
    main()
