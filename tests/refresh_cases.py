"""The refresh cases: hand-written manifests and the organization that drifted from them.

Each directory of ``tests/cases/refresh/`` holds manifests (and maybe an ``hpconfig.yaml``) and
``drift.json``: what Hyperproof changed. The organization is the manifests' own values in API
form (so that, before the drift, plan is empty), then the drift: per identifier, API fields to
overwrite (an owner as a user object: ``{"email": ...}``), ``absent`` controls left out, and who
changed them and when (``updatedBy``, an email; ``updatedOn``). The expected diff of each case
is ``tests/golden/refresh/<case>.diff``, and its summary ``<case>.txt``.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from hpconfig.control import api_values
from hpconfig.manifest.project import load_project
from hpconfig.sandbox.seeds import stable_id
from tests.conftest import CASES, EXAMPLES, TODAY

REFRESH_CASES = CASES / "refresh"
CASE_NAMES = sorted(path.name for path in REFRESH_CASES.iterdir() if path.is_dir())


def copy_case(name: str, to: Path) -> Path:
    """The case's manifests (and config) in a fresh directory; ``drift.json`` stays behind."""
    target = to / name
    shutil.copytree(REFRESH_CASES / name, target, ignore=shutil.ignore_patterns("drift.json"))
    return target


def _user(seed: dict[str, Any], template: dict[str, Any], fields: dict[str, Any]) -> Any:
    email = fields.get("email")
    for known in seed["users"]:
        if email and known.get("email", "").casefold() == email.casefold():
            return {**copy.deepcopy(known), "email": email}
    made = copy.deepcopy(template)
    made.update(id=stable_id("user", json.dumps(fields, sort_keys=True)), **fields)
    if not any(known["id"] == made["id"] for known in seed["users"]):
        seed["users"].append(made)  # the sandbox answers owners from its users
    return made


def case_seed(name: str) -> dict[str, Any]:
    """The sandbox organization of case ``name``: its manifests' values, then its drift."""
    seed = json.loads((EXAMPLES / "sandbox" / "org.json").read_text(encoding="utf-8"))
    drift = json.loads((REFRESH_CASES / name / "drift.json").read_text(encoding="utf-8"))
    directory = REFRESH_CASES / name
    config = directory / "hpconfig.yaml"
    project = load_project([directory], config if config.exists() else None, TODAY)
    assert project.valid, project.problems
    template = seed["controls"][0]
    user_template = template["owner"]
    changer = _user(seed, user_template, {"email": drift["updatedBy"]})
    controls = []
    for identifier, desired in project.desired.items():
        if identifier in drift.get("absent", []):
            continue
        control = copy.deepcopy(template)
        control.update(id=stable_id("control", name, identifier), controlIdentifier=identifier)
        for field, value in api_values(desired.values).items():
            control[field] = value
        if "owner" in desired.values:
            control["owner"] = _user(seed, user_template, {"email": desired.written["owner"]})
        for field, value in drift["controls"].get(identifier, {}).items():
            control[field] = _user(seed, user_template, value) if field == "owner" else value
        if identifier in drift["controls"]:
            control.update(updatedBy=changer, updatedOn=drift["updatedOn"])
        controls.append(control)
    seed["controls"] = controls
    return seed
