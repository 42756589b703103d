"""Rule files and the ``assertions`` of ``hpconfig.yaml`` → a ``RuleSet`` and every problem.

Owns reading the rules of ``hpconfig check``: the files ``assertions.files`` names (inside the
repository only, as manifests are; directories walked for ``*.yaml``/``*.yml``), each loaded and
schema-checked as manifests are, and the rules and waivers written in the config itself. Then
what a schema cannot say, each located at its value: CEL expressions that do not compile or pass
the bounds (compiled here, once), message templates with unknown fields, durations, duplicate
rule ids, waivers of unknown rules, and waivers that expired or are about to (a warning, as
ignore rules warn). It must not talk HTTP or evaluate rules (``assertions`` does).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Any

from hpconfig.assertions import cel
from hpconfig.assertions.evaluate import TEMPLATE_NAMES
from hpconfig.assertions.rules import (
    Assertion,
    Rule,
    Selection,
    Waiver,
    parse_template,
)
from hpconfig.assertions.ruleset import RuleSet
from hpconfig.durations import DurationError, parse_duration
from hpconfig.errors import Location, Problem, Severity
from hpconfig.manifest import schema
from hpconfig.manifest.config_file import EXPIRY_NOTICE_DAYS, repository_root
from hpconfig.manifest.document import Document, json_path, under
from hpconfig.manifest.loader import YAML_SUFFIXES, display_name, load_file
from hpconfig.untrusted import excerpt

MAX_RULE_FILES_BYTES = 16 * 1024 * 1024  # all rule files of a run: 100 rules fit many times
MAX_RULES = 100  # rules of one project: each runs on every control, and the results multiply


def _problem(document: Document, path: list[Any], message: str, **kw: Any) -> Problem:
    return Problem(document.locate(path), json_path(path), message, **kw)


def _rule_files(document: Document, base: Path) -> tuple[list[Path], list[Problem]]:
    """``assertions.files`` → the files to read; entries outside the repository are refused."""
    root = repository_root(base)
    files: list[Path] = []
    problems: list[Problem] = []
    for index, entry in enumerate(document.data["assertions"].get("files", ())):
        where: list[Any] = ["assertions", "files", index]
        path = base / entry
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            problems.append(
                _problem(
                    document,
                    where,
                    f"{excerpt(entry)} leads outside the repository ({root}); "
                    "list only rule files inside it",
                )
            )
        elif path.is_dir():
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    candidate = Path(folder) / name
                    if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                        target = candidate.resolve()
                        if root == target or root in target.parents:
                            files.append(candidate)
        elif path.exists():
            files.append(path)
        else:
            problems.append(_problem(document, where, f"{excerpt(entry)}: no such file"))
    return files, problems


def _touched(path: tuple[Any, ...], invalid: Collection[tuple[Any, ...]]) -> bool:
    """True when the schema found a problem at ``path``, above it or anywhere inside it."""
    return under(path, invalid) or any(place[: len(path)] == path for place in invalid)


class _Reader:
    """Collects rules and waivers from several documents, with every problem."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.rules: list[Rule] = []
        self.waivers: list[tuple[Document, list[Any], Waiver]] = []
        self.problems: list[Problem] = []
        self.seen: dict[str, Location] = {}

    def read(
        self,
        document: Document,
        prefix: list[Any],
        data: Any,
        invalid: set[tuple[Any, ...]] | frozenset[tuple[Any, ...]] = frozenset(),
    ) -> None:
        """The rules and waivers of ``data``; those the schema found invalid are left out (the
        schema's problems say why), so every other one is still checked in the same run."""
        for index, raw in enumerate(data.get("rules", ())):
            if _touched((*prefix, "rules", index), invalid) or not isinstance(raw, dict):
                continue
            if len(self.rules) >= MAX_RULES:
                self.problems.append(
                    _problem(document, [*prefix, "rules"], f"more than {MAX_RULES} rules")
                )
                return
            rule = self.rule(document, [*prefix, "rules", index], raw)
            if rule is not None:
                self.rules.append(rule)
        for index, raw in enumerate(data.get("waivers", ())):
            path = [*prefix, "waivers", index]
            if _touched(tuple(path), invalid) or not isinstance(raw, dict):
                continue
            waiver = self.waiver(document, path, raw)
            if waiver is not None:
                self.waivers.append((document, path, waiver))

    def expression(self, document: Document, path: list[Any], text: str) -> cel.Expression | None:
        try:
            return cel.compile_expression(text)
        except cel.CelSyntaxError as error:
            at = f" (at character {error.column})" if error.column else ""
            self.problems.append(
                _problem(document, path, f"the CEL expression does not compile{at}: {error}")
            )
            return None

    def rule(self, document: Document, path: list[Any], raw: dict[str, Any]) -> Rule | None:
        count = len(self.problems)
        selection = self.selection(document, [*path, "select"], raw.get("select", {}))
        assertion = self.assertion(document, [*path, "assert"], raw["assert"])
        template = None
        if "message" in raw:
            template, problem = parse_template(raw["message"], TEMPLATE_NAMES)
            if problem:
                self.problems.append(_problem(document, [*path, "message"], problem))
        first = self.seen.get(raw["id"])
        where = document.locate(path)
        if re.fullmatch(r"HPC[0-9]+", raw["id"]):
            self.problems.append(
                _problem(
                    document,
                    [*path, "id"],
                    f"{excerpt(raw['id'])}: ids HPC<number> are hpconfig's own (its plan's SARIF "
                    "rules); choose another",
                )
            )
        if first is not None:
            self.problems.append(
                _problem(
                    document,
                    [*path, "id"],
                    f"the rule id {excerpt(raw['id'])} is already used at {first}; "
                    "rule ids are unique across all rule files",
                )
            )
        self.seen.setdefault(raw["id"], where)
        if len(self.problems) > count or selection is None or assertion is None:
            return None
        return Rule(raw["id"], raw["title"], raw["severity"], selection, assertion, template, where)

    def selection(
        self, document: Document, path: list[Any], raw: dict[str, Any]
    ) -> Selection | None:
        when = None
        if "when" in raw:
            when = self.expression(document, [*path, "when"], raw["when"])
            if when is None:
                return None
        return Selection(
            controls=tuple(raw.get("controls", ())),
            domains=tuple(raw.get("domains", ())),
            statuses=tuple(raw.get("status", ("active",))),
            managed=raw.get("managed"),
            when=when,
        )

    def assertion(
        self, document: Document, path: list[Any], raw: dict[str, Any]
    ) -> Assertion | None:
        ((kind, value),) = raw.items()
        if kind == "expression":
            expression = self.expression(document, [*path, kind], value)
            return None if expression is None else Assertion("expression", expression=expression)
        if kind == "required":
            return Assertion(kind, fields=tuple(value))
        if kind == "allowed":
            return Assertion(kind, allowed=tuple((k, tuple(v)) for k, v in value.items()))
        if kind in ("atMost", "atLeast"):
            limits = []
            for name, text in value.items():
                try:
                    limits.append((name, parse_duration(text)))
                except DurationError as error:
                    self.problems.append(_problem(document, [*path, kind, name], str(error)))
                    return None
            return Assertion(kind, limits=tuple(limits))
        return Assertion(kind)  # evidenceFresh, ownerActive: `true` is all they say

    def waiver(self, document: Document, path: list[Any], raw: dict[str, Any]) -> Waiver | None:
        expires = None
        if "expires" in raw:
            try:
                expires = date.fromisoformat(raw["expires"])
            except ValueError:
                message = f"{excerpt(raw['expires'])} is not a real date"
                self.problems.append(_problem(document, [*path, "expires"], message))
                return None
        return Waiver(
            rule=raw["rule"],
            controls=tuple(raw["controls"]),
            reason=raw["reason"],
            approver=raw.get("approver"),
            ticket=raw.get("ticket"),
            expires=expires,
            source=document.locate(path),
        )

    def check_waivers(self) -> list[Waiver]:
        """Waivers of rules that exist; expired and expiring ones warned about."""
        kept = []
        for document, path, waiver in self.waivers:
            if waiver.rule not in self.seen:
                self.problems.append(
                    _problem(
                        document,
                        [*path, "rule"],
                        f"no rule has the id {excerpt(waiver.rule)}; waive an existing rule",
                    )
                )
                continue
            kept.append(waiver)
            if waiver.expires is None:
                continue
            days = (waiver.expires - self.today).days
            at = [*path, "expires"]
            if days < 0:
                text = (
                    f"this waiver expired on {waiver.expires.isoformat()}: the alarms it "
                    "covered count again; renew `expires` or remove the waiver"
                )
                self.problems.append(_problem(document, at, text, severity=Severity.WARNING))
            elif days <= EXPIRY_NOTICE_DAYS:
                when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
                text = (
                    f"this waiver expires {when} ({waiver.expires.isoformat()}), and then its "
                    "alarms fail the check: review it, then renew `expires` or remove it"
                )
                self.problems.append(_problem(document, at, text, severity=Severity.WARNING))
        return kept


