"""Presigned URLs fetched with plain HTTP, and raw protocol checks signed with botocore's SigV4."""

import json
import time
import uuid
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from support import (
    REGION, SERVICE, TIMESTAMP_RE, expect_raw_error, random_key, signed_request, unique, Key,
)


def presign(key: Key, url: str, expires: int, method: str = "GET") -> str:
    req = AWSRequest(method=method, url=url)
    SigV4QueryAuth(key.credentials, SERVICE, REGION, expires=expires).add_auth(req)
    return req.url


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = [(k, changes.pop(k) if k in changes else v) for k, v in parse_qsl(parts.query)]
    query += list(changes.items())
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


@pytest.fixture
def populated(client, account):
    acct = account["AccountId"]
    client.invite_users(AccountId=acct,
                        UserEmailList=[f"{unique('presign')}-{i}@example.com" for i in range(8)])
    return acct


# -- presigned URLs ----------------------------------------------------------------------------

def test_presigned_url_lists_users(endpoint, tenant, populated):
    url = presign(tenant, f"{endpoint}/accounts/{populated}/users?max-results=5", 60)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("x-amzn-RequestId")
    body = resp.json()
    assert len(body["Users"]) == 5
    assert body["NextToken"]
    assert all(u["AccountId"] == populated for u in body["Users"])
    # The same URL may be fetched again while it is valid.
    again = requests.get(url, timeout=30)
    assert again.status_code == 200
    assert [u["UserId"] for u in again.json()["Users"]] == [u["UserId"] for u in body["Users"]]


def test_presigned_url_with_changed_query_is_unauthorized(endpoint, tenant, populated):
    url = presign(tenant, f"{endpoint}/accounts/{populated}/users?max-results=5", 60)
    # Control: the URL rebuilt without a change still works.
    assert requests.get(with_query(url), timeout=30).status_code == 200
    changed = with_query(url, **{"max-results": "6"})
    assert changed != url
    resp = requests.get(changed, timeout=30)
    body = expect_raw_error(resp, "UnauthorizedClientException", 401)
    assert "signature" in body["Message"].lower()
    assert tenant.secret_access_key not in resp.text
    added = with_query(url, **{"user-type": "SharedDevice"})
    expect_raw_error(requests.get(added, timeout=30), "UnauthorizedClientException", 401)


def test_presigned_url_for_another_path_is_unauthorized(endpoint, tenant, populated):
    url = presign(tenant, f"{endpoint}/accounts/{populated}/users?max-results=5", 60)
    parts = urlsplit(url)
    other = urlunsplit(parts._replace(path=f"/accounts/{populated}"))
    expect_raw_error(requests.get(other, timeout=30), "UnauthorizedClientException", 401)


def test_expired_presigned_url_is_unauthorized(endpoint, tenant, populated):
    url = presign(tenant, f"{endpoint}/accounts/{populated}/users?max-results=5", 1)
    time.sleep(2.2)
    resp = requests.get(url, timeout=30)
    body = expect_raw_error(resp, "UnauthorizedClientException", 401)
    assert "expire" in body["Message"].lower(), body


def test_presigned_url_of_unknown_key_is_unauthorized(endpoint, populated):
    key_id, secret = random_key()
    url = presign(Key(key_id, secret, "000000000000"),
                  f"{endpoint}/accounts/{populated}/users?max-results=5", 60)
    body = expect_raw_error(requests.get(url, timeout=30), "UnauthorizedClientException", 401)
    assert "access key" in body["Message"].lower()
    assert secret not in body["Message"]


def test_unsigned_get_is_unauthorized_json(endpoint, populated):
    resp = requests.get(f"{endpoint}/accounts/{populated}/users", timeout=30)
    body = expect_raw_error(resp, "UnauthorizedClientException", 401)
    assert "<html" not in resp.text.lower()
    assert set(body) == {"Code", "Message"}


def test_unsigned_post_is_unauthorized(endpoint):
    resp = requests.post(f"{endpoint}/accounts", data=json.dumps({"Name": "x"}), timeout=30)
    expect_raw_error(resp, "UnauthorizedClientException", 401)


def test_signature_for_another_service_is_unauthorized(endpoint, tenant):
    resp = signed_request(endpoint, tenant, "GET", "/accounts", service="s3")
    body = expect_raw_error(resp, "UnauthorizedClientException", 401)
    assert "chime" in body["Message"]


# -- raw protocol ------------------------------------------------------------------------------

def test_unknown_operation_discriminator_is_bad_request(endpoint, tenant, account):
    path = f"/accounts/{account['AccountId']}/users?operation=bogus"
    resp = signed_request(endpoint, tenant, "POST", path,
                          body=json.dumps({"Email": "a@example.com"}).encode())
    body = expect_raw_error(resp, "BadRequestException", 400)
    assert "bogus" in body["Message"]
    assert f"POST /accounts/{account['AccountId']}/users" in body["Message"]


@pytest.mark.parametrize("method,path", [
    ("GET", "/nothing/here"),
    ("POST", "/accounts/x/users/y/z/extra"),
    ("PATCH", "/accounts"),
    ("DELETE", "/accounts/x/users"),
])
def test_unknown_route_names_method_and_path(endpoint, tenant, method, path):
    resp = signed_request(endpoint, tenant, method, path)
    body = expect_raw_error(resp, "BadRequestException", 400)
    assert f"{method} {path}" in body["Message"], body
    assert "<html" not in resp.text.lower()


