"""Misbehaviour on request: which requests fail, and how.

Owns the fault book (each fault matches a method and a path pattern, and fires for the next N
matching requests or for a fraction of them) and what each kind answers, as a ``Reply``: a
status, headers and the body in pieces, with a pause before each piece (``trickle``), no
length (chunked: ``huge``), compressed (``gzip-bomb``), a redirect to another origin, or the
real list of controls made hostile (``malformed-control``, ``duplicate-identifier``). The
``commit-*`` kinds (``AFTER_COMMIT``) let the request be handled first, so that a write lands, and
then spoil its answer (``after_commit``): the ambiguous outcomes a client of a real API must
reconcile. It must not touch a socket; ``handler`` writes a ``Reply`` in one place.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import random
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from hpconfig import hyperproof as hp

# kind → (status, message); "drop", "malformed" and "html" are not plain statuses.
PRESETS: dict[str, tuple[int, str]] = {
    "rate-limit": (429, hp.RATE_LIMIT_MESSAGE),
    "quota": (403, hp.QUOTA_MESSAGE),
    "unauthorized": (401, "Unauthorized"),
    "server-error": (500, "Internal server error"),
    "bad-gateway": (502, "Bad gateway"),
    "unavailable": (503, "Service unavailable"),
    "gateway-timeout": (504, "Gateway timeout"),
    "drop": (0, "the connection is closed without an answer"),
    "malformed": (200, "a truncated JSON body"),
    "html": (502, "an HTML error page, as a proxy sends"),
    "trickle": (200, "the list of controls, one byte at a time (delay seconds apart)"),
    "huge": (200, "a JSON array of size bytes, chunked, without a length"),
    "gzip-bomb": (200, "gzip that inflates to size bytes"),
    "redirect": (307, "a redirect to another origin (location)"),
    "malformed-control": (200, "the list with a control of wrong types (or control, as given)"),
    "duplicate-identifier": (200, "the list with a second control of one identifier"),
    "commit-drop": (0, "handled (a write lands), then the connection is closed unanswered"),
    "commit-error": (500, "Internal server error"),
    "commit-stall": (0, "handled (a write lands), then answered delay seconds later"),
    "commit-conflict": (
        hp.CREATE_DUPLICATE_STATUS,
        "A control with this identifier already exists",
    ),
    "commit-late": (0, "held delay seconds, then handled (the write lands late), then answered"),
}
# Handled as if there were no fault, then answered otherwise: the write is in the organization
# (and the --state journal) whatever the client hears.
AFTER_COMMIT = frozenset(
    {"commit-drop", "commit-error", "commit-stall", "commit-conflict", "commit-late"}
)
DEFAULT_SIZES = {"huge": 512 * 1024 * 1024, "gzip-bomb": 1024 * 1024 * 1024}
DEFAULT_TRICKLE_DELAY = 0.5
DEFAULT_STALL = 10.0  # seconds: past a test's read timeout, well within the sandbox's own limits
MAX_DELAY = 60.0
# huge, gzip-bomb: 8 times the defaults, far past any client's bound; the bomb is built in
# memory (about a thousandth of it) at 4 s a GiB, so a bigger one would hold the server instead.
MAX_SIZE = 4 * 1024 * 1024 * 1024
MAX_FAULTS = 256  # each may hold a control of up to a request's 10 MiB
PIECE = 64 * 1024


@dataclass
class Fault:
    kind: str
    path: str = "*"  # a shell pattern on the request path: "/v1/controls*", "/oauth/token"
    method: str = "*"
    count: int | None = 1  # fire for the next N matching requests...
    fraction: float | None = None  # ...or for this share of them (then count is ignored)
    retry_after: float | None = None  # seconds, sent as Retry-After when set
    status: int | None = None  # overrides the preset's status
    message: str | None = None  # overrides the preset's message
    size: int | None = None  # huge, gzip-bomb: bytes of the (inflated) body
    delay: float | None = None  # trickle: before each byte; commit-stall, commit-late: the wait
    location: str | None = None  # redirect: where to; default the same path on localhost
    identifier: str | None = None  # malformed-control, duplicate-identifier: which control
    control: Any = None  # malformed-control: a whole control (any JSON) to add as given

    def __post_init__(self) -> None:
        if self.kind not in PRESETS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of: {', '.join(PRESETS)}")
        if self.fraction is not None and not 0 <= self.fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        if self.size is not None and (not isinstance(self.size, int) or self.size < 1):
            raise ValueError("size must be a positive whole number of bytes")
        if self.size is not None and self.size > MAX_SIZE:
            raise ValueError(f"size must be at most {MAX_SIZE} bytes (4 GiB)")
        if self.location is not None and not _header_safe(self.location):
            # written as the Location header: CR LF would start headers of its own
            raise ValueError("location must be printable ASCII (a URL, percent-encoded)")
        if self.delay is not None and not 0 <= float(self.delay) <= MAX_DELAY:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY:g} seconds")
        if self.kind == "commit-error" and self.status is not None and self.status // 100 != 5:
            # a 4xx after a write landed would be a lie; a 5xx is the ambiguity under test
            raise ValueError("commit-error answers a 5xx status (500 to 599)")

    @property
    def after_commit(self) -> bool:
        """The request is handled first (a write lands), then answered as the fault says."""
        return self.kind in AFTER_COMMIT

    @property
    def wait_before(self) -> float:
        """Seconds the request is held before it is handled (commit-late: a write that lands
        after its client gave up)."""
        if self.kind != "commit-late":
            return 0.0
        return DEFAULT_STALL if self.delay is None else float(self.delay)

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else PRESETS[self.kind][0]

    @property
    def text(self) -> str:
        return self.message if self.message is not None else PRESETS[self.kind][1]

    def matches(self, method: str, path: str) -> bool:
        if self.after_commit and not path.startswith("/v1/"):
            # A token is not a write: `commit-conflict,method=POST` means the create, not sign-in.
            return False
        return fnmatch.fnmatchcase(method, self.method) and fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The faults in force; ``take`` picks the first that fires for a request."""

    def __init__(self, rng_seed: int = 0) -> None:
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.rng = random.Random(rng_seed)  # seeded: a fraction fault fires the same way each run

    def add(self, fault: Fault) -> None:
        with self.lock:
            if len(self.faults) >= MAX_FAULTS:
                raise ValueError(
                    f"the sandbox holds at most {MAX_FAULTS} faults; clear them "
                    "(DELETE /_sandbox/faults) first"
                )
            self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [fault.to_dict() for fault in self.faults]

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                if fault.fraction is not None:
                    if self.rng.random() < fault.fraction:
                        return fault
                    continue
                if fault.count is None:
                    return fault
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
            return None


