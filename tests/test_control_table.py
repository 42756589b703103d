"""The one field table agrees with the manifest schema, and reads and writes what the API has."""

from __future__ import annotations

from typing import Any

import pytest

from hpconfig import hyperproof as hp
from hpconfig.control import (
    DEFAULTABLE,
    FIELD_KEYS,
    FIELD_TABLE,
    FIELDS,
    FIELDS_BY_API,
    ManagedField,
    UnknownOwnerError,
    api_values,
)
from hpconfig.manifest.schema import load_schema
from hpconfig.remote.live import live_control


def _schema_property(field: ManagedField) -> dict[str, Any]:
    defs = load_schema("manifest")["$defs"]
    node: dict[str, Any] = defs["control"]
    for part in field.name.split("."):
        node = node["properties"][part]
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize("field", FIELD_TABLE, ids=lambda field: field.name)
def test_the_manifest_schema_says_what_the_table_says(field: ManagedField) -> None:
    prop = _schema_property(field)
    assert (prop["title"], prop["description"]) == (field.title, field.description)
    assert tuple(prop.get("enum", ())) == field.enum


def test_the_table_names_every_field_of_the_schemas_once() -> None:
    manifest = load_schema("manifest")["$defs"]
    control_keys = set(manifest["control"]["properties"]) - {"identifier"}
    assert {name.split(".")[0] for name in FIELDS} == control_keys == {*FIELD_KEYS, "freshness"}
    assert set(manifest["defaults"]["properties"]) == {*DEFAULTABLE, "freshness"}
    assert "name" not in DEFAULTABLE and "description" not in DEFAULTABLE
    ignore = load_schema("config")["properties"]["ignore"]["items"]["properties"]["fields"]
    assert set(ignore["items"]["enum"]) == {*FIELDS, "freshness"}
    assert len(FIELDS_BY_API) == len(FIELD_TABLE)


def test_enums_are_values_the_api_knows() -> None:
    known = {
        "status": hp.OBJECT_STATUSES,
        "implementation": hp.IMPLEMENTATION_VALUES,
        "testingStatus": hp.TESTING_STATUS_VALUES,
        "freshness.policy": hp.FRESHNESS_POLICIES,
    }
    for field in FIELD_TABLE:
        assert set(field.enum) <= set(field.api_enum) == set(known.get(field.name, ()))


API_CONTROL: dict[str, Any] = {
    "id": "c1",
    "controlIdentifier": "C-1",
    "name": " Access ",
    "description": "Line one\r\nLine two  \r\n",
    "notes": "Reviewed",
    "domainName": "Access Control",
    "owner": {"id": "u1", "email": "Alice@Example.com"},
    "status": "active",
    "workStatus": "operating",
    "implementation": "completed",
    "testingStatus": "effective",
    "freshnessPolicy": "manual",
    "freshForDuration": "P30D",
}


@pytest.mark.parametrize("field", FIELD_TABLE, ids=lambda field: field.name)
def test_reading_a_field_gives_what_the_live_mapping_compares(field: ManagedField) -> None:
    assert field.normalise(field.read(API_CONTROL)) == live_control(API_CONTROL).values[field.name]


def test_writing_gives_the_api_form_that_reads_back_as_the_same_value() -> None:
    values = {f.name: f.normalise(f.read(API_CONTROL)) for f in FIELD_TABLE}
    users = {"alice@example.com": "u1"}.get
    written = api_values(values, users)
    assert written["owner"] == "u1"
    assert written["freshForDuration"] == "PT720H"
    assert written["domainName"] == "Access Control"
    back = dict(written, owner={"id": "u1", "email": "alice@example.com"})
    assert {f.name: f.normalise(f.read(back)) for f in FIELD_TABLE} == values


def test_an_owner_without_a_user_cannot_be_written() -> None:
    with pytest.raises(UnknownOwnerError):
        api_values({"owner": "nobody@example.com"}, {}.get)
    assert api_values({"owner": "nobody@example.com"}) == {"owner": "nobody@example.com"}


def test_the_sandbox_checks_writes_against_the_table() -> None:
    from hpconfig.sandbox.rules import _ENUMS

    for field in FIELD_TABLE:
        assert _ENUMS.get(field.api, ()) == field.api_enum, field.name
