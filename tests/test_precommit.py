"""The pre-commit hook, run by the real pre-commit (`pre-commit try-repo`) on a scratch
repository, as a team would: it checks the whole manifest set whichever file is staged, reports
`file:line:col`, and never takes `.pre-commit-config.yaml` or a workflow for a manifest.

Slow by nature: pre-commit installs hpconfig (and its dependencies, with pip) into its own
environment once for this module; the two runs after that take seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import helpers
from tests.conftest import ROOT

PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is a test dependency")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "hpconfig tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "hpconfig tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    ).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This project as a hook repository at one commit (so pre-commit installs it once)."""
    source = tmp_path_factory.mktemp("hook") / "hpconfig"
    shutil.copytree(
        ROOT / "hpconfig", source / "hpconfig", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, source / name)
    _git(source, "init", "-q")
    _git(source, "add", "-A")
    _git(source, "commit", "-q", "-m", "hpconfig")
    return source, _git(source, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(
    repo: Path, hook_repo: tuple[Path, str], home: Path
) -> subprocess.CompletedProcess[str]:
    source, rev = hook_repo
    assert PRE_COMMIT is not None
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(source), "hpconfig-validate", "--ref", rev, "--verbose"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            **GIT_ENV,
            "PRE_COMMIT_HOME": str(home),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "NO_COLOR": "1",
        },
    )


def test_the_hook_checks_the_manifest_set_whichever_file_is_staged(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    repo = tmp_path / "compliance"
    files = {
        "controls/access.yaml": "controls:\n  - identifier: SOC2-CC6.1\n    owner: a@corp.test\n",
        "controls/ops.yaml": "controls:\n  - identifier: SOC2-CC7.1\n    name: Operations\n",
        ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks: []\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  x: {runs-on: ubuntu-latest, steps: []}\n",
        "deploy/values.yaml": "replicas: 2\n",
    }
    helpers.write_tree(repo, files)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")

    valid = _try_repo(repo, hook_repo, pre_commit_home)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "hpconfig validate" in valid.stdout and "Passed" in valid.stdout
    # non-manifest YAML is named as skipped, never checked as a manifest
    assert ".pre-commit-config.yaml (hidden)" in valid.stdout
    assert "deploy/values.yaml (no `controls` or `defaults` at the top level)" in valid.stdout
    assert "2 controls in 2 files: valid." in valid.stdout
    _git(repo, "commit", "-q", "-m", "controls")

    # Only ops.yaml is staged; its duplicate lives in access.yaml, committed before.
    (repo / "controls" / "ops.yaml").write_text(
        "controls:\n  - identifier: SOC2-CC7.1\n    owner: bob@\n"
        "  - identifier: SOC2-CC6.1\n    name: Again\n"
    )
    _git(repo, "add", "controls/ops.yaml")
    assert _git(repo, "diff", "--cached", "--name-only") == "controls/ops.yaml"
    invalid = _try_repo(repo, hook_repo, pre_commit_home)
    assert invalid.returncode == 1, invalid.stdout + invalid.stderr
    assert "- exit code: 3" in invalid.stdout
    assert (
        "controls/ops.yaml:3:12: $.controls[0].owner: 'bob@' is not a valid email address"
        in invalid.stdout
    )
    duplicate = next(line for line in invalid.stdout.splitlines() if "SOC2-CC6.1" in line)
    assert duplicate.startswith("controls/ops.yaml:4:") and "controls/access.yaml:2" in duplicate
