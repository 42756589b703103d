"""The sandbox's bearer tokens: issued, looked up, revoked, and gone from memory once expired.

Owns the token table: each token maps to its holder and the moment it expires. Expired tokens are
dropped whenever one is issued, and at most ``MAX_TOKENS`` live at once (the oldest goes first),
so a client that signs in again and again cannot fill memory. It must not check credentials
(``state`` does) or know HTTP.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Generic, TypeVar

MAX_TOKENS = 10_000

Holder = TypeVar("Holder")


class TokenBook(Generic[Holder]):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live: dict[str, tuple[Holder, float]] = {}

    def __len__(self) -> int:
        return len(self.live)

    def __iter__(self) -> Iterator[str]:
        """The live tokens (tests look for them in what a client printed)."""
        with self.lock:
            return iter(list(self.live))

    def issue(self, holder: Holder, lifetime: float) -> str:
        token = "eyJ" + secrets.token_urlsafe(32)  # opaque; looks like a JWT, as Hyperproof's
        with self.lock:
            now = time.monotonic()
            self.live = {t: entry for t, entry in self.live.items() if entry[1] > now}
            while len(self.live) >= MAX_TOKENS:
                del self.live[next(iter(self.live))]
            self.live[token] = (holder, now + lifetime)
        return token

    def holder(self, token: str | None) -> Holder | None:
        """Whose token this is, or None when it is missing, unknown or expired."""
        if not token:
            return None
        with self.lock:
            entry = self.live.get(token)
            if entry is None:
                return None
            if time.monotonic() >= entry[1]:
                del self.live[token]
                return None
            return entry[0]

    def revoke(self) -> int:
        with self.lock:
            count = len(self.live)
            self.live.clear()
            return count
