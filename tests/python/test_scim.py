"""SCIM 2.0 provisioning (`/scim/v2/accounts/{AccountId}/`), driven by real SCIM clients.

* scim2-tester, the RFC 7643/7644 compliance checker, runs every check it has against the built
  binary: each passes, or is listed in `NOT_APPLICABLE` with the reason.
* scim2-client runs the provisioning cycles Okta and Entra ID run (find by userName, create,
  deactivate, rename, delete), and boto3 checks after each step what ListUsers and GetUser show.
* Raw requests check what the clients never send: token isolation and revocation, 409s,
  If-Match, paging, and malformed filters and bodies (a SCIM 400 with its scimType, never 500).

Every test makes its own tenant, Chime account and token (`belfry scim-token create`).
"""

from __future__ import annotations

import json
import subprocess
import uuid

import httpx2
import pytest
import requests
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import PatchOp, PatchOperation, SearchRequest
from scim2_tester import Status, check_server

from support import (chime_client, list_all, provision, server_env, start_server,
                     unique)

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
CHIME = "urn:belfry:params:scim:schemas:extension:chime:2.0:User"

#: scim2-tester checks that do not apply to a Chime user, with the reason. Every other check
#: must pass.
NOT_APPLICABLE = {
    ("check_remove_attribute", f"PATCH modify() did not remove attribute '{name}'"): reason
    for name, reason in [
        ("active", "a Chime user is Suspended or not: `active` always has a value (removing "
                   "it makes the user active, as a user created without it is)"),
        (CHIME, "a Chime user always has a LicenseType and a UserType: removing the "
                "extension keeps them"),
        (f"{CHIME}:licenseType", "a Chime user always has a LicenseType"),
        (f"{CHIME}:userType", "a Chime user always has a UserType"),
    ]
}


# -- helpers -------------------------------------------------------------------------------

def create_token(server, account_id: str) -> dict:
    """`belfry scim-token create` on the server's store (the server keeps running)."""
    out = subprocess.run(
        [str(server.bin), "scim-token", "create", "--account-id", account_id,
         *server.store.args()],
        env=server_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["AccountId"] == account_id
    assert doc["BasePath"] == f"/scim/v2/accounts/{account_id}"
    assert doc["Token"].startswith("belfry-scim-")
    return doc


def token_command(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(server.bin), "scim-token", *args, *server.store.args()],
                          env=server_env(), capture_output=True, text=True, timeout=60)


class Scim:
    """One account's SCIM endpoint with one token: raw requests and a scim2-client."""

    def __init__(self, server, account_id: str, token: str):
        self.base = f"{server.endpoint}/scim/v2/accounts/{account_id}"
        self.token = token
        self.account_id = account_id

    def request(self, method: str, path: str, *, token: str | None = "", **kwargs):
        token = self.token if token == "" else token
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.base + path, headers=headers, timeout=30,
                                **kwargs)

    def client(self) -> SyncSCIMClient:
        http = httpx2.Client(base_url=self.base,
                             headers={"Authorization": f"Bearer {self.token}"})
        client = SyncSCIMClient(http)
        client.discover()
        return client


@pytest.fixture
def scim(belfry, account) -> Scim:
    return Scim(belfry, account["AccountId"], create_token(belfry, account["AccountId"])["Token"])


