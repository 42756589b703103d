"""A check's report, and its baseline: plain, ordered, JSON-able data.

Owns ``CheckReport`` (the rules, every result, the baseline entries that no longer alarm, the
counts, ``to_dict``: the JSON report of ``schemas/check.schema.json``) and the baseline document
(``baseline_document``, ``baseline_entries``): the alarms a team has accepted for now, keyed by
rule and control identifier, so that only new ones fail a run. Pure: the CLI reads and writes
the files (through the report-path checks), the renderers word the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hpconfig.assertions.evaluate import Result, Status
from hpconfig.assertions.rules import Rule

FORMAT_VERSION = "1"
BASELINE_KIND = "hpconfig-check-baseline"
OUTCOMES = ("ok", "alarm", "waived", "baselined", "skip", "error")


@dataclass(frozen=True)
class BaselineEntry:
    rule: str
    identifier: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "identifier": self.identifier}


@dataclass(frozen=True)
class CheckReport:
    rules: tuple[Rule, ...]
    results: tuple[Result, ...]
    controls: int  # controls fetched from Hyperproof
    fixed: tuple[BaselineEntry, ...] = ()  # in the baseline, no longer alarming: remove them
    backend: str = ""  # the CEL implementation used

    @property
    def failing(self) -> tuple[Result, ...]:
        return tuple(result for result in self.results if result.fails)

    def summary(self) -> dict[str, int]:
        counts = Counter(result.outcome for result in self.results)
        summary = {outcome: counts.get(outcome, 0) for outcome in OUTCOMES}
        summary.update(
            rules=len(self.rules),
            controls=self.controls,
            failing=len(self.failing),
            fixed=len(self.fixed),
        )
        return summary

    def per_rule(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {rule.id: Counter() for rule in self.rules}
        for result in self.results:
            counts.setdefault(result.rule, Counter())[result.outcome] += 1
        return counts

    def noteworthy(self) -> tuple[Result, ...]:
        """What a person reads: every result but ok and skip (both counted), failing first."""
        kept = [r for r in self.results if r.status not in (Status.OK, Status.SKIP)]
        return tuple(sorted(kept, key=lambda r: (not r.fails, r.sort_key())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "summary": self.summary(),
            "rules": [
                {
                    "id": rule.id,
                    "title": rule.title,
                    "severity": rule.severity,
                    "source": (
                        {"file": rule.source.file, "line": rule.source.line}
                        if rule.source
                        else None
                    ),
                }
                for rule in self.rules
            ],
            "results": [result.to_dict() for result in self.results],
            "baseline_fixed": [entry.to_dict() for entry in self.fixed],
        }


def alarm_keys(results: tuple[Result, ...] | list[Result]) -> set[tuple[str, str]]:
    return {(r.rule, r.identifier) for r in results if r.status == Status.ALARM}


def fixed_entries(
    baseline: frozenset[tuple[str, str]], results: tuple[Result, ...] | list[Result]
) -> tuple[BaselineEntry, ...]:
    """Baseline entries that no longer alarm: the baseline can shrink by these."""
    alarming = alarm_keys(results)
    return tuple(BaselineEntry(*key) for key in sorted(baseline - alarming))


def baseline_document(results: tuple[Result, ...] | list[Result]) -> dict[str, Any]:
    """The alarms of a run as a baseline (waived ones too: a waiver may expire first)."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": BASELINE_KIND,
        "alarms": [
            BaselineEntry(rule, identifier).to_dict()
            for rule, identifier in sorted(alarm_keys(results))
        ],
    }


MAX_BASELINE_ENTRIES = 1_000_000


def baseline_entries(document: Any) -> tuple[frozenset[tuple[str, str]], str | None]:
    """A parsed baseline file → its (rule, identifier) pairs, or the problem with it."""
    if not isinstance(document, dict) or document.get("kind") != BASELINE_KIND:
        return frozenset(), f'not an hpconfig baseline (no "kind": "{BASELINE_KIND}")'
    if document.get("format_version") != FORMAT_VERSION:
        return frozenset(), f"format_version must be {FORMAT_VERSION!r}"
    alarms = document.get("alarms")
    if not isinstance(alarms, list) or len(alarms) > MAX_BASELINE_ENTRIES:
        return frozenset(), f'"alarms" must be a list of at most {MAX_BASELINE_ENTRIES} entries'
    entries = set()
    for index, entry in enumerate(alarms):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("rule"), str)
            and isinstance(entry.get("identifier"), str)
        ):
            return (
                frozenset(),
                f"alarms[{index}] must be an object with a string rule and identifier",
            )
        entries.add((entry["rule"], entry["identifier"]))
    return frozenset(entries), None
