"""Desired controls: schema-checked manifests → ``Control`` values, and every model problem.

Owns the checks on manifests beyond the schema: ``defaults`` merging, owner emails, durations,
one identifier declared once across all files. Which fields exist, which ``defaults`` may set and
how each is normalised is the field table's (``hpconfig.control``). It must not read files or
talk HTTP; it takes loaded, schema-checked documents.

Field names are the manifest's, with ``freshness.policy`` and ``freshness.duration`` flattened, so
the diff is a comparison of two flat mappings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hpconfig.control import DEFAULTABLE, FIELD_KEYS, NORMALISE, Control
from hpconfig.durations import DurationError, parse_duration
from hpconfig.errors import Location, Problem
from hpconfig.manifest.document import Document, Mark, YMap, json_path, under
from hpconfig.manifest.emails import email_problem
from hpconfig.untrusted import excerpt

# A field as written, normalised (None when invalid), the JSON path of its mapping, its position.
Field = tuple[Any, Any, list[Any], Mark]

_ABSENT = object()
# The fields check_value checks beyond normalising them (the rest only go through NORMALISE).
_CHECKED = frozenset({"owner", "freshness.duration"})


def field_path(prefix: list[Any], name: str) -> list[Any]:
    """``(["controls", 3], "freshness.duration")`` → ``["controls", 3, "freshness", "duration"]``"""
    return [*prefix, *name.split(".")]


class _FileModel:
    """Builds the controls of one manifest file, collecting problems.

    Values under a path with a schema problem are skipped (already reported); every other value
    is still checked, so one run reports everything. A control with any problem is not returned.
    """

    def __init__(self, document: Document, invalid_paths: set[tuple[Any, ...]]) -> None:
        self.document = document
        self.invalid = invalid_paths
        # The controls with a schema problem anywhere in them, found once: asking each control
        # of every invalid path made a file of many bad controls quadratic.
        self.invalid_controls = {
            path[1] for path in invalid_paths if len(path) > 1 and path[0] == "controls"
        }
        self.problems: list[Problem] = []

    def problem(self, path: list[Any], message: str) -> None:
        self.problems.append(Problem(self.document.locate(path), json_path(path), message))

    def reported(self, path: list[Any]) -> bool:
        """True when the schema already reported a problem at or above ``path``."""
        if not self.invalid:
            return False
        if len(path) > 1 and path[0] == "controls" and path[1] not in self.invalid_controls:
            return () in self.invalid or ("controls",) in self.invalid  # nothing within it
        return under(path, self.invalid)

    def check_value(self, name: str, value: Any, prefix: list[Any]) -> Any:
        """A field's normalised value, or None after recording a problem."""
        if name == "owner":
            message = email_problem(value)
            if message:
                self.problem(field_path(prefix, name), message)
                return None
        elif name == "freshness.duration":
            try:
                return parse_duration(value)
            except DurationError as reason:
                self.problem(field_path(prefix, name), str(reason))
                return None
        return NORMALISE[name](value)

    def fields_of(self, mapping: Any, prefix: list[Any], names: Iterable[str]) -> dict[str, Field]:
        """The fields of a control or of ``defaults``; a normalised value of None marks a broken
        one. ``prefix`` is the mapping's JSON path, shared by its fields (paths are built only
        for messages: a large manifest has a hundred thousand fields)."""
        found: dict[str, Field] = {}
        if not isinstance(mapping, YMap):
            return found
        marks = mapping.value_marks
        invalid = self.invalid
        for name in names:
            # One lookup, not `in` then `[]`: this loop runs for every field of every control.
            value = mapping.get(name, _ABSENT)
            if value is _ABSENT:
                continue
            if name == "freshness":
                if not isinstance(value, YMap):
                    continue
                for key in ("policy", "duration"):
                    if key in value:
                        inner, full = value[key], f"freshness.{key}"
                        if invalid and self.reported(field_path(prefix, full)):
                            normal = None
                        else:
                            normal = self.check_value(full, inner, prefix)
                        found[full] = (inner, normal, prefix, value.value_marks[key])
                continue
            if invalid and self.reported(field_path(prefix, name)):
                found[name] = (value, None, prefix, marks[name])
            elif name in _CHECKED:
                found[name] = (value, self.check_value(name, value, prefix), prefix, marks[name])
            else:  # the normaliser alone, without check_value's tests of the name
                found[name] = (value, NORMALISE[name](value), prefix, marks[name])
        return found

    def plain_identifier(self, identifier: str, index: int) -> bool:
        """The schema refuses control characters and leading whitespace; trailing whitespace
        is checked here, since a pattern cannot anchor at the end alike in every dialect."""
        if identifier == identifier.rstrip():
            return True
        self.problem(
            ["controls", index, "identifier"],
            f"{excerpt(identifier)} must not start or end with whitespace",
        )
        return False

    def controls(self) -> Iterable[tuple[int, str, Control | None]]:
        """Each control's index, identifier, and the control (None when it has a problem)."""
        data = self.document.data
        defaults = self.fields_of(data.get("defaults"), ["defaults"], (*DEFAULTABLE, "freshness"))
        defaults = {name: field for name, field in defaults.items() if field[1] is not None}
        controls = data.get("controls")
        if not isinstance(controls, list):
            return
        for index, declared in enumerate(controls):
            if not isinstance(declared, YMap) or self.reported(["controls", index]):
                continue
            identifier = declared.get("identifier")
            if not isinstance(identifier, str) or self.reported(["controls", index, "identifier"]):
                continue
            if not self.plain_identifier(identifier, index):
                continue
            yield index, identifier, self.control(index, identifier, declared, defaults)

    def control(
        self, index: int, identifier: str, declared: YMap, defaults: dict[str, Field]
    ) -> Control | None:
        path = ["controls", index]
        own = self.fields_of(declared, path, (*FIELD_KEYS, "freshness"))
        merged = dict(defaults)
        if own.get("freshness.policy", (None,))[0] == "none" and "freshness.duration" not in own:
            merged.pop("freshness.duration", None)  # "never expires" drops the default duration
        merged.update(own)
        values, written, marks = {}, {}, {}
        valid = True
        for name, (raw, normal, _, mark) in merged.items():  # one pass: split and judge
            if normal is None:
                valid = False
            values[name], written[name], marks[name] = normal, raw, mark
        if merged.get("freshness.policy", (None,))[0] == "none" and "freshness.duration" in merged:
            self.problem(
                field_path(merged["freshness.duration"][2], "freshness.duration"),
                "a duration needs `policy: manual`; with `policy: none` evidence never expires",
            )
            valid = False
        if not valid or index in self.invalid_controls:
            return None
        line, column = self.document.data["controls"].item_marks[index]
        return Control(
            identifier=identifier,
            values=values,
            written=written,
            source=Location(self.document.file, line, column),
            field_marks=marks,
        )