def expect_scim_error(resp, status: int, scim_type: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/scim+json")
    body = resp.json()
    assert body["schemas"] == [ERROR_SCHEMA], body
    assert body["status"] == str(status), body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


def chime_user(client, account_id: str, user_id: str) -> dict:
    return client.get_user(AccountId=account_id, UserId=user_id)["User"]


def listed(client, account_id: str) -> dict:
    """ListUsers of the account, by UserId."""
    return {u["UserId"]: u for u in list_all(client, AccountId=account_id)}


def new_user(user_name: str, email: str | None = None, **extra) -> dict:
    user = {"schemas": [USER_SCHEMA], "userName": user_name, **extra}
    if email is not None:
        user["emails"] = [{"value": email, "type": "work", "primary": True}]
    return user


# -- scim2-tester --------------------------------------------------------------------------

def test_scim2_tester_checks_pass_or_are_listed_as_not_applicable(scim):
    results = check_server(scim.client())
    failures, not_applicable = [], []
    for result in results:
        if result.status == Status.SUCCESS:
            continue
        key = (result.title, result.reason)
        if key in NOT_APPLICABLE:
            not_applicable.append((*key, NOT_APPLICABLE[key]))
        else:
            failures.append((result.status.name, result.title, result.reason))
    passed = sum(r.status == Status.SUCCESS for r in results)
    print(f"\nscim2-tester: {len(results)} checks, {passed} passed, "
          f"{len(not_applicable)} not applicable:")
    for title, reason, why in not_applicable:
        print(f"  n/a {title}: {reason} -- {why}")
    assert not failures, failures
    # Discovery, CRUD and PATCH checks all ran (a server that advertised nothing would pass
    # vacuously).
    titles = {r.title for r in results}
    for title in ["object_creation", "object_replacement", "object_deletion",
                  "check_replace_attribute", "query_all_schemas", "random_url"]:
        assert title in titles, titles
    assert len(not_applicable) == len(NOT_APPLICABLE)


# -- provisioning cycles -------------------------------------------------------------------

def test_okta_cycle_is_what_list_users_shows(scim, client):
    sc = scim.client()
    User = sc.get_resource_model("User")
    acct = scim.account_id
    # Okta tests the connection with a page of two.
    resp = scim.request("GET", "/Users", params={"startIndex": 1, "count": 2})
    assert resp.status_code == 200 and resp.json()["Resources"] == []
    email = f"{unique('okta')}@Example.com"
    # Looks the user up before creating.
    assert sc.query(User, query_parameters=SearchRequest(
        filter=f'userName eq "{email}"')).total_results == 0
    created = sc.create(User, {
        "schemas": [USER_SCHEMA], "userName": email, "externalId": "00u1okta",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": email, "type": "work", "primary": True}], "active": True})
    users = listed(client, acct)
    assert users[created.id]["PrimaryEmail"] == email
    assert users[created.id]["DisplayName"] == "Ada Lovelace"
    assert users[created.id]["UserRegistrationStatus"] == "Unregistered"
    # Found by userName, case-insensitively.
    found = sc.query(User, query_parameters=SearchRequest(
        filter=f'userName eq "{email.upper()}"'))
    assert [u.id for u in found.resources] == [created.id]
    # Deactivates with a path-less replace.
    sc.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op="replace", value={"active": False})]))
    assert chime_user(client, acct, created.id)["UserRegistrationStatus"] == "Suspended"
    assert listed(client, acct)[created.id]["UserRegistrationStatus"] == "Suspended"
    # Updates (and reactivates) with PUT.
    current = sc.query(User, created.id)
    assert current.active is False
    current.display_name = "Ada King"
    current.active = True
    replaced = sc.replace(current)
    assert replaced.display_name == "Ada King"
    shown = chime_user(client, acct, created.id)
    assert shown["DisplayName"] == "Ada King"
    assert shown["UserRegistrationStatus"] == "Unregistered"
    assert listed(client, acct)[created.id]["DisplayName"] == "Ada King"


