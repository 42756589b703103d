"""Plan → the JSON report (``schemas/plan.schema.json``), sorted and byte-stable. Pure.

Owns ``dump_document``, the layout of hpconfig's JSON reports (the plan, the check, both): a
mapping one key per line, a list one element per line, each element (a change, a result...) on
its own line in compact form. A reviewer greps a control's change or diffs two plans line by
line, and the document is written by json's C encoder: ``indent=`` is pure Python before Python
3.14 and took 0.52 s of the 0.67 s of rendering a plan of 10,000 drifted controls
(``benchmarks/plan_bench.py``).

Strings keep their values; the characters that could act in a log or on a terminal are written
as JSON escapes (``hpconfig.untrusted.inert_json``), which parse to the same values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hpconfig.plan import Plan
from hpconfig.untrusted import inert_json

_COMPACT = json.JSONEncoder(ensure_ascii=False).encode  # ", " and ": ", one line


def _lines(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict) and value:
        inner = indent + "  "
        out.append("{")
        for number, (key, item) in enumerate(value.items()):
            out.append(f"{',' if number else ''}\n{inner}{_COMPACT(str(key))}: ")
            _lines(item, inner, out)
        out.append(f"\n{indent}}}")
    elif isinstance(value, list) and value:
        inner = indent + "  "
        out.append("[\n")
        out.append(",\n".join(inner + _COMPACT(item) for item in value))
        out.append(f"\n{indent}]")
    else:
        out.append(_COMPACT(value))


def dump_document(document: dict[str, Any]) -> str:
    """A JSON report as hpconfig writes it (the module's docstring), ending in a newline."""
    out: list[str] = []
    _lines(document, "", out)
    return inert_json("".join(out)) + "\n"


# The last plan rendered and its text: plan renders its report for --out, for the digest it
# prints and for the Markdown's digest; a Plan is frozen, so one rendering serves them all.
_last: tuple[Plan, str] | None = None


def render_json(plan: Plan) -> str:
    global _last
    if _last is None or _last[0] is not plan:
        _last = (plan, dump_document(plan.to_dict()))
    return _last[1]


def plan_sha256(plan: Plan) -> str:
    """The digest a reviewer quotes: sha256 of the JSON report's UTF-8 bytes, as ``plan --out
    FILE`` writes them and ``apply --plan-sha256`` checks them."""
    return hashlib.sha256(render_json(plan).encode("utf-8")).hexdigest()
