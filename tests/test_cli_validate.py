"""`hpconfig validate` and `hpconfig schema`, driven through the real command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from tests.conftest import CASES, EXAMPLES, ROOT

ANNOTATION_COMMANDS = ("::error ", "::warning ", "::notice ")  # not ::stop-commands


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_examples_are_valid() -> None:
    code, out, err = run("validate", str(EXAMPLES))
    assert code == 0, out + err
    assert out == ""
    assert "40 controls in 4 files: valid." in err


def test_invalid_files_exit_3_with_every_problem_sorted() -> None:
    code, out, err = run(
        "validate",
        str(CASES / "invalid" / "bad-emails.yaml"),
        str(CASES / "invalid" / "durations.yaml"),
    )
    assert code == 3
    lines = out.splitlines()
    assert len(lines) == 3 + 9
    assert lines == sorted(lines, key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    assert "12 problems in 2 files." in err
    assert "Traceback" not in out + err


def test_json_format_is_one_document_with_diagnostics() -> None:
    code, out, _ = run("validate", "--format", "json", str(CASES / "invalid" / "bad-emails.yaml"))
    assert code == 3
    document = json.loads(out)
    assert document["format_version"] == "1"
    assert document["valid"] is False
    assert document["summary"] == {"files": 1, "controls": 1, "problems": 3}
    first = document["diagnostics"][0]
    assert set(first) == {"file", "line", "column", "path", "message", "severity"}
    assert (first["line"], first["column"], first["path"]) == (2, 10, "$.defaults.owner")


def test_github_format_prints_workflow_commands() -> None:
    code, out, _ = run("validate", "--format", "github", str(CASES / "invalid" / "bad-emails.yaml"))
    assert code == 3
    commands = [line for line in out.splitlines() if line.startswith(ANNOTATION_COMMANDS)]
    assert len(commands) == 3
    assert commands[1].startswith("::error file=")
    assert (
        ",line=5,col=12,title=hpconfig validate::$.controls[0].owner: 'bob@' is not" in commands[1]
    )


def test_github_format_caps_annotations_and_says_how_many_more(tmp_path: Path) -> None:
    body = "controls:\n" + "".join(f"  - identifier: C{i}\n    status: bad\n" for i in range(15))
    (tmp_path / "many.yaml").write_text(body)
    code, out, _ = run("validate", "--format", "github", str(tmp_path / "many.yaml"))
    assert code == 3
    commands = [line for line in out.splitlines() if line.startswith(ANNOTATION_COMMANDS)]
    assert len(commands) == 10
    assert commands[-1].startswith("::notice")
    assert "6 more not shown" in commands[-1]


def test_usage_errors_exit_64() -> None:
    code, _, err = run("validate", "--format", "yaml")
    assert code == 64
    assert "Invalid value for '--format'" in err
    code, _, _ = run("no-such-command")
    assert code == 64


def test_missing_path_is_an_input_error() -> None:
    code, out, _ = run("validate", "does/not/exist.yaml")
    assert code == 3
    assert "does/not/exist.yaml: no such file or directory" in out


def test_directory_with_config_uses_its_manifest_paths(tmp_path: Path) -> None:
    (tmp_path / "controls").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "controls" / "a.yaml").write_text("controls: [{identifier: A}]\n")
    (tmp_path / "other" / "workflow.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "hpconfig.yaml").write_text("manifests: [controls]\n")
    code, out, err = run("validate", str(tmp_path))
    assert code == 0, out
    assert "1 control in 1 file: valid." in err


def test_invalid_config_is_reported_with_manifests(tmp_path: Path) -> None:
    (tmp_path / "hpconfig.yaml").write_text("manifests: [.]\nregion: mars\n")
    (tmp_path / "a.yaml").write_text("controls: [{identifier: A, status: nope}]\n")
    code, out, _ = run("validate", str(tmp_path))
    assert code == 3
    assert "hpconfig.yaml:2:9: $.region: 'mars' is not one of: us, eu, gov" in out
    assert "$.controls[0].status: 'nope' is not one of" in out


def test_validate_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validate opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    code, _, _ = run("validate", str(EXAMPLES))
    assert code == 0


@pytest.mark.parametrize("name", ["manifest", "config"])
def test_schema_command_prints_the_shipped_schema(name: str) -> None:
    code, out, _ = run("schema", name)
    assert code == 0
    assert out == (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")


def test_installed_console_script_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "hpconfig", "validate", str(CASES / "invalid" / "empty.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 3
    assert "the file is empty" in completed.stdout
    assert "Traceback" not in completed.stderr


def test_a_config_with_an_error_elsewhere_still_limits_the_manifests(tmp_path: Path) -> None:
    # One bad value (region: mars) must not make validate walk the whole folder and report
    # files outside `manifests`.
    (tmp_path / "controls").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "hpconfig.yaml").write_text("manifests: [controls/]\nregion: mars\n")
    (tmp_path / "controls" / "c.yaml").write_text("controls:\n  - identifier: A-1\n")
    (tmp_path / "other" / "o.yaml").write_text("controls:\n  - identifier: 5\n")
    code, out, _ = run("validate", str(tmp_path))
    assert code == 3
    assert "$.region: 'mars' is not one of" in out
    assert "o.yaml" not in out
