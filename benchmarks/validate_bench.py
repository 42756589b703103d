"""Issue 15 figures for `hpconfig validate`, each beside its fair floor measured in the same run.

- start-up: `validate` of one small file (what the pre-commit hook runs on every commit)
  against `python -c "import yaml"`, and `hpconfig --version` against the same; then where
  the start-up goes (`python -X importtime`, the largest imports);
- 1,000 and 10,000 controls in 20 files against the fair floor: the same files parsed with
  `yaml.load(..., Loader=yaml.CSafeLoader)` with the garbage collector paused, in a fresh
  process;
- invalid input: 100,000 controls in 100 files with 1 % and with 50 % invalid controls,
  against the valid set;
- a billion-laughs file: rejected fast, in bounded memory.

Every command runs as a fresh process, both sides interleaved, best of --rounds.
Run: `python benchmarks/validate_bench.py` (`--sizes 100 --invalid-controls 200` for a look).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_manifests  # noqa: E402
from measure import HEADER, best_of, compile_package, one_process, peak_rss_mb, row, timed  # noqa: E402

FLOOR = """
import gc, sys, yaml
from pathlib import Path
gc.disable()
for path in sorted(Path(sys.argv[1]).glob("*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
"""

SMALL = """\
controls:
  - identifier: SOC2-CC6.1
    name: Logical access security
    owner: alice@example.com
    freshness: {policy: manual, duration: 90d}
"""

HPCONFIG = [sys.executable, "-m", "hpconfig"]


def billion_laughs(directory: Path) -> Path:
    lines = ["lol0: &lol0 lol"]
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines.append("controls: []")
    path = directory / "billion-laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def importtime(command: list[str], top: int = 12) -> None:
    """The largest imports of one run (cumulative, their own first-level children)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]], capture_output=True, text=True
    )
    rows = []
    for line in completed.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if found and len(found.group(3)) <= 4:  # top-level imports and two levels below
            rows.append((int(found.group(2)), found.group(4), len(found.group(3)) // 2))
    total = sum(us for us, _, depth in rows if depth == 0)
    print(f"  python -X importtime of that validate: {total / 1000:.0f} ms of imports; largest:")
    for us, name, depth in sorted(rows, reverse=True)[:top]:
        print(f"    {us / 1000:6.1f} ms  {'  ' * depth}{name}")


def startup_rows(root: Path, rounds: int) -> None:
    small = root / "small.yaml"
    small.write_text(SMALL, encoding="utf-8")
    import_yaml = [sys.executable, "-c", "import yaml"]
    validate = [*HPCONFIG, "validate", str(small)]
    version = [*HPCONFIG, "--version"]
    ours, floor = best_of(rounds * 4, validate, import_yaml)
    row('validate of one small file (the hook) vs python -c "import yaml"', ours, floor, 3)
    ours, floor = best_of(rounds * 4, version, import_yaml)
    row('hpconfig --version vs python -c "import yaml"', ours, floor, 2)
    importtime(validate)


def size_rows(root: Path, sizes: list[int], files: int, rounds: int) -> None:
    for controls in sizes:
        manifests = root / f"valid-{controls}"
        write_manifests(manifests, controls, files)
        target = 1.5 if controls < 10_000 else 1.1
        ours, floor = best_of(
            rounds,
            [*HPCONFIG, "validate", str(manifests)],
            [sys.executable, "-c", FLOOR, str(manifests)],
        )
        row(f"validate, {controls:,} controls in {files} files", ours, floor, target)
        ours, floor = best_of(
            rounds,
            [*HPCONFIG, "validate", str(manifests)],
            [sys.executable, "-c", FLOOR, str(manifests)],
            ours_env=one_process(),
        )
        row("  the same in one process (HPCONFIG_JOBS=1)", ours, floor, None)


def invalid_rows(root: Path, controls: int, files: int, rounds: int) -> None:
    sets = {}
    for share in (0.0, 0.01, 0.5):
        sets[share] = root / f"invalid-{share}"
        write_manifests(sets[share], controls, files, invalid=share)
    for share in (0.01, 0.5):
        ours, valid = best_of(
            rounds,
            [*HPCONFIG, "validate", str(sets[share])],
            [*HPCONFIG, "validate", str(sets[0.0])],
            expect=lambda completed: completed.returncode == 3,
        )
        row(
            f"validate, {controls:,} controls, {share:.0%} invalid (floor: all valid)",
            ours,
            valid,
            1.5,
        )


def laughs_row(root: Path) -> None:
    lol = billion_laughs(root)
    from hpconfig.manifest.loader import load_file

    tracemalloc.start()
    start = time.perf_counter()
    document, problems = load_file(lol)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert document is None and problems
    command_time, completed = timed([*HPCONFIG, "validate", str(lol)])
    assert completed.returncode == 3
    rss = peak_rss_mb([*HPCONFIG, "validate", str(lol)])
    print(
        f"billion laughs: rejected in {elapsed * 1000:.1f} ms with peak allocation "
        f"{peak / 1e6:.2f} MB (targets < 1 s, < 100 MB); the whole command: "
        f"{command_time:.2f} s, peak RSS {rss:.0f} MB including the interpreter"
    )
    print(f"  message: {problems[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--invalid-controls", type=int, default=100_000)
    parser.add_argument("--invalid-files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    compile_package()
    print(HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        startup_rows(root, args.rounds)
        size_rows(root, args.sizes, args.files, args.rounds)
        invalid_rows(root, args.invalid_controls, args.invalid_files, max(1, args.rounds - 2))
        laughs_row(root)


if __name__ == "__main__":
    main()
