"""Builders shared by the test modules: one per job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from hpconfig.control import Control
from hpconfig.diff import diff
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.loader import load_text
from hpconfig.plan import Plan
from hpconfig.remote.live import live_control
from hpconfig.remote.secret import Secret
from hpconfig.remote.settings import RetryPolicy, Settings
from hpconfig.sandbox import Sandbox

# Retries without a wait: tests never sleep for backoff.
NO_WAIT = RetryPolicy(
    attempts=3, backoff_factor=0, backoff_max=0, jitter=0, retry_after_max=0, total_seconds=30
)


def env_for(sandbox: Sandbox, secret: str | None = None, **overrides: str) -> dict[str, str]:
    """The environment of a command that signs in to ``sandbox`` (with ``secret``, else the
    sandbox's own), with backoff off and no colour."""
    return {
        "HYPERPROOF_API_URL": sandbox.api_url,
        "HYPERPROOF_TOKEN_URL": sandbox.token_url,
        "HYPERPROOF_CLIENT_ID": sandbox.client_id,
        "HYPERPROOF_CLIENT_SECRET": sandbox.client_secret if secret is None else secret,
        "HYPERPROOF_CLIENT_SECRET_FILE": "",
        "HPCONFIG_RETRY_BACKOFF": "0",  # tests never sleep for backoff
        "NO_COLOR": "1",
        **overrides,
    }


def settings_for(sandbox: Sandbox, **overrides: Any) -> Settings:
    """``Settings`` that sign in to ``sandbox``, retrying without a wait."""
    values: dict[str, Any] = dict(
        api_url=sandbox.api_url,
        token_url=sandbox.token_url,
        client_id=sandbox.client_id,
        secret=Secret(sandbox.client_secret),
        retry=NO_WAIT,
    )
    values.update(overrides)
    return Settings(**values)


def desired_from(text: str, name: str = "m.yaml") -> dict[str, Control]:
    """The desired controls of one manifest's text, which must be valid."""
    document, problems = load_text(name, text.encode())
    assert document is not None and not problems, problems
    controls, problems = desired_controls([(document, set())])
    assert not problems, problems
    return controls


def big_plan(count: int, text_size: int = 200) -> Plan:
    """A plan in which each of ``count`` controls has a drifted description."""
    text = "controls:\n" + "".join(
        f"  - {{identifier: C-{i:05d}, description: 'long text {'x' * text_size}'}}\n"
        for i in range(count)
    )
    live = {
        f"C-{i:05d}": live_control(
            {"id": str(i), "controlIdentifier": f"C-{i:05d}", "description": "other"}
        )
        for i in range(count)
    }
    return diff(desired_from(text, "big.yaml"), live)


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write each ``relative path: text`` under ``root``, making the directories."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def read_exports(process: subprocess.Popen[str]) -> dict[str, str]:
    """The four ``export NAME=value`` lines ``hpconfig sandbox`` prints once it listens."""
    assert process.stdout is not None
    return dict(
        process.stdout.readline().strip().removeprefix("export ").split("=", 1) for _ in range(4)
    )


def run_benchmark(script: str, *args: str) -> str:
    """What ``benchmarks/<script>`` prints with ``args`` (its smallest size, in the tests),
    from the repository's root; it must exit 0. The figures are never asserted, only the rows."""
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, str(root / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=root,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def bearer_from_exports(exports: dict[str, str]) -> str:
    """A token from the sandbox process whose ``export`` lines are ``exports`` (client
    credentials, as hpconfig signs in); the sign-in must succeed."""
    answer = requests.post(
        exports["HYPERPROOF_TOKEN_URL"],
        data={
            "grant_type": "client_credentials",
            "client_id": exports["HYPERPROOF_CLIENT_ID"],
            "client_secret": exports["HYPERPROOF_CLIENT_SECRET"],
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
