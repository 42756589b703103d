"""A refresh → its unified diff, its summary for the terminal, and its pull-request body.

Pure: data in, text out. Every value from data (identifiers, users, file names, the diff's own
lines) is shown inert: the CLI prints through ``cli.output``, and the Markdown body renders
each value as a code span or an escaped sentence (``render.markdown``'s helpers), with the diff
in a fence longer than any backtick run in it. The body is cut to GitHub's limit with the
summary kept, saying what was left out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hpconfig.refresh import ControlUpdate, LeftAlone
from hpconfig.render.markdown import code, prose
from hpconfig.untrusted import inert

# YAML's line breaks, as the manifest parser counts them (see manifest.spans).
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
BODY_LIMIT = 65_000  # GitHub refuses a pull-request body over 65,536 characters
MARKER = "<!-- hpconfig-refresh -->"


@dataclass(frozen=True)
class Refreshed:
    """One control refresh changed (or would): its update and the fields written."""

    update: ControlUpdate
    fields: tuple[str, ...]


def _lines(text: str) -> list[str]:
    """A file's lines without their breaks (a last break ends a line; it opens none)."""
    lines = _BREAK.split(text.removeprefix("\ufeff"))
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def unified_diff(name: str, old: str, new: str) -> str:
    """The unified diff of one file (``a/NAME``, ``b/NAME``), lines without their breaks."""
    absolute = name.startswith("/")
    lines = difflib.unified_diff(
        _lines(old),
        _lines(new),
        name if absolute else f"a/{name}",
        name if absolute else f"b/{name}",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def _who(update: ControlUpdate) -> str:
    by = update.updated_by or "someone (Hyperproof does not say who)"
    on = update.updated_on or "an unknown time"
    return f"changed in Hyperproof by {by} on {on}"


def summary_text(refreshed: Sequence[Refreshed], left: Sequence[LeftAlone], dry_run: bool) -> str:
    """What refresh did (or would do), a line per control, then what it left alone."""
    verb = "would set" if dry_run else "set"
    lines = []
    for item in refreshed:
        update = item.update
        lines.append(
            f"  ~ {inert(update.identifier)} ({inert(update.file)}:{update.line}): {verb} "
            f"{', '.join(item.fields)}; {inert(_who(update))}"
        )
    for alone in left:
        what = inert(alone.identifier) + (f" {alone.field}" if alone.field else "")
        lines.append(f"  - {what}: {inert(alone.reason)}")
    fields = sum(len(item.fields) for item in refreshed)
    files = len({item.update.file for item in refreshed})
    head = (
        f"Refresh: {fields} field{'s' if fields != 1 else ''} of {len(refreshed)} "
        f"control{'s' if len(refreshed) != 1 else ''} in {files} file{'s' if files != 1 else ''}"
        f" {'to accept from' if dry_run else 'accepted from'} Hyperproof"
        f"{'' if not left else f'; {len(left)} left alone'}."
    )
    if not refreshed and not left:
        head = "Refresh: the manifests already match Hyperproof; nothing to change."
    return "\n".join([head, *lines]) + "\n"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown_body(
    refreshed: Sequence[Refreshed], left: Sequence[LeftAlone], diff: str, limit: int = BODY_LIMIT
) -> str:
    """The pull request's body: who changed what in Hyperproof and when, then the diff."""
    parts = [
        MARKER,
        "## Accept changes made in Hyperproof",
        "",
        prose(
            "These controls were changed in Hyperproof since the manifests last matched it. "
            "Merging this pull request accepts the changes into git; closing it leaves the "
            "manifests as they are (the next plan shows the drift, and apply would undo it)."
        ),
        "",
        "| Control | Fields | Changed by | On | Manifest |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in refreshed:
        update = item.update
        parts.append(
            f"| {code(update.identifier, True)} | {code(', '.join(item.fields), True)} | "
            f"{code(update.updated_by or 'unknown', True)} | "
            f"{code(update.updated_on or 'unknown', True)} | "
            f"{code(f'{update.file}:{update.line}', True)} |"
        )
    if left:
        parts += ["", "### Left alone", ""]
        for alone in left:
            what = alone.identifier + (f" {alone.field}" if alone.field else "")
            parts.append(f"- {code(what)}: {prose(alone.reason)}")
    head = "\n".join(parts) + "\n"
    fence = _fence(diff)
    block = (
        f"\n<details><summary>The diff</summary>\n\n{fence}diff\n{inert_block(diff)}{fence}\n"
        "\n</details>\n"
    )
    if len(head.encode()) + len(block.encode()) <= limit:
        return head + block
    note = (
        "\n" + prose("The diff is too long for a pull request body; see the files changed.") + "\n"
    )
    if len(head.encode()) + len(note.encode()) <= limit:
        return head + note
    return (
        head.encode()[: limit - 200].decode("utf-8", "ignore")
        + "\n\n"
        + prose("This summary was cut to fit a pull request body; see the files changed.")
        + "\n"
    )


def inert_block(text: str) -> str:
    """The diff's lines as they are, each made inert (a diff holds data from Hyperproof)."""
    return "\n".join(inert(line) for line in text.split("\n"))
