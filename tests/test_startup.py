"""Start-up: a command imports only what it uses (issue 15). Each case runs the real entry
point in a fresh interpreter and looks at ``sys.modules`` as it exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from hpconfig.cli import COMMANDS, cli
from tests.conftest import ROOT

PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from hpconfig.cli import main
main()
"""

# What validate must never load: the HTTP client, the remote wing, the renderers of plans and
# of other formats, deepdiff, and (for a valid file of plain addresses and short durations) the
# slow paths: pure-Python jsonschema, email-validator, isodate.
NEVER_IN_VALIDATE = (
    "requests",
    "urllib3",
    "deepdiff",
    "hpconfig.remote",
    "hpconfig.sandbox",
    "hpconfig.plan",
    "hpconfig.diff",
    "hpconfig.render.text",
    "hpconfig.render.json",
    "hpconfig.render.markdown",
    "hpconfig.render.sarif",
    "hpconfig.render.github",
    "hpconfig.cli.plan",
    "hpconfig.cli.sandbox",
    # a project without check rules: the rules, their CEL and the plan's safety limits are
    # check's, apply's and plan's
    "hpconfig.assertions.rules",
    "hpconfig.assertions.cel",
    "hpconfig.safety",
    "celpy",
)


def _loaded(tmp_path: Path, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    out = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(json.loads(out.read_text())), completed


def _of(loaded: set[str], *packages: str) -> set[str]:
    return {m for m in loaded if any(m == p or m.startswith(p + ".") for p in packages)}


def _manifest(tmp_path: Path, owner: str = "alice@example.com", extra: str = "") -> Path:
    path = tmp_path / "controls.yaml"
    path.write_text(
        "defaults:\n  freshness: {policy: manual, duration: 30d}\ncontrols:\n"
        f"  - identifier: SOC2-CC6.1\n    name: Logical access\n    owner: {owner}\n{extra}",
        encoding="utf-8",
    )
    return path


def test_validate_of_a_valid_file_loads_only_the_offline_pipeline(tmp_path: Path) -> None:
    loaded, completed = _loaded(tmp_path, "validate", str(_manifest(tmp_path)))
    assert completed.returncode == 0, completed.stderr
    assert "1 control in 1 file: valid." in completed.stderr
    assert not _of(loaded, *NEVER_IN_VALIDATE)
    assert not _of(loaded, "jsonschema", "email_validator", "isodate")
    assert "hpconfig.manifest.project" in loaded and "yaml" in loaded  # it did the work


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_validate_of_an_invalid_file_loads_no_network_or_plan_renderer(
    tmp_path: Path, output_format: str
) -> None:
    path = _manifest(tmp_path, owner="bob@", extra="    freshness: {duration: P1M}\n")
    loaded, completed = _loaded(tmp_path, "validate", "--format", output_format, str(path))
    assert completed.returncode == 3, completed.stderr
    assert "not a valid email address" in completed.stdout + completed.stderr
    assert not _of(loaded, *NEVER_IN_VALIDATE)
    assert "email_validator" in loaded and "jsonschema" in loaded  # the wording path ran


def test_version_loads_neither_yaml_nor_the_pipeline(tmp_path: Path) -> None:
    loaded, completed = _loaded(tmp_path, "--version")
    assert completed.returncode == 0 and completed.stdout.startswith("hpconfig, version ")
    assert not _of(loaded, "yaml", "jsonschema_rs", "hpconfig.manifest", *NEVER_IN_VALIDATE)


def test_help_lists_every_command_with_its_short_help() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "hpconfig", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    listed = completed.stdout.split("Commands:", 1)[1]
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name
        line = next(line for line in listed.splitlines() if line.split()[:1] == [name])
        assert command.get_short_help_str(limit=150)[:40] in line, line
    assert sorted(cli.list_commands(context)) == sorted(COMMANDS)


def test_every_command_takes_the_global_options_after_its_name() -> None:
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None
        names = [option for param in command.params for option in param.opts]
        assert names.count("--debug") == 1 and names.count("--config") == 1, name
