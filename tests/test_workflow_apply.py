"""The reusable workflow's apply mode and its caller: the shape GitHub enforces (permissions, the
environment, one apply per organization) and the scripts, run as Actions runs them.

``find-plan`` talks to GitHub through ``gh``: here a stand-in ``gh`` on PATH answers from files
(the API's answers for the merged pull request, its runs and the environment, and the artifacts),
so that every decision of the script is tried: the reviewed plan found, none, a plan whose bytes
do not match its digest, an unprotected environment, another branch. The apply and re-plan steps
run the real hpconfig against the sandbox.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES
from tests.helpers import env_for, write_tree
from tests.test_ci import _run_step
from tests.test_sandbox_api import token
from tests.test_workflows import REUSABLE, _load

REPO = "acme/compliance"
MERGE_SHA = "a" * 40
HEAD_SHA = "b" * 40
RUN_ID = 4242
SLUG = "controls"
CALLER = EXAMPLES / "github" / "apply-on-merge.yml"

FAKE_GH = f"""#!{sys.executable}
import json, os, pathlib, shutil, sys
root = pathlib.Path(os.environ["FAKE_GH"])
args = sys.argv[1:]
assert os.environ.get("GH_TOKEN"), "gh needs the job's token"
assert os.environ.get("GH_HOST") == os.environ["EXPECTED_HOST"], os.environ.get("GH_HOST")
with open(root / "calls.log", "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[0] == "api":
    answers = json.loads((root / "api.json").read_text())
    if args[1] not in answers:
        sys.exit("gh: Not Found (HTTP 404)")
    print(json.dumps(answers[args[1]]))
elif args[:2] == ["run", "download"]:
    source = root / "artifacts" / args[2] / args[args.index("--name") + 1]
    if not source.is_dir():
        sys.exit("no valid artifacts found to download")
    shutil.copytree(source, args[args.index("--dir") + 1], symlinks=True, dirs_exist_ok=True)
else:
    sys.exit(2)
"""


def _jobs() -> dict[str, Any]:
    return _load(REUSABLE)["jobs"]  # type: ignore[no-any-return]


def _step(job: str, step_id: str) -> dict[str, Any]:
    return next(s for s in _jobs()[job]["steps"] if s.get("id") == step_id)


# --- the shape -------------------------------------------------------------------------------


def test_apply_mode_jobs_ask_for_the_least_and_apply_one_at_a_time_per_organization() -> None:
    jobs = _jobs()
    inputs = _load(REUSABLE)["on"]["workflow_call"]["inputs"]
    assert inputs["mode"]["default"] == "plan"
    assert inputs["require-reviewers"]["default"] is True
    assert jobs["plan"]["if"] == "inputs.mode != 'apply'"
    assert jobs["find-plan"]["if"] == "inputs.mode == 'apply'"
    # find-plan takes the caller's grant (asking would break plan-mode callers that grant
    # less, see the workflow's top); it checks nothing out and sees no Hyperproof secret
    assert "permissions" not in jobs["find-plan"]
    assert "secrets." not in json.dumps(jobs["find-plan"])
    apply = jobs["apply"]
    assert apply["needs"] == "find-plan"
    assert apply["permissions"] == {"contents": "read"}
    assert apply["environment"] == "${{ inputs.environment }}"
    assert apply["concurrency"] == {
        "group": "hpconfig-apply-${{ inputs.organization }}",
        "cancel-in-progress": False,
    }
    ids = [step.get("id") for step in apply["steps"] if step.get("id")]
    assert ids == ["validate-apply", "apply", "replan"]  # invalid manifests stop it first
    # the Hyperproof secret reaches the apply and re-plan steps only
    with_secret = [
        (job_name, step.get("id"))
        for job_name, job in jobs.items()
        for step in job["steps"]
        if "secrets.client-secret" in json.dumps(step.get("env", {}))
    ]
    assert with_secret == [("plan", "plan"), ("apply", "apply"), ("apply", "replan")]


def test_the_name_step_is_the_same_in_both_modes() -> None:
    # the artifact apply downloads is named by the pull request run's slug
    assert _step("find-plan", "name") == _step("plan", "name")


def test_the_caller_applies_on_pushes_to_main_with_read_grants_only() -> None:
    caller = _load(CALLER)
    assert caller["on"] == {
        "push": {"branches": ["main"], "paths": ["controls/**", "hpconfig.yaml"]}
    }
    job = caller["jobs"]["apply"]
    assert job["permissions"] == {
        "contents": "read",
        "actions": "read",
        "pull-requests": "read",
    }
    assert job["with"]["mode"] == "apply"
    assert job["with"]["environment"] == "hyperproof"
    pull_request = _load(EXAMPLES / "github" / "pull-request.yml")["jobs"]["plan"]["with"]
    assert job["with"]["paths"] == pull_request["paths"]  # the same slug, so the same artifact
    assert job["with"]["pr-workflow"] == "pull-request.yml"
    assert set(job["secrets"]) == {"client-id", "client-secret"}


# --- find-plan, against a stand-in gh ----------------------------------------------------------


def _plan_bytes() -> bytes:
    return json.dumps({"format_version": "1", "changes": []}).encode()


@pytest.fixture
def github(tmp_path: Path) -> dict[str, Any]:
    """The stand-in's answers: a protected environment, a merged pull request, its run."""
    return {
        f"repos/{REPO}/environments/hyperproof": {
            "name": "hyperproof",
            "protection_rules": [
                {"type": "branch_policy"},
                {"type": "required_reviewers", "prevent_self_review": True},
            ],
        },
        f"repos/{REPO}/commits/{MERGE_SHA}/pulls": [
            {"number": 6, "merged_at": None, "base": {"ref": "main"}, "head": {"sha": "c" * 40}},
            {
                "number": 7,
                "merged_at": "2026-12-01T10:00:00Z",
                "base": {"ref": "main"},
                "head": {"sha": HEAD_SHA},
            },
        ],
        f"repos/{REPO}/actions/workflows/pull-request.yml/runs?event=pull_request"
        f"&status=success&head_sha={HEAD_SHA}&per_page=20": {
            "workflow_runs": [
                {"id": 999, "head_repository": {"full_name": "mallory/compliance"}},
                {"id": RUN_ID, "head_repository": {"full_name": REPO}},
            ]
        },
    }


def _artifact(
    root: Path, run: int, plan: bytes, recorded: str | None = None, planned: str | None = "7 main"
) -> None:
    """A pull request run's artifact; ``planned`` is its plan.pull-request (number, base)."""
    folder = root / "artifacts" / str(run) / f"hpconfig-plan-{SLUG}"
    folder.mkdir(parents=True)
    (folder / "plan.json").write_bytes(plan)
    digest = hashlib.sha256(plan).hexdigest() if recorded is None else recorded
    (folder / "plan.sha256").write_text(digest + "\n")
    if planned is not None:
        (folder / "plan.pull-request").write_text(planned + "\n")


def _find(
    tmp_path: Path, github: dict[str, Any], **overrides: str
) -> tuple[Any, dict[str, str], str]:
    fake = tmp_path / "gh-root"
    fake.mkdir(exist_ok=True)
    (fake / "api.json").write_text(json.dumps(github))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    for name in ("output", "summary"):
        (tmp_path / name).write_text("")
    env = {
        "GH_TOKEN": "ghs_token",
        "REPO": REPO,
        "SERVER": "https://github.com",
        "SHA": MERGE_SHA,
        "REF": "refs/heads/main",
        "DEFAULT_BRANCH": "main",
        "ENVIRONMENT": "hyperproof",
        "REQUIRE_REVIEWERS": "true",
        "PR_WORKFLOW": "pull-request.yml",
        "SLUG": SLUG,
        "FAKE_GH": str(fake),
        "EXPECTED_HOST": "github.com",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        **overrides,
    }
    completed = _run_step(_step("find-plan", "find"), env, work)
    outputs = dict(
        line.split("=", 1) for line in (tmp_path / "output").read_text().splitlines() if line
    )
    return completed, outputs, (tmp_path / "summary").read_text()


def test_find_plan_takes_the_merged_pull_requests_plan_from_its_own_repository(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    _artifact(tmp_path / "gh-root", 999, b'{"from": "a fork"}')
    completed, outputs, summary = _find(tmp_path, github)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    digest = hashlib.sha256(_plan_bytes()).hexdigest()
    assert outputs == {"found": "true", "sha256": digest}
    assert (tmp_path / "work" / "reviewed" / "plan.json").read_bytes() == _plan_bytes()
    assert f"Pull request #7, plan run https://github.com/{REPO}/actions/runs/{RUN_ID}" in summary
    assert f"Plan sha256: `{digest}`" in summary  # as the pull request's comment shows it
    calls = (tmp_path / "gh-root" / "calls.log").read_text()
    assert f'"run", "download", "{RUN_ID}", "--repo", "{REPO}"' in calls


def test_a_plan_that_does_not_match_its_recorded_digest_is_refused(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes(), recorded="0" * 64)
    completed, outputs, _ = _find(tmp_path, github)
    assert completed.returncode == 1
    assert "does not have the digest that run recorded" in completed.stdout
    assert "found" not in outputs


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("no-pull-request", f"no pull request was merged into {MERGE_SHA}"),
        ("no-run", "pull request #7 has no successful run of pull-request.yml"),
        ("only-a-fork-run", "pull request #7 has no successful run of pull-request.yml"),
        ("expired", f"run {RUN_ID} of pull request #7 has no artifact hpconfig-plan-{SLUG}"),
    ],
)
def test_without_a_reviewed_plan_the_apply_job_is_told_to_re_plan(
    tmp_path: Path, github: dict[str, Any], change: str, words: str
) -> None:
    runs_key = next(key for key in github if "/runs?" in key)
    if change == "no-pull-request":
        github[f"repos/{REPO}/commits/{MERGE_SHA}/pulls"] = []
    elif change == "no-run":
        github[runs_key] = {"workflow_runs": []}
    elif change == "only-a-fork-run":
        github[runs_key]["workflow_runs"].pop()
    if change != "expired":
        _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, summary = _find(tmp_path, github)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outputs == {"found": "false"}
    assert f"No reviewed plan: {words}" in summary
    assert f"::notice title=hpconfig::No reviewed plan: {words}" in completed.stdout


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"REF": "refs/heads/feature"}, "runs on the default branch (main) only"),
        ({"ENVIRONMENT": "prod$(id)"}, "is not an environment name"),
        ({"PR_WORKFLOW": "../x"}, "is not a workflow file name"),
        ({"ENVIRONMENT": "staging"}, "the environment 'staging' cannot be read"),
    ],
)
def test_find_plan_refuses_before_looking(
    tmp_path: Path, github: dict[str, Any], overrides: dict[str, str], words: str
) -> None:
    completed, outputs, _ = _find(tmp_path, github, **overrides)
    assert completed.returncode == 1
    assert "::error title=hpconfig::" in completed.stdout and words in completed.stdout
    assert outputs == {}
    calls = tmp_path / "gh-root" / "calls.log"
    assert not calls.exists() or "run" not in calls.read_text()


