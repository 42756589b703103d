"""A manifest's text and the values to set → the same text with only those values changed.

Owns refresh's edits, made at the offsets ``spans`` finds, so that every other character of the
file (comments, key order, quoting, indentation, blank lines, line breaks, a BOM) stays byte for
byte: a value is replaced where it stands, in the form ``yaml_out`` gives it (a block scalar at
the key's indentation, a flow-safe scalar inside ``{...}``); a field the control inherits from
``defaults`` or lacks is added to the control itself, after its last key and in the file's own
indentation, never to ``defaults`` (which other controls read). A value shared through an
anchor is not edited in place (that would change the other users): an alias of a single value
is replaced by the control's own value, anything else is refused with the reason.

Every result is checked by loading it again with the manifest loader: the file must hold
exactly the data it held, but for the values set. A set of edits that fails the check is
retried one field at a time, and a field that still fails is refused, never written wrong. Pure
text in, text out: it must not read or write files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hpconfig.manifest import yaml_out
from hpconfig.manifest.composer import load_text
from hpconfig.manifest.document import Document
from hpconfig.manifest.spans import Node, Spans, split_lines
from hpconfig.refresh import ControlUpdate, FieldUpdate, LeftAlone

_DEFAULT_STEP = 2
Region = tuple[int, int, list[str]]


@dataclass
class Rewritten:
    """The new text, the fields set in it, and those refused with the reason."""

    text: str
    applied: list[FieldUpdate] = field(default_factory=list)
    refused: list[LeftAlone] = field(default_factory=list)
    # The changed lines: (first, last old line, 0-based; the new lines), when one pass made
    # every edit (what the diff is made from without comparing the whole files).
    regions: list[Region] | None = None


class _Refused(Exception):
    """One field cannot be written; the message says why."""


def _text_of(update: FieldUpdate, indent: int, flow: bool) -> str:
    if update.field == "freshness.duration":
        return yaml_out.duration(update.value)
    return yaml_out.scalar(update.value, indent, flow)


def _last_end(spans: Spans, node: Node) -> int:
    """Where the last character of a node's own text stands (a block collection ends with its
    last value, not at the next key, which may follow comments and blank lines)."""
    if node.kind in ("map", "seq") and not node.flow and node.items:
        return _last_end(spans, node.items[-1])
    if node.kind == "scalar":
        return spans.value_range(node)[1]
    return node.end


def _last_leaf(node: Node) -> Node:
    """The last value of a block collection, however deep; the node itself otherwise."""
    while node.kind in ("map", "seq") and not node.flow and node.items:
        node = node.items[-1]
    return node


def _step(spans: Spans) -> int:
    """The file's indentation step, from a block mapping nested in ``defaults`` or a control."""
    root = spans.root
    candidates: list[Node] = []
    if root is not None and root.kind == "map":
        for name in ("defaults", "controls"):
            node = root.get(name)
            if node is not None and node.kind == "map":
                candidates.append(node)
            elif node is not None and node.kind == "seq":
                candidates += [item for item in node.items if item.kind == "map"]
    for mapping in candidates:
        if mapping.flow:
            continue
        for key, value in zip(mapping.keys, mapping.items, strict=True):
            if value.kind == "map" and not value.flow and value.keys:
                step = spans.column(value.keys[0].start) - spans.column(key.start)
                if step > 0:
                    return step
    return _DEFAULT_STEP


