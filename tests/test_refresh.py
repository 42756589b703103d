"""`hpconfig refresh` through the real command against the sandbox, on hand-written manifests.

Each case (``tests/refresh_cases.py``) is refreshed with ``--dry-run`` and its diff compared with
the golden file, then for real: the files change exactly as the diff says, ``plan`` then shows
no change for the refreshed fields, and a second refresh changes nothing. After an intended
change of output, ``HPCONFIG_UPDATE_GOLDEN=1`` rewrites the golden files; review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import ROOT
from tests.refresh_cases import CASE_NAMES, case_seed, copy_case

GOLDEN = ROOT / "tests" / "golden" / "refresh"
UPDATE = os.environ.get("HPCONFIG_UPDATE_GOLDEN") == "1"
CANARY = "CANARY-refresh-41c7-never-print-me"


def run(sandbox: Sandbox, *args: str) -> Result:
    environment = helpers.env_for(sandbox, CANARY)
    return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)


def _sandbox(name: str) -> Sandbox:
    seed = case_seed(name)
    seed["clients"][0]["clientSecret"] = CANARY
    return Sandbox(seed)


def _summary(stderr: str) -> str:
    """The summary, without the lines that name the sandbox's port or the config."""
    return "".join(
        line for line in stderr.splitlines(keepends=True) if not line.startswith("hpconfig: ")
    )


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_bytes().decode("utf-8"), f"tests/golden/refresh/{name}"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_refresh_changes_only_the_drifted_values(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = copy_case(name, tmp_path)
    monkeypatch.chdir(directory)
    before = _snapshot(directory)
    with _sandbox(name) as sandbox:
        dry = run(sandbox, "refresh", "--dry-run", "--detailed-exitcode", ".")
        assert dry.exit_code == 2, dry.stderr
        assert _snapshot(directory) == before  # a dry run writes nothing
        _golden(f"{name}.diff", dry.stdout)
        _golden(f"{name}.txt", _summary(dry.stderr))

        done = run(sandbox, "refresh", ".")
        assert done.exit_code == 0, done.stderr
        assert done.stdout == dry.stdout  # what was written is what the dry run showed
        after = _snapshot(directory)
        assert after != before

        planned = run(sandbox, "plan", "--format", "json", ".")
        assert planned.exit_code == 0, planned.stderr
        left = _left_alone(done.stderr)
        for change in json.loads(planned.stdout)["changes"]:
            for field in change["fields"]:
                # whatever still differs is what refresh said it left alone
                pair = (change["identifier"], field["field"])
                assert pair in left or (pair[0], "*") in left, (change, left)

        again = run(sandbox, "refresh", "--detailed-exitcode", ".")
        assert again.exit_code == 0, again.stderr
        assert again.stdout == ""
        assert _snapshot(directory) == after  # the second refresh changes nothing
    for result in (dry, done, planned, again):
        assert CANARY not in result.stdout + result.stderr


def _left_alone(stderr: str) -> set[tuple[str, str]]:
    """(identifier, field) of every field refresh said it left alone; a whole control as '*'."""
    left = set()
    for line in stderr.splitlines():
        if line.startswith("  - "):
            what = line[4:].split(":", 1)[0].split(" ")
            left.add((what[0], what[1] if len(what) > 1 else "*"))
    return left


def test_crlf_and_bom_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = copy_case("crlf-bom", tmp_path)
    monkeypatch.chdir(directory)
    with _sandbox("crlf-bom") as sandbox:
        assert run(sandbox, "refresh", ".").exit_code == 0
    raw = (directory / "controls.yaml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\n") == raw.count(b"\r\n") > 8  # every break, old and new, is CRLF
    assert b"    description: |\r\n      Two lines\r\n      in Hyperproof.\r\n" in raw


def test_controls_and_fields_limit_what_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = copy_case("styles", tmp_path)
    monkeypatch.chdir(directory)
    with _sandbox("styles") as sandbox:
        result = run(sandbox, "refresh", "--dry-run", "--controls", "STY-1", "--fields", "owner")
        assert result.exit_code == 0, result.stderr
        changed = [line for line in result.stdout.splitlines() if line[:1] in "+-"]
        assert changed == [
            "--- a/controls.yaml",
            "+++ b/controls.yaml",
            '-    owner: "alice@example.com"   # owner kept quoted',
            "+    owner: bob@example.com       # owner kept quoted",
        ]
        assert "STY-1 description: not among --fields" in result.stderr
        bad = run(sandbox, "refresh", "--fields", "updatedOn")
        assert bad.exit_code == 64 and "not a field a manifest sets" in bad.stderr


def test_a_symlinked_manifest_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = copy_case("inherited", tmp_path)
    real = directory / "real.yaml"
    (directory / "controls.yaml").rename(real)
    (directory / "controls.yaml").symlink_to(real.name)
    monkeypatch.chdir(directory)
    before = real.read_bytes()
    with _sandbox("inherited") as sandbox:
        result = run(sandbox, "refresh", "controls.yaml")
    assert result.exit_code == 3, result.stderr
    assert "a symlink; hpconfig never replaces one" in result.stderr
    assert real.read_bytes() == before and (directory / "controls.yaml").is_symlink()


def test_the_pull_request_body_names_who_changed_what(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = copy_case("inherited", tmp_path)
    monkeypatch.chdir(directory)
    with _sandbox("inherited") as sandbox:
        result = run(sandbox, "refresh", "--dry-run", "--markdown", str(tmp_path / "body.md"))
    assert result.exit_code == 0, result.stderr
    body = (tmp_path / "body.md").read_text()
    assert body.startswith("<!-- hpconfig-refresh -->\n## Accept changes made in Hyperproof")
    assert "| `INH-1` | `owner, freshness.duration` | `dave@example.com` |" in body
    assert "`2026-11-21T09:12:44Z`" in body
    assert "```diff\n--- a/controls.yaml" in body


def test_nothing_to_refresh_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = copy_case("inherited", tmp_path)
    monkeypatch.chdir(directory)
    seed: dict[str, Any] = case_seed("inherited")
    for control in seed["controls"]:
        control["updatedOn"] = "2026-01-01T00:00:00Z"
    with _sandbox("inherited") as sandbox:
        run(sandbox, "refresh", ".")
        result = run(sandbox, "refresh", "--dry-run", "--detailed-exitcode", ".")
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing to change" in result.stderr


def test_hostile_text_from_hyperproof_stays_data_in_the_file_and_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests import actions_runner
    from tests.test_hostile_text import HOSTILE, HOSTILE_LINES, assert_inert_terminal

    directory = copy_case("left-alone", tmp_path)
    monkeypatch.chdir(directory)
    seed = case_seed("left-alone")
    seed["clients"][0]["clientSecret"] = CANARY
    control = next(c for c in seed["controls"] if c["controlIdentifier"] == "LEFT-2")
    control.update(name=HOSTILE, description=HOSTILE_LINES)
    control["updatedBy"] = {**control["updatedBy"], "email": "", "givenName": HOSTILE}
    (directory / "controls.yaml").write_text(
        (directory / "controls.yaml")
        .read_text()
        .replace("    notes: kept in git\n", "    notes: kept in git\n    description: calm\n")
    )
    with Sandbox(seed) as sandbox:
        done = run(sandbox, "refresh", "--markdown", str(tmp_path / "body.md"), ".")
        assert done.exit_code == 0, done.stderr
        planned = run(sandbox, "plan", "--format", "json", ".")
    changes = json.loads(planned.stdout)["changes"]
    left2 = [c for c in changes if c["identifier"] == "LEFT-2"]
    assert left2 == []  # name and description now plan equal: the values arrived whole
    for text in (done.stdout, done.stderr):
        assert actions_runner.run(text) == []
        assert actions_runner.loose_commands(text) == []
        assert_inert_terminal(text)
        assert CANARY not in text
    body = (tmp_path / "body.md").read_text()
    assert CANARY not in body and "\x1b" not in body
    from tests.gfm import ALLOWED, rendered

    elements = rendered(body)
    assert set(elements.tags) <= ALLOWED | {"h2", "h3"}, set(elements.tags) - ALLOWED
    assert elements.links == []  # no address in the data became a link
    assert "@org/team" not in "".join(elements.prose)  # no mention outside code


def test_a_body_cut_to_github_s_limit_never_cuts_a_value_s_code_span_open() -> None:
    # A body over the limit was cut at a byte count, inside a row: a code span cut open made
    # its text (a Hyperproof user's name) live Markdown, a mention that notifies or a link.
    # Whatever the lengths, the cut falls between whole lines.
    from hpconfig.refresh import ControlUpdate, FieldUpdate
    from hpconfig.render.refresh import Refreshed, markdown_body
    from tests.gfm import rendered

    evil = "@org/team [x](https://evil.example) <img src=x>"
    for pad in range(40):
        items = [
            Refreshed(
                ControlUpdate(
                    f"C-{n}",
                    "controls/a.yaml",
                    n + 1,
                    (FieldUpdate(f"C-{n}", "name", "x", "a", "b"),),
                    "u" * pad + evil,
                    "2026-01-01T00:00:00Z",
                ),
                ("name",),
            )
            for n in range(700)
        ]
        body = markdown_body(items, [], "the diff")
        assert "This summary was cut" in body and len(body.encode()) <= 65_000
        elements = rendered(body)
        assert elements.links == [] and "img" not in elements.tags, pad
        assert "@org/team" not in "".join(elements.prose), pad
