"""Edits at the positions ``spans`` finds: one parse of a manifest → the edited text.

Owns where and how refresh's values go into the text, so that every other character stays: a
value is replaced where it stands, in the form ``yaml_out`` gives it (a block scalar at the
key's indentation, a flow-safe scalar inside ``{...}``, the column of a comment after it kept);
a field a control lacks is added after its last key in the file's own indentation (after the
blank lines a ``|+`` block keeps), never to ``defaults``; a value shared through an anchor is
refused (``Refused``), an alias of a single value replaced by the control's own. The edits are
applied in one pass, and the changed lines are reported as regions for the diff. It does not
check the result (``rewrite`` does) and must not read or write files.
"""

from __future__ import annotations

from hpconfig.manifest import yaml_out
from hpconfig.manifest.spans import Node, Spans, split_lines
from hpconfig.refresh import ControlUpdate, FieldUpdate

_DEFAULT_STEP = 2
# (first, last old line, 0-based; the lines they become)
Region = tuple[int, int, list[str]]


class Refused(Exception):
    """One field cannot be written; the message says why."""


def _text_of(update: FieldUpdate, indent: int, flow: bool) -> str:
    if update.field == "freshness.duration":
        return str(update.value)  # stated as its text already (``30d``, ``PT90M``): plain-safe
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


class Editor:
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
            raise Refused(f"{update.field} holds a {node.kind}, not a value; edit it by hand")
        elif node.shared:
            raise Refused(
                f"the value carries the anchor &{node.anchor}, which other places use through "
                "an alias; changing it would change them too: give them their own values first"
            )
        else:
            start, end = self.spans.value_range(node)
        indent = self.spans.column(key.start)
        new = self.lines(_text_of(update, indent, node.in_flow))
        if self.newline in new:
            start, end, new = self._comment_after_header(end, start, new)
        else:
            start, end, new = self._keep_comment_column(start, end, new)
        self.edits.append((start, end, new))

    def _comment_after_header(self, end: int, start: int, new: str) -> tuple[int, int, str]:
        """A block scalar replacing a value that a comment follows on its line: the comment
        goes after the block's header (``| # comment``), never into the block's text."""
        line = self.spans.lines[self.spans.line_index(end)]
        after = self.spans.text[end : line[1]]
        if not after.strip():
            return start, end, new
        header, rest = new.split(self.newline, 1)
        return start, line[1], header + after + self.newline + rest

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
            raise Refused(
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
            raise Refused("the control is not declared in this file as a mapping")
        if node.shared:
            raise Refused("the control is shared through an anchor and an alias; edit it by hand")

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
            raise Refused(
                f"the control's freshness is the alias *{own.value}, shared with other places; "
                "write the control's own freshness mapping first"
            )
        if own.kind != "map":
            raise Refused("freshness is not a mapping; edit it by hand")
        missing: list[tuple[str, str]] = []
        for update in updates:
            key = update.field.split(".")[1]
            node = own.get(key)
            if update.value is None:
                if node is not None:
                    raise Refused(
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
