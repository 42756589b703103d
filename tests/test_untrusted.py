"""The escapes of ``hpconfig.untrusted`` and the output path, alone and through every renderer:
nothing from data acts in a terminal or a GitHub Actions log."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig import untrusted
from hpconfig.cli.output import safe_text
from hpconfig.errors import Location, Problem
from hpconfig.plan import Change, FieldChange, Plan, Unmanaged
from hpconfig.render import diagnostics
from hpconfig.render.json import render_json
from hpconfig.render.markdown import render_markdown
from hpconfig.render.text import render_text
from hpconfig.untrusted import excerpt, guard_log, inert, inert_json, stop_token
from tests import actions_runner


def test_inert_shows_controls_separators_and_bidi_as_escapes() -> None:
    assert inert("a\x1b[2Jb\nc\td\x9be\u202ef\u2028g\x7f") == (
        "a\\x1b[2Jb\\nc\\td\\x9be\\u202ef\\u2028g\\x7f"
    )
    assert inert("zoë → ok") == "zoë → ok"


def test_guard_log_defuses_only_what_the_runner_would_parse() -> None:
    assert guard_log("  ::error::x\nok :: fine\na ##[group] b") == (
        "  \\x3a:error::x\nok :: fine\na ##\\x5bgroup] b"
    )


def test_inert_json_parses_to_the_same_values() -> None:
    value = {"k": "##[error]x \x9b \u202e \x7f ok"}
    text = inert_json(json.dumps(value, ensure_ascii=False))
    assert "##[" not in text and "\x9b" not in text and "\u202e" not in text
    assert json.loads(text) == value


def test_excerpt_is_short_and_never_converts_a_huge_number() -> None:
    assert len(excerpt("x" * 10_000)) == 60
    assert excerpt(10**5000) == "<a number of about 5001 digits>"
    assert excerpt("a\x1bb") == "'a\\x1bb'"


def test_the_stop_token_is_stable_and_not_a_command_name() -> None:
    assert stop_token("log") == stop_token("log") != stop_token("log ")
    assert stop_token("log").lower() not in actions_runner.REGISTERED


runner_text = st.lists(
    st.sampled_from(
        [*":#[] a\n\r\t\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000\ufeff", "::", "##["]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(runner_text, runner_text)
def test_no_text_from_data_parses_as_a_command_in_any_renderer(value: str, name: str) -> None:
    change = Change(
        identifier=name or "x",
        action="update",
        source=Location(name or "f", 1, 1),
        fields=(FieldChange("description", value + "\nz", name + "\nz"),),
        updated_by=value,
        updated_on=name,
    )
    plan = Plan(changes=(change,), unmanaged=(Unmanaged(value, "1"),), in_sync=0)
    problem = Problem(Location(name, 1, 1), "$." + value, value)
    for text, kind in (
        (render_text(plan, show_unmanaged=True), "text"),
        (render_json(plan), "json"),
        (render_markdown(plan), "text"),
        (diagnostics.render_text([problem]), "text"),
        (diagnostics.render_json([problem], 1, 1), "json"),
    ):
        printed = safe_text(text, kind)  # type: ignore[arg-type]
        assert actions_runner.run(printed) == []
        assert actions_runner.loose_commands(printed) == []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x206F)))
def test_the_fast_path_escapes_exactly_what_the_tables_say(text: str) -> None:
    """The search that skips clean text (issue 15) never skips a character a table escapes."""
    assert untrusted.inert(text) == text.translate(untrusted._INERT)
    assert untrusted.inert_lines(text) == text.translate(untrusted._INERT_LINES)
    assert untrusted.inert_lines(text, colour=True) == text.translate(untrusted._INERT_COLOUR)
