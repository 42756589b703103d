"""One change → its writes, and the truth about an ambiguous one.

- update, archive, restore: ``PATCH`` with only the fields that differ, in API form (an owner
  as the user's id). An ambiguous failure (no answer, a 5xx) is followed by a ``GET`` of the
  control: at the target → ``reconciled``; else one more ``PATCH``, at most.
- create: ``POST``. An ambiguous failure or a 409 is never answered by a blind second POST:
  the identifier is looked up; a control at the target is adopted (``reconciled``); one with
  other values is a failure (someone else created it: plan again); only when none exists
  after an ambiguous failure is the POST sent once more.

429 and the quota 403 are retried below, in ``remote.retrying`` (the API refused them). Each
call is thread-safe: the client's session, token and rate gate are shared by the writers.
"""

from __future__ import annotations

from typing import Any

from hpconfig.apply.outcome import Outcome, Status
from hpconfig.apply.stale import at_target
from hpconfig.errors import ApiError
from hpconfig.owners import Directory
from hpconfig.plan import Change
from hpconfig.remote import writes
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.live import live_control

UNKNOWN = "whether it landed is unknown: run `hpconfig plan` to see"


class Writer:
    def __init__(self, client: HyperproofClient, users: Directory | None) -> None:
        self.client = client
        self.users = users

    def body(self, change: Change) -> dict[str, Any] | None:
        """The change's target in API form, the owner's email replaced by the user's id; None
        when the owner has none (the gate refuses those first: an email is never sent as an
        id)."""
        body = dict(change.target)
        owner = body.get("owner")
        if isinstance(owner, str):
            found = self.users.user_id(owner) if self.users is not None else None
            if found is None:
                return None
            body["owner"] = found
        return body

    def write(self, change: Change) -> Outcome:
        body = self.body(change)
        if body is None:
            return Outcome(change, Status.FAILED, message="the owner has no user id; not sent")
        if change.action.existing:
            return self._patch(change, body)
        return self._create(change, {"controlIdentifier": change.identifier, **body})

    def _patch(self, change: Change, body: dict[str, Any]) -> Outcome:
        control_id = change.live_id or ""
        try:
            writes.patch_control(self.client, control_id, body)
            return Outcome(change, Status.APPLIED, control_id)
        except ApiError as error:
            if not writes.ambiguous(error):
                return Outcome(change, Status.FAILED, control_id, str(error))
            first = error
        try:
            now = live_control(writes.get_control(self.client, control_id))
        except ApiError as error:
            return Outcome(
                change, Status.FAILED, control_id, f"{first}; reading it back: {error}; {UNKNOWN}"
            )
        if at_target(now, change):
            return Outcome(change, Status.RECONCILED, control_id, f"it landed despite: {first}")
        try:
            writes.patch_control(self.client, control_id, body)
        except ApiError as error:
            return Outcome(
                change,
                Status.FAILED,
                control_id,
                f"{first}; it had not landed, and the one more PATCH failed too: {error}"
                + (f"; {UNKNOWN}" if writes.ambiguous(error) else ""),
            )
        return Outcome(
            change, Status.APPLIED, control_id, f"sent twice: the first failed ({first})"
        )

    def _create(self, change: Change, body: dict[str, Any]) -> Outcome:
        try:
            created = writes.create_control(self.client, body)
            return Outcome(change, Status.APPLIED, _id(created))
        except ApiError as error:
            if not (writes.ambiguous(error) or writes.duplicate(error)):
                return Outcome(change, Status.FAILED, message=str(error))
            first = error
        try:
            found = writes.find_by_identifier(self.client, change.identifier)
        except ApiError as error:
            return Outcome(
                change, Status.FAILED, message=f"{first}; looking it up: {error}; {UNKNOWN}"
            )
        if len(found) == 1 and at_target(live_control(found[0]), change):
            return Outcome(
                change, Status.RECONCILED, _id(found[0]), f"adopted the control after: {first}"
            )
        if found:
            return Outcome(
                change,
                Status.FAILED,
                _id(found[0]),
                f"{first}; a control with this identifier exists now with other values (created "
                "by someone else during the run?); nothing more was sent: plan again",
            )
        if writes.duplicate(first):
            return Outcome(
                change, Status.FAILED, message=f"{first}; yet no control has the identifier"
            )
        try:
            created = writes.create_control(self.client, body)
        except ApiError as error:
            return Outcome(
                change,
                Status.FAILED,
                message=f"{first}; it had not landed, and the one more POST failed too: {error}"
                + (f"; {UNKNOWN}" if writes.ambiguous(error) else ""),
            )
        return Outcome(
            change, Status.APPLIED, _id(created), f"sent twice: the first failed ({first})"
        )


def _id(control: dict[str, Any]) -> str | None:
    value = control.get("id")
    return value if isinstance(value, str) else None
