"""CreateUser, InviteUsers, GetUser and ListUsers through boto3."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from support import chime_client, email, expect_error, list_all, unique

REGISTRATION = {"Unregistered", "Registered", "Suspended"}


def recent(ts: datetime) -> bool:
    return abs(datetime.now(timezone.utc) - ts) < timedelta(minutes=5)


# -- CreateUser ----------------------------------------------------------------------------

def test_create_user_returns_201_and_the_user(client, account):
    address = email("Mixed.Case")
    resp = client.create_user(AccountId=account["AccountId"], Username="Grace Hopper",
                              Email=address)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    user = resp["User"]
    assert user["UserId"]
    assert user["AccountId"] == account["AccountId"]
    assert user["PrimaryEmail"] == address
    assert user["DisplayName"] == "Grace Hopper"
    assert user["UserType"] == "PrivateUser"
    assert user["LicenseType"] == account["DefaultLicense"] == "Pro"
    assert user["UserRegistrationStatus"] in REGISTRATION


def test_create_user_shared_device(client, account):
    user = client.create_user(AccountId=account["AccountId"], Email=email("device"),
                              UserType="SharedDevice")["User"]
    assert user["UserType"] == "SharedDevice"
    assert "DisplayName" not in user


def test_get_user_returns_what_create_returned(client, account):
    created = client.create_user(AccountId=account["AccountId"], Username="Ada",
                                 Email=email("get"))["User"]
    resp = client.get_user(AccountId=account["AccountId"], UserId=created["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["User"] == created


def test_get_user_unknown_user_is_not_found(client, account):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_user(AccountId=account["AccountId"], UserId="no-such-user")
    expect_error(e, "NotFoundException", 404)


def test_get_user_of_another_account_is_not_found(client):
    a = client.create_account(Name=unique())["Account"]["AccountId"]
    b = client.create_account(Name=unique())["Account"]["AccountId"]
    user = client.create_user(AccountId=a, Email=email())["User"]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_user(AccountId=b, UserId=user["UserId"])
    expect_error(e, "NotFoundException", 404)


def test_create_user_duplicate_email_is_conflict_case_insensitively(client, account):
    address = email("dup")
    first = client.create_user(AccountId=account["AccountId"], Email=address)["User"]
    for again in (address, address.upper()):
        with pytest.raises(client.exceptions.ConflictException) as e:
            client.create_user(AccountId=account["AccountId"], Email=again)
        expect_error(e, "ConflictException", 409)
    users = client.list_users(AccountId=account["AccountId"])["Users"]
    assert [u["UserId"] for u in users] == [first["UserId"]]


def test_same_email_in_two_accounts_is_allowed(client):
    address = email("twice")
    a = client.create_account(Name=unique())["Account"]["AccountId"]
    b = client.create_account(Name=unique())["Account"]["AccountId"]
    ua = client.create_user(AccountId=a, Email=address)["User"]
    ub = client.create_user(AccountId=b, Email=address)["User"]
    assert ua["UserId"] != ub["UserId"]
    assert ub["AccountId"] == b


def test_create_user_without_email_is_bad_request(client, account):
    # The model does not mark Email required, so botocore sends the request.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_user(AccountId=account["AccountId"], Username="nobody")
    err = expect_error(e, "BadRequestException", 400)
    assert "'email'" in err["Error"]["Message"]


def test_create_user_with_invalid_email_is_bad_request(client, account):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_user(AccountId=account["AccountId"], Email="not-an-email")
    err = expect_error(e, "BadRequestException", 400)
    assert "'email'" in err["Error"]["Message"]
    assert client.list_users(AccountId=account["AccountId"])["Users"] == []


def test_create_user_in_unknown_account_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.create_user(AccountId="11111111-2222-3333-4444-555555555555", Email=email())
    expect_error(e, "NotFoundException", 404)


# -- InviteUsers ---------------------------------------------------------------------------

def test_invite_users_creates_pending_users(client, account):
    emails = [email("inv1"), email("inv2")]
    resp = client.invite_users(AccountId=account["AccountId"], UserEmailList=emails)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    invites = resp["Invites"]
    assert [i["EmailAddress"] for i in invites] == emails
    assert all(i["Status"] == "Pending" for i in invites), invites
    assert all(i["InviteId"] for i in invites)
    assert len({i["InviteId"] for i in invites}) == 2

    users = {u["PrimaryEmail"]: u for u in client.list_users(AccountId=account["AccountId"])["Users"]}
    assert set(users) == set(emails)
    for u in users.values():
        assert u["UserInvitationStatus"] == "Pending"
        assert u["UserRegistrationStatus"] == "Unregistered"
        assert u["LicenseType"] == account["DefaultLicense"]
        assert u["UserType"] == "PrivateUser"
        assert recent(u["InvitedOn"]), u
        assert client.get_user(AccountId=account["AccountId"], UserId=u["UserId"])["User"] == u


def test_invite_users_with_user_type(client, account):
    address = email("invdev")
    client.invite_users(AccountId=account["AccountId"], UserEmailList=[address],
                        UserType="SharedDevice")
    users = client.list_users(AccountId=account["AccountId"], UserEmail=address)["Users"]
    assert len(users) == 1
    assert users[0]["UserType"] == "SharedDevice"
    assert users[0]["UserInvitationStatus"] == "Pending"


def test_invite_existing_email_fails_without_new_user(client, account):
    existing = email("Existing")
    user = client.create_user(AccountId=account["AccountId"], Email=existing)["User"]
    fresh = email("fresh")
    resp = client.invite_users(AccountId=account["AccountId"],
                               UserEmailList=[existing.upper(), fresh])
    statuses = {i["EmailAddress"].lower(): i["Status"] for i in resp["Invites"]}
    assert statuses == {existing.lower(): "Failed", fresh: "Pending"}
    users = client.list_users(AccountId=account["AccountId"])["Users"]
    assert len(users) == 2
    same = [u for u in users if u["PrimaryEmail"].lower() == existing.lower()]
    assert [u["UserId"] for u in same] == [user["UserId"]]
    # The existing user is untouched by the failed invitation.
    assert client.get_user(AccountId=account["AccountId"], UserId=user["UserId"])["User"] == user


def test_invite_more_than_50_is_bad_request(client, account):
    # botocore checks only list minimums: 51 emails reach the server.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.invite_users(AccountId=account["AccountId"],
                            UserEmailList=[f"u{i}@example.com" for i in range(51)])
    err = expect_error(e, "BadRequestException", 400)
    assert "'userEmailList'" in err["Error"]["Message"]
    assert client.list_users(AccountId=account["AccountId"])["Users"] == []


def test_invite_50_is_accepted(client, account):
    emails = [f"{unique('fifty')}-{i:02}@example.com" for i in range(50)]
    resp = client.invite_users(AccountId=account["AccountId"], UserEmailList=emails)
    assert len(resp["Invites"]) == 50
    assert len(list_all(client, AccountId=account["AccountId"])) == 50


def test_invite_users_in_unknown_account_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.invite_users(AccountId="no-such-account", UserEmailList=[email()])
    expect_error(e, "NotFoundException", 404)


# -- ListUsers -----------------------------------------------------------------------------

@pytest.fixture
def populated(client, account):
    """An account of 5 PrivateUser and 3 SharedDevice users with mixed-case emails."""
    acct = account["AccountId"]
    stem = unique("pop")
    private = [f"{stem}.P{i}@Example.com" for i in range(5)]
    shared = [f"{stem}.s{i}@example.COM" for i in range(3)]
    for e in private:
        client.create_user(AccountId=acct, Email=e)
    client.invite_users(AccountId=acct, UserEmailList=shared, UserType="SharedDevice")
    return acct, private, shared


def test_list_users_returns_all_sorted_by_lowercase_email(client, populated):
    acct, private, shared = populated
    resp = client.list_users(AccountId=acct)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    emails = [u["PrimaryEmail"] for u in resp["Users"]]
    assert sorted(emails) == sorted(private + shared)
    assert emails == sorted(emails, key=str.lower)
    assert "NextToken" not in resp
    assert all(u["AccountId"] == acct for u in resp["Users"])


def test_list_users_email_filter_is_exact_and_case_insensitive(client, populated):
    acct, private, _ = populated
    target = private[2]
    for query in (target, target.upper(), target.lower()):
        users = client.list_users(AccountId=acct, UserEmail=query)["Users"]
        assert [u["PrimaryEmail"] for u in users] == [target], query
    # Exact, not a prefix or substring.
    prefix = target.split("@")[0][:-1] + "@example.com"
    assert client.list_users(AccountId=acct, UserEmail=prefix)["Users"] == []


def test_list_users_no_match_is_an_empty_list(client, populated):
    acct, _, _ = populated
    resp = client.list_users(AccountId=acct, UserEmail="nobody@nowhere.example")
    assert resp["Users"] == []
    assert "NextToken" not in resp


def test_list_users_of_empty_account_is_an_empty_list(client, account):
    resp = client.list_users(AccountId=account["AccountId"])
    assert resp["Users"] == []
    assert "NextToken" not in resp


def test_list_users_user_type_filter(client, populated):
    acct, private, shared = populated
    got = client.list_users(AccountId=acct, UserType="SharedDevice")["Users"]
    assert sorted(u["PrimaryEmail"] for u in got) == sorted(shared)
    assert all(u["UserType"] == "SharedDevice" for u in got)
    got = client.list_users(AccountId=acct, UserType="PrivateUser")["Users"]
    assert sorted(u["PrimaryEmail"] for u in got) == sorted(private)
    both = client.list_users(AccountId=acct, UserType="PrivateUser", UserEmail=shared[0])
    assert both["Users"] == []


def test_list_users_pages_are_min_of_max_results_and_remaining(client, populated):
    acct, private, shared = populated
    sizes, tokens, ids = [], [], []
    kwargs = {"AccountId": acct, "MaxResults": 3}
    while True:
        resp = client.list_users(**kwargs)
        sizes.append(len(resp["Users"]))
        ids += [u["UserId"] for u in resp["Users"]]
        tokens.append("NextToken" in resp)
        if "NextToken" not in resp:
            break
        kwargs["NextToken"] = resp["NextToken"]
    assert sizes == [3, 3, 2]
    assert tokens == [True, True, False]
    assert len(ids) == len(set(ids)) == 8


def test_list_users_no_next_token_when_page_ends_exactly(client, populated):
    acct, _, _ = populated
    first = client.list_users(AccountId=acct, MaxResults=4)
    assert len(first["Users"]) == 4 and first["NextToken"]
    second = client.list_users(AccountId=acct, MaxResults=4, NextToken=first["NextToken"])
    assert len(second["Users"]) == 4
    assert "NextToken" not in second
    whole = client.list_users(AccountId=acct, MaxResults=8)
    assert len(whole["Users"]) == 8 and "NextToken" not in whole


def test_list_users_max_results_may_change_between_pages(client, populated):
    acct, _, _ = populated
    everyone = [u["UserId"] for u in client.list_users(AccountId=acct)["Users"]]
    first = client.list_users(AccountId=acct, MaxResults=2)
    rest = client.list_users(AccountId=acct, MaxResults=10, NextToken=first["NextToken"])
    assert [u["UserId"] for u in first["Users"] + rest["Users"]] == everyone
    assert "NextToken" not in rest


def test_list_users_paginator_with_filters(client, populated):
    acct, private, shared = populated
    pages = list(client.get_paginator("list_users").paginate(
        AccountId=acct, UserType="PrivateUser", PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    emails = [u["PrimaryEmail"] for p in pages for u in p["Users"]]
    assert emails == sorted(private, key=str.lower)
    pages = list(client.get_paginator("list_users").paginate(
        AccountId=acct, UserEmail=shared[1].upper(), PaginationConfig={"PageSize": 2}))
    assert [[u["PrimaryEmail"] for u in p["Users"]] for p in pages] == [[shared[1]]]
    result = client.get_paginator("list_users").paginate(
        AccountId=acct, UserType="SharedDevice",
        PaginationConfig={"PageSize": 1, "MaxItems": 2}).build_full_result()
    assert [u["PrimaryEmail"] for u in result["Users"]] == sorted(shared, key=str.lower)[:2]
    assert result["NextToken"]


# -- ListUsers validation and errors ---------------------------------------------------------

def test_list_users_max_results_500_is_bad_request(client, account):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=account["AccountId"], MaxResults=500)
    err = expect_error(e, "BadRequestException", 400)
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value '500' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 200"
    )


def test_list_users_max_results_200_is_accepted(client, account):
    resp = client.list_users(AccountId=account["AccountId"], MaxResults=200)
    assert resp["Users"] == []


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "@example.com"])
def test_list_users_invalid_email_is_bad_request(client, account, bad):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=account["AccountId"], UserEmail=bad)
    err = expect_error(e, "BadRequestException", 400)
    msg = err["Error"]["Message"]
    assert msg.startswith("1 validation error detected:"), msg
    assert "'userEmail'" in msg


def test_list_users_unknown_user_type_is_bad_request(client, account):
    # botocore does not validate enums: the server must.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=account["AccountId"], UserType="Robot")
    err = expect_error(e, "BadRequestException", 400)
    msg = err["Error"]["Message"]
    assert msg.startswith("1 validation error detected:"), msg
    assert "'Robot'" in msg and "'userType'" in msg and "enum" in msg


def test_list_users_several_violations_are_reported_together(client, account):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=account["AccountId"], UserType="Robot", MaxResults=201)
    err = expect_error(e, "BadRequestException", 400)
    msg = err["Error"]["Message"]
    assert msg.startswith("2 validation errors detected:"), msg
    assert "'userType'" in msg and "'maxResults'" in msg


def test_list_users_blank_account_id_is_bad_request(client):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=" ")
    err = expect_error(e, "BadRequestException", 400)
    assert "'accountId'" in err["Error"]["Message"]


def test_list_users_unknown_account_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.list_users(AccountId="99999999-9999-9999-9999-999999999999")
    err = expect_error(e, "NotFoundException", 404)
    assert "99999999-9999-9999-9999-999999999999" in err["Error"]["Message"]


# -- NextToken misuse ------------------------------------------------------------------------

def tamper(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]


@pytest.fixture
def token_of(client, populated):
    acct, private, shared = populated
    resp = client.list_users(AccountId=acct, MaxResults=2)
    assert resp["NextToken"]
    return acct, resp["NextToken"]


@pytest.mark.parametrize("misuse", [
    "other-user-type", "other-email", "tampered", "truncated", "garbage", "empty-ish",
])
def test_list_users_next_token_misuse_is_bad_request(client, token_of, misuse):
    acct, token = token_of
    kwargs = {"AccountId": acct, "MaxResults": 2, "NextToken": token}
    if misuse == "other-user-type":
        kwargs["UserType"] = "PrivateUser"
    elif misuse == "other-email":
        kwargs["UserEmail"] = "someone@example.com"
    elif misuse == "tampered":
        kwargs["NextToken"] = tamper(token)
    elif misuse == "truncated":
        kwargs["NextToken"] = token[: len(token) - 5]
    elif misuse == "garbage":
        kwargs["NextToken"] = "this-is-not-a-token"
    elif misuse == "empty-ish":
        kwargs["NextToken"] = "=="
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(**kwargs)
    err = expect_error(e, "BadRequestException", 400)
    assert "NextToken" in err["Error"]["Message"] or "token" in err["Error"]["Message"].lower()


def test_list_users_next_token_of_filtered_listing_refused_unfiltered(client, populated):
    acct, _, _ = populated
    resp = client.list_users(AccountId=acct, UserType="PrivateUser", MaxResults=2)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=acct, MaxResults=2, NextToken=resp["NextToken"])
    expect_error(e, "BadRequestException", 400)
    # With the same filter it continues.
    more = client.list_users(AccountId=acct, UserType="PrivateUser", MaxResults=2,
                             NextToken=resp["NextToken"])
    assert len(more["Users"]) == 2


def test_list_users_next_token_of_another_account_is_bad_request(client, token_of):
    acct, token = token_of
    other = client.create_account(Name=unique())["Account"]["AccountId"]
    for i in range(3):
        client.create_user(AccountId=other, Email=email(f"other{i}"))
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_users(AccountId=other, MaxResults=2, NextToken=token)
    expect_error(e, "BadRequestException", 400)


# -- emails, special values and concurrency -----------------------------------------------------

def test_email_filter_with_plus_and_unicode(client, account):
    acct = account["AccountId"]
    stem = unique("x")
    plus = f"first+{stem}@example.com"
    accented = f"élodie.{stem}@example.com"
    client.create_user(AccountId=acct, Email=plus)
    client.create_user(AccountId=acct, Email=accented)
    assert [u["PrimaryEmail"] for u in
            client.list_users(AccountId=acct, UserEmail=plus)["Users"]] == [plus]
    assert [u["PrimaryEmail"] for u in
            client.list_users(AccountId=acct, UserEmail=accented.upper())["Users"]] == [accented]
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.create_user(AccountId=acct, Email=accented.upper())
    expect_error(e, "ConflictException", 409)


def test_invite_same_email_twice_in_one_request(client, account):
    address = email("twice")
    invites = client.invite_users(AccountId=account["AccountId"],
                                  UserEmailList=[address, address.upper()])["Invites"]
    assert [i["Status"] for i in invites] == ["Pending", "Failed"]
    users = client.list_users(AccountId=account["AccountId"])["Users"]
    assert [u["PrimaryEmail"] for u in users] == [address]


@pytest.mark.parametrize("account_id", ["a/b", "a b", "%41", "ü"])
def test_unusual_account_ids_are_not_found(client, account_id):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_account(AccountId=account_id)
    err = expect_error(e, "NotFoundException", 404)
    assert account_id in err["Error"]["Message"]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.list_users(AccountId=account_id)
    expect_error(e, "NotFoundException", 404)


def test_concurrent_create_user_same_email_makes_one_user(client, account, belfry, tenant):
    acct = account["AccountId"]
    address = email("Race")
    clients = [chime_client(belfry.endpoint, tenant) for _ in range(4)]

    def create(i):
        c = clients[i % len(clients)]
        try:
            c.create_user(AccountId=acct, Email=address.upper() if i % 2 else address)
            return "created"
        except c.exceptions.ConflictException:
            return "conflict"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(12)))
    assert sorted(outcomes) == ["conflict"] * 11 + ["created"]
    assert len(client.list_users(AccountId=acct)["Users"]) == 1


def test_walk_sees_each_user_present_throughout_exactly_once(client, account):
    acct = account["AccountId"]
    stem = unique("walk")
    original = [f"{stem}-m{i}@example.com" for i in range(9)]
    client.invite_users(AccountId=acct, UserEmailList=original)
    seen = []
    resp = client.list_users(AccountId=acct, MaxResults=3)
    seen += resp["Users"]
    # Users added during the walk, before and after the cursor.
    client.create_user(AccountId=acct, Email=f"{stem}-a@example.com")
    client.create_user(AccountId=acct, Email=f"{stem}-z@example.com")
    while "NextToken" in resp:
        resp = client.list_users(AccountId=acct, MaxResults=3, NextToken=resp["NextToken"])
        seen += resp["Users"]
    emails = [u["PrimaryEmail"] for u in seen]
    assert len(emails) == len(set(emails))
    assert all(emails.count(e) == 1 for e in original)
    assert emails == sorted(emails, key=str.lower)
