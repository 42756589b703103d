"""Values → YAML text, written the friendliest way that loads back to exactly the same value.

Owns how import (and refresh) spell one value in a manifest: a duration in its shortest exact
form (``12w``, ``30d``, ``36h``, else ISO-8601 ``PT90M``), a string plain when YAML reads it back
as that string, else single-quoted (``'1.10'``, ``'yes'``, ``'*x'``), multi-line text as a literal
block scalar with the chomping indicator its line breaks need, and anything a block or single
quotes cannot hold exactly (trailing spaces, tabs, control, bidi or invisible characters) as a
double-quoted scalar with escapes, so that a file never carries a raw character that could
reorder or hide what a reviewer reads. A value YAML cannot hold at all (a lone surrogate,
which no UTF-8 file can contain) is ``UnrepresentableError``, never written wrong.

Whether a plain scalar would read as a string is decided by the resolvers themselves: PyYAML's
(YAML 1.1: ``yes``, ``on``, ``~``, ``1_000``, ``2024-01-01``) and the YAML 1.2 core schema's
(``1e3``, ``0o17``), which editors and other tools use. Hand-writing the emitter, rather than
calling ``yaml.dump``, is deliberate: PyYAML's emitter leaves bidi and other format characters
raw when asked for readable Unicode, folds long lines, and cannot be asked for one value at an
indentation (what refresh needs to replace one value in place).

Pure: no files, no network; it must not know what a manifest means (the writer does).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache

import isodate
import yaml

_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
# The YAML 1.2 core schema's implicit types (spec 1.2.2, 10.3.2): what a YAML 1.2 reader (the
# yaml-language-server, ruamel, Go's yaml.v3) would not read as a string. PyYAML (1.1) reads
# some of them as strings (``1e3``, ``0o17``), so a plain scalar must pass both.
_CORE_12 = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN",
)
# A plain scalar may not start with these (YAML 1.2, 7.3.3: c-indicator); ``-``, ``?`` and
# ``:`` could when a non-space follows, but quoting them costs two characters and no doubt.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = frozenset(",[]{}")
# Escapes of the double-quoted style for the characters that have a short one.
_SHORT_ESCAPES = {
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


# Most values are short printable ASCII: one regex answers "all visible" for them at once.
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnrepresentableError(ValueError):
    """A value that no YAML file can hold exactly; the message says why."""


@lru_cache(maxsize=4096)
def visible(char: str) -> bool:
    """True for a character that may stand raw in a file: printable and not a format, control,
    private-use, unassigned or separator character (bidi controls, zero-width joiners, the BOM,
    no-break spaces and U+2028 all are escaped: they hide or reorder what a reviewer reads).
    The plain space is visible."""
    if char == " ":
        return True
    category = unicodedata.category(char)
    return category[0] not in "CZ"


def duration(seconds: int) -> str:
    """Whole seconds → the shortest exact form the manifest language reads: ``12w``, ``30d``,
    ``36h``, else ISO-8601 (``PT90M``, ``P1DT30M``, ``PT1S``)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise UnrepresentableError(f"{seconds!r} is not a positive whole number of seconds")
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(isodate.duration_isoformat(timedelta(seconds=seconds)))


def reads_as_string(text: str) -> bool:
    """True when ``text`` written plain would be read back as the string ``text`` by a YAML 1.1
    and a YAML 1.2 reader (no bool, null, number or timestamp)."""
    if _CORE_12.fullmatch(text):
        return False
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == _STR)


def plain_ok(text: str, flow: bool = False) -> bool:
    """True when ``text`` can be written as a plain scalar (in a flow collection with ``flow``)."""
    if not text or "\n" in text or text != text.strip(" ") or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(char in _FLOW_INDICATORS for char in text):
        return False
    if not _all_visible(text):
        return False
    return reads_as_string(text)


def _all_visible(text: str) -> bool:
    return bool(_PRINTABLE_ASCII.fullmatch(text)) or all(visible(char) for char in text)


def _check_encodable(text: str) -> None:
    found = _SURROGATE.search(text)
    if found:
        raise UnrepresentableError(
            f"the text holds a lone surrogate (U+{ord(found.group()):04X}), which no YAML file "
            "can hold"
        )


def double_quoted(text: str) -> str:
    """``text`` as a one-line double-quoted scalar: every character that is not plainly visible
    is escaped, so the line shows exactly what the value holds."""
    _check_encodable(text)
    out = ['"']
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif visible(char):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def single_quoted(text: str) -> str:
    """``text`` in single quotes (``'`` doubled); only for one line of visible characters."""
    return "'" + text.replace("'", "''") + "'"


def _block_ok(text: str) -> bool:
    """True when a literal block scalar holds ``text`` exactly and readably: several lines of
    visible characters, no line ending in a space (editors strip those), some content."""
    if "\n" not in text or not text.strip("\n"):
        return False
    lines = text.split("\n")
    return all(not line.endswith(" ") and _all_visible(line) for line in lines)


def block(text: str, indent: int) -> str:
    """A literal block scalar of ``text`` as the value of a key ``indent`` columns in; its
    lines stand two further in.

    ``|-`` strips the last line break, ``|`` keeps one, ``|+`` keeps them all. An indentation
    indicator is given when the first line with content starts with a space, since YAML would
    otherwise take those spaces for indentation.
    """
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    first = next(line for line in body.split("\n") if line)
    indicator = "2" if first.startswith(" ") else ""  # content is 2 in from its parent
    pad = " " * (indent + 2)
    lines = [pad + line if line else "" for line in text.split("\n")]
    if trailing:
        lines = lines[:-1]  # the last break ends the last line; it opens no new one
    return f"|{indicator}{chomp}\n" + "\n".join(lines)


def scalar(value: object, indent: int = 0, flow: bool = False) -> str:
    """``value`` (a string, bool, int or None) as YAML text after ``key: ``, where the key
    stands ``indent`` columns in; a block scalar's lines go 2 further in. ``flow``: the value
    sits in a flow collection (``{policy: manual}``), where no block scalar can stand."""
    if isinstance(value, str) and len(value) <= _CACHED_LENGTH:
        return _scalar_cached(value, indent, flow)  # owners, enums, durations repeat
    return _scalar(value, indent, flow)


_CACHED_LENGTH = 120


@lru_cache(maxsize=8192)
def _scalar_cached(value: str, indent: int, flow: bool) -> str:
    return _scalar(value, indent, flow)


def _scalar(value: object, indent: int, flow: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise UnrepresentableError(f"a {type(value).__name__} is not a value YAML text holds")
    _check_encodable(value)
    if plain_ok(value, flow):
        return value
    if not flow and _block_ok(value):
        return block(value, indent)
    if "\n" not in value and _all_visible(value):
        return single_quoted(value)
    return double_quoted(value)
