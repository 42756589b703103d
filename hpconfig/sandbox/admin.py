"""The sandbox's admin path, ``/_sandbox/...``: what tests use to steer and inspect it.

Owns the admin routes: the request log, faults, settings, reset, token revocation and a view
of the state without client secrets. Answers ``(status, document)``; the server writes it and
has already checked that the caller is on loopback.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hpconfig.sandbox.faults import Fault

if TYPE_CHECKING:
    from hpconfig.sandbox.server import SandboxServer


def _object(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw or b"{}")
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def admin_answer(server: SandboxServer, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    """One admin request → (status, JSON document); ValueError or TypeError for a bad body."""
    route = (method, path)
    if route == ("GET", "/requests"):
        with server.log_lock:
            return 200, [entry.to_dict() for entry in server.request_log]
    if route == ("DELETE", "/requests"):
        with server.log_lock:
            server.request_log.clear()
        return 200, {"cleared": True}
    if route == ("GET", "/faults"):
        return 200, server.faults.list()
    if route == ("POST", "/faults"):
        fault = Fault(**_object(raw))
        server.faults.add(fault)
        return 201, fault.to_dict()
    if route == ("DELETE", "/faults"):
        server.faults.clear()
        return 200, {"cleared": True}
    if route == ("POST", "/settings"):
        body = _object(raw)
        if "latency" in body:
            server.settings.latency = float(body["latency"])
        if "tokenLifetime" in body:
            server.settings.token_lifetime = float(body["tokenLifetime"])
        return 200, dict(server.settings.__dict__)
    if route == ("POST", "/reset"):
        server.reset()
        return 200, {"reset": True}
    if route == ("POST", "/revoke-tokens"):
        return 200, {"revoked": server.org.revoke_tokens()}
    if route == ("GET", "/state"):
        state = server.org.dump()
        for client in state["clients"]:
            client.pop("clientSecret")  # the admin view shows no secret
        return 200, state
    return 404, {"statusCode": 404, "message": f"No admin route for {method} {path}"}
