"""Where each node of a manifest stands in its text, as character offsets: what refresh edits.

Owns ``Spans`` (a YAML text → a tree of ``Node`` with start and end offsets, style, anchor and
whether an alias shares it) and ``lines_of`` (the file's own line breaks). The loader's
documents keep only the line and column where a value starts; replacing a value in place also
needs where it ends and whether it is shared through an anchor, which the parser's events tell.
Offsets come from the events' line and column (both parsers, libyaml and PyYAML's, count them in
characters, and both skip a BOM), mapped onto the text through its line starts.

Only for text the loader already accepted (one document, no tags, no merge keys); it must not
judge what a manifest means, and it never raises for such text. It must not read files.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # the same parser as the loader's, so that both see the same lines
    from yaml import CSafeLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

# YAML's line breaks (1.1, which PyYAML and libyaml follow): CRLF, CR, LF, NEL, LS, PS.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def lines_of(text: str) -> list[tuple[int, int, int]]:
    """Each line as (start, end of its content, end with its break), offsets into ``text``; a
    leading BOM is not part of the first line (the parsers do not count it)."""
    lines = []
    start = 1 if text.startswith("\ufeff") else 0
    for match in _BREAK.finditer(text):
        lines.append((start, match.start(), match.end()))
        start = match.end()
    lines.append((start, len(text), len(text)))
    return lines


def split_lines(text: str) -> list[str]:
    """``text`` cut at YAML's line breaks, without them."""
    return _BREAK.split(text)


# The keys and items of a scalar or an alias: never appended to (only collections get lists).
_NONE: list[Node] = []


class Node:
    """One node: ``kind`` is scalar, map, seq or alias; ``start``/``end`` offsets in the text.

    ``style`` is a scalar's ("" plain, "'", '"', "|", ">"); ``flow`` a collection written
    ``{...}`` or ``[...]``; ``value`` a scalar's value or an alias's anchor name; ``keys`` a
    map's keys in order and ``items`` its values (or a seq's items); ``shared``: an alias of it
    (or of a node that holds it) exists; ``in_flow``: it stands inside a flow collection.
    """

    __slots__ = (
        "kind",
        "start",
        "end",
        "style",
        "flow",
        "anchor",
        "value",
        "keys",
        "items",
        "shared",
        "in_flow",
    )

    def __init__(
        self,
        kind: str,
        start: int,
        end: int,
        style: str = "",
        flow: bool = False,
        anchor: str | None = None,
        value: str = "",
        in_flow: bool = False,
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.style = style
        self.flow = flow
        self.anchor = anchor
        self.value = value
        collection = kind in ("map", "seq")
        self.keys: list[Node] = [] if collection else _NONE
        self.items: list[Node] = [] if collection else _NONE
        self.shared = False
        self.in_flow = in_flow

    def get(self, key: str) -> Node | None:
        """A map's value at ``key`` (a plain string key), or None."""
        for index, candidate in enumerate(self.keys):
            if candidate.kind == "scalar" and candidate.value == key:
                return self.items[index]
        return None

    def key_node(self, key: str) -> Node | None:
        for candidate in self.keys:
            if candidate.kind == "scalar" and candidate.value == key:
                return candidate
        return None


class Spans:
    """The positioned tree of one YAML text (``root``), and the text's lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = lines_of(text)
        self.aliased: set[str] = set()
        parser = _Parser(text.encode("utf-8", "surrogatepass"))
        try:
            self.root = self._build(parser)
        finally:
            parser.dispose()
        if self.root is not None and self.aliased:  # without an alias, nothing is shared
            self._mark_shared(self.root, False)

    def offset(self, mark: Any) -> int:
        if mark is None:  # pragma: no cover - both parsers mark every event
            return 0
        line, column = int(mark.line), int(mark.column)
        start, end, _ = self.lines[min(line, len(self.lines) - 1)]
        return min(start + column, max(end, start))

    def _build(self, parser: _Parser) -> Node | None:
        stack: list[Node] = []
        root: Node | None = None
        while True:
            event = parser.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return root
            if isinstance(event, (yaml.CollectionEndEvent,)):
                done = stack.pop()
                done.end = self.offset(event.end_mark)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            start, end = self.offset(event.start_mark), self.offset(event.end_mark)
            in_flow = bool(stack) and (stack[-1].flow or stack[-1].in_flow)
            if isinstance(event, yaml.AliasEvent):
                node = Node("alias", start, end, value=event.anchor or "", in_flow=in_flow)
                self.aliased.add(event.anchor or "")
            elif isinstance(event, yaml.ScalarEvent):
                node = Node(
                    "scalar",
                    start,
                    end,
                    style=event.style or "",
                    anchor=event.anchor,
                    value=event.value,
                    in_flow=in_flow,
                )
            else:
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                flow = bool(getattr(event, "flow_style", False))
                node = Node(kind, start, end, flow=flow, anchor=event.anchor, in_flow=in_flow)
            if stack:
                parent = stack[-1]
                if parent.kind == "map" and len(parent.keys) == len(parent.items):
                    parent.keys.append(node)
                else:
                    parent.items.append(node)
            else:
                root = node
            if node.kind in ("map", "seq"):
                stack.append(node)

    def _mark_shared(self, node: Node, shared: bool) -> None:
        node.shared = shared or (node.anchor is not None and node.anchor in self.aliased)
        for child in (*node.keys, *node.items):
            self._mark_shared(child, node.shared)

    # -- what an edit needs to know about the text -------------------------------------------

    def value_range(self, node: Node) -> tuple[int, int]:
        """The characters a new value replaces: the value itself, after its anchor (kept), up to
        its last character; a block scalar's trailing blank lines and comments stay."""
        start, end = node.start, node.end
        text = self.text
        if node.anchor and text.startswith("&", start):
            start += 1 + len(node.anchor)
            while start < end and text[start] in " \t":
                start += 1
        if node.style in ("|", ">") or node.kind != "scalar":
            while end > start and text[end - 1] in " \t\r\n\x85\u2028\u2029":
                end -= 1
        return start, end

    def line_index(self, offset: int) -> int:
        """The index of the line that holds ``offset`` (binary search over the line starts)."""
        low, high = 0, len(self.lines) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.lines[middle][0] <= offset:
                low = middle
            else:
                high = middle - 1
        return low

    def column(self, offset: int) -> int:
        return offset - self.lines[self.line_index(offset)][0]

    def newline(self) -> str:
        """The file's own line break (its first one), LF when it has none."""
        match = _BREAK.search(self.text)
        return match.group(0) if match and match.group(0) in ("\r\n", "\r", "\n") else "\n"
