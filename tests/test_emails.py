"""One verdict on an owner's email address: the schema's `email` format (jsonschema and the
jsonschema-rs gate) and the model agree on every address, and the check is syntax only, so the
names reserved for tests and examples are accepted."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig.manifest import emails, schema
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.loader import load_text

ACCEPTED = [
    "alice@example.com",
    "Alice.Smith+grc@Example.COM",
    "bob@example.test",
    "carol@corp.example",
    "dave@nowhere.invalid",
    "erin@host.localhost",
    "frank@localhost",
    "grace@sub.domain.test",
    "hélène@exemple.fr",
    "x@xn--bcher-kva.example",
]
REJECTED = [
    "not-an-email",
    "bob@",
    "@example.com",
    "a@@example.com",
    "a b@example.com",
    "a@exa mple.com",
    "a@.test",
    "a@example..com",
    "a@-example.com",
    ".a@example.com",
    "a@example.com.",
    "",
]


def _verdicts(address: str) -> tuple[bool, bool, bool]:
    data = {"controls": [{"identifier": "C-1", "owner": address}]}
    by_schema = not any(True for _ in schema.validator("manifest").iter_errors(data))
    gate = schema._gate("manifest")
    assert gate is not None, "jsonschema-rs is not installed"  # else this compares jsonschema twice
    by_gate = gate(data)
    document, problems = load_text(
        "m.yaml", f"controls:\n  - {{identifier: C-1, owner: '{address}'}}\n".encode()
    )
    assert document is not None and problems == []
    _, model_problems = desired_controls([(document, set())])
    by_model = not model_problems
    return by_schema, by_gate, by_model


@pytest.mark.parametrize("address", ACCEPTED)
def test_syntax_only_accepts_reserved_and_international_names(address: str) -> None:
    assert _verdicts(address) == (True, True, True)


@pytest.mark.parametrize("address", REJECTED)
def test_malformed_addresses_are_refused_by_schema_gate_and_model_alike(address: str) -> None:
    assert _verdicts(address) == (False, False, False)


def test_a_schema_problem_is_worded_as_the_model_words_it() -> None:
    document, _ = load_text("m.yaml", b"controls:\n  - {identifier: C-1, owner: 'bob@', x: 1}\n")
    assert document is not None
    problems, _ = schema.check(document, "manifest")
    messages = [p.message for p in problems]
    assert "'bob@' is not a valid email address (There must be something after the @-sign.)" in (
        messages
    )


def _accepted_by_email_validator(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        return False
    return True


_LABEL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,70}[A-Za-z0-9])?", fullmatch=True)
_ADDRESSES = st.one_of(
    st.from_regex(emails._PLAIN, fullmatch=True),
    st.builds(
        lambda local, labels: f"{local}@{'.'.join(labels)}",
        st.from_regex(r"[A-Za-z0-9_+.\-]{1,80}", fullmatch=True),
        st.lists(_LABEL, min_size=1, max_size=5),
    ),
    st.text(alphabet="aZ09_+-.@", max_size=40),
)


@settings(max_examples=1500, deadline=None)
@given(_ADDRESSES)
def test_the_plain_shortcut_accepts_only_what_email_validator_accepts(address: str) -> None:
    """The shortcut that spares a hook email-validator's import never accepts an address that
    email-validator refuses (it may send valid ones on to email-validator: that only costs)."""
    if emails.plainly_valid(address):
        assert _accepted_by_email_validator(address), address


@pytest.mark.parametrize(
    "address",
    ["alice@example.com", "Alice.Smith+grc@Example.COM", "a_b-c@corp-1.example.org"],
)
def test_the_plain_shortcut_takes_the_common_addresses(address: str) -> None:
    assert emails.plainly_valid(address)


@pytest.mark.parametrize(
    "address",
    ["a@b", "a@x--y.com", "a@-x.com", ".a@x.com", "a..b@x.com", "a@1.2.3.4", "é@x.com",
     "a@" + "b" * 64 + ".com", "a" * 250 + "@x.com"],
)  # fmt: skip
def test_the_plain_shortcut_leaves_the_rest_to_email_validator(address: str) -> None:
    assert not emails.plainly_valid(address)
