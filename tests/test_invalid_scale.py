"""Invalid input scales like valid input (issue 15): a manifest that fails the fast gate is
worded control by control, only its failing controls go through jsonschema, and the messages
are exactly those of jsonschema over the whole document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpconfig.manifest import schema
from hpconfig.manifest.desired import desired_controls
from hpconfig.manifest.loader import load_file, load_text
from tests.conftest import CASES

MANIFESTS = sorted(  # those the loader gives a document of: the rest never reach a schema
    p
    for folder in ("invalid", "valid")
    for p in (CASES / folder).rglob("*")
    if p.suffix in (".yaml", ".yml") and load_file(p)[0] is not None
)


@pytest.mark.parametrize("case", MANIFESTS, ids=lambda p: p.name)
def test_item_by_item_gives_the_problems_of_the_whole_document(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document, _ = load_file(case, case.name)
    assert document is not None
    split = schema.check(document, "manifest")
    monkeypatch.setattr(schema, "_ITEMS", {})  # jsonschema over the whole document, as before
    whole = schema.check(document, "manifest")
    assert (sorted(split[0]), split[1]) == (sorted(whole[0]), whole[1])


def _manifest(count: int, bad: dict[int, str]) -> bytes:
    lines = ["version: 1", "defaults: {status: active}", "controls:"]
    for index in range(count):
        lines.append(f"  - {{identifier: C-{index}, name: N{index}, owner: a{index}@example.com}}")
        if index in bad:
            lines[-1] = f"  - {{identifier: C-{index}, {bad[index]}}}"
    return ("\n".join(lines) + "\n").encode()


def test_only_the_failing_controls_go_through_jsonschema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = {7: "implementation: finished", 300: "owner: 'bob@'", 301: "colour: red"}
    document, problems = load_text("m.yaml", _manifest(400, bad))
    assert document is not None and problems == []
    worded: list[Any] = []
    real = schema.validator

    def recording(name: str, part: Any = None) -> Any:
        inner = real(name, part)

        class Recorder:
            def iter_errors(self, instance: Any) -> Any:
                worded.append(instance)
                return inner.iter_errors(instance)

        return Recorder()

    monkeypatch.setattr(schema, "validator", recording)
    found, invalid = schema.check(document, "manifest")
    assert [p.path for p in sorted(found)] == [
        "$.controls[7].implementation",
        "$.controls[300].owner",
        "$.controls[301].colour",
    ]
    # the values that fail, and the one control whose own keywords fail (an unknown key)
    assert [item["identifier"] for item in worded if isinstance(item, dict)] == ["C-301"]
    assert [item for item in worded if not isinstance(item, dict)] == ["finished", "bob@"]
    assert ("controls", 301, "colour") in invalid
    desired, model_problems = desired_controls([(document, invalid)])
    assert len(desired) == 397 and model_problems == []


def test_a_bad_top_level_is_worded_without_the_controls(monkeypatch: pytest.MonkeyPatch) -> None:
    document, _ = load_text("m.yaml", _manifest(50, {}).replace(b"version: 1", b"versoin: 1"))
    assert document is not None
    found, _ = schema.check(document, "manifest")
    assert [(p.path, p.message) for p in found] == [
        ("$.versoin", "unknown key 'versoin'; did you mean 'version'?")
    ]


def test_the_sort_key_orders_problems_as_their_comparisons_do() -> None:
    """``problem_order`` (a key: cheap) sorts exactly as ``Problem``'s dataclass order."""
    import random

    from hpconfig.errors import Location, Problem, problem_order

    rng = random.Random(15)
    problems = [
        Problem(
            Location(
                rng.choice(["a.yaml", "b.yaml", "a.yml"]), rng.randint(0, 3), rng.randint(0, 3)
            ),
            rng.choice(["", "$.controls[1]", "$.controls[10]"]),
            rng.choice(["x", "y", "missing required key 'identifier'"]),
        )
        for _ in range(400)
    ]
    assert sorted(problems, key=problem_order) == sorted(problems)
    assert [id(p) for p in sorted(problems, key=problem_order)] == [
        id(p) for p in sorted(problems)
    ]  # stable alike: equal problems keep their order
