"""Answers on the wire: read bounded, parsed strictly, described in words, secrets taken out.

Owns ``Answer`` (one HTTP answer, its body already read), ``read_body`` (a stream read with a
size cap counted AFTER decompression and a deadline for the whole body), ``parse_json`` (no
NaN, no infinity, no nesting deeper than Python's recursion limit: all are API errors),
``retry_after`` (every form of the header, none of which may crash), ``describe`` (a transport
failure in a person's words) and ``redact`` (the secret and the token taken out of any text a
server or a mistake could echo, in every encoding, BEFORE any cut). Shared by ``auth`` and
``client``; it must not decide what to retry.

The body is read with urllib3's ``read1``, which since urllib3 2.6 decompresses at most the
asked amount per call (CVE-2025-66471), so a gzip bomb costs one chunk past the cap, not its
inflated size.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from hpconfig import hyperproof as hp
from hpconfig.remote.settings import ENV_MAX_RESPONSE_MB, Secret

REDACTED = "********"
CHUNK_BYTES = 1024 * 1024
MESSAGE_LIMIT = 200  # characters of a server's message kept in an error
SLOW_ANSWER = "the answer did not arrive in time (a slow server)"
_SHORTEST_CUT = 8  # the fewest characters of a credential's start that count as an echo of it


class TransportFailure(Exception):
    """No usable answer: ``kind`` is connect (nothing was sent), timeout, dropped, too-large,
    deadline or malformed; the message says it in words, never with a header or a body."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Answer:
    """One HTTP answer with its body read: status, headers and bytes, and the URL it came from."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and self.status != 304

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def read_body(
    response: requests.Response, cap: int, deadline_at: float, read_timeout: float, clock: Any
) -> bytes:
    """The whole body, decompressed, or TransportFailure past ``cap`` bytes or the deadline."""
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline_at - clock()
        if remaining <= 0:
            raise TransportFailure("deadline", SLOW_ANSWER)
        _gap_timeout(raw, min(read_timeout, remaining))
        try:
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        except (ReadTimeoutError, TimeoutError):
            if deadline_at - clock() <= 0.01:  # the gap timeout was the deadline's remainder
                raise TransportFailure("deadline", SLOW_ANSWER) from None
            raise TransportFailure("timeout", "timed out") from None
        except DecodeError:
            raise TransportFailure(
                "malformed", "the compressed answer does not decompress"
            ) from None
        except (ProtocolError, OSError):
            raise TransportFailure("dropped", "the connection was closed mid-answer") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise TransportFailure(
                "too-large",
                f"the answer is larger than the cap of {cap // (1024 * 1024)} MB "
                f"(counted after decompression; {ENV_MAX_RESPONSE_MB} raises it)",
            )
        chunks.append(chunk)


def _gap_timeout(raw: Any, seconds: float) -> None:
    """The socket's timeout for the next read: the read timeout, or less near the deadline."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.001))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number beyond the range of a float")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class TooDeep(ValueError):
    """JSON nested deeper than Python's recursion limit lets it be read."""


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole_characters(value: Any) -> Any:
    """``value`` with every lone surrogate (``"\\ud800"`` in JSON decodes to one) made U+FFFD:
    no UTF-8 writer can encode one, so a single such string from Hyperproof would crash every
    report file, the step summary and the plan's fingerprints."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_whole_characters(item) for item in value]
    if isinstance(value, dict):
        return {_whole_characters(k): _whole_characters(v) for k, v in value.items()}
    return value


# Objects and lists cost 56 to 64 bytes each once parsed, whatever they hold: 10 MB of
# `[{},{},...]` became 300 MB. A body over MEASURED_FROM bytes is refused when it holds more
# than MAX_CONTAINERS of them (counted as `{` and `[` bytes, strings included: never fewer), which
# bounds what they can take to about 0.5 GB. 10,000 controls as the API answers them hold 80,000
# (19 MB); a saved plan of 10,000 drifted controls about 90,000.
MAX_CONTAINERS = 8_000_000
MEASURED_FROM = 4 * 1024 * 1024
# Strings and numbers cost 30 to 60 bytes each too: 20 MB of `["ab","ab",...]` became 300 MB,
# and a 256 MB answer of them 4 GB, with no `{` or `[` to count. Every value after the first of
# a list is preceded by a `,`, every value in an object by a `:`: counted the same way (strings
# included, so prose counts too), they bound the values to about 1.5 GB. 10,000 controls hold
# 1,260,000; the 256 MB answer cap about 17,000,000, which this leaves room for.
MAX_VALUES = 24_000_000


class TooMany(ValueError):
    """JSON of more objects and lists than hpconfig reads (``MAX_CONTAINERS``)."""


def parse_json(body: bytes) -> Any:
    """The JSON in ``body``, strings made of whole characters; ValueError (with a reason) for
    anything not strictly JSON, and ``TooDeep`` or ``TooMany`` for JSON beyond what hpconfig
    reads."""
    if len(body) > MEASURED_FROM and body.count(b"{") + body.count(b"[") > MAX_CONTAINERS:
        raise TooMany(
            f"the JSON holds more than {MAX_CONTAINERS:,} objects and lists, more than "
            "hpconfig reads (its memory would grow without bound)"
        )
    if len(body) > MEASURED_FROM and body.count(b",") + body.count(b":") > MAX_VALUES:
        raise TooMany(
            f"the JSON holds more than {MAX_VALUES:,} values, more than hpconfig reads "
            "(its memory would grow without bound)"
        )
    try:
        value = json.loads(body, parse_float=_finite, parse_constant=_no_constants)
        # A valid pair of escapes decodes to one character; only a lone one survives. The walk
        # runs only when the body has such an escape at all.
        return _whole_characters(value) if _SURROGATE_ESCAPE.search(body) else value
    except RecursionError:
        raise TooDeep("the JSON nests too deeply to read") from None


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After``: ASCII digits or an HTTP date; None when absent,
    unreadable or in the past (``²``, ``-5``, ``soon``: the caller's backoff decides)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if re.fullmatch(r"[0-9]{1,12}", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return seconds if seconds >= 0 else None


def is_quota_exceeded(answer: Answer) -> bool:
    """The transient 403 "Bandwidth quota exceeded", told from a permission 403 by its message."""
    return answer.status == 403 and hp.QUOTA_MESSAGE.split(".")[0].encode() in answer.body[:4096]


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def _forms(value: str) -> list[str]:
    """Every way a text may carry ``value``: as is, URL-encoded (either case of hex, every
    character or only the reserved ones), JSON-escaped (``\\/`` too), HTML-escaped (named or
    numeric entities), collapsed."""
    quoted = {quote(value, safe=""), quote(value), quote_plus(value)}
    every = "".join(f"%{byte:02X}" for byte in value.encode("utf-8"))
    forms = {
        value,
        *quoted,
        *(_lower_escapes(form) for form in quoted),
        every,
        every.lower(),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1].replace("/", "\\/"),
        html.escape(value),
        "".join(f"&#{ord(c)};" for c in value),
        "".join(f"&#x{ord(c):x};" for c in value),
        " ".join(value.split()),
    }
    return sorted((form for form in forms if form), key=len, reverse=True)


# Characters a server may slip into an echo to split it: whitespace and zero-width ones.
_SPLITTERS = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
WITHHELD = "(the server's message is withheld: it held a credential in some encoding)"


def _decodings(text: str) -> list[str]:
    """``text`` with the encodings ``_forms`` knows undone (percent-escapes with and without
    ``+`` as a space), splitters taken out, folded; the same steps applied to a credential and
    to a text make an echo of one a substring of the other."""
    text = html.unescape(text.replace("\\/", "/"))
    forms = (text, unquote(text), unquote_plus(text))
    return [_SPLITTERS.sub("", form).casefold() for form in forms]


def redact(text: str, *secrets: Secret | None) -> str:
    """``text`` without any credential: whole, in any encoding, or its start at the text's end
    (an echo that someone else cut). Call it before cutting a text, never after."""
    for secret in secrets:
        value = secret.reveal() if secret is not None else ""
        if not value:
            continue
        for form in _forms(value):
            text = text.replace(form, REDACTED)
            shortest = min(len(form) - 1, _SHORTEST_CUT)
            for length in range(len(form) - 1, shortest - 1, -1):
                if text.endswith(form[:length]):
                    text = text[:-length] + REDACTED
                    break
        # Any encoding not listed above (mixed case, split by spaces or zero-width characters,
        # entities and escapes mixed): the whole text is withheld rather than guessed at.
        texts = _decodings(text)
        for folded in _decodings(value):
            if len(folded) >= _SHORTEST_CUT and any(folded in decoded for decoded in texts):
                return WITHHELD
    return text


def cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return (text[:limit] + "...") if len(text) > limit else text


def server_message(answer: Answer, *secrets: Secret | None) -> str:
    """The server's own words from a failed answer, whatever shape it took, without secrets."""
    text = redact(answer.text(), *secrets)
    try:
        body = parse_json(answer.body)
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [body.get(key) for key in ("error", "error_description", "message", "title")]
        words = [str(p) for p in parts if isinstance(p, (str, int)) and str(p)]
        if words:
            return cut(" ".join(redact(": ".join(dict.fromkeys(words)), *secrets).split()))
    if "html" in answer.headers.get("Content-Type", "") or text.lstrip().startswith("<"):
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        heading = re.search(r"<h1>(.*?)</h1>", text, re.I | re.S)
        found = title or heading
        title_text = redact(found.group(1), *secrets) if found else ""
        shown = cut(" ".join(title_text.split()), 80) if found else "no title"
        return f"an HTML page ({shown}), not JSON"
    return cut(" ".join(text.split())) or "(empty body)"


