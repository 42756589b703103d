"""Plan → the JSON report (``schemas/plan.schema.json``), sorted and byte-stable. Pure."""

from __future__ import annotations

import json

from hpconfig.plan import Plan


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
