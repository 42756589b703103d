"""The packaged JSON Schemas, and schema errors → problems a person understands.

Owns: reading ``manifest``, ``config`` and ``plan`` schemas from the package (importlib.resources,
so they work from a wheel), checking documents against them, and wording each error with its
``file:line:col`` and JSON path. It must not read files or know what a control means beyond the
wording of messages; durations are explained by ``hpconfig.durations``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from hpconfig.durations import DurationError, parse_duration
from hpconfig.errors import Problem
from hpconfig.manifest.document import Document, json_path, under
from hpconfig.untrusted import excerpt as shown

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

# jsonschema is imported only when a document fails the fast gate: it takes longer to import
# (a tenth of a second) than the gate takes to check ten thousand controls.

SCHEMA_NAMES = ("manifest", "config", "plan", "apply-event")


def schema_text(name: str) -> str:
    """The text of a packaged schema, exactly as shipped."""
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    folder = resources.files("hpconfig").joinpath("schemas")
    return folder.joinpath(f"{name}.schema.json").read_text("utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    from hpconfig.manifest.emails import is_email

    # Formats are annotations in 2020-12; `email` is asserted, with the model's own verdict.
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("email")(is_email)
    return jsonschema.Draft202012Validator(load_schema(name), format_checker=formats)


@cache
def _gate(name: str) -> Callable[[Any], bool] | None:
    """A compiled validity check (jsonschema-rs), about 100x faster than jsonschema's own.

    It only answers valid or not; jsonschema then words the problems of documents it rejects, so
    the messages are the same with or without it. Without jsonschema-rs, every document goes
    through jsonschema.
    """
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a platform without its wheel
        return None
    from hpconfig.manifest.emails import is_email

    # The same format verdicts as jsonschema's (see validator): email asserted, uri not.
    compiled = jsonschema_rs.validator_for(
        load_schema(name),
        validate_formats=True,
        formats={"email": is_email, "uri": lambda _: True},
    )
    return compiled.is_valid


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
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; allowed: " + ", ".join(sorted(choices))


def _explain_pattern(error: ValidationError) -> str | None:
    field = error.absolute_path[-1] if error.absolute_path else ""
    value = error.instance
    if field == "duration":
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


def _message(error: ValidationError) -> str | None:
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
    if keyword == "const":
        return f"must be {expected!r}, found {shown(value)}"
    if keyword == "minLength" and expected == 1:
        return "must not be empty"
    if keyword == "maxLength":
        return f"is longer than {expected} characters"
    if keyword == "minItems":
        return "must list at least one item"
    if keyword == "minProperties":
        keys = ", ".join(sorted(schema.get("properties", {})))
        return f"must set at least one of: {keys}"
    if keyword in ("pattern", "not") and isinstance(value, str):
        return _explain_pattern(error)
    if keyword == "format" and expected == "email":
        from hpconfig.manifest.emails import email_problem

        return email_problem(value)
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        signs = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        return f"must be {signs[keyword]} {expected}, found {shown(value)}"
    return error.message


def problems_of(document: Document, name: str) -> list[Problem]:
    """Every schema problem of one document, each located at the value (or key) it concerns."""
    return check(document, name)[0]


def check(document: Document, name: str) -> tuple[list[Problem], set[tuple[Any, ...]]]:
    """Every schema problem, and the JSON paths (as tuples) of the values they concern.

    The paths let later checks skip what is already reported, so one mistake gives one message.
    """
    found: list[Problem] = []
    invalid: set[tuple[Any, ...]] = set(document.damaged)
    gate = _gate(name)
    if gate is not None and gate(document.data):
        return found, invalid
    worded: set[tuple[Any, ...]] = set()  # a string that fails two patterns gets one message
    for error in validator(name).iter_errors(document.data):
        path = list(error.absolute_path)
        if document.damaged and under(path, document.damaged):
            continue  # the loader already said what is wrong here
        if error.validator in ("pattern", "not"):
            if tuple(path) in worded:
                continue
            worded.add(tuple(path))
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    invalid.add((*path, key))
                    found.append(
                        Problem(
                            document.locate([*path, key], key=True),
                            json_path([*path, key]),
                            f"unknown key {shown(key)}{suggestion(key, allowed)}",
                        )
                    )
            continue
        invalid.add(tuple(path))
        if error.validator == "required":
            missing = [key for key in error.validator_value if key not in error.instance]
            for key in missing:
                found.append(
                    Problem(document.locate(path), json_path(path), f"missing required key {key!r}")
                )
            continue
        message = _message(error)
        if message is not None:
            found.append(Problem(document.locate(path), json_path(path), message))
    return found, invalid