def test_entra_cycle_with_its_quirks_is_what_list_users_shows(scim, client):
    sc = scim.client()
    User = sc.get_resource_model("User")
    acct = scim.account_id
    name = str(uuid.uuid4())
    email = f"{unique('entra')}@example.com"
    lookup = f'externalId eq "ext-{name}" and userName eq "{name}"'
    assert scim.request("GET", "/Users", params={"filter": lookup}).json()["totalResults"] == 0
    created = sc.create(User, new_user(name, email, externalId=f"ext-{name}",
                                       displayName="Grace Hopper"))
    assert created.user_name == name  # kept exactly: not forced to be an email
    assert listed(client, acct)[created.id]["PrimaryEmail"] == email
    found = scim.request("GET", "/Users", params={"filter": lookup}).json()
    assert [u["id"] for u in found["Resources"]] == [created.id]
    # Entra ID without aadOptscim062020: capitalised ops and "False" as a string.
    resp = scim.request("PATCH", f"/Users/{created.id}", json={
        "schemas": [PATCH_OP],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is False
    assert listed(client, acct)[created.id]["UserRegistrationStatus"] == "Suspended"
    # Deactivated users are still returned by the lookup.
    again = scim.request("GET", "/Users", params={"filter": lookup}).json()
    assert [u["id"] for u in again["Resources"]] == [created.id]
    # Rename: a new work email and display name.
    renamed = f"{unique('renamed')}@example.com"
    resp = scim.request("PATCH", f"/Users/{created.id}", json={
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": renamed},
            {"op": "Replace", "path": "displayName", "value": "Grace B. Hopper"},
            # In Entra ID's default mappings; Belfry keeps no enterprise extension.
            {"op": "Add", "value": "Navy", "path":
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
            {"op": "Replace", "path": "active", "value": "True"}]})
    assert resp.status_code == 200, resp.text
    shown = listed(client, acct)[created.id]
    assert (shown["PrimaryEmail"], shown["DisplayName"], shown["UserRegistrationStatus"]) == \
        (renamed, "Grace B. Hopper", "Unregistered")
    by_email = scim.request("GET", "/Users", params={
        "filter": f'emails[type eq "work"].value eq "{renamed}"'}).json()
    assert [u["id"] for u in by_email["Resources"]] == [created.id]
    # Delete: gone from ListUsers; a second delete is a cheap SCIM 404.
    sc.delete(User, created.id)
    assert created.id not in listed(client, acct)
    expect_scim_error(scim.request("DELETE", f"/Users/{created.id}"), 404)
    expect_scim_error(scim.request("GET", f"/Users/{created.id}"), 404)


def test_changes_made_through_the_chime_api_are_seen_over_scim(scim, client):
    acct = scim.account_id
    email = f"{unique('chime')}@example.com"
    user = client.create_user(AccountId=acct, Email=email, UserType="PrivateUser")["User"]
    found = scim.request("GET", "/Users", params={"filter": f'userName eq "{email}"'}).json()
    assert found["totalResults"] == 1
    resource = found["Resources"][0]
    assert (resource["id"], resource["userName"]) == (user["UserId"], email)
    assert resource["emails"][0]["value"] == email
    etag = resource["meta"]["version"]
    client.update_user(AccountId=acct, UserId=user["UserId"], LicenseType="Basic")
    client.batch_suspend_user(AccountId=acct, UserIdList=[user["UserId"]])
    resp = scim.request("GET", f"/Users/{user['UserId']}")
    after = resp.json()
    assert after[CHIME]["licenseType"] == "Basic"
    assert after["active"] is False
    assert after["meta"]["version"] != etag
    assert resp.headers["ETag"] == after["meta"]["version"]


def test_groups_are_rooms_with_their_members(scim, client):
    acct = scim.account_id
    users = [scim.request("POST", "/Users", json=new_user(f"{unique('member')}@example.com",
                                                          f"{unique('m')}@example.com")).json()
             for _ in range(3)]
    ids = [u["id"] for u in users]
    # Okta looks the group up by displayName before it pushes it.
    name = unique("Pro tier")
    lookup = {"filter": f'displayName eq "{name}"'}
    assert scim.request("GET", "/Groups", params=lookup).json()["totalResults"] == 0
    resp = scim.request("POST", "/Groups", json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
        "externalId": "grp-1", "members": [{"value": ids[0]}, {"value": ids[1]}]})
    assert resp.status_code == 201, resp.text
    group = resp.json()
    rooms = {r["RoomId"]: r for r in client.list_rooms(AccountId=acct)["Rooms"]}
    assert rooms[group["id"]]["Name"] == name

    def room_members() -> set:
        page = client.list_room_memberships(AccountId=acct, RoomId=group["id"])
        return {m["Member"]["MemberId"] for m in page["RoomMemberships"]}

    assert room_members() == {ids[0], ids[1]}
    found = scim.request("GET", "/Groups", params=lookup).json()
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    assert found["Resources"][0]["externalId"] == "grp-1"
    # Entra ID: add and remove members, rename.
    resp = scim.request("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH_OP],
        "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": ids[2]}]},
            {"op": "Remove", "path": f'members[value eq "{ids[0]}"]'},
            {"op": "Replace", "path": "displayName", "value": name + " renamed"}]})
    assert resp.status_code == 200, resp.text
    assert room_members() == {ids[1], ids[2]}
    assert client.get_room(AccountId=acct, RoomId=group["id"])["Room"]["Name"] == \
        name + " renamed"
    by_member = scim.request("GET", "/Groups",
                             params={"filter": f'members[value eq "{ids[2]}"]'}).json()
    assert [g["id"] for g in by_member["Resources"]] == [group["id"]]
    # Okta renames with a path-less replace that repeats the id; Entra ID removes members by
    # listing them as the value.
    resp = scim.request("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "value": {"id": group["id"], "displayName": name}}]})
    assert resp.status_code == 200, resp.text
    assert client.get_room(AccountId=acct, RoomId=group["id"])["Room"]["Name"] == name
    resp = scim.request("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH_OP],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}]})
    assert resp.status_code == 200, resp.text
    assert room_members() == {ids[2]}
    scim.request("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": ids[1]}]}]})
    assert room_members() == {ids[1], ids[2]}
    # A user deleted over SCIM leaves the room; a member that is no user is an invalid value.
    scim.request("DELETE", f"/Users/{ids[1]}")
    assert room_members() == {ids[2]}
    expect_scim_error(scim.request("PATCH", f"/Groups/{group['id']}", json={
        "schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]}),
        400, "invalidValue")
    # PUT replaces the members; DELETE removes the room.
    resp = scim.request("PUT", f"/Groups/{group['id']}", json={
        "displayName": name, "members": [{"value": ids[0]}]})
    assert resp.status_code == 200 and room_members() == {ids[0]}
    assert scim.request("DELETE", f"/Groups/{group['id']}").status_code == 204
    assert group["id"] not in {r["RoomId"] for r in client.list_rooms(AccountId=acct)["Rooms"]}
    expect_scim_error(scim.request("GET", f"/Groups/{group['id']}"), 404)


# -- what the clients never send -----------------------------------------------------------

def test_user_name_is_unique_case_insensitively(scim):
    name = f"Unique-{uuid.uuid4()}"
    assert scim.request("POST", "/Users", json=new_user(name)).status_code == 201
    expect_scim_error(scim.request("POST", "/Users", json=new_user(name.lower())), 409,
                      "uniqueness")
    # A work email another user has is a conflict too.
    email = f"{unique('dup')}@example.com"
    assert scim.request("POST", "/Users", json=new_user(str(uuid.uuid4()), email)).ok
    expect_scim_error(
        scim.request("POST", "/Users", json=new_user(str(uuid.uuid4()), email.upper())),
        409, "uniqueness")


def test_a_user_without_email_gets_a_placeholder_that_scim_never_shows(scim, client):
    resp = scim.request("POST", "/Users", json=new_user("no-email-" + uuid.uuid4().hex))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert "emails" not in created
    shown = chime_user(client, scim.account_id, created["id"])
    assert shown["PrimaryEmail"] == f"{created['id']}@scim.belfry.invalid"


def test_tokens_are_bound_to_one_account_and_revocable(belfry, client, scim):
    other = client.create_account(Name=unique("other"))["Account"]["AccountId"]
    other_token = create_token(belfry, other)
    other_user = Scim(belfry, other, other_token["Token"]).request(
        "POST", "/Users", json=new_user("secret-" + uuid.uuid4().hex)).json()
    # This account's token reads and writes nothing of the other account.
    trespass = Scim(belfry, other, scim.token)
    for method, path, body in [("GET", "/Users", None), ("GET", f"/Users/{other_user['id']}", None),
                               ("POST", "/Users", new_user("x")),
                               ("DELETE", f"/Users/{other_user['id']}", None),
                               ("GET", "/ServiceProviderConfig", None)]:
        body = expect_scim_error(trespass.request(method, path, json=body), 401)
        assert other_user["id"] not in json.dumps(body)
    # No token, a wrong one, and a non-bearer scheme.
    expect_scim_error(scim.request("GET", "/Users", token=None), 401)
    expect_scim_error(scim.request("GET", "/Users", token="belfry-scim-" + "0" * 64), 401)
    expect_scim_error(scim.request("GET", "/Users", token=None,
                                   headers={"Authorization": f"Basic {scim.token}"}), 401)
    # Listed, then revoked: 401 from the next request on; the other token still works.
    listed_tokens = [json.loads(line) for line in
                     token_command(belfry, "list", "--account-id", other).stdout.splitlines()]
    assert [t["TokenId"] for t in listed_tokens] == [other_token["TokenId"]]
    assert "Token" not in listed_tokens[0]
    assert scim.request("GET", "/Users").status_code == 200
    out = token_command(belfry, "revoke", "--token-id", other_token["TokenId"])
    assert out.returncode == 0, out.stderr
    expect_scim_error(Scim(belfry, other, other_token["Token"]).request("GET", "/Users"), 401)
    assert token_command(belfry, "revoke", "--token-id", other_token["TokenId"]).returncode != 0
    assert scim.request("GET", "/Users").status_code == 200


def test_unknown_urls_are_scim_404s(scim, belfry):
    for path in ["/Groups/x/y", "/Users/x/y", "/Nothing", "/Schemas/urn:nothing",
                 "/Groups/no-such-room"]:
        expect_scim_error(scim.request("GET", path), 404)
    resp = requests.get(f"{belfry.endpoint}/scim/v1/whatever", timeout=30)
    expect_scim_error(resp, 404)


def test_if_match_is_honoured(scim):
    created = scim.request("POST", "/Users", json=new_user("etag-" + uuid.uuid4().hex)).json()
    path = f"/Users/{created['id']}"
    etag = created["meta"]["version"]
    stale = new_user(created["userName"], displayName="Stale")
    expect_scim_error(scim.request("PUT", path, json=stale, headers={"If-Match": 'W/"old"'}),
                      412)
    resp = scim.request("PUT", path, json=new_user(created["userName"], displayName="Fresh"),
                        headers={"If-Match": etag})
    assert resp.status_code == 200 and resp.json()["displayName"] == "Fresh"
    assert resp.headers["ETag"] != etag
    expect_scim_error(scim.request("DELETE", path, headers={"If-Match": etag}), 412)
    assert scim.request("DELETE", path, headers={"If-Match": resp.headers["ETag"]}).status_code \
        == 204


def test_start_index_pages_walk_every_user_once_in_list_users_order(scim, client):
    emails = sorted(f"page-{i:02d}-{uuid.uuid4().hex[:6]}@example.com" for i in range(23))
    for email in emails:
        assert scim.request("POST", "/Users", json=new_user(email, email)).status_code == 201
    seen, start = [], 1
    while True:
        page = scim.request("GET", "/Users", params={"startIndex": start, "count": 5}).json()
        assert page["totalResults"] == 23 and page["startIndex"] == start
        seen += [u["userName"] for u in page["Resources"]]
        if page["itemsPerPage"] < 5:
            break
        start += page["itemsPerPage"]
    assert seen == emails
    assert [u["PrimaryEmail"] for u in list_all(client, AccountId=scim.account_id)] == emails
    # A jump (no page ended there) and a page past the end.
    jump = scim.request("GET", "/Users", params={"startIndex": 7, "count": 3}).json()
    assert [u["userName"] for u in jump["Resources"]] == emails[6:9]
    past = scim.request("GET", "/Users", params={"startIndex": 100}).json()
    assert (past["Resources"], past["totalResults"]) == ([], 23)
    # Filtered pages, with or: the users 00..04.
    wanted = " or ".join(f'userName eq "{e}"' for e in emails[:5])
    first = scim.request("GET", "/Users", params={"filter": wanted, "count": 3}).json()
    rest = scim.request("GET", "/Users",
                        params={"filter": wanted, "count": 3, "startIndex": 4}).json()
    assert [u["userName"] for u in first["Resources"] + rest["Resources"]] == emails[:5]
    assert first["totalResults"] == 5
    starts = scim.request("GET", "/Users", params={"filter": 'userName sw "page-1"'}).json()
    assert [u["userName"] for u in starts["Resources"]] == emails[10:20]


@pytest.mark.parametrize("filter_text", [
    "userName", 'userName eq', 'userName zz "x"', 'title eq "x"', "(((((", 'userName eq "x',
    "active gt true", 'userName eq "x" and', "a" * 5000, "(" * 200 + "userName pr" + ")" * 200,
    'emails[type eq "work"', "userName eq 12", "not", "\x00",
])
def test_malformed_filters_are_invalid_filter_400s(scim, filter_text):
    expect_scim_error(scim.request("GET", "/Users", params={"filter": filter_text}), 400,
                      "invalidFilter")


@pytest.mark.parametrize("method,body,scim_type", [
    ("POST", b"{", "invalidSyntax"),
    ("POST", b"[]", "invalidSyntax"),
    ("POST", json.dumps({"userName": ""}).encode(), "invalidValue"),
    ("POST", json.dumps({"userName": 7}).encode(), "invalidValue"),
    ("POST", json.dumps({"userName": "a", "active": "perhaps"}).encode(), "invalidValue"),
    ("POST", json.dumps({"userName": "a", "emails": [{"value": "nope"}]}).encode(), "invalidValue"),
    ("POST", json.dumps({"userName": "a", CHIME: {"licenseType": "Gold"}}).encode(),
     "invalidValue"),
    ("PATCH", json.dumps({"Operations": []}).encode(), "invalidSyntax"),
    ("PATCH", json.dumps({"schemas": [PATCH_OP], "Operations": [{"op": "jump"}]}).encode(),
     "invalidSyntax"),
    ("PATCH", json.dumps({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "id", "value": "x"}]}).encode(), "mutability"),
    ("PATCH", json.dumps({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "emails[type eq", "value": "x"}]}).encode(), "invalidPath"),
    ("PATCH", json.dumps({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "active", "value": "sometimes"}]}).encode(), "invalidValue"),
    ("PUT", b"\xff\xfe", "invalidSyntax"),
])
def test_malformed_bodies_are_scim_400s(scim, method, body, scim_type):
    created = scim.request("POST", "/Users", json=new_user("body-" + uuid.uuid4().hex)).json()
    path = "/Users" if method == "POST" else f"/Users/{created['id']}"
    expect_scim_error(scim.request(method, path, data=body,
                                   headers={"Content-Type": "application/scim+json"}),
                      400, scim_type)
    # The user is as it was.
    assert scim.request("GET", f"/Users/{created['id']}").json()["userName"] == \
        created["userName"]


