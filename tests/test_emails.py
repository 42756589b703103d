"""One verdict on an owner's email address: the schema's `email` format (jsonschema and the
jsonschema-rs gate) and the model agree on every address, and the check is syntax only, so the
names reserved for tests and examples are accepted."""

from __future__ import annotations

import pytest

from hpconfig.manifest import schema
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
