"""Where to connect and with what: region, URLs, client id, the secret, time and size limits.

Owns the precedence (flags, then the environment, then ``hpconfig.yaml``), the rule that the
secret comes only from ``HYPERPROOF_CLIENT_SECRET`` or the file ``HYPERPROOF_CLIENT_SECRET_FILE``
names (``secret``), the rules on URLs (``urls``: https beyond loopback, and from a repository
file only Hyperproof's own hosts), and the range of every number: a timeout that is ``inf``,
``nan``, negative or huge is a settings error, never a run that cannot end. It must not talk
HTTP.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from hpconfig import hyperproof as hp
from hpconfig.errors import AuthError, SettingsError
from hpconfig.project_config import ProjectConfig
from hpconfig.remote.secret import Secret, read_secret_file
from hpconfig.urls import api_root, check_url, region_of, trusted_in_a_repository

__all__ = ["Secret", "Settings", "RetryPolicy", "resolve", "parse_seconds"]

log = logging.getLogger("hpconfig.settings")

ENV_CLIENT_ID = "HYPERPROOF_CLIENT_ID"
ENV_SECRET = "HYPERPROOF_CLIENT_SECRET"
ENV_SECRET_FILE = "HYPERPROOF_CLIENT_SECRET_FILE"
ENV_REGION = "HYPERPROOF_REGION"
ENV_API_URL = "HYPERPROOF_API_URL"
ENV_TOKEN_URL = "HYPERPROOF_TOKEN_URL"
ENV_RETRY_ATTEMPTS = "HPCONFIG_RETRY_ATTEMPTS"
ENV_RETRY_BACKOFF = "HPCONFIG_RETRY_BACKOFF"
ENV_RETRY_MAX_SECONDS = "HPCONFIG_RETRY_MAX_SECONDS"
ENV_TIMEOUT = "HPCONFIG_TIMEOUT"
ENV_REQUEST_TIMEOUT = "HPCONFIG_REQUEST_TIMEOUT"
ENV_MAX_RESPONSE_MB = "HPCONFIG_MAX_RESPONSE_MB"
CREDENTIALS_HINT = (
    f"check {ENV_CLIENT_ID} and {ENV_SECRET} (or {ENV_SECRET_FILE}), and that the API client "
    "belongs to this region's organization"
)

# The largest value each number may take; beyond it a run could not end in any useful time.
MAX_CONNECT_SECONDS = 300.0
MAX_GAP_SECONDS = 3600.0  # the read timeout
MAX_RUN_SECONDS = 86400.0  # the run, and one request
# 10,000 controls are 16 MB as the API answers them; 256 MB holds 100,000 with room to spare.
DEFAULT_MAX_RESPONSE_MB = 256
MAX_RESPONSE_MB = 16 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How requests are retried; tests set every delay to zero."""

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
    connect_timeout: float = 10.0  # to open a connection
    read_timeout: float = 60.0  # the longest silence while reading an answer
    request_timeout: float = 300.0  # one request: connect, headers and the whole body
    run_timeout: float = 600.0  # every request of the run, retries and their waits included
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_MB * 1024 * 1024  # after decompression
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def parse_seconds(value: object, name: str, maximum: float = MAX_GAP_SECONDS) -> float:
    """A number of seconds in (0, maximum], or SettingsError naming ``name``."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if isinstance(value, bool) or not (0 < seconds <= maximum):  # NaN fails every comparison
        raise SettingsError(
            f"{name} must be a number of seconds above 0 and at most {maximum:g}, not {value!r}"
        )
    return seconds


def read_secret(environ: Mapping[str, str]) -> Secret:
    value = environ.get(ENV_SECRET)
    path = environ.get(ENV_SECRET_FILE)
    if value and path:
        raise SettingsError(f"set {ENV_SECRET} or {ENV_SECRET_FILE}, not both")
    if path:
        return read_secret_file(path, ENV_SECRET_FILE)
    return Secret(value or "")


def retry_policy(environ: Mapping[str, str]) -> RetryPolicy:
    """The retry policy, tuned by HPCONFIG_RETRY_* (a backoff of 0 retries without waiting)."""
    policy = RetryPolicy()
    changes: dict[str, float] = {}
    for name, key, kind, top in (
        (ENV_RETRY_ATTEMPTS, "attempts", int, 100),
        (ENV_RETRY_BACKOFF, "backoff_factor", float, MAX_GAP_SECONDS),
        (ENV_RETRY_MAX_SECONDS, "total_seconds", float, MAX_RUN_SECONDS),
    ):
        text = environ.get(name)
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {text!r}") from None
        if not 0 <= value <= top:  # NaN fails too
            raise SettingsError(f"{name} must be between 0 and {top:g}, not {text!r}")
        changes[key] = value
    if changes.get("backoff_factor") == 0:
        changes.update(jitter=0, retry_after_max=0, backoff_max=0)
    return replace(policy, **changes)  # type: ignore[arg-type]


def _url(
    name: str,
    flag: str | None,
    env_name: str,
    env: Mapping[str, str],
    from_config: str | None,
    config: ProjectConfig,
    default: str,
) -> tuple[str, bool]:
    """The URL for ``name`` and whether it is the region's default."""
    if flag or env.get(env_name):
        return check_url(name, flag or env[env_name]), False
    if from_config:
        url = check_url(
            f"{name} (apiUrl/tokenUrl in {config.file or 'hpconfig.yaml'})", from_config
        )
        if not trusted_in_a_repository(url):
            raise SettingsError(
                f"{name} {url!r} in {config.file or 'hpconfig.yaml'} is not a Hyperproof host: "
                "a repository file may name only the region table's hosts and loopback, since "
                "anyone who can push a branch writes it and the client secret would go there. "
                f"Set {env_name} (or the flag) in the CI job to use another host"
            )
        return url, False
    return default, True