class _Editor:
    """Collects non-overlapping (start, end, replacement) edits over one parse of the text."""

    def __init__(self, text: str) -> None:
        self.spans = Spans(text)
        self.newline = self.spans.newline()
        self.step = _step(self.spans)
        self.edits: list[tuple[int, int, str]] = []
        self.controls: dict[str, Node] = {}
        root = self.spans.root
        controls = root.get("controls") if root is not None and root.kind == "map" else None
        if controls is not None and controls.kind == "seq":
            for item in controls.items:
                identifier = item.get("identifier") if item.kind == "map" else None
                if identifier is not None and identifier.kind == "scalar":
                    self.controls.setdefault(identifier.value, item)

    def lines(self, text: str) -> str:
        """A block scalar's line breaks in the file's own style (CRLF in a CRLF file)."""
        return text.replace("\n", self.newline) if self.newline != "\n" else text

    def replace(self, node: Node, update: FieldUpdate, key: Node) -> None:
        if node.kind == "alias":
            # Set the control's own value where the alias stood; the anchor's other users keep
            # theirs.
            start, end = node.start, node.end
        elif node.kind != "scalar":
            raise _Refused(f"{update.field} holds a {node.kind}, not a value; edit it by hand")
        elif node.shared:
            raise _Refused(
                f"the value carries the anchor &{node.anchor}, which other places use through "
                "an alias; changing it would change them too: give them their own values first"
            )
        else:
            start, end = self.spans.value_range(node)
        indent = self.spans.column(key.start)
        new = self.lines(_text_of(update, indent, node.in_flow))
        start, end, new = self._keep_comment_column(start, end, new)
        self.edits.append((start, end, new))

    def _keep_comment_column(self, start: int, end: int, new: str) -> tuple[int, int, str]:
        """A one-line value followed by spaces and a comment: the comment keeps its column
        (at least one space before it), so that aligned comments stay aligned."""
        text = self.spans.text
        line = self.spans.lines[self.spans.line_index(end)]
        old = text[start:end]
        if "\n" in new or "\r" in new or self.spans.line_index(start) != self.spans.line_index(end):
            return start, end, new
        after = text[end : line[1]]
        gap = len(after) - len(after.lstrip(" "))
        if not gap or not after[gap:].startswith("#"):
            return start, end, new
        spaces = max(1, gap + len(old) - len(new))
        return start, end + gap, new + " " * spaces

    def insert(self, mapping: Node, entries: list[tuple[str, str]]) -> None:
        """Add ``key: value`` entries after a mapping's last entry (already formatted values)."""
        if mapping.shared:
            raise _Refused(
                f"the mapping carries the anchor &{mapping.anchor}, which other places use "
                "through an alias; adding a field to it would change them too"
            )
        if mapping.flow:
            # Inside the braces, after the last value (the mapping ends after its `}`).
            at = _last_end(self.spans, mapping.items[-1]) if mapping.items else mapping.start + 1
            added = "".join(f", {key}: {value}" for key, value in entries)
            if not mapping.keys:
                added = added[2:]
            self.edits.append((at, at, added))
            return
        indent = " " * self.spans.column(mapping.keys[0].start)
        # A nested block (``freshness:`` and its lines) follows its key without a space.
        added = "".join(
            f"{self.newline}{indent}{key}:{'' if value.startswith(chr(10)) else ' '}{value}"
            for key, value in entries
        )
        last = _last_leaf(mapping)
        if self._keeps_trailing_lines(last):
            # A `|+` block keeps the blank lines after it: the entries go after them, each
            # line ended by a break, so that the block's value stays whole.
            at = last.end
            if self.spans.column(at) == 0 and at > 0:
                self.edits.append((at, at, self.lines(added[len(self.newline) :] + self.newline)))
            else:  # the file ends inside the block's last line
                self.edits.append((at, at, self.lines(added)))
            return
        at = _last_end(self.spans, mapping)
        line = self.spans.lines[self.spans.line_index(at)]
        self.edits.append((line[1], line[1], self.lines(added)))

    def _keeps_trailing_lines(self, node: Node) -> bool:
        if node.kind != "scalar" or node.style not in ("|", ">"):
            return False
        start = self.spans.value_range(node)[0]
        header = self.spans.text[start : self.spans.lines[self.spans.line_index(start)][1]]
        return "+" in header.split("#", 1)[0]

    def control(self, update: ControlUpdate) -> None:
        node = self.controls.get(update.identifier)
        if node is None:
            raise _Refused("the control is not declared in this file as a mapping")
        if node.shared:
            raise _Refused("the control is shared through an anchor and an alias; edit it by hand")

    def field_edit(self, control: Node, update: FieldUpdate) -> None:
        """The edit of one field of a control (not freshness, see ``freshness``)."""
        value = control.get(update.field)
        if value is not None:
            key = control.key_node(update.field)
            assert key is not None
            self.replace(value, update, key)
            return
        indent = self.spans.column(control.keys[0].start)
        text = _text_of(update, indent, control.flow or control.in_flow)
        self.insert(control, [(update.field, text)])

    def freshness(self, control: Node, updates: list[FieldUpdate]) -> None:
        """Both freshness fields: set in the control's own ``freshness``, or add it."""
        own = control.get("freshness")
        if own is None:
            written = [u for u in updates if u.value is not None]
            if not written:
                return
            flow = control.flow or control.in_flow
            if flow:
                inner = ", ".join(
                    f"{u.field.split('.')[1]}: {_text_of(u, 0, True)}" for u in written
                )
                self.insert(control, [("freshness", "{" + inner + "}")])
                return
            indent = self.spans.column(control.keys[0].start) + self.step
            nested = "".join(
                f"\n{' ' * indent}{u.field.split('.')[1]}: {_text_of(u, indent, False)}"
                for u in written
            )
            self.insert(control, [("freshness", nested)])
            return
        if own.kind == "alias":
            raise _Refused(
                f"the control's freshness is the alias *{own.value}, shared with other places; "
                "write the control's own freshness mapping first"
            )
        if own.kind != "map":
            raise _Refused("freshness is not a mapping; edit it by hand")
        missing: list[tuple[str, str]] = []
        for update in updates:
            key = update.field.split(".")[1]
            node = own.get(key)
            if update.value is None:
                if node is not None:
                    raise _Refused(
                        "Hyperproof has no duration (its policy is none); remove the "
                        "control's own duration by hand"
                    )
                continue
            if node is not None:
                key_node = own.key_node(key)
                assert key_node is not None
                self.replace(node, update, key_node)
            else:
                column = self.spans.column(own.keys[0].start) if own.keys else 0
                missing.append((key, _text_of(update, column, own.flow or own.in_flow)))
        if missing:
            self.insert(own, missing)

    def _ordered(self) -> list[tuple[int, int, str]]:
        # Insertions at one offset land in the order they were made.
        order = sorted(range(len(self.edits)), key=lambda i: (*self.edits[i][:2], i))
        return [self.edits[index] for index in order]

    @staticmethod
    def _apply(text: str, edits: list[tuple[int, int, str]], base: int = 0) -> str:
        """``text`` (which starts at offset ``base`` of the file) with ``edits`` made, in one
        pass: a thousand edits of a large file must not copy it a thousand times."""
        pieces, at = [], base
        for start, end, replacement in edits:
            pieces += [text[at - base : start - base], replacement]
            at = end
        pieces.append(text[at - base :])
        return "".join(pieces)

    def result(self) -> str:
        return self._apply(self.spans.text, self._ordered())

    def regions(self) -> list[Region]:
        """The old lines each group of edits changes, and what they become."""
        spans, text = self.spans, self.spans.text
        groups: list[tuple[int, int, list[tuple[int, int, str]]]] = []
        for edit in self._ordered():
            first, last = spans.line_index(edit[0]), spans.line_index(edit[1])
            if groups and first <= groups[-1][1]:
                groups[-1] = (groups[-1][0], max(last, groups[-1][1]), [*groups[-1][2], edit])
            else:
                groups.append((first, last, [edit]))
        regions = []
        for first, last, edits in groups:
            base, stop = spans.lines[first][0], spans.lines[last][1]
            changed = self._apply(text[base:stop], edits, base)
            regions.append((first, last, split_lines(changed)))
        return regions


