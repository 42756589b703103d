"""Generate a large manifest set (and, for the sandbox, a matching organization) for benchmarks.

python benchmarks/generate.py OUT_DIR [--controls 10000] [--files 20]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

DOMAINS = [
    "Access Control",
    "System Operations",
    "Change Management",
    "Risk Assessment",
    "Monitoring Activities",
    "Availability",
    "Confidentiality",
    "Control Environment",
]
IMPLEMENTATION = ["unknown", "notStarted", "inProgress", "completed"]


def control_identifier(index: int) -> str:
    return f"GEN-{index:05d}"


def write_manifests(
    out: Path, controls: int, files: int, users: int = 50, seed: int = 7
) -> list[Path]:
    """Write ``controls`` controls over ``files`` manifest files; returns the files."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    per_file = -(-controls // files)
    written: list[Path] = []
    for file_index in range(files):
        lines = [
            "# yaml-language-server: $schema=../schemas/manifest.schema.json",
            "defaults:",
            f"  domain: {DOMAINS[file_index % len(DOMAINS)]}",
            "  freshness: {policy: manual, duration: 90d}",
            "controls:",
        ]
        for index in range(file_index * per_file, min(controls, (file_index + 1) * per_file)):
            lines += [
                f"  - identifier: {control_identifier(index)}",
                f"    name: Generated control number {index}",
                "    description: |",
                f"      Control {index} makes sure that the thing it controls is controlled.",
                "      It is reviewed by its owner every quarter.",
                f"    owner: user{rng.randrange(users)}@example.com",
                "    status: active",
                f"    implementation: {rng.choice(IMPLEMENTATION)}",
                "    workStatus: operating",
                f"    freshness: {{duration: {rng.choice(['30d', 'P90D', 'PT720H'])}}}",
            ]
        path = out / f"controls-{file_index:02d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    for path in write_manifests(args.out, args.controls, args.files):
        print(path)


if __name__ == "__main__":
    main()
