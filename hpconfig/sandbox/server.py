"""The sandbox's server: a listening socket, a bounded pool of workers, and what they share.

Owns the lifecycle (start from a seed or a ``--state`` file, reset, close) and the objects every
connection shares: the organization, its ``StateStore``, the fault book, the request log and the
settings. Connections are served by at most ``workers`` threads (started as needed, reused);
more connections wait in a queue (of at most ``queued``; beyond it they are closed) instead of
each taking a thread, and the handler's deadlines free a worker that a client holds idle or
half-sent. Routing and the wire are in ``handler``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from dataclasses import dataclass
from http.server import HTTPServer
from pathlib import Path
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.sandbox.faults import FaultBook
from hpconfig.sandbox.freshness import Clock, utc_now
from hpconfig.sandbox.handler import ADMIN_PREFIX, Handler
from hpconfig.sandbox.requestlog import DEFAULT_LOG_LIMIT, RequestLog
from hpconfig.sandbox.state import Organization
from hpconfig.sandbox.store import SEQ_KEY, StateStore
from hpconfig.sandbox.wire import MAX_BODY

__all__ = ["ADMIN_PREFIX", "Limits", "SandboxServer", "SandboxOptions"]

log = logging.getLogger("hpconfig.sandbox")

DEFAULT_WORKERS = 32


@dataclass
class SandboxOptions:
    """What the admin path may change while the sandbox runs."""

    latency: float = 0.0  # seconds added to every API and token request
    token_lifetime: float = hp.DEFAULT_TOKEN_LIFETIME_SECONDS
    idle_timeout: float = 15.0  # seconds a kept-alive connection may wait for its next request
    request_timeout: float = 30.0  # seconds for a request, once begun, to arrive whole


@dataclass(frozen=True)
class Limits:
    """What is fixed when the sandbox starts."""

    workers: int = DEFAULT_WORKERS
    queued: int = 1024  # connections waiting for a worker; more are closed at once
    max_body: int = MAX_BODY
    log_entries: int = DEFAULT_LOG_LIMIT
    compact_every: int | None = None  # journal lines between snapshots; None: one per control
    clock: Clock = utc_now  # the time freshness states are worked out against (tests fix it)


class SandboxServer(HTTPServer):
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        seed: dict[str, Any],
        state_path: Path | None = None,
        settings: SandboxOptions | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.seed = seed
        self.settings = settings or SandboxOptions()
        self.limits = limits or Limits()
        if self.limits.workers < 1:
            raise ValueError("the sandbox needs at least one worker")
        self.store = StateStore(state_path, self.limits.compact_every) if state_path else None
        start = self.store.open(seed) if self.store else seed
        self.org = Organization(start, self.limits.clock)
        self.faults = FaultBook()
        self.request_log = RequestLog(self.limits.log_entries)
        self.waiting: queue.SimpleQueue[tuple[socket.socket, Any] | None] = queue.SimpleQueue()
        self.pool_lock = threading.Lock()
        self.workers: list[threading.Thread] = []
        self.idle = 0
        self.connections: set[socket.socket] = set()
        self.closing = threading.Event()  # set at stop: a commit-stall fault stops waiting
        try:
            super().__init__(address, Handler)
        except BaseException:
            if self.store is not None:
                self.store.release()
            raise
        if self.store is not None:
            self.store.attach(self.org, start.get(SEQ_KEY, 0))

    # --- the worker pool ----------------------------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.pool_lock:
            if -self.idle >= self.limits.queued:  # a flood of connections must not exhaust fds
                self.shutdown_request(request)
                return
            if self.idle <= 0 and len(self.workers) < self.limits.workers:
                worker = threading.Thread(
                    target=self._work, name=f"hpconfig-sandbox-worker-{len(self.workers)}"
                )
                worker.daemon = True
                self.workers.append(worker)
                self.idle += 1
                worker.start()
            self.idle -= 1  # taken by this connection, now or when a worker frees
        self.waiting.put((request, client_address))

    def _work(self) -> None:
        while True:
            item = self.waiting.get()
            if item is None:
                return
            request, client_address = item
            with self.pool_lock:
                self.connections.add(request)
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                with self.pool_lock:
                    self.connections.discard(request)
                    self.idle += 1
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is no news; socketserver would print a traceback.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def server_close(self) -> None:
        self.closing.set()
        super().server_close()
        with self.pool_lock:
            workers = list(self.workers)
            for connection in self.connections:  # wakes a worker waiting on a quiet client
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        for _ in workers:
            self.waiting.put(None)
        for worker in workers:
            worker.join(timeout=5)
        while True:  # connections that never reached a worker
            try:
                item = self.waiting.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.shutdown_request(item[0])
        if self.store is not None:
            self.store.close()

    # --- shared state -------------------------------------------------------------------------

    def controls_body(self, status: str | None, expand: bool) -> bytes:
        """The list answer as the API sends it (faults that alter the real list start here)."""
        return self.org.controls_json(status, expand)

    def reset(self) -> None:
        if self.store is not None:
            self.store.reload(lambda: self.org.load(self.seed))
        else:
            self.org.load(self.seed)
        self.org.revoke_tokens()
        self.faults.clear()
        self.request_log.clear()
        self.settings.latency = 0.0
        self.settings.token_lifetime = hp.DEFAULT_TOKEN_LIFETIME_SECONDS
