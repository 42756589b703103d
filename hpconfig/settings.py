"""Where to connect and with what: region, URLs, client id, the secret, timeouts, retries.

Owns the precedence (flags, then the environment, then ``hpconfig.yaml``), the rule that the
secret comes only from ``HYPERPROOF_CLIENT_SECRET`` or the file ``HYPERPROOF_CLIENT_SECRET_FILE``
names, and the refusal of plain ``http://`` beyond loopback. ``Secret`` keeps the value out of
every repr, str and log. It must not talk HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from hpconfig import hyperproof as hp
from hpconfig.config import Config
from hpconfig.errors import AuthError, ExitCode, HpconfigError
from hpconfig.loopback import is_loopback_host

ENV_CLIENT_ID = "HYPERPROOF_CLIENT_ID"
ENV_SECRET = "HYPERPROOF_CLIENT_SECRET"
ENV_SECRET_FILE = "HYPERPROOF_CLIENT_SECRET_FILE"
ENV_REGION = "HYPERPROOF_REGION"
ENV_API_URL = "HYPERPROOF_API_URL"
ENV_TOKEN_URL = "HYPERPROOF_TOKEN_URL"
ENV_RETRY_ATTEMPTS = "HPCONFIG_RETRY_ATTEMPTS"
ENV_RETRY_BACKOFF = "HPCONFIG_RETRY_BACKOFF"
ENV_RETRY_MAX_SECONDS = "HPCONFIG_RETRY_MAX_SECONDS"
CREDENTIALS_HINT = (
    f"check {ENV_CLIENT_ID} and {ENV_SECRET} (or {ENV_SECRET_FILE}), and that the API client "
    "belongs to this region's organization"
)


class SettingsError(HpconfigError):
    """A setting is unusable (a bad URL, an unknown region, an unreadable secret file)."""

    exit_code = ExitCode.INVALID_INPUT


class Secret:
    """A secret string that never shows itself: not in repr, str, format, logs or pickles."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class RetryPolicy:
    """How GETs and token requests are retried; tests set every delay to zero."""

    attempts: int = 5  # retries after the first try
    backoff_factor: float = 0.5  # 0.5, 1, 2, 4... seconds, with jitter
    backoff_max: float = 30.0
    jitter: float = 0.5
    retry_after_max: float = 60.0  # a longer Retry-After is cut to this
    total_seconds: float = 120.0  # no retry starts after this long since the first failure


@dataclass(frozen=True)
class Settings:
    api_url: str
    token_url: str
    client_id: str
    secret: Secret = field(repr=False)
    region: str = hp.DEFAULT_REGION
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def check_url(name: str, url: str) -> str:
    """A usable base URL, or SettingsError: https, or http on loopback only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise SettingsError(
            f"{name} {url!r} uses plain http; hpconfig sends credentials only over https "
            "(plain http is allowed for loopback addresses, such as the sandbox)"
        )
    if parts.username or parts.password:
        raise SettingsError(f"{name} must not carry credentials in the URL")
    return url.rstrip("/")


def read_secret(environ: Mapping[str, str]) -> Secret:
    value = environ.get(ENV_SECRET)
    path = environ.get(ENV_SECRET_FILE)
    if value and path:
        raise SettingsError(f"set {ENV_SECRET} or {ENV_SECRET_FILE}, not both")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(
                f"cannot read {ENV_SECRET_FILE} ({path}): {error.strerror}"
            ) from None
        return Secret(text.strip("\r\n"))  # mounted secrets often end in a newline
    return Secret(value or "")


def retry_policy(environ: Mapping[str, str]) -> RetryPolicy:
    """The retry policy, tuned by HPCONFIG_RETRY_* (a backoff of 0 retries without waiting)."""
    policy = RetryPolicy()
    changes: dict[str, float] = {}
    for name, key, kind in (
        (ENV_RETRY_ATTEMPTS, "attempts", int),
        (ENV_RETRY_BACKOFF, "backoff_factor", float),
        (ENV_RETRY_MAX_SECONDS, "total_seconds", float),
    ):
        text = environ.get(name)
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {text!r}") from None
        if value < 0:
            raise SettingsError(f"{name} must not be negative")
        changes[key] = value
    if changes.get("backoff_factor") == 0:
        changes.update(jitter=0, retry_after_max=0, backoff_max=0)
    return replace(policy, **changes)  # type: ignore[arg-type]


def resolve(
    config: Config,
    environ: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
    api_url: str | None = None,
    token_url: str | None = None,
    client_id: str | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    retry: RetryPolicy | None = None,
) -> Settings:
    """Flags (the keyword arguments) win, then the environment, then the config file."""
    env = os.environ if environ is None else environ
    chosen_region = region or env.get(ENV_REGION) or config.region or hp.DEFAULT_REGION
    if chosen_region not in hp.REGIONS:
        raise SettingsError(
            f"unknown region {chosen_region!r}; one of: {', '.join(hp.REGIONS)} "
            f"(or set {ENV_API_URL} and {ENV_TOKEN_URL})"
        )
    default_api, default_token = hp.REGIONS[chosen_region]
    chosen_api = check_url(
        "the API URL", api_url or env.get(ENV_API_URL) or config.api_url or default_api
    )
    chosen_token = check_url(
        "the token URL", token_url or env.get(ENV_TOKEN_URL) or config.token_url or default_token
    )
    chosen_id = client_id or env.get(ENV_CLIENT_ID) or config.client_id or ""
    secret = read_secret(env)
    missing = [
        name for name, value in ((ENV_CLIENT_ID, chosen_id), (ENV_SECRET, secret)) if not value
    ]
    if missing:
        raise AuthError(
            f"no client credentials: set {' and '.join(missing)}"
            + (f" (or {ENV_SECRET_FILE})" if ENV_SECRET in missing else "")
            + "; create an API client in Hyperproof under Settings > API clients"
        )
    return Settings(
        api_url=chosen_api,
        token_url=chosen_token,
        client_id=chosen_id,
        secret=secret,
        region=chosen_region,
        connect_timeout=connect_timeout or config.connect_timeout or 10.0,
        read_timeout=read_timeout or config.read_timeout or 60.0,
        retry=retry or retry_policy(env),
    )
