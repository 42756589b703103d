"""Plan → SARIF 2.1.0 that GitHub code scanning accepts: one result per drifted field, at its line.

Pure: the caller says where the repository root and the working directory are. Owns the rules
(each with the help GitHub requires), the cap of 25,000 results a run (missing controls first,
then drift by identifier, and a notification that says how many were left out), artifact URIs
relative to the repository root under ``SRCROOT`` (percent-encoded; a file outside the
repository keeps an absolute ``file://`` URI), and fingerprints of control and field (not of the
values), so code scanning tracks the same drift across runs and closes it when it goes.

Messages are SARIF plain text: data never forms an embedded link (``[text](uri)``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from hpconfig import __version__
from hpconfig.plan import Change, ChangeKind, FieldChange, Plan
from hpconfig.render.text import ARCHIVE_NOTE, RESTORE_NOTE, value_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/hpconfig/hpconfig"
HELP_URI = INFORMATION_URI + "/blob/main/README.md#sarif-for-code-scanning"
FINGERPRINT_KEY = "hpconfig/control-field/v1"
SRCROOT = "SRCROOT"
MAX_RESULTS = 25_000  # GitHub code scanning rejects a run with more

_FIELD_HELP = (
    "A field that a manifest manages has another value in Hyperproof, after normalisation "
    "(owner email case, durations, line endings and trailing whitespace). Someone changed it in "
    "Hyperproof, or the manifest changed and was not applied yet. Either apply the manifest, or "
    "change the manifest to the value Hyperproof has. To leave the field unmanaged, remove it "
    "from the manifest; to tolerate the difference for a while, add an ignore rule with a "
    "reason and an expiry date to hpconfig.yaml."
)
_MISSING_HELP = (
    "The manifest declares a control whose identifier Hyperproof does not know, neither active "
    "nor archived. Apply will create it. If the control exists under another identifier, "
    "correct the identifier in the manifest."
)

_ARCHIVE_HELP = (
    "Archiving a control in Hyperproof removes its links to requirements, risks, vendors, "
    "scopes and tasks; unarchiving restores almost none of them. If the archive is intended, "
    "apply with --allow-archive (or list the control under safety.allowArchive); otherwise set "
    "the manifest's status back to active."
)
_PROBLEM_HELP = (
    "An owner must be an active user of the organization (not deactivated, not a service "
    "account), and a control that apply creates needs a name and a description. Fix the "
    "manifest, then plan again."
)

RULES: list[dict[str, Any]] = [
    {
        "id": "HPC001",
        "name": "ControlFieldDrift",
        "shortDescription": {"text": "A control's field in Hyperproof differs from its manifest"},
        "fullDescription": {
            "text": "The live value of a field that the manifest manages differs from the "
            "declared value, after normalisation. Apply the manifest, or update it to match."
        },
        "help": {
            "text": _FIELD_HELP,
            "markdown": "**Drift.** " + _FIELD_HELP.replace("hpconfig.yaml", "`hpconfig.yaml`"),
        },
        "helpUri": HELP_URI,
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
        "help": {"text": _MISSING_HELP, "markdown": "**Missing control.** " + _MISSING_HELP},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["drift", "compliance"]},
    },
]

RULES += [
    {
        "id": "HPC003",
        "name": "ControlArchived",
        "shortDescription": {"text": "Apply would archive a control (destroy-class)"},
        "fullDescription": {
            "text": "The manifest sets status: archived on an active control. Archiving removes "
            "its links to requirements, risks, scopes and tasks; unarchiving does not bring "
            "them back. Apply needs --allow-archive."
        },
        "help": {"text": _ARCHIVE_HELP, "markdown": "**Archive.** " + _ARCHIVE_HELP},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["destroy", "compliance"]},
    },
    {
        "id": "HPC004",
        "name": "ChangeCannotApply",
        "shortDescription": {"text": "A planned change cannot be applied"},
        "fullDescription": {
            "text": "Apply would refuse this change: an owner that is unknown, deactivated or "
            "a service account, or a new control without a name or description."
        },
        "help": {"text": _PROBLEM_HELP, "markdown": "**Cannot apply.** " + _PROBLEM_HELP},
        "helpUri": HELP_URI,
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["compliance"]},
    },
]

_BRACKET = re.compile(r"(\\*)([\[\]])")


def plain(text: str) -> str:
    """SARIF plain text: a literal bracket, and the backslashes before it, are escaped, so data
    never forms an embedded link ``[text](uri)`` (SARIF 2.1.0, section 3.11.6)."""
    return _BRACKET.sub(lambda match: match.group(1) * 2 + "\\" + match.group(2), text)


def fingerprint(identifier: str, field: str) -> str:
    return hashlib.sha256(f"{identifier}\0{field}".encode()).hexdigest()[:32]


class _Artifacts:
    """File names as shown in reports → SARIF artifact locations, relative to the root."""

    def __init__(self, root: Path | None, cwd: Path | None) -> None:
        self.root = root
        self.cwd = cwd

    def location(self, file: str) -> dict[str, Any]:
        if self.root is None or self.cwd is None:
            return {"uri": quote(file.replace("\\", "/"), safe="/")}
        path = Path(os.path.normpath(self.cwd / file))
        try:
            relative = path.relative_to(self.root)
        except ValueError:  # outside the repository: an absolute URI, as code scanning expects
            return {"uri": path.as_uri()}
        return {"uri": quote(str(PurePosixPath(*relative.parts)), safe="/"), "uriBaseId": SRCROOT}


def _location(artifacts: _Artifacts, file: str, line: int, column: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(line, 1)}
    if column:
        region["startColumn"] = column
    return {"physicalLocation": {"artifactLocation": artifacts.location(file), "region": region}}


def _field_result(artifacts: _Artifacts, change: Change, item: FieldChange) -> dict[str, Any]:
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
        "message": {"text": plain(message)},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(change.identifier, item.field)},
        "properties": {"identifier": change.identifier, "field": item.field},
    }
    if where is not None:
        result["locations"] = [_location(artifacts, where.file, where.line, where.column)]
    return result


def _missing_result(artifacts: _Artifacts, change: Change) -> dict[str, Any]:
    message = f"{change.identifier} is declared here but not found in Hyperproof"
    result: dict[str, Any] = {
        "ruleId": "HPC002",
        "ruleIndex": 1,
        "level": "warning",
        "message": {"text": plain(message)},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(change.identifier, "")},
        "properties": {"identifier": change.identifier},
    }
    if change.source is not None:
        source = change.source
        result["locations"] = [_location(artifacts, source.file, source.line, source.column)]
    return result


def _drift_results(artifacts: _Artifacts, change: Change) -> list[dict[str, Any]]:
    return [_field_result(artifacts, change, item) for item in change.fields]


def _control_result(
    artifacts: _Artifacts, change: Change, rule: int, message: str, key: str
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": RULES[rule]["id"],
        "ruleIndex": rule,
        "level": "error",
        "message": {"text": plain(f"{change.identifier}: {message}")},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(change.identifier, key)},
        "properties": {"identifier": change.identifier},
    }
    if change.source is not None:
        source = change.source
        result["locations"] = [_location(artifacts, source.file, source.line, source.column)]
    return result


def _archive_results(artifacts: _Artifacts, change: Change) -> list[dict[str, Any]]:
    marker = _control_result(artifacts, change, 2, ARCHIVE_NOTE, "\0archive")
    return [marker, *_drift_results(artifacts, change)]


def _restore_results(artifacts: _Artifacts, change: Change) -> list[dict[str, Any]]:
    results = _drift_results(artifacts, change)
    for result in results:
        result["message"]["text"] += plain(f" ({RESTORE_NOTE})")
    return results


BY_KIND: dict[ChangeKind, Callable[[_Artifacts, Change], list[dict[str, Any]]]] = {
    ChangeKind.CREATE: lambda artifacts, change: [_missing_result(artifacts, change)],
    ChangeKind.UPDATE: _drift_results,
    ChangeKind.RESTORE: _restore_results,
    ChangeKind.ARCHIVE: _archive_results,
}


def _results(plan: Plan, artifacts: _Artifacts) -> list[dict[str, Any]]:
    """Changes that cannot apply first, then missing controls, then drift by identifier: what
    is cut is the least important."""
    results: list[dict[str, Any]] = []
    for change in plan.problems:
        message = "cannot apply: " + "; ".join(change.problems)
        results.append(_control_result(artifacts, change, 3, message, "\0problem"))
    for change in sorted(plan.changes, key=Change.sort_key):
        results += BY_KIND[change.action](artifacts, change)
    return results


def sarif_document(
    plan: Plan,
    root: Path | None = None,
    cwd: Path | None = None,
    max_results: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF log of ``plan``; with ``root`` and ``cwd`` (absolute), URIs under SRCROOT."""
    artifacts = _Artifacts(root, cwd)
    results = _results(plan, artifacts)
    left_out = max(len(results) - max_results, 0)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "hpconfig",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": RULES,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results[:max_results],
    }
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}}
    if left_out:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "descriptor": {"id": "HPC900"},
                        "message": {
                            "text": f"{left_out} of {len(results)} results were left out: "
                            f"code scanning accepts at most {max_results} a run. Missing "
                            "controls come first, then drift by identifier; the JSON plan "
                            "has every change."
                        },
                    }
                ],
            }
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render_sarif(plan: Plan, root: Path | None = None, cwd: Path | None = None) -> str:
    return json.dumps(sarif_document(plan, root, cwd), indent=2, ensure_ascii=False) + "\n"
