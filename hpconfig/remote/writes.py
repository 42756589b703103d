"""Writes to the API, and the reads that reconcile them: the calls apply makes, one each.

Owns ``PATCH /v1/controls/{id}``, ``POST /v1/controls``, ``GET /v1/controls/{id}`` and the
look-up of a control by its identifier (the lists, active and archived: the filter endpoint
takes ids, not identifiers), each through ``HyperproofClient.request`` and so through the one
retry loop: a 429 or quota 403 is retried for a write too (the API refused it before doing
anything), a timeout, a dropped connection or a 5xx is not (it may have landed). Which outcome
is ambiguous is said here once (``ambiguous``); what to do about it is apply's. It must not
retry a write itself, read YAML or print.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hpconfig import hyperproof as hp
from hpconfig.errors import ApiError
from hpconfig.remote.client import HyperproofClient


def ambiguous(error: ApiError) -> bool:
    """A write that failed this way may or may not have landed: no answer (a timeout, a dropped
    connection, the deadline) or a server error after the request reached it."""
    return error.status is None or error.status >= 500


def duplicate(error: ApiError) -> bool:
    """A create refused because the identifier exists [guess: 409, ``hyperproof``]."""
    return error.status == hp.CREATE_DUPLICATE_STATUS


def _control_path(control_id: str) -> str:
    # An id from the API is untrusted: quoted whole, it can never name another path.
    return f"{hp.CONTROLS_PATH}/{quote(control_id, safe='')}"


def _object(method: str, url: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(method, url, 200, "expected a JSON object (the control)")
    return body


def patch_control(client: HyperproofClient, control_id: str, fields: dict[str, Any]) -> Any:
    path = _control_path(control_id)
    return client.request("PATCH", path, json=fields)


def create_control(client: HyperproofClient, fields: dict[str, Any]) -> dict[str, Any]:
    body = client.request("POST", hp.CONTROLS_PATH, json=fields)
    return _object("POST", client.settings.api_url + hp.CONTROLS_PATH, body)


def get_control(client: HyperproofClient, control_id: str) -> dict[str, Any]:
    path = _control_path(control_id)
    return _object("GET", client.settings.api_url + path, client.request("GET", path))


def find_by_identifier(client: HyperproofClient, identifier: str) -> list[dict[str, Any]]:
    """Every control, active or archived, whose ``controlIdentifier`` is ``identifier``."""
    found: dict[str, dict[str, Any]] = {}
    for status in (None, hp.STATUS_ARCHIVED):
        for control in client.list_controls(status=status):
            if isinstance(control, dict) and control.get("controlIdentifier") == identifier:
                found.setdefault(str(control.get("id")), control)
    return list(found.values())
