"""The sandbox's memory and disk: the --state file and its journal, seeds, tokens, the log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.errors import InputError
from hpconfig.sandbox import Sandbox, state, store, tokens
from hpconfig.sandbox.server import Limits
from hpconfig.sandbox.store import read_state
from tests import helpers
from tests.test_sandbox_api import token
from tests.test_sandbox_behaviour import get_controls, patch_notes

ROOT = Path(__file__).resolve().parent.parent


def notes_by_id(sandbox: Sandbox) -> dict[str, Any]:
    return {c["id"]: c["notes"] for c in sandbox.state()["controls"]}


def test_a_killed_sandbox_keeps_every_write_it_acknowledged(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hpconfig",
            "sandbox",
            "--port",
            "0",
            "--seed",
            str(ROOT / "examples" / "sandbox" / "org.json"),
            "--state",
            str(state_file),
            "--compact-every",
            "7",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acknowledged: dict[str, str] = {}
    try:
        assert process.stdout is not None
        exports = helpers.read_exports(process)
        url = exports["HYPERPROOF_API_URL"]
        with requests.Session() as session:
            bearer = helpers.bearer_from_exports(exports)
            headers = {"Authorization": f"Bearer {bearer}"}
            ids = [c["id"] for c in session.get(url + "/v1/controls", headers=headers).json()]
            for index in range(60):  # past several snapshots
                control = ids[index % len(ids)]
                answer = session.patch(
                    f"{url}/v1/controls/{control}",
                    json={"notes": f"write {index}"},
                    headers=headers,
                    timeout=10,
                )
                assert answer.status_code == 200
                acknowledged[control] = f"write {index}"
            created = session.post(
                url + "/v1/controls",
                json={"controlIdentifier": "NEW-1", "name": "New", "description": "Made"},
                headers=headers,
                timeout=10,
            )
            assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
    with Sandbox(example_seed, state_path=state_file) as again:
        notes = notes_by_id(again)
        assert {control: notes[control] for control in acknowledged} == acknowledged
        assert created.json()["id"] in notes
    assert not (tmp_path / "org.json.journal").exists()  # a clean stop folds it in


def test_the_journal_is_replayed_after_its_snapshot_and_a_torn_last_line_dropped(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file):
        pass
    snapshot = json.loads(state_file.read_text())
    first, second = snapshot["controls"][0], snapshot["controls"][1]
    done = snapshot["journalSeq"]
    lines = [
        {"seq": done, "control": {**first, "notes": "older than the snapshot"}},
        {"seq": done + 1, "control": {**first, "notes": "after the snapshot"}},
        {"seq": done + 2, "control": {**second, "notes": "after it too"}},
    ]
    torn = json.dumps({"seq": done + 3, "control": {**second, "notes": "never answered"}})
    journal = "".join(json.dumps(line) + "\n" for line in lines) + torn[:40]
    (tmp_path / "org.json.journal").write_text(journal)
    with Sandbox(example_seed, state_path=state_file) as sandbox:
        notes = notes_by_id(sandbox)
    assert notes[first["id"]] == "after the snapshot"
    assert notes[second["id"]] == "after it too"


def test_snapshots_are_taken_while_writers_go_on(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file, limits=Limits(compact_every=5)) as sandbox:
        bearer = token(sandbox)
        controls = get_controls(sandbox, bearer).json()
        for index, control in enumerate(controls):
            assert patch_notes(sandbox, bearer, control["id"], f"n{index}").status_code == 200
        journal = (tmp_path / "org.json.journal").read_bytes()
        assert journal.count(b"\n") < len(controls)  # snapshots took most lines away
    saved = {c["id"]: c["notes"] for c in json.loads(state_file.read_text())["controls"]}
    assert all(saved[c["id"]] == f"n{i}" for i, c in enumerate(controls))


def test_temporary_files_of_a_killed_sandbox_are_removed_at_start(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    leftovers = [tmp_path / ".org.json.k2x9a", tmp_path / ".org.json.journal.p0q1"]
    for leftover in leftovers:
        leftover.write_text("half a write")
    (tmp_path / ".unrelated").write_text("kept")
    (tmp_path / "org.json.journal").write_text("a journal without its snapshot\n")
    with Sandbox(example_seed, state_path=state_file) as sandbox:
        assert len(sandbox.state()["controls"]) == 40  # the seed: the lone journal was dropped
    assert not any(leftover.exists() for leftover in leftovers)
    assert (tmp_path / ".unrelated").exists()


def run_sandbox(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sandbox", "--port", "0", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("content", "journal", "words"),
    [
        ('{"controls": [\n  {"id": "a",', None, "org.json:2:"),
        ('{"controls": 5}', None, "$.controls: must be a list"),
        ('{"journalSeq": "x", "controls": []}', None, "$.journalSeq: must be a non-negative"),
        ("[" * 100_000, None, "nested too deeply"),
        ('{"controls": []}', '{"seq": 1, "control": {}}\nnot json\n', "org.json.journal:1:1"),
        ('{"controls": []}', "[1]\n", "a journal line is a JSON object"),
        ('{"controls": []}', '{"seq": 1, "control": {"id": 5}}\n', "string id and identifier"),
    ],
)
def test_a_corrupt_state_file_is_a_located_input_error(
    tmp_path: Path, content: str, journal: str | None, words: str
) -> None:
    state_file = tmp_path / "org.json"
    state_file.write_text(content)
    if journal is not None:
        (tmp_path / "org.json.journal").write_text(journal)
    result = run_sandbox("--state", str(state_file))
    assert result.exit_code == 3, result.output
    assert words in result.output and str(tmp_path) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("seed", "words"),
    [
        (b'{"users": [1]}', "$.users[0]: must be a user object with a string id"),
        (b'{"clients": [{"clientId": "a"}]}', "$.clients[0]: must be an object with string"),
        (b'{"controls": [{"id": 1, "controlIdentifier": "X"}]}', "$.controls[0]: must be"),
        (b'{"controls": [{"id": "1", "controlIdentifier": "X", "domainName": []}]}', "domainId"),
        (b'{"organization": []}', "$.organization: must be an object"),
        (
            b'{"controls": [{"id": "1", "controlIdentifier": "X"},'
            b' {"id": "1", "controlIdentifier": "Y"}]}',
            "two controls have the same id",
        ),  # fmt: skip
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_bad_seed_is_a_located_input_error(tmp_path: Path, seed: bytes, words: str) -> None:
    path = tmp_path / "seed.json"
    path.write_bytes(seed)
    result = run_sandbox("--seed", str(path))
    assert result.exit_code == 3, result.output
    assert words in result.output and str(path) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("--latency-ms", "nan"),
        ("--latency-ms", "-1"),
        ("--token-lifetime", "inf"),
        ("--request-timeout", "0"),
        ("--workers", "0"),
        ("--port", "70000"),
        ("--fault", "rate-limit,retry_after=nan"),
        ("--fault", "rate-limit,count=-2"),
    ],
)
def test_bad_numbers_on_the_command_line_are_usage_errors(args: tuple[str, ...]) -> None:
    result = run_sandbox(*args)
    assert result.exit_code == 64, result.output
    assert "Traceback" not in result.output


def test_tokens_expire_out_of_memory(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.configure(token_lifetime=0)
    for _ in range(5):
        token(hpconfig_sandbox)
    hpconfig_sandbox.configure(token_lifetime=3600)
    kept = token(hpconfig_sandbox)
    assert list(hpconfig_sandbox.server.org.tokens) == [kept]


def test_live_tokens_are_capped_oldest_first(
    hpconfig_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "MAX_TOKENS", 3)
    issued = [token(hpconfig_sandbox) for _ in range(5)]
    assert len(hpconfig_sandbox.server.org.tokens) == 3
    assert get_controls(hpconfig_sandbox, issued[0]).status_code == 401
    assert get_controls(hpconfig_sandbox, issued[-1]).status_code == 200


def test_the_request_log_is_a_bounded_ring(example_seed: dict[str, Any]) -> None:
    with Sandbox(example_seed, limits=Limits(log_entries=3)) as sandbox:
        bearer = token(sandbox)
        for index in range(10):
            get_controls(sandbox, bearer, params={"n": str(index)})
        log = sandbox.requests()
        assert [entry["query"]["n"] for entry in log] == [["7"], ["8"], ["9"]]
        assert sandbox.server.request_log.dropped == 8


def test_a_list_renders_outside_the_lock_so_writers_do_not_wait(
    hpconfig_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    bearer = token(hpconfig_sandbox)
    control = hpconfig_sandbox.state()["controls"][0]["id"]
    rendering, patched = threading.Event(), threading.Event()
    held: list[threading.Thread] = []
    real = state.Organization.encode

    def slow_encode(org: state.Organization, stored: dict[str, Any]) -> bytes:
        if not held:  # the list, rendering its first control, is held until the write is done
            held.append(threading.current_thread())
            rendering.set()
            assert patched.wait(timeout=30), "the write waited for the list"
        return real(org, stored)

    monkeypatch.setattr(state.Organization, "encode", slow_encode)
    listed: list[Any] = []
    reader = threading.Thread(
        target=lambda: listed.append(get_controls(hpconfig_sandbox, bearer).json())
    )
    reader.start()
    assert rendering.wait(timeout=30)
    assert patch_notes(hpconfig_sandbox, bearer, control, "written meanwhile").status_code == 200
    patched.set()
    reader.join()
    assert len(listed[0]) == 39  # the list as it was when it began
    assert notes_by_id(hpconfig_sandbox)[control] == "written meanwhile"


def test_a_write_the_disk_cannot_take_is_refused_and_leaves_no_cut_line(
    example_seed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_file = tmp_path / "org.json"
    real_write = os.write
    full = threading.Event()

    def write(fd: int, data: bytes) -> int:  # a disk that fills up half-way through a line
        if full.is_set() and fd == sandbox.server.store.fd:  # type: ignore[union-attr]
            return real_write(fd, data[: len(data) // 2])
        return real_write(fd, data)

    with Sandbox(example_seed, state_path=state_file) as sandbox:
        monkeypatch.setattr(store.os, "write", write)
        bearer = token(sandbox)
        control = sandbox.state()["controls"][0]["id"]
        assert patch_notes(sandbox, bearer, control, "first").status_code == 200
        full.set()
        assert patch_notes(sandbox, bearer, control, "second").status_code == 500
        full.clear()
        assert notes_by_id(sandbox)[control] == "first"
        journal = (tmp_path / "org.json.journal").read_bytes()
        assert journal.endswith(b"\n") and all(json.loads(line) for line in journal.splitlines())
        assert patch_notes(sandbox, bearer, control, "third").status_code == 200
    with Sandbox(example_seed, state_path=state_file) as again:
        assert notes_by_id(again)[control] == "third"


def test_sigterm_stops_the_command_cleanly_with_its_state_folded_in(tmp_path: Path) -> None:
    state_file = tmp_path / "org.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "hpconfig", "sandbox", "--port", "0", "--state", str(state_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        assert (tmp_path / "org.json.journal").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "sandbox stopped" in err and "Traceback" not in err
    assert not (tmp_path / "org.json.journal").exists()
    assert len(json.loads(state_file.read_text())["controls"]) == 40


def test_a_reset_is_what_the_state_files_hold_after_it(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file, limits=Limits(compact_every=3)) as sandbox:
        bearer = token(sandbox)
        controls = [c["id"] for c in sandbox.state()["controls"]]
        for index, control in enumerate(controls[:10]):
            patch_notes(sandbox, bearer, control, f"before the reset {index}")
        sandbox.reset()
        bearer = token(sandbox)
        patch_notes(sandbox, bearer, controls[0], "after the reset")
        # what a restart would read if the sandbox were killed now
        held = read_state(state_file, {})
    notes = {c["id"]: c["notes"] for c in held["controls"]}
    seed_notes = {c["id"]: c["notes"] for c in example_seed["controls"]}
    assert notes == {**seed_notes, controls[0]: "after the reset"}


def test_a_port_in_use_is_an_input_error_not_a_crash() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "--port", str(port)], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port 0" in result.output
    assert "Traceback" not in result.output


def test_one_state_file_serves_one_sandbox_at_a_time(
    example_seed: dict[str, Any], tmp_path: Path
) -> None:
    state_file = tmp_path / "org.json"
    with Sandbox(example_seed, state_path=state_file) as first:
        bearer = token(first)
        patch_notes(first, bearer, first.state()["controls"][0]["id"], "by the first")
        with pytest.raises(InputError) as refused:
            Sandbox(example_seed, state_path=state_file)
        assert "in use by another sandbox" in str(refused.value.problems[0])
        result = run_sandbox("--state", str(state_file))
        assert result.exit_code == 3 and "org.json.lock is locked" in result.output
        assert "by the first" in (tmp_path / "org.json.journal").read_text()  # left alone
    with Sandbox(example_seed, state_path=state_file) as second:  # free once the first stopped
        assert "by the first" in json.dumps(second.state())