# -- review findings ------------------------------------------------------------------------

def ids_among(scim, scope: str, filter_text: str) -> set[str]:
    """The ids of the users that match `filter_text` among those `scope` (a filter) selects."""
    resp = scim.request("GET", "/Users", params={"filter": f"({scope}) and {filter_text}"})
    assert resp.status_code == 200, (filter_text, resp.text)
    return {u["id"] for u in resp.json()["Resources"]}


def test_attribute_names_with_multibyte_characters_are_names_not_panics(scim):
    """28 two-byte characters put a byte index at a schema URI's length inside a character."""
    names = "é" * 28
    created = scim.request("POST", "/Users", json=new_user("proj-" + uuid.uuid4().hex)).json()
    for path in ["/Users", "/Groups", f"/Users/{created['id']}"]:
        for param in ["attributes", "excludedAttributes"]:
            resp = scim.request("GET", path, params={param: names})
            assert resp.status_code == 200, (path, param, resp.text)
    listed_users = scim.request("GET", "/Users", params={"attributes": names}).json()
    assert {"id", "schemas"} >= set(listed_users["Resources"][0])
    for path in ["/.search", "/Users/.search"]:
        resp = scim.request("POST", path, json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": [names], "excludedAttributes": [names + "x"]})
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json()["totalResults"] >= 1


@pytest.mark.parametrize("body", [
    {"userName": "nul\u0000x"},
    {"userName": "ok-name", "externalId": "tab\tx"},
    {"userName": "ok-name", "displayName": "bell\u0007"},
    {"userName": "ok-name", "emails": [{"value": "a@b", "type": "work"}]},
    {"userName": "ok-name", "emails": [{"value": "a" * 1020 + "@b.co", "type": "work"}]},
])
def test_control_characters_and_bad_emails_are_invalid_values(scim, body):
    expect_scim_error(scim.request("POST", "/Users", json={"schemas": [USER_SCHEMA], **body}),
                      400, "invalidValue")
    expect_scim_error(scim.request("POST", "/Groups", json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "g\u0000"}), 400, "invalidValue")


