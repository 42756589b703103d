"""Issue 15 figures for `hpconfig plan`, each beside its fair floor measured in the same run.

- plan of 10,000 and 50,000 controls in 20 files, the sandbox adding 50 ms to every request,
  clean and with **every** control drifted (one field each). The fair floor fetches what the
  plan fetches (the token, then each list the plan asked for) with `requests`, decodes it with
  `json.loads`, and parses the same manifests with `CSafeLoader`, the collector paused, in a
  fresh process;
- scale: 100,000 controls in 100 files against the 10,000 above (linear: at most 11x), and the
  peak memory of both sides at 100,000;
- `diff` alone, 30,000 controls that all differ, against a plain comparison of the same flat
  fields (in process);
- json, orjson and msgspec decoding the list of 10,000 controls (collector paused), and what
  the fastest would save in a whole plan;
- the naive script users write first (DeepDiff over both lists) at 3,000 controls.

Run: `python benchmarks/plan_bench.py` (a few minutes); `--controls 30 --scale 60` for a look.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import (  # noqa: E402
    HEADER,
    best_of,
    compile_package,
    one_process,
    peak_rss_mb,
    row,
    sandbox_env,
    show,
    timed,
)

from hpconfig.sandbox import Sandbox, generate_org  # noqa: E402

FLOOR = """
import gc, json, sys, yaml, requests
from pathlib import Path
gc.disable()
api, token_url, client_id, secret, manifests, *paths = sys.argv[1:]
with requests.Session() as session:
    token = session.post(token_url, data={"grant_type": "client_credentials",
        "client_id": client_id, "client_secret": secret}, timeout=60).json()["access_token"]
    for path in paths:
        answer = session.get(api + path, headers={"Authorization": "Bearer " + token},
                             timeout=300)
        json.loads(answer.content)
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


