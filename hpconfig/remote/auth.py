"""OAuth 2.0 client credentials (RFC 6749 §4.4): the token, and the checks on its answer.

Owns the token: fetched with the form-encoded client id and secret, POSTed to the token URL
and to nothing else (a redirect from it is an ``AuthError`` naming the status and the origin it
points at, never followed: the next hop would receive the secret); the answer checked before
use (``access_token`` a non-empty string without whitespace or control characters that can go
in a header, ``token_type`` bearer in any case, ``expires_in`` a positive number, capped; a
missing one means a short life); cached in memory and renewed ``TOKEN_RENEW_MARGIN_SECONDS``
before it runs out, or when the client asks after a 401. Neither the secret nor a token ever
reaches a log, a repr or an exception message. It sends nothing itself: ``post`` does.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable

from hpconfig import hyperproof as hp
from hpconfig.errors import ApiError, AuthError
from hpconfig.remote.answers import Answer, is_quota_exceeded, parse_json, server_message
from hpconfig.remote.settings import CREDENTIALS_HINT, ENV_TOKEN_URL, Secret
from hpconfig.urls import origin

log = logging.getLogger("hpconfig.auth")

# A token goes into a header as latin-1: visible ASCII and latin-1 letters, no space or control.
_TOKEN = re.compile(r"[\x21-\x7e\xa1-\xff]{1,16384}")
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600  # a longer expires_in is cut to a day
MISSING_LIFETIME_SECONDS = 300  # no expires_in: renew often rather than use a dead token

Post = Callable[[str, dict[str, str]], Answer]


def check_token_answer(answer: Answer, token_url: str) -> tuple[Secret, float]:
    """(token, lifetime in seconds) from a 200 answer, or AuthError that never shows it."""

    def refuse(what: str) -> AuthError:
        return AuthError(f"sign-in failed: POST {token_url}: HTTP {answer.status}: {what}")

    try:
        body = parse_json(answer.body)
    except ValueError:
        kind = answer.headers.get("Content-Type", "no content type")[:60]
        raise refuse(f"the answer is not JSON ({kind})") from None
    if not isinstance(body, dict):
        raise refuse("the answer is not a JSON object with an access_token")
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise refuse("the answer has no access_token string")
    if not _TOKEN.fullmatch(token):
        raise refuse(
            "the access_token holds whitespace, control or non-latin-1 characters, or is "
            "too long; it cannot be sent in a header"
        )
    secret = Secret(token)
    kind = body.get("token_type", "bearer")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise refuse("the token_type is not bearer")
    lifetime = body.get("expires_in")
    if lifetime is None:
        return secret, MISSING_LIFETIME_SECONDS
    if isinstance(lifetime, str) and re.fullmatch(r"[0-9]{1,12}", lifetime):
        lifetime = int(lifetime)
    if (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, (int, float))
        or not math.isfinite(lifetime)
        or lifetime <= 0
    ):
        raise refuse("expires_in is not a positive number of seconds")
    return secret, min(float(lifetime), MAX_TOKEN_LIFETIME_SECONDS)


class TokenSource:
    def __init__(
        self,
        token_url: str,
        client_id: str,
        secret: Secret,
        post: Post,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        # Every token of the run, for redaction: a server may echo an older one.
        self.issued: list[Secret] = []
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"TokenSource(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _fetch(self) -> None:
        log.debug("signing in at %s as client %s", self.token_url, self.client_id)
        answer = self._post(
            self.token_url,
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret.reveal(),
            },
        )
        if answer.is_redirect:
            to = origin(answer.headers.get("Location") or "") or "an unusable location"
            raise AuthError(
                f"sign-in refused: POST {self.token_url}: HTTP {answer.status} redirects to "
                f"{to}; hpconfig sends the client secret to the token URL only and follows no "
                f"redirect from it (if the token URL moved, set {ENV_TOKEN_URL} to the new one)"
            )
        if answer.status in (400, 401, 403) and not is_quota_exceeded(answer):
            message = server_message(answer, self._secret)
            raise AuthError(
                f"sign-in refused: POST {self.token_url}: HTTP {answer.status}: "
                f"{message}; {CREDENTIALS_HINT}"
            )
        if not answer.ok:
            message = server_message(answer, self._secret)
            raise ApiError("POST", self.token_url, answer.status, message)
        self._token, lifetime = check_token_answer(answer, self.token_url)
        self.issued.append(self._token)
        margin = min(hp.TOKEN_RENEW_MARGIN_SECONDS, lifetime / 2)  # a short life is still used
        self._expires_at = self._clock() + lifetime - margin
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
