"""The one verdict on an owner's email address: syntax only, as the README promises.

Both the schema's ``email`` format (``manifest.schema``) and the desired-state builder
(``manifest.desired``) ask here, so they can never disagree on an address. Deliverability is
not checked: the names that RFC 2606 and RFC 6761 reserve for tests and examples (``.test``,
``.example``, ``.invalid``, ``.localhost``) are accepted, since test and demo organizations use
them; email-validator refuses them as undeliverable, so they are checked as the same address
under an ordinary domain.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from hpconfig.untrusted import excerpt

RESERVED_TOP_LEVEL = ("test", "example", "invalid", "localhost")


def _syntax_stand_in(email: str) -> str:
    local, at, domain = email.rpartition("@")
    if at and domain.rstrip(".").rpartition(".")[2].lower() in RESERVED_TOP_LEVEL:
        return f"{local}@{domain}.com"  # "x.test" is as well-formed as "x.test.com"
    return email


@lru_cache(maxsize=4096)
def email_problem(email: str) -> str | None:
    """None for a valid address, else why not (owners repeat, so answers are cached)."""
    try:
        validate_email(
            _syntax_stand_in(email), check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as reason:
        return f"{excerpt(email)} is not a valid email address ({reason})"
    return None


def is_email(value: object) -> bool:
    """The schema's ``email`` format: a non-string is the ``type`` keyword's business."""
    return not isinstance(value, str) or email_problem(value) is None