# One declared control of a file: its index, identifier, the control (None when it has a
# problem) and where its identifier is written (what a second declaration's message names).
Entry = tuple[int, str, "Control | None", Mark]


@dataclass(frozen=True)
class FileControls:
    """What the model makes of one file: its declared controls in order, and its problems.
    Plain data, so that a worker process can hand it back (``manifest.workers``)."""

    file: str
    entries: list[Entry]
    problems: list[Problem]


def file_controls(document: Document, invalid: set[tuple[Any, ...]]) -> FileControls:
    """One schema-checked manifest → its declared controls and its model problems.

    ``invalid``: the paths (``("controls", 3)``, ``("defaults",)``) that had schema problems;
    those are skipped so that one mistake gives one message."""
    builder = _FileModel(document, invalid)
    entries: list[Entry] = []
    for index, identifier, control in builder.controls():
        declared = document.data["controls"][index]
        mark = declared.value_marks.get("identifier") or declared.mark
        entries.append((index, identifier, control, mark))
    return FileControls(document.file, entries, builder.problems)


def merge_controls(files: Iterable[FileControls]) -> tuple[dict[str, Control], list[Problem]]:
    """The files' controls, in file order → controls keyed by identifier, and every problem;
    an identifier declared twice, in one file or two, is a problem and neither is kept."""
    desired: dict[str, Control] = {}
    declared_at: dict[str, tuple[str, Mark]] = {}  # located only when declared again
    problems: list[Problem] = []
    for result in files:
        for index, identifier, control, mark in result.entries:
            first = declared_at.get(identifier)
            if first is not None:
                path: list[Any] = ["controls", index, "identifier"]
                at = Location(first[0], *first[1])
                problems.append(
                    Problem(
                        Location(result.file, *mark),
                        json_path(path),
                        f"identifier {excerpt(identifier)} is declared twice: first at {at}; "
                        "declare each control once",
                    )
                )
                desired.pop(identifier, None)
                continue
            declared_at[identifier] = (result.file, mark)
            if control is not None:
                desired[identifier] = control
        problems.extend(result.problems)
    return dict(sorted(desired.items())), problems


def desired_controls(
    documents: Iterable[tuple[Document, set[tuple[Any, ...]]]],
) -> tuple[dict[str, Control], list[Problem]]:
    """Schema-checked manifests → controls keyed by identifier, and every model problem.

    ``documents`` pairs each document with the paths that had schema problems
    (``file_controls``)."""
    return merge_controls(file_controls(document, invalid) for document, invalid in documents)
