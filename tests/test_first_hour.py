"""Friction a new user meets in the first hour: global options after the command, ignore rules
about to expire, plurals, shell completion, the demo's exit codes, `plan --controls`, and what
`--help` promises."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from hpconfig.sandbox.faults import PRESETS
from tests.conftest import EXAMPLES, ROOT
from tests.test_cli_plan import CANARY, assert_no_canary, env_for, hpconfig_sandbox_seed, run

__all__ = ["hpconfig_sandbox_seed"]  # the canary secret's seed, for the sandbox fixture


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def _project(root: Path, config: str) -> Path:
    (root / "controls").mkdir(parents=True)
    (root / "controls" / "a.yaml").write_text("controls:\n  - {identifier: SOC2-CC6.1}\n")
    (root / "hpconfig.yaml").write_text(config)
    return root


def _today() -> date:
    return datetime.now(timezone.utc).date()


# --- global options after the command -------------------------------------------------------


def test_config_and_debug_work_after_the_command_name(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    config = _project(tmp_path, "manifests: [controls]\n") / "hpconfig.yaml"
    after = invoke("validate", "--config", str(config))
    assert after.exit_code == 0, after.stderr
    assert f"hpconfig: config {config}" in after.stderr and "1 control in 1 file" in after.stderr
    before = invoke("--config", str(config), "validate")
    assert before.stdout == after.stdout and before.stderr == after.stderr
    planned = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--debug", "--format", "sarif")
    assert planned.exit_code == 0, planned.stderr
    assert "DEBUG hpconfig.auth: signing in" in planned.stderr
    assert_no_canary(planned)


def test_internal_errors_show_a_traceback_with_debug_after_the_command(tmp_path: Path) -> None:
    config = _project(tmp_path, "manifests: [controls]\n") / "hpconfig.yaml"
    completed = subprocess.run(
        [sys.executable, "-m", "hpconfig", "validate", "--debug", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0 and "Traceback" not in completed.stderr


# --- ignore rules about to expire ---------------------------------------------------------------


def _ignore(expires: date, extra: str = "") -> str:
    return (
        "manifests: [controls]\n"
        "ignore:\n"
        f"  - {{fields: [notes], reason: Auditors edit notes, expires: '{expires.isoformat()}'}}\n"
        + extra
    )


def test_a_rule_expiring_within_14_days_warns_in_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = _today() + timedelta(days=5)
    monkeypatch.chdir(_project(tmp_path, _ignore(soon)))
    result = invoke("validate")
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: hpconfig.yaml:3:61: $.ignore[0].expires: this ignore rule expires in 5 days "
        f"({soon.isoformat()}), and then the check fails" in result.stderr
    )
    github = invoke("validate", "--format", "github")
    assert github.exit_code == 0
    assert "::warning file=hpconfig.yaml,line=3,col=61,title=hpconfig validate::" in github.stdout
    later = _today() + timedelta(days=15)
    (tmp_path / "hpconfig.yaml").write_text(_ignore(later))
    assert "Warning" not in invoke("validate").stderr


def test_a_rule_expiring_soon_warns_in_plan_as_an_annotation(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_project(tmp_path, _ignore(_today())))
    result = run(hpconfig_sandbox, "plan", "--format", "github")
    assert result.exit_code == 0, result.stderr
    assert "this ignore rule expires today" in result.stderr
    assert "::warning file=hpconfig.yaml,line=3" in result.stdout


def test_an_expired_rule_is_reported_beside_other_config_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = _today() - timedelta(days=1)
    monkeypatch.chdir(_project(tmp_path, _ignore(expired, "region: mars\n")))
    result = invoke("validate")
    assert result.exit_code == 3
    assert "$.region: 'mars' is not one of" in result.stdout
    assert f"this ignore rule expired on {expired.isoformat()}" in result.stdout


# --- plurals and completion -------------------------------------------------------------------


def test_counts_take_singular_nouns() -> None:
    result = invoke("validate", str(EXAMPLES / "controls" / "monitoring.yaml"))
    assert result.exit_code == 0
    assert "controls in 1 file: valid." in result.stderr
    one = invoke("validate", str(ROOT / "tests" / "cases" / "invalid" / "bad-emails.yaml"))
    assert "3 problems in 1 file." in one.stderr


def test_shell_completion_is_click_s_and_documented() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from hpconfig.cli import main; main()"],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "_HPCONFIG_COMPLETE": "bash_complete",
            "COMP_WORDS": "hpconfig pl",
            "COMP_CWORD": "1",
        },
    )
    assert completed.returncode == 0 and "plan" in completed.stdout
    assert 'eval "$(_HPCONFIG_COMPLETE=bash_source hpconfig)"' in (ROOT / "README.md").read_text()


# --- the demo -----------------------------------------------------------------------------------


def test_demo_takes_detailed_exitcode() -> None:
    result = invoke("demo", "--detailed-exitcode", env={"HYPERPROOF_CLIENT_SECRET": ""})
    assert result.exit_code == 2, result.stderr


def test_demo_outside_a_clone_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("demo")
    assert result.exit_code == 3
    assert "run it from the root of a clone (`make demo`)" in result.stderr
    assert "internal error" not in result.stderr


def test_the_sandbox_on_a_port_in_use_says_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("sandbox", "--port", str(port))
    assert result.exit_code == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port 0 picks a free one" in result.stderr


# --- plan --controls ----------------------------------------------------------------------------


def test_plan_controls_limits_the_plan_to_matching_identifiers(hpconfig_sandbox: Sandbox) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--controls", "SOC2-CC6.*,SOC2-CC7.4")
    assert result.exit_code == 0, result.stderr
    assert "hpconfig: 11 controls (of 40) declared" in result.stderr
    assert "~ SOC2-CC6.1" in result.stdout and "~ SOC2-CC7.4" in result.stdout
    assert "SOC2-PI1.1" not in result.stdout and "unmanaged" not in result.stdout
    assert result.stdout.rstrip().endswith("Plan: 3 to update. 8 in sync.")
    # The users list: a change writes an owner, whose user apply will need.
    paths = [e["path"] for e in hpconfig_sandbox.requests()]
    assert paths == ["/oauth/token", "/v1/controls", "/v1/users"]
    assert_no_canary(result)


def test_plan_controls_that_match_nothing_stop_before_the_network(
    hpconfig_sandbox: Sandbox,
) -> None:
    result = run(hpconfig_sandbox, "plan", str(EXAMPLES), "--controls", "soc2-*")
    assert result.exit_code == 3
    assert "--controls soc2-*: no declared control matches" in result.stderr
    assert hpconfig_sandbox.requests() == []
    assert CANARY not in result.stderr + result.stdout
    env_for(hpconfig_sandbox)  # the environment the plan would have used


def test_the_readme_points_at_nothing_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "shared/" not in readme and "<you>" not in readme
    for line in readme.splitlines():
        if "../" in line:
            assert "yaml-language-server" in line, line  # a modeline, relative to a manifest


# --- what --help promises -----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["plan", "check", "demo"])
def test_help_offers_no_report_to_stdout_that_the_command_refuses(command: str) -> None:
    # `--out -` is a usage error (the --format report is already on stdout); the help said
    # "(- for stdout)", so a newcomer following it got exit 64.
    assert "for stdout" not in " ".join(invoke(command, "--help").stdout.split())
    for option in ("--out", "--sarif", "--markdown"):
        refused = invoke(command, str(EXAMPLES), option, "-", env={"HYPERPROOF_CLIENT_SECRET": ""})
        assert refused.exit_code == 64, refused.stderr
        assert f"{option} - names standard output" in refused.stderr


def test_sandbox_help_names_every_fault_kind_it_takes() -> None:
    # --fault takes the hostile kinds too (trickle, huge, ...); the help listed ten of them.
    shown = " ".join(invoke("sandbox", "--help").stdout.split()).replace("- ", "-")
    kinds = shown.split("Kinds: ")[1].split(". Repeatable")[0]
    listed = kinds.replace("and, after the write lands, ", "").split(", ")
    assert listed == list(PRESETS)


def test_the_command_list_shows_whole_sentences() -> None:
    # click cut each summary to the width with "..." ("or the..."): say the whole sentence.
    listed = " ".join(invoke("--help").stdout.split("Commands:")[1].split())
    assert "..." not in listed
    for name, command in sorted(cli.commands.items()):
        summary = " ".join((command.help or "").split("\n\n")[0].split())
        assert f"{name} {summary}" in listed.replace("- ", "-")  # wrapped at a hyphen