def preview(answer: Answer, *secrets: Secret | None) -> str:
    """The start of a body that is not what was expected: its type and first characters."""
    kind = answer.headers.get("Content-Type", "no content type")
    start = cut(" ".join(redact(answer.text()[:400], *secrets).split()), 60)
    return f"{cut(kind, 60)}: {json.dumps(start)}"


def describe(error: Exception) -> tuple[str, str]:
    """A requests failure before an answer: (kind, words); never with headers or bodies."""
    reason = str(error.args[0]) if error.args else str(error)
    if isinstance(error, requests.ConnectTimeout):
        return "connect", "timed out connecting"
    if isinstance(error, requests.Timeout) or "timed out" in reason:
        return "timeout", "timed out"
    if isinstance(error, requests.exceptions.SSLError):
        return (
            "connect",
            "the TLS handshake failed (is the certificate trusted? REQUESTS_CA_BUNDLE)",
        )
    if isinstance(error, requests.ConnectionError):
        if "RemoteDisconnected" in reason or "Connection aborted" in reason:
            return "dropped", "the connection was closed without an answer"
        if "Connection refused" in reason:
            return "connect", "connection refused"
        if "Name or service not known" in reason or "getaddrinfo" in reason:
            return "connect", "the host name does not resolve"
        if "NewConnectionError" in reason or "Failed to establish" in reason:
            return "connect", "could not connect"
        # Anything else may have happened after the request left: for a write, ambiguous.
        return "dropped", "the connection failed mid-request"
    if isinstance(error, (requests.exceptions.InvalidHeader, UnicodeError)):
        return "malformed", "a header of the request or of its answer is not valid"
    return "malformed", type(error).__name__
