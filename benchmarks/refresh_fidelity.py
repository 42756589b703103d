"""Which technique keeps a hand-written manifest as it was: targeted edits or round-trip YAML.

On every case of ``tests/cases/refresh/`` (comments, every scalar style, flow and block
collections, anchors and aliases, CRLF with a BOM, tabs, unusual indentation), the same values
are written two ways:

- **targeted**: hpconfig's own edits at the parser's offsets (``manifest.rewrite``);
- **ruamel**: ruamel.yaml's round trip (``typ="rt"``) given every chance: the indentation
  guessed from the file (``load_yaml_guess_indent``), quotes preserved, the file's own line
  break, no line folding (``width``), multi-line text as a literal block; the value set on the
  control (added to it when inherited), then dumped.

For each it prints: whether a load-and-dump without any change gives the file back byte for
byte; how many lines of the file changed that hold no changed value ("collateral"), against
the lines that had to change; whether the BOM, the CRLF breaks and every comment survived; and
whether the result loads (with hpconfig's loader) as exactly the intended data, the other
controls included. Run: ``python benchmarks/refresh_fidelity.py``.
"""

from __future__ import annotations

import difflib
import io
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402
from ruamel.yaml.comments import CommentedMap  # noqa: E402
from ruamel.yaml.scalarstring import LiteralScalarString  # noqa: E402
from ruamel.yaml.util import load_yaml_guess_indent  # noqa: E402

from hpconfig.diff import diff  # noqa: E402
from hpconfig.manifest.composer import load_text  # noqa: E402
from hpconfig.manifest.project import load_project  # noqa: E402
from hpconfig.manifest.rewrite import _expected, rewrite  # noqa: E402
from hpconfig.manifest.spans import Spans  # noqa: E402
from hpconfig.manifest.writer import stated_value  # noqa: E402
from hpconfig.refresh import ControlUpdate, refresh_work  # noqa: E402
from hpconfig.remote.live import read_live  # noqa: E402
from tests.conftest import TODAY  # noqa: E402
from tests.refresh_cases import CASE_NAMES, REFRESH_CASES, case_seed  # noqa: E402

_BREAK = re.compile("\r\n|[\r\n]")


def updates_of(name: str) -> dict[str, list[ControlUpdate]]:
    """The values refresh writes in case ``name``, by file (no network: the seed's controls)."""
    directory = REFRESH_CASES / name
    config = directory / "hpconfig.yaml"
    project = load_project([directory], config if config.exists() else None, TODAY)
    live = read_live(case_seed(name)["controls"]).controls
    plan = diff(project.desired, live, project.config.ignore)
    work = refresh_work(plan, live, stated_value)
    return {Path(file).name: updates for file, updates in work.updates.items()}