def _header_safe(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


@dataclass
class Reply:
    """What the server writes for a fault; ``length`` None means chunked, ``drop`` nothing."""

    status: int
    body: Iterable[bytes] = ()
    length: int | None = 0
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # before each piece of the body
    drop: bool = False
    wait: float = 0.0  # before anything is sent (a slow server)


def _whole(status: int, body: bytes, **options: Any) -> Reply:
    return Reply(status, [body], len(body), **options)


def _huge(size: int) -> Iterator[bytes]:
    """A JSON array of strings, ``size`` bytes in all, in pieces of at most 64 KiB."""
    piece = b'"' + b"x" * (PIECE - 4) + b'",'
    yield b"["
    left = size - 1
    while left > len(piece) + 4:
        yield piece
        left -= len(piece)
    yield b'"' + b"x" * max(left - 3, 0) + b'"]'


@functools.lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    """gzip of ``size`` spaces: about a thousandth of the size on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * min(size, 1024 * 1024)
    parts = []
    left = size
    while left > 0:
        parts.append(compressor.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def _target(controls: list[Any], identifier: str | None) -> int | None:
    for index, control in enumerate(controls):
        if identifier is None or (
            isinstance(control, dict) and control.get("controlIdentifier") == identifier
        ):
            return index
    return None  # not in this list (say, the archived one): it stays as it is


def _hostile_list(fault: Fault, controls: list[Any]) -> list[Any]:
    controls = copy.deepcopy(controls)
    if fault.kind == "malformed-control" and fault.control is not None:
        return [*controls, fault.control]
    index = _target(controls, fault.identifier)
    if index is None:
        return controls
    if fault.kind == "duplicate-identifier":
        twin = dict(controls[index], id=f"{controls[index].get('id')}-duplicate")
        return [*controls, twin]
    controls[index].update(
        owner=42, freshForDuration={"days": 30}, updatedOn=20261120, name=["not", "a", "string"]
    )
    return controls


def reply(fault: Fault, path: str, live_list: Callable[[], bytes], port: int) -> Reply:
    """The answer a fault gives instead of the real one."""
    status = fault.http_status
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    if fault.kind == "drop":
        return Reply(0, drop=True)
    if fault.kind == "malformed":
        return _whole(status, b'{"id": "truncated', headers=headers)
    if fault.kind == "html":
        page = (
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><center><h1>502 Bad Gateway</h1></center></body></html>"
        )
        return _whole(status, page.encode(), headers=headers, content_type="text/html")
    if fault.kind == "trickle":
        body = live_list()
        pieces = (body[i : i + 1] for i in range(len(body)))
        delay = DEFAULT_TRICKLE_DELAY if fault.delay is None else float(fault.delay)
        return Reply(status, pieces, len(body), headers, delay=delay)
    if fault.kind == "huge":
        return Reply(status, _huge(fault.size or DEFAULT_SIZES["huge"]), None, headers)
    if fault.kind == "gzip-bomb":
        headers["Content-Encoding"] = "gzip"
        return _whole(status, _bomb(fault.size or DEFAULT_SIZES["gzip-bomb"]), headers=headers)
    if fault.kind == "redirect":
        headers["Location"] = fault.location or f"http://localhost:{port}{path}"
        return _whole(status, b"", headers=headers)
    if fault.kind in ("malformed-control", "duplicate-identifier"):
        body = json.dumps(_hostile_list(fault, json.loads(live_list()))).encode()
        return _whole(status, body, headers=headers)
    error = json.dumps({"statusCode": status, "message": fault.text}).encode()
    return _whole(status, error, headers=headers)


def after_commit(
    fault: Fault, handled: tuple[int, bytes, dict[str, str]], request_body: bytes
) -> Reply:
    """The answer a ``commit-*`` fault gives once the request was ``handled`` as (status, body,
    headers): nothing, a 5xx, the real answer late, or the 409 of a duplicate create."""
    if fault.kind == "commit-drop":
        return Reply(0, drop=True)
    if fault.kind == "commit-late":  # the real answer, to a client that has likely gone
        status, body, headers = handled
        return _whole(status, body, headers=dict(headers))
    if fault.kind == "commit-stall":
        status, body, headers = handled
        wait = DEFAULT_STALL if fault.delay is None else float(fault.delay)
        return _whole(status, body, headers=dict(headers), wait=wait)
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    message = fault.text
    if fault.kind == "commit-conflict" and fault.message is None:
        identifier = _identifier(request_body)
        if identifier is not None:  # the message the API gives a real duplicate
            message = f"A control with identifier '{identifier}' already exists"
    error = json.dumps({"statusCode": fault.http_status, "message": message}).encode()
    return _whole(fault.http_status, error, headers=headers)


def _identifier(request_body: bytes) -> str | None:
    try:
        body = json.loads(request_body) if request_body else None
    except (ValueError, RecursionError):
        return None
    value = body.get("controlIdentifier") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None
