"""Issue 12 figures: `hpconfig apply` of 1,000 updates (a name and an owner each), the sandbox
adding 50 ms to every request.

- requests one apply makes, against 1 token + 1 users + the lists + 1 per write;
- wall time at each --parallelism (1 and 8) against the floor of writes x latency / parallelism,
  and beside a bare script measured in the same run: a `requests.Session` per thread sending
  the same 1,000 PATCH bodies from as many threads (no plan check, no stale check, no journal);
- the peak memory of one apply.

The organization is reset to its seed before every run, so one saved plan serves them all and
the stale check passes. Both sides run as fresh processes. Run:
`python benchmarks/apply_bench.py` (about 2.5 minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import peak_rss_mb, sandbox_env, timed  # noqa: E402

from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402

BARE = """
import json, sys, threading, requests
from concurrent.futures import ThreadPoolExecutor
api, token_url, client_id, secret, bodies, parallelism = sys.argv[1:7]
token = requests.post(token_url, data={"grant_type": "client_credentials",
    "client_id": client_id, "client_secret": secret}, timeout=60).json()["access_token"]
local = threading.local()
def send(item):
    if not hasattr(local, "session"):
        local.session = requests.Session()
    answer = local.session.patch(api + "/v1/controls/" + item[0], json=item[1],
                                 headers={"Authorization": "Bearer " + token}, timeout=60)
    answer.raise_for_status()
with ThreadPoolExecutor(int(parallelism)) as pool:
    list(pool.map(send, json.load(open(bodies))))
"""


def setup(root: Path, updates: int) -> tuple[dict[str, Any], Path, Path]:
    """An organization of ``updates`` controls; manifests that rename each and give it the
    next user as owner; the bare script's bodies for the same writes."""
    users = 20
    org = generate_org(updates, users)
    people = [u for u in org["users"] if u["type"] == "activeUser"]
    lines = ["controls:"]
    bodies = []
    for control in org["controls"]:
        owner = people[(people.index(_user(org, control["owner"]["id"])) + 1) % len(people)]
        name = control["name"] + " (renamed)"
        lines += [
            f"  - identifier: {control['controlIdentifier']}",
            f"    name: {json.dumps(name)}",
            f"    owner: {owner['email']}",
        ]
        bodies.append([control["id"], {"name": name, "owner": owner["id"]}])
    manifests = root / "controls"
    manifests.mkdir()
    (manifests / "controls.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "bodies.json").write_text(json.dumps(bodies), encoding="utf-8")
    return org, manifests, root / "bodies.json"


def _route(entry: dict[str, Any]) -> str:
    path = "/v1/controls/{id}" if entry["method"] == "PATCH" else entry["path"]
    return f"{entry['method']} {path}"


def _user(org: dict[str, Any], user_id: str) -> dict[str, Any]:
    return next(u for u in org["users"] if u["id"] == user_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    python = sys.executable
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # apply reads a saved plan's manifests only inside the working directory: plan and
        # apply run from the scratch folder, as a CI job runs both from its checkout.
        os.chdir(root)
        org, manifests, bodies = setup(root, args.updates)
        with Sandbox(org, latency=latency) as sandbox:
            env = sandbox_env(sandbox)
            plan = root / "plan.json"
            _, made = timed([python, "-m", "hpconfig", "plan", "controls", "--out", str(plan)], env)
            assert made.returncode == 0, made.stderr
            digest = hashlib.sha256(plan.read_bytes()).hexdigest()
            changes = len(json.loads(plan.read_text())["changes"])

            def apply(parallelism: int) -> list[str]:
                return [
                    python, "-m", "hpconfig", "apply", str(plan), "--auto-approve",
                    "--plan-sha256", digest, "--parallelism", str(parallelism), "--force",
                    "--journal", str(root / f"journal-{parallelism}.jsonl"),
                ]  # fmt: skip

            def bare(parallelism: int) -> list[str]:
                return [
                    python, "-c", BARE, sandbox.api_url, sandbox.token_url, sandbox.client_id,
                    sandbox.client_secret, str(bodies), str(parallelism),
                ]  # fmt: skip

            def reset() -> None:
                sandbox.reset()  # the seed again, and the latency back to 0: set it again
                sandbox.configure(latency=latency)

            rows = []
            requests_made: Counter[str] = Counter()
            for parallelism in args.parallelism:
                applies, bares = [], []
                for _ in range(args.rounds):
                    reset()
                    elapsed, completed = timed(bare(parallelism), env)
                    assert completed.returncode == 0, completed.stderr
                    bares.append(elapsed)
                    reset()
                    elapsed, completed = timed(apply(parallelism), env)
                    assert completed.returncode == 0, completed.stderr
                    applies.append(elapsed)
                    requests_made = Counter(_route(e) for e in sandbox.requests())
                rows.append((parallelism, min(applies), min(bares)))
            reset()
            peak_mb = peak_rss_mb(apply(max(args.parallelism)), env)

    writes = requests_made["PATCH /v1/controls/{id}"]
    lists = requests_made["GET /v1/controls"]
    expected = 1 + 1 + lists + changes
    print(
        f"input: {args.updates} controls, each renamed and given another owner ({changes} "
        f"updates); sandbox latency {args.latency_ms:g} ms per request"
    )
    print(
        f"requests made by one apply: {sum(requests_made.values())} "
        f"({', '.join(f'{n} x {k}' for k, n in sorted(requests_made.items()))}); "
        f"1 token + 1 users + {lists} list(s) + {writes} writes = {expected}"
    )
    for parallelism, applied, bare_time in rows:
        floor = changes * latency / parallelism
        print(
            f"parallelism {parallelism}: hpconfig apply {applied:.2f} s; floor (writes x latency "
            f"/ parallelism) {floor:.2f} s, ratio {applied / floor:.2f}x; bare requests script "
            f"{bare_time:.2f} s, ratio {applied / bare_time:.2f}x"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"speed-up from parallelism {first[0]} to {last[0]}: {first[1] / last[1]:.2f}x "
            f"(ideal {last[0] / first[0]:g}x)"
        )
    print(f"peak memory of hpconfig apply: {peak_mb:.0f} MB RSS")


if __name__ == "__main__":
    main()
