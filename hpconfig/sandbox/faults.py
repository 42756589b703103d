"""Misbehaviour on request: which requests fail, and how.

Owns the fault book: each fault matches a method and a path pattern, and fires for the next N
matching requests or for a fraction of them. It must not write responses; ``server`` turns a
fault into bytes on the wire.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass
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
}


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

    def __post_init__(self) -> None:
        if self.kind not in PRESETS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of: {', '.join(PRESETS)}")
        if self.fraction is not None and not 0 <= self.fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else PRESETS[self.kind][0]

    @property
    def text(self) -> str:
        return self.message if self.message is not None else PRESETS[self.kind][1]

    def matches(self, method: str, path: str) -> bool:
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
