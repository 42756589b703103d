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


# (first, last old line, 0-based; the lines they become), in order, not overlapping
Region = tuple[int, int, list[str]]


def _opcodes(old: list[str], regions: Sequence[Region]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes for ``old`` with ``regions`` changed: lines outside them are equal by
    construction, so only the regions are compared (a whole-file comparison costs seconds on a
    large manifest)."""
    codes: list[tuple[str, int, int, int, int]] = []

    def add(tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if codes and tag == "equal" == codes[-1][0]:
            codes[-1] = ("equal", codes[-1][1], i2, codes[-1][3], j2)
        elif i1 != i2 or j1 != j2:
            codes.append((tag, i1, i2, j1, j2))

    i = j = 0
    for first, last, lines in regions:
        add("equal", i, first, j, j + first - i)
        j += first - i
        matcher = difflib.SequenceMatcher(None, old[first : last + 1], lines, autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            add(tag, first + a1, first + a2, j + b1, j + b2)
        i, j = last + 1, j + len(lines)
    add("equal", i, len(old), j, j + len(old) - i)
    return codes


def _range(start: int, length: int) -> str:
    """A unified diff's line range, as difflib writes it."""
    beginning = start + 1
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def unified_diff(name: str, old: str, new: str, regions: Sequence[Region] | None = None) -> str:
    """The unified diff of one file (``a/NAME``, ``b/NAME``), lines without their breaks; with
    the ``regions`` an edit changed, without comparing the whole files."""
    absolute = name.startswith("/")
    old_lines, new_lines = _lines(old), _lines(new)
    if regions is None:
        lines = difflib.unified_diff(
            old_lines,
            new_lines,
            name if absolute else f"a/{name}",
            name if absolute else f"b/{name}",
            lineterm="",
        )
        return "\n".join(lines) + "\n"
    matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(None, [], [])
    matcher.opcodes = _opcodes(old_lines, regions)  # type: ignore[attr-defined]  # its cache
    out = [f"--- {name if absolute else 'a/' + name}", f"+++ {name if absolute else 'b/' + name}"]
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        old_range = _range(first[1], last[2] - first[1])
        new_range = _range(first[3], last[4] - first[3])
        out.append(f"@@ -{old_range} +{new_range} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in old_lines[i1:i2]]
                continue
            out += ["-" + line for line in old_lines[i1:i2]]
            out += ["+" + line for line in new_lines[j1:j2]]
    return "\n".join(out) + "\n" if len(out) > 2 else ""


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
    cut = head.encode()[: limit - 200].decode("utf-8", "ignore")
    # Whole lines only: a row cut inside a code span would leave its text live Markdown.
    cut = cut[: cut.rfind("\n") + 1]
    return (
        cut
        + "\n"
        + prose("This summary was cut to fit a pull request body; see the files changed.")
        + "\n"
    )


def inert_block(text: str) -> str:
    """The diff's lines as they are, each made inert (a diff holds data from Hyperproof)."""
    return "\n".join(inert(line) for line in text.split("\n"))
