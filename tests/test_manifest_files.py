"""Files that are not manifests: FIFOs, devices, oversized files, one file under several
names, and paths (from hpconfig.yaml or symlinks in a walked directory) that leave the
repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.files import MAX_FILE_BYTES
from hpconfig.manifest.config_file import load_config
from hpconfig.manifest.project import load_project
from tests.conftest import TODAY
from tests.test_input_edges import CANARY, messages


def test_a_fifo_in_a_manifest_directory_is_a_located_error_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("controls: []\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    found = messages([tmp_path])
    assert found == [
        f"{tmp_path / 'pipe.yaml'}: cannot read the file: a FIFO, not a regular file; "
        "only files are read"
    ]
    assert messages([tmp_path / "pipe.yaml"]) == found  # named on the command line too


def test_a_device_and_an_oversized_file_are_located_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert messages([big]) == [
        f"{big}: cannot read the file: {MAX_FILE_BYTES + 1:,} bytes, more than the "
        f"{MAX_FILE_BYTES:,} a manifest may have; split it into files"
    ]
    assert messages([Path("/dev/null")]) == [
        "/dev/null: cannot read the file: a device, not a regular file; only files are read"
    ]


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("controls:\n  - identifier: A\n")
    (tmp_path / "link.yaml").symlink_to(real)
    project = load_project([tmp_path / "link.yaml"], today=TODAY)
    assert project.problems == [] and list(project.desired) == ["A"]


def test_one_file_under_several_names_is_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text("controls:\n  - identifier: A\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "a.yaml")
    monkeypatch.chdir(tmp_path)
    names = [Path("a.yaml"), Path("./a.yaml"), Path("sub/../a.yaml"), tmp_path / "a.yaml"]
    project = load_project([*names, Path("alias.yaml"), Path(".")], today=TODAY)
    assert project.problems == []
    assert project.files == ["a.yaml"]


def test_config_manifests_may_not_leave_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "controls").mkdir()
    (tmp_path / "outside").mkdir()
    (repo / "out").symlink_to(tmp_path / "outside")
    config = repo / "hpconfig.yaml"
    config.write_text(
        "manifests:\n  - controls/\n  - ../../etc/passwd\n  - /etc/passwd\n  - out/\n"
    )
    _, problems = load_config(config, TODAY, "hpconfig.yaml")
    root = repo.resolve()
    assert [str(problem) for problem in problems] == [
        f"hpconfig.yaml:3:5: $.manifests[1]: '../../etc/passwd' leads outside the repository "
        f"({root}); list only manifests inside it",
        f"hpconfig.yaml:4:5: $.manifests[2]: '/etc/passwd' leads outside the repository "
        f"({root}); list only manifests inside it",
        f"hpconfig.yaml:5:5: $.manifests[3]: 'out/' leads outside the repository "
        f"({root}); list only manifests inside it",
    ]
    result = CliRunner().invoke(cli, ["--config", str(config), "validate"])
    assert result.exit_code == 3
    assert "root:" not in result.stdout + result.stderr  # /etc/passwd was never read


def test_a_config_that_is_a_fifo_is_an_input_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "hpconfig.yaml"
    os.mkfifo(fifo)
    result = CliRunner().invoke(cli, ["--config", str(fifo), "validate", str(tmp_path)])
    assert result.exit_code == 3
    assert "cannot read the file: a FIFO, not a regular file" in result.stdout


def test_a_walked_symlink_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    secret = tmp_path / "secret.yaml"
    secret.write_text(f"{CANARY}\n")
    (repo / "ok.yaml").write_text("controls:\n  - identifier: A\n")
    (repo / "inside.yaml").symlink_to(repo / "ok.yaml")
    (repo / "evil.yaml").symlink_to(secret)
    found = messages([repo])
    assert found == [
        f"{repo / 'evil.yaml'}: a symlink that leads outside the repository; it is not read"
    ]
    assert messages([repo / "evil.yaml"]) != found  # named on the command line, it is read


def test_a_config_found_in_a_directory_that_links_out_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(f"clientId: {CANARY}\n")
    (repo / "hpconfig.yaml").symlink_to(elsewhere)
    (repo / "m.yaml").write_text("controls:\n  - identifier: A\n")
    monkeypatch.chdir(repo)
    found = messages([Path(".")])
    assert found == [
        "hpconfig.yaml: a symlink that leads outside the repository; it is not read "
        "(name a config outside it with --config)"
    ]
    assert messages([Path(".")], config=Path("hpconfig.yaml")) == []  # named: trusted


def test_the_manifests_of_a_run_are_capped_in_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each file is capped when read; many large files must not add up without bound either.
    import hpconfig.manifest.project as project_module

    monkeypatch.setattr(project_module, "MAX_TOTAL_BYTES", 100)
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("controls:\n  - identifier: X-" + name[0] + "\n" + "#" * 50)
    project = project_module.load_project([tmp_path])
    messages = [str(problem) for problem in project.problems]
    assert len(messages) == 1 and "b.yaml" in messages[0], messages
    assert "not read: the manifests of this run pass 100 bytes in all" in messages[0]
    assert list(project.desired) == ["X-a"]
