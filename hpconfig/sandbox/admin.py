"""The sandbox's admin path, ``/_sandbox/...``: what tests use to steer and inspect it.

Owns who may use it and what it accepts. It has no authentication, so ``admin_refusal`` lets
through only a loopback caller that names a loopback host (a web page that rebinds its own DNS
name to 127.0.0.1 still sends its name as ``Host``) and, for a change, sends JSON without a
foreign ``Origin`` (a browser can send a cross-site form or text body, or none at all, without
asking first; JSON it cannot). Every admin body is checked (types, finite non-negative numbers,
known keys) and refused with 400 and a message, never half applied. Owns the admin routes: the
request log, faults, settings, reset, token revocation and a view of the state without client
secrets. Answers ``(status, document)``; the handler writes it.
"""

from __future__ import annotations

import dataclasses
import math
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hpconfig.loopback import is_loopback_host
from hpconfig.sandbox.faults import Fault
from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.wire import media_type, parse_json

if TYPE_CHECKING:
    from hpconfig.sandbox.server import SandboxServer

MAX_LATENCY = 600.0  # seconds; more is a typo, and would hold a worker for as long
MAX_TOKEN_LIFETIME = 10 * 365 * 86400.0


def admin_refusal(client_host: str, method: str, headers: Message) -> tuple[int, str] | None:
    """Why an admin request is refused, as (status, message), or None to serve it."""
    if not is_loopback_host(client_host):
        return 403, "The sandbox admin path answers loopback callers only"
    hosts = headers.get_all("Host") or []
    if len(hosts) != 1 or not is_loopback_host(_hostname(hosts[0])):
        return 403, "The sandbox admin path needs a loopback name in Host (127.0.0.1, localhost)"
    origin = headers.get("Origin")
    if origin is not None and not is_loopback_host(_hostname(urlsplit(origin).netloc)):
        return 403, "The sandbox admin path refuses requests from web pages of other sites"
    if (headers.get("Sec-Fetch-Site") or "").lower() == "cross-site":
        return 403, "The sandbox admin path refuses requests from web pages of other sites"
    if method != "GET" and media_type(headers) != "application/json":
        return 415, "The sandbox admin path takes Content-Type: application/json"
    return None


def _hostname(netloc: str) -> str:
    """``[::1]:8765`` → ``::1``; ``LocalHost:80`` → ``localhost``."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else ""
    return netloc.split(":")[0]


def _object(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "the body must be a JSON object")
    return body


def _number(name: str, value: Any, low: float, high: float) -> float:
    """A finite number in range, or 400 saying which key and why."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ApiProblem(400, f"{name!r} must be a finite number, not {value!r}")
    if not low <= value <= high:
        raise ApiProblem(400, f"{name!r} must be between {low:g} and {high:g}, not {value!r}")
    return float(value)


def fault_from_json(body: dict[str, Any]) -> Fault:
    """A fault from its JSON, each key checked against the type ``Fault`` declares for it."""
    fields = {field.name: str(field.type) for field in dataclasses.fields(Fault)}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiProblem(400, f"unknown fault key(s) {unknown}; expected some of {sorted(fields)}")
    for name, value in body.items():
        kinds = {part.strip() for part in fields[name].split("|")}
        if value is None and "None" in kinds:
            continue
        if "int" in kinds and (isinstance(value, bool) or not isinstance(value, int)):
            raise ApiProblem(400, f"{name!r} must be an integer, not {value!r}")
        if "int" in kinds or "float" in kinds:
            low, high = (100, 599) if name == "status" else (0, math.inf)  # status: HTTP's
            _number(name, value, low, high)
        elif "str" in kinds and not isinstance(value, str):
            raise ApiProblem(400, f"{name!r} must be a string, not {value!r}")
    try:
        return Fault(**body)
    except (TypeError, ValueError) as error:
        raise ApiProblem(400, str(error)) from None


def settings_from_json(body: dict[str, Any]) -> dict[str, float]:
    """The settings a body changes, checked: ``latency`` (s) and ``tokenLifetime`` (s)."""
    limits = {"latency": MAX_LATENCY, "tokenLifetime": MAX_TOKEN_LIFETIME}
    unknown = sorted(set(body) - set(limits))
    if unknown:
        raise ApiProblem(400, f"unknown setting(s) {unknown}; expected some of {sorted(limits)}")
    return {name: _number(name, value, 0, limits[name]) for name, value in body.items()}


def admin_answer(server: SandboxServer, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    """One admin request → (status, JSON document); ApiProblem for a bad body."""
    route = (method, path)
    if route == ("GET", "/requests"):
        return 200, server.request_log.to_list()
    if route == ("DELETE", "/requests"):
        server.request_log.clear()
        return 200, {"cleared": True}
    if route == ("GET", "/faults"):
        return 200, server.faults.list()
    if route == ("POST", "/faults"):
        fault = fault_from_json(_object(raw))
        try:
            server.faults.add(fault)
        except ValueError as error:
            raise ApiProblem(400, str(error)) from None
        return 201, fault.to_dict()
    if route == ("DELETE", "/faults"):
        server.faults.clear()
        return 200, {"cleared": True}
    if route == ("POST", "/settings"):
        changes = settings_from_json(_object(raw))
        server.settings.latency = changes.get("latency", server.settings.latency)
        server.settings.token_lifetime = changes.get(
            "tokenLifetime", server.settings.token_lifetime
        )
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
