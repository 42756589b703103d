"""The sandbox's API, over real HTTP with requests: every endpoint and every error."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hpconfig.sandbox import Sandbox

SERVICE_ACCOUNT_NAME = "hpconfig-ci"


def sign_in(sandbox: Sandbox) -> requests.Response:
    return requests.post(
        sandbox.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=5,
    )


def token(sandbox: Sandbox) -> str:
    answer = sign_in(sandbox)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def api(hpconfig_sandbox: Sandbox) -> Any:
    bearer = token(hpconfig_sandbox)

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {bearer}", **kwargs.pop("headers", {})}
        return requests.request(
            method, hpconfig_sandbox.api_url + path, headers=headers, timeout=5, **kwargs
        )

    return call


def by_identifier(controls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["controlIdentifier"]: c for c in controls}


def users_by_name(api: Any) -> dict[str, dict[str, Any]]:
    return {
        u["givenName"]: u
        for u in api("GET", "/v1/users", params={"includeDeactivated": "true"}).json()
    }


# --- OAuth -----------------------------------------------------------------------------------


def test_token_answer_shape(hpconfig_sandbox: Sandbox) -> None:
    answer = sign_in(hpconfig_sandbox)
    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("eyJ")


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "client_credentials", "client_id": "x"}, 400, "invalid_request"),
        ({"client_id": "x", "client_secret": "y"}, 400, "invalid_request"),
        (
            {"grant_type": "password", "client_id": "x", "client_secret": "y"},
            400,
            "unsupported_grant_type",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "sandbox-ci-client",
                "client_secret": "wrong",
            },
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "y"},
            401,
            "invalid_client",
        ),
    ],
)
def test_token_errors_follow_rfc_6749(
    hpconfig_sandbox: Sandbox, form: dict[str, str], status: int, error: str
) -> None:
    answer = requests.post(hpconfig_sandbox.token_url, data=form, timeout=5)
    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_token_refuses_a_json_body(hpconfig_sandbox: Sandbox) -> None:
    answer = requests.post(
        hpconfig_sandbox.token_url,
        json={
            "grant_type": "client_credentials",
            "client_id": hpconfig_sandbox.client_id,
            "client_secret": hpconfig_sandbox.client_secret,
        },
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_api_needs_a_valid_bearer_token(hpconfig_sandbox: Sandbox, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = requests.get(hpconfig_sandbox.api_url + "/v1/controls", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"statusCode": 401, "message": "Unauthorized"}


def test_expired_and_revoked_tokens_are_refused(hpconfig_sandbox: Sandbox) -> None:
    hpconfig_sandbox.configure(token_lifetime=0)
    expired = token(hpconfig_sandbox)
    answer = requests.get(
        hpconfig_sandbox.api_url + "/v1/controls",
        headers={"Authorization": f"Bearer {expired}"},
        timeout=5,
    )
    assert answer.status_code == 401
    hpconfig_sandbox.configure(token_lifetime=3600)
    fresh = token(hpconfig_sandbox)
    assert hpconfig_sandbox.revoke_tokens() >= 1
    answer = requests.get(
        hpconfig_sandbox.api_url + "/v1/controls",
        headers={"Authorization": f"Bearer {fresh}"},
        timeout=5,
    )
    assert answer.status_code == 401


# --- controls ---------------------------------------------------------------------------------


def test_list_is_a_bare_array_of_active_controls_with_user_objects(api: Any) -> None:
    answer = api("GET", "/v1/controls")
    assert answer.status_code == 200
    controls = answer.json()
    assert isinstance(controls, list)
    assert len(controls) == 39  # 40 in the seed, one archived
    assert all(c["status"] == "active" for c in controls)
    owner = by_identifier(controls)["SOC2-CC6.1"]["owner"]
    assert set(owner) == {
        "id",
        "email",
        "givenName",
        "surname",
        "profilePhotoName",
        "userId",
        "roleIds",
        "state",
    }
    for key in (
        "id",
        "orgId",
        "controlIdentifier",
        "name",
        "description",
        "notes",
        "domainId",
        "domainName",
        "workStatus",
        "owner",
        "freshnessPolicy",
        "freshForDuration",
        "createdBy",
        "createdOn",
        "updatedBy",
        "updatedOn",
        "status",
        "permissions",
    ):
        assert key in controls[0], key


def test_status_filter_shows_archived_controls(api: Any) -> None:
    archived = api("GET", "/v1/controls", params={"status": "archived"}).json()
    assert [c["controlIdentifier"] for c in archived] == ["SOC2-CC2.3"]


@pytest.mark.parametrize("name", ["expandScopes", "expandscopes"])
def test_list_accepts_both_spellings_of_expand_scopes(api: Any, name: str) -> None:
    answer = api(
        "GET", "/v1/controls", params={name: "true", "canLink": "true", "expandTeams": "false"}
    )
    assert answer.status_code == 200 and len(answer.json()) == 39


def test_get_one_and_unknown_id(api: Any) -> None:
    first = api("GET", "/v1/controls").json()[0]
    answer = api("GET", f"/v1/controls/{first['id']}")
    assert answer.status_code == 200 and answer.json()["id"] == first["id"]
    missing = api("GET", "/v1/controls/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert "was not found" in missing.json()["message"]


def test_patch_updates_fields_and_records_the_caller(api: Any) -> None:
    control = by_identifier(api("GET", "/v1/controls").json())["SOC2-CC6.1"]
    users = users_by_name(api)
    answer = api(
        "PATCH",
        f"/v1/controls/{control['id']}",
        json={
            "owner": users["Carol"]["id"],
            "freshForDuration": "PT720H",
            "notes": "patched",
            "domainName": "Brand New Domain",
        },
    )
    assert answer.status_code == 200, answer.text
    patched = answer.json()
    assert patched["owner"]["email"] == "carol@example.com"
    assert patched["freshForDuration"] == "PT720H"
    assert patched["domainName"] == "Brand New Domain" and patched["domainId"]
    assert patched["updatedBy"]["id"] == users[SERVICE_ACCOUNT_NAME]["id"]
    assert patched["updatedOn"] != control["updatedOn"]
    again = api("GET", f"/v1/controls/{control['id']}").json()
    assert again["notes"] == "patched"


def test_patch_clear_domain(api: Any) -> None:
    control = api("GET", "/v1/controls").json()[0]
    patched = api("PATCH", f"/v1/controls/{control['id']}", json={"clearDomain": True}).json()
    assert patched["domainId"] is None and patched["domainName"] is None


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"owner": "no-such-user"}, 400, "Unknown owner"),
        ({"owner": "@service"}, 400, "A service account cannot be the owner"),
        ({"owner": "@deactivated"}, 400, "is deactivated"),
        ({"owner": {"id": "x"}}, 400, "must be a user id"),
        ({"status": "gone"}, 400, "is not a valid status"),
        ({"freshnessPolicy": "sometimes"}, 400, "is not a valid freshnessPolicy"),
        ({"implementation": "done"}, 400, "is not a valid implementation"),
        ({"freshForDuration": "30 days"}, 400, "is not a valid freshForDuration"),
        ({"freshForDuration": "P1M"}, 400, "is not a valid freshForDuration"),
        ({"favouriteColour": "blue"}, 400, "Unknown field(s): favouriteColour"),
        ({"name": ""}, 400, "'name' must be a non-empty string"),
        ({"controlIdentifier": "SOC2-CC6.2"}, 409, "already exists"),
    ],
)
def test_invalid_patches_are_refused(
    api: Any, body: dict[str, Any], status: int, message: str
) -> None:
    users = users_by_name(api)
    if body.get("owner") == "@service":
        body = {"owner": users[SERVICE_ACCOUNT_NAME]["id"]}
    if body.get("owner") == "@deactivated":
        body = {"owner": users["Frank"]["id"]}
    control = by_identifier(api("GET", "/v1/controls").json())["SOC2-CC6.1"]
    answer = api("PATCH", f"/v1/controls/{control['id']}", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]
    unchanged = api("GET", f"/v1/controls/{control['id']}").json()
    assert unchanged["updatedOn"] == control["updatedOn"]


def test_patch_with_a_broken_body_or_unknown_id(api: Any) -> None:
    control = api("GET", "/v1/controls").json()[0]
    answer = api(
        "PATCH",
        f"/v1/controls/{control['id']}",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["message"]
    answer = api("PATCH", f"/v1/controls/{control['id']}", json=["a", "list"])
    assert answer.status_code == 400
    answer = api("PATCH", "/v1/controls/nope", json={"notes": "x"})
    assert answer.status_code == 404


def test_create_answers_201_and_refuses_duplicates_and_missing_fields(api: Any) -> None:
    body = {
        "controlIdentifier": "NEW-1",
        "name": "New",
        "description": "A new control",
        "domainName": "Access Control",
        "implementation": "inProgress",
    }
    created = api("POST", "/v1/controls", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["controlIdentifier"] == "NEW-1"
    assert created.json()["createdBy"]["givenName"] == SERVICE_ACCOUNT_NAME
    assert "NEW-1" in by_identifier(api("GET", "/v1/controls").json())
    duplicate = api("POST", "/v1/controls", json=body)
    assert duplicate.status_code == 409
    missing = api("POST", "/v1/controls", json={"controlIdentifier": "NEW-2"})
    assert missing.status_code == 400
    assert "Missing required field(s): name, description" in missing.json()["message"]


def test_filter_answers_the_asked_controls(api: Any) -> None:
    controls = api("GET", "/v1/controls").json()[:3]
    ids = [c["id"] for c in controls] + ["unknown-id"]
    answer = api("PUT", "/v1/controls/filter", json={"controlIds": ids})
    assert answer.status_code == 200
    assert [c["id"] for c in answer.json()] == ids[:3]
    assert api("PUT", "/v1/controls/filter", json={"ids": []}).status_code == 400


def test_users_and_me(api: Any) -> None:
    active = api("GET", "/v1/users").json()
    everyone = api("GET", "/v1/users", params={"includeDeactivated": "true"}).json()
    assert "Frank" not in {u["givenName"] for u in active}
    assert "Frank" in {u["givenName"] for u in everyone}
    me = api("GET", "/v1/users/me").json()
    assert me["type"] == "serviceAccount" and me["givenName"] == SERVICE_ACCOUNT_NAME


def test_unknown_routes(api: Any) -> None:
    assert api("GET", "/v1/nothing").status_code == 404
    assert api("DELETE", "/v1/controls/x").status_code == 405


def test_the_pytest_plugin_is_opt_in() -> None:
    """Installing hpconfig registers no pytest plugin: other projects' runs stay untouched."""
    import importlib.metadata

    registered = [
        entry
        for entry in importlib.metadata.entry_points(group="pytest11")
        if entry.value.startswith("hpconfig")
    ]
    assert registered == []
