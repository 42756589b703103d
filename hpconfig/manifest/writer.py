"""Live controls → manifest text: what import writes for each control, and how a file reads.

Owns, for one live control, the manifest values that state it exactly (``stated``): every
managed field of the field table (``hpconfig.control``) read in the import direction, as the
plan compares it (normalised), or left out when the API has nothing to state (a null work
status: the manifest then leaves the field unmanaged); and why a control cannot be stated at
all (an owner without an email, a value outside the manifest language, a value the schema
refuses). Owns the layout of one file: the modeline, ``defaults`` for the values most of its
controls share when that makes the file shorter, then the controls in the order given, each
field in the field table's order, ``freshness`` as one flow mapping. How one value is spelled is
``yaml_out``'s.

Pure: no files, no network; it takes ``Control`` values and returns text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hpconfig.control import DEFAULTABLE, FIELD_KEYS, FIELDS, FIELDS_BY_NAME, Control
from hpconfig.manifest import schema, wording
from hpconfig.manifest.emails import email_problem
from hpconfig.manifest.yaml_out import UnrepresentableError, duration, scalar
from hpconfig.untrusted import excerpt

MANIFEST_MODELINE = "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
CONFIG_MODELINE = "# yaml-language-server: $schema=schemas/config.schema.json\n"
MANIFEST_NOTE = (
    "# Imported from Hyperproof by `hpconfig import`: edit freely; `hpconfig plan` compares.\n"
)
# A control's fields as written: its flat field names (``freshness.policy``) → values.
Stated = dict[str, Any]
_INDENT = 4  # a control's keys stand in "  - " of the list
_FRESHNESS = ("freshness.policy", "freshness.duration")


class NotStatable(ValueError):
    """A live control that no manifest can state exactly; the message says why."""


def _enum_value(name: str, value: Any) -> Any:
    enum = FIELDS_BY_NAME[name].enum
    if value is None or not enum or value in enum:
        return value
    raise NotStatable(
        f"its {name} is {excerpt(value)}, which a manifest cannot state (one of {', '.join(enum)})"
    )


def _may_be_empty(name: str) -> bool:
    """Whether the manifest language states an empty text for ``name`` (the schema's word)."""
    properties = schema.load_schema("manifest")["$defs"]["control"]["properties"]
    return not properties.get(name, {}).get("minLength")


def stated_value(live: Control, name: str) -> Any:
    """The value a manifest states for field ``name`` (flat: ``freshness.duration``) of
    ``live``; None when Hyperproof has nothing to state (the manifest then leaves the field
    unmanaged); ``NotStatable`` when no manifest can state it exactly.

    Values are the normalised ones the plan compares (a name without surrounding spaces, a
    description without trailing spaces on its lines), except the owner, kept as Hyperproof
    spells it (compared without case). A multi-line text gets a final line break, which the
    comparison ignores, so that it reads as a plain ``|`` block. With ``policy: none`` there is
    no duration to state: evidence never expires.
    """
    value = live.values.get(name)
    if name == "owner":
        written = live.written.get("owner")
        if value is None:
            if written:
                raise NotStatable(
                    f"its owner {excerpt(written)} has no email address (a service account?), "
                    "and a manifest names an owner by email"
                )
            return None
        value = written if isinstance(written, str) and not email_problem(written) else value
        if email_problem(value):
            raise NotStatable(f"its owner's email {excerpt(value)} is not a valid address")
        return value
    if name == "freshness.duration":
        if value is None or live.values.get("freshness.policy") == "none":
            return None
        if not isinstance(value, int):
            raise NotStatable(
                f"its freshness duration {excerpt(live.written.get(name))} is not one hpconfig "
                "can read"
            )
        return duration(value)
    if FIELDS_BY_NAME[name].text:
        if not isinstance(value, str) or (value == "" and not _may_be_empty(name)):
            return None
        return value + "\n" if "\n" in value else value
    return _enum_value(name, value)


def stated(live: Control) -> Stated:
    """Every value a manifest states for ``live`` (see ``stated_value``), checked by the
    manifest schema; ``NotStatable`` when one cannot be stated."""
    out: Stated = {}
    for name in FIELDS:
        value = stated_value(live, name)
        if value is not None:
            out[name] = value
    _check_with_schema(live.identifier, out)
    return out


def _as_manifest(identifier: str, fields: Stated) -> dict[str, Any]:
    control: dict[str, Any] = {"identifier": identifier}
    for name, value in fields.items():
        if name in _FRESHNESS:
            control.setdefault("freshness", {})[name.split(".")[1]] = value
        else:
            control[name] = value
    return {"controls": [control]}


def _check_with_schema(identifier: str, fields: Stated) -> None:
    """The manifest schema's own verdict on the control (an identifier with a control
    character, a name it refuses), and the model's rule against whitespace around identifiers;
    every value must also be writable as YAML (no lone surrogate)."""
    if identifier != identifier.strip():
        raise NotStatable("its identifier starts or ends with whitespace")
    try:
        for value in (identifier, *fields.values()):
            scalar(value)
    except UnrepresentableError as error:
        raise NotStatable(str(error)) from None
    document = _as_manifest(identifier, fields)
    gate = schema._gate("manifest")
    if gate is not None and gate(document):
        return
    errors = list(schema.validator("manifest").iter_errors(document))
    if errors:
        first = min(errors, key=lambda e: list(map(str, e.absolute_path)))
        where = ".".join(str(p) for p in list(first.absolute_path)[2:]) or "control"
        raise NotStatable(f"{where}: {wording._message(first) or first.message}")


# --- one file ------------------------------------------------------------------------------


def _line(name: str, value: Any, indent: int) -> str:
    return f"{' ' * indent}{name}: {scalar(value, indent)}\n"


def _freshness_line(policy: Any, seconds_text: Any, indent: int) -> str:
    parts = []
    if policy is not None:
        parts.append(f"policy: {scalar(policy, flow=True)}")
    if seconds_text is not None:
        parts.append(f"duration: {scalar(seconds_text, flow=True)}")
    return f"{' ' * indent}freshness: {{{', '.join(parts)}}}\n" if parts else ""


def _own(fields: Stated, defaults: Stated) -> Stated:
    """What a control must state itself, given the file's ``defaults``: what differs, and
    ``policy: none`` whenever a default duration would otherwise be inherited."""
    own = {name: value for name, value in fields.items() if defaults.get(name, object()) != value}
    if fields.get("freshness.policy") == "none" and "freshness.duration" in defaults:
        own["freshness.policy"] = "none"
    return own


def _defaultable(name: str, controls: Sequence[Stated]) -> bool:
    """May ``defaults`` set ``name``? Only when every control states it (or, for a duration,
    says ``policy: none``), since a control cannot take a default back."""
    if name == "freshness.duration":
        return all(name in c or c.get("freshness.policy") == "none" for c in controls)
    return all(name in c for c in controls)


def _candidate(name: str, controls: Sequence[Stated]) -> Any:
    """The most common value of ``name`` when two controls or more share it, else None."""
    counts = Counter(repr(c[name]) for c in controls if name in c)
    best, count = max(counts.items(), key=lambda item: (item[1], item[0]), default=("", 0))
    if count < 2:
        return None
    return next(c[name] for c in controls if name in c and repr(c[name]) == best)


def _measure(text: str) -> tuple[int, int]:
    return text.count("\n"), len(text)


def _freshness_size(controls: Sequence[Stated], defaults: Stated) -> tuple[int, int]:
    """Lines, then characters, of every ``freshness`` line of the file with ``defaults``."""
    lines, chars = _measure(
        _freshness_line(defaults.get(_FRESHNESS[0]), defaults.get(_FRESHNESS[1]), 2)
    )
    for fields in controls:
        own = _own({k: fields[k] for k in _FRESHNESS if k in fields}, defaults)
        line = _freshness_line(own.get(_FRESHNESS[0]), own.get(_FRESHNESS[1]), _INDENT)
        lines, chars = lines + (1 if line else 0), chars + len(line)
    return lines, chars


def choose_defaults(controls: Sequence[Stated]) -> Stated:
    """The values for ``defaults``: a field's most common value, kept when the file is then
    shorter (in lines, then characters; the ``defaults:`` line counted). Fields are tried in
    the field table's order; the two keys of ``freshness``, which share one line, alone and
    together. A field's saving is the lines of the controls that no longer state it."""
    defaults: Stated = {}
    if len(controls) < 2:
        return defaults
    candidates = {
        name: _candidate(name, controls)
        for name in (*DEFAULTABLE, *_FRESHNESS)
        if _defaultable(name, controls)
    }
    if candidates.get(_FRESHNESS[0]) == "none":
        candidates.pop(_FRESHNESS[1], None)  # a default duration with "never expires": refused
    header = _measure("defaults:\n")
    for name in DEFAULTABLE:
        value = candidates.get(name)
        if value is None:
            continue
        own_line = _measure(_line(name, value, _INDENT))
        matching = sum(1 for fields in controls if fields.get(name) == value)
        added = _measure(_line(name, value, 2))
        if not defaults:
            added = (added[0] + header[0], added[1] + header[1])
        if added < (own_line[0] * matching, own_line[1] * matching):
            defaults[name] = value
    best = _freshness_size(controls, defaults)
    for names in (_FRESHNESS, (_FRESHNESS[0],), (_FRESHNESS[1],)):
        if any(candidates.get(name) is None for name in names):
            continue
        trial = {**defaults, **{name: candidates[name] for name in names}}
        size = _freshness_size(controls, trial)
        if not defaults:
            size = (size[0] + header[0], size[1] + header[1])
        if size < best:
            defaults, best = trial, size
    return defaults


def _body(fields: Stated, indent: int) -> str:
    lines = [_line(name, fields[name], indent) for name in FIELD_KEYS if name in fields]
    lines.append(
        _freshness_line(fields.get("freshness.policy"), fields.get("freshness.duration"), indent)
    )
    return "".join(lines)


def manifest_text(controls: Sequence[tuple[str, Stated]], modeline: str = MANIFEST_MODELINE) -> str:
    """One manifest file: the modeline, ``defaults`` when they make it shorter, and the
    controls in the order given."""
    defaults = choose_defaults([fields for _, fields in controls])
    out = [modeline, MANIFEST_NOTE]
    if defaults:
        out += ["defaults:\n", _body(defaults, 2)]
    out.append("controls:\n" if controls else "controls: []\n")
    for identifier, fields in controls:
        out.append(f"  - identifier: {scalar(identifier, _INDENT)}\n")
        out.append(_body(_own(fields, defaults), _INDENT))
    return "".join(out)


def config_text(manifests: Sequence[str], connection: dict[str, str]) -> str:
    """``hpconfig.yaml``: the manifest paths and where to connect (``region``, and ``apiUrl``
    and ``tokenUrl`` when given); never a secret, which only the environment holds."""
    out = [
        CONFIG_MODELINE,
        "# Written by `hpconfig import`. It never holds a secret: the client secret comes from\n",
        "# HYPERPROOF_CLIENT_SECRET or HYPERPROOF_CLIENT_SECRET_FILE.\n",
        "manifests:\n",
    ]
    out += [f"  - {scalar(path, 2)}\n" for path in manifests]
    out += [_line(key, value, 0) for key, value in connection.items()]
    return "".join(out)