@pytest.mark.parametrize("filter_text", [
    'userName eq "a\u0000b"', 'externalId eq "a\u0001b"', 'emails.value co "\u0000"',
])
def test_control_characters_in_filter_values_are_invalid_filters(scim, filter_text):
    expect_scim_error(scim.request("GET", "/Users", params={"filter": filter_text}), 400,
                      "invalidFilter")
    expect_scim_error(scim.request("POST", "/Users/.search", json={"filter": filter_text}),
                      400, "invalidFilter")


def test_chime_writes_cannot_duplicate_a_scim_user_name(scim, client):
    """A SCIM userName that looks like an email is taken for CreateUser and InviteUsers too."""
    name = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    made = scim.request("POST", "/Users", json=new_user(name, f"other-{uuid.uuid4().hex[:8]}"
                                                             "@example.com"))
    assert made.status_code == 201, made.text
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.create_user(AccountId=scim.account_id, Email=name.upper())
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    invites = client.invite_users(AccountId=scim.account_id, UserEmailList=[name])["Invites"]
    assert [i["Status"] for i in invites] == ["Failed"]
    found = scim.request("GET", "/Users", params={"filter": f'userName eq "{name}"'}).json()
    assert (found["totalResults"], [u["id"] for u in found["Resources"]]) == \
        (1, [made.json()["id"]])
    assert name not in {u.get("PrimaryEmail") for u in listed(client, scim.account_id).values()}