def test_an_environment_without_required_reviewers_is_refused_unless_told(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    github[f"repos/{REPO}/environments/hyperproof"]["protection_rules"] = [{"type": "wait_timer"}]
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, _, _ = _find(tmp_path, github)
    assert completed.returncode == 1
    assert "the environment 'hyperproof' has no required reviewers" in completed.stdout
    completed, outputs, _ = _find(tmp_path, github, REQUIRE_REVIEWERS="false")
    assert completed.returncode == 0 and outputs["found"] == "true"


def test_an_unknown_mode_fails_the_run() -> None:
    completed = _run_step(
        _step("plan", "mode"), {"MODE": "aply"}, Path(os.environ.get("TMPDIR", "/tmp"))
    )
    assert completed.returncode == 1
    assert "mode must be plan or apply, not 'aply'" in completed.stdout


# --- the apply job's steps, against the sandbox -------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path, hpconfig_sandbox: Sandbox) -> Path:
    """A checkout whose one manifest declares a live control as it is (in sync), or not."""
    live = hpconfig_sandbox.state()["controls"][0]
    root = tmp_path / "checkout"
    write_tree(
        root,
        {
            "controls/one.yaml": (
                f"controls:\n  - identifier: {json.dumps(live['controlIdentifier'])}\n"
                f"    name: {json.dumps(live['name'])}\n"
            )
        },
    )
    for name in ("output", "summary"):
        (root / name).write_text("")
    return root


def _job_env(sandbox: Sandbox, root: Path, **extra: str) -> dict[str, str]:
    return {
        "PATHS": "controls/",
        "CHECK": "false",
        "HYPERPROOF_REGION": "us",
        "FOUND": "false",
        "PLAN_SHA256": "",
        "ALLOW_ARCHIVE": "false",
        "FORCE": "false",
        "PARALLELISM": "",
        "GITHUB_OUTPUT": str(root / "output"),
        "GITHUB_STEP_SUMMARY": str(root / "summary"),
        **env_for(sandbox),
        **extra,
    }


def test_without_a_plan_an_organization_in_sync_needs_nothing(
    hpconfig_sandbox: Sandbox, checkout: Path
) -> None:
    env = _job_env(hpconfig_sandbox, checkout)
    applied = _run_step(_step("apply", "apply"), env, checkout)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (checkout / "output").read_text() == "exitcode=none\n"
    replanned = _run_step(_step("apply", "replan"), env, checkout)
    assert replanned.returncode == 0, replanned.stdout + replanned.stderr
    assert "::notice title=hpconfig::Hyperproof already matches the manifests" in replanned.stdout
    assert not [
        e
        for e in hpconfig_sandbox.requests()
        if e["method"] in ("PATCH", "POST") and e["path"].startswith("/v1/")
    ]


def test_without_a_plan_a_change_nobody_reviewed_is_refused_and_nothing_written(
    hpconfig_sandbox: Sandbox, checkout: Path
) -> None:
    manifest = checkout / "controls" / "one.yaml"
    manifest.write_text(manifest.read_text() + "    notes: written by nobody's review\n")
    env = _job_env(hpconfig_sandbox, checkout)
    replanned = _run_step(_step("apply", "replan"), env, checkout)
    assert replanned.returncode == 5
    assert "::error title=hpconfig::Hyperproof differs from the manifests" in replanned.stdout
    assert "exitcode=2" in (checkout / "output").read_text()
    assert "hpconfig-plan" in (checkout / "summary").read_text()  # the plan, for the operator
    writes = [e for e in hpconfig_sandbox.requests() if e["method"] in ("PATCH", "POST")]
    assert [e["path"] for e in writes] == ["/oauth/token"]
    assert hpconfig_sandbox.client_secret not in replanned.stdout + replanned.stderr


def _reviewed_plan(sandbox: Sandbox, root: Path) -> str:
    """Run the pull request's plan step in ``root`` and put its artifact where find-plan puts
    the reviewed plan; the digest it recorded."""
    env = {**_job_env(sandbox, root), "PATHS": "examples"}
    planned = _run_step(_step("plan", "plan"), env, root)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    (root / "reviewed").mkdir()
    (root / "plan.json").rename(root / "reviewed" / "plan.json")
    (root / "output").write_text("")
    return (root / "plan.sha256").read_text().strip()


@pytest.fixture
def examples_checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("github"))
    for name in ("output", "summary"):
        (root / name).write_text("")
    return root


