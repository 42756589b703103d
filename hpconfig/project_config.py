"""The project config's values: what ``hpconfig.yaml`` says, as plain, frozen data.

Owns ``ProjectConfig`` (the manifests, where to connect, the ignore rules, the safety limits),
``IgnoreRule`` (fields left out of the comparison for some controls, with a reason and an
expiry date) and ``SafetyLimits``. Pure: finding, reading and checking the file is
``manifest.config_file``'s, resolving the connection is ``remote.settings``', so that the core
(the diff, the plan) and the remote wing use these values without loading YAML.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpconfig.assertions.ruleset import RuleSet
from hpconfig.errors import Location

if TYPE_CHECKING:
    from hpconfig.safety import SafetyLimits

__all__ = ["IgnoreRule", "ProjectConfig", "SafetyLimits"]


# The limits of `plan` and `apply` are imported when first used: every command reads the
# config, and `validate` (the pre-commit hook) does not need them.
def __getattr__(name: str) -> Any:
    if name == "SafetyLimits":
        from hpconfig.safety import SafetyLimits

        return SafetyLimits
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class IgnoreRule:
    """Fields left out of the comparison for some controls, with a reason and an expiry date."""

    fields: tuple[str, ...]
    reason: str
    controls: tuple[str, ...] = ()
    expires: date | None = None
    source: Location | None = None

    def applies_to(self, identifier: str) -> bool:
        if not self.controls:
            return True
        return any(fnmatch.fnmatchcase(identifier, pattern) for pattern in self.controls)

    def ignores(self, identifier: str, field_name: str) -> bool:
        """True when this rule drops ``field_name`` (``freshness`` covers both of its keys)."""
        if not self.applies_to(identifier):
            return False
        return any(field_name == f or field_name.startswith(f + ".") for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "controls": list(self.controls),
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True)
class ProjectConfig:
    """Values from ``hpconfig.yaml``; every field optional, paths resolved against its folder."""

    file: str | None = None
    manifests: tuple[Path, ...] = ()
    region: str | None = None
    api_url: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    ignore: tuple[IgnoreRule, ...] = ()
    max_change_percent: float = 30.0
    min_controls: int = 10
    max_archives: int | None = 5
    max_creates: int | None = None
    allow_archive: tuple[str, ...] = ()
    assertions: RuleSet = RuleSet()  # the rules of `hpconfig check`, from `assertions`

    @property
    def limits(self) -> SafetyLimits:
        from hpconfig.safety import SafetyLimits

        return SafetyLimits(
            self.max_change_percent,
            self.min_controls,
            self.max_archives,
            self.max_creates,
            self.allow_archive,
        )
