"""The sandbox's HTTP server: the Hyperproof API on loopback, plus an admin path for tests.

Owns routing, the wire format (JSON bodies, error shapes, headers), bearer-token checks, faults
on the wire, the request log and the ``Sandbox`` context manager that runs it in a thread. The
rules of the data live in ``state``; which requests fail in ``faults``.

The admin path ``/_sandbox/...`` has no authentication, so it answers loopback callers only.
The request log keeps method, path, query, whether the token was valid and the *keys* of a
body, never a value, so that no secret can reach it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hpconfig import hyperproof as hp
from hpconfig.loopback import is_loopback_host
from hpconfig.sandbox.admin import admin_answer
from hpconfig.sandbox.faults import Fault, FaultBook, reply
from hpconfig.sandbox.oauth import token_answer
from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.state import Client, Organization

log = logging.getLogger("hpconfig.sandbox")

ADMIN_PREFIX = "/_sandbox"
MAX_BODY = 10 * 1024 * 1024


@dataclass
class Settings:
    latency: float = 0.0  # seconds added to every API and token request
    token_lifetime: float = hp.DEFAULT_TOKEN_LIFETIME_SECONDS


@dataclass
class LogEntry:
    method: str
    path: str
    query: dict[str, list[str]]
    token: str  # "valid", "invalid", "missing", or "" where no token is asked for
    body_keys: list[str]
    status: int
    fault: str | None = None
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _ListCache:
    version: int = -1
    bodies: dict[tuple[str | None, bool], bytes] = field(default_factory=dict)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        seed: dict[str, Any],
        state_path: Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.seed = seed
        self.state_path = state_path
        if state_path is not None and state_path.is_file():
            seed_now = json.loads(state_path.read_text(encoding="utf-8"))
        else:
            seed_now = seed
        self.org = Organization(seed_now)
        self.settings = settings or Settings()
        self.faults = FaultBook()
        self.log_lock = threading.Lock()
        self.request_log: list[LogEntry] = []
        self.cache = _ListCache()
        self.cache_lock = threading.Lock()
        super().__init__(address, _Handler)
        if state_path is not None:
            self.org.save(state_path)

    def record(self, entry: LogEntry) -> None:
        with self.log_lock:
            self.request_log.append(entry)

    def persist(self) -> None:
        if self.state_path is not None:
            self.org.save(self.state_path)

    def reset(self) -> None:
        self.org.load(self.seed)
        self.org.revoke_tokens()
        self.faults.clear()
        with self.log_lock:
            self.request_log.clear()
        self.settings.latency = 0.0
        self.settings.token_lifetime = hp.DEFAULT_TOKEN_LIFETIME_SECONDS
        self.persist()

    def controls_body(self, status: str | None, expand: bool) -> bytes:
        """The list answer, serialised once per state version (the list is the hot path)."""
        with self.cache_lock:
            if self.cache.version != self.org.version:
                self.cache = _ListCache(self.org.version)
            key = (status, expand)
            body = self.cache.bodies.get(key)
            if body is None:
                body = json.dumps(self.org.list_controls(status, expand)).encode()
                self.cache.bodies[key] = body
            return body


def _flag(query: dict[str, list[str]], *names: str) -> bool:
    for name in names:
        if name in query:
            return query[name][-1].lower() == "true"
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: unbuffered writes with Nagle on cost a delayed
    # ACK (40 ms) per answer.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: SandboxServer
    server_version = "hpconfig-sandbox"

    # --- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        log.debug("%s %s", self.address_string(), format % args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._status = status

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(document).encode(), headers=headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"statusCode": status, "message": message}, headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiProblem(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> Any:
        if not raw:
            raise ApiProblem(400, "A JSON body is required")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiProblem(400, "The body is not valid JSON") from None

    # --- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        self._status = 0
        try:
            raw = self._read_body()
        except (ApiProblem, ValueError):
            self.close_connection = True
            self._error(413, "Request body too large")
            return
        if path.startswith(ADMIN_PREFIX):
            if not is_loopback_host(self.client_address[0]):
                self._error(403, "The sandbox admin path answers loopback callers only")
                return
            self._admin(method, path[len(ADMIN_PREFIX) :], raw)
            return
        entry = LogEntry(
            method, path, query, "", [], 0, content_type=self.headers.get("Content-Type")
        )
        try:
            if self.server.settings.latency:
                time.sleep(self.server.settings.latency)
            fault = self.server.faults.take(method, path)
            if fault is not None:
                entry.fault = fault.kind
                entry.body_keys = _body_keys(raw, self.headers.get("Content-Type"))
                self._fault(fault, path, query)
            elif path == "/oauth/token" and method == "POST":
                self._token(raw, entry)
            elif path.startswith("/v1/"):
                self._api(method, path, query, raw, entry)
            else:
                self._error(404, f"No route for {method} {path}")
        except ApiProblem as problem:
            self._error(problem.status, problem.message)
        except Exception:  # a sandbox bug must still answer, and say so
            log.exception("sandbox error on %s %s", method, path)
            self._error(500, "Sandbox internal error")
        finally:
            entry.status = self._status
            self.server.record(entry)

    def _fault(self, fault: Fault, path: str, query: dict[str, list[str]]) -> None:
        """The one place a fault reaches the wire: ``faults.reply`` says what to write."""
        status_filter = query.get("status", [None])[-1]
        expand = _flag(query, "expandScopes", "expandscopes")
        answer = reply(
            fault,
            path,
            lambda: self.server.controls_body(status_filter, expand),
            self.server.server_address[1],
        )
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        chunked = answer.length is None
        if chunked or answer.delay or fault.kind == "gzip-bomb":
            self.send_header("Connection", "close")  # the client gives up mid-body
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(answer.length))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self._status = answer.status
        try:
            self.wfile.flush()
            # The body goes straight to the socket: when the client gives up (as it should on a
            # trickle or a huge body), nothing is left in a buffer for the server to choke on.
            for piece in answer.body:
                if answer.delay:
                    time.sleep(answer.delay)
                self.connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.connection.sendall(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    # --- OAuth ------------------------------------------------------------------------------

    def _token(self, raw: bytes, entry: LogEntry) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        entry.body_keys = _body_keys(raw, content_type)
        status, document = token_answer(
            self.server.org, self.server.settings.token_lifetime, content_type, raw
        )
        self._json(status, document, {"Cache-Control": "no-store"})

    # --- the API ----------------------------------------------------------------------------

    def _caller(self, entry: LogEntry) -> Client | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if not header:
            entry.token = "missing"
            return None
        client = self.server.org.caller(token.strip()) if scheme.lower() == "bearer" else None
        entry.token = "valid" if client else "invalid"
        return client

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, entry: LogEntry
    ) -> None:
        entry.body_keys = _body_keys(raw, self.headers.get("Content-Type"))
        caller = self._caller(entry)
        if caller is None:
            self._error(401, "Unauthorized")
            return
        org = self.server.org
        parts = path.split("/")[2:]  # /v1/controls/{id} → ["controls", "{id}"]
        route: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", "controls"): lambda: self._send(
                200,
                self.server.controls_body(
                    query.get("status", [None])[-1], _flag(query, "expandScopes", "expandscopes")
                ),
            ),
            ("POST", "controls"): lambda: self._write(
                hp.CREATE_SUCCESS_STATUS, lambda: org.create_control(self._object(raw), caller)
            ),
            ("PUT", "controls/filter"): lambda: self._json(
                200, org.filter_controls(self._control_ids(raw))
            ),
            ("GET", "users"): lambda: self._json(
                200, org.list_users(_flag(query, "includeDeactivated"))
            ),
            ("GET", "users/me"): lambda: self._json(200, org.me(caller)),
        }
        key = "/".join(parts)
        if (method, key) in route:
            route[(method, key)]()
        elif len(parts) == 2 and parts[0] == "controls" and method == "GET":
            self._json(200, org.get_control(parts[1]))
        elif len(parts) == 2 and parts[0] == "controls" and method == "PATCH":
            self._write(200, lambda: org.patch_control(parts[1], self._object(raw), caller))
        else:
            self._error(404 if method == "GET" else 405, f"No route for {method} {path}")

    def _object(self, raw: bytes) -> dict[str, Any]:
        body = self._json_body(raw)
        if not isinstance(body, dict):
            raise ApiProblem(400, "The body must be a JSON object")
        return body

    def _control_ids(self, raw: bytes) -> list[Any]:
        body = self._object(raw)
        ids = body.get("controlIds")
        if not isinstance(ids, list):
            raise ApiProblem(400, "'controlIds' must be a list of control ids")
        return ids

    def _write(self, status: int, change: Callable[[], dict[str, Any]]) -> None:
        control = change()
        self.server.persist()
        self._json(status, control)

    # --- admin ------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, raw: bytes) -> None:
        try:
            status, document = admin_answer(self.server, method, path, raw)
        except (ApiProblem, TypeError, ValueError) as problem:
            self._error(400, str(problem))
            return
        self._json(status, document)


def _body_keys(raw: bytes, content_type: str | None) -> list[str]:
    """The keys of a body, never its values: the log must not hold a secret."""
    if not raw:
        return []
    kind = (content_type or "").split(";")[0].strip()
    try:
        if kind == "application/x-www-form-urlencoded":
            return sorted(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))
        body = json.loads(raw)
    except ValueError:
        return []
    return sorted(body) if isinstance(body, dict) else []
