"""Text from data, made inert: the one set of escapes for terminals, logs and messages.

Owns how a value that hpconfig did not write (a control's name, an API's error text, a file
name, a manifest's key) is shown: control characters and escape sequences as visible escapes
(``\\x1b``), never raw; a newline never starts a new output line; a line that the GitHub
Actions runner would take for a workflow command (``::`` after leading whitespace, ``##[``
anywhere) defused; and a short excerpt, never a whole value. A leaf: it imports nothing from
hpconfig. Markdown has its own escapes (``render.markdown``), built on these.
"""

from __future__ import annotations

import re
from typing import Any


def _escape_of(code: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
    if code in named:
        return named[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# C0, DEL and C1 controls; the line and paragraph separators; the bidirectional controls that
# reorder what a reader sees ("Trojan Source"). U+009B alone is a CSI on many terminals.
_DANGEROUS = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_INERT = {code: _escape_of(code) for code in _DANGEROUS}
# The same, except the newline: for text whose lines hpconfig itself laid out.
_INERT_LINES = {code: text for code, text in _INERT.items() if code != 0x0A}
_INERT_COLOUR = {code: text for code, text in _INERT_LINES.items() if code != 0x1B}


# Finds whether a text has any of them at all: most text has none, and a search is several
# times faster than translating every character (60,000 values in a plan of 10,000 drifted
# controls).
def _any_of(codes: Any) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\u{code:04x}" for code in codes) + "]")


_ANY_DANGEROUS = _any_of(_INERT)
_ANY_IN_LINES = _any_of(_INERT_LINES)
_ANY_IN_COLOUR = _any_of(_INERT_COLOUR)
# Inside a JSON string, as JSON escapes, so the document still parses to the same value.
_INERT_JSON = {code: f"\\u{code:04x}" for code in _DANGEROUS if code >= 0x7F}

# What the runner's TrimStart() skips (.NET's char.IsWhiteSpace), and Python's isspace too.
_RUNNER_WHITESPACE = (
    "".join(
        chr(c)
        for c in (*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028)
    )
    + "\u2029\u202f\u205f\u3000\x1c\x1d\x1e\x1f"
)


def inert(text: str) -> str:
    """``text`` with every control, separator and bidi character shown as an escape."""
    return text.translate(_INERT) if _ANY_DANGEROUS.search(text) else text


def excerpt(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: its repr (escapes included), cut to ``limit``."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        # str() of a huge int raises past 4,300 digits; its bit length tells the size
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1} digits>"
    if isinstance(value, str) and len(value) > limit * 4:
        value = value[: limit * 4]  # repr of a huge string is never needed whole
    text = inert(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def inert_lines(text: str, colour: bool = False) -> str:
    """Laid-out text (several lines) with any control character left in it escaped; with
    ``colour``, the escape character of hpconfig's own colours is kept."""
    if not (_ANY_IN_COLOUR if colour else _ANY_IN_LINES).search(text):
        return text
    return text.translate(_INERT_COLOUR if colour else _INERT_LINES)


def guard_log_line(line: str) -> str:
    """One output line that the Actions runner cannot take for a command.

    The runner trims leading whitespace and parses a line starting with ``::``; its legacy
    parser finds ``##[`` anywhere. The first colon and the bracket are shown escaped.
    """
    stripped = line.lstrip(_RUNNER_WHITESPACE)
    if stripped.startswith("::"):
        start = len(line) - len(stripped)
        line = line[:start] + "\\x3a" + line[start + 1 :]
    return line.replace("##[", "##\\x5b")


def guard_log(text: str) -> str:
    """``guard_log_line`` on every line of ``text``."""
    if "::" not in text and "##[" not in text:
        return text
    return "\n".join(guard_log_line(line) for line in text.split("\n"))


def inert_json(text: str) -> str:
    """A JSON document safe in a log and on a terminal, parsing to the same values.

    ``##[`` and the controls json.dumps leaves raw (DEL, C1, bidi) can only stand inside strings
    there, where a ``\\uXXXX`` escape means the same character.
    """
    return text.translate(_INERT_JSON).replace("##[", "##\\u005b")


def stop_token(text: str) -> str:
    """A token for ``::stop-commands::``: a digest of the text it guards, so the text cannot
    contain it, and two runs on the same data print the same bytes."""
    import hashlib  # GitHub commands only: a validate in a hook starts without it

    return "hpconfig-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
