"""Settings that decide where credentials go and how the secret is read: URLs from a
repository file, URLs with credentials, a trailing /v1, mixed regions, the secret file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpconfig.cli import cli
from hpconfig.errors import SettingsError
from hpconfig.project_config import ProjectConfig
from hpconfig.remote.secret import MAX_SECRET_FILE_BYTES
from hpconfig.remote.settings import resolve
from tests.conftest import EXAMPLES

CREDS = {"HYPERPROOF_CLIENT_ID": "id", "HYPERPROOF_CLIENT_SECRET": "s"}


def test_a_config_url_must_be_a_hyperproof_host_or_loopback() -> None:
    for url in (
        "https://api.hyperproof.eu",
        "http://127.0.0.1:8765",
        "https://api.hyperproof.app/",
    ):
        assert resolve(ProjectConfig(api_url=url), CREDS).api_url.startswith(url.rstrip("/"))
    with pytest.raises(SettingsError) as raised:
        resolve(ProjectConfig(file="hpconfig.yaml", token_url="https://evil.example/token"), CREDS)
    message = str(raised.value)
    assert "hpconfig.yaml is not a Hyperproof host" in message
    assert "HYPERPROOF_TOKEN_URL" in message
    env = {**CREDS, "HYPERPROOF_TOKEN_URL": "https://proxy.example/token"}
    assert resolve(ProjectConfig(), env).token_url == "https://proxy.example/token"
    assert resolve(ProjectConfig(), CREDS, api_url="https://proxy.example").api_url


@pytest.mark.parametrize(
    "url", ["https://user:pw-CANARY@api.hyperproof.app", "ftp://u:CANARY@x", "https://:CANARY@x"]
)
def test_a_url_with_credentials_is_refused_without_echo(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        resolve(ProjectConfig(), CREDS, api_url=url)
    assert "CANARY" not in str(raised.value)
    assert "carries credentials" in str(raised.value)


def test_a_trailing_v1_is_understood() -> None:
    settings = resolve(ProjectConfig(), CREDS, api_url="https://api.hyperproof.app/v1")
    assert settings.api_url == "https://api.hyperproof.app"


def test_overriding_one_url_to_another_region_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "hpconfig"):
        resolve(ProjectConfig(), CREDS, api_url="https://api.hyperproof.eu")
    assert "the API URL is the eu region's and the token URL the us region's" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, "hpconfig"):
        resolve(ProjectConfig(), CREDS, api_url="https://api.hyperproof.app/v1", region="us")
        resolve(ProjectConfig(), CREDS, region="eu")
    assert caplog.text == ""


def secret_env(path: Path) -> dict[str, str]:
    return {"HYPERPROOF_CLIENT_ID": "id", "HYPERPROOF_CLIENT_SECRET_FILE": str(path)}


def test_secret_file_bom_and_one_newline_dropped(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"\xef\xbb\xbfs3cret \n")
    path.chmod(0o600)
    assert resolve(ProjectConfig(), secret_env(path)).secret.reveal() == "s3cret "
    path.write_bytes(b"s3cret\r\n")
    assert resolve(ProjectConfig(), secret_env(path)).secret.reveal() == "s3cret"
    path.write_bytes(b"s3cret\n\n")
    assert resolve(ProjectConfig(), secret_env(path)).secret.reveal() == "s3cret\n"


def test_secret_file_that_is_not_a_small_utf8_regular_file(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_text("CANARY" * (MAX_SECRET_FILE_BYTES // 6 + 1))
    latin = tmp_path / "latin"
    latin.write_bytes(b"CANARY\xff")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {
        big: "is larger than 8 KiB",
        latin: "is not UTF-8 text",
        fifo: "is not a regular file",  # and opening it does not wait for a writer
        tmp_path: "is not a regular file",
        tmp_path / "missing": "cannot read",
    }
    for path, words in cases.items():
        with pytest.raises(SettingsError) as raised:
            resolve(ProjectConfig(), secret_env(path))
        assert words in str(raised.value) and str(path) in str(raised.value)
        assert "CANARY" not in str(raised.value)


def test_an_empty_secret_file_is_exit_3_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("\n")
    result = CliRunner().invoke(
        cli, ["plan", str(EXAMPLES)], env={**secret_env(path), "HYPERPROOF_CLIENT_SECRET": ""}
    )
    assert result.exit_code == 3
    assert f"HYPERPROOF_CLIENT_SECRET_FILE ({path}) is empty" in result.stderr


def test_a_readable_secret_file_warns_like_ssh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "secret"
    path.write_text("CANARY-value\n")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, "hpconfig"):
        assert resolve(ProjectConfig(), secret_env(path)).secret.reveal() == "CANARY-value"
    assert f"permissions 0644 for {path} are too open" in caplog.text
    assert "CANARY" not in caplog.text


def test_a_symlink_to_a_regular_secret_file_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.write_text("s3cret\n")
    target.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert resolve(ProjectConfig(), secret_env(link)).secret.reveal() == "s3cret"
