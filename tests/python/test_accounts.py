"""CreateAccount, GetAccount and ListAccounts through boto3."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from support import chime_client, expect_error, unique


def assert_new_account(account: dict, name: str, aws_account_id: str) -> None:
    assert account["Name"] == name
    assert account["AwsAccountId"] == aws_account_id
    assert account["AccountType"] == "Team"
    assert account["AccountStatus"] == "Active"
    assert account["DefaultLicense"] == "Pro"
    assert account["SupportedLicenses"] == ["Basic", "Pro"]
    assert len(account["AccountId"]) >= 8
    created = account["CreatedTimestamp"]
    assert created.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5), created


def test_create_account_returns_201_and_a_team_account(client, tenant):
    name = unique("Create Team")
    resp = client.create_account(Name=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["ResponseMetadata"]["RequestId"]
    assert_new_account(resp["Account"], name, tenant.aws_account_id)


def test_create_account_ids_are_distinct(client):
    a = client.create_account(Name=unique())["Account"]["AccountId"]
    b = client.create_account(Name=unique())["Account"]["AccountId"]
    assert a != b


def test_get_account_returns_what_create_returned(client, tenant):
    name = unique("Get Team")
    created = client.create_account(Name=name)["Account"]
    resp = client.get_account(AccountId=created["AccountId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Account"] == created
    assert_new_account(resp["Account"], name, tenant.aws_account_id)


def test_get_account_unknown_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_account(AccountId="00000000-0000-0000-0000-000000000000")
    err = expect_error(e, "NotFoundException", 404)
    assert "00000000-0000-0000-0000-000000000000" in err["Error"]["Message"]


def test_create_account_with_blank_name_is_bad_request(client):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_account(Name="   ")
    err = expect_error(e, "BadRequestException", 400)
    assert "'name'" in err["Error"]["Message"]


def test_create_account_with_too_long_name_is_bad_request(client):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_account(Name="x" * 101)
    err = expect_error(e, "BadRequestException", 400)
    assert "less than or equal to 100" in err["Error"]["Message"]


def test_list_accounts_lists_only_the_callers_accounts(client, tenant):
    names = sorted(unique("Mine") for _ in range(3))
    ids = {client.create_account(Name=n)["Account"]["AccountId"] for n in names}
    resp = client.list_accounts()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {a["AccountId"] for a in resp["Accounts"]} == ids
    assert {a["Name"] for a in resp["Accounts"]} == set(names)
    assert all(a["AwsAccountId"] == tenant.aws_account_id for a in resp["Accounts"])
    assert "NextToken" not in resp


def test_list_accounts_of_a_new_tenant_is_empty(client):
    resp = client.list_accounts()
    assert resp["Accounts"] == []
    assert "NextToken" not in resp


def test_list_accounts_name_prefix_filter(client):
    stem = unique("Prefix")
    alpha1 = client.create_account(Name=f"{stem}-alpha-1")["Account"]
    alpha2 = client.create_account(Name=f"{stem}-alpha-2")["Account"]
    client.create_account(Name=f"{stem}-beta")
    client.create_account(Name=f"other-{stem}-alpha")
    got = client.list_accounts(Name=f"{stem}-alpha")["Accounts"]
    assert {a["AccountId"] for a in got} == {alpha1["AccountId"], alpha2["AccountId"]}
    assert len(client.list_accounts(Name=stem)["Accounts"]) == 3
    assert client.list_accounts(Name=f"{stem}-gamma")["Accounts"] == []


def test_list_accounts_user_email_filter(client):
    with_user = client.create_account(Name=unique("WithUser"))["Account"]
    client.create_account(Name=unique("WithoutUser"))
    email = f"{unique('member')}@example.com"
    client.create_user(AccountId=with_user["AccountId"], Email=email)
    got = client.list_accounts(UserEmail=email)["Accounts"]
    assert [a["AccountId"] for a in got] == [with_user["AccountId"]]
    assert client.list_accounts(UserEmail=f"nobody-{email}")["Accounts"] == []


def test_list_accounts_pages_with_max_results_and_next_token(client):
    ids = {client.create_account(Name=unique("Paged"))["Account"]["AccountId"] for _ in range(5)}
    seen, sizes = [], []
    kwargs = {"MaxResults": 2}
    while True:
        resp = client.list_accounts(**kwargs)
        sizes.append(len(resp["Accounts"]))
        seen += [a["AccountId"] for a in resp["Accounts"]]
        if "NextToken" not in resp:
            break
        kwargs["NextToken"] = resp["NextToken"]
    assert sizes == [2, 2, 1]
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == ids


def test_list_accounts_paginator(client):
    ids = {client.create_account(Name=unique("Pgn"))["Account"]["AccountId"] for _ in range(4)}
    pages = list(client.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["Accounts"]) for p in pages] == [3, 1]
    assert {a["AccountId"] for p in pages for a in p["Accounts"]} == ids


def test_list_accounts_max_results_above_200_is_bad_request(client):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_accounts(MaxResults=201)
    err = expect_error(e, "BadRequestException", 400)
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value '201' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 200"
    )


def test_account_name_with_reserved_characters_round_trips(client):
    # Exercises SigV4 canonicalisation of percent-encoded query values.
    stem = unique("R&D")
    name = f"{stem} + Ops = été/2024 ~*'!()"
    acct = client.create_account(Name=name)["Account"]
    assert acct["Name"] == name
    got = client.list_accounts(Name=f"{stem} + Ops = été")["Accounts"]
    assert [a["AccountId"] for a in got] == [acct["AccountId"]]
    assert got[0]["Name"] == name
    assert client.list_accounts(Name=f"{stem} + Ops = ete")["Accounts"] == []


def test_concurrent_create_account_all_succeed(client, belfry, tenant):
    clients = [chime_client(belfry.endpoint, tenant) for _ in range(4)]
    names = [unique("Par") for _ in range(12)]
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda i: clients[i % 4].create_account(Name=names[i])["Account"],
                             range(12)))
    assert len({a["AccountId"] for a in made}) == 12
    listed = client.list_accounts()["Accounts"]
    assert sorted(a["Name"] for a in listed) == sorted(names)
