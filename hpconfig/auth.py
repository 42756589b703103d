"""OAuth 2.0 client credentials (RFC 6749 §4.4) as a ``requests.auth.AuthBase``.

Owns the token: fetched with the form-encoded client id and secret, cached in memory, renewed
``TOKEN_RENEW_MARGIN_SECONDS`` before ``expires_in`` runs out, and renewed once when the API
answers 401 (the request is then sent again, once; a second 401 is the caller's to report).
Modelled on httpx's auth flows. Neither the secret nor a token ever reaches a log, a repr or an
exception message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from hpconfig import hyperproof as hp
from hpconfig.errors import ApiError, AuthError
from hpconfig.settings import CREDENTIALS_HINT, Secret
from hpconfig.transport import describe, is_quota_exceeded, redact, server_message

log = logging.getLogger("hpconfig.auth")


class ClientCredentialsAuth(requests.auth.AuthBase):
    def __init__(
        self,
        token_url: str,
        client_id: str,
        secret: Secret,
        session: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self._session = session  # token requests go through the same session and retries
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _fetch(self) -> None:
        log.debug("signing in at %s as client %s", self.token_url, self.client_id)
        try:
            response = self._session.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._secret.reveal(),
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                auth=None,
            )
        except requests.RequestException as error:
            raise ApiError("POST", self.token_url, None, describe(error)) from None
        if response.status_code in (400, 401, 403) and not is_quota_exceeded(response):
            message = redact(server_message(response), self._secret)
            raise AuthError(
                f"sign-in refused: POST {self.token_url}: HTTP {response.status_code}: "
                f"{message}; {CREDENTIALS_HINT}"
            )
        if not response.ok:
            message = redact(server_message(response), self._secret)
            raise ApiError("POST", self.token_url, response.status_code, message)
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in", hp.DEFAULT_TOKEN_LIFETIME_SECONDS))
        except (ValueError, KeyError, TypeError):
            raise ApiError(
                "POST",
                self.token_url,
                response.status_code,
                "the answer is not a token (expected JSON with access_token)",
            ) from None
        self._token = Secret(str(token))
        self._expires_at = self._clock() + lifetime - hp.TOKEN_RENEW_MARGIN_SECONDS
        self.tokens_fetched += 1
        log.debug("signed in; the token lives %.0f s", lifetime)

    @property
    def current_token(self) -> Secret | None:
        return self._token

    def token(self, force: bool = False) -> Secret:
        with self._lock:
            if force or self._token is None or self._clock() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token().reveal()}"
        request.register_hook("response", self._renew_once_on_401)
        return request

    def _renew_once_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_hpconfig_resent", False):
            return response
        log.debug("the API answered 401; signing in again and sending the request once more")
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.token(force=True).reveal()}"
        retry._hpconfig_resent = True  # type: ignore[attr-defined]
        assert response.connection is not None
        again: requests.Response = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again