def test_a_deleted_user_s_phone_number_returns_to_the_inventory(scim, client):
    made = scim.request("POST", "/Users", json=new_user(f"phone-{uuid.uuid4().hex[:8]}")).json()
    number = f"+1206555{uuid.uuid4().int % 10000:04}"
    provision(client, number)
    client.associate_phone_number_with_user(AccountId=scim.account_id, UserId=made["id"],
                                            E164PhoneNumber=number)
    assert client.get_phone_number(PhoneNumberId=number)["PhoneNumber"]["Status"] == "Assigned"
    assert scim.request("DELETE", f"/Users/{made['id']}").status_code == 204
    after = client.get_phone_number(PhoneNumberId=number)["PhoneNumber"]
    assert after["Status"] == "Unassigned", after
    assert not after.get("Associations"), after
    # It can be given to another user.
    other = scim.request("POST", "/Users", json=new_user(f"phone-{uuid.uuid4().hex[:8]}")).json()
    client.associate_phone_number_with_user(AccountId=scim.account_id, UserId=other["id"],
                                            E164PhoneNumber=number)
    assert chime_user(client, scim.account_id, other["id"])["PrimaryProvisionedNumber"] == number


def test_not_is_the_complement_even_over_absent_attributes(scim):
    tag = uuid.uuid4().hex[:8]
    with_id = scim.request("POST", "/Users", json=new_user(f"not-a-{tag}", externalId="x-1",
                                                           displayName="Shown")).json()
    bare = scim.request("POST", "/Users", json=new_user(f"not-b-{tag}")).json()

    def ids(filter_text: str) -> set[str]:
        return ids_among(scim, f'userName sw "not-" and userName ew "-{tag}"', filter_text)

    both = {with_id["id"], bare["id"]}
    assert ids('not (externalId eq "zzz")') == ids('externalId ne "zzz"') == both
    assert ids('not (externalId eq "x-1")') == {bare["id"]}
    assert ids('not (displayName co "ho")') == {bare["id"]}
    assert ids('not(externalId sw "x")') == {bare["id"]}
    assert ids("not(active eq false)") == both
    assert ids("NOT(active eq true)") == set()


def test_meta_times_follow_chime_api_writes(scim, client):
    import time
    from datetime import datetime, timedelta, timezone

    def meta(user_id: str) -> dict:
        return scim.request("GET", f"/Users/{user_id}").json()["meta"]

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    start = datetime.now(timezone.utc) - timedelta(seconds=5)
    chime = client.create_user(AccountId=scim.account_id,
                               Email=f"meta-{uuid.uuid4().hex[:8]}@example.com")["User"]
    made = meta(chime["UserId"])
    assert when(made["created"]) >= start, made
    assert made["lastModified"] == made["created"]
    provisioned = scim.request("POST", "/Users", json=new_user(f"meta-{uuid.uuid4().hex}")).json()
    for user_id in [chime["UserId"], provisioned["id"]]:
        before = meta(user_id)
        time.sleep(0.02)
        client.update_user(AccountId=scim.account_id, UserId=user_id, LicenseType="Basic")
        after = meta(user_id)
        assert after["created"] == before["created"]
        assert when(after["lastModified"]) > when(before["lastModified"]), (before, after)
        assert after["version"] != before["version"]


