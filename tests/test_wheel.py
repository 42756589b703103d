"""The release, up to the upload: the sdist and the wheel build, carry the schemas and the
licence, pass `twine check --strict`, and the release workflow's own check accepts exactly the
tag of the version built."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from hpconfig import __version__
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
DIST = "hyperproof_config"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with dist/ built in it, so the work tree stays clean."""
    source = tmp_path_factory.mktemp("release") / "source"
    shutil.copytree(
        ROOT / "hpconfig", source / "hpconfig", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy(ROOT / name, source / name)
    # --no-isolation: the suite never downloads; the release job builds the same way, isolated.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", "dist", "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return source


def _metadata(built: Path) -> email.message.Message:
    wheel = built / "dist" / f"{DIST}-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"{DIST}-{__version__}.dist-info/METADATA").decode()
    return email.message_from_string(text)


def test_wheel_contains_schemas_licence_and_entry_points(built: Path) -> None:
    wheel = built / "dist" / f"{DIST}-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    for schema in ("manifest", "config", "plan"):
        assert f"hpconfig/schemas/{schema}.schema.json" in names
    assert f"{DIST}-{__version__}.dist-info/licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{DIST}-{__version__}.dist-info/entry_points.txt")
    assert b"hpconfig = hpconfig.cli:main" in entry_points
    with tarfile.open(built / "dist" / f"{DIST}-{__version__}.tar.gz") as sdist:
        members = {Path(name).name for name in sdist.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= members


def test_metadata_names_the_distribution_licence_and_project(built: Path) -> None:
    metadata = _metadata(built)
    assert metadata["Name"] == "hyperproof-config"
    assert metadata["Version"] == __version__  # the one source: hpconfig/__init__.py
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    classifiers = metadata.get_all("Classifier") or []
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # deprecated beside SPDX
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)


def test_twine_check_strict_passes(built: Path) -> None:
    twine = shutil.which("twine", path=str(BIN))
    assert twine, "twine is a test dependency"
    completed = subprocess.run(
        [twine, "check", "--strict", *map(str, sorted((built / "dist").iterdir()))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("PASSED") == 2


def _release_check_step() -> dict[str, Any]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    return next(step for step in workflow["jobs"]["build"]["steps"] if step.get("id") == "check")


def _run_check(built: Path, tag: str, changelog: str) -> subprocess.CompletedProcess[str]:
    (built / "CHANGELOG.md").write_text(changelog)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _release_check_step()["run"]],
        cwd=built,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "TAG": tag},
    )


def test_the_release_check_accepts_only_the_built_version_with_a_dated_changelog(
    built: Path,
) -> None:
    dated = f"# Changelog\n\n## [{__version__}] - 2027-01-15\n\n- First release.\n"
    accepted = _run_check(built, f"v{__version__}", dated)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    wrong_tag = _run_check(built, "v9.9.9", dated)
    assert wrong_tag.returncode == 1
    assert "::error title=release::tag v9.9.9 does not match the version built" in (
        wrong_tag.stdout
    )
    undated = _run_check(built, f"v{__version__}", f"## [{__version__}] - unreleased\n")
    assert undated.returncode == 1
    assert f"CHANGELOG.md has no dated heading for {__version__}" in undated.stdout


def test_the_release_publishes_by_trusted_publishing_and_moves_the_major_tag() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    jobs = workflow["jobs"]
    assert workflow["permissions"] == {}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}  # no stored token
    assert "password" not in str(jobs["publish"])
    assert jobs["publish"]["needs"] == "build" and jobs["major-tag"]["needs"] == "publish"
    script = jobs["major-tag"]["steps"][0]["run"]
    assert 'major="${TAG%%.*}"' in script  # v1.2.3 -> v1
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog
