from __future__ import annotations

import tracemalloc
from pathlib import Path

from hpconfig.manifest.document import YList, YMap, json_path
from hpconfig.manifest.loader import discover, load_text


def test_positions_of_keys_values_and_items() -> None:
    text = b"controls:\n  - identifier: A\n    owner: a@example.com\n  - identifier: B\n"
    document, problems = load_text("f.yaml", text)
    assert problems == [] and document is not None
    assert isinstance(document.data, YMap) and isinstance(document.data["controls"], YList)
    assert str(document.locate(["controls", 0, "owner"])) == "f.yaml:3:12"
    assert str(document.locate(["controls", 0, "owner"], key=True)) == "f.yaml:3:5"
    assert str(document.locate(["controls", 1])) == "f.yaml:4:5"
    # a path that does not exist points at the nearest node that does
    assert str(document.locate(["controls", 1, "missing"])) == "f.yaml:4:5"
    assert str(document.locate(["controls", 9])) == "f.yaml:2:3"


def test_values_are_plain_json_types_and_timestamps_stay_strings() -> None:
    document, _ = load_text("f.yaml", b"a: 2024-01-01\nb: 1\nc: 1.5\nd: true\ne: ~\nf: '1'\n")
    assert document is not None
    assert dict(document.data) == {
        "a": "2024-01-01",
        "b": 1,
        "c": 1.5,
        "d": True,
        "e": None,
        "f": "1",
    }


def test_json_path_quotes_keys_that_are_not_names() -> None:
    assert json_path(["controls", 3, "owner"]) == "$.controls[3].owner"
    assert json_path(["weird key"]) == "$['weird key']"
    assert json_path([]) == "$"


def test_billion_laughs_fails_fast_in_bounded_memory() -> None:
    lines = ["a0: &a0 lol"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    text = ("\n".join(lines) + "\n").encode()
    tracemalloc.start()
    document, problems = load_text("lol.yaml", text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert document is None
    assert "billion laughs" in problems[0].message
    assert peak < 100 * 1024 * 1024


def test_aliases_below_the_limit_are_expanded() -> None:
    document, problems = load_text("f.yaml", b"x: &x [1, 2]\ny: *x\n")
    assert problems == [] and document is not None
    assert document.data["y"] == [1, 2]


def test_discover_walks_directories_sorted_skipping_hidden_and_config(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b/z.yml", "a.yaml", ".hidden/x.yaml", "hpconfig.yaml", "notes.txt"):
        (tmp_path / name).write_text("controls: []\n")
    files, problems = discover([tmp_path, tmp_path / "a.yaml", tmp_path / "missing"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.yaml", "b/z.yml"]
    assert [p.message for p in problems] == ["no such file or directory"]


def test_large_flat_file_loads(tmp_path: Path) -> None:
    body = "controls:\n" + "".join(f"  - identifier: C{i}\n    name: n{i}\n" for i in range(2000))
    document, problems = load_text("big.yaml", body.encode())
    assert problems == [] and document is not None
    assert len(document.data["controls"]) == 2000
