"""`hpconfig apply` end to end, through the real CLI, HTTP stack and sandbox: a saved plan and
PATHS, the second run that writes nothing, the digest, every kind of stale plan, foreign and
malformed plans, thresholds, archives, owners, and the secret in none of its outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from hpconfig import __version__
from hpconfig.cli import cli
from hpconfig.manifest.schema import load_schema
from hpconfig.remote import writes
from hpconfig.remote.client import HyperproofClient
from hpconfig.sandbox import Sandbox
from tests import helpers

CANARY = "CANARY-5e1d07-never-print-me"
MANIFEST = """\
controls:
  - identifier: SOC2-A1.1
    name: Capacity management
    owner: alice@example.com
  - identifier: SOC2-A1.2
    name: Backups and recovery infrastructure
    implementation: completed
  - identifier: SOC2-A1.3
    name: Recovery plan testing
    freshness: {policy: manual, duration: 180d}
  - identifier: NEW-1
    name: A new control
    description: Created by apply.
    owner: carol@example.com
"""
WRITES = ("PATCH", "POST")


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    for user in example_seed["users"]:
        if user["type"] == "serviceAccount":
            user["email"] = "ci-bot@example.com"  # so that a manifest can name it
    return example_seed


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout: the manifests in controls/, run from its root."""
    helpers.write_tree(tmp_path, {"controls/c.yaml": MANIFEST})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(sandbox: Sandbox, *args: str, **env: str) -> Result:
    environment = helpers.env_for(sandbox, CANARY, **env)
    return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)


