"""Issue 2 figures: `hpconfig validate` on 10,000 controls in 20 files against the floor of
parsing the same files with `yaml.load(..., Loader=yaml.CSafeLoader)`, and a billion-laughs file.

Each pair is measured side by side in this one run, interleaved, best of --rounds; the ratio is
what counts (the machine is shared and noisy). Run: `python benchmarks/validate_bench.py`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import peak_rss_mb, timed  # noqa: E402

BASELINE = """
import sys, yaml
from pathlib import Path
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
"""


def billion_laughs(directory: Path) -> Path:
    lines = ["lol0: &lol0 lol"]
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines.append("controls: []")
    path = directory / "billion-laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    hpconfig = [sys.executable, "-m", "hpconfig"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifests = root / "manifests"
        write_manifests(manifests, args.controls, args.files)
        size = sum(p.stat().st_size for p in manifests.iterdir()) / 1e6
        print(f"input: {args.controls} controls in {args.files} files, {size:.1f} MB")

        # In process: the pipeline against yaml.load, without interpreter start-up.
        import yaml

        from hpconfig import composer, durations
        from hpconfig.manifest import emails
        from hpconfig.manifest.project import load_project

        files = sorted(manifests.glob("*.yaml"))
        floor_in, ours_in = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for path in files:
                yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
            floor_in.append(time.perf_counter() - start)
            # cold caches each round, as in a fresh command
            composer._RESOLVED.clear()
            emails.email_problem.cache_clear()
            durations.parse_duration.cache_clear()
            start = time.perf_counter()
            project = load_project([manifests])
            ours_in.append(time.perf_counter() - start)
            assert project.valid and len(project.desired) == args.controls, project.problems[:3]
        print(
            f"in process   yaml.load(CSafeLoader) {min(floor_in):.3f} s   "
            f"load+schema+model {min(ours_in):.3f} s   ratio {min(ours_in) / min(floor_in):.2f}x"
        )

        # Whole commands, each a fresh interpreter, as a user or a pre-commit hook runs them.
        floor_cmd, ours_cmd = [], []
        for _ in range(args.rounds):
            elapsed, completed = timed([sys.executable, "-c", BASELINE, str(manifests)])
            assert completed.returncode == 0
            floor_cmd.append(elapsed)
            elapsed, completed = timed([*hpconfig, "validate", str(manifests)])
            assert completed.returncode == 0, completed.stderr
            ours_cmd.append(elapsed)
        ratio = min(ours_cmd) / min(floor_cmd)
        print(
            f"command      python -c yaml.load    {min(floor_cmd):.3f} s   "
            f"hpconfig validate {min(ours_cmd):.3f} s   ratio {ratio:.2f}x (target <= 1.5x)"
        )

        lol = billion_laughs(root)
        tracemalloc.start()
        start = time.perf_counter()
        from hpconfig.manifest.loader import load_file

        document, problems = load_file(lol)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert document is None and problems
        command_time, completed = timed([*hpconfig, "validate", str(lol)])
        assert completed.returncode == 3
        rss = peak_rss_mb([*hpconfig, "validate", str(lol)])
        print(
            f"billion laughs: rejected in {elapsed * 1000:.1f} ms with peak allocation "
            f"{peak / 1e6:.2f} MB (targets < 1 s, < 100 MB); the whole command: "
            f"{command_time:.2f} s, peak RSS {rss:.0f} MB including the interpreter"
        )
        print(f"  message: {problems[0]}")


if __name__ == "__main__":
    main()
