"""Positioned documents: YAML values that remember where they stand in their file.

Owns ``YMap``, ``YList`` and ``Document`` (with ``locate``: a JSON path back to ``file:line:col``)
and the spelling of JSON paths in messages. Plain data: no parsing here (``loader`` builds these),
no knowledge of manifests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hpconfig.errors import Location
from hpconfig.untrusted import excerpt

Mark = tuple[int, int]  # 1-based line and column


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, its keys and its values stand in the source."""

    __slots__ = ("mark", "key_marks", "value_marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class YList(list):  # type: ignore[type-arg]
    """A list that remembers where it and each of its items stand in the source."""

    __slots__ = ("mark", "item_marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Mark] = []


PathPart = str | int


def under(path: Sequence[Any], places: Collection[tuple[Any, ...]]) -> bool:
    """True when ``path`` or one of its ancestors is among ``places`` (tuples of path parts)."""
    prefix: tuple[Any, ...] = ()
    if prefix in places:
        return True
    for part in path:  # each prefix once, without slicing the path again for each
        prefix += (part,)
        if prefix in places:
            return True
    return False


def json_path(parts: Iterable[PathPart]) -> str:
    """``("controls", 3, "owner")`` → ``$.controls[3].owner``."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier() and len(part) <= 60:
            text += f".{part}"
        else:
            text += "[" + excerpt(part) + "]"  # a key is data: quoted short, never whole
    return text


@dataclass
class Document:
    """One loaded YAML file: its display name and its top-level mapping."""

    file: str
    data: YMap
    # Paths where the loader dropped or blanked a value (a refused tag, a merge key...): later
    # checks stay quiet there, since the loader has said what is wrong.
    damaged: frozenset[tuple[PathPart, ...]] = frozenset()

    def locate(self, path: Sequence[PathPart], key: bool = False) -> Location:
        """The source position of the value at ``path`` (of its key, with ``key=True``).

        Falls back to the nearest enclosing node that exists, so a message about a missing key
        points at the mapping that lacks it.
        """
        node: Any = self.data
        mark: Mark = self.data.mark
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, YMap) and part in node:
                marks = node.key_marks if (key and last) else node.value_marks
                mark = marks.get(part, mark)  # type: ignore[arg-type]
                node = node[part]
            elif isinstance(node, YList) and isinstance(part, int) and 0 <= part < len(node):
                mark = node.item_marks[part]
                node = node[part]
            else:
                break
        return Location(self.file, mark[0], mark[1])
