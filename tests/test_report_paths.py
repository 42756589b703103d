"""--out, --sarif and --markdown: checked before the plan runs, never replacing anything but a
regular file; through the real command and the sandbox."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES
from tests.test_cli_plan import env_for


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = "CANARY-7f3a9c-never-print-me"
    return example_seed


def plan(sandbox: Sandbox, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["plan", str(EXAMPLES), *args], env=env_for(sandbox), catch_exceptions=False
    )


def assert_refused_before_the_network(result: Result, sandbox: Sandbox, code: int = 3) -> None:
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert sandbox.requests() == []


def test_a_fifo_nobody_reads_is_refused_without_hanging(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    result = plan(hpconfig_sandbox, "--out", str(fifo))
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert "a FIFO that nothing reads" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO


def test_a_fifo_with_a_reader_is_written_through(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader holds it open
    try:
        result = plan(hpconfig_sandbox, "--out", str(fifo))
        received = os.read(reader, 1 << 20)  # the report fits in the pipe's buffer
    finally:
        os.close(reader)
    assert result.exit_code == 0, result.stderr
    assert json.loads(received)["summary"]["update"] == 3
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_null_is_written_through_and_never_replaced(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    # Through a link of our own: were a regression to replace the path it was given, it would
    # replace this link, never the machine's /dev/null.
    null = tmp_path / "null"
    null.symlink_to("/dev/null")
    before = os.stat("/dev/null")
    result = plan(hpconfig_sandbox, "--sarif", str(null))
    assert result.exit_code == 0, result.stderr
    assert null.is_symlink()
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_symlink_is_never_replaced(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "plan.json"
    link.symlink_to(target)
    result = plan(hpconfig_sandbox, "--out", str(link))
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert "a symlink" in result.stderr
    assert link.is_symlink() and target.read_text() == "keep me"
    dangling = tmp_path / "plan.md"
    dangling.symlink_to(tmp_path / "missing" / "x")
    result = plan(hpconfig_sandbox, "--markdown", str(dangling))
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert dangling.is_symlink()


def test_a_directory_and_a_missing_directory_are_input_errors(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    result = plan(hpconfig_sandbox, "--out", str(tmp_path))
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert "a directory" in result.stderr
    result = plan(hpconfig_sandbox, "--markdown", str(tmp_path / "no" / "such" / "plan.md"))
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert "does not exist; create it first" in result.stderr


def test_the_same_destination_twice_is_a_usage_error(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    report = tmp_path / "plan.json"
    result = plan(
        hpconfig_sandbox, "--out", str(report), "--sarif", str(tmp_path / "." / "plan.json")
    )
    assert_refused_before_the_network(result, hpconfig_sandbox, code=64)
    assert "--out and --sarif name the same destination" in result.stderr
    result = plan(hpconfig_sandbox, "--out", "-", "--markdown", "/dev/stdout")
    assert_refused_before_the_network(result, hpconfig_sandbox, code=64)


def test_a_report_option_naming_stdout_is_a_usage_error(hpconfig_sandbox: Sandbox) -> None:
    # stdout already carries the --format report: two documents there make neither parse.
    for target in ("-", "/dev/stdout"):
        result = plan(hpconfig_sandbox, "--format", "json", "--markdown", target)
        assert_refused_before_the_network(result, hpconfig_sandbox, code=64)
        assert "names standard output, where the --format report already goes" in result.stderr
        assert result.stdout == ""
    assert not Path("-").exists()


def test_stderr_can_take_a_report(hpconfig_sandbox: Sandbox) -> None:
    result = plan(hpconfig_sandbox, "--format", "json", "--markdown", "/dev/stderr")
    assert result.exit_code == 0, result.stderr
    assert "<!-- hpconfig-plan -->" in result.stderr
    assert "<!-- hpconfig-plan -->" not in result.stdout


def test_modes_new_files_follow_the_umask_existing_ones_keep_theirs(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    old = os.umask(0o027)
    try:
        new = tmp_path / "new.json"
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o604)
        result = plan(hpconfig_sandbox, "--out", str(new), "--sarif", str(kept))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(new.stat().st_mode) == 0o640
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    assert json.loads(kept.read_text())["version"] == "2.1.0"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_is_exit_3_not_a_bug(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    full = tmp_path / "full"
    full.symlink_to("/dev/full")  # as above: a regression could only replace this link
    result = plan(hpconfig_sandbox, "--out", str(full))
    assert result.exit_code == 3, result.stderr
    assert f"cannot write --out {full}: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert full.is_symlink()


def test_a_symlinked_directory_in_a_relative_report_path_is_refused(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pull request commits `reports -> /somewhere/else`; `--out reports/plan.json` must not
    # write through it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "reports").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.chdir(checkout)
    result = plan(hpconfig_sandbox, "--out", "reports/plan.json")
    assert_refused_before_the_network(result, hpconfig_sandbox)
    assert "reports is a symlink; hpconfig writes a report only through real directories" in (
        result.stderr
    )
    assert list(elsewhere.iterdir()) == []
