"""boto3's ListUsers paginator over the 250-user demo account seeded by `belfry serve --demo`."""

from support import DEMO_USERS, TIMESTAMP_RE, signed_request


def walk(demo_client, account_id, **config):
    pages = list(demo_client.get_paginator("list_users").paginate(
        AccountId=account_id, PaginationConfig=config))
    return pages, [u for p in pages for u in p["Users"]]


def assert_whole_demo(users, account_id):
    assert len(users) == DEMO_USERS
    assert len({u["UserId"] for u in users}) == DEMO_USERS
    assert len({u["PrimaryEmail"].lower() for u in users}) == DEMO_USERS
    keys = [u["PrimaryEmail"].lower() for u in users]
    assert keys == sorted(keys)
    assert all(u["AccountId"] == account_id for u in users)


def test_demo_banner(demo, belfry):
    assert demo.demo_verb == "seeded"
    assert demo.demo_user_count == DEMO_USERS
    assert demo.demo_key.access_key_id.startswith("AKIA")
    assert demo.try_command == (
        f"aws chime list-users --account-id {demo.demo_account_id} --endpoint-url {belfry.endpoint}"
    )


def test_demo_account_is_visible_to_demo_key(demo_client, demo):
    acct = demo_client.get_account(AccountId=demo.demo_account_id)["Account"]
    assert acct["AccountId"] == demo.demo_account_id
    assert acct["AwsAccountId"] == "111111111111"
    assert acct["AccountStatus"] == "Active"


def test_paginator_page_size_7(demo_client, demo):
    pages, users = walk(demo_client, demo.demo_account_id, PageSize=7)
    assert [len(p["Users"]) for p in pages] == [7] * 35 + [5]
    assert all("NextToken" in p for p in pages[:-1])
    assert "NextToken" not in pages[-1]
    assert_whole_demo(users, demo.demo_account_id)


def test_paginator_default_page_size(demo_client, demo):
    pages, users = walk(demo_client, demo.demo_account_id)
    assert [len(p["Users"]) for p in pages] == [100, 100, 50]
    assert_whole_demo(users, demo.demo_account_id)


def test_paginator_max_items_resumes_with_its_token(demo_client, demo):
    paginator = demo_client.get_paginator("list_users")
    first = paginator.paginate(AccountId=demo.demo_account_id,
                               PaginationConfig={"PageSize": 40, "MaxItems": 90}).build_full_result()
    assert len(first["Users"]) == 90
    rest = paginator.paginate(AccountId=demo.demo_account_id,
                              PaginationConfig={"PageSize": 40,
                                                "StartingToken": first["NextToken"]}
                              ).build_full_result()
    assert "NextToken" not in rest
    assert_whole_demo(first["Users"] + rest["Users"], demo.demo_account_id)


def test_max_results_200_then_rest(demo_client, demo):
    first = demo_client.list_users(AccountId=demo.demo_account_id, MaxResults=200)
    assert len(first["Users"]) == 200
    second = demo_client.list_users(AccountId=demo.demo_account_id, MaxResults=200,
                                    NextToken=first["NextToken"])
    assert len(second["Users"]) == 50
    assert "NextToken" not in second
    assert_whole_demo(first["Users"] + second["Users"], demo.demo_account_id)


def test_demo_user_type_filter_partitions_the_demo(demo_client, demo):
    _, everyone = walk(demo_client, demo.demo_account_id, PageSize=200)
    by_type = {}
    for kind in ("PrivateUser", "SharedDevice"):
        pages = list(demo_client.get_paginator("list_users").paginate(
            AccountId=demo.demo_account_id, UserType=kind, PaginationConfig={"PageSize": 30}))
        users = [u for p in pages for u in p["Users"]]
        assert all(u["UserType"] == kind for u in users)
        assert all(len(p["Users"]) <= 30 for p in pages)
        by_type[kind] = users
    assert by_type["SharedDevice"], "the demo should hold some SharedDevice users"
    expected = {kind: [u["UserId"] for u in everyone if u["UserType"] == kind]
                for kind in by_type}
    assert {k: [u["UserId"] for u in v] for k, v in by_type.items()} == expected


def test_demo_email_filter_finds_one(demo_client, demo):
    users = demo_client.list_users(AccountId=demo.demo_account_id, MaxResults=5)["Users"]
    target = users[3]
    got = demo_client.list_users(AccountId=demo.demo_account_id,
                                 UserEmail=target["PrimaryEmail"].upper())["Users"]
    assert got == [target]


def test_demo_timestamps_on_the_wire(belfry, demo):
    resp = signed_request(belfry.endpoint, demo.demo_key, "GET",
                          f"/accounts/{demo.demo_account_id}/users?max-results=20")
    assert resp.status_code == 200
    users = resp.json()["Users"]
    stamps = [u[f] for u in users for f in ("InvitedOn", "RegisteredOn") if f in u]
    assert stamps, users
    for s in stamps:
        assert TIMESTAMP_RE.match(s), s
    account = signed_request(belfry.endpoint, demo.demo_key, "GET",
                             f"/accounts/{demo.demo_account_id}").json()["Account"]
    assert TIMESTAMP_RE.match(account["CreatedTimestamp"]), account
