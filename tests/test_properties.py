"""Property-based: any text or structure ends in success or located problems, never a traceback."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpconfig import schema
from hpconfig.errors import Problem
from hpconfig.loader import load_text
from hpconfig.model import desired_controls

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


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "controls": st.lists(
                st.dictionaries(st.sampled_from(FIELD_NAMES), structures, max_size=6), max_size=4
            )
        },
        optional={
            "defaults": st.dictionaries(st.sampled_from(FIELD_NAMES), structures, max_size=3)
        },
    )
)
def test_fast_gate_agrees_with_jsonschema(data: dict[str, Any]) -> None:
    """jsonschema-rs only gates; it must never pass a document jsonschema rejects."""
    gate = schema._gate("manifest")
    if gate is None:
        return
    reference = not any(True for _ in schema.validator("manifest").iter_errors(data))
    assert gate(data) == reference