def read_assertions(config: Document, base: Path, today: date) -> tuple[RuleSet, list[Problem]]:
    """The rules of a schema-valid config document and of the files it names."""
    reader = _Reader(today)
    section = config.data.get("assertions")
    if section is None:
        return RuleSet(), []
    reader.read(config, ["assertions"], section)
    files, problems = _rule_files(config, base)
    reader.problems += problems
    names = []
    budget = MAX_RULE_FILES_BYTES
    for file in files:
        name = display_name(file)
        names.append(name)
        with contextlib.suppress(OSError):  # an unreadable file: load_file says why
            budget -= os.stat(file).st_size
        if budget < 0:
            reader.problems.append(
                Problem(
                    Location(name),
                    "",
                    f"not read: the rule files pass {MAX_RULE_FILES_BYTES:,} bytes in all",
                )
            )
            continue
        document, load_problems = load_file(file, name)
        reader.problems += load_problems
        if document is None:
            continue
        schema_problems, invalid = schema.check(document, "assertions")
        reader.problems += schema_problems
        if not any(p.path == "$" for p in schema_problems):
            reader.read(document, [], document.data, invalid)
    waivers = reader.check_waivers()
    ruleset = RuleSet(tuple(reader.rules), tuple(waivers), tuple(names))
    return ruleset, reader.problems
