"""The one output path: everything the CLI prints goes through ``emit``.

Owns what holds for every byte hpconfig writes to stdout and stderr, whatever produced it:

- the client secret never shows (``HYPERPROOF_CLIENT_SECRET`` or the file
  ``HYPERPROOF_CLIENT_SECRET_FILE`` names), even when a manifest turns out to be the secret file;
- text is inert: a control character left in it is escaped, and a line the GitHub Actions runner
  would parse as a command is defused; only hpconfig's own annotations (``kind="commands"``)
  pass as they are, and a JSON document stays valid JSON (``kind="json"``);
- a character the stream cannot encode (``LANG=C``, ``PYTHONIOENCODING=ascii``) is written as
  an escape (``\\u2192``; in JSON, ``\\u2192`` too, which parses to the same value);
- a write that fails (a closed pipe, a full disk) is ``OutputError``, exit 74, never a traceback.
"""

from __future__ import annotations

import codecs
import logging
import os
import stat
import sys
from functools import lru_cache
from typing import Any, Literal

import click

from hpconfig.errors import OutputError
from hpconfig.untrusted import guard_log, inert, inert_json, inert_lines

Kind = Literal["text", "json", "commands"]
REDACTED = "********"
_SHORTEST_CUT = 12  # a cut secret shorter than this says too little to redact safely
# Real client secrets are tens of characters; taking a shorter one (a test's "s") out of every
# line would garble all output, so it is left alone.
_SHORTEST_SECRET = 8


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """Characters a stream cannot encode, as JSON ``\\uXXXX`` escapes (surrogate pairs above
    the BMP), so a JSON document stays valid and means the same."""
    assert isinstance(error, UnicodeEncodeError)
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error("hpconfig-json", _json_escape)


def _regular_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@lru_cache(maxsize=4)
def _secret_values(value: str, file: str) -> tuple[str, ...]:
    """The secret, and the forms in which a message can show it (repr, escaped)."""
    from hpconfig.remote import settings

    if file and not _regular_file(file):
        file = ""  # never block on a FIFO here: settings reports a bad secret file, if used
    try:
        secret = settings.read_secret(
            {settings.ENV_SECRET: value, settings.ENV_SECRET_FILE: file}
        ).reveal()
    except Exception:  # settings reports it when the secret is used; redact what is known
        secret = value
    if len(secret) < _SHORTEST_SECRET:
        return ()
    forms = {secret, repr(secret)[1:-1], inert(secret), inert(repr(secret)[1:-1])}
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


_reading = False


def _secrets(environ: Any) -> tuple[str, ...]:
    """The secret's forms, read once; quietly, since reading may log (a readable secret file),
    and the log goes through ``redact`` too."""
    global _reading
    if _reading:
        return ()
    _reading, level = True, logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        return _secret_values(
            environ.get("HYPERPROOF_CLIENT_SECRET", ""),
            environ.get("HYPERPROOF_CLIENT_SECRET_FILE", ""),
        )
    finally:
        logging.disable(level)
        _reading = False


def redact(text: str, environ: Any = None) -> str:
    """``text`` without the client secret, whole or cut short by an excerpt (``abc...``)."""
    values = _secrets(os.environ if environ is None else environ)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
        if len(value) > _SHORTEST_CUT and value[:_SHORTEST_CUT] in text:
            # an excerpt cut the secret: take out every prefix that ends in the cut's "..."
            for end in range(len(value) - 1, _SHORTEST_CUT - 1, -1):
                text = text.replace(value[:end] + "...", REDACTED + "...")
    return text


def _encodable(text: str, stream: Any, kind: Kind) -> str:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        handler = "hpconfig-json" if kind == "json" else "backslashreplace"
        return text.encode(encoding, handler).decode(encoding)
    except LookupError:  # an encoding Python does not know: fall back to ASCII escapes
        return text.encode("ascii", "backslashreplace").decode("ascii")


def safe_text(text: str, kind: Kind = "text", color: bool = False) -> str:
    """What ``emit`` prints for ``text``, before the stream's encoding is applied."""
    text = redact(text)
    if kind == "json":
        return inert_json(text)
    if kind == "text":
        return guard_log(inert_lines(text, colour=color))
    return text


def emit(
    text: str, *, err: bool = False, kind: Kind = "text", color: bool = False, nl: bool = False
) -> None:
    """Print ``text`` to stdout (or stderr) through every rule above."""
    if nl:
        text += "\n"
    stream = sys.stderr if err else sys.stdout  # what CliRunner and redirections replace
    text = _encodable(safe_text(text, kind, color), stream, kind)
    try:
        click.echo(text, file=stream, nl=False, color=color)
    except OSError as error:
        if err:
            return  # nowhere left to say it
        raise OutputError(
            f"cannot write to standard output: {error.strerror or type(error).__name__}"
        ) from None


def message(text: str) -> None:
    """A message on stderr: one line per line of ``text``, all inert."""
    emit(text, err=True, nl=True)


class InertFormatter(logging.Formatter):
    """Log records (``--debug``) through the same rules: redacted, one line each, inert."""

    def format(self, record: logging.LogRecord) -> str:
        lines = super().format(record).split("\n")  # a traceback keeps its lines
        return guard_log(redact("\n".join(inert(line) for line in lines)))


def progress(text: str, done: bool = False) -> None:
    """A status line on stderr that the next one overwrites (a terminal only): the text goes
    through every rule above; only the carriage return and "erase line" are hpconfig's own."""
    stream = sys.stderr
    line = _encodable(safe_text(text.replace("\n", " ")), stream, "text")
    try:
        click.echo("\r\x1b[2K" + line + ("\n" if done else ""), file=stream, nl=False)
        stream.flush()
    except OSError:
        return
