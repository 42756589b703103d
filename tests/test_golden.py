"""Golden files: every report format of two plans, byte for byte, so a change to any output is
reviewed as a diff of ``tests/golden/``.

The plans are the demo's (``examples/`` against the example organization, through the real
sandbox and HTTP code) and one with every kind of change. Everything that could differ between
machines is fixed: the working directory (file names in reports are relative to it), the
repository root of SARIF, and the ``GITHUB_*`` variables. After an intended change of output,
``HPCONFIG_UPDATE_GOLDEN=1 make test`` (or the same before ``pytest tests/test_golden.py``)
rewrites the files; review them with ``git diff tests/golden/``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hpconfig.diff import diff
from hpconfig.manifest.project import load_project
from hpconfig.plan import Plan, PlanContext
from hpconfig.project_config import IgnoreRule, ProjectConfig
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.fetch import make_plan
from hpconfig.remote.live import read_live
from hpconfig.render.github import render_plan_annotations
from hpconfig.render.json import render_json
from hpconfig.render.markdown import render_markdown, run_context
from hpconfig.render.sarif import render_sarif
from hpconfig.render.text import render_text
from hpconfig.sandbox import Sandbox, load_seed
from hpconfig.sandbox.seeds import EXAMPLE_SEED
from tests.conftest import ROOT, TODAY
from tests.helpers import desired_from, settings_for

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("HPCONFIG_UPDATE_GOLDEN") == "1"
# A root that is the same on every machine: SARIF's SRCROOT and the base of relative names.
WORKSPACE = Path("/workspace")
PLANNED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # the Markdown's "Planned on"

RENDERERS: dict[str, Callable[[Plan], str]] = {
    "plan.txt": lambda plan: render_text(plan, color=False, show_unmanaged=True),
    "plan.color.txt": lambda plan: render_text(plan, color=True),
    "plan.json": render_json,
    "plan.md": lambda plan: render_markdown(plan, context=run_context(os.environ, PLANNED_AT)),
    "plan.github.txt": render_plan_annotations,
    "plan.sarif": lambda plan: render_sarif(plan, WORKSPACE, WORKSPACE),
}

EVERY_KIND_MANIFEST = """\
defaults:
  owner: grc@example.com
  freshness: {policy: manual, duration: 90d}
controls:
  - identifier: K-CREATE
    name: A control only git has
    description: |
      Two lines of text,
      the second with a | pipe.
    domain: Access Control
    status: active
    workStatus: operating
    implementation: notStarted
    testingStatus: notTested
  - identifier: K-OWNER
    owner: alice@example.com
  - identifier: K-MANY
    name: Many fields differ
    description: |
      The first line stays.
      The second line is new.
    notes: "[a link](https://example.com) and @team"
    domain: Operations
    status: archived
    implementation: completed
    testingStatus: effective
    freshness: {duration: 30d}
  - identifier: K-IGNORED
    notes: Kept in Hyperproof by the auditors.
  - identifier: K-SYNC
    name: In sync
    freshness: {policy: none}
  - identifier: K-MALFORMED
    owner: carol@example.com
  - identifier: K-TWICE
    name: Two in Hyperproof
  - identifier: K-RESTORE
    status: active
  - identifier: K-BARE
    name: A new control without a description
