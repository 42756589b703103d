"""Inputs at the edge: numbers out of range, alias expansion, identifiers both validators read
alike, the secret in a manifest, and standard output that cannot take what is written. (Files
that are not manifests: test_manifest_files.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig.cli import cli
from hpconfig.manifest import schema
from hpconfig.manifest.config_file import load_config
from hpconfig.manifest.loader import load_text
from hpconfig.manifest.project import load_project
from tests.conftest import ROOT, TODAY

CANARY = "CANARY-secret-file-9b2e4f1a-never-print-me"


def validate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["validate", *args], env=env or {}, catch_exceptions=False)


def messages(paths: list[Path], config: Path | None = None) -> list[str]:
    return [str(problem) for problem in load_project(paths, config, today=TODAY).problems]


# Numbers, durations and aliases


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: " + "9" * 5000 + "\ncontrols: []\n", "$.version: a number of 5000 digits"),
        ("version: .inf\ncontrols: []\n", "$.version: '.inf' is not a finite number"),
        ("version: .nan\ncontrols: []\n", "$.version: '.nan' is not a finite number"),
        ("version: 1.0e+999\ncontrols: []\n", "$.version: '1.0e+999' is not a finite number"),
        (
            "controls:\n  - identifier: A\n    freshness: {duration: P" + "9" * 30 + "D}\n",
            "is longer than 100 years",
        ),
        (
            "controls:\n  - identifier: A\n    freshness: {duration: " + "9" * 5000 + "d}\n",
            "is longer than 40 characters",
        ),
    ],
)
def test_numbers_out_of_range_are_located_errors(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text)
    found = messages([manifest])
    assert len(found) == 1 and message in found[0], found
    assert found[0].startswith(f"{manifest}:")
    assert len(found[0]) < 400  # an excerpt, never the whole value


def test_config_numbers_are_range_checked(tmp_path: Path) -> None:
    config = tmp_path / "hpconfig.yaml"
    config.write_text(
        "timeouts: {connect: .inf, read: 1000000000}\nsafety: {maxChangePercent: .nan}\n"
    )
    _, problems = load_config(config, TODAY, "hpconfig.yaml")
    assert [str(problem) for problem in sorted(problems)] == [
        "hpconfig.yaml:1:21: $.timeouts.connect: '.inf' is not a finite number",
        "hpconfig.yaml:1:33: $.timeouts.read: must be <= 3600, found 1000000000",
        "hpconfig.yaml:2:28: $.safety.maxChangePercent: '.nan' is not a finite number",
    ]


def test_an_alias_to_a_large_scalar_counts_by_its_size() -> None:
    big = "x" * 20_000
    text = f"big: &big {big}\ncontrols:\n" + "".join(
        f"  - {{identifier: C{i}, description: *big}}\n" for i in range(50)
    )
    document, problems = load_text("alias.yaml", text.encode())
    assert document is None
    assert len(problems) == 1
    assert "aliases expand to more than" in problems[0].message
    assert "more than the file itself holds" in problems[0].message
    small = "d: &d short\ncontrols:\n" + "".join(
        f"  - {{identifier: C{i}, description: *d}}\n" for i in range(50)
    )
    assert load_text("ok.yaml", small.encode())[1] == []


# Identifiers: both validators read the patterns alike


@pytest.mark.parametrize("identifier", ["X\n", " X", "X ", "X\u00a0", "\x1b[2J", "A\u202eB"])
def test_identifiers_with_edge_whitespace_or_controls_are_refused(
    tmp_path: Path, identifier: str
) -> None:
    manifest = tmp_path / "m.yaml"
    escaped = identifier.encode("unicode_escape").decode()
    manifest.write_text(f'controls:\n  - identifier: "{escaped}"\n')
    found = messages([manifest])
    assert len(found) == 1, found
    assert "$.controls[0].identifier" in found[0]
    assert "whitespace" in found[0] or "control or bidirectional" in found[0]


def _both_validators(document: object) -> tuple[bool, bool]:
    gate = schema._gate("manifest")
    assert gate is not None
    reference = not any(True for _ in schema.validator("manifest").iter_errors(document))
    return gate(document), reference


text_near_edges = st.text(
    alphabet=st.sampled_from(list("aZ9-. \t\n\r\x0b\x0c\x1b\x85\xa0\u2028\u202e\u3000\ufeff")),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=8), text_near_edges))
def test_both_validators_agree_on_every_identifier_and_duration(text: str) -> None:
    for document in (
        {"controls": [{"identifier": text}]},
        {"controls": [{"identifier": "A", "freshness": {"duration": text}}]},
        {"controls": [{"identifier": "A", "freshness": {"duration": "30d" + text}}]},
    ):
        fast, reference = _both_validators(document)
        assert fast == reference, (document, fast, reference)


# The secret in a manifest, and standard output


def test_a_manifest_that_is_the_secret_file_never_shows_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text(CANARY + "\n")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"controls:\n  - identifier: A\n    owner: {CANARY}\n")
    env = {"HYPERPROOF_CLIENT_SECRET_FILE": str(secret), "HYPERPROOF_CLIENT_SECRET": ""}
    for args in ([str(secret)], [str(manifest)], [str(manifest), "--format", "json"]):
        result = validate(*args, env=env)
        assert result.exit_code == 3
        assert CANARY not in result.stdout + result.stderr
        assert CANARY[:12] not in result.stdout + result.stderr  # nor cut by an excerpt
        assert "********" in result.stdout + result.stderr
    result = validate(str(manifest), env={"HYPERPROOF_CLIENT_SECRET": CANARY})
    assert CANARY not in result.stdout + result.stderr


def _hpconfig(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "hpconfig", *args],
        env={**os.environ, "NO_COLOR": "1", **env},
        stderr=subprocess.PIPE,
        encoding=env.get("PYTHONIOENCODING") or "utf-8",
        errors="replace",
        cwd=ROOT,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_stream_that_cannot_encode_gets_escapes_not_a_crash(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("controls:\n  - identifier: A\n    owner: zoë→@\n", encoding="utf-8")
    # latin-1 and cp1252 (Windows consoles) are what click does not rewrap; ascii it does
    for env, output_format in (
        ({"PYTHONIOENCODING": "latin-1"}, "text"),
        ({"PYTHONIOENCODING": "cp1252"}, "json"),
        ({"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""}, "text"),
    ):
        done = _hpconfig("validate", str(manifest), "--format", output_format, env=env)
        assert done.returncode == 3, done.stderr
        assert "Traceback" not in done.stderr
        if output_format == "json":  # an escape that parses to the same value
            assert "zoë→@" in json.loads(done.stdout)["diagnostics"][0]["message"]
        elif env["PYTHONIOENCODING"]:
            assert "\\u2192" in done.stdout


def test_a_full_disk_or_a_closed_pipe_is_a_clear_error_not_a_bug() -> None:
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            done = _hpconfig("schema", "manifest", env={}, stdout=full)
        assert done.returncode == 74, done.stderr
        assert "cannot write to standard output: No space left on device" in done.stderr
        assert "Traceback" not in done.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "hpconfig", "schema", "manifest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader leaves before anything is written
    error = process.stderr.read().decode()
    assert process.wait() == 74, error
    assert "cannot write to standard output" in error
    assert "Traceback" not in error and "Exception ignored" not in error


def test_a_secret_file_that_is_a_fifo_never_blocks_validate(tmp_path: Path) -> None:
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    manifest = tmp_path / "m.yaml"
    manifest.write_text("controls:\n  - identifier: A\n    owner: bob@\n")
    result = validate(str(manifest), env={"HYPERPROOF_CLIENT_SECRET_FILE": str(fifo)})
    assert result.exit_code == 3


def test_a_message_quotes_an_excerpt_never_a_whole_value(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    long = "k" * 100_000
    manifest.write_text(
        f"controls:\n  - identifier: A\n    {long[:1000]}: 1\n    owner: '{long}@x'\n"
        f"    status: {long}\n"
    )
    found = messages([manifest])
    assert len(found) == 3
    assert all(len(line) < 400 for line in found), [len(line) for line in found]


def test_a_short_secret_is_not_taken_out_of_every_word(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("controls:\n  - identifier: A\n    status: sideways\n")
    result = validate(str(manifest), env={"HYPERPROOF_CLIENT_SECRET": "s"})
    assert result.exit_code == 3
    assert "'sideways' is not one of" in result.stdout