def test_the_reviewed_plan_is_applied_exactly_and_recorded(
    hpconfig_sandbox: Sandbox, examples_checkout: Path
) -> None:
    root = examples_checkout
    digest = _reviewed_plan(hpconfig_sandbox, root)
    env = _job_env(hpconfig_sandbox, root, FOUND="true", PLAN_SHA256=digest, PATHS="examples")
    applied = _run_step(_step("apply", "apply"), env, root)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (root / "output").read_text() == "exitcode=0\n"
    assert f"::notice title=hpconfig::Applied the reviewed plan sha256:{digest}" in applied.stdout
    assert f"applied `sha256:{digest}`" in (root / "summary").read_text()
    # the log between the markers cannot act; the markers close before our own notice
    token = re.search(r"::stop-commands::([0-9a-f]{32})\n", applied.stdout).group(1)  # type: ignore[union-attr]
    assert token not in digest
    assert (
        applied.stdout.index(f"::stop-commands::{token}")
        < applied.stdout.index(f"::{token}::")
        < applied.stdout.index("::notice")
    )
    events = [json.loads(line) for line in (root / "apply-events.jsonl").read_text().splitlines()]
    assert events[-1]["type"] == "summary" and events[-1]["exit_code"] == 0
    assert {e["plan_sha256"] for e in events} == {digest}
    journal = (root / "apply-journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in journal][-1] == "summary"
    # the organization now matches: the re-plan step (skipped after a success) would find nothing
    replanned = _run_step(_step("apply", "replan"), {**env, "PATHS": "examples"}, root)
    assert replanned.returncode == 0, replanned.stdout + replanned.stderr
    assert hpconfig_sandbox.client_secret not in applied.stdout + applied.stderr


@pytest.mark.parametrize("spoil", ["stale", "other-digest"])
def test_a_refused_plan_writes_nothing_and_the_re_plan_refuses_the_drift(
    hpconfig_sandbox: Sandbox, examples_checkout: Path, spoil: str
) -> None:
    root = examples_checkout
    digest = _reviewed_plan(hpconfig_sandbox, root)
    plan = json.loads((root / "reviewed" / "plan.json").read_text())
    if spoil == "stale":  # someone edits, in the UI, a control the plan updates
        update = next(c for c in plan["changes"] if c["action"] == "update")
        live = next(
            c
            for c in hpconfig_sandbox.state()["controls"]
            if c["controlIdentifier"] == update["identifier"]
        )
        answer = requests.patch(
            f"{hpconfig_sandbox.api_url}/v1/controls/{live['id']}",
            json={"name": "Renamed in the UI"},
            headers={"Authorization": f"Bearer {token(hpconfig_sandbox)}"},
            timeout=10,
        )
        assert answer.status_code == 200
    else:  # a plan other than the one reviewed
        digest = "f" * 64
    hpconfig_sandbox.clear_requests()
    env = _job_env(hpconfig_sandbox, root, FOUND="true", PLAN_SHA256=digest, PATHS="examples")
    applied = _run_step(_step("apply", "apply"), env, root)
    assert applied.returncode == 0, applied.stdout + applied.stderr  # the re-plan decides
    assert (root / "output").read_text() == "exitcode=5\n"
    assert "::warning title=hpconfig::The reviewed plan was refused (exit 5" in applied.stdout
    replanned = _run_step(_step("apply", "replan"), env, root)
    assert replanned.returncode == 5
    assert "::error title=hpconfig::Hyperproof differs from the manifests" in replanned.stdout
    writes = [e for e in hpconfig_sandbox.requests() if e["method"] in ("PATCH", "POST", "PUT")]
    assert [e["path"] for e in writes] == ["/oauth/token"] * len(writes)


def test_on_github_enterprise_server_gh_talks_to_that_server(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, summary = _find(
        tmp_path, github, SERVER="https://github.example.com", EXPECTED_HOST="github.example.com"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outputs["found"] == "true"
    assert f"https://github.example.com/{REPO}/actions/runs/{RUN_ID}" in summary


# --- attacks on find-plan (a second attacker's pass) ---------------------------------------------


def test_a_run_of_another_pull_request_on_the_same_head_commit_is_not_the_reviewed_plan(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    # Whoever can push a branch opens a second pull request from the reviewed one's head branch
    # into a branch of their own (whose pull-request.yml, or manifests, they chose). Its run has
    # the same head commit, is newer, and comes from this repository: it was taken as the plan.
    runs_key = next(key for key in github if "/runs?" in key)
    github[runs_key]["workflow_runs"].insert(
        0, {"id": 5555, "head_repository": {"full_name": REPO}}
    )
    _artifact(tmp_path / "gh-root", 5555, b'{"planned": "into their branch"}', planned="8 mallory")
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, summary = _find(tmp_path, github)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outputs == {"found": "true", "sha256": hashlib.sha256(_plan_bytes()).hexdigest()}
    assert (tmp_path / "work" / "reviewed" / "plan.json").read_bytes() == _plan_bytes()
    assert f"plan run https://github.com/{REPO}/actions/runs/{RUN_ID}" in summary


@pytest.mark.parametrize(
    ("planned", "words"),
    [
        ("8 main", "planned another pull request or base branch"),
        ("7 release", "planned another pull request or base branch"),
        ("7", "planned another pull request or base branch"),
        (None, "does not say which pull request it planned"),
    ],
)
def test_a_plan_made_for_another_pull_request_or_base_is_not_applied(
    tmp_path: Path, github: dict[str, Any], planned: str | None, words: str
) -> None:
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes(), planned=planned)
    completed, outputs, summary = _find(tmp_path, github)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outputs == {"found": "false"}
    assert words in summary and words in completed.stdout
    assert not (tmp_path / "work" / "reviewed").exists()  # nothing of it is kept


def test_the_plan_job_records_which_pull_request_and_base_it_planned(tmp_path: Path) -> None:
    step = _step("plan", "planned-for")
    env = {"PR_NUMBER": "7", "BASE_REF": "main"}
    completed = _run_step(step, env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "plan.pull-request").read_text() == "7 main\n"
    upload = next(s for s in _jobs()["plan"]["steps"] if s.get("name") == "Upload the reports")
    assert "plan.pull-request" in upload["with"]["path"].split()
    assert step["env"] == {
        "PR_NUMBER": "${{ github.event.pull_request.number }}",
        "BASE_REF": "${{ github.base_ref }}",
    }


@pytest.mark.parametrize(
    "answer",
    [
        {"number": "7\n::error::x", "head": {"sha": HEAD_SHA}},
        {"number": 7, "head": {"sha": HEAD_SHA + "\n::warning::x"}},
        {"number": 7, "head": {"sha": "$(id)"}},
    ],
)
def test_an_unexpected_pull_request_answer_is_never_written_anywhere(
    tmp_path: Path, github: dict[str, Any], answer: dict[str, Any]
) -> None:
    github[f"repos/{REPO}/commits/{MERGE_SHA}/pulls"] = [
        {"merged_at": "2026-12-01T10:00:00Z", "base": {"ref": "main"}, **answer}
    ]
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, summary = _find(tmp_path, github)
    assert "::warning::x" not in completed.stdout + summary
    assert "::error::x" not in completed.stdout + summary
    if answer["number"] == 7 and answer["head"]["sha"].startswith(HEAD_SHA):
        # read takes the first line: the head sha, and nothing of what follows it
        assert outputs["found"] == "true"
        return
    assert completed.returncode == 1
    assert "an unexpected answer from the API about the pull request" in completed.stdout
    assert outputs == {} and summary == ""


@pytest.mark.parametrize("run_id", ["4242\n::error::x", "1 2", "../4242"])
def test_a_run_id_that_is_not_a_number_is_never_used(
    tmp_path: Path, github: dict[str, Any], run_id: str
) -> None:
    runs_key = next(key for key in github if "/runs?" in key)
    github[runs_key]["workflow_runs"] = [{"id": run_id, "head_repository": {"full_name": REPO}}]
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, _ = _find(tmp_path, github)
    assert completed.returncode == 0 and outputs == {"found": "false"}
    assert "::error::x" not in completed.stdout
    assert '"run", "download"' not in (tmp_path / "gh-root" / "calls.log").read_text()


def test_a_pull_request_merged_into_another_branch_is_not_the_one_merged_here(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    pulls = github[f"repos/{REPO}/commits/{MERGE_SHA}/pulls"]
    pulls[1]["base"]["ref"] = "release"
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, _ = _find(tmp_path, github)
    assert completed.returncode == 0 and outputs == {"found": "false"}


@pytest.mark.parametrize("recorded", [None, "digest-then-a-command"])
def test_an_artifact_whose_plan_is_a_link_or_whose_digest_file_carries_more_is_held(
    tmp_path: Path, github: dict[str, Any], recorded: str | None
) -> None:
    root = tmp_path / "gh-root"
    if recorded is None:  # plan.json a link to a file of the runner's
        _artifact(root, RUN_ID, _plan_bytes())
        link = root / "artifacts" / str(RUN_ID) / f"hpconfig-plan-{SLUG}" / "plan.json"
        link.unlink()
        outside = tmp_path / "outside.json"
        outside.write_bytes(_plan_bytes())
        link.symlink_to(outside)
        completed, outputs, _ = _find(tmp_path, github)
        assert completed.returncode == 0 and outputs == {"found": "false"}
    else:  # a digest, then text: only the 64 hex digits count, and nothing of it is echoed
        digest = hashlib.sha256(_plan_bytes()).hexdigest()
        _artifact(root, RUN_ID, _plan_bytes(), recorded=digest + "\n::error::injected")
        completed, outputs, summary = _find(tmp_path, github)
        assert completed.returncode == 0 and outputs == {"found": "true", "sha256": digest}
        assert "injected" not in completed.stdout + summary


def test_the_apply_job_checks_out_the_default_branch_as_it_is_now_not_the_pushed_commit() -> None:
    # Two merges, A then B (B reverts one of A's values): A's apply waits for its approval,
    # B's is approved and runs first. A's, approved later, checked out A's commit, whose
    # manifests its plan matched, and wrote A's value over B's. On the branch's tip as it is
    # when the job runs, a plan of older manifests is refused (their digest differs).
    checkout = next(s for s in _jobs()["apply"]["steps"] if "checkout" in s.get("uses", ""))
    assert checkout["with"] == {
        "ref": "${{ github.event.repository.default_branch }}",
        "persist-credentials": False,
    }


def test_a_reviewed_plan_of_manifests_a_later_merge_changed_writes_nothing(
    hpconfig_sandbox: Sandbox, examples_checkout: Path
) -> None:
    root = examples_checkout
    digest = _reviewed_plan(hpconfig_sandbox, root)  # A: SOC2-CC6.1's owner bob -> alice
    access = root / "examples" / "controls" / "access.yaml"
    text = access.read_text()
    assert "    owner: alice@example.com\n    implementation: completed" in text
    # B, merged since: SOC2-CC6.1 stays with bob (the default branch's tip now)
    access.write_text(
        text.replace(
            "    owner: alice@example.com\n    implementation: completed",
            "    owner: bob@example.com\n    implementation: completed",
        )
    )
    hpconfig_sandbox.clear_requests()
    env = _job_env(hpconfig_sandbox, root, FOUND="true", PLAN_SHA256=digest, PATHS="examples")
    applied = _run_step(_step("apply", "apply"), env, root)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (root / "output").read_text() == "exitcode=5\n"
    writes = [e for e in hpconfig_sandbox.requests() if e["method"] in ("PATCH", "POST", "PUT")]
    assert [e["path"] for e in writes] == ["/oauth/token"] * len(writes)


# --- Python never imports from the checkout -----------------------------------------------------

SHADOWS = {
    # `python -m pip` and `python -c` put the working directory first on sys.path: a pull
    # request's pip.py ran in the install step (and could put a fake hpconfig on $GITHUB_PATH
    # for the plan step, which holds the secret); a merged secrets.py ran in the apply step,
    # beside the write secret, and chose the stop-commands token.
    "pip.py": "import pathlib; pathlib.Path('SHADOWED-pip').touch()\n",
    "secrets.py": (
        "import pathlib; pathlib.Path('SHADOWED-secrets').touch()\n"
        "def token_hex(n): return '0' * 32\n"
    ),
}


def _python_steps() -> list[tuple[str, str, str]]:
    found = []
    for path in (REUSABLE, *sorted((EXAMPLES / "github").glob("*.yml"))):
        for job_name, job in _load(path)["jobs"].items():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    if re.search(r"(^|[\s(])python3?\s", line):
                        found.append((path.name, job_name, line.strip()))
    return found


def test_every_python_the_workflows_run_is_isolated_from_the_checkout() -> None:
    lines = _python_steps()
    assert len(lines) >= 4  # the installs of both modes, the refresh's, the apply's token
    assert [line for line in lines if not re.search(r"python3? -I ", line[2])] == []


def test_a_pip_py_in_the_checkout_does_not_run_in_the_install_step(tmp_path: Path) -> None:
    write_tree(tmp_path, SHADOWS)
    step = next(s for s in _jobs()["plan"]["steps"] if s.get("name") == "Install hpconfig")
    completed = _run_step(step, {"HPCONFIG_SPEC": "--help"}, tmp_path)  # pip's help: no network
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Usage:" in completed.stdout
    assert not (tmp_path / "SHADOWED-pip").exists()


def test_a_secrets_py_in_the_checkout_does_not_run_beside_the_write_secret(
    hpconfig_sandbox: Sandbox, examples_checkout: Path
) -> None:
    root = examples_checkout
    digest = _reviewed_plan(hpconfig_sandbox, root)
    write_tree(root, SHADOWS)
    env = _job_env(hpconfig_sandbox, root, FOUND="true", PLAN_SHA256=digest, PATHS="examples")
    applied = _run_step(_step("apply", "apply"), env, root)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not (root / "SHADOWED-secrets").exists()
    assert "::stop-commands::" + "0" * 32 not in applied.stdout


# --- plan --check --out: the check travels in the saved plan, and steers nothing ---------------


def test_a_plan_saved_with_its_check_shows_the_files_digest_and_the_check_steers_nothing(
    hpconfig_sandbox: Sandbox, examples_checkout: Path
) -> None:
    root = examples_checkout
    env = {**_job_env(hpconfig_sandbox, root), "PATHS": "examples", "CHECK": "true"}
    planned = _run_step(_step("plan", "plan"), env, root)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    raw = (root / "plan.json").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    # the digest a reviewer quotes (stderr, the comment, the summary) is the written file's
    assert f"(sha256 {digest})" in planned.stderr
    assert f"Plan sha256: `{digest}`" in (root / "plan.md").read_text()
    assert f"Plan sha256: `{digest}`" in (root / "summary").read_text()
    assert set(re.findall(r"[0-9a-f]{64}", (root / "plan.md").read_text())) == {digest}
    document = json.loads(raw)
    assert document["check"]["summary"]["failing"] > 0
    # an edited check (no alarms) is another file: refused under the reviewed digest
    (root / "reviewed").mkdir()
    edited = dict(document, check={**document["check"], "summary": {"failing": 0}})
    (root / "reviewed" / "plan.json").write_text(json.dumps(edited))
    (root / "output").write_text("")
    hpconfig_sandbox.clear_requests()
    job = _job_env(hpconfig_sandbox, root, FOUND="true", PLAN_SHA256=digest, PATHS="examples")
    applied = _run_step(_step("apply", "apply"), job, root)
    assert (root / "output").read_text() == "exitcode=5\n", applied.stderr
    assert not [e for e in hpconfig_sandbox.requests() if e["path"].startswith("/v1/")]
    # the reviewed file itself applies: apply writes what the changes say, whatever the check
    (root / "reviewed" / "plan.json").write_bytes(raw)
    (root / "output").write_text("")
    applied = _run_step(_step("apply", "apply"), job, root)
    assert (root / "output").read_text() == "exitcode=0\n", applied.stderr
    events = [json.loads(line) for line in (root / "apply-events.jsonl").read_text().splitlines()]
    assert {e["plan_sha256"] for e in events} == {digest}


def test_an_environment_whose_reviewers_may_approve_their_own_run_is_refused_unless_told(
    tmp_path: Path, github: dict[str, Any]
) -> None:
    # Without "prevent self-review", whoever merged (a required reviewer too) approves the apply
    # of their own merge: the one look at the digest before a write is theirs.
    rules = github[f"repos/{REPO}/environments/hyperproof"]["protection_rules"]
    rules[1]["prevent_self_review"] = False
    _artifact(tmp_path / "gh-root", RUN_ID, _plan_bytes())
    completed, outputs, _ = _find(tmp_path, github)
    assert completed.returncode == 1 and outputs == {}
    assert "lets a reviewer approve their own run" in completed.stdout
    assert "Prevent self-review" in completed.stdout
    completed, outputs, _ = _find(tmp_path, github, REQUIRE_REVIEWERS="false")
    assert completed.returncode == 0 and outputs["found"] == "true"
