"""Live data is untrusted: malformed controls, duplicate and missing identifiers, timestamps,
and a plan that never exits 1 and always gives a JSON report that fits its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpconfig.cli import cli
from hpconfig.manifest.schema import load_schema
from hpconfig.remote.live import parse_timestamp, read_live
from hpconfig.remote.live_check import _gate, _validator
from hpconfig.sandbox import Sandbox
from tests.conftest import EXAMPLES
from tests.helpers import env_for


def plan(sandbox: Sandbox, *args: str, paths: tuple[str, ...] = (str(EXAMPLES),)) -> Result:
    return CliRunner().invoke(cli, ["plan", *paths, *args], env=env_for(sandbox))


PLAN_SCHEMA = jsonschema.Draft202012Validator(load_schema("plan"))


def report(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    PLAN_SCHEMA.validate(document)
    return document


def test_a_malformed_declared_control_is_reported_and_not_compared(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    hpconfig_sandbox.add_fault(
        "malformed-control", path="/v1/controls", identifier="SOC2-CC6.2", count=None
    )
    result = plan(hpconfig_sandbox, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = report(result)
    assert [item["identifier"] for item in document["not_compared"]] == ["SOC2-CC6.2"]
    item = document["not_compared"][0]
    assert item["reason"] == "malformed" and item["source"]["file"].endswith("access.yaml")
    fields = {p["field"] for p in document["live_problems"] if p["identifier"] == "SOC2-CC6.2"}
    assert fields == {"owner", "freshForDuration", "name", "updatedOn"}
    assert "SOC2-CC6.2" not in {c["identifier"] for c in document["changes"]}
    text = plan(hpconfig_sandbox)
    assert '  ! "SOC2-CC6.2" could not be compared' in text.stdout
    assert "owner: expected a mapping (key: value) or nothing (null), found a number (42)" in (
        text.stdout
    )
    assert text.stdout.rstrip().endswith("35 in sync, 1 unmanaged, 1 could not be compared.")
    markdown = plan(hpconfig_sandbox, "--format", "markdown").stdout
    # a warning at the top, next to the summary
    warning = markdown.index("> [!WARNING]\n> 1 declared control could not be compared (malformed")
    assert warning < markdown.index("| create |")
    # A manifest in sync on everything else cannot be told "in sync".
    only = tmp_path / "only.yaml"
    only.write_text("controls:\n  - identifier: SOC2-CC6.2\n")
    in_sync = plan(hpconfig_sandbox, "--detailed-exitcode", paths=(str(only),))
    assert in_sync.exit_code == 2, in_sync.stdout
    assert in_sync.stdout.rstrip().endswith("1 could not be compared.")


def test_a_duplicate_identifier_names_both_ids_and_compares_neither(
    hpconfig_sandbox: Sandbox,
) -> None:
    hpconfig_sandbox.add_fault(
        "duplicate-identifier", path="/v1/controls", identifier="SOC2-CC6.1", count=None
    )
    result = plan(hpconfig_sandbox, "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2
    document = report(result)
    (item,) = document["not_compared"]
    assert item["identifier"] == "SOC2-CC6.1" and item["reason"] == "duplicate-identifier"
    first = item["ids"][0]
    assert item["ids"] == [first, f"{first}-duplicate"]
    assert "SOC2-CC6.1" not in {c["identifier"] for c in document["changes"]}


def test_a_live_control_without_identifier_is_listed_never_matched(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    hpconfig_sandbox.add_fault(
        "malformed-control", path="/v1/controls", control={"id": "x1", "name": "nameless"}
    )
    manifest = tmp_path / "none.yaml"
    manifest.write_text("controls:\n  - identifier: None\n    name: nameless\n")
    result = plan(hpconfig_sandbox, "--format", "json", paths=(str(manifest),))
    document = report(result)
    assert document["changes"][0]["identifier"] == "None"
    assert document["changes"][0]["action"] == "create"
    assert {
        "identifier": "",
        "id": "x1",
        "field": "controlIdentifier",
        "message": "no identifier: never matched",
    } in document["live_problems"]


@pytest.mark.parametrize(
    "text",
    [
        "2023-09-12T20:59:47.694353Z",
        "2025-01-12T18:26:10.0053650+00:00",
        "2024-02-24T12:01:57+0000",
        "2024-02-24T12:01:57",
        "2024-02-24T12:01Z",
    ],
)
def test_every_documented_timestamp_form_parses(text: str) -> None:
    assert parse_timestamp(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-23:59",  # beyond datetime's range once in UTC
        "0001-01-01T00:00:00+23:59",
        "2026-13-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "２０２６-01-01T00:00:00Z",  # digits, but not ASCII ones
        "2026-01-01T00:00:00+99:99",
    ],
)
def test_an_out_of_range_timestamp_is_malformed_not_a_crash(text: str) -> None:
    assert parse_timestamp(text) is None
    live = read_live([{"id": "c1", "controlIdentifier": "X", "updatedOn": text}])
    assert live.not_compared["X"].reason == "malformed"
    assert live.problems[0].field == "updatedOn"


def test_an_unusable_list_is_an_api_error(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.add_fault("malformed", path="/v1/controls", status=200)
    result = plan(hpconfig_sandbox)
    assert result.exit_code == 4


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "id",
    "controlIdentifier",
    "name",
    "description",
    "notes",
    "domainName",
    "status",
    "workStatus",
    "implementation",
    "testingStatus",
    "freshnessPolicy",
    "freshForDuration",
    "owner",
    "updatedBy",
    "updatedOn",
]
BASE = {
    "id": "gen-1",
    "controlIdentifier": "SOC2-CC6.2",
    "name": "User registration and authorisation",
    "owner": {"id": "u1", "email": "alice@example.com"},
    "updatedOn": "2026-11-20T10:00:00Z",
}
MALFORMED = JSON | st.builds(
    lambda values: {**BASE, **values},
    st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=4),
)


def test_any_malformed_live_control_never_exits_1_and_the_report_fits_its_schema(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    manifest = tmp_path / "two.yaml"
    manifest.write_text(
        "controls:\n  - {identifier: SOC2-CC6.2, owner: alice@example.com}\n"
        "  - {identifier: SOC2-CC6.1, freshness: {duration: 30d}}\n"
    )

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(controls=st.lists(MALFORMED, min_size=1, max_size=3))
    def check(controls: list[Any]) -> None:
        hpconfig_sandbox.clear_faults()
        for control in controls:
            hpconfig_sandbox.add_fault(
                "malformed-control", path="/v1/controls", control=control, count=None
            )
        result = plan(
            hpconfig_sandbox, "--format", "json", "--detailed-exitcode", paths=(str(manifest),)
        )
        assert result.exit_code in (0, 2), result.stderr
        report(result)

    check()


@settings(max_examples=100, deadline=None)
@given(control=MALFORMED)
def test_the_fast_gate_and_jsonschema_agree_on_live_controls(control: Any) -> None:
    gate = _gate()
    assert gate is not None
    assert gate(control) == _validator().is_valid(control)


def test_a_selection_leaves_out_controls_that_could_not_be_compared(
    hpconfig_sandbox: Sandbox, tmp_path: Path
) -> None:
    hpconfig_sandbox.add_fault(
        "malformed-control", path="/v1/controls", identifier="SOC2-CC6.2", count=None
    )
    manifest = tmp_path / "two.yaml"
    manifest.write_text("controls:\n  - identifier: SOC2-CC6.2\n  - identifier: SOC2-CC6.10\n")
    paths = (str(manifest),)
    everything = plan(hpconfig_sandbox, "--detailed-exitcode", paths=paths)
    assert everything.exit_code == 2
    only = plan(
        hpconfig_sandbox,
        "--format",
        "json",
        "--detailed-exitcode",
        "--controls",
        "SOC2-CC6.10",
        paths=paths,
    )
    assert only.exit_code == 0, only.stdout
    document = report(only)
    assert document["not_compared"] == [] and document["live_problems"] == []
