"""Answers and transport failures in a person's words, with secrets taken out.

Shared by ``auth`` and ``client``. The server's message is reported as the server gave it,
except that a secret it echoes (a buggy or hostile server might) is replaced before the text
reaches an exception.
"""

from __future__ import annotations

import re

import requests

from hpconfig import hyperproof as hp
from hpconfig.settings import Secret

REDACTED = "********"


def is_quota_exceeded(response: requests.Response) -> bool:
    """The transient 403 "Bandwidth quota exceeded", told from a permission 403 by its message."""
    return response.status_code == 403 and hp.QUOTA_MESSAGE.split(".")[0] in response.text


def redact(text: str, *secrets: Secret | None) -> str:
    for secret in secrets:
        value = secret.reveal() if secret is not None else ""
        if value:
            text = text.replace(value, REDACTED)
    return text


def server_message(response: requests.Response) -> str:
    """The server's own words from a failed answer, whatever shape it took."""
    text = response.text or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [body.get(key) for key in ("error", "error_description", "message", "title")]
        words = [str(p) for p in parts if isinstance(p, (str, int)) and str(p)]
        if words:
            return ": ".join(dict.fromkeys(words))
    if "html" in response.headers.get("Content-Type", "") or text.lstrip().startswith("<"):
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        heading = re.search(r"<h1>(.*?)</h1>", text, re.I | re.S)
        found = title or heading
        return f"an HTML page ({found.group(1).strip() if found else 'no title'}), not JSON"
    text = " ".join(text.split())
    return (text[:200] + "...") if len(text) > 200 else (text or "(empty body)")


def describe(error: Exception) -> str:
    """A transport failure in a person's words (never with headers or bodies)."""
    reason = str(error.args[0]) if error.args else str(error)
    if isinstance(error, requests.Timeout) or "timed out" in reason:
        return "timed out"
    if isinstance(error, requests.exceptions.RetryError):
        return "gave up after retries"
    if isinstance(error, requests.ConnectionError):
        if "RemoteDisconnected" in reason or "Connection aborted" in reason:
            return "the connection was closed without an answer"
        if "Connection refused" in reason:
            return "connection refused"
        if "Name or service not known" in reason or "getaddrinfo" in reason:
            return "the host name does not resolve"
        return "could not connect"
    return type(error).__name__
