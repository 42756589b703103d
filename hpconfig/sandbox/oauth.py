"""The sandbox's token endpoint: OAuth 2.0 client credentials (RFC 6749 §4.4, §5.2 errors).

Owns what ``POST /oauth/token`` answers: a bearer token for a form-encoded client id and secret;
``invalid_request`` for a body that is not a form or lacks a field, ``unsupported_grant_type``
for another grant, ``invalid_client`` for a wrong id or secret. Credentials in an
``Authorization: Basic`` header are not read: Hyperproof documents the form body only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from hpconfig.sandbox.rules import ApiProblem
from hpconfig.sandbox.state import Organization

FORM = "application/x-www-form-urlencoded"


def _error(status: int, code: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": code, "error_description": description}


def token_answer(
    org: Organization, lifetime: float, content_type: str, raw: bytes
) -> tuple[int, dict[str, Any]]:
    """One token request → (status, JSON document)."""
    if content_type != FORM:
        return _error(400, "invalid_request", "send a form-encoded body")
    form = {key: values[-1] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
    if "grant_type" in form and form["grant_type"] != "client_credentials":
        return _error(400, "unsupported_grant_type", "only client_credentials")
    missing = [key for key in ("grant_type", "client_id", "client_secret") if not form.get(key)]
    if missing:
        return _error(400, "invalid_request", f"missing: {', '.join(missing)}")
    try:
        token = org.issue_token(form["client_id"], form["client_secret"], lifetime)
    except ApiProblem:
        return _error(401, "invalid_client", "Client authentication failed")
    return 200, {"access_token": token, "token_type": "bearer", "expires_in": int(lifetime)}
