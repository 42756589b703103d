"""Kinds of change: one order, and an entry in every renderer's table for every kind, so that a
new kind fails here until each report says what it means."""

from __future__ import annotations

from types import ModuleType

import pytest

from hpconfig.plan import Change, ChangeKind, Plan
from hpconfig.render import github, markdown, sarif, text

RENDERERS_BY_KIND: list[ModuleType] = [text, markdown, github, sarif]


@pytest.mark.parametrize("renderer", RENDERERS_BY_KIND, ids=lambda module: module.__name__)
def test_every_renderer_has_an_entry_for_every_kind(renderer: ModuleType) -> None:
    assert set(renderer.BY_KIND) == set(ChangeKind)


def test_kinds_have_one_order_and_render_as_their_names() -> None:
    assert [kind.order for kind in ChangeKind] == list(range(len(ChangeKind)))
    assert [f"{kind}" for kind in ChangeKind] == ["create", "update", "restore", "archive"]
    assert Change("C-1", "create", None, ()).action is ChangeKind.CREATE  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Change("C-1", "delete", None, ())  # type: ignore[arg-type]


def test_changes_sort_by_kind_then_identifier() -> None:
    changes = [
        Change("B", ChangeKind.UPDATE, None, ()),
        Change("C", ChangeKind.CREATE, None, ()),
        Change("A", ChangeKind.UPDATE, None, ()),
    ]
    ordered = sorted(changes, key=Change.sort_key)
    assert [(c.action, c.identifier) for c in ordered] == [
        (ChangeKind.CREATE, "C"),
        (ChangeKind.UPDATE, "A"),
        (ChangeKind.UPDATE, "B"),
    ]
    assert Plan(tuple(ordered), (), 0).summary() == {
        "create": 1,
        "update": 2,
        "restore": 0,
        "archive": 0,
        "unmanaged": 0,
        "in_sync": 0,
    }