def test_invalid_json_body_on_create_account_is_bad_request(endpoint, tenant, client):
    resp = signed_request(endpoint, tenant, "POST", "/accounts", body=b'{"Name": "broken',
                          headers={"Content-Type": "application/json"})
    expect_raw_error(resp, "BadRequestException", 400)
    assert client.list_accounts()["Accounts"] == []


def test_wrong_member_type_on_create_account_is_bad_request(endpoint, tenant):
    resp = signed_request(endpoint, tenant, "POST", "/accounts", body=b'{"Name": 42}')
    expect_raw_error(resp, "BadRequestException", 400)


def test_raw_create_account_and_get(endpoint, tenant):
    name = unique("Raw")
    resp = signed_request(endpoint, tenant, "POST", "/accounts",
                          body=json.dumps({"Name": name}).encode(),
                          headers={"Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    account = resp.json()["Account"]
    assert account["Name"] == name
    assert account["AwsAccountId"] == tenant.aws_account_id
    assert TIMESTAMP_RE.match(account["CreatedTimestamp"]), account
    got = signed_request(endpoint, tenant, "GET", f"/accounts/{account['AccountId']}")
    assert got.status_code == 200
    assert got.json()["Account"] == account


def test_raw_list_users_of_empty_account_has_empty_users_array(endpoint, tenant, account):
    resp = signed_request(endpoint, tenant, "GET", f"/accounts/{account['AccountId']}/users")
    assert resp.status_code == 200
    assert resp.json() == {"Users": []}


def test_raw_invite_users_sets_invited_on_timestamp(endpoint, tenant, account):
    acct = account["AccountId"]
    address = f"{unique('rawinv')}@example.com"
    resp = signed_request(endpoint, tenant, "POST", f"/accounts/{acct}/users?operation=add",
                          body=json.dumps({"UserEmailList": [address]}).encode())
    assert resp.status_code == 201, resp.text
    listed = signed_request(endpoint, tenant, "GET",
                            f"/accounts/{acct}/users?user-email={quote(address, safe='')}").json()["Users"]
    assert len(listed) == 1
    assert TIMESTAMP_RE.match(listed[0]["InvitedOn"]), listed


def test_request_id_on_every_response(endpoint, tenant, account):
    acct = account["AccountId"]
    responses = [
        signed_request(endpoint, tenant, "GET", "/accounts"),
        signed_request(endpoint, tenant, "GET", f"/accounts/{acct}"),
        signed_request(endpoint, tenant, "GET", f"/accounts/{acct}/users"),
        signed_request(endpoint, tenant, "POST", f"/accounts/{acct}/users?operation=create",
                       body=json.dumps({"Email": f"{unique()}@example.com"}).encode()),
        signed_request(endpoint, tenant, "GET", f"/accounts/{uuid.uuid4()}"),
        signed_request(endpoint, tenant, "GET", f"/accounts/{acct}/users?max-results=500"),
        signed_request(endpoint, tenant, "GET", "/nothing"),
        signed_request(endpoint, tenant, "GET", "/phone-numbers"),
        requests.get(f"{endpoint}/accounts", timeout=30),
        requests.get(f"{endpoint}/", timeout=30),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 201, 404, 400, 400, 200, 401,
                                                  401]
    ids = [r.headers.get("x-amzn-RequestId") for r in responses]
    assert all(ids), [dict(r.headers) for r in responses]
    assert len(set(ids)) == len(ids)
    for r in responses:
        if r.status_code >= 400:
            assert r.headers.get("x-amzn-ErrorType"), dict(r.headers)
            assert set(r.json()) >= {"Code", "Message"}
        else:
            assert "x-amzn-ErrorType" not in r.headers


def test_repeated_query_member_is_bad_request(endpoint, tenant, account):
    resp = signed_request(endpoint, tenant, "GET",
                          f"/accounts/{account['AccountId']}/users?max-results=1&max-results=2")
    expect_raw_error(resp, "BadRequestException", 400)


@pytest.mark.parametrize("query,fragment", [
    ("max-results=0", "Value '0' at 'maxResults' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 1"),
    ("max-results=201", "Value '201' at 'maxResults' failed to satisfy constraint: "
                        "Member must have value less than or equal to 200"),
    ("max-results=abc", "'maxResults'"),
    ("user-type=privateuser", "'userType'"),
])
def test_raw_list_users_query_validation(endpoint, tenant, account, query, fragment):
    resp = signed_request(endpoint, tenant, "GET",
                          f"/accounts/{account['AccountId']}/users?{query}")
    body = expect_raw_error(resp, "BadRequestException", 400)
    assert body["Message"].startswith("1 validation error detected: "), body
    assert fragment in body["Message"], body


@pytest.mark.parametrize("authorization", [
    "AWS4-HMAC-SHA256 garbage",
    "Bearer abc.def.ghi",
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/chime/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
])
def test_bad_authorization_header_is_unauthorized(endpoint, authorization):
    resp = requests.get(f"{endpoint}/accounts", headers={"Authorization": authorization},
                        timeout=30)
    expect_raw_error(resp, "UnauthorizedClientException", 401)