def test_a_group_change_that_fails_changes_nothing(scim, client):
    acct = scim.account_id
    users = [scim.request("POST", "/Users", json=new_user(f"grp-{uuid.uuid4().hex}")).json()["id"]
             for _ in range(3)]
    bot = client.create_bot(AccountId=acct, DisplayName="nobody", Domain="example.com")["Bot"]
    name = f"atomic-{uuid.uuid4().hex[:8]}"
    group = scim.request("POST", "/Groups", json={"displayName": name, "externalId": "e-1",
                                                  "members": [{"value": users[0]}]}).json()

    def state() -> tuple:
        room = client.get_room(AccountId=acct, RoomId=group["id"])["Room"]
        page = client.list_room_memberships(AccountId=acct, RoomId=group["id"])
        ext = scim.request("GET", f"/Groups/{group['id']}").json().get("externalId")
        return room["Name"], ext, {m["Member"]["MemberId"] for m in page["RoomMemberships"]}

    before = state()
    assert before == (name, "e-1", {users[0]})
    for bad in [bot["BotId"], "no-such-user"]:
        expect_scim_error(scim.request("PATCH", f"/Groups/{group['id']}", json={
            "schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "displayName", "value": name + " renamed"},
                {"op": "replace", "path": "externalId", "value": "e-2"},
                {"op": "add", "path": "members", "value": [{"value": users[1]}]},
                {"op": "remove", "path": "members", "value": [{"value": users[0]}]},
                {"op": "add", "path": "members", "value": [{"value": bad}]}]}),
            400, "invalidValue")
        assert state() == before
        expect_scim_error(scim.request("PUT", f"/Groups/{group['id']}", json={
            "displayName": name + " put", "members": [{"value": users[2]}, {"value": bad}]}),
            400, "invalidValue")
        assert state() == before
    # A POST whose member is a bot makes no room.
    rooms = {r["RoomId"] for r in client.list_rooms(AccountId=acct)["Rooms"]}
    expect_scim_error(scim.request("POST", "/Groups", json={
        "displayName": "with a bot", "members": [{"value": bot["BotId"]}]}), 400, "invalidValue")
    assert {r["RoomId"] for r in client.list_rooms(AccountId=acct)["Rooms"]} == rooms
    # Adding a member again is no change.
    resp = scim.request("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members",
                        "value": [{"value": users[0]}, {"value": users[1]}]}]})
    assert resp.status_code == 200, resp.text
    assert state() == (name, "e-1", {users[0], users[1]})


def test_email_value_filters_match_real_emails_only(scim):
    tag = uuid.uuid4().hex[:8]
    with_email = scim.request("POST", "/Users", json=new_user(
        f"mail-a-{tag}", f"mail-a-{tag}@example.com")).json()
    bare = scim.request("POST", "/Users", json=new_user(f"mail-b-{tag}")).json()

    def ids(filter_text: str) -> set[str]:
        return ids_among(scim, f'userName sw "mail-" and userName ew "-{tag}"', filter_text)

    only = {with_email["id"]}
    assert ids('emails[type eq "work"]') == only
    assert ids("emails[primary eq true]") == only
    assert ids('emails.type eq "work"') == only
    assert ids("emails pr") == only
    assert ids('emails[type eq "home"]') == set()
    assert ids('emails.value ew ".invalid"') == set()
    assert ids('emails.value co "scim.belfry"') == set()
    assert ids(f'emails.value sw "{bare["id"]}"') == set()
    assert ids('emails.value ew "example.com"') == only
    assert ids('not (emails.value ew "example.com")') == {bare["id"]}
    assert ids('emails.value ne "nobody@example.com"') == {with_email["id"], bare["id"]}


def test_filters_follow_the_published_case_exactness(scim):
    schemas = {s["id"]: s for s in scim.request("GET", "/Schemas").json()["Resources"]}

    def exact(schema: str, name: str, sub: str | None = None) -> bool:
        attr = next(a for a in schemas[schema]["attributes"] if a["name"] == name)
        if sub is not None:
            attr = next(a for a in attr["subAttributes"] if a["name"] == sub)
        return attr["caseExact"]

    group_schema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    tag = uuid.uuid4().hex[:8]
    user = scim.request("POST", "/Users", json=new_user(f"case-{tag}",
                                                        displayName=f"Case {tag}")).json()
    group = scim.request("POST", "/Groups", json={"displayName": f"Team {tag}",
                                                  "members": [{"value": user["id"]}]}).json()

    def users(filter_text: str) -> list:
        return [u["id"] for u in
                scim.request("GET", "/Users", params={"filter": filter_text}).json()["Resources"]]

    def groups(filter_text: str) -> list:
        return [g["id"] for g in
                scim.request("GET", "/Groups", params={"filter": filter_text}).json()["Resources"]]

    assert exact(USER_SCHEMA, "displayName") is True
    assert users(f'displayName eq "Case {tag}"') == [user["id"]]
    assert users(f'displayName eq "CASE {tag}"') == []
    assert exact(USER_SCHEMA, "userName") is False
    assert users(f'userName eq "CASE-{tag}"') == [user["id"]]
    assert exact(group_schema, "displayName") is False
    assert groups(f'displayName eq "TEAM {tag}"') == [group["id"]]
    assert exact(group_schema, "members", "value") is True
    assert groups(f'members[value eq "{user["id"]}"]') == [group["id"]]
    assert groups(f'members[value eq "{user["id"].upper()}"]') == []
    assert groups(f'members.value eq "{user["id"].upper()}"') == []


def test_scim_requests_are_throttled_per_token_after_authentication(bin_path, tmp_path,
                                                                    fresh_store):
    server = start_server(bin_path, tmp_path, fresh_store, demo=False,
                          extra_args=["--rate-limit", "1/h", "--burst", "3",
                                      "--throttle-max-wait-ms", "0"])
    try:
        client = chime_client(server.endpoint, server.root)
        acct = client.create_account(Name=unique("throttled"))["Account"]["AccountId"]
        first = Scim(server, acct, create_token(server, acct)["Token"])
        second = Scim(server, acct, create_token(server, acct)["Token"])
        for _ in range(3):
            assert first.request("GET", "/Users").status_code == 200
        refused = expect_scim_error(first.request("GET", "/Users"), 429)
        assert "retry" in refused["detail"].lower(), refused
        assert int(first.request("GET", "/Users").headers["Retry-After"]) >= 1
        # A request that fails authentication is a 401, whatever the buckets hold.
        expect_scim_error(first.request("GET", "/Users", token="belfry-scim-nope"), 401)
        # Another token has its own bucket.
        assert second.request("GET", "/Users").status_code == 200
    finally:
        assert server.stop() == 0


