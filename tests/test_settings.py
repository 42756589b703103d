from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from hpconfig.errors import AuthError, SettingsError
from hpconfig.project_config import ProjectConfig
from hpconfig.remote.settings import Secret, resolve

CREDS = {"HYPERPROOF_CLIENT_ID": "env-id", "HYPERPROOF_CLIENT_SECRET": "s3cret-value"}


def test_region_defaults_and_urls() -> None:
    settings = resolve(ProjectConfig(), CREDS)
    assert settings.region == "us"
    assert settings.api_url == "https://api.hyperproof.app"
    assert settings.token_url == "https://accounts.hyperproof.app/oauth/token"
    eu = resolve(ProjectConfig(region="eu"), CREDS)
    assert eu.api_url == "https://api.hyperproof.eu"


def test_flags_win_then_environment_then_config() -> None:
    config = ProjectConfig(
        region="gov",
        api_url="https://api.hyperproof.eu",
        client_id="config-id",
        connect_timeout=3,
        read_timeout=4,
    )
    from_config = resolve(config, {"HYPERPROOF_CLIENT_SECRET": "x"})
    assert (from_config.api_url, from_config.client_id, from_config.region) == (
        "https://api.hyperproof.eu",
        "config-id",
        "gov",
    )
    assert (from_config.connect_timeout, from_config.read_timeout) == (3, 4)
    env = {**CREDS, "HYPERPROOF_API_URL": "https://env.example/", "HYPERPROOF_REGION": "eu"}
    from_env = resolve(config, env)
    assert (from_env.api_url, from_env.client_id, from_env.region) == (
        "https://env.example",
        "env-id",
        "eu",
    )
    assert from_env.token_url == "https://accounts.hyperproof.eu/oauth/token"
    from_flags = resolve(
        config,
        env,
        api_url="https://flag.example",
        client_id="flag-id",
        region="us",
        read_timeout=9,
    )
    assert (from_flags.api_url, from_flags.client_id, from_flags.region) == (
        "https://flag.example",
        "flag-id",
        "us",
    )
    assert from_flags.read_timeout == 9


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1", True),
        ("http://[::1]:80", True),
        ("https://api.example.com", True),
        ("http://api.example.com", False),
        ("http://10.0.0.5", False),
        ("ftp://x", False),
        ("https://user:pw@api.example.com", False),
    ],
)
def test_plain_http_only_on_loopback(url: str, allowed: bool) -> None:
    if allowed:
        assert resolve(ProjectConfig(), CREDS, api_url=url).api_url == url.rstrip("/")
    else:
        with pytest.raises(SettingsError):
            resolve(ProjectConfig(), CREDS, api_url=url)


def test_secret_file_is_read_and_its_newline_dropped(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    settings = resolve(
        ProjectConfig(),
        {"HYPERPROOF_CLIENT_ID": "i", "HYPERPROOF_CLIENT_SECRET_FILE": str(secret_file)},
    )
    assert settings.secret.reveal() == "from-a-file"


def test_secret_file_problems(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read HYPERPROOF_CLIENT_SECRET_FILE"):
        resolve(
            ProjectConfig(),
            {
                "HYPERPROOF_CLIENT_ID": "i",
                "HYPERPROOF_CLIENT_SECRET_FILE": str(tmp_path / "missing"),
            },
        )
    with pytest.raises(SettingsError, match="not both"):
        resolve(ProjectConfig(), {**CREDS, "HYPERPROOF_CLIENT_SECRET_FILE": str(tmp_path / "x")})


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(AuthError) as raised:
        resolve(ProjectConfig(), {})
    message = str(raised.value)
    assert "HYPERPROOF_CLIENT_ID" in message and "HYPERPROOF_CLIENT_SECRET" in message


def test_unknown_region() -> None:
    with pytest.raises(SettingsError, match="unknown region 'mars'"):
        resolve(ProjectConfig(), {**CREDS, "HYPERPROOF_REGION": "mars"})


def test_secret_never_shows_itself() -> None:
    secret = Secret("CANARY-123")
    settings = resolve(
        ProjectConfig(), {"HYPERPROOF_CLIENT_ID": "i", "HYPERPROOF_CLIENT_SECRET": "CANARY-123"}
    )
    for text in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        repr(settings),
        str(settings),
    ):
        assert "CANARY-123" not in text
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "CANARY-123"


def test_retry_policy_from_the_environment() -> None:
    settings = resolve(
        ProjectConfig(),
        {
            **CREDS,
            "HPCONFIG_RETRY_ATTEMPTS": "2",
            "HPCONFIG_RETRY_BACKOFF": "0",
            "HPCONFIG_RETRY_MAX_SECONDS": "9",
        },
    )
    retry = settings.retry
    assert (retry.attempts, retry.backoff_factor, retry.total_seconds) == (2, 0, 9)
    assert (retry.jitter, retry.retry_after_max) == (0, 0)
    with pytest.raises(SettingsError, match="HPCONFIG_RETRY_ATTEMPTS must be a number"):
        resolve(ProjectConfig(), {**CREDS, "HPCONFIG_RETRY_ATTEMPTS": "many"})
