"""The packaged JSON Schemas, and schema errors → problems a person understands.

Owns: reading ``manifest``, ``config`` and ``plan`` schemas from the package (the files beside
it, or importlib.resources from a zipped install), checking documents against them (the compiled
gate first; jsonschema, part by part, only where it fails), and locating each error with its
``file:line:col`` and JSON path. The words are ``manifest.wording``'s. It must not read manifest
files or know what a control means.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpconfig.errors import Problem
from hpconfig.manifest.document import Document, json_path, under
from hpconfig.manifest.wording import _message, suggestion
from hpconfig.untrusted import excerpt as shown

if TYPE_CHECKING:
    import jsonschema

# jsonschema is imported only when a document fails the fast gate: it takes longer to import
# (a tenth of a second) than the gate takes to check ten thousand controls.

SCHEMA_NAMES = ("manifest", "config", "plan", "apply-event", "assertions", "check")
_FOLDER = Path(__file__).resolve().parent.parent / "schemas"


def schema_text(name: str) -> str:
    """The text of a packaged schema, exactly as shipped."""
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    try:  # installed as files (a wheel, a checkout): read it, without importlib.resources' 4 ms
        return (_FOLDER / f"{name}.schema.json").read_text("utf-8")
    except OSError:  # pragma: no cover - a zipped install
        from importlib import resources

        folder = resources.files("hpconfig").joinpath("schemas")
        return folder.joinpath(f"{name}.schema.json").read_text("utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


# A part of a schema checked alone: None (the whole), ``("control",)`` (a definition),
# ``("control", "owner")`` (one of its properties) or ``("control", SHALLOW)`` (the definition
# with every property allowed any value: its own keywords only, such as required keys).
Part = tuple[str, ...] | None
SHALLOW = ""


def _schema_of(name: str, part: Part) -> dict[str, Any]:
    """The schema, or a part of it standing alone (with the same ``$id`` and ``$defs``, so that
    its references resolve as in the whole)."""
    schema = load_schema(name)
    if part is None:
        return schema
    kept: dict[str, Any] = {k: schema[k] for k in ("$schema", "$id", "$defs") if k in schema}
    own = schema["$defs"][part[0]]
    if len(part) == 1:
        return {**kept, **own}
    if part[1] == SHALLOW:
        return {**kept, **own, "properties": dict.fromkeys(own["properties"], True)}
    return {**kept, **_inline(schema, own["properties"][part[1]])}


def _inline(schema: dict[str, Any], part: Any, depth: int = 0) -> Any:
    """A subschema with every reference to a definition (``{"$ref": "#/$defs/x"}`` alone)
    replaced by that definition, at any depth: jsonschema resolves a reference on every call,
    most of the time a small value takes. Definitions that nest deeper than 8 stay referenced."""
    if isinstance(part, list):
        return [_inline(schema, item, depth) for item in part]
    if not isinstance(part, dict):
        return part
    ref = part.get("$ref")
    if set(part) == {"$ref"} and isinstance(ref, str) and ref.startswith("#/$defs/"):
        if depth >= 8:
            return part
        return _inline(schema, schema["$defs"][ref.removeprefix("#/$defs/")], depth + 1)
    inlined = {key: _inline(schema, value, depth) for key, value in part.items()}
    return part if inlined == part else inlined


@cache
def validator(name: str, part: Part = None) -> jsonschema.Draft202012Validator:
    import jsonschema

    from hpconfig.manifest.emails import is_email

    # Formats are annotations in 2020-12; `email` is asserted, with the model's own verdict.
    formats = jsonschema.FormatChecker(formats=())
    formats.checks("email")(is_email)
    return jsonschema.Draft202012Validator(_schema_of(name, part), format_checker=formats)


@cache
def _gate(name: str, part: Part = None) -> Callable[[Any], bool] | None:
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
        _schema_of(name, part),
        validate_formats=True,
        formats={"email": is_email, "uri": lambda _: True},
    )
    return compiled.is_valid


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
    for path, error in _errors(document.data, name):
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
        message = _message(error, path)
        if message is not None:
            found.append(Problem(document.locate(path), json_path(path), message))
    return found, invalid


# Schemas whose top level holds one long list of items all under one definition, and which
# put no other constraint on the list than its type: (the list's key, the items' definition).
# A document that fails the gate is then checked item by item, and a failing item property by
# property, so that one bad control out of ten thousand costs one field's trip through
# jsonschema, not the file's or the control's.
_ITEMS = {"manifest": ("controls", "control")}
# The keywords of a definition that can be checked apart from its properties' values.
_OWN_KEYWORDS = {"title", "description", "examples", "type", "additionalProperties", "required"}


def _errors(data: Any, name: str) -> Iterator[tuple[list[Any], Any]]:
    """jsonschema's errors of ``data`` (``ValidationError``), each with its absolute path,
    worded only where the gate fails: the document without its items, then each failing item."""
    split = _ITEMS.get(name)
    items = data.get(split[0]) if split and isinstance(data, dict) else None
    item_gate = _gate(name, split[1:]) if split else None
    if split is None or item_gate is None or not isinstance(items, list):
        yield from whole_errors(data, name)
        return
    whole_gate = _gate(name)
    shell = {**data, split[0]: []}
    if whole_gate is None or not whole_gate(shell):
        yield from whole_errors(shell, name)
    for index, item in enumerate(items):
        if not item_gate(item):
            for path, error in _item_errors(item, name, split[1]):
                yield [split[0], index, *path], error


def _item_errors(item: Any, name: str, definition: str) -> Iterator[tuple[list[Any], Any]]:
    """The errors of one item: its definition's own keywords, then each property that fails
    its gate, in the order jsonschema checks them."""
    own = load_schema(name)["$defs"][definition]
    if not isinstance(item, dict) or not set(own) - {"properties"} <= _OWN_KEYWORDS:
        for error in validator(name, (definition,)).iter_errors(item):
            yield list(error.absolute_path), error
        return
    if not _gate(name, (definition, SHALLOW))(item):  # type: ignore[misc]
        for error in validator(name, (definition, SHALLOW)).iter_errors(item):
            yield list(error.absolute_path), error
    for key in own["properties"]:
        if key in item and not _gate(name, (definition, key))(item[key]):  # type: ignore[misc]
            for error in validator(name, (definition, key)).iter_errors(item[key]):
                yield [key, *error.absolute_path], error


def whole_errors(data: Any, name: str) -> Iterator[tuple[list[Any], Any]]:
    """jsonschema's errors of the whole document, as it words them without the split."""
    for error in validator(name).iter_errors(data):
        yield list(error.absolute_path), error
