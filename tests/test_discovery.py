"""Which files a directory walk takes as manifests, and what `validate` says about the rest:
hidden files, the project config and YAML that is evidently something else are skipped, counted
and named; the config used is named, and a config in a given directory that is not used gets a
note."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.manifest.loader import discover, not_a_manifest
from tests import helpers


def _repository(root: Path) -> Path:
    """A repository as teams have them: manifests beside CI, tool configs and other YAML."""
    files = {
        "controls/access.yaml": "controls:\n  - {identifier: A-1, owner: a@example.com}\n",
        "controls/flow.yml": '{"controls": [{"identifier": "A-2"}]}\n',
        "controls/defaults-only.yaml": "defaults: {owner: a@example.com}\ncontrols: []\n",
        ".pre-commit-config.yaml": "repos: []\n",
        ".github/workflows/ci.yml": "on: push\njobs: {}\n",
        "deploy/k8s.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        "mkdocs.yml": "site_name: docs\nnav:\n  - controls: controls.md\n",
        "docs/.hidden.yaml": "controls: []\n",
        "README.md": "# not YAML\n",
    }
    helpers.write_tree(root, files)
    return root


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("controls: []\n", None),
        ("\ufeffdefaults: {}\n", None),
        ("version: 1\ncontrols:\n", None),
        ("{ 'controls': [] }\n", None),
        ("# yaml-language-server: $schema=https://x/manifest.schema.json\n", None),
        ("on: push\n", "no `controls` or `defaults` at the top level"),
        ("spec:\n  controls: []\n", "no `controls` or `defaults` at the top level"),
        ("", "no `controls` or `defaults` at the top level"),
    ],
)
def test_not_a_manifest_by_content(tmp_path: Path, text: str, reason: str | None) -> None:
    (tmp_path / "x.yaml").write_text(text, encoding="utf-8")
    assert not_a_manifest(tmp_path / "x.yaml") == reason


def test_the_walk_keeps_manifests_and_says_why_it_skips_the_rest(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    skipped: list[tuple[Path, str]] = []
    files, problems = discover([root], skipped)
    assert problems == []
    assert [f.relative_to(root).as_posix() for f in files] == [
        "controls/access.yaml",
        "controls/defaults-only.yaml",
        "controls/flow.yml",
    ]
    assert sorted((p.relative_to(root).as_posix(), why) for p, why in skipped) == [
        (".pre-commit-config.yaml", "hidden"),
        ("deploy/k8s.yaml", "no `controls` or `defaults` at the top level"),
        ("docs/.hidden.yaml", "hidden"),
        ("mkdocs.yml", "no `controls` or `defaults` at the top level"),
    ]


def test_a_file_named_on_its_own_is_always_checked(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    files, _ = discover([root / "deploy" / "k8s.yaml"])
    assert files == [root / "deploy" / "k8s.yaml"]


def test_validate_counts_and_names_what_it_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_repository(tmp_path))
    result = CliRunner().invoke(cli, ["validate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (
        "hpconfig: skipped 4 YAML files that are not manifests: .pre-commit-config.yaml (hidden), "
        "deploy/k8s.yaml (no `controls` or `defaults` at the top level), docs/.hidden.yaml "
        "(hidden), mkdocs.yml (no `controls` or `defaults` at the top level); name a file to "
        "check it anyway" in result.stderr
    )
    assert "2 controls in 3 files: valid." in result.stderr


def test_validate_names_the_config_it_used_and_notes_one_it_did_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path)
    (root / "controls" / "hpconfig.yaml").write_text("region: eu\n")
    (root / "hpconfig.yaml").write_text("manifests: [controls/access.yaml]\n")
    monkeypatch.chdir(root)
    used = CliRunner().invoke(cli, ["validate"], catch_exceptions=False)
    assert used.exit_code == 0, used.output
    assert "hpconfig: config hpconfig.yaml\n" in used.stderr
    assert "1 control in 1 file: valid." in used.stderr
    two = CliRunner().invoke(cli, ["validate", "controls", "deploy"], catch_exceptions=False)
    assert "hpconfig: config hpconfig.yaml\n" in two.stderr  # the working directory's
    assert (
        "hpconfig: note: controls/hpconfig.yaml is not used (a config is read from --config, "
        "from the only directory given, or from the working directory)" in two.stderr
    )
    alone = CliRunner().invoke(cli, ["validate", "controls"], catch_exceptions=False)
    assert "hpconfig: config controls/hpconfig.yaml\n" in alone.stderr
    assert "is not used" not in alone.stderr
