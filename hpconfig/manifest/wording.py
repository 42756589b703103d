"""Schema errors → messages a person understands: the wording of each jsonschema keyword.

Owns the words: a value described by its kind and a short excerpt (never whole), the closest
allowed key or value suggested, patterns explained (durations by ``hpconfig.durations``, dates,
URLs, identifiers). Shared by the manifest's schema checks (``manifest.schema``) and the API's
(``remote.live_check``), so both word a problem alike. It must not read files or locate values:
it takes one error and the value's path in the whole document.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hpconfig.durations import DurationError, parse_duration
from hpconfig.untrusted import excerpt as shown

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "nothing (null)",
}


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true or false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({shown(value)})"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def suggestion(word: str, choices: list[str]) -> str:
    """``"; did you mean 'owner'?"`` for the closest choice, or the list of choices."""
    return _suggestion(word, tuple(choices))


@lru_cache(maxsize=1024)  # a mistyped key is mistyped again, control after control
def _suggestion(word: str, choices: tuple[str, ...]) -> str:
    import difflib  # only when wording a mistake

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; allowed: " + ", ".join(sorted(choices))


def _explain_pattern(error: ValidationError, path: list[Any]) -> str | None:
    field = path[-1] if path else ""
    value = error.instance
    if field in ("duration", "freshness.duration"):
        try:
            parse_duration(value)
        except DurationError as reason:
            return str(reason)
        return (
            f"{shown(value)} is not a duration hpconfig accepts; "
            "write e.g. 30d, 720h, P30D or PT720H"
        )
    if field == "identifier":
        if value == "":
            return None  # "must not be empty" says it
        if error.validator == "not":
            return f"{shown(value)} must not contain control or bidirectional characters"
        return f"{shown(value)} must not start or end with whitespace"
    if field == "expires":
        return f"{shown(value)} is not a date; write YYYY-MM-DD"
    if field in ("apiUrl", "tokenUrl"):
        return f"{shown(value)} is not a URL; write https://..."
    if error.validator == "not":
        return f"{shown(value)} has characters that are not allowed here"
    return f"{shown(value)} does not match the pattern {shown(error.validator_value)}"


def _message(error: ValidationError, path: list[Any] | None = None) -> str | None:
    """The wording of one error; ``path`` is the value's path in the whole document (the
    error's own path when it was checked whole)."""
    keyword = error.validator
    value = error.instance
    schema: Any = error.schema
    expected: Any = error.validator_value
    if keyword == "type":
        wanted_text = (
            " or ".join(_JSON_TYPES.get(t) or t for t in expected)
            if isinstance(expected, list)
            else _JSON_TYPES.get(expected, expected)
        )
        hint = "; give a value or remove the key" if value is None else ""
        return f"expected {wanted_text}, found {_kind(value)}{hint}"
    if keyword == "enum":
        choices = [str(choice) for choice in expected]
        hint = suggestion(value, choices) if isinstance(value, str) else ""
        hint = hint if hint.startswith("; did") else ""
        return f"{shown(value)} is not one of: {', '.join(choices)}{hint}"
    if keyword == "const" and isinstance(expected, bool):
        return f"must be {str(expected).lower()}, found {_kind(value)}"
    if keyword == "const":
        return f"must be {expected!r}, found {shown(value)}"
    if keyword == "minLength" and expected == 1:
        return "must not be empty"
    if keyword == "maxLength":
        return f"is longer than {expected} characters"
    if keyword == "minItems":
        return "must list at least one item"
    if keyword == "maxProperties" and expected == 1:
        keys = ", ".join(sorted(str(key) for key in value)) if isinstance(value, dict) else ""
        return f"give exactly one of these, not several ({shown(keys, 120)})"
    if keyword == "minProperties":
        keys = ", ".join(sorted(schema.get("properties", {})))
        return f"must set at least one of: {keys}"
    if keyword in ("pattern", "not") and isinstance(value, str):
        return _explain_pattern(error, list(error.absolute_path) if path is None else path)
    if keyword == "format" and expected == "email":
        from hpconfig.manifest.emails import email_problem

        return email_problem(value)
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        signs = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        return f"must be {signs[keyword]} {expected}, found {shown(value)}"
    return error.message
