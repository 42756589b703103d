"""Run the sandbox in a background thread: a context manager for tests, demos and scripts.

    with Sandbox(seed) as sandbox:
        sandbox.api_url, sandbox.token_url, sandbox.client_id, sandbox.client_secret
        sandbox.add_fault("rate-limit", path="/v1/controls", retry_after=0)
        sandbox.requests()  # the log, through the admin path

The helpers speak to the admin path over HTTP, as any other test client would.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

from hpconfig.sandbox.freshness import Clock
from hpconfig.sandbox.server import ADMIN_PREFIX, Limits, SandboxOptions, SandboxServer


class Sandbox:
    def __init__(
        self,
        seed: dict[str, Any],
        state_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        token_lifetime: float | None = None,
        settings: SandboxOptions | None = None,
        limits: Limits | None = None,
        clock: Clock | None = None,
    ) -> None:
        settings = settings or SandboxOptions()
        if clock is not None:  # freshness states are worked out against it
            limits = dataclasses.replace(limits or Limits(), clock=clock)
        settings.latency = latency or settings.latency
        if token_lifetime is not None:
            settings.token_lifetime = token_lifetime
        self.server = SandboxServer((host, port), seed, state_path, settings, limits)
        self.thread: threading.Thread | None = None
        clients = seed.get("clients") or [{}]
        self.client_id: str = clients[0].get("clientId", "")
        self.client_secret: str = clients[0].get("clientSecret", "")

    def __repr__(self) -> str:
        return f"Sandbox(url={self.root_url!r}, client_id={self.client_id!r})"

    @property
    def root_url(self) -> str:
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def api_url(self) -> str:
        return self.root_url

    @property
    def token_url(self) -> str:
        return f"{self.root_url}/oauth/token"

    def start(self) -> Sandbox:
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name="hpconfig-sandbox",
            daemon=True,
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the admin path -----------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        # The admin path takes a JSON body on every change, so that no web page can send one.
        data = json.dumps({} if body is None else body).encode() if method != "GET" else None
        request = urllib.request.Request(
            f"{self.root_url}{ADMIN_PREFIX}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """A fault: kind as in ``faults.PRESETS``; options: path, method, count, fraction,
        retry_after, status, message, size, delay, location, identifier, control. The
        ``commit-*`` kinds let the request land first: ``add_fault("commit-drop",
        method="PATCH")`` writes the next PATCH and closes the connection unanswered."""
        return self.admin("POST", "/faults", {"kind": kind, **options})  # type: ignore[no-any-return]

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def requests(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/requests")  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")

    def configure(self, latency: float | None = None, token_lifetime: float | None = None) -> None:
        body: dict[str, Any] = {}
        if latency is not None:
            body["latency"] = latency
        if token_lifetime is not None:
            body["tokenLifetime"] = token_lifetime
        self.admin("POST", "/settings", body)

    def reset(self) -> None:
        self.admin("POST", "/reset")

    def revoke_tokens(self) -> int:
        return int(self.admin("POST", "/revoke-tokens")["revoked"])

    def state(self) -> dict[str, Any]:
        return self.admin("GET", "/state")  # type: ignore[no-any-return]
