"""Fetch the organization once for a check, and turn it into the records rules look at.

Owns the requests of ``hpconfig check`` (and ``plan --check``): the active controls, the
archived ones, and every user with the deactivated ones, whatever the number of controls or
rules: three API requests and a token. Also ``check_records``: each live control as rules see it
(``assertions.rules.RECORD_FIELDS``), built from the live ``Control`` (normalised as plans
compare) and the read-only state the API gives beside it (``health``, the ``freshness`` state,
``freshAsOfDate``) and the owner's user type. Every value is untrusted: anything of the wrong
type is left empty, never trusted. It must not read YAML or evaluate rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.control import Control, normalise_email
from hpconfig.perf import paused_gc
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.live import LiveSet, parse_timestamp, read_live

log = logging.getLogger("hpconfig.check")

MAX_TEXT = 1000  # characters of a read-only text field a rule can see


@dataclass(frozen=True)
class Organization:
    """What one fetch gave: the live set (as plans read it), the raw answers by id, the users."""

    live: LiveSet
    answers: dict[str, dict[str, Any]]  # live id → the API's control
    users: list[dict[str, Any]]


def fetch_organization(client: HyperproofClient) -> Organization:
    with paused_gc():
        answers = [*client.list_controls(), *client.list_controls(status=hp.STATUS_ARCHIVED)]
        users = [
            user for user in client.list_users(include_deactivated=True) if isinstance(user, dict)
        ]
        by_id = {
            answer["id"]: answer
            for answer in answers
            if isinstance(answer, dict) and isinstance(answer.get("id"), str)
        }
        return Organization(read_live(answers), by_id, users)


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


class _Users:
    """Users by organization-user id and by email, to find an owner's type."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.by_id: dict[str, str] = {}
        self.by_email: dict[str, str] = {}
        for user in users:
            kind = _text(user.get("type"))
            if isinstance(user.get("id"), str):
                self.by_id[user["id"]] = kind
            if isinstance(user.get("email"), str) and user["email"]:
                self.by_email.setdefault(normalise_email(user["email"]), kind)

    def type_of(self, owner: Any) -> str:
        """The owner's user type, or "" when there is no owner or no such user."""
        if not isinstance(owner, dict):
            return ""
        if isinstance(owner.get("id"), str) and owner["id"] in self.by_id:
            return self.by_id[owner["id"]]
        email = owner.get("email")
        if isinstance(email, str) and email:
            return self.by_email.get(normalise_email(email), "")
        return ""


def record_of(control: Control, api: dict[str, Any], users: _Users) -> dict[str, Any]:
    values = control.values
    duration = values.get("freshness.duration")
    as_of = parse_timestamp(
        api.get("freshAsOfDate") if isinstance(api.get("freshAsOfDate"), str) else None
    )
    return {
        "identifier": control.identifier,
        "id": control.live_id or "",
        "name": _text(values.get("name")),
        "description": _text(values.get("description")),
        "notes": _text(values.get("notes")),
        "domain": _text(values.get("domain")),
        "owner": _text(values.get("owner")),
        "ownerType": users.type_of(api.get("owner")),
        "status": _text(values.get("status")),
        "workStatus": _text(values.get("workStatus")),
        "implementation": _text(values.get("implementation")),
        "testingStatus": _text(values.get("testingStatus")),
        "health": _text(api.get("health")),
        "freshness": {
            "policy": _text(values.get("freshness.policy")),
            "duration": duration if isinstance(duration, int) else None,
            "state": _text(api.get("freshness")),
            "asOf": as_of.strftime("%Y-%m-%dT%H:%M:%SZ") if as_of else "",
        },
        "managed": False,
        "source": "",
    }


def check_records(organization: Organization) -> list[dict[str, Any]]:
    """Every live control that could be read, as a record, by identifier."""
    users = _Users(organization.users)
    records = []
    for identifier in sorted(organization.live.controls):
        control = organization.live.controls[identifier]
        api = organization.answers.get(control.live_id or "", {})
        records.append(record_of(control, api, users))
    return records
