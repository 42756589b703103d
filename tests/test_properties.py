"""Property-based: any text or structure ends in success or located problems, never a traceback."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from hpconfig.errors import Problem
from hpconfig.manifest import schema
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.loader import load_text

FIELD_NAMES = [
    "identifier",
    "name",
    "description",
    "notes",
    "domain",
    "owner",
    "status",
    "workStatus",
    "implementation",
    "testingStatus",
    "freshness",
    "policy",
    "duration",
    "controls",
    "defaults",
    "version",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "active",
            "archived",
            "manual",
            "none",
            "30d",
            "P1M",
            "PT0H",
            "bob@",
            "alice@example.com",
            "completed",
            "x",
        ]
    ),
)
structures = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def _check(raw: bytes) -> list[Problem]:
    document, problems = load_text("prop.yaml", raw)
    if document is None:
        assert problems, "an unusable file must say why"
    else:
        schema_problems, invalid = schema.check(document, "manifest")
        _, model_problems = desired_controls([(document, invalid)])
        problems = problems + schema_problems + model_problems
    for problem in problems:
        assert problem.location.file == "prop.yaml"
        assert problem.message
    return problems


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    _check(text.encode("utf-8", "replace"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), structures, max_size=4))
def test_arbitrary_structures_never_raise(data: dict[str, Any]) -> None:
    _check(yaml.safe_dump(data).encode())


# Near-valid manifests: each field drawn from values the schema accepts and values it refuses,
# so that both verdicts are common (random structures are almost never valid, and a comparison
# that only ever sees invalid documents proves little).
FIELD_VALUES: dict[str, Any] = {
    "identifier": st.sampled_from(["C-1", "SOC2-CC6.1", " C-2", "", "1.10", 7]),
    "name": st.sampled_from(["Access", "", None, "x" * 300]),
    "owner": st.sampled_from(["alice@example.com", "bob@", "a@b.test", "ALICE@EXAMPLE.COM"]),
    "status": st.sampled_from(["active", "archived", "deleted", "Active"]),
    "implementation": st.sampled_from(["completed", "notStarted", "done"]),
    "testingStatus": st.sampled_from(["effective", "notTested", "passed"]),
    "freshness": st.fixed_dictionaries(
        {},
        optional={
            "policy": st.sampled_from(["manual", "none", "always"]),
            "duration": st.sampled_from(["30d", "P30D", "PT720H", "P1M", "30m", "30"]),
        },
    ),
    "ownr": st.just("typo@example.com"),
}
near_valid_controls = st.lists(
    st.fixed_dictionaries(
        {"identifier": FIELD_VALUES["identifier"]},
        optional={k: v for k, v in FIELD_VALUES.items() if k != "identifier"},
    ),
    min_size=1,
    max_size=3,
)
manifests = st.one_of(
    st.fixed_dictionaries({"controls": near_valid_controls}),
    st.fixed_dictionaries(
        {
            "controls": st.lists(
                st.dictionaries(st.sampled_from(FIELD_NAMES), structures, max_size=6), max_size=4
            )
        },
        optional={
            "defaults": st.dictionaries(st.sampled_from(FIELD_NAMES), structures, max_size=3)
        },
    ),
)


def _reference(data: dict[str, Any]) -> bool:
    return not any(True for _ in schema.validator("manifest").iter_errors(data))


def test_the_manifests_generated_are_both_valid_and_invalid() -> None:
    """Else the comparison below would be a tautology."""
    assert _reference(find(manifests, _reference))
    assert not _reference(find(manifests, lambda data: not _reference(data)))


def test_jsonschema_rs_is_there() -> None:
    """A runtime dependency: without it the gate falls back to jsonschema, and the comparison
    below would compare jsonschema with itself."""
    assert schema._gate("manifest") is not None, "jsonschema-rs is not installed"


@settings(max_examples=300, deadline=None)
@given(manifests)
def test_fast_gate_agrees_with_jsonschema(data: dict[str, Any]) -> None:
    """jsonschema-rs only gates; it must never pass a document jsonschema rejects."""
    gate = schema._gate("manifest")
    assert gate is not None
    assert gate(data) == _reference(data)
