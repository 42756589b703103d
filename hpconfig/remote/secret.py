"""The client secret: a value that never shows itself, and the one way to read it from a file.

Owns ``Secret`` (no repr, str, format or pickle shows the value) and ``read_secret_file``, the
rules for ``HYPERPROOF_CLIENT_SECRET_FILE``: a regular file (a symlink to one is fine) of at most
``MAX_SECRET_FILE_BYTES``, in UTF-8; a BOM and ONE trailing newline are dropped, nothing else, so
a secret that really ends in whitespace survives. A group- or world-readable file is read with
a warning, as ssh gives for a private key. Every message names the file, never its content.
It must not talk HTTP or know where the secret goes.
"""

from __future__ import annotations

import logging
import os
import stat

from hpconfig.errors import SettingsError

log = logging.getLogger("hpconfig.settings")

# A client secret is tens of bytes; 8 KiB leaves room for any real one and refuses a file that
# is evidently something else (a key bundle, a log, /dev/zero behind a symlink).
MAX_SECRET_FILE_BYTES = 8 * 1024


class Secret:
    """A secret string that never shows itself: not in repr, str, format, logs or pickles."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    def __bool__(self) -> bool:
        return bool(self._value)


def read_secret_file(path: str, variable: str) -> Secret:
    """The secret in ``path``, or SettingsError naming ``variable`` and the file."""
    where = f"{variable} ({path})"
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked next.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise SettingsError(f"cannot read {where}: {error.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(f"{where} is not a regular file")
        if info.st_size > MAX_SECRET_FILE_BYTES:
            raise SettingsError(
                f"{where} is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB; "
                "it should hold the client secret only"
            )
        data = os.read(descriptor, MAX_SECRET_FILE_BYTES + 1)
    except OSError as error:
        raise SettingsError(f"cannot read {where}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_SECRET_FILE_BYTES:  # it grew between fstat and read
        raise SettingsError(f"{where} is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB")
    if os.name == "posix" and info.st_mode & 0o077:
        log.warning(
            "permissions %04o for %s are too open: the secret file should be readable by its "
            "owner only (chmod 600)",
            stat.S_IMODE(info.st_mode),
            path,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{where} is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    # Mounted secrets and `echo ... > file` end in one newline; more is part of the value.
    text = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
    if not text:
        raise SettingsError(f"{where} is empty; it should hold the API client's secret")
    return Secret(text)
