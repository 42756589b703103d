"""How one value is written as YAML text: every value loads back as itself, in the friendliest
style that holds it exactly (plain, quoted only where YAML needs it, blocks for paragraphs)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hpconfig.durations import parse_duration
from hpconfig.manifest import schema
from hpconfig.manifest.loader import load_text
from hpconfig.manifest.yaml_out import UnrepresentableError, duration, scalar
from tests.test_hostile_text import HOSTILE, HOSTILE_LINES, LIVE_ID


def load_value(text: str, indent: int) -> object:
    """``text`` as the value of a key ``indent`` columns in, loaded by hpconfig's own loader."""
    pad = " " * indent
    source = f"outer:\n{pad}before: x\n{pad}key: {text}\n{pad}after: y\n"
    if indent == 0:
        source = f"before: x\nkey: {text}\nafter: y\n"
    document, problems = load_text("t.yaml", source.encode("utf-8"))
    assert not problems, (source, problems)
    assert document is not None
    data = document.data["outer"] if indent else document.data
    assert data["before"] == "x" and data["after"] == "y", source  # nothing swallowed
    return data["key"]


# Text of every kind: any Unicode but surrogates (no UTF-8 file holds them), with the line
# breaks, spaces and YAML indicators that make quoting hard made likely.
_ALPHABET = st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    list(" \n\r\t#:-'\"|>%@*&!{}[],?~\\\x85\u2028\u2029\u202e\ufeff\xa0")
)
texts = st.text(_ALPHABET, max_size=40)
paragraphs = st.lists(
    st.text(st.sampled_from(list("ab #:- '\"")), max_size=8), min_size=1, max_size=5
).map("\n".join)


@given(value=texts | paragraphs, indent=st.sampled_from([0, 2, 4]))
@settings(max_examples=400)
@example(value="1.10", indent=0)
@example(value="", indent=0)
@example(value="\n", indent=4)
@example(value="\n\n a", indent=4)
@example(value=" a\nb", indent=4)
@example(value="a\n\n\n", indent=2)
def test_every_text_loads_back_as_itself(value: str, indent: int) -> None:
    assert load_value(scalar(value, indent), indent) == value


@pytest.mark.parametrize("value", [HOSTILE, HOSTILE_LINES, LIVE_ID, "a\ud800b", "\u2066x\u2069"])
def test_hostile_text_loads_back_and_stays_inert(value: str) -> None:
    try:
        text = scalar(value, 4)
    except UnrepresentableError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert load_value(text, 4) == value
    # Nothing in the file can reorder or hide what a reviewer reads, or end the line early.
    assert not any(c in text for c in "\x1b\r\u202e\u2066\u200b\ufeff\x85\u2028\u2029\x00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("completed", "completed"),
        ("SOC2-CC6.1", "SOC2-CC6.1"),
        ("Access Control", "Access Control"),
        ("1.10", "'1.10'"),
        ("1e3", "'1e3'"),  # a float in YAML 1.2, a string in PyYAML's 1.1
        ("0o17", "'0o17'"),
        ("yes", "'yes'"),
        ("on", "'on'"),
        ("No", "'No'"),
        ("null", "'null'"),
        ("~", "'~'"),
        ("", "''"),
        ("2024-01-01", "'2024-01-01'"),
        ("1_000", "'1_000'"),
        ("*ref", "'*ref'"),
        ("&anchor", "'&anchor'"),
        ("!tag", "'!tag'"),
        ("|x", "'|x'"),
        (">x", "'>x'"),
        ("%x", "'%x'"),
        ("@x", "'@x'"),
        ("- item", "'- item'"),
        ("a: b", "'a: b'"),
        ("a #b", "'a #b'"),
        ("it's", "it's"),
        ("'quoted'", "'''quoted'''"),
        (" padded", "' padded'"),
        ("tab\there", '"tab\\there"'),
        ("bidi\u202eevil", '"bidi\\u202eevil"'),
        ("no\xa0break", '"no\\_break"'),
        ("one\ntwo", "|-\n  one\n  two"),
        ("one\ntwo\n", "|\n  one\n  two"),
        ("one\ntwo\n\n", "|+\n  one\n  two\n"),
        (" indented\nnext", "|2-\n   indented\n  next"),
        ("trailing \nspace", '"trailing \\nspace"'),
        ("crlf\r\nline", '"crlf\\r\\nline"'),
    ],
)
def test_the_friendliest_form(value: str, expected: str) -> None:
    assert scalar(value) == expected


def test_a_block_is_indented_under_its_key() -> None:
    assert scalar("a\nb", 4) == "|-\n      a\n      b"


def test_flow_values_never_hold_flow_indicators_or_blocks() -> None:
    assert scalar("a,b", flow=True) == "'a,b'"
    assert scalar("a\nb", flow=True) == '"a\\nb"'
    assert scalar("manual", flow=True) == "manual"


def test_a_lone_surrogate_is_refused_not_written_wrong() -> None:
    with pytest.raises(UnrepresentableError, match="surrogate"):
        scalar("a\ud800b")


def test_other_scalars() -> None:
    assert [scalar(v) for v in (None, True, False, 3)] == ["null", "true", "false", "3"]
    with pytest.raises(UnrepresentableError):
        scalar(1.5)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (30 * 86400, "30d"),
        (84 * 86400, "12w"),
        (7 * 86400, "1w"),
        (36 * 3600, "36h"),
        (3600, "1h"),
        (5400, "PT1H30M"),
        (86400 + 1800, "P1DT30M"),
        (1, "PT1S"),
    ],
)
def test_durations_in_their_friendliest_exact_form(seconds: int, expected: str) -> None:
    assert duration(seconds) == expected


@given(st.integers(min_value=1, max_value=100 * 366 * 86400))
@settings(max_examples=300)
def test_every_duration_loads_back_and_passes_the_schema(seconds: int) -> None:
    text = duration(seconds)
    assert parse_duration(text) == seconds
    assert scalar(text) == text  # plain, unquoted
    source = f"controls:\n  - identifier: X\n    freshness: {{policy: manual, duration: {text}}}\n"
    document, problems = load_text("t.yaml", source.encode())
    assert document is not None and not problems
    assert schema.check(document, "manifest")[0] == []


@pytest.mark.parametrize("bad", [0, -5, True, 1.5])
def test_a_duration_that_is_no_positive_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(UnrepresentableError):
        duration(bad)  # type: ignore[arg-type]
