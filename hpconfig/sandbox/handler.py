"""One connection of the sandbox: read each request within its limits, dispatch it, answer it.

Owns the plumbing between the socket and the routes: the per-request deadline (``wire``), the
body, the split between the admin path (``admin``, after its guard), the token endpoint
(``oauth``) and the API (``api``), faults on the wire (``send_fault``, the one place a fault
becomes bytes: instead of handling the request, or, for the ``commit-*`` kinds, after it was
handled and its write landed) and the request log entry of each request. Every answer is JSON
with the API's error shape unless a fault says otherwise; a sandbox bug still answers 500.
"""

from __future__ import annotations

import io
import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from hpconfig.sandbox.admin import admin_answer, admin_refusal
from hpconfig.sandbox.api import api_answer, bearer, flag
from hpconfig.sandbox.faults import Fault, after_commit, reply
from hpconfig.sandbox.oauth import token_answer
from hpconfig.sandbox.requestlog import LogEntry, body_keys
from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.wire import DeadlineReader, body_framing, media_type, read_body

if TYPE_CHECKING:
    from hpconfig.sandbox.server import SandboxServer

log = logging.getLogger("hpconfig.sandbox")

ADMIN_PREFIX = "/_sandbox"
JSON = "application/json"


def _error(status: int, message: str) -> tuple[int, bytes, str, dict[str, str]]:
    """The API's error shape, as ``Handler.answer`` returns an answer."""
    return status, json.dumps({"statusCode": status, "message": message}).encode(), JSON, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: unbuffered writes with Nagle on cost a delayed
    # ACK (40 ms) per answer.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: SandboxServer
    server_version = "hpconfig-sandbox"
    entry: LogEntry | None = None  # the request log's entry of the API request being answered

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the base's reader has no deadline; this one takes its place
        self.reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self.reader, 64 * 1024)

    def handle_one_request(self) -> None:
        settings = self.server.settings
        self.reader.arm(settings.idle_timeout, settings.request_timeout)
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        """A body that would be refused is refused before the client sends it; else "100
        Continue" leaves at once."""
        try:
            body_framing(self.command, self.headers, self.server.limits.max_body)
        except ApiProblem as problem:
            self.close_connection = True
            self.send_error_json(problem.status, problem.message, {"Connection": "close"})
            return False
        super().handle_expect_100()
        self.wfile.flush()  # the answers are buffered; the client waits for this line now
        return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        log.debug("%s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's own refusals (a malformed request line, an unknown method, headers
        too long) in the API's JSON shape, without the request line the base would echo back:
        it may hold a secret."""
        self.close_connection = True
        self.command = self.command or "GET"  # a HEAD request still gets no body
        self.request_version = "HTTP/1.1"  # the base leaves 0.9 (no status line) on a bad line
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.send_error_json(code, phrase, {"Connection": "close"})

    # --- answers ------------------------------------------------------------------------------

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        # The reader left the socket's timeout at what remained of the request's deadline.
        self.connection.settimeout(self.server.settings.request_timeout)
        self.answering(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answering(self, status: int) -> None:
        """The status about to go out, set in the request log before its first byte is sent: a
        client that has its answer (and reads the log on another connection) finds it there,
        complete, instead of racing this thread to it."""
        self.status = status
        if self.entry is not None:
            self.entry.status = status

    def send_json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(document).encode(), headers=headers)

    def send_error_json(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_json(status, {"statusCode": status, "message": message}, headers)

    # --- dispatch -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        self.status = 0
        admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        entry = LogEntry(method, path, query, "", [], 0, content_type=self.headers["Content-Type"])
        # An API request is in the log before any answer to it leaves (``answering`` fills in
        # its status): a client that has its answer always finds its request there.
        self.entry = None if admin else entry
        if not admin:
            self.server.request_log.record(entry)
        try:
            raw = read_body(method, self.headers, self.rfile, self.server.limits.max_body)
        except ApiProblem as problem:
            self.close_connection = True  # what follows on the connection cannot be framed
            self.send_error_json(problem.status, problem.message, {"Connection": "close"})
            return
        if admin:
            self.admin(method, path[len(ADMIN_PREFIX) :], raw)
            return
        try:
            self.serve(method, path, query, raw, entry)
        except ApiProblem as problem:
            self.send_error_json(problem.status, problem.message)
        except (ConnectionError, TimeoutError):  # the client left or stopped reading: no news
            self.close_connection = True
        except Exception:  # a sandbox bug must still answer, and say so
            log.exception("sandbox error on %s %s", method, path)
            self.send_error_json(500, "Sandbox internal error")
        finally:
            entry.status = self.status

    def serve(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, entry: LogEntry
    ) -> None:
        entry.body_keys = body_keys(raw, self.headers["Content-Type"])
        if self.server.settings.latency and self.server.closing.wait(self.server.settings.latency):
            self.close_connection = True  # the sandbox is stopping: nothing lands after it
            return
        fault = self.server.faults.take(method, path)
        if fault is not None:
            entry.fault = fault.kind
            if not fault.after_commit:  # answered instead of the request: nothing is written
                send_fault(self, fault, path, query)
                return
            if fault.wait_before and self.server.closing.wait(fault.wait_before):
                self.close_connection = True  # the sandbox is stopping: nothing lands
                return
        handled = self.answer(method, path, query, raw, entry)
        if fault is None:
            self.send(*handled)
        else:
            entry.handled_status = handled[0]
            send_fault(self, fault, path, query, handled, raw)

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, entry: LogEntry
    ) -> tuple[int, bytes, str, dict[str, str]]:
        """The request handled (a write lands here): its answer as (status, body, content type,
        headers), not yet sent, so that a ``commit-*`` fault can answer otherwise."""
        try:
            if path == "/oauth/token" and method == "POST":
                status, document = token_answer(
                    self.server.org,
                    self.server.settings.token_lifetime,
                    media_type(self.headers),
                    raw,
                )
                return status, json.dumps(document).encode(), JSON, {"Cache-Control": "no-store"}
            if path.startswith("/v1/"):
                caller, entry.token = bearer(self.server.org, self.headers["Authorization"])
                if caller is None:
                    return _error(401, "Unauthorized")
                status, body = api_answer(self.server.org, method, path, query, raw, caller)
                return status, body, JSON, {}
            return _error(404, f"No route for {method} {path}")
        except ApiProblem as problem:
            return _error(problem.status, problem.message)

    def admin(self, method: str, path: str, raw: bytes) -> None:
        refusal = admin_refusal(self.client_address[0], method, self.headers)
        if refusal is not None:
            self.send_error_json(*refusal)
            return
        try:
            status, document = admin_answer(self.server, method, path, raw)
        except ApiProblem as problem:
            self.send_error_json(problem.status, problem.message)
            return
        except Exception:  # a sandbox bug (or a full disk on reset) must still answer
            log.exception("sandbox error on %s %s%s", method, ADMIN_PREFIX, path)
            self.send_error_json(500, "Sandbox internal error")
            return
        self.send_json(status, document)


def send_fault(
    handler: Handler,
    fault: Fault,
    path: str,
    query: dict[str, list[str]],
    handled: tuple[int, bytes, str, dict[str, str]] | None = None,
    raw: bytes = b"",
) -> None:
    """The one place a fault reaches the wire: ``faults.reply`` says what to write; ``path`` and
    ``query`` are the request's, for faults that answer with the real data made hostile. For a
    ``commit-*`` fault, ``handled`` is the real answer of the request (whose body is ``raw``),
    already acted on, and ``faults.after_commit`` says what to write instead."""
    if handled is not None:
        status, body, content_type, headers = handled
        answer = after_commit(fault, (status, body, headers), raw)
        answer.content_type = content_type
    else:
        status_filter = query.get("status", [None])[-1]
        expand = flag(query, "expandScopes", "expandscopes")
        answer = reply(
            fault,
            path,
            lambda: handler.server.controls_body(status_filter, expand),
            handler.server.server_address[1],
        )
    if answer.wait and handler.server.closing.wait(answer.wait):
        answer.drop = True  # the sandbox is stopping: no worker waits out a stall
    if answer.drop:
        handler.close_connection = True
        return
    # The reader left the socket's timeout at what remained of the request's deadline.
    handler.connection.settimeout(handler.server.settings.request_timeout)
    handler.answering(answer.status)
    handler.send_response(answer.status)
    handler.send_header("Content-Type", answer.content_type)
    chunked = answer.length is None
    if chunked or answer.delay or answer.wait or fault.kind == "gzip-bomb":
        handler.send_header("Connection", "close")  # the client gives up mid-body
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(answer.length))
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    try:
        handler.wfile.flush()
        # The body goes straight to the socket: when the client gives up (as it should on a
        # trickle or a huge body), nothing is left in a buffer for the server to choke on.
        for piece in answer.body:
            if answer.delay and handler.server.closing.wait(answer.delay):
                handler.close_connection = True  # the sandbox is stopping: no trickle holds it
                return
            handler.connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            handler.connection.sendall(b"0\r\n\r\n")
    except OSError:
        handler.close_connection = True
