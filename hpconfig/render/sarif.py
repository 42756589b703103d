"""Plan → SARIF 2.1.0 for code scanning: one result per drifted field, at its manifest line.

Pure. Each result carries a fingerprint of its control and field (not of the values), so code
scanning tracks the same drift across runs and closes it when it goes. One rule per class of
drift: a field that differs, a control missing in Hyperproof.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hpconfig import __version__
from hpconfig.plan import Change, FieldChange, Plan
from hpconfig.render.text import value_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/hpconfig/hpconfig"
FINGERPRINT_KEY = "hpconfig/control-field/v1"

RULES: list[dict[str, Any]] = [
    {
        "id": "HPC001",
        "name": "ControlFieldDrift",
        "shortDescription": {"text": "A control's field in Hyperproof differs from its manifest"},
        "fullDescription": {
            "text": "The live value of a field that the manifest manages differs from the "
            "declared value, after normalisation. Apply the manifest, or update it to match."
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["drift", "compliance"]},
    },
    {
        "id": "HPC002",
        "name": "ControlMissing",
        "shortDescription": {"text": "A declared control does not exist in Hyperproof"},
        "fullDescription": {
            "text": "The manifest declares a control whose identifier Hyperproof does not know. "
            "Apply will create it."
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["drift", "compliance"]},
    },
]


def fingerprint(identifier: str, field: str) -> str:
    return hashlib.sha256(f"{identifier}\0{field}".encode()).hexdigest()[:32]


def _location(file: str, line: int, column: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(line, 1)}
    if column:
        region["startColumn"] = column
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": file.replace("\\", "/")},
            "region": region,
        }
    }


def _field_result(change: Change, item: FieldChange) -> dict[str, Any]:
    where = item.source or change.source
    message = (
        f"{change.identifier}: {item.field} is {value_text(item.actual)} in Hyperproof; "
        f"the manifest declares {value_text(item.expected)}"
    )
    if change.updated_by:
        message += f" (changed in Hyperproof by {change.updated_by}, {change.updated_on})"
    result: dict[str, Any] = {
        "ruleId": "HPC001",
        "ruleIndex": 0,
        "level": "warning",
        "message": {"text": message},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(change.identifier, item.field)},
        "properties": {"identifier": change.identifier, "field": item.field},
    }
    if where is not None:
        result["locations"] = [_location(where.file, where.line, where.column)]
    return result


def _missing_result(change: Change) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": "HPC002",
        "ruleIndex": 1,
        "level": "warning",
        "message": {"text": f"{change.identifier} is declared here but not found in Hyperproof"},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(change.identifier, "")},
        "properties": {"identifier": change.identifier},
    }
    if change.source is not None:
        result["locations"] = [
            _location(change.source.file, change.source.line, change.source.column)
        ]
    return result


def sarif_document(plan: Plan) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for change in plan.changes:
        if change.action == "create":
            results.append(_missing_result(change))
        else:
            results += [_field_result(change, item) for item in change.fields]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hpconfig",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": RULES,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render_sarif(plan: Plan) -> str:
    return json.dumps(sarif_document(plan), indent=2, ensure_ascii=False) + "\n"
