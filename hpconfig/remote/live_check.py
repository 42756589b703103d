"""Live controls are untrusted input: each is checked before hpconfig compares it.

Owns ``LiveProblem`` and ``control_problems``: one control as the API answered it, against the
packaged ``schemas/api-control.schema.json`` (the shapes hpconfig relies on: a string ``id``, a
string or null for each compared field, ``owner`` and ``updatedBy`` null or a user object with a
string email) and the timestamp forms ``live.parse_timestamp`` knows. jsonschema-rs is the fast
gate, as for manifests; jsonschema words the problems of a control the gate refuses, with the
same wording (``manifest.wording``). Messages describe a bad value by its kind, never quote
more than a short excerpt. Pure: it must not talk HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from hpconfig.manifest.wording import _message
from hpconfig.untrusted import excerpt as shown

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILE = "api-control.schema.json"
TIMESTAMP_FIELDS = ("updatedOn",)


@dataclass(frozen=True, order=True)
class LiveProblem:
    """Something wrong with one live control: which (id, identifier), where, and what."""

    identifier: str
    id: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "identifier": self.identifier,
            "id": self.id,
            "field": self.field,
            "message": self.message,
        }


@cache
def api_control_schema() -> dict[str, Any]:
    text = resources.files("hpconfig").joinpath("schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _gate() -> Callable[[Any], bool] | None:
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a platform without its wheel
        return None
    return jsonschema_rs.validator_for(api_control_schema()).is_valid


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(api_control_schema())


def text_of(value: Any) -> str:
    """An id or identifier as a report shows it: a string as is, anything else described."""
    if isinstance(value, str):
        return value
    return "" if value is None else shown(value, 40)


def _field(path: list[Any]) -> str:
    return ".".join(str(part) for part in path) or "$"


def control_problems(api: Any, parse_timestamp: Callable[[str], Any]) -> list[tuple[str, str]]:
    """(field, message) for each problem of one control; empty when hpconfig can use it."""
    try:
        return _problems(api, parse_timestamp)
    except RecursionError:  # jsonschema repr()s a bad value; a deep one cannot be shown
        return [("$", "a value nests too deeply to check")]


def _problems(api: Any, parse_timestamp: Callable[[str], Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    gate = _gate()
    if gate is None or not gate(api):
        for error in _validator().iter_errors(api):
            path = list(error.absolute_path)
            if error.validator == "required":
                for key in error.validator_value:
                    if isinstance(error.instance, dict) and key not in error.instance:
                        found.append((_field([*path, key]), "missing"))
                continue
            if error.validator == "type" and not path and not isinstance(api, dict):
                found.append(("$", f"expected a control (a JSON object), found {_kind(api)}"))
                continue
            found.append((_field(path), _message(error) or error.message))
    if isinstance(api, dict):
        for name in TIMESTAMP_FIELDS:
            value = api.get(name)
            if isinstance(value, str) and value and parse_timestamp(value) is None:
                found.append((name, f"{shown(value, 40)} is not a timestamp hpconfig can read"))
    return sorted(set(found))


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number"
    )
