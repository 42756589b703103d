"""The rules a write to the sandbox must pass, answered as Hyperproof would.

Owns the checks on PATCH and POST bodies: unknown fields, empty names, enums, ISO-8601
durations, owners (unknown, deactivated, or a service account, which can never own a control)
and duplicate identifiers, each an ``ApiProblem`` with its HTTP status. Pure functions over the
organization's data; ``state`` calls them under its lock.
"""

from __future__ import annotations

import uuid
from typing import Any

import isodate

from hpconfig import hyperproof as hp
from hpconfig.control import API_ENUMS


class ApiProblem(Exception):
    """A request the API refuses: HTTP status and the server's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown and hp.REJECT_UNKNOWN_FIELDS:
        raise ApiProblem(400, f"Unknown field(s): {', '.join(unknown)}")


# The managed fields' values, from the field table; health is the API's own (not managed).
_ENUMS = {**API_ENUMS, "health": hp.HEALTH_VALUES}


def validated_changes(
    body: dict[str, Any],
    control_id: str | None,
    controls: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]],
    domains: dict[str, str],
) -> dict[str, Any]:
    """The stored-field changes a write body asks for, or ApiProblem(400/409)."""
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("controlIdentifier", "name") and (
            not isinstance(value, str) or not value.strip()
        ):
            raise ApiProblem(400, f"'{key}' must be a non-empty string")
        if key in ("description", "notes", "workStatus", "freshAsOfNote") and not isinstance(
            value, (str, type(None))
        ):
            raise ApiProblem(400, f"'{key}' must be a string")
        if key in _ENUMS and value not in _ENUMS[key]:
            raise ApiProblem(
                400, f"'{value}' is not a valid {key}; expected one of {', '.join(_ENUMS[key])}"
            )
        if key == "freshForDuration":
            check_duration(value)
        if key == "owner":
            value = owner_id(value, users)
        if key == "controlIdentifier":
            for other in controls.values():
                if other["controlIdentifier"] == value and other["id"] != control_id:
                    raise ApiProblem(
                        hp.CREATE_DUPLICATE_STATUS,
                        f"A control with identifier '{value}' already exists",
                    )
        changes[key] = value
    if changes.pop("clearDomain", False):
        changes["domainId"], changes["domainName"] = None, None
    elif "domainName" in changes and "domainId" not in changes:
        name = changes["domainName"]
        changes["domainId"] = domains.setdefault(name, str(uuid.uuid4())) if name else None
    return changes


def owner_id(value: Any, users: dict[str, dict[str, Any]]) -> str | None:
    """The owner a write names (the org-user ``id``, a [guess] kept in ``hyperproof``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiProblem(400, "'owner' must be a user id (a string)")
    user = users.get(value)
    if user is None:
        raise ApiProblem(400, f"Unknown owner: no user has id '{value}'")
    if user.get("type") in hp.SERVICE_ACCOUNT_TYPES:
        raise ApiProblem(400, "A service account cannot be the owner of a control")
    if user.get("type") in hp.DEACTIVATED_TYPES:
        raise ApiProblem(400, f"User '{value}' is deactivated and cannot own a control")
    return value


def check_duration(value: Any) -> None:
    if value is None:
        return
    try:
        parsed = isodate.parse_duration(value) if isinstance(value, str) else None
    except (isodate.ISO8601Error, ValueError):
        parsed = None
    if parsed is None or not hasattr(parsed, "total_seconds") or parsed.total_seconds() <= 0:
        raise ApiProblem(400, f"'{value}' is not a valid freshForDuration (ISO-8601, e.g. PT720H)")
