"""The sandbox's API routes: ``/v1/...`` requests of a signed-in client, answered as JSON.

Owns the bearer check and the route table: list, get, create, patch and filter controls; list
users and the caller. Answers ``(status, body)`` with the body already encoded (the list comes
encoded from ``state``); the rules of the data are in ``state`` and ``rules``. It must not write
to the socket (``handler`` does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.state import Client, Organization
from hpconfig.sandbox.wire import parse_json


def bearer(org: Organization, header: str | None) -> tuple[Client | None, str]:
    """The client an ``Authorization`` header signs in, and how the log names the token."""
    if not header:
        return None, "missing"
    scheme, _, token = header.partition(" ")
    client = org.caller(token.strip()) if scheme.lower() == "bearer" else None
    return client, "valid" if client else "invalid"


def flag(query: dict[str, list[str]], *names: str) -> bool:
    for name in names:
        if name in query:
            return query[name][-1].lower() == "true"
    return False


def _object(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise ApiProblem(400, "A JSON body is required")
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiProblem(400, "The body must be a JSON object")
    return body


def _control_ids(raw: bytes) -> list[Any]:
    ids = _object(raw).get("controlIds")
    if not isinstance(ids, list):
        raise ApiProblem(400, "'controlIds' must be a list of control ids")
    return ids


def api_answer(
    org: Organization,
    method: str,
    path: str,
    query: dict[str, list[str]],
    raw: bytes,
    caller: Client,
) -> tuple[int, bytes]:
    """One API request → (status, JSON body); ApiProblem for what the API refuses."""
    parts = path.split("/")[2:]  # /v1/controls/{id} → ["controls", "{id}"]
    routes: dict[tuple[str, str], Callable[[], tuple[int, Any]]] = {
        ("GET", "controls"): lambda: (
            200,
            org.controls_json(
                query.get("status", [None])[-1], flag(query, "expandScopes", "expandscopes")
            ),
        ),
        ("POST", "controls"): lambda: (
            hp.CREATE_SUCCESS_STATUS,
            org.create_control(_object(raw), caller),
        ),
        ("PUT", "controls/filter"): lambda: (200, org.filter_controls(_control_ids(raw))),
        ("GET", "users"): lambda: (200, org.list_users(flag(query, "includeDeactivated"))),
        ("GET", "users/me"): lambda: (200, org.me(caller)),
    }
    key = "/".join(parts)
    if (method, key) in routes:
        status, document = routes[(method, key)]()
    elif len(parts) == 2 and parts[0] == "controls" and method == "GET":
        status, document = 200, org.get_control(parts[1])
    elif len(parts) == 2 and parts[0] == "controls" and method == "PATCH":
        status, document = 200, org.patch_control(parts[1], _object(raw), caller)
    else:
        status = 404 if method == "GET" else 405
        document = {"statusCode": status, "message": f"No route for {method} {path}"}
    if isinstance(document, bytes):
        return status, document
    return status, json.dumps(document).encode()
