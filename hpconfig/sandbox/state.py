"""The sandbox's organization: users, API clients, controls and tokens.

Owns the data: seeding, reads, writes and tokens; the rules a write must pass are in ``rules``.
Thread-safe: one lock around every read-modify-write, so concurrent writers lose no update.
A write never changes a stored control in place: it publishes a new dict, so a list can take the
controls under the lock in a moment and render them outside it. Each control's API JSON is kept
encoded (rendered once per version of the control), so a list is a join of cached bytes, and the
state file and its journal (``store``) reuse the same bytes. Tokens are kept in ``tokens``. It
must not know HTTP (``handler`` does) or files (``store`` does).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hpconfig import hyperproof as hp
from hpconfig.sandbox.freshness import FOREVER, Clock, freshness_state, utc_now
from hpconfig.sandbox.rules import ApiProblem, check_fields, validated_changes
from hpconfig.sandbox.tokens import TokenBook

# Control fields stored as a user id and answered as a user object.
_USER_FIELDS = ("owner", "createdBy", "updatedBy")
_USER_OBJECT_KEYS = (
    "id",
    "email",
    "givenName",
    "surname",
    "profilePhotoName",
    "userId",
    "roleIds",
    "state",
)
# The list answers cached whole, per version of the organization; any other status is rendered
# each time, so that odd query values cannot fill memory.
_CACHED_STATUSES = (hp.STATUS_ACTIVE, "archived")


@dataclass
class Client:
    client_id: str
    client_secret: str
    user_id: str  # the organization-user id of its identity (a service account, or a person)

    def __repr__(self) -> str:  # the secret never appears in a repr
        return f"Client(client_id={self.client_id!r}, user_id={self.user_id!r})"


def now_iso() -> str:
    """Timestamps as the API writes them (one of the formats the docs show)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Organization:
    """One organization's state; every public method takes the lock."""

    def __init__(self, seed: dict[str, Any], clock: Clock = utc_now) -> None:
        self.lock = threading.RLock()
        self.clock = clock  # the live freshness state is worked out against it
        self.version = 0  # bumped by every write; keys the cached list answers
        self.tokens: TokenBook[Client] = TokenBook()
        # id → (the stored dict, its API JSON, until when); valid while that very dict is the
        # stored one and its freshness state holds (a POSIX time)
        self._encoded: dict[str, tuple[dict[str, Any], bytes, float]] = {}
        self._lists: dict[tuple[str, bool], tuple[bytes, float]] = {}
        self._lists_version = -1
        # Called under the lock with each written control's JSON, before the write is answered.
        self.on_write: Callable[[bytes], None] | None = None
        self.load(seed)

    # --- seed and persistence ---------------------------------------------------------------

    def load(self, seed: dict[str, Any]) -> None:
        with self.lock:
            self.org_id: str = seed.get("organization", {}).get("id") or str(uuid.uuid4())
            self.org_name: str = seed.get("organization", {}).get("name", "Sandbox organization")
            self.users: dict[str, dict[str, Any]] = {
                u["id"]: dict(u) for u in seed.get("users", [])
            }
            self.clients: dict[str, Client] = {
                c["clientId"]: Client(c["clientId"], c["clientSecret"], c["userId"])
                for c in seed.get("clients", [])
            }
            self.domains: dict[str, str] = {}
            self.controls: dict[str, dict[str, Any]] = {}
            for control in seed.get("controls", []):
                stored = dict(control)
                for name in _USER_FIELDS:
                    value = stored.get(name)
                    stored[name] = value.get("id") if isinstance(value, dict) else value
                stored.setdefault("orgId", self.org_id)
                if stored.get("domainName") and stored.get("domainId"):
                    self.domains.setdefault(stored["domainName"], stored["domainId"])
                self.controls[stored["id"]] = stored
            self._encoded = {}
            self.version += 1

    def header(self) -> dict[str, Any]:
        """Everything but the controls, as a seed has it (client secrets included)."""
        with self.lock:
            return {
                "organization": {"id": self.org_id, "name": self.org_name},
                "users": [copy.deepcopy(u) for u in self.users.values()],
                "clients": [
                    {"clientId": c.client_id, "clientSecret": c.client_secret, "userId": c.user_id}
                    for c in self.clients.values()
                ],
            }

    def dump(self) -> dict[str, Any]:
        """The whole state as a seed (users, clients, controls in the API's shapes)."""
        with self.lock:
            return {**self.header(), "controls": [self.render(c) for c in self.controls.values()]}

    def encoded_controls(self) -> list[bytes]:
        """Every control's API JSON, in order; call under the lock for a consistent snapshot."""
        with self.lock:
            return [self._encoding(stored) for stored in self.controls.values()]

    def _encoding(self, stored: dict[str, Any]) -> bytes:
        hit = self._encoded.get(stored["id"])
        if hit is not None and hit[0] is stored and self.clock().timestamp() < hit[2]:
            return hit[1]
        encoded, until = self._encode_until(stored)
        self._encoded[stored["id"]] = (stored, encoded, until)
        return encoded

    def encode(self, stored: dict[str, Any]) -> bytes:
        return json.dumps(self.render(stored)).encode()

    def _encode_until(self, stored: dict[str, Any]) -> tuple[bytes, float]:
        """The control's API JSON, and until when it holds (its freshness state may change)."""
        until = freshness_state(stored, self.clock())[1]
        return self.encode(stored), until

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self, client_id: str, client_secret: str, lifetime: float) -> str:
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), client_secret.encode()
        ):
            raise ApiProblem(401, "invalid_client")
        return self.tokens.issue(client, lifetime)

    def caller(self, token: str | None) -> Client | None:
        """The client a bearer token belongs to, or None when missing, unknown or expired."""
        return self.tokens.holder(token)

    def revoke_tokens(self) -> int:
        return self.tokens.revoke()

    # --- reads ------------------------------------------------------------------------------

    def user_object(self, user_id: str | None) -> dict[str, Any] | None:
        user = self.users.get(user_id) if user_id else None
        if user is None:
            return None
        return {key: copy.copy(user.get(key)) for key in _USER_OBJECT_KEYS}

    def render(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A stored control as GET answers it: user ids become user objects, and the freshness
        state is the one the current time gives."""
        rendered = dict(stored)
        for name in _USER_FIELDS:
            rendered[name] = self.user_object(stored.get(name))
        state = freshness_state(stored, self.clock())[0]
        if state is not None:
            rendered["freshness"] = state
        return rendered

    def controls_json(self, status: str | None, expand_scopes: bool) -> bytes:
        """The list answer as JSON, rendered outside the lock (writers do not wait for it)."""
        wanted = status or hp.STATUS_ACTIVE
        key = (wanted, expand_scopes)
        now = self.clock().timestamp()
        with self.lock:
            cached = self._lists.get(key) if self._lists_version == self.version else None
            if cached is not None and now < cached[1]:
                return cached[0]
            version = self.version
            taken = list(self.controls.values())
        parts: list[bytes] = []
        fresh: list[tuple[dict[str, Any], bytes, float]] = []
        holds = FOREVER  # the answer holds until the first control's freshness changes
        for stored in taken:
            if stored.get("status", hp.STATUS_ACTIVE) != wanted or (
                not expand_scopes and stored.get("controlType") == "scopeAssignment"
            ):
                continue
            hit = self._encoded.get(stored["id"])
            if hit is not None and hit[0] is stored and now < hit[2]:
                parts.append(hit[1])
                holds = min(holds, hit[2])
            else:
                encoded, until = self._encode_until(stored)
                parts.append(encoded)
                fresh.append((stored, encoded, until))
                holds = min(holds, until)
        body = b"[" + b", ".join(parts) + b"]"  # the bytes json.dumps gives for the whole list
        with self.lock:
            for stored, encoded, until in fresh:
                if self.controls.get(stored["id"]) is stored:
                    self._encoded[stored["id"]] = (stored, encoded, until)
            if version == self.version and wanted in _CACHED_STATUSES:
                if self._lists_version != version:
                    self._lists, self._lists_version = {}, version
                self._lists[key] = (body, holds)
        return body

    def get_control(self, control_id: str) -> dict[str, Any]:
        with self.lock:
            stored = self.controls.get(control_id)
            if stored is None:
                raise ApiProblem(404, f"Control {control_id} was not found")
            rendered = self.render(stored)
        for key in ("scopeId", "scopeName", "parentControlId"):  # [doc] left out of GET by id
            rendered.pop(key, None)
        return rendered

    def filter_controls(self, control_ids: list[Any]) -> list[dict[str, Any]]:
        with self.lock:
            return [self.render(self.controls[i]) for i in control_ids if i in self.controls]

    def list_users(self, include_deactivated: bool) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(u)
                for u in self.users.values()
                if include_deactivated or u.get("type") not in hp.DEACTIVATED_TYPES
            ]

    def me(self, client: Client) -> dict[str, Any]:
        with self.lock:
            user = self.users.get(client.user_id)
            if user is None:
                raise ApiProblem(404, "The caller's user was not found")
            return copy.deepcopy(user)

    # --- writes -----------------------------------------------------------------------------

    def patch_control(
        self, control_id: str, body: dict[str, Any], caller: Client
    ) -> dict[str, Any]:
        check_fields(body, hp.PATCH_FIELDS_DOC + hp.PATCH_FIELDS_3P)
        with self.lock:
            stored = self.controls.get(control_id)
            if stored is None:
                raise ApiProblem(404, f"Control {control_id} was not found")
            changes = validated_changes(body, control_id, self.controls, self.users, self.domains)
            written = {**stored, **changes, "updatedBy": caller.user_id, "updatedOn": now_iso()}
            return self._publish(written)

    def create_control(self, body: dict[str, Any], caller: Client) -> dict[str, Any]:
        check_fields(body, hp.PATCH_FIELDS_DOC + hp.PATCH_FIELDS_3P)
        missing = [key for key in hp.CREATE_REQUIRED_FIELDS if key not in body]
        if missing:
            raise ApiProblem(400, f"Missing required field(s): {', '.join(missing)}")
        with self.lock:
            changes = validated_changes(body, None, self.controls, self.users, self.domains)
            stamp = now_iso()
            stored: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "orgId": self.org_id,
                "controlType": "simple",
                "notes": None,
                "domainId": None,
                "domainName": None,
                "workStatus": None,
                "owner": None,
                "freshnessPolicy": "none",
                "freshForDuration": None,
                "freshness": "noFreshness",
                "implementation": "unknown",
                "testingStatus": "notTested",
                "status": hp.STATUS_ACTIVE,
                "permissions": ["view", "edit"],
                "createdBy": caller.user_id,
                "createdOn": stamp,
                "updatedBy": caller.user_id,
                "updatedOn": stamp,
            }
            stored.update(changes)
            return self._publish(stored)

    def _publish(self, stored: dict[str, Any]) -> dict[str, Any]:
        """Make a written control the stored one; journaled before the caller answers."""
        # first, so that a failure leaves the state as it was
        encoded, until = self._encode_until(stored)
        if self.on_write is not None:
            self.on_write(encoded)
        self.controls[stored["id"]] = stored
        self._encoded[stored["id"]] = (stored, encoded, until)
        self.version += 1
        return self.render(stored)
