"""Rule files: read like manifests, every problem located in one run, `validate` checks them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.manifest.project import load_project
from tests.conftest import EXAMPLES, TODAY
from tests.helpers import write_tree

CONFIG = """\
manifests: [controls/]
assertions:
  files: [checks/]
  rules:
    - id: inline
      title: Written in the config
      severity: notice
      assert: {required: [owner]}
"""
MANIFEST = """\
controls:
  - identifier: C-1
    name: One
    description: The first.
"""

ONE_RULE = (
    "rules:\n  - id: ID\n    title: T\n    severity: error\n    assert: {ownerActive: true}\n"
)
BROKEN = """\
rules:
  - id: good
    title: A good rule
    severity: error
    assert: {ownerActive: true}
  - id: bad-severity
    title: Severity unknown
    severity: critical
    assert: {ownerActive: true}
  - id: two-assertions
    title: Two at once
    severity: error
    assert: {ownerActive: true, evidenceFresh: true}
  - id: bad-cel
    title: Does not compile
    severity: error
    assert: {expression: "control.owner =="}
  - id: nested
    title: Too costly
    severity: error
    assert: {expression: "[1].all(x, [2].all(y, true))"}
  - id: bad-message
    title: Message reaches into objects
    severity: error
    assert: {ownerActive: true}
    message: "{owner.__class__.__init__}"
  - id: good
    title: The same id again
    severity: warning
    assert: {evidenceFresh: true}
  - id: bad-duration
    title: Months have no fixed length
    severity: error
    assert: {atMost: {freshness.duration: P3M}}
  - id: unknown-key
    title: A typo
    severity: error
    asert: {ownerActive: true}
waivers:
  - rule: no-such-rule
    controls: ["C-*"]
    reason: Waives nothing.
  - rule: good
    controls: ["C-*"]
    reason: Until the owner is back.
    expires: "{soon}"
  - rule: good
    controls: ["C-*"]
    reason: Lapsed.
    expires: "{past}"
