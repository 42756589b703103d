"""``RuleSet``: the rules and waivers of a project, as frozen data with nothing to import.

Every command reads ``hpconfig.yaml`` and so builds a ``ProjectConfig``, whose ``assertions`` is
a ``RuleSet`` (empty without rules); ``validate``, the pre-commit hook, must not pay for
importing the rules' templates and CEL (``assertions.rules``, 4 ms) to hold an empty one. The
values inside are ``assertions.rules``' ``Rule`` and ``Waiver``. Pure: no I/O, no imports but
leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hpconfig.assertions.rules import Rule, Waiver


@dataclass(frozen=True)
class RuleSet:
    """The rules and waivers of a project, as its config and rule files declare them."""

    rules: tuple[Rule, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    files: tuple[str, ...] = ()  # the rule files read
