"""Golden files of the check: every format of `hpconfig check examples` and of `plan --check`,
against the example organization in the sandbox with its clock fixed, byte for byte.

``HPCONFIG_UPDATE_GOLDEN=1`` rewrites them, as for the plan's (``tests/test_golden.py``).
"""

from __future__ import annotations

import difflib
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hpconfig.assertions.report import CheckReport
from hpconfig.cli.check import check_report
from hpconfig.manifest.project import load_project
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.fetch import plan_from_live
from hpconfig.remote.organization import fetch_organization
from hpconfig.render.check_formats import CHECK_FORMATS, PLAN_CHECK_FORMATS
from hpconfig.render.formats import ReportOptions
from hpconfig.render.markdown import run_context
from hpconfig.sandbox import Sandbox, load_seed
from hpconfig.sandbox.seeds import EXAMPLE_SEED
from tests.conftest import ROOT, TODAY
from tests.helpers import settings_for
from tests.test_golden import (
    GOLDEN,
    PLANNED_AT,
    UPDATE,
    WORKSPACE,
    fixed_environment,  # noqa: F401 - the fixture, shared
)

CHECKED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
FILES = {
    "text": "check.txt",
    "json": "check.json",
    "markdown": "check.md",
    "github": "check.github.txt",
    "sarif": "check.sarif",
}


def _both(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, CheckReport]:
    import hpconfig.cli.check as check_module

    class _Fixed(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return CHECKED_AT

    monkeypatch.setattr(check_module, "datetime", _Fixed)
    project = load_project([Path("examples")], today=TODAY)
    assert not project.problems
    with Sandbox(load_seed(EXAMPLE_SEED), clock=lambda: CHECKED_AT) as sandbox:
        client = HyperproofClient(settings_for(sandbox))
        with client:
            organization = fetch_organization(client)
    plan = plan_from_live(organization.live, project.desired, project.config)
    return plan, check_report(project, organization)


def _compare(path: Path, text: str, stale: dict[str, str]) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    golden = path.read_text(encoding="utf-8") if path.is_file() else ""
    if golden != text:
        stale[path.name] = "".join(
            difflib.unified_diff(golden.splitlines(True), text.splitlines(True), "golden", "now")
        )


@pytest.mark.usefixtures("fixed_environment")
def test_every_check_report_matches_its_golden_file(monkeypatch: pytest.MonkeyPatch) -> None:
    plan, report = _both(monkeypatch)
    options = ReportOptions(
        root=WORKSPACE, cwd=WORKSPACE, run=run_context(os.environ, PLANNED_AT), show_unmanaged=True
    )
    stale: dict[str, str] = {}
    for name, file_name in FILES.items():
        text = "".join(part for part, _ in CHECK_FORMATS[name](report, options))
        _compare(GOLDEN / "check" / file_name, text, stale)
        both = "".join(part for part, _ in PLAN_CHECK_FORMATS[name]((plan, report), options))
        _compare(GOLDEN / "check" / file_name.replace("check.", "plan-check."), both, stale)
    colour = "".join(part for part, _ in CHECK_FORMATS["text"](report, ReportOptions(color=True)))
    _compare(GOLDEN / "check" / "check.color.txt", colour, stale)
    assert not stale, "\n".join(f"{name}:\n{diff}" for name, diff in stale.items())


def test_the_golden_folder_holds_only_what_is_rendered() -> None:
    names = {f.name for f in (GOLDEN / "check").iterdir()}
    expected = {*FILES.values(), *(f.replace("check.", "plan-check.") for f in FILES.values())}
    assert names == expected | {"check.color.txt"}
    assert (ROOT / "tests" / "golden" / "demo" / "plan.txt").is_file()  # the plan's stay apart