"""


def _project(tmp_path: Path, rules: str) -> Path:
    write_tree(
        tmp_path,
        {
            "hpconfig.yaml": CONFIG,
            "controls/c.yaml": MANIFEST,
            "checks/rules.yaml": rules,
        },
    )
    return tmp_path


def test_a_valid_rule_file_and_inline_rules_are_read(tmp_path: Path) -> None:
    rules = ONE_RULE.replace("ID", "owners")
    project = load_project([_project(tmp_path, rules)], today=TODAY)
    assert not project.problems
    assert [rule.id for rule in project.config.assertions.rules] == ["inline", "owners"]
    assert project.config.assertions.files[0].endswith("checks/rules.yaml")


def test_every_problem_of_a_rule_file_is_located_in_one_run(
    tmp_path: Path, monkeypatch: object
) -> None:
    soon = (TODAY + timedelta(days=5)).isoformat()
    past = (TODAY - timedelta(days=1)).isoformat()
    root = _project(tmp_path, BROKEN.replace("{soon}", soon).replace("{past}", past))
    project = load_project([root], today=TODAY)
    found = {(p.location.line, p.path): p.message for p in project.problems}
    file = next(p.location.file for p in project.problems)
    assert file.endswith("checks/rules.yaml")
    assert "'critical' is not one of: error, warning, notice" in found[(8, "$.rules[1].severity")]
    assert found[(13, "$.rules[2].assert")].startswith("give exactly one of these")
    assert "does not compile" in found[(17, "$.rules[3].assert.expression")]
    assert "comprehensions may not nest" in found[(21, "$.rules[4].assert.expression")]
    assert "is not a field a message can show" in found[(26, "$.rules[5].message")]
    assert "already used at" in found[(27, "$.rules[6].id")]
    assert "months" in found[(34, "$.rules[7].assert.atMost['freshness.duration']")].lower()
    assert "unknown key 'asert'; did you mean 'assert'?" in found[(38, "$.rules[8].asert")]
    assert "no rule has the id 'no-such-rule'" in found[(40, "$.waivers[0].rule")]
    warned = {(p.location.line, p.path): p.message for p in project.warnings}
    assert "expires in 5 days" in warned[(46, "$.waivers[1].expires")]
    assert "expired on" in warned[(50, "$.waivers[2].expires")]


def test_validate_reports_rule_files_offline(tmp_path: Path, monkeypatch: object) -> None:
    root = _project(
        tmp_path,
        ONE_RULE.replace("ID", "x").replace("{ownerActive: true}", "{expression: 'control.'}"),
    )
    result = CliRunner().invoke(cli, ["validate", str(root)], catch_exceptions=False)
    assert result.exit_code == 3
    assert "checks/rules.yaml:5:" in result.stdout and "does not compile" in result.stdout


def test_rule_files_outside_the_repository_are_refused(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    write_tree(
        repository,
        {
            ".git/HEAD": "",
            "hpconfig.yaml": CONFIG.replace("[checks/]", "[../outside.yaml]"),
            "controls/c.yaml": MANIFEST,
        },
    )
    (tmp_path / "outside.yaml").write_text("rules: []\n")
    project = load_project([repository], today=TODAY)
    assert any("leads outside the repository" in p.message for p in project.problems)


def test_hpconfig_s_own_sarif_rule_ids_are_reserved(tmp_path: Path) -> None:
    rules = ONE_RULE.replace("ID", "HPC001")
    project = load_project([_project(tmp_path, rules)], today=TODAY)
    assert [p.path for p in project.problems] == ["$.rules[0].id"]
    assert "hpconfig's own" in project.problems[0].message


def test_the_config_schema_embeds_the_rule_schema_unchanged() -> None:
    from hpconfig.manifest.schema import load_schema

    rules = load_schema("assertions")
    config = load_schema("config")
    assert config["$defs"] == rules["$defs"]
    section = config["properties"]["assertions"]["properties"]
    assert section["rules"] == rules["properties"]["rules"]
    assert section["waivers"] == rules["properties"]["waivers"]
    check = load_schema("check")
    embedded = load_schema("plan")["properties"]["check"]
    assert embedded["properties"] == check["properties"]
    assert embedded["required"] == check["required"]


def test_schema_command_prints_the_rule_and_report_schemas() -> None:
    for name in ("assertions", "check"):
        result = CliRunner().invoke(cli, ["schema", name], catch_exceptions=False)
        assert (
            result.exit_code == 0
            and f'"$id": "https://hpconfig.dev/schemas/{name}' in result.stdout
        )


def test_a_project_has_at_most_100_rules(tmp_path: Path) -> None:
    many = "rules:\n" + "".join(
        f"  - {{id: r{n}, title: T, severity: error, assert: {{ownerActive: true}}}}\n"
        for n in range(101)
    )
    project = load_project([_project(tmp_path, many)], today=TODAY)
    assert [p.message for p in project.problems] == ["more than 100 rules"]


def test_validate_names_the_rules_it_checked() -> None:
    result = CliRunner().invoke(cli, ["validate", str(EXAMPLES)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "hpconfig: 6 check rules and 1 waiver (CEL compiled)" in result.stderr


def test_rule_files_are_bounded_in_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hpconfig.manifest.assertions_file as reader

    monkeypatch.setattr(reader, "MAX_RULE_FILES_BYTES", 200)
    _project(tmp_path, ONE_RULE.replace("ID", "a"))
    (tmp_path / "checks" / "z.yaml").write_text(ONE_RULE.replace("ID", "z") + "#" * 200 + "\n")
    project = load_project([tmp_path], today=TODAY)
    assert [p.message for p in project.problems] == [
        "not read: the rule files pass 200 bytes in all"
    ]
    assert [rule.id for rule in project.config.assertions.rules] == ["inline", "a"]
