"""The Hyperproof API client: one session, timeouts, named retries, typed calls.

Owns the transport. Every request has connect and read timeouts. GETs and token requests are
retried (urllib3's ``Retry``) on connection errors, 429, 502, 503 and 504, with exponential
backoff and jitter, honouring ``Retry-After`` up to a cap, bounded in attempts and in time.
The transient 403 "Bandwidth quota exceeded" needs the body to be told from a real permission
error, which ``Retry`` cannot read, so this module retries it with the same policy. Writes are
never retried: a PATCH that timed out may have landed. Every failure becomes an ``ApiError``
naming method, URL, status and the server's message; a non-JSON answer is an error too.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from hpconfig import __version__
from hpconfig import hyperproof as hp
from hpconfig.auth import ClientCredentialsAuth
from hpconfig.errors import ApiError, AuthError
from hpconfig.settings import CREDENTIALS_HINT, RetryPolicy, Settings
from hpconfig.transport import describe, is_quota_exceeded, redact, server_message

log = logging.getLogger("hpconfig.client")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
READ_METHODS = frozenset({"GET", "HEAD"})


class BoundedRetry(Retry):
    """urllib3's Retry, with a cap on Retry-After and a bound on the total time spent."""

    def __init__(
        self,
        *args: Any,
        retry_after_cap: float = 60.0,
        total_seconds: float = 120.0,
        started: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap
        self.total_seconds = total_seconds
        self.started = started

    def new(self, **kwargs: Any) -> BoundedRetry:
        kwargs.setdefault("retry_after_cap", self.retry_after_cap)
        kwargs.setdefault("total_seconds", self.total_seconds)
        kwargs.setdefault("started", self.started if self.started is not None else time.monotonic())
        return super().new(**kwargs)  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self.retry_after_cap)

    def increment(  # type: ignore[override]
        self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any
    ) -> Retry:
        if self.started is not None and time.monotonic() - self.started > self.total_seconds:
            raise MaxRetryError(kwargs.get("_pool"), url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, *args, **kwargs)


def make_retry(policy: RetryPolicy, methods: frozenset[str]) -> BoundedRetry:
    return BoundedRetry(
        total=policy.attempts,
        connect=policy.attempts,
        read=policy.attempts,
        status=policy.attempts,
        other=0,
        allowed_methods=methods,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.jitter,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is returned, so its message can be reported
        retry_after_cap=policy.retry_after_max,
        total_seconds=policy.total_seconds,
    )


def _traceparent() -> str:
    """A W3C trace context header, as Hyperproof's SDK sends: one trace id per run."""
    return f"00-{_TRACE_ID}-{os.urandom(8).hex()}-01"


_TRACE_ID = os.urandom(16).hex()


class HyperproofClient:
    """Typed calls to the API; each answers plain JSON data or raises ApiError/AuthError."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"hpconfig/{__version__}"
        self.session.headers["Accept"] = "application/json"
        self.session.mount(
            settings.api_url, HTTPAdapter(max_retries=make_retry(settings.retry, READ_METHODS))
        )
        # Asking for a token changes nothing on the server, so its POST is safe to retry.
        self.session.mount(
            settings.token_url,
            HTTPAdapter(max_retries=make_retry(settings.retry, READ_METHODS | {"POST"})),
        )
        self.auth = ClientCredentialsAuth(
            settings.token_url, settings.client_id, settings.secret, self.session, self.timeout
        )
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"HyperproofClient(api_url={self.settings.api_url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HyperproofClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport --------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(
                method,
                url,
                timeout=self.timeout,
                auth=self.auth,
                headers={"traceparent": _traceparent()},
                **kwargs,
            )
        except requests.RequestException as error:
            raise ApiError(method, url, None, describe(error)) from None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.settings.api_url + path
        policy = self.settings.retry
        started = time.monotonic()
        attempt = 0
        while True:
            log.debug("%s %s", method, url)
            response = self._send(method, url, **kwargs)
            if not is_quota_exceeded(response):
                break
            attempt += 1
            if (
                method not in READ_METHODS
                or attempt > policy.attempts
                or time.monotonic() - started > policy.total_seconds
            ):
                break
            delay = self._quota_delay(response, attempt, policy)
            log.debug("quota exceeded (a transient 403); retry %d in %.1f s", attempt, delay)
            time.sleep(delay)
        if response.status_code == 401:
            raise AuthError(
                f"{method} {url}: HTTP 401: {self._message(response)}: the API refused a fresh "
                f"token too; {CREDENTIALS_HINT}"
            )
        if not response.ok:
            hint = ""
            if is_quota_exceeded(response):
                hint = "the API's quota stayed exceeded through every retry; try again later"
            elif response.status_code == 403:
                hint = "the API client lacks the permission for this call"
            elif response.status_code in RETRY_STATUSES:
                hint = "still failing after retries"
            raise ApiError(method, url, response.status_code, self._message(response), hint)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                method,
                url,
                response.status_code,
                f"the answer is not valid JSON ({_preview(response)})",
            ) from None

    def _message(self, response: requests.Response) -> str:
        """The server's message, without the secret or the token should it echo either."""
        return redact(server_message(response), self.settings.secret, self.auth.current_token)

    @staticmethod
    def _quota_delay(response: requests.Response, attempt: int, policy: RetryPolicy) -> float:
        after = response.headers.get("Retry-After")
        if after and after.strip().isdigit():
            return min(float(after), policy.retry_after_max)
        delay = min(policy.backoff_max, policy.backoff_factor * (2 ** (attempt - 1)))
        return delay + random.uniform(0, policy.jitter) if delay else 0.0

    # --- calls ------------------------------------------------------------------------------

    def list_controls(self, status: str | None = None) -> list[dict[str, Any]]:
        """``GET /v1/controls``: the whole organization in one answer (no pagination)."""
        params = {"status": status} if status else None
        body = self.request("GET", hp.CONTROLS_PATH, params=params)
        if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
            raise ApiError(
                "GET",
                self.settings.api_url + hp.CONTROLS_PATH,
                200,
                "expected a JSON array of controls",
            )
        return body

    def list_users(self, include_deactivated: bool = False) -> list[dict[str, Any]]:
        params = {"includeDeactivated": "true"} if include_deactivated else None
        body = self.request("GET", hp.USERS_PATH, params=params)
        if not isinstance(body, list):
            raise ApiError(
                "GET", self.settings.api_url + hp.USERS_PATH, 200, "expected a JSON array of users"
            )
        return body


def _preview(response: requests.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type")
    text = " ".join(response.text[:60].split())
    return f"{kind}: {json.dumps(text)}..."
