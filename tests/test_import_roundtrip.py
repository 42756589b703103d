"""Round trip, property-based: any organization hypothesis makes, seeded into the sandbox,
imported, then planned: the plan is empty every time, and every control is either written or
skipped with a reason."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpconfig import hyperproof as hp
from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests import helpers
from tests.conftest import EXAMPLES
from tests.test_hostile_text import HOSTILE, HOSTILE_LINES

SEED = json.loads((EXAMPLES / "sandbox" / "org.json").read_text(encoding="utf-8"))
USERS = SEED["users"]
TEMPLATE = SEED["controls"][0]

_ODD = [
    "1.10",
    "yes",
    "on",
    "No",
    "null",
    "~",
    "*x",
    "&a",
    "!t",
    "|p",
    ">f",
    "%d",
    "@u",
    "- item",
    "a: b",
    "a #b",
    "1e3",
    "0o17",
    "2024-01-01",
    "'q'",
    '"dq"',
    "x\u202ey",
]
_IDENTIFIER_CHARS = st.characters(
    whitelist_categories=("L", "N", "P", "S"), whitelist_characters=" .-_:#"
)
identifiers = st.sampled_from(_ODD) | st.text(_IDENTIFIER_CHARS, min_size=1, max_size=20)
_TEXT_CHARS = st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list(" \n\r\t#:-|>'\""))
texts = st.text(_TEXT_CHARS, max_size=40)
paragraphs = st.lists(st.text(st.sampled_from(list("ab :#-'\" ")), max_size=10), max_size=4).map(
    "\n".join
)
free_text = st.none() | texts | paragraphs | st.sampled_from(_ODD + [HOSTILE, HOSTILE_LINES])
domains = st.none() | st.sampled_from(
    ["Access", "access", "ACCESS ", "../../etc", "CON", "hpconfig", "", "Ü", "a/b\\c", HOSTILE]
)
durations = st.none() | st.one_of(
    st.integers(1, 5000).map(lambda h: f"PT{h}H"),
    st.integers(1, 900).map(lambda d: f"P{d}D"),
    st.integers(1, 100).map(lambda w: f"P{w}W"),
    st.integers(1, 10_000).map(lambda m: f"PT{m}M"),
    st.integers(1, 100_000).map(lambda s: f"PT{s}S"),
    st.tuples(st.integers(1, 30), st.integers(1, 23)).map(lambda p: f"P{p[0]}DT{p[1]}H"),
)


@st.composite
def controls(draw: st.DrawFn, number: int, identifier: str) -> dict[str, Any]:
    control = copy.deepcopy(TEMPLATE)
    control.update(
        {
            "id": f"generated-{number}",
            "controlIdentifier": identifier,
            "name": draw(free_text),
            "description": draw(free_text),
            "notes": draw(free_text),
            "domainName": draw(domains),
            "owner": draw(st.none() | st.sampled_from(USERS)),
            "workStatus": draw(free_text),
            "implementation": draw(st.none() | st.sampled_from(hp.IMPLEMENTATION_VALUES)),
            "testingStatus": draw(st.none() | st.sampled_from(hp.TESTING_STATUS_VALUES)),
            "freshnessPolicy": draw(st.none() | st.sampled_from(hp.FRESHNESS_POLICIES)),
            "freshForDuration": draw(durations),
            "status": draw(st.sampled_from([hp.STATUS_ACTIVE, hp.STATUS_ARCHIVED])),
        }
    )
    return control


@st.composite
def organizations(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(identifiers, min_size=1, max_size=6, unique=True))
    seed = copy.deepcopy(SEED)
    seed["controls"] = [draw(controls(index, name)) for index, name in enumerate(names)]
    return seed


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(organizations())
def test_import_then_plan_is_empty(seed: dict[str, Any]) -> None:
    with Sandbox(seed) as sandbox, tempfile.TemporaryDirectory() as scratch:
        env = helpers.env_for(sandbox)
        target = Path(scratch) / "project"
        runner = CliRunner()
        imported = runner.invoke(
            cli, ["import", "--to", str(target), "--include-archived"], env=env
        )
        assert imported.exit_code == 0, imported.stderr + repr(imported.exception)
        skipped = imported.stderr.count("hpconfig: skipped ")
        written = len(seed["controls"]) - skipped
        if written == 0:
            assert imported.stdout.startswith("Nothing to import")
            return
        assert f"Imported {written} control" in imported.stdout
        planned = runner.invoke(cli, ["plan", str(target), "--detailed-exitcode"], env=env)
        assert planned.exit_code == 0, planned.stdout + planned.stderr
        assert planned.stdout.startswith(f"No changes. {written} in sync"), planned.stdout
        for path in target.rglob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            assert not any(c in text for c in "\x1b\r\u202e\x85\u2028\ufeff"), path
            assert path.name.replace("-", "").replace(".", "").isalnum() and path.name.islower()