class Org:
    """An organization in a sandbox, its manifests, and the two commands to compare."""

    def __init__(self, root: Path, controls: int, files: int, latency: float, drift: bool):
        org = generate_org(controls, 50)
        self.manifests = root / f"manifests-{controls}-{files}"
        if not self.manifests.exists():
            write_manifests(self.manifests, controls, files, 50, org)
        if drift:  # renamed in the UI since: every control differs in one field
            org = copy.deepcopy(org)
            for control in org["controls"]:
                control["name"] += " (renamed)"
        self.sandbox = Sandbox(org, latency=latency)

    def __enter__(self) -> Org:
        sandbox = self.sandbox.__enter__()
        self.env = sandbox_env(sandbox)
        self.plan = [sys.executable, "-m", "hpconfig", "plan", str(self.manifests)]
        sandbox.clear_requests()
        elapsed, first = timed(self.plan, self.env)  # also warms the sandbox's encoded list
        assert first.returncode == 0, first.stderr[-2000:]
        self.said = first.stdout.strip().splitlines()[-1] if first.stdout.strip() else ""
        self.requests = [f"{e['method']} {e['path']}" for e in sandbox.requests()]
        gets = [e["path"] for e in sandbox.requests() if e["method"] == "GET"]
        self.floor = [
            sys.executable,
            "-c",
            FLOOR,
            sandbox.api_url,
            sandbox.token_url,
            sandbox.client_id,
            sandbox.client_secret,
            str(self.manifests),
            *gets,
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.__exit__(*exc)


def plan_rows(root: Path, args: argparse.Namespace) -> dict[int, float]:
    plans: dict[int, float] = {}
    for controls in args.controls:
        for drift in (False, True):
            with Org(root, controls, args.files, args.latency_ms / 1000, drift) as org:
                ours, floor = best_of(args.rounds, org.plan, org.floor, org.env)
                if not drift:
                    plans[controls] = ours
                    print(f"  requests of one plan: {', '.join(org.requests)}")
                kind = "every control drifted" if drift else "clean"
                row(
                    f"plan, {controls:,} controls, {args.latency_ms:g} ms/request, {kind}",
                    ours,
                    floor,
                    1.2,
                )
                ours, floor = best_of(
                    args.rounds, org.plan, org.floor, org.env, ours_env=one_process(org.env)
                )
                row("  the same in one process (HPCONFIG_JOBS=1)", ours, floor, None)
    return plans


def scale_rows(root: Path, args: argparse.Namespace, base: int, base_time: float) -> None:
    with Org(root, args.scale, args.scale_files, args.latency_ms / 1000, False) as org:
        ours, floor = best_of(max(1, args.rounds - 1), org.plan, org.floor, org.env)
        row(f"plan, {args.scale:,} controls in {args.scale_files} files", ours, floor, None)
        row(
            f"  linear: the time of {args.scale:,} controls against {base:,} (floor column)",
            ours,
            base_time,
            round(1.1 * args.scale / base, 2),
        )
        row(
            f"  peak memory, {args.scale:,} controls (RSS)",
            peak_rss_mb(org.plan, org.env),
            peak_rss_mb(org.floor, org.env),
            1.5,
            unit="MB",
        )


def diff_row(count: int) -> None:
    """``diff`` alone against a plain comparison of the same flat values, in process."""
    from hpconfig.diff import diff
    from hpconfig.remote.live import live_control
    from hpconfig.sandbox.seeds import generate_org as org_of

    org = org_of(count, 50)
    live = {c["controlIdentifier"]: live_control(c) for c in org["controls"]}
    drifted = [{**c, "name": c["name"] + " (renamed)"} for c in org["controls"]]
    desired = {c["controlIdentifier"]: live_control(c) for c in drifted}

    def plain() -> int:
        found = 0
        for key, want in desired.items():
            have = live[key].values
            found += sum(1 for name, value in want.values.items() if have.get(name) != value)
        return found

    gc.disable()
    floors, ours = [], []
    for _ in range(3):
        start = time.perf_counter()
        assert plain() == count
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan = diff(desired, live)
        ours.append(time.perf_counter() - start)
        assert len(plan.changes) == count
    gc.enable()
    label = f"diff alone, {count:,} controls that all differ (in process)"
    row(label, min(ours), min(floors), None)


def decoder_rows(root: Path, count: int, plans: dict[int, float]) -> None:
    """json, orjson and msgspec on the list's bytes, as the sandbox serves them."""
    org = generate_org(count, 50)
    body = json.dumps(org["controls"]).encode()
    decoders: dict[str, Any] = {"json": json.loads}
    try:
        import orjson

        decoders["orjson"] = orjson.loads
    except ImportError:
        print("  orjson: not installed")
    try:
        import msgspec

        decoders["msgspec"] = msgspec.json.decode
    except ImportError:
        print("  msgspec: not installed")
    best: dict[str, float] = {}
    gc.disable()
    for _ in range(5):
        for name, decode in decoders.items():
            start = time.perf_counter()
            decode(body)
            best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
    gc.enable()
    for name, seconds in best.items():
        row(
            f"decode the list of {count:,} controls ({len(body) / 1e6:.0f} MB): {name}",
            seconds,
            best["json"],
            None,
        )
    fastest = min(best, key=best.__getitem__)
    if count in plans and fastest != "json":
        saved = best["json"] - best[fastest]
        print(
            f"  {fastest} would save {show(saved)} of the {show(plans[count])} plan of "
            f"{count:,} controls ({saved / plans[count]:.1%})"
        )


def naive_row(root: Path, args: argparse.Namespace) -> None:
    with Org(root, args.naive_controls, args.files, 0, False) as org:
        naive = [sys.executable, "-c", NAIVE, *org.floor[3:8]]
        naive_time, completed = timed(naive, org.env)
        assert completed.returncode == 0, completed.stderr[-2000:]
        ours, _ = timed(org.plan, org.env)
    print(
        f"naive DeepDiff(ignore_order=True) over both lists, {args.naive_controls:,} controls "
        f"(6 plain fields): {show(naive_time)}; hpconfig plan on all fields: {show(ours)} "
        f"({naive_time / ours:.1f}x faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--scale-files", type=int, default=100)
    parser.add_argument("--diff-controls", type=int, default=30_000)
    parser.add_argument("--json-controls", type=int, default=10_000)
    parser.add_argument("--naive-controls", type=int, default=3_000)
    args = parser.parse_args()
    compile_package()
    print(HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plans = plan_rows(root, args)
        base = min(plans)
        scale_rows(root, args, base, plans[base])
        diff_row(args.diff_controls)
        decoder_rows(root, args.json_controls, plans)
        naive_row(root, args)


if __name__ == "__main__":
    main()
