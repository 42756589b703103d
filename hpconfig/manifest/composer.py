"""YAML bytes → documents whose every key and list item knows its line and column.

Owns YAML safety. libyaml (or PyYAML's pure parser) only *composes* a node graph, and this
module builds plain values from it. There is no Python tag and nothing is executed; timestamps
stay strings; duplicate keys, merge keys, explicit tags, alias bombs (counted in values and in
the characters they repeat), deep nesting, numbers out of range (5,000 digits, ``.inf``,
``.nan``), non-UTF-8 bytes, empty files, several documents and a non-mapping top level are all
located problems, never exceptions. It must not read files (``loader`` does) or know what a
manifest means.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from hpconfig.errors import Location, Problem
from hpconfig.manifest.document import Document, PathPart, YList, YMap, json_path
from hpconfig.manifest.yaml_errors import utf8_problem, yaml_problem
from hpconfig.untrusted import excerpt

try:  # the C parser is several times faster; PyYAML without libyaml still works
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


# An alias may be expanded at most this many nodes in a file ("billion laughs" files expand to
# billions); and nesting deeper than this is no manifest, only an attempt to exhaust the stack.
MAX_ALIAS_EXPANSION = 10_000
MAX_DEPTH = 64
# What aliases may add to a file, in characters of the scalars (and keys) they repeat: at most
# the file's own size, and never less than this. The report then stays proportional to the file.
MIN_ALIAS_BUDGET = 64 * 1024
LONG_SCALAR = 64
# Integers a manifest or config may write: YAML allows any length, and int() of 5,000 digits
# raises (CPython's limit on str→int) or takes quadratic time.
MAX_INT_DIGITS = 15

_TAG = "tag:yaml.org,2002:"
# The tags compared for every node, spelled once (not concatenated again for each key).
_STR, _MERGE, _MAP, _SEQ = _TAG + "str", _TAG + "merge", _TAG + "map", _TAG + "seq"
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

_RESOLVED: dict[str, str] = {}  # plain scalar → its implicit tag; keys repeat in every control


class _Loader(_BaseLoader):
    """PyYAML's safe loader, used only to compose nodes; this module constructs the values."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        # PyYAML's resolver runs regexes in Python for every scalar; a plain scalar's tag depends
        # only on its text, so remembering it takes a third off the load of a large manifest.
        if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(_RESOLVED) < 50_000 and len(value) < 200:
                    _RESOLVED[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return,no-untyped-call]


