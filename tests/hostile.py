"""Hostile servers for tests: real HTTP (or HTTPS) on 127.0.0.1, port 0, in a thread.

``serve(answer)`` runs ``answer(request) -> (status, headers, body)`` for every request and
records what arrived (method, path, headers, body), so a test can assert that a second origin
never received a credential.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Hostile:
    url: str
    seen: list[Seen] = field(default_factory=list)

    def everything(self) -> str:
        """All that arrived, as one text to search for a secret or a token."""
        return "\n".join(
            f"{s.method} {s.path} {s.headers} {s.body.decode('latin-1')}" for s in self.seen
        )


@contextlib.contextmanager
def serve(answer: Callable[[Seen], Answer], tls: ssl.SSLContext | None = None) -> Iterator[Hostile]:
    hostile = Hostile("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
            hostile.seen.append(seen)
            status, headers, body = answer(seen)
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = _any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    hostile.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield hostile
    finally:
        server.shutdown()
        server.server_close()


def recorder(
    status: int = 401, body: bytes = b'{"message": "who are you"}'
) -> Callable[[Seen], Answer]:
    """The second origin: answers every request the same, and keeps what it received."""
    return lambda seen: (status, {}, body)


def redirect_to(location: str, status: int = 307) -> Callable[[Seen], Answer]:
    return lambda seen: (status, {"Location": location}, b"")
