"""The in-place edits of refresh (``manifest.rewrite``), without the network.

Whatever Hyperproof sends, the value written stays a value: the file loads with hpconfig's own
loader to exactly the old data with that value set, every other byte stays, and a second run
changes nothing. Hostile strings come from the hostile-text suite; hypothesis adds any text.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpconfig.control import NORMALISE
from hpconfig.manifest.composer import load_text
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.rewrite import rewrite
from hpconfig.manifest.schema import check
from hpconfig.refresh import ControlUpdate, FieldUpdate
from tests.test_hostile_text import HOSTILE, HOSTILE_LINES

MANIFEST = """\
# a comment that must stay
defaults:
  owner: grc@example.com   # everyone's
  freshness: {policy: manual, duration: 90d}
controls:
  - identifier: A-1
    name: First   # aligned
    description: |
      Two lines
      of text.
    notes: "quoted"
  - {identifier: A-2, name: Flow}
  - identifier: A-3
    name: Untouched
"""


def update(identifier: str, **fields: Any) -> ControlUpdate:
    items = tuple(
        FieldUpdate(identifier, name.replace("_", "."), value, None, None)
        for name, value in fields.items()
    )
    return ControlUpdate(identifier, "m.yaml", 1, items, None, None)


def desired(text: str) -> dict[str, Any]:
    document, problems = load_text("m.yaml", text.encode("utf-8"))
    assert document is not None and not problems, problems
    schema_problems, invalid = check(document, "manifest")
    controls, model_problems = desired_controls([(document, invalid)])
    assert not schema_problems and not model_problems, schema_problems + model_problems
    return controls


def assert_set(text: str, identifier: str, field: str, value: str) -> None:
    """The field now plans equal to ``value``, and nothing else of the file moved."""
    controls = desired(text)
    assert controls[identifier].values[field] == NORMALISE[field](value)
    assert controls["A-3"].values == {
        "name": "Untouched",
        "owner": "grc@example.com",
        "freshness.policy": "manual",
        "freshness.duration": 90 * 86400,
    }


@pytest.mark.parametrize("value", [HOSTILE, HOSTILE_LINES, HOSTILE + "\n" + HOSTILE_LINES])
@pytest.mark.parametrize(("identifier", "field"), [("A-1", "description"), ("A-2", "notes")])
def test_hostile_text_from_hyperproof_stays_a_value(
    identifier: str, field: str, value: str
) -> None:
    result = rewrite(MANIFEST, [update(identifier, **{field: value})], "m.yaml")
    assert result.refused == []
    assert_set(result.text, identifier, field, value)
    assert result.text.startswith("# a comment that must stay\ndefaults:\n")
    assert "  - identifier: A-3\n    name: Untouched\n" in result.text
    # no raw control character or bidi override reaches the file: each is an escape
    assert "\x1b" not in result.text and "\u202e" not in result.text and "\r" not in result.text
    again = rewrite(result.text, [update(identifier, **{field: value})], "m.yaml")
    assert again.text == result.text  # a second run finds the value already there


def test_an_inherited_value_is_set_on_the_control_never_in_defaults() -> None:
    result = rewrite(
        MANIFEST,
        [update("A-3", owner="ann@example.com", freshness_duration="2w")],
        "m.yaml",
    )
    assert result.refused == []
    assert result.text.count("grc@example.com") == 1  # defaults unchanged
    assert result.text.endswith(
        "  - identifier: A-3\n    name: Untouched\n    owner: ann@example.com\n"
        "    freshness:\n      duration: 2w\n"
    )


def test_a_comment_after_a_value_keeps_its_column() -> None:
    result = rewrite(MANIFEST, [update("A-1", name="A much longer name")], "m.yaml")
    assert "    name: A much longer name # aligned\n" in result.text
    result = rewrite(MANIFEST, [update("A-1", name="X")], "m.yaml")
    assert "    name: X       # aligned\n" in result.text


def test_a_shared_anchor_is_refused_and_an_alias_gets_its_own_value() -> None:
    text = (
        "controls:\n"
        "  - identifier: A-1\n    owner: &lead a@example.com\n"
        "  - identifier: A-2\n    owner: *lead\n"
        "  - identifier: A-3\n    name: Untouched\n"
    )
    result = rewrite(
        text, [update("A-1", owner="b@example.com"), update("A-2", owner="c@example.com")], "m"
    )
    assert [(r.identifier, r.field) for r in result.refused] == [("A-1", "owner")]
    assert "anchor &lead" in result.refused[0].reason
    assert "  - identifier: A-1\n    owner: &lead a@example.com\n" in result.text
    assert "  - identifier: A-2\n    owner: c@example.com\n" in result.text


def test_crlf_lines_stay_crlf_and_a_bom_stays() -> None:
    text = "\ufeff" + MANIFEST.replace("\n", "\r\n")
    result = rewrite(text, [update("A-1", description="New\nlines\n")], "m.yaml")
    assert result.text.startswith("\ufeff# a comment")
    assert result.text.count("\n") == result.text.count("\r\n")
    assert "    description: |\r\n      New\r\n      lines\r\n    notes:" in result.text


def test_a_value_no_yaml_file_can_hold_is_refused() -> None:
    result = rewrite(MANIFEST, [update("A-1", notes="lone \ud800 surrogate")], "m.yaml")
    assert result.text == MANIFEST
    assert [(r.identifier, r.field) for r in result.refused] == [("A-1", "notes")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40).filter(
        lambda text: text.strip()
    ),
    target=st.sampled_from(
        [("A-1", "description"), ("A-1", "name"), ("A-1", "notes"), ("A-2", "notes")]
    ),
)
def test_any_text_is_written_as_that_text(value: str, target: tuple[str, str]) -> None:
    identifier, field = target
    result = rewrite(MANIFEST, [update(identifier, **{field: value})], "m.yaml")
    assert result.refused == []
    assert_set(result.text, identifier, field, value)


def test_policy_none_on_a_control_drops_the_inherited_duration() -> None:
    result = rewrite(
        MANIFEST, [update("A-3", freshness_policy="none", freshness_duration=None)], "m.yaml"
    )
    assert result.refused == []
    assert result.text.endswith("    name: Untouched\n    freshness:\n      policy: none\n")
    document, _ = load_text("m.yaml", result.text.encode())
    assert document is not None
    controls, problems = desired_controls([(document, set())])
    assert not problems
    assert controls["A-3"].values["freshness.policy"] == "none"
    assert "freshness.duration" not in controls["A-3"].values
    # a duration the control states itself is not deleted behind the reader's back
    own = MANIFEST.replace(
        "    name: Untouched\n", "    name: Untouched\n    freshness: {duration: 7d}\n"
    )
    refused = rewrite(own, [update("A-3", freshness_duration=None)], "m.yaml")
    assert refused.text == own
    assert "remove the control's own duration by hand" in refused.refused[0].reason


def test_a_field_added_after_a_keep_block_goes_after_its_blank_lines() -> None:
    text = "controls:\n  - identifier: A-1\n    description: |+\n      x\n\n  - identifier: A-3\n"
    result = rewrite(text, [update("A-1", owner="b@example.com")], "m.yaml")
    assert result.refused == []
    assert result.text == (
        "controls:\n  - identifier: A-1\n    description: |+\n      x\n\n"
        "    owner: b@example.com\n  - identifier: A-3\n"
    )


def test_the_pull_request_body_fits_github_and_keeps_its_table() -> None:
    from hpconfig.render.refresh import Refreshed, markdown_body

    refreshed = [Refreshed(update(f"C-{i}", owner="b@example.com"), ("owner",)) for i in range(5)]
    diff = "+    notes: " + "x" * 100 + "\n" * 1
    small = markdown_body(refreshed, [], diff * 10)
    assert "```diff\n" in small and "| `C-4` | `owner` |" in small
    big = markdown_body(refreshed, [], diff * 2_000)
    assert len(big.encode()) <= 65_000
    assert "| `C-4` | `owner` |" in big and "```diff" not in big
    assert "The diff is too long for a pull request body" in big
    many = [Refreshed(update(f"C-{i:05d}", owner="b@example.com"), ("owner",)) for i in range(3000)]
    cut = markdown_body(many, [], diff)
    assert len(cut.encode()) <= 65_000 and "was cut to fit" in cut


def test_a_comment_after_a_value_that_becomes_a_block_goes_after_its_header() -> None:
    result = rewrite(MANIFEST, [update("A-1", name="two\nlines")], "m.yaml")
    assert result.refused == []
    assert "    name: |-   # aligned\n      two\n      lines\n    description: |\n" in result.text
    assert_set(result.text, "A-1", "name", "two\nlines")
