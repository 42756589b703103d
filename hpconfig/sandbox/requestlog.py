"""The sandbox's request log: what clients sent, for tests to assert on, in a bounded ring.

Owns ``LogEntry`` (method, path, query, whether the token was valid, the *keys* of a body, the
status, the fault that fired and, behind a ``commit-*`` fault, the status the request was really
handled with) and ``RequestLog``, which keeps the newest entries only, so that a
sandbox serving for days holds a fixed amount of memory. Values of a body are never kept: no
secret can reach the log. It must not know HTTP beyond these fields.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.wire import parse_json

DEFAULT_LOG_LIMIT = 10_000  # entries; a few MB


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
    # Behind a commit-* fault: the status the request was really handled with (a 2xx write
    # landed), while ``status`` is what the client was sent (0: nothing).
    handled_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RequestLog:
    """The newest ``limit`` entries, oldest first; ``dropped`` counts the ones let go."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the request log keeps at least one entry")
        self.lock = threading.Lock()
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self.dropped = 0

    def record(self, entry: LogEntry) -> None:
        with self.lock:
            if len(self.entries) == self.entries.maxlen:
                self.dropped += 1
            self.entries.append(entry)

    def to_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [entry.to_dict() for entry in self.entries]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.dropped = 0


def body_keys(raw: bytes, content_type: str | None) -> list[str]:
    """The keys of a body, never its values: the log must not hold a secret."""
    if not raw:
        return []
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return sorted(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        body = parse_json(raw)
    except ApiProblem:
        return []
    return sorted(body) if isinstance(body, dict) else []
