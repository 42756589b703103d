"""What ``hpconfig import`` would write, decided and proven in memory before a byte is written.

Owns the plan of an import: which live controls go into which file (one per domain, under a
file name made from the domain that is safe whatever a user typed: ASCII letters, digits and
``-`` only, never a name Windows reserves or the project config's, collisions told apart by a
digest of the domain), which are skipped and why, and the proof (``verify``): the generated
texts go through the real loader, schema and model, and their plan against the same live
controls must be empty. A non-empty one is a bug of hpconfig (``ImportVerificationError``).

Pure: no files, no network. The command (``cli.importing``) fetches, checks what exists on
disk, and writes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hpconfig.control import Control
from hpconfig.diff import diff
from hpconfig.errors import ImportVerificationError
from hpconfig.manifest import schema
from hpconfig.manifest.composer import load_text
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.writer import (
    MANIFEST_MODELINE,
    NotStatable,
    Stated,
    config_text,
    manifest_text,
    stated,
)

CONTROLS_DIR = "controls"
CONFIG_NAME = "hpconfig.yaml"
NO_DOMAIN = "no-domain"
# Device names Windows reserves in any folder, with any extension; and the names hpconfig gives
# a meaning to. A domain that slugs to one of them gets a suffix.
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "hpconfig", "defaults"]
    + [f"com{n}" for n in range(10)]
    + [f"lpt{n}" for n in range(10)]
)
_MAX_SLUG = 60


@dataclass(frozen=True)
class Skipped:
    """A live control import does not write, and why."""

    identifier: str
    reason: str


@dataclass
class ImportPlan:
    """The files of an import (relative path → text, sorted), and what was left out."""

    files: dict[str, str] = field(default_factory=dict)
    controls: dict[str, Control] = field(default_factory=dict)  # the live controls written
    skipped: list[Skipped] = field(default_factory=list)
    file_of: dict[str, str] = field(default_factory=dict)  # identifier → relative path


def identifier_order(identifier: str) -> tuple[tuple[int, int | str], ...]:
    """Identifiers in the order a person expects: ``CC6.2`` before ``CC6.10``; two that differ
    only in how a number is written (``A1``, ``A01``) are ordered by their text, after this key."""
    return tuple(
        (0, int(part)) if part.isascii() and part.isdigit() and len(part) < 30 else (1, part)
        for part in re.split(r"([0-9]+)", identifier)
    )


def slug(domain: str | None) -> str:
    """A domain → a file stem: lower-case ASCII letters, digits and single hyphens."""
    if not domain:
        return NO_DOMAIN
    ascii_text = unicodedata.normalize("NFKD", domain).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    text = text[:_MAX_SLUG].rstrip("-") or "domain"
    return f"{text}-controls" if text in _RESERVED else text


def _digest(domain: str | None) -> str:
    return hashlib.sha256(
        ("\x00" if domain is None else domain).encode("utf-8", "replace")
    ).hexdigest()[:8]


def file_names(domains: Iterable[str | None], taken: Iterable[str] = ()) -> dict[str | None, str]:
    """Each domain → its file stem. Domains whose stems collide (``Access`` and ``access``, or
    one of ``taken``) each get a digest of their name, so that a name never depends on which
    other domains exist beside it."""
    unique = sorted(set(domains), key=lambda d: (d is not None, d or ""))
    stems = {domain: slug(domain) for domain in unique}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    blocked = set(taken)
    return {
        domain: (f"{stem}-{_digest(domain)}" if counts[stem] > 1 or stem in blocked else stem)
        for domain, stem in stems.items()
    }


def plan_import(
    live: Mapping[str, Control],
    taken: Iterable[str] = (),
    folder: str = CONTROLS_DIR,
    modeline: str = MANIFEST_MODELINE,
) -> ImportPlan:
    """The manifest files for ``live`` (already selected), in ``folder``; file stems in
    ``taken`` (files that exist) are not used."""
    result = ImportPlan()
    by_domain: dict[str | None, list[tuple[str, Stated]]] = {}
    for identifier in sorted(live, key=lambda i: (identifier_order(i), i)):
        control = live[identifier]
        try:
            fields = stated(control)
        except NotStatable as reason:
            result.skipped.append(Skipped(identifier, str(reason)))
            continue
        by_domain.setdefault(fields.get("domain"), []).append((identifier, fields))
        result.controls[identifier] = control
    names = file_names(by_domain, taken)
    prefix = f"{folder}/" if folder else ""
    for domain, controls in by_domain.items():
        path = f"{prefix}{names[domain]}.yaml"
        result.files[path] = manifest_text(controls, modeline)
        for identifier, _ in controls:
            result.file_of[identifier] = path
    result.files = dict(sorted(result.files.items()))
    return result


def with_config(result: ImportPlan, connection: dict[str, str]) -> None:
    """Add ``hpconfig.yaml``, listing the manifests' folder and where to connect."""
    result.files[CONFIG_NAME] = config_text([f"{CONTROLS_DIR}/"], connection)


def verify(result: ImportPlan) -> None:
    """Load every generated text as ``plan`` would and plan it against the live controls it
    came from: unless every control is declared once and the plan is empty, raise
    ``ImportVerificationError`` saying what differs (a bug: nothing may be written)."""
    documents = []
    problems = []
    for path, text in result.files.items():
        document, load_problems = load_text(path, text.encode("utf-8"))
        problems += load_problems
        if document is None:
            continue
        kind = "config" if path.endswith(CONFIG_NAME) else "manifest"
        schema_problems, invalid = schema.check(document, kind)
        problems += schema_problems
        if kind == "manifest":
            documents.append((document, invalid))
    desired, model_problems = desired_controls(documents)
    problems += model_problems
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        raise ImportVerificationError(f"the generated manifests are not valid: {shown}")
    plan = diff(desired, result.controls)
    missing = sorted(set(result.controls) - set(desired))
    if plan.changes or plan.unmanaged or missing:
        details = [
            f"{change.identifier}: "
            + ", ".join(f"{f.field} {f.expected!r} != {f.actual!r}" for f in change.fields)
            for change in plan.changes[:3]
        ]
        details += [f"{identifier} not declared" for identifier in missing[:3]]
        raise ImportVerificationError(
            f"the generated manifests do not plan clean ({'; '.join(details)})"
        )
