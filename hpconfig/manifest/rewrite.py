"""A manifest's text and the values to set → the same text with only those values changed.

Owns refresh's guarantee that a rewrite loses nothing: the edits (``edits``, at the offsets
``spans`` finds) change only the characters of the values they set, and every result is checked
by loading it again with the manifest loader: the file must hold
exactly the data it held, but for the values set. A set of edits that fails the check is
retried one field at a time, and a field that still fails is refused, never written wrong. Pure
text in, text out: it must not read or write files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hpconfig.manifest import yaml_out
from hpconfig.manifest.composer import load_text
from hpconfig.manifest.document import Document
from hpconfig.manifest.edits import Editor, Refused, Region
from hpconfig.refresh import ControlUpdate, FieldUpdate, LeftAlone


@dataclass
class Rewritten:
    """The new text, the fields set in it, and those refused with the reason."""

    text: str
    applied: list[FieldUpdate] = field(default_factory=list)
    refused: list[LeftAlone] = field(default_factory=list)
    # The changed lines: (first, last old line, 0-based; the new lines), when one pass made
    # every edit (what the diff is made from without comparing the whole files).
    regions: list[Region] | None = None


def _expected(data: Any, updates: list[ControlUpdate]) -> Any:
    """The data the file must hold after the edits: the old data, with the values set. Only
    the controls that change are copied (shallowly): the rest is the old data itself, which
    compares equal to the new file's (a dict equals a dict of the same items)."""
    by_identifier = {update.identifier: update for update in updates}
    expected = dict(data)
    controls = list(expected.get("controls") or [])
    for index, control in enumerate(controls):
        if not isinstance(control, dict) or control.get("identifier") not in by_identifier:
            continue
        control = controls[index] = dict(control)
        for item in by_identifier[control["identifier"]].fields:
            if item.value is None:
                continue
            shown = item.value
            if "." in item.field:
                outer, inner = item.field.split(".")
                nested = control.get(outer)
                control[outer] = dict(nested) if isinstance(nested, dict) else {}
                control[outer][inner] = shown
            else:
                control[item.field] = shown
    if "controls" in expected:
        expected["controls"] = controls
    return expected


def _attempt(
    text: str, updates: list[ControlUpdate], file: str, original: Any
) -> tuple[str, list[Region]]:
    """The edited text; Refused when an edit is refused or the result fails the check."""
    editor = Editor(text)
    for update in updates:
        editor.control(update)
        control = editor.controls[update.identifier]
        fresh = [u for u in update.fields if u.field.startswith("freshness.")]
        for item in update.fields:
            if not item.field.startswith("freshness."):
                editor.field_edit(control, item)
        if fresh:
            editor.freshness(control, fresh)
    new_text = editor.result()
    document, problems = load_text(file, new_text.encode("utf-8", "surrogatepass"))
    if document is None or problems:
        raise Refused("the edited file would not load as the same manifest; edit it by hand")
    if document.data != _expected(original, updates):
        raise Refused("the edit would change more than this field; edit it by hand")
    return new_text, editor.regions()


def rewrite(
    text: str, updates: list[ControlUpdate], file: str, loaded: Document | None = None
) -> Rewritten:
    """``text`` with every field of ``updates`` set, and the fields that could not be.
    ``loaded``: the document the loader made of ``text`` already (else it is loaded here)."""
    problems: list[Any] = []
    if loaded is None:
        loaded, problems = load_text(file, text.encode("utf-8", "surrogatepass"))
    if loaded is None or problems:
        refused = [
            LeftAlone(u.identifier, f.field, "the file does not load cleanly", file)
            for u in updates
            for f in u.fields
        ]
        return Rewritten(text, refused=refused)
    original = loaded.data
    try:
        new_text, regions = _attempt(text, updates, file, original)
        applied = [f for u in updates for f in u.fields if f.value is not None]
        return Rewritten(new_text, applied, regions=regions)
    except (Refused, yaml_out.UnrepresentableError):
        pass
    # One field at a time: each kept edit is the base of the next.
    result = Rewritten(text)
    for update in updates:
        for item in update.fields:
            single = ControlUpdate(
                update.identifier,
                update.file,
                update.line,
                (item,),
                update.updated_by,
                update.updated_on,
            )
            try:
                result.text = _attempt(result.text, [single], file, original)[0]
            except (Refused, yaml_out.UnrepresentableError) as error:
                result.refused.append(LeftAlone(update.identifier, item.field, str(error), file))
                continue
            original = _expected(original, [single])
            if item.value is not None:
                result.applied.append(item)
    return result
