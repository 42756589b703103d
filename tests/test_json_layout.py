"""The layout of hpconfig's JSON reports (``render.json.dump_document``): the same values as
json.dumps, one key of a mapping and one element of a list per line, and one rendering per plan
(the digest, --out and the Markdown agree)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig.render.json import dump_document, plan_sha256, render_json
from tests.test_golden import every_kind_plan

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), values, max_size=5))
def test_any_document_reads_back_as_the_same_values(document: dict[str, Any]) -> None:
    text = dump_document(document)
    assert json.loads(text) == document
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_each_change_of_a_plan_is_one_line_that_parses_alone() -> None:
    plan = every_kind_plan()
    lines = render_json(plan).splitlines()
    start = lines.index('  "changes": [')
    changes = lines[start + 1 : start + 1 + len(plan.changes)]
    assert lines[start + 1 + len(plan.changes)] == "  ],"
    parsed = [json.loads(line.strip().removesuffix(",")) for line in changes]
    assert [c["identifier"] for c in parsed] == [c.identifier for c in plan.changes]
    assert parsed == plan.to_dict()["changes"]


def test_one_rendering_per_plan_and_never_another_plans() -> None:
    plan = every_kind_plan()
    assert render_json(plan) is render_json(plan)
    other = dataclasses.replace(plan, in_sync=plan.in_sync + 1)
    assert '"in_sync": ' + str(plan.in_sync + 1) in render_json(other)
    assert plan_sha256(plan) != plan_sha256(other)
    assert '"in_sync": ' + str(plan.in_sync) + "\n" in render_json(plan)
