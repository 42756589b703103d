"""`hpconfig import` through the real command against the sandbox: import, then plan is clean."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.manifest import importing
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import EXAMPLES

CANARY = "CANARY-import-4b1d-never-print-me"


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    example_seed["clients"][0]["clientSecret"] = CANARY
    return example_seed


def run(sandbox: Sandbox, *args: str) -> Result:
    env = helpers.env_for(sandbox, CANARY)
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def texts(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_plans_clean(sandbox: Sandbox, *args: str) -> Result:
    result = run(sandbox, "plan", *args, "--detailed-exitcode")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("No changes."), result.stdout
    assert "unmanaged" not in result.stdout.split("\n")[0], result.stdout
    return result


def test_import_writes_a_project_that_plans_clean(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    result = run(hpconfig_sandbox, "import", "--to", str(project))
    assert result.exit_code == 0, result.stderr
    assert "Imported 39 controls into 11 manifests" in result.stdout
    files = texts(project)
    assert set(files) == {
        "hpconfig.yaml",
        "schemas/config.schema.json",
        "schemas/manifest.schema.json",
        *(f"controls/{name}.yaml" for name in _domain_files()),
    }
    for name, text in files.items():
        assert CANARY not in text
        if name.endswith(".yaml"):
            assert text.startswith("# yaml-language-server: $schema=")
    config = files["hpconfig.yaml"]
    assert "manifests:\n  - controls/\nregion: us\n" in config
    assert f"apiUrl: {hpconfig_sandbox.api_url}\n" in config  # not the region's: written
    access = files["controls/logical-and-physical-access.yaml"]
    assert "defaults:\n  notes: ''\n  domain: Logical and Physical Access\n" in access
    assert "freshness: {policy: manual, duration: 90d}" in access
    assert "  - identifier: SOC2-CC6.3\n" in access and "    freshness: {duration: 15d}\n" in access
    # Sorted as a person reads numbers; computed fields never written.
    assert access.index("SOC2-CC6.2\n") < access.index("SOC2-CC6.10\n")
    assert "health" not in access and "updatedOn" not in access and "freshness: fresh" not in access
    assert "SOC2-CC2.3" not in "".join(files.values())  # archived: only when asked
    assert CANARY not in result.stdout + result.stderr
    planned = assert_plans_clean(hpconfig_sandbox, str(project))
    assert planned.stdout.startswith("No changes. 39 in sync.")
    debug = run(hpconfig_sandbox, "--debug", "import", "--to", str(tmp_path / "again"))
    assert debug.exit_code == 0 and "DEBUG" in debug.stderr
    assert CANARY not in debug.stdout + debug.stderr + "".join(texts(tmp_path / "again").values())


def _domain_files() -> list[str]:
    return [
        "availability",
        "change-management",
        "communication-and-information",
        "confidentiality",
        "control-activities",
        "control-environment",
        "logical-and-physical-access",
        "monitoring-activities",
        "risk-assessment",
        "risk-mitigation",
        "system-operations",
    ]


def test_an_existing_file_is_never_overwritten_without_force(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "controls").mkdir(parents=True)
    mine = project / "controls" / "availability.yaml"
    mine.write_text("# mine\n")
    result = run(hpconfig_sandbox, "import", "--to", str(project))
    assert result.exit_code == 3
    assert f"{mine}: already exists; nothing was written; give --force" in result.stderr
    assert texts(project) == {"controls/availability.yaml": "# mine\n"}
    forced = run(hpconfig_sandbox, "import", "--to", str(project), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert mine.read_text().startswith("# yaml-language-server")
    assert_plans_clean(hpconfig_sandbox, str(project))


@pytest.mark.parametrize("linked", ["controls", "schemas"])
def test_a_folder_inside_the_target_that_is_a_symlink_is_never_written_through(
    hpconfig_sandbox: Sandbox, tmp_path: Path, linked: str
) -> None:
    # A checkout can hold a committed link (controls -> somewhere outside the repository):
    # import must not create, or with --force replace, files at the other end.
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "manifest.schema.json").write_text("theirs")
    (project / linked).symlink_to(outside, target_is_directory=True)
    for extra in ((), ("--force",)):
        result = run(hpconfig_sandbox, "import", "--to", str(project), *extra)
        assert result.exit_code == 3, result.stdout + result.stderr
        assert f"{project / linked}: a symlink" in result.stderr
        assert texts(outside) == {"manifest.schema.json": "theirs"}
        assert sorted(p.name for p in project.iterdir()) == [linked]


def test_a_target_that_is_a_file_is_refused(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = run(hpconfig_sandbox, "import", "--to", str(target))
    assert result.exit_code == 3, result.stderr  # bad input, as the README's exit codes say
    assert f"--to {target}: exists and is not a folder" in result.stderr
    assert target.read_text() == "x"
    assert hpconfig_sandbox.requests() == []  # refused before signing in


def test_selection_by_identifier_and_domain(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    project = tmp_path / "p"
    result = run(
        hpconfig_sandbox,
        "import",
        "--to",
        str(project),
        "--controls",
        "SOC2-CC6.*,SOC2-A1.1",
        "--domain",
        "Logical and Physical Access",
    )
    assert result.exit_code == 0, result.stderr
    assert "Imported 10 controls into 1 manifest" in result.stdout
    assert set(texts(project / "controls")) == {"logical-and-physical-access.yaml"}
    clean = run(hpconfig_sandbox, "plan", str(project), "--detailed-exitcode")
    assert clean.exit_code == 0 and "10 in sync" in clean.stdout
    for args in (["--controls", "NOPE-*"], ["--domain", "Nowhere"]):
        refused = run(hpconfig_sandbox, "import", "--to", str(tmp_path / "q"), *args)
        assert refused.exit_code == 3
        assert "no control in Hyperproof matches" in refused.stderr
        assert not (tmp_path / "q").exists()


def test_archived_controls_only_when_asked(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    project = tmp_path / "p"
    result = run(hpconfig_sandbox, "import", "--to", str(project), "--include-archived")
    assert result.exit_code == 0, result.stderr
    assert "Imported 40 controls" in result.stdout
    written = "".join(texts(project / "controls").values())
    assert "  - identifier: SOC2-CC2.3\n" in written and "status: archived" in written
    assert_plans_clean(hpconfig_sandbox, str(project))


def test_unmanaged_adds_new_files_and_leaves_the_others_alone(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copytree(EXAMPLES.parent / "schemas", tmp_path / "schemas")
    monkeypatch.chdir(tmp_path)
    before = texts(tmp_path / "examples")
    assert "1 unmanaged" in run(hpconfig_sandbox, "plan", "examples").stdout
    outside = run(hpconfig_sandbox, "import", "--unmanaged", "--to", "elsewhere", "examples")
    assert outside.exit_code == 3
    assert "is not among the manifests plan reads" in outside.stderr
    result = run(hpconfig_sandbox, "import", "--unmanaged", "--to", "examples/controls", "examples")
    assert result.exit_code == 0, result.stderr
    after = texts(tmp_path / "examples")
    new = set(after) - set(before)
    assert new == {"controls/risk-mitigation.yaml"}
    assert all(after[name] == text for name, text in before.items())  # byte for byte
    added = after["controls/risk-mitigation.yaml"]
    assert added.startswith("# yaml-language-server: $schema=../../schemas/manifest.schema.json\n")
    assert "  - identifier: SOC2-CC9.9\n" in added
    planned = run(hpconfig_sandbox, "plan", "examples")
    summary = planned.stdout.rstrip().split("\n")[-1]
    assert summary == "Plan: 1 to create, 3 to update. 37 in sync."  # the drift that was there
    again = run(hpconfig_sandbox, "import", "--unmanaged", "--to", "examples/controls", "examples")
    assert again.exit_code == 0
    assert again.stdout.startswith("Nothing to import: every control is declared in a manifest")
    assert texts(tmp_path / "examples") == after


def test_unmanaged_never_takes_an_existing_name(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # no schemas/ beside examples/: the modelines lead nowhere
    taken = tmp_path / "examples" / "controls" / "Risk-Mitigation.yml"
    taken.write_text("# yaml-language-server: $schema=x\ncontrols: []\n")
    result = run(hpconfig_sandbox, "import", "--unmanaged", "--to", "examples/controls", "examples")
    assert result.exit_code == 0, result.stderr
    [added] = [p for p in (tmp_path / "examples" / "controls").glob("risk-mitigation-*.yaml")]
    assert taken.read_text() == "# yaml-language-server: $schema=x\ncontrols: []\n"
    modeline = "# yaml-language-server: $schema=https://hpconfig.dev/schemas/manifest.schema.json"
    assert added.read_text().startswith(modeline + "\n")


def _awkward_seed(seed: dict[str, Any]) -> dict[str, Any]:
    seed = copy.deepcopy(seed)
    template = seed["controls"][0]
    robot = next(u for u in seed["users"] if u["type"] == "serviceAccount")

    def control(number: int, **fields: Any) -> dict[str, Any]:
        made = copy.deepcopy(template)
        made.update({"id": f"awkward-{number}", "controlIdentifier": f"AWK-{number}", **fields})
        return made

    seed["controls"] = [
        control(1, owner=robot),  # an owner without an email
        control(2, implementation="halfway"),  # outside the manifest language
        control(3, controlIdentifier="BELL\x07"),  # the schema refuses control characters
        control(4, controlIdentifier="TWICE"),
        control(5, controlIdentifier="TWICE"),
        control(6, freshForDuration="P1M"),  # months: no fixed length
        control(7, owner=None, workStatus=None, notes=None, domainName=None),  # fine: unset
        control(8, freshnessPolicy="none", freshForDuration="P30D"),  # fine: never expires
        control(9, controlIdentifier="1.10", name="yes", domainName="CON"),
    ]
    return seed


def test_controls_that_cannot_be_stated_are_skipped_with_a_reason(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    example_seed["clients"][0]["clientSecret"] = CANARY
    with Sandbox(_awkward_seed(example_seed)) as sandbox:
        result = run(sandbox, "import", "--to", str(tmp_path / "p"))
        assert result.exit_code == 0, result.stderr
        err = result.stderr
        assert "skipped 'AWK-1': its owner 'hpconfig-ci Service account' has no email" in err
        assert "skipped 'AWK-2': its implementation is 'halfway'" in err
        assert "skipped 'BELL\\x07': identifier: 'BELL\\x07'" in err
        assert "skipped 'TWICE': 2 controls in Hyperproof have this identifier" in err
        assert "skipped 'AWK-6'" in err
        assert "Imported 3 controls" in result.stdout and "skipped 5" in result.stdout
        written = "".join(texts(tmp_path / "p" / "controls").values())
        assert "identifier: '1.10'\n" in written and "name: 'yes'\n" in written
        assert (tmp_path / "p" / "controls" / "con-controls.yaml").is_file()
        assert "freshness: {policy: none}" in written
        planned = run(sandbox, "plan", str(tmp_path / "p"), "--detailed-exitcode")
        assert planned.exit_code == 0, planned.stdout
        assert "3 in sync" in planned.stdout


def test_a_generated_manifest_that_would_not_plan_clean_is_never_written(
    hpconfig_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importing.manifest_text

    def broken(controls: Any, modeline: str = "") -> str:
        return real(controls, modeline).replace("duration: 90d", "duration: 91d")

    monkeypatch.setattr(importing, "manifest_text", broken)
    result = run(hpconfig_sandbox, "import", "--to", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert "import wrote nothing: the generated manifests do not plan clean" in result.stderr
    assert "freshness.duration" in result.stderr and "This is a bug of hpconfig" in result.stderr
    assert not (tmp_path / "p").exists()


def test_paths_without_unmanaged_are_a_mistake(hpconfig_sandbox: Sandbox, tmp_path: Path) -> None:
    result = run(hpconfig_sandbox, "import", "--to", str(tmp_path / "p"), str(EXAMPLES))
    assert result.exit_code == 3
    assert "for --unmanaged only" in result.stderr


def test_hostile_text_is_written_inert_and_round_trips(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    from tests.test_hostile_text import HOSTILE, _hostile_seed

    seed = _hostile_seed(example_seed)
    seed["controls"][1]["controlIdentifier"] = "HOSTILE-2"  # the seed's other is an identifier
    seed["controls"][1].update(domainName="../../" + HOSTILE, description=HOSTILE)
    secret = seed["clients"][0]["clientSecret"]
    with Sandbox(seed) as sandbox:
        env = helpers.env_for(sandbox, secret)
        runner = CliRunner()
        result = runner.invoke(cli, ["import", "--to", str(tmp_path / "p")], env=env)
        assert result.exit_code == 0, result.stderr
        for stream in (result.stdout, result.stderr):
            assert "\x1b" not in stream and "\n::" not in stream and secret not in stream
        files = texts(tmp_path / "p")
        assert all(
            name.startswith(("controls/", "schemas/")) or name == "hpconfig.yaml" for name in files
        )
        for name, text in files.items():
            for raw in ("\x1b", "\r", "\x07", "\x9b", "\u202e"):
                assert raw not in text, (name, raw)
            assert secret not in text
        planned = runner.invoke(cli, ["plan", str(tmp_path / "p"), "--detailed-exitcode"], env=env)
        assert planned.exit_code == 0, planned.stdout
        assert planned.stdout.startswith("No changes. 2 in sync.")


def test_nothing_to_import_writes_nothing(example_seed: dict[str, Any], tmp_path: Path) -> None:
    example_seed["controls"] = [c for c in example_seed["controls"] if c["status"] == "archived"]
    with Sandbox(example_seed) as sandbox:
        result = CliRunner().invoke(
            cli, ["import", "--to", str(tmp_path / "p")], env=helpers.env_for(sandbox)
        )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Nothing to import: no control to write")
    assert not (tmp_path / "p").exists()
