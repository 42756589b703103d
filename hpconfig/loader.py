"""YAML files → documents whose every key and list item knows its line and column.

Owns: reading manifest and config files, finding them in directories, and YAML safety. The
values it builds are ``hpconfig.document``'s. It must not know what a manifest means: the
schema and the model do that.

Safe by construction: libyaml (or PyYAML's pure parser) only *composes* a node graph, and this
module builds plain values from it. There is no Python tag and nothing is executed; timestamps stay
strings; duplicate keys, merge keys, explicit tags, alias bombs, deep nesting, non-UTF-8 bytes,
empty files, several documents and a non-mapping top level are all located problems, never
exceptions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from hpconfig.document import Document, PathPart, YList, YMap, json_path
from hpconfig.errors import Location, Problem
from hpconfig.sniff import looks_like_manifest

try:  # the C parser is several times faster; PyYAML without libyaml still works
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

YAML_SUFFIXES = (".yaml", ".yml")
CONFIG_NAMES = ("hpconfig.yaml", "hpconfig.yml")

# An alias may be expanded at most this many nodes in a file ("billion laughs" files expand to
# billions); and nesting deeper than this is no manifest, only an attempt to exhaust the stack.
MAX_ALIAS_EXPANSION = 10_000
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"


_RESOLVED: dict[str, str] = {}  # plain scalar → its implicit tag; keys repeat in every control


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader, used only to compose nodes; this module constructs the values."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        # PyYAML's resolver runs regexes in Python for every scalar; a plain scalar's tag depends
        # only on its text, so remembering it takes a third off the load of a large manifest.
        if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_RESOLVED) < 50_000 and len(value) < 200:
                    _RESOLVED[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


class _Builder:
    """Turns one composed node graph into YMap/YList/scalars, collecting problems."""

    def __init__(self, file: str, loader: _Loader) -> None:
        self.file = file
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
        if tag in (_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"):
            return self.loader.yaml_constructors[tag](self.loader, node)
        self.problem(node, path, f"the tag {_short_tag(tag)!r} is not allowed; write a plain value")
        return None

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
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.problem(
                    node,
                    path,
                    f"the tag {_short_tag(node.tag)!r} is not allowed; write a plain value",
                )
            items = YList(mark)
            for index, item in enumerate(node.value):
                items.item_marks.append((item.start_mark.line + 1, item.start_mark.column + 1))
                items.append(self.build(item, [*path, index], depth + 1, in_alias))
            return items
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _TAG + "map":
            self.problem(
                node, path, f"the tag {_short_tag(node.tag)!r} is not allowed; write a plain value"
            )
        mapping = YMap(mark)
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.problem(key_node, path, "merge keys ('<<') are not supported; use `defaults`")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(
                    key_node, path, "a list or mapping as a key is not allowed; write a name"
                )
                continue
            if key_node.tag != _TAG + "str":
                self.problem(
                    key_node, path, f"the key {key_node.value!r} is not a string; write a name"
                )
                continue
            key = key_node.value
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in mapping:
                first = mapping.key_marks[key]
                self.problem(
                    key_node,
                    [*path, key],
                    f"duplicate key {key!r}: first at line {first[0]}, again at line "
                    f"{key_mark[0]}; keep one",
                    damaged=False,  # the first value stands and is checked as usual
                )
                continue
            mapping.key_marks[key] = key_mark
            mapping.value_marks[key] = (
                value_node.start_mark.line + 1,
                value_node.start_mark.column + 1,
            )
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag == _TAG + "str":
                mapping[key] = value_node.value  # the common case, without a call
            else:
                mapping[key] = self.build(value_node, [*path, key], depth + 1, in_alias)
        return mapping


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _utf8_problem(file: str, raw: bytes, error: UnicodeDecodeError) -> Problem:
    before = raw[: error.start]
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1) + 1
    byte = raw[error.start : error.start + 1].hex()
    return Problem(
        Location(file, line, column),
        "",
        f"the file is not valid UTF-8 (byte 0x{byte}); save it as UTF-8",
    )


def _yaml_problem(file: str, error: yaml.YAMLError, text: str | None = None) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    if isinstance(error, yaml.reader.ReaderError) and text is not None:
        before = text[: error.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return Problem(
            Location(file, line, column),
            "",
            f"character #x{error.character:04x} is not allowed in YAML ({error.reason}); remove it",
        )
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if "expected a single document" in f"{problem} {context}":
        message = "a file holds one YAML document; remove the second one (after '---')"
    elif problem:
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    else:
        message = f"YAML syntax error: {error}"
    return Problem(Location(file, line, column), "", message)


def load_text(file: str, raw: bytes) -> tuple[Document | None, list[Problem]]:
    """Bytes of one file → its document (None when unusable) and every problem found."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [_utf8_problem(file, raw, error)]
    # The checked bytes go to the parser: libyaml reads UTF-8 bytes a third faster than a str.
    loader = _Loader(raw)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        return None, [_yaml_problem(file, error, text)]
    except RecursionError:
        return None, [Problem(Location(file), "", f"nested deeper than {MAX_DEPTH} levels")]
    finally:
        loader.dispose()
    if root is None:
        message = "the file is empty; declare `controls:` in it, or delete it"
        return None, [Problem(Location(file, 1, 1), "", message)]
    builder = _Builder(file, loader)
    data = builder.build(root, [], 0, False)
    if builder.stopped:
        return None, builder.problems
    if not isinstance(data, YMap):
        if not builder.problems:
            kind = "a list" if isinstance(data, YList) else f"the value {data!r}"
            builder.problem(root, [], f"the top level must be a mapping (key: value); found {kind}")
        return None, builder.problems
    return Document(file, data, frozenset(builder.damaged)), builder.problems


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and load one file; an unreadable file is a problem, not an exception."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, [Problem(Location(file), "", f"cannot read the file: {error.strerror}")]
    return load_text(file, raw)


def display_name(path: Path) -> str:
    """Paths in messages are relative to the working directory when they are below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path.absolute()) if relative.startswith("..") else relative


def discover(
    paths: Sequence[Path], skipped: list[tuple[Path, str]] | None = None
) -> tuple[list[Path], list[Problem]]:
    """Files and directories → the YAML files below them, sorted, each once.

    Directories are walked recursively for ``*.yaml`` and ``*.yml``; hidden directories (``.git``,
    ``.github``) are not entered, and files that are no manifest (``not_a_manifest``) are left
    out, each added to ``skipped`` with the reason. A file named on its own is always read.
    """
    found: dict[Path, None] = {}
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            for file in _walk(path, skipped if skipped is not None else []):
                found.setdefault(file, None)
        elif path.is_file():
            found.setdefault(path, None)
        else:
            problems.append(Problem(Location(str(path)), "", "no such file or directory"))
    return sorted(found), problems


def _walk(directory: Path, skipped: list[tuple[Path, str]]) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES):
                reason = not_a_manifest(Path(root) / name)
                if reason:
                    skipped.append((Path(root) / name, reason))
                else:
                    yield Path(root) / name


_SNIFF_BYTES = 1 << 20  # a manifest's top-level keys are found long before this


def not_a_manifest(path: Path) -> str | None:
    """Why a YAML file met in a directory walk is not a manifest, or None when it may be one.

    Unreadable files are kept: reading them later gives the located error.
    """
    if path.name.startswith("."):
        return "hidden"
    if path.name in CONFIG_NAMES:
        return "the project config"
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        return None
    return None if looks_like_manifest(head) else "no `controls` or `defaults` at the top level"
