"""Seeds: organizations to start the sandbox with, read from JSON or generated.

A seed is JSON in the API's own shapes: ``organization``, ``users`` (as ``GET /v1/users``
answers), ``clients`` (``clientId``, ``clientSecret``, ``userId``: the user the API records as
the actor of the client's changes) and ``controls`` (as ``GET /v1/controls`` answers, owners as
user objects). ``load_seed`` checks every type the sandbox relies on, so that a bad file is an
``InputError`` naming the file and the JSON path, never a crash. It must not know HTTP.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from hpconfig.errors import InputError, Location, Problem

EXAMPLE_SEED = Path("examples") / "sandbox" / "org.json"
_NAMESPACE = uuid.UUID("6f1c1f3e-8c1a-4d5e-9a57-5f1f2f8a9b10")
_REQUIRED = {"users": list, "clients": list, "controls": list}


def stable_id(*parts: object) -> str:
    """A UUID that is the same in every run for the same parts (seeds diff cleanly in git)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def load_seed(path: Path) -> dict[str, Any]:
    """Read a seed file; a broken one is an InputError naming the file and what is wrong."""
    try:
        seed = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(
            [Problem(Location(str(path)), "", f"cannot read the seed: {error.strerror}")]
        ) from None
    except UnicodeDecodeError as error:
        raise InputError([Problem(Location(str(path)), "", f"not UTF-8: {error}")]) from None
    except RecursionError:
        raise InputError([Problem(Location(str(path)), "", "JSON nested too deeply")]) from None
    except ValueError as error:
        line = getattr(error, "lineno", 0)
        column = getattr(error, "colno", 0)
        raise InputError(
            [Problem(Location(str(path), line, column), "", f"not valid JSON: {error}")]
        ) from None
    problems = [Problem(Location(str(path)), where, what) for where, what in seed_problems(seed)]
    if problems:
        raise InputError(problems)
    return seed  # type: ignore[no-any-return]


# list key → (what each item needs: keys whose values must be strings, and how to say so)
_ITEMS = {
    "users": (("id",), "a user object with a string id"),
    "clients": (
        ("clientId", "clientSecret", "userId"),
        "an object with string clientId, clientSecret and userId",
    ),
    "controls": (("id", "controlIdentifier"), "a control with a string id and controlIdentifier"),
}


def seed_problems(seed: Any) -> list[tuple[str, str]]:
    """(JSON path, message) for each way ``seed`` is not something the sandbox can serve."""
    if not isinstance(seed, dict):
        return [("$", "a seed is a JSON object")]
    problems = []
    organization = seed.get("organization", {})
    if not isinstance(organization, dict) or not all(
        isinstance(organization.get(key, ""), str) for key in ("id", "name")
    ):
        problems.append(("$.organization", "must be an object with a string id and name"))
    for key, (strings, wanted) in _ITEMS.items():
        items = seed.get(key, [])
        if not isinstance(items, list):
            problems.append((f"$.{key}", "must be a list"))
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in strings):
                problems.append((f"$.{key}[{index}]", f"must be {wanted}"))
            elif key == "controls" and not all(
                isinstance(item.get(k), (str, type(None))) for k in ("domainId", "domainName")
            ):
                problems.append((f"$.{key}[{index}]", "domainId and domainName must be strings"))
    controls = seed.get("controls", [])
    ids = (
        [c["id"] for c in controls if isinstance(c, dict) and isinstance(c.get("id"), str)]
        if isinstance(controls, list)
        else []
    )
    if len(set(ids)) != len(ids):
        problems.append(("$.controls", "two controls have the same id"))
    return problems


def user(
    index: int, email: str, given: str, surname: str, kind: str = "activeUser"
) -> dict[str, Any]:
    return {
        "id": stable_id("user", email or given),
        "userId": stable_id("identity", email or given),
        "email": email,
        "givenName": given,
        "surname": surname,
        "profilePhotoName": None,
        "roleIds": [stable_id("role", "member")],
        "state": "active" if not kind.startswith("deactivated") else "deactivated",
        "status": "active" if not kind.startswith("deactivated") else "deactivated",
        "type": kind,
        "language": "en",
        "locale": "en-US",
        "timeZone": "UTC",
    }


def generate_org(controls: int, users: int, seed: int = 7) -> dict[str, Any]:
    """A large, deterministic organization for benchmarks and load tests.

    Control ``i`` has identifier ``GEN-i`` (five digits); ``generated_manifest_fields`` gives
    the manifest fields that plan clean against it.
    """
    rng = random.Random(seed)
    people = [user(i, f"user{i}@example.com", f"User{i}", "Generated") for i in range(users)]
    robot = user(users, "", "hpconfig-bench", "Service account", "serviceAccount")
    org_id = stable_id("org", "generated", controls, users)
    stamp = "2026-01-05T09:30:00.1234567+00:00"
    generated = []
    for index in range(controls):
        fields = generated_manifest_fields(index, users, rng)
        owner = people[fields["owner_index"]]
        generated.append(
            {
                "id": stable_id("control", index),
                "orgId": org_id,
                "controlIdentifier": fields["identifier"],
                "name": fields["name"],
                "description": fields["description"],
                "notes": None,
                "domainId": stable_id("domain", fields["domain"]),
                "domainName": fields["domain"],
                "workStatus": "operating",
                "owner": owner,
                "freshnessPolicy": "manual",
                "freshForDuration": fields["iso_duration"],
                "freshness": "fresh",
                "implementation": fields["implementation"],
                "testingStatus": "notTested",
                "controlType": "simple",
                "status": "active",
                "permissions": ["view", "edit"],
                "createdBy": owner,
                "createdOn": stamp,
                "updatedBy": owner,
                "updatedOn": stamp,
            }
        )
    return {
        "organization": {"id": org_id, "name": f"Generated ({controls} controls)"},
        "users": [*people, robot],
        "clients": [
            {
                "clientId": "bench-client",
                "clientSecret": "bench-secret-not-real",
                "userId": robot["id"],
            }
        ],
        "controls": generated,
    }


DOMAINS = [
    "Access Control",
    "System Operations",
    "Change Management",
    "Risk Assessment",
    "Monitoring Activities",
    "Availability",
    "Confidentiality",
    "Control Environment",
]
_IMPLEMENTATION = ["unknown", "notStarted", "inProgress", "completed"]
DURATION_FORMS = [("30d", "PT720H"), ("P90D", "P90D"), ("PT720H", "PT720H")]


def generated_manifest_fields(index: int, users: int, rng: random.Random) -> dict[str, Any]:
    """The fields of generated control ``index``, shared by the org and its manifests."""
    written, iso = DURATION_FORMS[index % len(DURATION_FORMS)]
    return {
        "identifier": f"GEN-{index:05d}",
        "name": f"Generated control number {index}",
        "description": (
            f"Control {index} makes sure that the thing it controls is controlled.\n"
            "It is reviewed by its owner every quarter."
        ),
        "domain": DOMAINS[index % len(DOMAINS)],
        "owner_index": rng.randrange(users),
        "implementation": _IMPLEMENTATION[index % len(_IMPLEMENTATION)],
        "duration": written,
        "iso_duration": iso,
    }
