"""The one verdict on an owner's email address: syntax only, as the README promises.

Both the schema's ``email`` format (``manifest.schema``) and the desired-state builder
(``manifest.desired``) ask here, so they can never disagree on an address. Deliverability is
not checked: the names that RFC 2606 and RFC 6761 reserve for tests and examples (``.test``,
``.example``, ``.invalid``, ``.localhost``) are accepted, since test and demo organizations use
them; email-validator refuses them as undeliverable, so they are checked as the same address
under an ordinary domain.

email-validator decides. Importing it compiles regexes over all of Unicode (15 ms, a fifth of a
pre-commit hook's run), so a plain ASCII address (``alice.smith+grc@corp.example.com``), a
strict subset of what it accepts, is accepted here without it; anything else, and every
refusal with its wording, is email-validator's. A property test holds the subset.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hpconfig.untrusted import excerpt

RESERVED_TOP_LEVEL = ("test", "example", "invalid", "localhost")

# Dot-atoms of letters, digits, "_", "+", "-" before the @; after it, two or more labels of
# letters and digits joined by single hyphens, the last ending in a letter. Lengths: at most
# 254 in all and 63 per label (below).
_PLAIN = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)*"
    r"\.[A-Za-z0-9]*[A-Za-z]",
    re.ASCII,
)


def _syntax_stand_in(email: str) -> str:
    local, at, domain = email.rpartition("@")
    if at and domain.rstrip(".").rpartition(".")[2].lower() in RESERVED_TOP_LEVEL:
        return f"{local}@{domain}.com"  # "x.test" is as well-formed as "x.test.com"
    return email


def plainly_valid(address: str) -> bool:
    """True for an ASCII address that email-validator certainly accepts; False says nothing."""
    if len(address) > 254 or not _PLAIN.fullmatch(address):
        return False
    return all(len(label) <= 63 for label in address.rpartition("@")[2].split("."))


@lru_cache(maxsize=4096)
def email_problem(email: str) -> str | None:
    """None for a valid address, else why not (owners repeat, so answers are cached)."""
    stand_in = _syntax_stand_in(email)
    if plainly_valid(stand_in):
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(stand_in, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as reason:
        return f"{excerpt(email)} is not a valid email address ({reason})"
    return None


def is_email(value: object) -> bool:
    """The schema's ``email`` format: a non-string is the ``type`` keyword's business."""
    return not isinstance(value, str) or email_problem(value) is None