def _warn_on_mixed_regions(api_url: str, token_url: str) -> None:
    api_region, token_region = region_of(api_url, 0), region_of(token_url, 1)
    if api_region and token_region and api_region != token_region:
        log.warning(
            "the API URL is the %s region's and the token URL the %s region's: a token of one "
            "region is refused by the other; set --region (or %s) instead, or both URLs",
            api_region,
            token_region,
            ENV_REGION,
        )


# Settings field, its flag, its key under `timeouts:` in hpconfig.yaml, its variable, its top.
_TIMEOUTS = (
    ("connect_timeout", "--connect-timeout", "connect", None, MAX_CONNECT_SECONDS),
    ("read_timeout", "--read-timeout", "read", None, MAX_GAP_SECONDS),
    ("run_timeout", "--timeout", None, ENV_TIMEOUT, MAX_RUN_SECONDS),
    ("request_timeout", None, None, ENV_REQUEST_TIMEOUT, MAX_RUN_SECONDS),
)


def _timeouts(
    config: ProjectConfig, env: Mapping[str, str], flags: dict[str, float | None]
) -> dict[str, float]:
    """Each timeout given, checked for range; those not given keep ``Settings``' defaults."""
    where = config.file or "hpconfig.yaml"
    chosen: dict[str, float] = {}
    for key, flag, config_key, env_name, top in _TIMEOUTS:
        from_config = getattr(config, key) if config_key else None
        if flags.get(key) is not None:
            chosen[key] = parse_seconds(flags[key], flag or key, top)
        elif env_name and env.get(env_name):
            chosen[key] = parse_seconds(env[env_name], env_name, top)
        elif from_config is not None:
            chosen[key] = parse_seconds(from_config, f"{where}: $.timeouts.{config_key}", top)
    return chosen


def _max_response_bytes(env: Mapping[str, str]) -> int:
    text = env.get(ENV_MAX_RESPONSE_MB)
    if not text:
        return DEFAULT_MAX_RESPONSE_MB * 1024 * 1024
    if not re.fullmatch(r"[0-9]{1,6}", text.strip()) or not 1 <= int(text) <= MAX_RESPONSE_MB:
        raise SettingsError(
            f"{ENV_MAX_RESPONSE_MB} must be a whole number of megabytes from 1 to "
            f"{MAX_RESPONSE_MB}, not {text!r}"
        )
    return int(text) * 1024 * 1024


def resolve(
    config: ProjectConfig,
    environ: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
    api_url: str | None = None,
    token_url: str | None = None,
    client_id: str | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    run_timeout: float | None = None,
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
    chosen_api, api_default = _url(
        "the API URL", api_url, ENV_API_URL, env, config.api_url, config, default_api
    )
    chosen_api = api_root(chosen_api)
    chosen_token, token_default = _url(
        "the token URL", token_url, ENV_TOKEN_URL, env, config.token_url, config, default_token
    )
    if api_default != token_default:  # one overridden, the other the region's
        _warn_on_mixed_regions(chosen_api, chosen_token)
    timeouts = _timeouts(
        config,
        env,
        {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "run_timeout": run_timeout,
        },
    )
    max_response_bytes = _max_response_bytes(env)
    policy = retry or retry_policy(env)
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
        max_response_bytes=max_response_bytes,
        retry=policy,
        **timeouts,
    )
