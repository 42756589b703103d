"""Where credentials may go: the rules on the API and token URLs, and what an origin is.

Owns ``check_url`` (https, or http on loopback only; no credentials in the URL, and then the URL
is never echoed), ``origin`` (scheme, host, port: the unit the secret and the token are bound
to), which hosts a repository file may name (the region table's and loopback: a pull request
writes ``hpconfig.yaml``), and which region a URL belongs to. Pure: it must not talk HTTP.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hpconfig import hyperproof as hp
from hpconfig.errors import SettingsError
from hpconfig.loopback import is_loopback_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


# A host as hpconfig accepts it: a DNS name or IPv4 address of plain ASCII letters, digits, dots
# and hyphens, or a bracketed IPv6 literal. Anything else (``%2e``, ``\``, ``@``, spaces,
# non-ASCII) is a place where two URL parsers (urllib's and urllib3's, or a resolver) may read
# two different hosts, and a credential would go to the one hpconfig did not check.
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f-\U0010ffff]")


def ambiguous(url: str) -> bool:
    """True when parsers may disagree on where ``url`` leads: a backslash, whitespace, a control
    or non-ASCII character anywhere, or an authority with user info, a percent sign or a host
    outside ``_HOST``."""
    if _AMBIGUOUS.search(url):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    return "@" in parts.netloc or "%" in parts.netloc or not _HOST.fullmatch(host or "")


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, lower-cased, with the default port made explicit;
    never the user info, path or query. ``""`` for a URL that has no usable origin, or one that
    ``ambiguous`` refuses."""
    if ambiguous(url):
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port or _DEFAULT_PORTS[scheme]}"


def check_url(name: str, url: str) -> str:
    """A usable URL without a trailing slash, or SettingsError: https, or http on loopback."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise SettingsError(f"{name} is not a valid URL") from None
    if "@" in parts.netloc:
        # The URL is not repeated: what precedes the @ is a user name or a password.
        raise SettingsError(
            f"{name} carries credentials (user:password@) in the URL; remove them: hpconfig "
            "signs in with the client id and secret"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} {url!r} is not an http(s) URL")
    if ambiguous(url):
        raise SettingsError(
            f"{name} {url!r} has a host hpconfig does not accept: write it with ASCII letters, "
            "digits, dots and hyphens (or a bracketed IPv6 address), without %-escapes, "
            "backslashes or spaces"
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise SettingsError(
            f"{name} {url!r} uses plain http; hpconfig sends credentials only over https "
            "(plain http is allowed for loopback addresses, such as the sandbox)"
        )
    return url.rstrip("/")


def api_root(url: str) -> str:
    """The API's host root: ``https://api.hyperproof.app/v1`` is understood as the root,
    since hpconfig adds ``/v1/...`` itself."""
    return url[: -len("/v1")] if url.lower().endswith("/v1") else url


def region_of(url: str, kind: int) -> str | None:
    """The region whose API (kind 0) or token (kind 1) URL has this URL's origin, if any."""
    for region, urls in hp.REGIONS.items():
        if origin(urls[kind]) == origin(url):
            return region
    return None


def trusted_in_a_repository(url: str) -> bool:
    """May a URL come from a repository file? Only a region table host, or loopback."""
    host = urlsplit(url).hostname or ""
    if is_loopback_host(host):
        return True
    return any(origin(url) == origin(u) for urls in hp.REGIONS.values() for u in urls)
