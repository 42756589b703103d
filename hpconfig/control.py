"""The ``Control`` value and the one table of the fields hpconfig manages.

``Control`` is one control, desired (from manifests) or live (from the API), with its
normalised ``values`` for comparing and its ``written`` values for reports; ``fingerprint``
digests the live values of the fields a manifest manages, so that apply can tell whether a
control changed since its plan.

Owns, for every managed field: its manifest name (``freshness.duration``, flattened), its API
field (``freshForDuration``), how it is read from an API control (the owner object → its
email), how it is written to the API (an owner email → the user id, through a lookup the caller
passes; seconds → ISO-8601), its normaliser (so that a difference of form is no drift), its
enum values, and whether ``defaults`` may set it. The manifest builder, the live mapping, the
sandbox's write rules, the schema test, and later apply and import all read this table, so a
field is added or changed in one place.

Pure: it must not read files, talk HTTP or import YAML; facts about the API come from
``hyperproof``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.durations import iso_duration, parse_duration
from hpconfig.errors import Location

# A 1-based line and column in a manifest.
Mark = tuple[int, int]

# An owner email (normalised) → the organization-user id the API writes; None when unknown.
UserLookup = Callable[[str], "str | None"]


def normalise_text(text: str) -> str:
    """Line endings, trailing whitespace of each line and blank lines around the text ignored."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def normalise_line(text: str) -> str:
    """One-line fields (name, domain, work status): surrounding whitespace ignored."""
    return text.strip()


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def _read(api_field: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(api: Mapping[str, Any]) -> Any:
        return api.get(api_field)

    read.api_field = api_field  # type: ignore[attr-defined]  # live_control reads it directly
    return read


def same(value: Any) -> Any:
    """The normaliser of a field compared as it is (an enum)."""
    return value


def _read_owner(api: Mapping[str, Any]) -> Any:
    owner = api.get("owner")
    return owner.get("email") if isinstance(owner, dict) else None


def _write_as_is(value: Any, users: UserLookup | None) -> Any:
    return value


def _write_duration(seconds: Any, users: UserLookup | None) -> Any:
    return iso_duration(seconds)


class UnknownOwnerError(LookupError):
    """An owner email with no user behind it in the organization."""


def _write_owner(email: Any, users: UserLookup | None) -> Any:
    """The user id when a lookup is given; the email otherwise (apply resolves it with one
    ``GET /v1/users`` per run, which a read-only plan does not make)."""
    if users is None:
        return email
    found = users(email)
    if found is None:
        raise UnknownOwnerError(f"no user in the organization has the email {email!r}")
    return found


@dataclass(frozen=True)
class ManagedField:
    """One managed field: both of its names, and how it is read, written and compared."""

    name: str  # in manifests, plans and ignore rules (``freshness.duration``)
    api: str  # in the API's controls (``freshForDuration``)
    title: str  # the manifest schema's title and description of it
    description: str
    normalise: Callable[[Any], Any]  # a value as written → the value compared
    read: Callable[[Mapping[str, Any]], Any]  # an API control → the value as the API has it
    write: Callable[[Any, UserLookup | None], Any]  # a normalised value → the API's form
    enum: tuple[str, ...] = ()  # the values a manifest may give; empty when free
    api_enum: tuple[str, ...] = ()  # the values the API takes, when more (or `enum`)
    defaultable: bool = True  # whether a file's `defaults` may set it
    text: bool = False  # free text: the API's null is the empty text


def _field(
    name: str,
    api: str,
    title: str,
    description: str,
    normalise: Callable[[Any], Any] = same,
    **options: Any,
) -> ManagedField:
    options.setdefault("read", _read(api))
    options.setdefault("api_enum", options.get("enum", ()))
    options.setdefault("write", _write_as_is)
    return ManagedField(name, api, title, description, normalise, **options)


FIELD_TABLE: tuple[ManagedField, ...] = (
    _field(
        "name",
        "name",
        "Name",
        "The control's name as shown in Hyperproof.",
        normalise_line,
        defaultable=False,
        text=True,
    ),
    _field(
        "description",
        "description",
        "Description",
        "What the control does. Line endings and trailing whitespace are ignored when comparing.",
        normalise_text,
        defaultable=False,
        text=True,
    ),
    _field(
        "notes",
        "notes",
        "Notes",
        "Free-text notes on the control.",
        normalise_text,
        text=True,
    ),
    _field(
        "domain",
        "domainName",
        "Domain",
        "The domain the control belongs to (Hyperproof's domainName).",
        normalise_line,
        text=True,
    ),
    _field(
        "owner",
        "owner",
        "Owner",
        "The owner's email address; compared case-insensitively with the owner's email in "
        "Hyperproof. A service account cannot own a control.",
        normalise_email,
        read=_read_owner,
        write=_write_owner,
    ),
    _field(
        "status",
        "status",
        "Status",
        "The object status: active, or archived (retired but kept).",
        enum=(hp.STATUS_ACTIVE, hp.STATUS_ARCHIVED),
        api_enum=hp.OBJECT_STATUSES,  # deleted, pending... exist, but are not a manifest's to set
    ),
    _field(
        "workStatus",
        "workStatus",
        "Work status",
        "Hyperproof's workStatus; a free string in v1 (its values are not public).",
        normalise_line,
        text=True,
    ),
    _field(
        "implementation",
        "implementation",
        "Implementation",
        "How far the control is implemented.",
        enum=hp.IMPLEMENTATION_VALUES,
    ),
    _field(
        "testingStatus",
        "testingStatus",
        "Testing status",
        "The outcome of the last test of the control.",
        enum=hp.TESTING_STATUS_VALUES,
    ),
    _field(
        "freshness.policy",
        "freshnessPolicy",
        "Freshness policy",
        "none: evidence never expires; manual: it expires after `duration` (Hyperproof's "
        "freshnessPolicy).",
        enum=hp.FRESHNESS_POLICIES,
    ),
    _field(
        "freshness.duration",
        "freshForDuration",
        "Duration",
        "How long a control stays fresh: ISO-8601 (P30D, PT720H, P4W, P1DT12H) or a short form "
        "(30d, 720h, 4w). Must be positive; months and years are not allowed (they have no "
        "fixed length).",
        parse_duration,
        write=_write_duration,
    ),
)

FIELDS_BY_NAME: dict[str, ManagedField] = {field.name: field for field in FIELD_TABLE}
FIELDS_BY_API: dict[str, ManagedField] = {field.api: field for field in FIELD_TABLE}
# API field → the values a write may give it (what the sandbox's write rules check).
API_ENUMS: dict[str, tuple[str, ...]] = {f.api: f.api_enum for f in FIELD_TABLE if f.api_enum}
# Every compared field, flattened: the names plans and ignore rules use.
FIELDS: tuple[str, ...] = tuple(FIELDS_BY_NAME)
NORMALISE: dict[str, Callable[[Any], Any]] = {f.name: f.normalise for f in FIELD_TABLE}
# The keys of a control in a manifest that hold one value; ``freshness`` is a mapping of two.
FIELD_KEYS: tuple[str, ...] = tuple(name for name in FIELDS if "." not in name)
# Of those, what `defaults` may set besides `freshness`: a name or description per file makes
# no sense.
DEFAULTABLE: tuple[str, ...] = tuple(
    f.name for f in FIELD_TABLE if f.defaultable and "." not in f.name
)


def api_values(values: Mapping[str, Any], users: UserLookup | None = None) -> dict[str, Any]:
    """Normalised manifest values → the API's fields and values, as apply sends them."""
    return {
        FIELDS_BY_NAME[name].api: FIELDS_BY_NAME[name].write(value, users)
        for name, value in sorted(values.items())
    }


@dataclass(frozen=True)
class Control:
    """One control: normalised ``values`` for comparing, ``written`` as given, for reports.

    A desired control holds only the fields its manifest manages; a live one holds every field
    Hyperproof gave. ``source`` is where a desired control is declared, ``field_marks`` the
    line and column of each field (see ``location_of``); ``live_id``,
    ``updated_by`` and ``updated_on`` say which live object it is and who changed it last.
    """

    identifier: str
    values: dict[str, Any]
    written: dict[str, Any]
    source: Location | None = None
    field_marks: dict[str, Mark] = field(default_factory=dict, compare=False)
    live_id: str | None = None
    updated_by: str | None = None
    updated_on: str | None = None

    def location_of(self, name: str) -> Location | None:
        """Where the manifest sets field ``name`` (in ``defaults`` when inherited)."""
        mark = self.field_marks.get(name)
        if self.source is None or mark is None:
            return self.source
        return Location(self.source.file, mark[0], mark[1])


# json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False), built once: a
# plan of 10,000 drifted controls built 10,000 encoders.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(live: Control, names: Iterable[str]) -> str:
    """sha256 of the canonical JSON of the live control's normalised values of ``names`` (the
    fields its manifest manages): what a stale check compares with a fresh read. Normalised, so
    that a difference of form (``PT720H`` for ``P30D``) does not make a plan stale."""
    managed = {name: live.values.get(name) for name in sorted(set(names))}
    canonical = _CANONICAL.encode(managed)
    import hashlib  # plans only: validate starts without it

    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