def writes_sent(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [
        (e["method"], e["path"])
        for e in sandbox.requests()
        if e["method"] in WRITES and e["path"].startswith("/v1/")
    ]


def save_plan(sandbox: Sandbox, *args: str) -> tuple[Path, str]:
    result = run(sandbox, "plan", "controls", "--out", "plan.json", *args)
    assert result.exit_code == 0, result.stderr
    digest = result.stderr.split("(sha256 ")[1][:64]
    return Path("plan.json"), digest


def events(text: str) -> list[dict[str, Any]]:
    validator = jsonschema.Draft202012Validator(load_schema("apply-event"))
    found = [json.loads(line) for line in text.splitlines() if line.strip()]
    for event in found:
        validator.validate(event)
    return found


def journal_of(work: Path) -> list[dict[str, Any]]:
    (path,) = (work / ".hpconfig" / "journal").glob("apply-*.jsonl")
    return events(path.read_text())


def change_in_hyperproof(sandbox: Sandbox, identifier: str, **fields: Any) -> None:
    """Someone edits a control in Hyperproof (through the API, as the UI would)."""
    with HyperproofClient(helpers.settings_for(sandbox)) as client:
        (control,) = writes.find_by_identifier(client, identifier)
        writes.patch_control(client, control["id"], fields)


def assert_no_canary(result: Result, work: Path) -> None:
    texts = [result.stdout, result.stderr]
    texts += [p.read_text() for p in work.rglob("*") if p.is_file()]
    assert all(CANARY not in text for text in texts)


def test_a_saved_plan_is_applied_then_plan_is_empty_and_a_second_apply_writes_nothing(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    plan_file, digest = save_plan(hpconfig_sandbox)
    saved = json.loads(plan_file.read_text())
    assert saved["apply"]["api_url"] == hpconfig_sandbox.api_url
    assert saved["apply"]["hpconfig_version"] == __version__
    hpconfig_sandbox.clear_requests()
    result = run(hpconfig_sandbox, "apply", "plan.json", "--plan-sha256", digest, "--json")
    assert result.exit_code == 0, result.stderr
    found = events(result.stdout)
    completed = {e["identifier"]: e for e in found if e["type"] == "apply_complete"}
    assert set(completed) == {"SOC2-A1.1", "SOC2-A1.2", "SOC2-A1.3", "NEW-1"}
    assert all(e["outcome"] == "applied" and e["plan_sha256"] == digest for e in completed.values())
    assert found[-1]["type"] == "summary" and found[-1]["counts"]["applied"] == 4
    assert found[-1]["exit_code"] == 0
    sent = writes_sent(hpconfig_sandbox)
    assert sorted(method for method, _ in sent) == ["PATCH", "PATCH", "PATCH", "POST"]
    bodies = {
        e["path"]: e["body_keys"] for e in hpconfig_sandbox.requests() if e["method"] in WRITES
    }
    owner_patch = next(p for p in bodies if p.endswith(completed["SOC2-A1.1"]["id"]))
    assert bodies[owner_patch] == ["owner"]  # only the field that differs
    assert journal_of(work) == found  # the journal holds the same events, in order
    again = run(hpconfig_sandbox, "plan", "controls", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    hpconfig_sandbox.clear_requests()
    second = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert second.exit_code == 0
    assert "no changes" in second.stderr
    assert writes_sent(hpconfig_sandbox) == []
    assert_no_canary(result, work)


def test_apply_paths_needs_a_terminal_or_auto_approve(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    result = run(hpconfig_sandbox, "apply", "controls")
    assert result.exit_code == 64
    assert "--auto-approve" in result.stderr
    assert writes_sent(hpconfig_sandbox) == []


def test_owners_are_written_as_user_ids_with_one_users_list(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    users_calls = [e for e in hpconfig_sandbox.requests() if e["path"] == "/v1/users"]
    assert len(users_calls) == 1
    state = {c["controlIdentifier"]: c for c in hpconfig_sandbox.state()["controls"]}
    assert state["SOC2-A1.1"]["owner"]["id"] == "1eff96d4-11ec-5ad4-a4e8-c3e929a27803"  # Alice
    assert state["NEW-1"]["description"] == "Created by apply."


def test_another_plan_than_the_reviewed_one_is_refused(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    other = "0" * 64
    result = run(hpconfig_sandbox, "apply", "plan.json", "--plan-sha256", other)
    assert result.exit_code == 5
    assert "not the plan that was reviewed" in result.stderr
    paths = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--plan-sha256", other)
    assert paths.exit_code == 5
    assert writes_sent(hpconfig_sandbox) == []
    bad = run(hpconfig_sandbox, "apply", "plan.json", "--plan-sha256", "xyz")
    assert bad.exit_code == 64


def _edit_plan(path: Path, edit: Any) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("edit", "code", "said"),
    [
        (lambda d: d["apply"].update(api_url="https://api.hyperproof.app"), 5, "not http"),
        (lambda d: d["apply"].update(hpconfig_version="0.0.1"), 5, "made by hpconfig 0.0.1"),
        (lambda d: d["apply"].update(manifests_digest="a" * 64), 5, "other manifests"),
        (lambda d: d.pop("apply"), 3, "no `apply` section"),
        (lambda d: d.update(format_version="9"), 3, "not a plan hpconfig apply can use"),
        (lambda d: d["changes"][1]["live"]["values"].update(name="x"), 3, "fingerprint"),
        (lambda d: d["changes"][1].update(action="delete"), 3, "not a plan"),
        (lambda d: d["changes"][1]["target"].update(owner="mallory@x.com"), 5, "edited"),
        (lambda d: d["changes"][1]["target"].update(notes="x"), 3, "do not match"),
    ],
    ids=[
        "api",
        "version",
        "digest",
        "no-apply",
        "format",
        "fingerprint",
        "kind",
        "target-edited",
        "target-grown",
    ],
)
def test_a_foreign_or_malformed_saved_plan_is_refused(
    hpconfig_sandbox: Sandbox, work: Path, edit: Any, code: int, said: str
) -> None:
    plan_file, _ = save_plan(hpconfig_sandbox)
    _edit_plan(plan_file, edit)
    result = run(hpconfig_sandbox, "apply", "plan.json")
    assert result.exit_code == code, result.stderr
    assert said in result.stderr
    assert writes_sent(hpconfig_sandbox) == []


def test_a_manifest_changed_since_the_plan_is_refused(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    (work / "controls" / "c.yaml").write_text(MANIFEST.replace("180d", "90d"))
    result = run(hpconfig_sandbox, "apply", "plan.json")
    assert result.exit_code == 5
    assert "other manifests" in result.stderr
    assert not Path("not json.json").exists()
    Path("broken.json").write_text("{not json")
    assert run(hpconfig_sandbox, "apply", "broken.json").exit_code == 3


def test_a_stale_plan_is_refused_naming_field_values_and_who(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    change_in_hyperproof(hpconfig_sandbox, "SOC2-A1.2", implementation="notStarted")
    hpconfig_sandbox.clear_requests()
    result = run(hpconfig_sandbox, "apply", "plan.json", "--json")
    assert result.exit_code == 5, result.stderr
    assert writes_sent(hpconfig_sandbox) == []
    assert "SOC2-A1.2: changed in Hyperproof since the plan (last changed by" in result.stderr
    assert 'implementation: the plan saw "inProgress", Hyperproof has "notStarted"' in result.stderr
    found = events(result.stdout)
    stale = [e for e in found if e.get("outcome") == "stale"]
    assert [e["identifier"] for e in stale] == ["SOC2-A1.2"]
    assert stale[0]["stale"] == [
        {"field": "implementation", "planned": "inProgress", "now": "notStarted"}
    ]
    assert stale[0]["updatedBy"] == "ci-bot@example.com"  # the API client that changed it
    assert {e["outcome"] for e in found if e["type"] == "apply_skipped"} == {
        "stale",
        "not_attempted",
    }
    assert found[-1]["counts"]["not_attempted"] == 3 and found[-1]["exit_code"] == 5
    assert not [e for e in journal_of(work) if e["type"] == "apply_start"]


def test_skip_stale_applies_the_rest_and_reports_the_skipped(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    change_in_hyperproof(hpconfig_sandbox, "SOC2-A1.2", implementation="notStarted")
    result = run(hpconfig_sandbox, "apply", "plan.json", "--skip-stale")
    assert result.exit_code == 0, result.stderr
    assert "3 applied, 0 already applied, 0 reconciled, 0 failed, 1 stale" in result.stdout
    assert "skipping 1 stale control" in result.stderr
    after = run(hpconfig_sandbox, "plan", "controls", "--format", "json")
    remaining = [c["identifier"] for c in json.loads(after.stdout)["changes"]]
    assert remaining == ["SOC2-A1.2"]  # the complement


def test_a_change_already_made_in_hyperproof_is_already_applied(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    change_in_hyperproof(hpconfig_sandbox, "SOC2-A1.2", implementation="completed")
    hpconfig_sandbox.clear_requests()
    result = run(hpconfig_sandbox, "apply", "plan.json")
    assert result.exit_code == 0, result.stderr
    assert "3 applied, 1 already applied" in result.stdout
    assert len(writes_sent(hpconfig_sandbox)) == 3


def test_a_create_whose_identifier_appeared_since_is_stale(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    with HyperproofClient(helpers.settings_for(hpconfig_sandbox)) as client:
        writes.create_control(
            client, {"controlIdentifier": "NEW-1", "name": "Someone's", "description": "x"}
        )
    result = run(hpconfig_sandbox, "apply", "plan.json")
    assert result.exit_code == 5
    assert "NEW-1: a control with this identifier was created in Hyperproof" in result.stderr
    assert 'name: the plan saw (none), Hyperproof has "Someone\'s"' in result.stderr


def test_a_control_archived_since_the_plan_is_stale(hpconfig_sandbox: Sandbox, work: Path) -> None:
    save_plan(hpconfig_sandbox)
    change_in_hyperproof(hpconfig_sandbox, "SOC2-A1.3", status="archived")
    result = run(hpconfig_sandbox, "apply", "plan.json")
    assert result.exit_code == 5
    assert 'status: the plan saw "active", Hyperproof has "archived"' in result.stderr


def _config(work: Path, text: str) -> None:
    (work / "hpconfig.yaml").write_text("manifests: [controls/]\n" + text)


def test_thresholds_refuse_after_printing_the_plan_and_force_overrides_them(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    _config(work, "safety: {maxChangePercent: 5, minControls: 10, maxCreates: 0}\n")
    planned = run(hpconfig_sandbox, "plan", "controls", "--format", "json")
    assert planned.exit_code == 0
    reasons = json.loads(planned.stdout)["safety"]["reasons"]
    assert len(reasons) == 2 and "maxCreates (0)" in reasons[1]
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 5
    assert "~ SOC2-A1.1" in result.stdout  # the plan first, then the reason
    assert "more than safety.maxChangePercent (5%)" in result.stderr
    assert writes_sent(hpconfig_sandbox) == []
    forced = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.stderr


ARCHIVE = MANIFEST + "  - identifier: SOC2-C1.1\n    status: archived\n"


def test_an_archive_needs_allow_archive_and_force_does_not_stand_in(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    (work / "controls" / "c.yaml").write_text(ARCHIVE)
    plan_file, _ = save_plan(hpconfig_sandbox)
    change = next(
        c for c in json.loads(plan_file.read_text())["changes"] if c["action"] == "archive"
    )
    assert change["identifier"] == "SOC2-C1.1"
    for args in ([], ["--force"]):
        result = run(hpconfig_sandbox, "apply", "plan.json", *args)
        assert result.exit_code == 5
        assert "--allow-archive" in result.stderr and "SOC2-C1.1" in result.stderr
        assert "- SOC2-C1.1" in result.stdout
    assert writes_sent(hpconfig_sandbox) == []
    allowed = run(hpconfig_sandbox, "apply", "plan.json", "--allow-archive")
    assert allowed.exit_code == 0, allowed.stderr
    state = {c["controlIdentifier"]: c for c in hpconfig_sandbox.state()["controls"]}
    assert state["SOC2-C1.1"]["status"] == "archived"
    # Back to active: a restore, said to bring no links back.
    (work / "controls" / "c.yaml").write_text(ARCHIVE.replace("archived", "active"))
    restore = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert restore.exit_code == 0, restore.stderr
    assert "^ SOC2-C1.1" in restore.stdout and "do not come back" in restore.stdout


def test_the_allow_list_of_the_config_permits_an_archive(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    (work / "controls" / "c.yaml").write_text(ARCHIVE)
    _config(work, "safety: {allowArchive: ['SOC2-C1.*']}\n")
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    _config(work, "safety: {allowArchive: ['SOC2-C1.*'], maxArchives: 0}\n")
    (work / "controls" / "c.yaml").write_text(ARCHIVE.replace("SOC2-C1.1", "SOC2-C1.2"))
    over = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert over.exit_code == 5 and "maxArchives (0)" in over.stderr


@pytest.mark.parametrize(
    ("owner", "said"),
    [
        ("nobody@example.com", "owner nobody@example.com is no user of the organization"),
        ("CI-Bot@example.com", "is a service account, which cannot own a control"),
        ("frank@example.com", "is a deactivated user"),
    ],
)
def test_an_owner_that_cannot_own_is_a_plan_problem_before_any_write(
    hpconfig_sandbox: Sandbox, work: Path, owner: str, said: str
) -> None:
    (work / "controls" / "c.yaml").write_text(MANIFEST.replace("alice@example.com", owner))
    planned = run(hpconfig_sandbox, "plan", "controls", "--out", "plan.json")
    assert planned.exit_code == 0
    assert said in planned.stdout and said in planned.stderr
    change = json.loads(Path("plan.json").read_text())["changes"][1]
    assert change["identifier"] == "SOC2-A1.1" and said in change["problems"][0]
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 3
    assert said in result.stderr
    assert writes_sent(hpconfig_sandbox) == []


def test_a_create_without_a_description_is_an_input_error(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    (work / "controls" / "c.yaml").write_text(
        MANIFEST.replace("    description: Created by apply.\n", "")
    )
    planned = run(hpconfig_sandbox, "plan", "controls", "--format", "markdown")
    assert planned.exit_code == 3  # the manifest's error, once the reports are out
    assert (
        "controls/c.yaml:11:5: a control that Hyperproof lacks is created, and a new control needs "
        "name and description; this one has no description"
    ) in planned.stderr
    assert "Cannot apply" in planned.stdout
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 3 and writes_sent(hpconfig_sandbox) == []


def test_controls_limits_the_run(hpconfig_sandbox: Sandbox, work: Path) -> None:
    save_plan(hpconfig_sandbox)
    result = run(hpconfig_sandbox, "apply", "plan.json", "--target", "SOC2-A1.*", "--json")
    assert result.exit_code == 0, result.stderr
    done = [e["identifier"] for e in events(result.stdout) if e["type"] == "apply_complete"]
    assert sorted(done) == ["SOC2-A1.1", "SOC2-A1.2", "SOC2-A1.3"]
    nothing = run(hpconfig_sandbox, "apply", "plan.json", "--controls", "NOPE-*")
    assert nothing.exit_code == 3


def test_a_journal_path_that_is_a_symlink_is_refused_before_any_write(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    (work / "elsewhere").write_text("")
    (work / "journal.jsonl").symlink_to(work / "elsewhere")
    result = run(
        hpconfig_sandbox, "apply", "controls", "--auto-approve", "--journal", "journal.jsonl"
    )
    assert result.exit_code == 3
    assert "never a symlink" in result.stderr
    assert writes_sent(hpconfig_sandbox) == []
    good = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--journal", "j.jsonl")
    assert good.exit_code == 0
    lines = events((work / "j.jsonl").read_text())
    assert [e["type"] for e in lines].count("apply_start") == 4
    assert (work / "j.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_control_renamed_away_or_replaced_under_its_identifier_is_stale(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    save_plan(hpconfig_sandbox)
    change_in_hyperproof(hpconfig_sandbox, "SOC2-A1.3", controlIdentifier="SOC2-A1.3-OLD")
    hpconfig_sandbox.clear_requests()
    gone = run(hpconfig_sandbox, "apply", "plan.json")
    assert gone.exit_code == 5
    assert "SOC2-A1.3: the control is no longer in Hyperproof" in gone.stderr
    assert writes_sent(hpconfig_sandbox) == []
    change_in_hyperproof(hpconfig_sandbox, "SOC2-C1.1", controlIdentifier="SOC2-A1.3")
    hpconfig_sandbox.clear_requests()
    replaced = run(hpconfig_sandbox, "apply", "plan.json")
    assert replaced.exit_code == 5
    assert "SOC2-A1.3: another control (id " in replaced.stderr
    assert writes_sent(hpconfig_sandbox) == []


def test_apply_paths_with_the_reviewed_digest_goes_ahead_when_nothing_changed(
    hpconfig_sandbox: Sandbox, work: Path
) -> None:
    planned = run(hpconfig_sandbox, "plan", "controls", "--format", "markdown")
    digest = planned.stderr.split("plan sha256 ")[1][:64]
    assert f"Plan sha256: `{digest}`" in planned.stdout  # the PR comment quotes it
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--plan-sha256", digest)
    assert result.exit_code == 0, result.stderr
    assert "4 applied" in result.stdout


def test_a_journal_folder_that_is_a_symlink_of_the_checkout_is_not_followed(
    hpconfig_sandbox: Sandbox, work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (work / ".hpconfig").symlink_to(elsewhere, target_is_directory=True)
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve")
    assert result.exit_code == 3
    assert ".hpconfig is a symlink" in result.stderr
    assert writes_sent(hpconfig_sandbox) == [] and not list(elsewhere.iterdir())


def test_a_journal_that_cannot_be_written_any_more_stops_new_writes(
    hpconfig_sandbox: Sandbox, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from hpconfig.apply import journal

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the disk fills up after the third line
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(journal.os, "fsync", fsync)
    result = run(hpconfig_sandbox, "apply", "controls", "--auto-approve", "--parallelism", "1")
    assert result.exit_code == 74
    assert "the journal could not be written" in result.stderr
    assert "No space left on device" in result.stderr
    assert "2 applied, 0 already applied, 0 reconciled, 0 failed, 0 stale, 2 not attempted" in (
        result.stdout
    )
    assert len(writes_sent(hpconfig_sandbox)) == 2