def _expected(data: Any, updates: list[ControlUpdate]) -> Any:
    """The data the file must hold after the edits: the old data, with the values set. Only
    the controls that change are copied (shallowly): the rest is the old data itself, which
    compares equal to the new file's (a dict equals a dict of the same items)."""
    by_identifier = {update.identifier: update for update in updates}
    expected = dict(data)
    controls = list(expected.get("controls") or [])
    for index, control in enumerate(controls):
        if not isinstance(control, dict) or control.get("identifier") not in by_identifier:
            continue
        control = controls[index] = dict(control)
        for item in by_identifier[control["identifier"]].fields:
            if item.value is None:
                continue
            shown = (
                yaml_out.duration(item.value) if item.field == "freshness.duration" else item.value
            )
            if "." in item.field:
                outer, inner = item.field.split(".")
                nested = control.get(outer)
                control[outer] = dict(nested) if isinstance(nested, dict) else {}
                control[outer][inner] = shown
            else:
                control[item.field] = shown
    if "controls" in expected:
        expected["controls"] = controls
    return expected


def _attempt(
    text: str, updates: list[ControlUpdate], file: str, original: Any
) -> tuple[str, list[Region]]:
    """The edited text; _Refused when an edit is refused or the result fails the check."""
    editor = _Editor(text)
    for update in updates:
        editor.control(update)
        control = editor.controls[update.identifier]
        fresh = [u for u in update.fields if u.field.startswith("freshness.")]
        for item in update.fields:
            if not item.field.startswith("freshness."):
                editor.field_edit(control, item)
        if fresh:
            editor.freshness(control, fresh)
    new_text = editor.result()
    document, problems = load_text(file, new_text.encode("utf-8", "surrogatepass"))
    if document is None or problems:
        raise _Refused("the edited file would not load as the same manifest; edit it by hand")
    if document.data != _expected(original, updates):
        raise _Refused("the edit would change more than this field; edit it by hand")
    return new_text, editor.regions()


def rewrite(
    text: str, updates: list[ControlUpdate], file: str, loaded: Document | None = None
) -> Rewritten:
    """``text`` with every field of ``updates`` set, and the fields that could not be.
    ``loaded``: the document the loader made of ``text`` already (else it is loaded here)."""
    problems: list[Any] = []
    if loaded is None:
        loaded, problems = load_text(file, text.encode("utf-8", "surrogatepass"))
    if loaded is None or problems:
        refused = [
            LeftAlone(u.identifier, f.field, "the file does not load cleanly", file)
            for u in updates
            for f in u.fields
        ]
        return Rewritten(text, refused=refused)
    original = loaded.data
    try:
        new_text, regions = _attempt(text, updates, file, original)
        applied = [f for u in updates for f in u.fields if f.value is not None]
        return Rewritten(new_text, applied, regions=regions)
    except (_Refused, yaml_out.UnrepresentableError):
        pass
    # One field at a time: each kept edit is the base of the next.
    result = Rewritten(text)
    for update in updates:
        for item in update.fields:
            single = ControlUpdate(
                update.identifier,
                update.file,
                update.line,
                (item,),
                update.updated_by,
                update.updated_on,
            )
            try:
                result.text = _attempt(result.text, [single], file, original)[0]
            except (_Refused, yaml_out.UnrepresentableError) as error:
                result.refused.append(LeftAlone(update.identifier, item.field, str(error), file))
                continue
            original = _expected(original, [single])
            if item.value is not None:
                result.applied.append(item)
    return result
