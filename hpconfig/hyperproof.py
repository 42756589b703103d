"""What hpconfig knows, and guesses, about the Hyperproof API: the one place both follow.

The API client and the sandbox both import these names, so that a guess proven wrong against
the real API is one edit. Each fact carries its confidence from ``shared/hyperproof-api.md``:
[doc] Hyperproof's docs, [sdk] its official SDK, [3p] third parties, [guess] our assumption.
This module has no behaviour and no dependencies.
"""

from __future__ import annotations

# --- Regions (§1) -------------------------------------------------------------------------
REGIONS: dict[str, tuple[str, str]] = {
    # region: (API host root, token URL)
    "us": ("https://api.hyperproof.app", "https://accounts.hyperproof.app/oauth/token"),  # [doc]
    "eu": (
        "https://api.hyperproof.eu",
        "https://accounts.hyperproof.eu/oauth/token",
    ),  # token: [guess]
    "gov": (
        "https://api.hyperproofgov.app",
        "https://accounts.hyperproofgov.app/oauth/token",  # token: [guess]
    ),
}
DEFAULT_REGION = "us"

# --- Tokens (§2) --------------------------------------------------------------------------
TOKEN_RENEW_MARGIN_SECONDS = 30  # [sdk] renew a token within 30 s of its expiry
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600  # [doc] the example answer's expires_in

# --- Controls (§3) ------------------------------------------------------------------------
CONTROLS_PATH = "/v1/controls"
USERS_PATH = "/v1/users"
# [guess] without a `status` filter only active controls come back; hpconfig asks for each
# status it needs. The list has no pagination [doc].
STATUS_ACTIVE = "active"
STATUS_ARCHIVED = "archived"
OBJECT_STATUSES = ("active", "archived", "deleted", "pending", "canceled")  # [doc]
FRESHNESS_POLICIES = ("none", "manual")  # [doc]
IMPLEMENTATION_VALUES = ("unknown", "notStarted", "inProgress", "completed")  # [guess] wire values
TESTING_STATUS_VALUES = ("notTested", "effective", "inProgress", "ineffective")  # [guess]
HEALTH_VALUES = ("critical", "atRisk", "healthy", "notAvailable")  # [3p]
CONTROL_TYPES = ("simple", "parent", "scopeAssignment")  # [doc]

# PATCH body fields: documented [doc] and seen in third-party docs [3p].
PATCH_FIELDS_DOC = (
    "controlIdentifier",
    "name",
    "scopeId",
    "description",
    "notes",
    "domainId",
    "domainName",
    "clearDomain",
    "freshnessPolicy",
    "freshForDuration",
)
PATCH_FIELDS_3P = (
    "owner",
    "status",
    "implementation",
    "testingStatus",
    "automation",
    "health",
    "customFields",
    "freshAsOfDate",
    "freshAsOfNote",
    "workStatus",  # [guess] present on controls [doc]; writable by the same pattern
)
# [guess] the owner is written as the organization-user id (`id`), not the identity `userId`.
OWNER_WRITE_ID_FIELD = "id"
# [guess] unknown PATCH/POST fields are refused with 400 rather than silently ignored: a client
# that sends a field the API does not know should hear about it.
REJECT_UNKNOWN_FIELDS = True
# [guess] POST: required fields, the status of a duplicate identifier, the success status.
CREATE_REQUIRED_FIELDS = ("controlIdentifier", "name", "description")  # [3p] from the UI
CREATE_DUPLICATE_STATUS = 409
CREATE_SUCCESS_STATUS = 201

# --- Users (§4) ---------------------------------------------------------------------------
ACTIVE_USER_TYPE = "activeUser"  # [doc] the one type that is an active person
SERVICE_ACCOUNT_TYPES = ("serviceAccount", "syncServiceAccount")  # [doc] can never own a control
DEACTIVATED_TYPES = (
    "deactivatedUser",
    "deactivatedServiceAccount",
    "deactivatedSyncServiceAccount",
)  # [doc]

# --- Throttling and errors (§5) -----------------------------------------------------------
QUOTA_MESSAGE = "Bandwidth quota exceeded. Try again later."  # [doc] this 403 is transient
RATE_LIMIT_MESSAGE = "Rate limit is exceeded. Try again in 5 seconds."  # [doc]