"""


def _api(identifier: str, **fields: object) -> dict[str, object]:
    control: dict[str, object] = {
        "id": f"id-{identifier.lower()}",
        "controlIdentifier": identifier,
        "status": "active",
        "owner": {"id": "u-grc", "email": "GRC@example.com"},
        "freshnessPolicy": "manual",
        "freshForDuration": "P90D",
        "updatedBy": {"id": "u-bob", "email": "bob@example.com"},
        "updatedOn": "2026-11-20T10:00:00.1234567+00:00",
    }
    control.update(fields)
    return control


EVERY_KIND_LIVE = [
    _api("K-OWNER", owner={"id": "u-bob", "email": "bob@example.com"}),
    _api(
        "K-MANY",
        name="Many fields  ",
        description="The first line stays.\r\nThe second line was this.\r\n",
        notes=None,
        domainName="Operations",
        implementation="inProgress",
        testingStatus="effective",
        freshForDuration="PT360H",
        updatedBy={"id": "u-svc", "givenName": "Sync", "surname": "Robot"},
        updatedOn="2026-11-21T09:12:44Z",
    ),
    _api("K-IGNORED", notes="Edited by an auditor."),
    _api("K-SYNC", name="In sync", freshnessPolicy="none", freshForDuration=None),
    _api("K-UNMANAGED", name="Only in Hyperproof"),
    _api("K-UNMANAGED-ARCHIVED", status="archived"),
    _api("K-RESTORE", status="archived"),
    _api("K-MALFORMED", owner={"id": "u-x", "email": 42}, freshForDuration={"days": 30}),
    _api("K-TWICE"),
    dict(_api("K-TWICE"), id="id-k-twice-2"),
    {"id": "id-no-identifier", "name": "No identifier"},
]

EVERY_KIND_CONFIG = ProjectConfig(
    ignore=(
        IgnoreRule(
            fields=("notes",),
            reason="Auditors keep notes in Hyperproof.",
            controls=("K-IGN*",),
            expires=TODAY.replace(year=2099),
        ),
        IgnoreRule(fields=("workStatus",), reason="Nobody agrees on work statuses."),
    ),
    max_change_percent=10.0,
    min_controls=1,
)


def every_kind_plan() -> Plan:
    """Creates and updates (one field, many fields, multi-line text, durations), an archive, a
    restore, a create that cannot be applied (no description),
    ignored fields, unmanaged controls, controls that could not be compared (malformed, two
    with one identifier), live data hpconfig could not use, and a safety limit exceeded: each
    thing a report shows."""
    desired = desired_from(EVERY_KIND_MANIFEST, "controls/every-kind.yaml")
    live = read_live(EVERY_KIND_LIVE)
    config = EVERY_KIND_CONFIG
    plan = diff(
        desired, live.controls, config.ignore, config.limits, live.not_compared, live.problems
    )
    # As `plan` saves it for apply: the JSON's `apply` section, the Markdown's sha256.
    context = PlanContext("1.0.0", "https://api.hyperproof.app", "0" * 64, ("controls",))
    return dataclasses.replace(plan, context=context)


def demo_plan() -> Plan:
    """What `make demo` plans: examples/ against the example organization, over HTTP."""
    project = load_project([Path("examples")], today=TODAY)
    assert not project.problems
    with Sandbox(load_seed(EXAMPLE_SEED)) as sandbox:
        client = HyperproofClient(settings_for(sandbox))
        with client:
            return make_plan(client, project.desired, project.config)


PLANS: dict[str, Callable[[], Plan]] = {"demo": demo_plan, "every-kind": every_kind_plan}


@pytest.fixture
def fixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "example/controls")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(WORKSPACE))


@pytest.mark.usefixtures("fixed_environment")
@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_every_report_matches_its_golden_file(plan_name: str) -> None:
    plan = PLANS[plan_name]()
    folder = GOLDEN / plan_name
    stale: dict[str, str] = {}
    for file_name, render in RENDERERS.items():
        path = folder / file_name
        text = render(plan)
        if UPDATE:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            continue
        golden = path.read_text(encoding="utf-8") if path.is_file() else ""
        if golden != text:
            lines = difflib.unified_diff(
                golden.splitlines(), text.splitlines(), "golden", "now", lineterm="", n=1
            )
            stale[file_name] = "\n".join(list(lines)[:40])
    assert not stale, (
        f"{plan_name}: {', '.join(stale)} differ from tests/golden/{plan_name}/; if the change "
        "is intended, run HPCONFIG_UPDATE_GOLDEN=1 make test and review git diff tests/golden/\n"
        + "\n".join(stale.values())
    )


def test_every_golden_file_is_one_the_test_writes() -> None:
    """A renamed format or plan leaves no orphan behind."""
    expected = {f"{plan}/{name}" for plan in PLANS for name in RENDERERS}
    found = {path.relative_to(GOLDEN).as_posix() for path in GOLDEN.rglob("*") if path.is_file()}
    assert found == expected


def test_the_markdown_quotes_the_sha256_of_the_json_report_golden_file() -> None:
    import hashlib

    digest = hashlib.sha256((GOLDEN / "every-kind" / "plan.json").read_bytes()).hexdigest()
    assert f"Plan sha256: `{digest}`" in (GOLDEN / "every-kind" / "plan.md").read_text()
