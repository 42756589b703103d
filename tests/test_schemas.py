"""The shipped schemas: well-formed, documented for editors, strict, and honoured by examples."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from hpconfig.manifest.schema import SCHEMA_NAMES, load_schema, schema_text
from tests.conftest import EXAMPLES, ROOT


def _properties(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{where}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item, where)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_has_title_description_examples(name: str) -> None:
    schema = load_schema(name)
    defs = schema.get("$defs", {})
    for where, prop in _properties(schema):
        resolved = defs[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
        for key in ("title", "description", "examples"):
            assert resolved.get(key), f"{where} has no {key}"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_object_forbids_unknown_keys(name: str) -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for item in node:
                yield from objects(item)

    found = list(objects(load_schema(name)))
    assert found
    assert all(node.get("additionalProperties") is False for node in found)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_examples_validate_against_their_own_property(name: str) -> None:
    schema = load_schema(name)
    for where, prop in _properties(schema):
        if "$ref" in prop:
            continue
        sub = dict(prop, **{"$defs": schema.get("$defs", {})})
        for example in prop["examples"]:
            errors = list(jsonschema.Draft202012Validator(sub).iter_errors(example))
            assert not errors, f"{where}: example {example!r}: {errors[0].message}"


def test_top_level_schemas_folder_is_the_packaged_one() -> None:
    for name in SCHEMA_NAMES:
        shipped = (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
        assert shipped == schema_text(name)
        json.loads(shipped)


def test_every_example_carries_the_language_server_line_pointing_at_a_real_schema() -> None:
    files = sorted(EXAMPLES.rglob("*.yaml")) + sorted(EXAMPLES.rglob("*.yml"))
    assert len(files) >= 7
    for file in files:
        first = file.read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{file} lacks the yaml-language-server line"
        if "github" in file.parts:  # workflow files point at SchemaStore's workflow schema
            assert match.group(1) == "https://json.schemastore.org/github-workflow.json"
        else:
            assert (file.parent / match.group(1)).resolve().is_file(), f"{file}: {match.group(1)}"


def test_schemas_name_the_fields_the_model_knows() -> None:
    from hpconfig.control import DEFAULTABLE, FIELD_KEYS, FIELDS, NORMALISE

    manifest = load_schema("manifest")["$defs"]
    assert set(manifest["control"]["properties"]) == {"identifier", *FIELD_KEYS, "freshness"}
    assert set(manifest["defaults"]["properties"]) == {*DEFAULTABLE, "freshness"}
    assert set(NORMALISE) == set(FIELDS)
    ignore = load_schema("config")["properties"]["ignore"]["items"]["properties"]["fields"]
    assert set(ignore["items"]["enum"]) == {*FIELDS, "freshness"}
