"""Generate a large organization and manifests that plan clean against it, for benchmarks.

    python benchmarks/generate.py OUT_DIR [--controls 10000] [--files 20] [--users 50]

Writes OUT_DIR/manifests/*.yaml and OUT_DIR/org.json (a sandbox seed). Durations are written in
three forms (30d, P90D, PT720H) so that normalisation is exercised.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hpconfig.sandbox.seeds import DURATION_FORMS, generate_org


def _quoted(text: str) -> str:
    return json.dumps(text)


# What an invalid control gets wrong, in turn: an enum, an address, a duration, an unknown key.
MISTAKES = (
    ("implementation", "finished"),
    ("owner", "nobody@"),
    ("freshness", "{duration: 30 days}"),
    ("colour", "red"),
)


def write_manifests(
    out: Path,
    controls: int,
    files: int,
    users: int = 50,
    org: dict[str, Any] | None = None,
    invalid: float = 0.0,
) -> list[Path]:
    """Write manifests for ``generate_org(controls, users)`` over ``files`` files; with
    ``invalid`` (0 to 1), that share of the controls, spread evenly, has one mistake each."""
    org = org or generate_org(controls, users)
    out.mkdir(parents=True, exist_ok=True)
    per_file = -(-controls // files)
    written: list[Path] = []
    for file_index in range(files):
        lines = [
            "# yaml-language-server: $schema=../schemas/manifest.schema.json",
            "defaults:",
            "  status: active",
            "  freshness: {policy: manual}",
            "controls:",
        ]
        chunk = org["controls"][file_index * per_file : (file_index + 1) * per_file]
        for offset, control in enumerate(chunk):
            index = file_index * per_file + offset
            description = control["description"].split("\n")
            start = len(lines)
            lines += [
                f"  - identifier: {control['controlIdentifier']}",
                f"    name: {control['name']}",
                "    description: |",
                *(f"      {line}" for line in description),
                f"    owner: {control['owner']['email']}",
                f"    domain: {control['domainName']}",
                f"    implementation: {control['implementation']}",
                f"    workStatus: {control['workStatus']}",
                f"    freshness: {{duration: {DURATION_FORMS[index % len(DURATION_FORMS)][0]}}}",
            ]
            if invalid and int((index + 1) * invalid) > int(index * invalid):
                key, value = MISTAKES[int(index * invalid) % len(MISTAKES)]
                mine = [i for i in range(start, len(lines)) if lines[i].startswith(f"    {key}:")]
                if mine:
                    lines[mine[0]] = f"    {key}: {value}"
                else:  # an unknown key
                    lines.append(f"    {key}: {value}")
        if not chunk:
            lines[-1] = "controls: []"  # more files than controls
        path = out / f"controls-{file_index:02d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    org = generate_org(args.controls, args.users)
    write_manifests(args.out / "manifests", args.controls, args.files, args.users, org)
    (args.out / "org.json").write_text(json.dumps(org), encoding="utf-8")
    print(f"wrote {args.out}/manifests ({args.files} files) and {args.out}/org.json")


if __name__ == "__main__":
    main()