def test_a_token_reaches_no_group_user_or_search_result_of_another_account(belfry, client, scim):
    other = client.create_account(Name=unique("other"))["Account"]["AccountId"]
    theirs = Scim(belfry, other, create_token(belfry, other)["Token"])
    their_user = theirs.request("POST", "/Users", json=new_user(
        "their-" + uuid.uuid4().hex, f"their-{uuid.uuid4().hex[:8]}@example.com")).json()
    their_group = theirs.request("POST", "/Groups", json={
        "displayName": "theirs", "members": [{"value": their_user["id"]}]}).json()
    mine = scim.request("POST", "/Users", json=new_user("mine-" + uuid.uuid4().hex)).json()
    my_group = scim.request("POST", "/Groups", json={
        "displayName": "mine", "members": [{"value": mine["id"]}]}).json()
    patch_add = {"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": their_user["id"]}]}]}
    # Their room under my account's URL is no group of mine.
    for method, body in [("GET", None), ("PUT", {"displayName": "taken"}),
                         ("PATCH", patch_add), ("DELETE", None)]:
        expect_scim_error(scim.request(method, f"/Groups/{their_group['id']}", json=body), 404)
    # Under their URL, my token is refused outright.
    trespass = Scim(belfry, other, scim.token)
    for method, path in [("GET", f"/Groups/{their_group['id']}"), ("GET", "/Groups"),
                         ("POST", "/.search"), ("POST", "/Users/.search")]:
        body = expect_scim_error(trespass.request(method, path, json={} if method == "POST"
                                                  else None), 401)
        assert their_user["id"] not in json.dumps(body)
    # Their user is no member my group can have.
    expect_scim_error(scim.request("PATCH", f"/Groups/{my_group['id']}", json=patch_add), 400,
                      "invalidValue")
    members = client.list_room_memberships(AccountId=scim.account_id, RoomId=my_group["id"])
    assert {m["Member"]["MemberId"] for m in members["RoomMemberships"]} == {mine["id"]}
    # A search of everything at my base finds only mine.
    found = scim.request("POST", "/.search",
                         json={"filter": 'userName pr or displayName eq "mine"'}).json()
    ids = {r["id"] for r in found["Resources"]}
    assert mine["id"] in ids and my_group["id"] in ids
    assert not ids & {their_user["id"], their_group["id"]}
    everything = scim.request("POST", "/.search", json={}).json()
    assert not {r["id"] for r in everything["Resources"]} & {their_user["id"], their_group["id"]}
    # Theirs is untouched.
    assert [m["Member"]["MemberId"] for m in client.list_room_memberships(
        AccountId=other, RoomId=their_group["id"])["RoomMemberships"]] == [their_user["id"]]


def test_a_user_made_between_pages_is_seen_once_and_counted_by_the_next_walk(scim):
    """totalResults is counted when a walk starts and kept by its pages (src/scim/paging.rs:
    a walk counts once, not once per page); users are never seen twice."""
    # Users list in ListUsers order, by email: each email is its userName.
    names = sorted(f"walk-{i:02d}-{uuid.uuid4().hex[:6]}@example.com" for i in range(10))
    for name in names:
        assert scim.request("POST", "/Users", json=new_user(name, name)).status_code == 201
    first = scim.request("GET", "/Users", params={"startIndex": 1, "count": 4}).json()
    assert first["totalResults"] == 10
    seen = [u["userName"] for u in first["Resources"]]
    assert seen == names[:4]
    # One user sorting after the walk's position, one before it.
    late, early = "walk-99-late@example.com", "walk-0-early@example.com"
    for name in [late, early]:
        assert scim.request("POST", "/Users", json=new_user(name, name)).status_code == 201
    start = 5
    while True:
        page = scim.request("GET", "/Users", params={"startIndex": start, "count": 4}).json()
        assert page["totalResults"] == 10, page["totalResults"]
        seen += [u["userName"] for u in page["Resources"]]
        if page["itemsPerPage"] < 4:
            break
        start += page["itemsPerPage"]
    assert len(seen) == len(set(seen)), seen
    assert set(names) | {late} <= set(seen)
    # The walk continued by keyset after names[3]: the one sorting before it is not on a
    # later page (it is on page 1 of a new walk).
    assert early not in seen
    again = scim.request("GET", "/Users", params={"startIndex": 1, "count": 4}).json()
    assert [u["userName"] for u in again["Resources"]][0] == early
    assert again["totalResults"] == 12
    # A jump to an index no page of a walk ended at counts anew.
    jump = scim.request("GET", "/Users", params={"startIndex": 7, "count": 2}).json()
    assert jump["totalResults"] == 12
