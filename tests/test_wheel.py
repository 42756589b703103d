"""The wheel carries the schemas, and they load from an installed copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_contains_schemas(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the work tree
    shutil.copytree(
        ROOT / "hpconfig", source / "hpconfig", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("hpconfig-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for schema in ("manifest", "config"):
        assert f"hpconfig/schemas/{schema}.schema.json" in names
    assert any(name.endswith("entry_points.txt") for name in names)
