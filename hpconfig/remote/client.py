"""The Hyperproof API client: one session, bounded answers, explicit retries, typed calls.

Owns the exchange with the API. Every request is sent without following redirects
(``allow_redirects=False``), read as a stream with the size cap and the per-request deadline of
``answers.read_body``, and retried by ``retrying.Retrier`` inside the run's deadline. The
bearer token goes to the API's origin only: a redirect to another origin is an error naming
where it pointed, a same-origin one is followed for reads (at most ``MAX_REDIRECTS``), and a
401 is answered by signing in again and re-sending once, only for an answer from the API's own
origin. Every failure becomes an ``ApiError`` or ``AuthError`` naming method, URL, status and
the server's message, without the secret or the token.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests

from hpconfig import __version__
from hpconfig import hyperproof as hp
from hpconfig.errors import ApiError, AuthError
from hpconfig.remote.answers import (
    SLOW_ANSWER,
    Answer,
    TooDeep,
    TooMany,
    TransportFailure,
    describe,
    is_quota_exceeded,
    parse_json,
    preview,
    read_body,
    server_message,
)
from hpconfig.remote.auth import TokenSource
from hpconfig.remote.retrying import GATEWAY_STATUSES, READ_METHODS, Deadline, Retrier
from hpconfig.remote.settings import CREDENTIALS_HINT, ENV_API_URL, Settings
from hpconfig.remote.watchdog import Watchdog, WatchedAdapter
from hpconfig.urls import origin

log = logging.getLogger("hpconfig.client")

MAX_REDIRECTS = 3
# Connections kept per host: as many as apply's most parallel writes, so that none is opened
# and thrown away per request (requests keeps 10).
POOL_SIZE = 32


class _Header(requests.auth.AuthBase):
    """Sets the Authorization header, or none; as an ``auth`` it also keeps requests from
    adding credentials of its own from ~/.netrc."""

    def __init__(self, value: str | None) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "_Header(********)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._value is not None:
            request.headers["Authorization"] = self._value
        return request


def _traceparent() -> str:
    """A W3C trace context header, as Hyperproof's SDK sends: one trace id per run."""
    return f"00-{_TRACE_ID}-{os.urandom(8).hex()}-01"


_TRACE_ID = os.urandom(16).hex()


