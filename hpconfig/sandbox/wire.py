"""Request parsing and its limits: what the sandbox accepts on the wire, and what it refuses.

Owns the per-connection time limits (``DeadlineReader``: a keep-alive connection may sit idle for
so long, and a request once begun must arrive whole, headers and body, within its deadline, so a
client that trickles bytes cannot hold a worker), the body framing (``Content-Length`` that is
one plain decimal number, or ``Transfer-Encoding: chunked`` read as such; a body without either
is refused with 411 rather than left to be read as the next request), the size cap (413) and
JSON bodies (malformed or nested deeper than ``MAX_JSON_DEPTH``: 400). Every refusal is an
``ApiProblem`` with an HTTP status; after one the connection is closed, since what follows on it
can no longer be framed. It must not know routes, the organization or faults.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
from email.message import Message
from typing import Any

from hpconfig.sandbox.rules import ApiProblem

MAX_BODY = 10 * 1024 * 1024  # bytes; far above any write the API takes
MAX_JSON_DEPTH = 64  # no API or admin body nests anywhere near this
_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 32
_DECIMAL = re.compile(r"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_BODY_METHODS = ("POST", "PUT", "PATCH")


class DeadlineReader(io.RawIOBase):
    """The socket as a raw stream whose reads end at a deadline, not only after a quiet gap.

    ``arm`` starts the wait for a request: up to ``idle`` seconds for its first byte, then
    ``whole`` seconds from that byte for the rest. A read past the deadline raises TimeoutError,
    which the handler's base class answers by closing the connection.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = 0.0
        self.whole = 0.0
        self.waiting = True

    def arm(self, idle: float, whole: float) -> None:
        self.deadline = time.monotonic() + idle
        self.whole = whole
        self.waiting = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(remaining)
        count = self.sock.recv_into(buffer)
        if count and self.waiting:
            self.waiting = False
            self.deadline = time.monotonic() + self.whole
        return count


def body_framing(method: str, headers: Message, limit: int) -> int | None:
    """How the request's body is framed: its length, or None for chunked; else ApiProblem."""
    codings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if codings:
        if lengths:
            raise ApiProblem(400, "Content-Length and Transfer-Encoding cannot both be sent")
        names = [name.strip().lower() for value in codings for name in value.split(",")]
        if names != ["chunked"]:
            raise ApiProblem(
                501, f"Transfer-Encoding {', '.join(names)!r} is not supported; send chunked"
            )
        return None
    if lengths:
        values = {value.strip() for value in lengths}
        text = values.pop() if len(values) == 1 else ""
        if not _DECIMAL.fullmatch(text):
            raise ApiProblem(400, "Content-Length must be one non-negative decimal number")
        if int(text) > limit:
            raise ApiProblem(413, f"Request body too large (the limit is {limit} bytes)")
        return int(text)
    if method in _BODY_METHODS:
        raise ApiProblem(411, "Length Required: send Content-Length (0 for no body) or chunked")
    return 0


def read_body(method: str, headers: Message, rfile: io.BufferedIOBase, limit: int) -> bytes:
    """The request's body, framed as its headers say, or ApiProblem."""
    length = body_framing(method, headers, limit)
    if length is None:
        return _read_chunked(rfile, limit)
    body = rfile.read(length) if length else b""
    if len(body) < length:
        raise ApiProblem(400, "The body ended before its Content-Length")
    return body


def _read_chunked(rfile: io.BufferedIOBase, limit: int) -> bytes:
    body = bytearray()
    while True:
        size = _chunk_size(rfile.readline(_MAX_CHUNK_LINE + 1))
        if size == 0:
            break
        if len(body) + size > limit:
            raise ApiProblem(413, f"Request body too large (the limit is {limit} bytes)")
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise ApiProblem(400, "A chunk of the body is truncated or not followed by CRLF")
        body += chunk
    for _ in range(_MAX_TRAILERS):  # trailers are read and dropped
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return bytes(body)
        if not line.endswith(b"\n"):
            break
    raise ApiProblem(400, "The chunked body's trailer is malformed")


def _chunk_size(line: bytes) -> int:
    if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
        raise ApiProblem(400, "A chunk-size line is malformed")
    text = line.split(b";", 1)[0].strip()
    if not _HEX.fullmatch(text):
        raise ApiProblem(400, "A chunk size must be a hexadecimal number")
    return int(text, 16)


def parse_json(raw: bytes) -> Any:
    """A request's JSON body, or ApiProblem(400) saying what is wrong with it."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise ApiProblem(400, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiProblem(400, f"The body is not valid JSON: {error}") from None
    if _depth_exceeds(document, MAX_JSON_DEPTH):
        raise ApiProblem(400, f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    return document


def _depth_exceeds(document: Any, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > limit:
                return True
            stack.extend((item, depth + 1) for item in value)
    return False


def media_type(headers: Message) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()
