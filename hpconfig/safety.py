"""The safety thresholds of a plan: octoDNS's ``raise_if_unsafe``, as a verdict that is data.

Owns ``SafetyLimits`` (what ``safety:`` of ``hpconfig.yaml`` sets: the largest share of existing
controls one run may change, from how many controls on; the most archives and creates of one
run; the controls that may be archived without ``--allow-archive``) and ``Safety``, one plan's
figures against those limits with the reasons a run is refused. ``plan`` reports the verdict and
``apply`` refuses on it (exit 5) unless ``--force``; ``--force`` never overrides the stale check
or the archive permission, which are not thresholds. Pure: no I/O, no hpconfig imports but
leaves.

octoDNS counts updates and deletes against the existing records; here an update, an archive
and a restore all change an existing control, so all three count toward ``maxChangePercent``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SafetyLimits:
    """The thresholds. ``None`` for a count means no limit."""

    max_change_percent: float = 30.0
    min_controls: int = 10
    max_archives: int | None = 5
    max_creates: int | None = None
    allow_archive: tuple[str, ...] = ()  # identifiers (shell patterns) archivable without the flag

    def may_archive(self, identifier: str) -> bool:
        return any(fnmatch.fnmatchcase(identifier, pattern) for pattern in self.allow_archive)

    def to_dict(self) -> dict[str, Any]:
        return {
            "maxChangePercent": self.max_change_percent,
            "minControls": self.min_controls,
            "maxArchives": self.max_archives,
            "maxCreates": self.max_creates,
            "allowArchive": list(self.allow_archive),
        }


@dataclass(frozen=True)
class Safety:
    """One plan's size against the limits: ``reasons`` says why a run would be refused."""

    updates: int  # changes to existing controls: updates, archives and restores
    existing: int
    max_percent: float
    min_controls: int
    creates: int = 0
    archives: int = 0
    max_creates: int | None = None
    max_archives: int | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.updates / self.existing if self.existing else 0.0

    @property
    def percent_exceeded(self) -> bool:
        return self.existing >= self.min_controls and self.percent > self.max_percent

    @property
    def reasons(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.percent_exceeded:
            found.append(
                f"it changes {self.percent:.0f}% of the {self.existing} existing controls, more "
                f"than safety.maxChangePercent ({self.max_percent:g}%)"
            )
        if self.max_archives is not None and self.archives > self.max_archives:
            found.append(
                f"it archives {self.archives} controls, more than safety.maxArchives "
                f"({self.max_archives})"
            )
        if self.max_creates is not None and self.creates > self.max_creates:
            found.append(
                f"it creates {self.creates} controls, more than safety.maxCreates "
                f"({self.max_creates})"
            )
        return tuple(found)

    @property
    def exceeded(self) -> bool:
        return bool(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "existing": self.existing,
            "update_percent": round(self.percent, 1),
            "max_change_percent": self.max_percent,
            "min_controls": self.min_controls,
            "creates": self.creates,
            "max_creates": self.max_creates,
            "archives": self.archives,
            "max_archives": self.max_archives,
            "exceeded": self.exceeded,
            "reasons": list(self.reasons),
        }
