"""Plan → the JSON report (``schemas/plan.schema.json``), sorted and byte-stable. Pure.

Strings keep their values; the characters that could act in a log or on a terminal are written
as JSON escapes (``hpconfig.untrusted.inert_json``), which parse to the same values.
"""

from __future__ import annotations

import hashlib
import json

from hpconfig.plan import Plan
from hpconfig.untrusted import inert_json


def render_json(plan: Plan) -> str:
    return inert_json(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def plan_sha256(plan: Plan) -> str:
    """The digest a reviewer quotes: sha256 of the JSON report's UTF-8 bytes, as ``plan --out
    FILE`` writes them and ``apply --plan-sha256`` checks them."""
    return hashlib.sha256(render_json(plan).encode("utf-8")).hexdigest()
