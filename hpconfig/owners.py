"""Owners: manifest emails → the organization-user ids the API writes, and who cannot own.

Owns the reading of ``GET /v1/users`` (untrusted: any JSON; a user without a usable id or email
is never matched), the case-insensitive match of an email, and the owner problems of a plan: an
email that no user has, a deactivated user, a service account (Hyperproof refuses those as
owners) or an email that two users share. ``plan`` and ``apply`` both mark those changes, before
any write, from one users list per run. Pure: the caller fetches the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.control import normalise_email
from hpconfig.plan import Plan

OWNER = "owner "  # how every owner problem starts, so a re-check replaces the earlier ones


@dataclass(frozen=True)
class Directory:
    """The organization's users by normalised email (every user of that email)."""

    by_email: dict[str, tuple[dict[str, Any], ...]]

    def problem(self, email: str) -> str | None:
        """Why ``email`` cannot own a control, or None."""
        users = self.by_email.get(normalise_email(email), ())
        if not users:
            return f"{OWNER}{email} is no user of the organization"
        if len(users) > 1:
            return f"{OWNER}{email} is the email of {len(users)} users of the organization"
        kind = users[0].get("type")
        if kind in hp.SERVICE_ACCOUNT_TYPES:
            return f"{OWNER}{email} is a service account, which cannot own a control"
        if kind in hp.DEACTIVATED_TYPES or users[0].get("status") == "deactivated":
            return f"{OWNER}{email} is a deactivated user, who cannot own a control"
        return None

    def user_id(self, email: str) -> str | None:
        """The id a write names for ``email`` (``hyperproof.OWNER_WRITE_ID_FIELD``), or None."""
        if self.problem(email) is not None:
            return None
        value = self.by_email[normalise_email(email)][0].get(hp.OWNER_WRITE_ID_FIELD)
        return value if isinstance(value, str) and value else None


def directory(users: Iterable[Any]) -> Directory:
    found: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        if not isinstance(user, dict):
            continue
        email, user_id = user.get("email"), user.get(hp.OWNER_WRITE_ID_FIELD)
        if isinstance(email, str) and email.strip() and isinstance(user_id, str) and user_id:
            found.setdefault(normalise_email(email), []).append(user)
    return Directory({email: tuple(users) for email, users in found.items()})


def owners_to_check(plan: Plan) -> bool:
    """Whether any change writes an owner (only then is the users list worth a request)."""
    return any(isinstance(change.target.get("owner"), str) for change in plan.changes)


def with_owner_problems(plan: Plan, users: Directory) -> Plan:
    """``plan`` with each change whose owner cannot be written marked (its other problems kept,
    earlier owner problems replaced, so a re-check of a saved plan says what holds now)."""
    changes = []
    for change in plan.changes:
        owner = change.target.get("owner")
        kept = tuple(p for p in change.problems if not p.startswith(OWNER))
        problem = users.problem(owner) if isinstance(owner, str) else None
        found = (*kept, problem) if problem else kept
        changes.append(replace(change, problems=found) if found != change.problems else change)
    return replace(plan, changes=tuple(changes))
