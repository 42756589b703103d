"""A port of the GitHub Actions runner's workflow-command parsing, to test hpconfig's logs with.

From actions/runner (src/Runner.Common/ActionCommand.cs, ``TryParseV2`` and the legacy
``TryParse``; src/Runner.Worker/ActionCommandManager.cs, the registered commands and
``stop-commands``; src/Runner.Sdk/ProcessInvoker.cs, lines read with ``StreamReader.ReadLine``,
which ends a line at CR, LF or CRLF). Command names compare case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED = {
    "stop-commands",
    "set-env",
    "set-output",
    "save-state",
    "add-mask",
    "add-path",
    "add-matcher",
    "remove-matcher",
    "debug",
    "warning",
    "error",
    "notice",
    "group",
    "endgroup",
    "echo",
}
# .NET's char.IsWhiteSpace, which String.TrimStart() skips.
_DOTNET_WHITESPACE = "".join(
    chr(c)
    for c in (
        *range(0x09, 0x0E),
        0x20,
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)


@dataclass
class Command:
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def _unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]
_LEGACY = [(";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25")]


def try_parse_v2(message: str, registered: set[str]) -> Command | None:
    if not message:
        return None
    message = message.lstrip(_DOTNET_WHITESPACE)
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    command = Command(name)
    if space > 0:
        for pair in info[space + 1 :].strip().split(","):
            key, sep, value = pair.partition("=")
            if pair and key and sep and value:
                command.properties[key] = _unescape(value, _PROPERTY)
    command.data = _unescape(message[end + 2 :], _DATA)
    return command


def try_parse_legacy(message: str, registered: set[str]) -> Command | None:
    if not message:
        return None
    prefix = message.find("##[")
    if prefix < 0:
        return None
    bracket = message.find("]", prefix)
    if bracket < 0:
        return None
    info = message[prefix + 3 : bracket]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    command = Command(name)
    if space > 0:
        for pair in info[space + 1 :].split(";"):
            key, sep, value = pair.partition("=")
            if pair and key and sep and value:
                command.properties[key] = _unescape(value, _LEGACY)
    command.data = _unescape(message[bracket + 1 :], _LEGACY)
    return command


def lines(output: str) -> list[str]:
    """Output as the runner reads it: a line ends at CR, LF or CRLF."""
    return re.split(r"\r\n|\r|\n", output)


def run(output: str) -> list[tuple[str, Command]]:
    """Every line the runner would process as a command, with what it parsed, honouring
    ``::stop-commands::TOKEN`` until ``::TOKEN::``."""
    registered = {name.lower() for name in REGISTERED}
    stopped: str | None = None
    found: list[tuple[str, Command]] = []
    for line in lines(output):
        command = try_parse_v2(line, registered) or try_parse_legacy(line, registered)
        if command is None:
            continue
        if stopped is not None:
            if command.name.lower() == stopped.lower():
                registered.discard(stopped.lower())
                stopped = None
                found.append((line, command))
            continue
        if command.name.lower() == "stop-commands":
            assert command.data and command.data.lower() not in registered
            stopped = command.data
            registered.add(stopped.lower())
        found.append((line, command))
    return found


def loose_commands(output: str) -> list[str]:
    """Lines that any parser would consider, whatever is registered or stopped: ``::`` after
    leading whitespace, or ``##[`` anywhere. Stricter than the runner, on purpose."""
    return [
        line
        for line in lines(output)
        if line.lstrip(_DOTNET_WHITESPACE + "\x1c\x1d\x1e\x1f").startswith("::") or "##[" in line
    ]