class HyperproofClient:
    """Typed calls to the API; each answers plain JSON data or raises ApiError/AuthError."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"hpconfig/{__version__}"
        self.session.headers["Accept"] = "application/json"
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, WatchedAdapter(pool_maxsize=POOL_SIZE))
        self.deadline = Deadline(settings.run_timeout, clock)
        self.retrier = Retrier(settings.retry, self.deadline, sleep=sleep)
        self.api_origin = origin(settings.api_url)
        self.auth = TokenSource(
            settings.token_url, settings.client_id, settings.secret, self._post_token, clock
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

    # --- one exchange -----------------------------------------------------------------------

    def _exchange(
        self, method: str, url: str, deadline_at: float, auth: _Header, **kwargs: Any
    ) -> Answer:
        """One request and its whole answer, within the request's and the run's deadline."""
        settings = self.settings
        now = self.clock()
        until = min(deadline_at, now + settings.request_timeout)
        remaining = until - now
        if remaining <= 0:
            raise TransportFailure("deadline", "no time was left for the request")
        self.requests_sent += 1
        with Watchdog(remaining) as watchdog:
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=(
                        min(settings.connect_timeout, remaining),
                        min(settings.read_timeout, remaining),
                    ),
                    auth=auth,
                    allow_redirects=False,
                    stream=True,
                    **kwargs,
                )
            except requests.RequestException as error:
                if watchdog.fired:  # the deadline cut a server that trickled its headers
                    raise TransportFailure("deadline", SLOW_ANSWER) from None
                raise TransportFailure(*describe(error)) from None
            except (UnicodeError, ValueError):  # requests parses a redirect's Location too
                raise TransportFailure(
                    "malformed", "a header of the request or of its answer is not valid"
                ) from None
            try:
                body = read_body(
                    response, settings.max_response_bytes, until, settings.read_timeout, self.clock
                )
            except TransportFailure:
                if watchdog.fired:
                    raise TransportFailure("deadline", SLOW_ANSWER) from None
                raise
            finally:
                response.close()
        return Answer(response.url, response.status_code, response.headers, body)

    def _post_token(self, url: str, form: dict[str, str]) -> Answer:
        # Asking for a token changes nothing on the server, so its POST is safe to retry.
        return self.retrier.call(
            "POST",
            url,
            lambda at: self._exchange("POST", url, at, _Header(None), data=form),
            safe=True,
        )

    def _authorized(self, method: str, url: str, kwargs: dict[str, Any]) -> Answer:
        def attempt(deadline_at: float) -> Answer:
            target, options = url, kwargs
            for _ in range(MAX_REDIRECTS + 1):
                bearer = _Header(f"Bearer {self.auth.token().reveal()}")
                headers = {"traceparent": _traceparent()}
                answer = self._exchange(
                    method, target, deadline_at, bearer, headers=headers, **options
                )
                if not answer.is_redirect:
                    return answer
                try:
                    location = urljoin(target, answer.headers.get("Location") or "")
                except ValueError:
                    location = ""
                if origin(location) != self.api_origin or method not in READ_METHODS:
                    raise ApiError(
                        method,
                        target,
                        answer.status,
                        f"redirects to {origin(location) or 'an unusable location'}",
                        "hpconfig follows no redirect away from the API's origin "
                        f"{self.api_origin}, so the token stays there; if the API moved, set "
                        f"{ENV_API_URL}",
                    )
                target, options = location, {k: v for k, v in kwargs.items() if k != "params"}
            raise ApiError(method, url, answer.status, f"more than {MAX_REDIRECTS} redirects")

        return self.retrier.call(method, url, attempt)

    # --- a call -----------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.settings.api_url + path
        log.debug("%s %s", method, url)
        answer = self._authorized(method, url, kwargs)
        if answer.status == 401 and origin(answer.url) == self.api_origin:
            log.debug("the API answered 401; signing in again and sending the request once more")
            self.auth.token(force=True)
            answer = self._authorized(method, url, kwargs)
            if answer.status == 401:
                raise AuthError(
                    f"{method} {url}: HTTP 401: {self._message(answer)}: the API refused a "
                    f"fresh token too; {CREDENTIALS_HINT}"
                )
        if not answer.ok:
            hint = ""
            if is_quota_exceeded(answer):
                hint = "the API's quota stayed exceeded through every retry; try again later"
            elif answer.status == 403:
                hint = "the API client lacks the permission for this call"
            elif answer.status >= 500 and method not in READ_METHODS:
                hint = "the write may or may not have landed; it is not sent again blindly"
            elif answer.status in GATEWAY_STATUSES or answer.status == 429:
                hint = "still failing after retries"
            raise ApiError(method, url, answer.status, self._message(answer), hint)
        if not answer.body:
            return None
        try:
            return parse_json(answer.body)
        except (TooDeep, TooMany) as error:
            raise ApiError(method, url, answer.status, str(error)) from None
        except ValueError:
            secrets = (self.settings.secret, *self.auth.issued)
            raise ApiError(
                method,
                url,
                answer.status,
                f"the answer is not valid JSON ({preview(answer, *secrets)}...)",
            ) from None

    def _message(self, answer: Answer) -> str:
        """The server's message, without the secret or the token should it echo either."""
        return server_message(answer, self.settings.secret, *self.auth.issued)

    # --- calls ------------------------------------------------------------------------------

    def list_controls(self, status: str | None = None) -> list[Any]:
        """``GET /v1/controls``: the whole organization in one answer (no pagination). Each
        element is untrusted: ``live`` checks it."""
        params = {"status": status} if status else None
        body = self.request("GET", hp.CONTROLS_PATH, params=params)
        if not isinstance(body, list):
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