def _plain(data: Any) -> Any:
    """Positioned documents → plain dicts and lists, to compare."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


def ruamel_yaml(text: str) -> tuple[YAML, Any]:
    _, indent, offset = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(
        mapping=indent or 2, sequence=indent or 2, offset=offset or 0
    )  # the documented recipe
    newline = _BREAK.search(text)
    yaml.line_break = newline.group(0) if newline else "\n"
    return yaml, yaml.load(text)


def ruamel_dump(yaml: YAML, data: Any) -> str:
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def ruamel_rewrite(text: str, updates: list[ControlUpdate]) -> str:
    yaml, data = ruamel_yaml(text)
    by_id = {control["identifier"]: control for control in data["controls"]}
    for update in updates:
        control = by_id[update.identifier]
        for item in update.fields:
            if item.value is None:
                continue
            value: Any
            if isinstance(item.value, str) and "\n" in item.value:
                value = LiteralScalarString(item.value)
            else:
                value = item.value
            if "." in item.field:
                outer, inner = item.field.split(".")
                if outer not in control:
                    control[outer] = CommentedMap()
                control[outer][inner] = value
            else:
                control[item.field] = value
    return ruamel_dump(yaml, data)


def _lines(text: str) -> list[str]:
    return text.removeprefix("\ufeff").splitlines()


def changed_lines(old: str, new: str) -> set[int]:
    """0-based numbers of the old lines that are not in the new text unchanged."""
    matcher = difflib.SequenceMatcher(None, _lines(old), _lines(new), autojunk=False)
    kept = {block.a + i for block in matcher.get_matching_blocks() for i in range(block.size)}
    return set(range(len(_lines(old)))) - kept


def value_lines(text: str, updates: list[ControlUpdate]) -> set[int]:
    """The old lines that hold a value refresh replaces (the lines that must change)."""
    spans = Spans(text)
    assert spans.root is not None
    controls = spans.root.get("controls")
    assert controls is not None
    found: set[int] = set()
    for update in updates:
        control = next(c for c in controls.items if c.get("identifier").value == update.identifier)  # type: ignore[union-attr]
        for item in update.fields:
            node, holder = control, control
            for part in item.field.split("."):
                holder = node if node is not None else holder
                node = node.get(part) if node is not None and node.kind == "map" else None  # type: ignore[assignment]
            if node is None:
                if holder.flow:  # added inside {...}: the line of its closing brace changes
                    found.add(spans.line_index(holder.end - 1))
                continue
            start, end = spans.value_range(node)
            first, last = spans.line_index(start), spans.line_index(max(start, end - 1))
            found.update(range(first, last + 1))
    return found


def comments(text: str) -> list[str]:
    return re.findall(r"#[^\r\n]*", text)


def report(name: str, technique: str, old: str, new: str, updates: list[ControlUpdate]) -> str:
    must = value_lines(old, updates)
    changed = changed_lines(old, new)
    collateral = len(changed - must)
    bom = "kept" if (old.startswith("\ufeff") == new.startswith("\ufeff")) else "LOST"
    crlf = "kept" if old.count("\r\n") <= new.count("\r\n") else "LOST"
    lost = [c for c in comments(old) if c not in new]
    # a comment of the old file that now stands more often (ruamel copies some onto new lines)
    copied = sum(max(0, new.count(c) - old.count(c)) for c in set(comments(old)))
    document, problems = load_text(name, new.encode("utf-8"))
    loaded_old, _ = load_text(name, old.encode("utf-8"))
    assert loaded_old is not None
    before = _plain(loaded_old.data)
    want = _plain(_expected(before, updates))
    got = _plain(document.data) if document is not None and not problems else None
    return (
        f"  {technique:9} {len(changed):3} lines changed, {len(must):2} had to, "
        f"{collateral:3} collateral; BOM {bom}, CRLF {crlf}, "
        f"comments lost {len(lost)}, copied {copied}; "
        f"{_data(before, want, got, updates)}"
    )


def _data(before: Any, want: Any, got: Any, updates: list[ControlUpdate]) -> str:
    """How many fields were set, and how many values nobody asked to change did change."""
    if got is None:
        return "the result does not load"
    asked = {(u.identifier, f.field) for u in updates for f in u.fields if f.value is not None}
    done = 0
    collateral = 0
    for old, new, wanted in zip(before["controls"], got["controls"], want["controls"], strict=True):
        for key in sorted(set(old) | set(new) | set(wanted)):
            pairs = (
                [
                    (f"{key}.{k}", k)
                    for k in sorted(set(old.get(key) or {}) | set(new.get(key) or {}))
                ]
                if key == "freshness"
                else [(key, None)]
            )
            for name, inner in pairs:

                def pick(data: Any, key: str = key, inner: Any = inner) -> Any:
                    value = data.get(key)
                    return value.get(inner) if inner and isinstance(value, dict) else value

                if (old["identifier"], name) in asked:
                    done += pick(new) == pick(wanted)
                elif pick(new) != pick(old):
                    collateral += 1
    return f"{done}/{len(asked)} fields set, {collateral} values nobody asked to change changed"


def main() -> None:
    totals = {"targeted": [0, 0, 0], "ruamel": [0, 0, 0]}  # collateral, wrong data, noop diffs
    for name in CASE_NAMES:
        for file, updates in sorted(updates_of(name).items()):
            old = (REFRESH_CASES / name / file).read_bytes().decode("utf-8")
            targeted = rewrite(old, updates, file).text
            try:
                yaml, data = ruamel_yaml(old)
                noop = ruamel_dump(yaml, data)
                round_trip = ruamel_rewrite(old, updates)
            except Exception as error:  # noqa: BLE001 - a figure, not a failure
                noop = round_trip = old
                first = str(error).strip().splitlines()[0:2]
                print(f"{name}/{file}: ruamel cannot read it: {type(error).__name__}: {first}")
                totals["ruamel"][1] += 1
                continue
            lines = len(changed_lines(old, noop))
            same = "identical" if noop == old else f"{lines} lines differ" if lines else "BOM lost"
            print(f"{name}/{file}: a round trip with no change: targeted identical, ruamel {same}")
            for technique, new in (("targeted", targeted), ("ruamel", round_trip)):
                line = report(file, technique, old, new, updates)
                print(line)
                total = totals[technique]
                total[0] += int(line.split(" collateral")[0].rsplit(" ", 1)[1])
                total[1] += " 0 values nobody" not in line
            totals["ruamel"][2] += noop != old
    for technique, (collateral, wrong, noop) in totals.items():
        print(
            f"{technique}: {collateral} collateral lines in all, {wrong} files it could not "
            "write without changing values nobody asked to change (or could not read), "
            f"{noop} files not given back by a no-change round trip"
        )


if __name__ == "__main__":
    main()