class _Builder:
    """Turns one composed node graph into YMap/YList/scalars, collecting problems."""

    def __init__(self, file: str, loader: _Loader, size: int = 0) -> None:
        self.file = file
        self.alias_budget = max(MIN_ALIAS_BUDGET, size)
        self.expanded_chars = 0
        self.long_scalars: set[int] = set()
        self.loader = loader
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.ancestors: set[int] = set()
        self.damaged: set[tuple[PathPart, ...]] = set()
        self.expanded = 0
        self.stopped = False

    def problem(
        self, node: yaml.Node, path: list[PathPart], message: str, damaged: bool = True
    ) -> None:
        if damaged:
            self.damaged.add(tuple(path))
        mark = node.start_mark
        self.problems.append(
            Problem(Location(self.file, mark.line + 1, mark.column + 1), json_path(path), message)
        )

    def scalar(self, node: yaml.ScalarNode, path: list[PathPart]) -> Any:
        tag = node.tag
        if tag == _TAG + "str" or tag == _TAG + "timestamp":
            return node.value
        if tag == _TAG + "int" or tag == _TAG + "float":
            return self.number(node, path)
        if tag in (_TAG + "bool", _TAG + "null"):
            return self.loader.yaml_constructors[tag](self.loader, node)
        self.problem(
            node, path, f"the tag {excerpt(_short_tag(tag))} is not allowed; write a plain value"
        )
        return None

    def number(self, node: yaml.ScalarNode, path: list[PathPart]) -> Any:
        """An int or float, or None after a problem: too many digits, or not finite."""
        digits = sum(char.isdigit() for char in node.value)
        if node.tag == _TAG + "int" and digits > MAX_INT_DIGITS:
            self.problem(node, path, f"a number of {digits} digits is out of range")
            return None
        try:
            value = self.loader.yaml_constructors[node.tag](self.loader, node)
        except (ValueError, OverflowError):
            self.problem(node, path, f"{excerpt(node.value, 24)} is not a usable number")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(node, path, f"{excerpt(node.value, 24)} is not a finite number")
            return None
        if isinstance(value, int) and abs(value) >= 10**MAX_INT_DIGITS:
            self.problem(node, path, "the number is out of range")  # a sexagesimal 1:2:3...
            return None
        return value

    def count_alias(self, node: yaml.Node, size: int, path: list[PathPart]) -> bool:
        """Count what an alias expands to; False (and a problem) once over the budget."""
        self.expanded_chars += size
        if self.expanded_chars <= self.alias_budget:
            return True
        self.problem(
            node,
            path,
            f"aliases expand to more than {self.alias_budget} characters, more than the file "
            "itself holds; write the values out, or use `defaults`",
        )
        self.stopped = True
        return False

    def scalar_counted(self, node: yaml.ScalarNode, path: list[PathPart], in_alias: bool) -> bool:
        """Count a scalar an alias repeats, by its size; False once over the budget.

        A scalar inside an aliased collection is a repeat; so is a long scalar seen before
        (an alias straight to it: the composer hands over the same node). Short scalars are
        not tracked, which keeps large manifests fast and bounds what they add to
        ``LONG_SCALAR`` characters per alias.
        """
        size = len(node.value)
        if not in_alias and size > LONG_SCALAR:
            if id(node) not in self.long_scalars:
                self.long_scalars.add(id(node))
                return True
            in_alias = True
        return not in_alias or self.count_alias(node, size + 1, path)

    def build(self, node: yaml.Node, path: list[PathPart], depth: int, in_alias: bool) -> Any:
        if self.stopped:
            return None
        if depth > MAX_DEPTH:
            self.problem(node, path, f"nested deeper than {MAX_DEPTH} levels")
            self.stopped = True
            return None
        if isinstance(node, yaml.ScalarNode):
            if in_alias:
                self.expanded += 1
            if not self.scalar_counted(node, path, in_alias):
                return None
            return self.scalar(node, path)
        if id(node) in self.ancestors:
            self.problem(node, path, "an alias refers to a node that contains it (a cycle)")
            self.stopped = True
            return None
        # An already built collection node seen again is an alias: count what it expands to.
        if id(node) in self.seen:
            in_alias = True
        self.seen.add(id(node))
        if in_alias:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                self.problem(
                    node,
                    path,
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} values "
                    "(a 'billion laughs' file?); write the values out, or use `defaults`",
                )
                self.stopped = True
                return None
        self.ancestors.add(id(node))
        try:
            return self.collection(node, path, depth, in_alias)
        finally:
            self.ancestors.discard(id(node))

    def collection(self, node: yaml.Node, path: list[PathPart], depth: int, in_alias: bool) -> Any:
        mark = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, _SequenceNode):
            if node.tag != _SEQ:
                self.problem(
                    node,
                    path,
                    _tag_message(node.tag),
                )
            items = YList(mark)
            for index, item in enumerate(node.value):
                items.item_marks.append((item.start_mark.line + 1, item.start_mark.column + 1))
                items.append(self.build(item, [*path, index], depth + 1, in_alias))
            return items
        assert isinstance(node, _MappingNode)
        if node.tag != _MAP:
            self.problem(
                node,
                path,
                f"the tag {excerpt(_short_tag(node.tag))} is not allowed; write a plain value",
            )
        mapping = YMap(mark)
        key_marks, value_marks = mapping.key_marks, mapping.value_marks
        for key_node, value_node in node.value:
            key_tag = key_node.tag
            if key_tag == _MERGE:
                self.problem(key_node, path, "merge keys ('<<') are not supported; use `defaults`")
                continue
            if not isinstance(key_node, _ScalarNode):
                self.problem(
                    key_node, path, "a list or mapping as a key is not allowed; write a name"
                )
                continue
            if key_tag != _STR:
                self.problem(
                    key_node,
                    path,
                    f"the key {excerpt(key_node.value)} is not a string; write a name",
                )
                continue
            key = key_node.value
            start = key_node.start_mark
            key_mark = (start.line + 1, start.column + 1)
            if key in mapping:
                first = key_marks[key]
                self.problem(
                    key_node,
                    [*path, key],
                    f"duplicate key {excerpt(key)}: first at line {first[0]}, again at line "
                    f"{key_mark[0]}; keep one",
                    damaged=False,  # the first value stands and is checked as usual
                )
                continue
            key_marks[key] = key_mark
            start = value_node.start_mark
            value_marks[key] = (start.line + 1, start.column + 1)
            if in_alias and not self.count_alias(key_node, len(key) + 1, path):
                return mapping
            if value_node.tag == _STR and isinstance(value_node, _ScalarNode):
                if (in_alias or len(value_node.value) > LONG_SCALAR) and not self.scalar_counted(
                    value_node, [*path, key], in_alias
                ):  # (a short scalar outside an alias counts for nothing: no path to build)
                    return mapping
                mapping[key] = value_node.value  # the common case, without a call
            else:
                mapping[key] = self.build(value_node, [*path, key], depth + 1, in_alias)
        return mapping


def _tag_message(tag: str) -> str:
    return f"the tag {excerpt(_short_tag(tag))} is not allowed; write a plain value"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def load_text(file: str, raw: bytes) -> tuple[Document | None, list[Problem]]:
    """Bytes of one file → its document (None when unusable) and every problem found."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [utf8_problem(file, raw, error)]
    # The checked bytes go to the parser: libyaml reads UTF-8 bytes a third faster than a str.
    loader = _Loader(raw)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        return None, [yaml_problem(file, error, text)]
    except RecursionError:
        return None, [Problem(Location(file), "", f"nested deeper than {MAX_DEPTH} levels")]
    finally:
        loader.dispose()
    if root is None:
        message = "the file is empty; declare `controls:` in it, or delete it"
        return None, [Problem(Location(file, 1, 1), "", message)]
    builder = _Builder(file, loader, len(raw))
    data = builder.build(root, [], 0, False)
    if builder.stopped:
        return None, builder.problems
    if not isinstance(data, YMap):
        if not builder.problems:
            kind = "a list" if isinstance(data, YList) else f"the value {excerpt(data)}"
            builder.problem(root, [], f"the top level must be a mapping (key: value); found {kind}")
        return None, builder.problems
    return Document(file, data, frozenset(builder.damaged)), builder.problems
