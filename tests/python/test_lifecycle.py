"""The account and user lifecycle through boto3: updating, suspending, deleting, settings,
personal PINs and phone numbers; what a read-only key and a foreign tenant may do with them.

Every test works in accounts of its own tenant, filled with invited users (invited users are
`Pending` and `Unregistered`). The one test that needs `Registered` users starts a server of its
own with `--demo`, so the session's shared demo account is never modified.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from support import (
    chime_client, email, expect_error, expect_raw_error, list_all, provision, signed_request,
    start_server, unique,
)

LICENSES = ["Basic", "Plus", "Pro", "ProTrial"]
ROOM_ARN = "arn:aws:a4b:us-east-1:123456789012:room/abc"
PIN_RE = re.compile(r"^\d{10}$")
TELEPHONY_DEFAULTS = {"InboundCalling": True, "OutboundCalling": True, "SMS": True}


def missing_id() -> str:
    return str(uuid.uuid4())


def phone(client=None) -> str:
    """A random US local number in E.164 form (random, so tests never collide on one), in
    `client`'s phone-number inventory when a client is given."""
    npa = random.choice([n for n in range(201, 990)
                         if n // 10 % 10 != 9 and n % 100 != 11 and n not in TOLL_FREE])
    number = f"+1{npa}555{random.randint(0, 9999):04}"
    if client is not None:
        provision(client, number)
    return number


TOLL_FREE = {800, 833, 844, 855, 866, 877, 888}


def invite(client, account_id: str, n: int, **kwargs) -> list[dict]:
    """Invites `n` new users and returns them as ListUsers shows them, in invitation order."""
    stem = unique("life")
    emails = [f"{stem}-{i:02}@example.com" for i in range(n)]
    invites = client.invite_users(AccountId=account_id, UserEmailList=emails, **kwargs)["Invites"]
    assert [i["Status"] for i in invites] == ["Pending"] * n, invites
    by_email = {u["PrimaryEmail"]: u for u in list_all(client, AccountId=account_id)}
    return [by_email[e] for e in emails]


def get_user(client, account_id: str, user: dict) -> dict:
    return client.get_user(AccountId=account_id, UserId=user["UserId"])["User"]


def listed(client, account_id: str, user: dict) -> dict:
    """The user as ListUsers shows it (found by its email)."""
    users = client.list_users(AccountId=account_id, UserEmail=user["PrimaryEmail"])["Users"]
    assert len(users) == 1, users
    return users[0]


def without(doc: dict, *keys: str) -> dict:
    return {k: v for k, v in doc.items() if k not in keys}


def assert_user_errors(errors: list, *unknown_ids: str) -> None:
    """`UserErrors` holds exactly one NotFound entry per unknown id, with a message."""
    assert sorted(e["UserId"] for e in errors) == sorted(unknown_ids), errors
    for e in errors:
        assert e["ErrorCode"] == "NotFound", e
        assert isinstance(e.get("ErrorMessage"), str) and e["ErrorMessage"], e


@pytest.fixture
def acct(account) -> str:
    return account["AccountId"]


# -- UpdateAccount -----------------------------------------------------------------------------

def test_update_account_renames_and_keeps_the_rest(client, account):
    acct = account["AccountId"]
    name = unique("Renamed")
    resp = client.update_account(AccountId=acct, Name=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    updated = resp["Account"]
    assert updated["Name"] == name
    assert without(updated, "Name") == without(account, "Name")
    assert client.get_account(AccountId=acct)["Account"] == updated
    assert [a["AccountId"] for a in client.list_accounts(Name=name)["Accounts"]] == [acct]
    assert client.list_accounts(Name=account["Name"])["Accounts"] == []
    for longest in ("N" * 100, "é" * 100):  # a length in characters, not bytes
        assert client.update_account(AccountId=acct, Name=longest)["Account"]["Name"] == longest


def test_update_account_default_license_applies_to_new_users(client, account):
    acct = account["AccountId"]
    for license in LICENSES:
        updated = client.update_account(AccountId=acct, DefaultLicense=license)["Account"]
        assert updated["DefaultLicense"] == license
        assert updated["Name"] == account["Name"]
        assert client.get_account(AccountId=acct)["Account"]["DefaultLicense"] == license
    client.update_account(AccountId=acct, DefaultLicense="Basic")
    # "The default license applied when you add users to an Amazon Chime account."
    [invited] = invite(client, acct, 1)
    assert invited["LicenseType"] == "Basic"
    created = client.create_user(AccountId=acct, Email=email("created"))["User"]
    assert created["LicenseType"] == "Basic"


def test_update_account_with_nothing_to_change_returns_it_unchanged(client, account):
    resp = client.update_account(AccountId=account["AccountId"])
    assert resp["Account"] == account


@pytest.mark.parametrize("change,fragment", [
    ({"Name": "   "}, "'name'"),
    ({"Name": "x" * 101}, "less than or equal to 100"),
    ({"Name": "é" * 101}, "less than or equal to 100"),
    ({"DefaultLicense": "Bogus"}, "'Bogus'"),
    ({"DefaultLicense": "pro"}, "'pro'"),
    ({"Name": "a valid new name", "DefaultLicense": "Bogus"}, "defaultLicense"),
], ids=["blank-name", "101-char-name", "101-accented-char-name", "bogus-license", "lowercase-license",
        "valid-name-bad-license"])
def test_update_account_invalid_is_bad_request_and_changes_nothing(client, account, change,
                                                                   fragment):
    # botocore checks neither enums nor maximum lengths: these reach the server.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.update_account(AccountId=account["AccountId"], **change)
    err = expect_error(e, "BadRequestException", 400)
    assert fragment in err["Error"]["Message"], err["Error"]["Message"]
    assert client.get_account(AccountId=account["AccountId"])["Account"] == account


def test_update_account_unknown_is_not_found(client):
    missing = missing_id()
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.update_account(AccountId=missing, Name=unique())
    err = expect_error(e, "NotFoundException", 404)
    assert missing in err["Error"]["Message"]


# -- DeleteAccount -----------------------------------------------------------------------------

def test_delete_empty_account_is_204_and_it_is_gone(client, account):
    acct = account["AccountId"]
    keep = client.create_account(Name=unique("Keep"))["Account"]
    resp = client.delete_account(AccountId=acct)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_account(AccountId=acct)
    expect_error(e, "NotFoundException", 404)
    assert [a["AccountId"] for a in client.list_accounts()["Accounts"]] == [keep["AccountId"]]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.delete_account(AccountId=acct)
    expect_error(e, "NotFoundException", 404)
    assert client.get_account(AccountId=keep["AccountId"])["Account"] == keep


def test_delete_account_needs_every_user_suspended(client, belfry, tenant, account):
    acct = account["AccountId"]
    users = invite(client, acct, 3)
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=users[0]["UserId"],
                                            E164PhoneNumber=number)

    with pytest.raises(client.exceptions.UnprocessableEntityException) as e:
        client.delete_account(AccountId=acct)
    msg = expect_error(e, "UnprocessableEntityException", 422)["Error"]["Message"]
    assert re.search(r"\b3\b", msg), f"the message should say 3 users are not suspended: {msg}"
    # The same refusal on the wire: the model's error code in the body.
    raw = signed_request(belfry.endpoint, tenant, "DELETE", f"/accounts/{acct}")
    expect_raw_error(raw, "UnprocessableEntityException", 422)

    assert client.batch_suspend_user(AccountId=acct,
                                     UserIdList=[users[0]["UserId"]])["UserErrors"] == []
    with pytest.raises(client.exceptions.UnprocessableEntityException) as e:
        client.delete_account(AccountId=acct)
    msg = expect_error(e, "UnprocessableEntityException", 422)["Error"]["Message"]
    assert re.search(r"\b2\b", msg), f"the message should say 2 users are not suspended: {msg}"
    # Refused deletions left the account and its users as they were.
    assert client.get_account(AccountId=acct)["Account"] == account
    assert len(list_all(client, AccountId=acct)) == 3

    resp = client.batch_suspend_user(AccountId=acct, UserIdList=[u["UserId"] for u in users])
    assert resp["UserErrors"] == []
    resp = client.delete_account(AccountId=acct)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204

    for call in (
        lambda: client.get_account(AccountId=acct),
        lambda: client.list_users(AccountId=acct),
        lambda: client.get_user(AccountId=acct, UserId=users[1]["UserId"]),
        lambda: client.get_account_settings(AccountId=acct),
        lambda: client.delete_account(AccountId=acct),
    ):
        with pytest.raises(client.exceptions.NotFoundException) as e:
            call()
        expect_error(e, "NotFoundException", 404)
    assert client.list_accounts()["Accounts"] == []
    assert client.list_accounts(UserEmail=users[0]["PrimaryEmail"])["Accounts"] == []

    # The addresses and the phone number are free for a new account.
    again = client.create_account(Name=unique("Again"))["Account"]["AccountId"]
    addresses = [u["PrimaryEmail"] for u in users]
    invites = client.invite_users(AccountId=again, UserEmailList=addresses)["Invites"]
    assert [i["Status"] for i in invites] == ["Pending"] * 3
    fresh = list_all(client, AccountId=again)
    assert [u["PrimaryEmail"] for u in fresh] == addresses
    assert all(u["UserRegistrationStatus"] == "Unregistered" for u in fresh), fresh
    assert not {u["UserId"] for u in fresh} & {u["UserId"] for u in users}
    client.associate_phone_number_with_user(AccountId=again, UserId=fresh[0]["UserId"],
                                            E164PhoneNumber=number)
    assert get_user(client, again, fresh[0])["PrimaryProvisionedNumber"] == number
    assert [a["AccountId"] for a in
            client.list_accounts(UserEmail=users[0]["PrimaryEmail"])["Accounts"]] == [again]


def test_delete_account_unknown_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.delete_account(AccountId=missing_id())
    expect_error(e, "NotFoundException", 404)


# -- GetAccountSettings / UpdateAccountSettings ------------------------------------------------

def test_account_settings_defaults(client, acct):
    resp = client.get_account_settings(AccountId=acct)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["AccountSettings"] == {"DisableRemoteControl": False, "EnableDialOut": True}


def test_update_account_settings_is_204_and_partial(client, acct):
    other = client.create_account(Name=unique("Other"))["Account"]["AccountId"]
    resp = client.update_account_settings(AccountId=acct,
                                          AccountSettings={"DisableRemoteControl": True})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_account_settings(AccountId=acct)["AccountSettings"] == {
        "DisableRemoteControl": True, "EnableDialOut": True}
    client.update_account_settings(AccountId=acct, AccountSettings={"EnableDialOut": False})
    assert client.get_account_settings(AccountId=acct)["AccountSettings"] == {
        "DisableRemoteControl": True, "EnableDialOut": False}
    # Nothing given: nothing changes.
    assert client.update_account_settings(
        AccountId=acct, AccountSettings={})["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_account_settings(AccountId=acct)["AccountSettings"] == {
        "DisableRemoteControl": True, "EnableDialOut": False}
    client.update_account_settings(
        AccountId=acct, AccountSettings={"DisableRemoteControl": False, "EnableDialOut": True})
    assert client.get_account_settings(AccountId=acct)["AccountSettings"] == {
        "DisableRemoteControl": False, "EnableDialOut": True}
    # Settings are per account.
    assert client.get_account_settings(AccountId=other)["AccountSettings"] == {
        "DisableRemoteControl": False, "EnableDialOut": True}


def test_account_settings_of_unknown_account_are_not_found(client):
    missing = missing_id()
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_account_settings(AccountId=missing)
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.update_account_settings(AccountId=missing,
                                       AccountSettings={"EnableDialOut": False})
    expect_error(e, "NotFoundException", 404)


# -- UpdateUser --------------------------------------------------------------------------------

def test_update_user_license_and_user_type(client, acct):
    user, bystander = invite(client, acct, 2)
    for license in LICENSES:
        resp = client.update_user(AccountId=acct, UserId=user["UserId"], LicenseType=license)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert resp["User"] == dict(user, LicenseType=license)
        assert get_user(client, acct, user) == resp["User"]
    changed = client.update_user(AccountId=acct, UserId=user["UserId"], LicenseType="Basic",
                                 UserType="SharedDevice")["User"]
    assert changed == dict(user, LicenseType="Basic", UserType="SharedDevice")
    assert get_user(client, acct, user) == changed
    assert listed(client, acct, user) == changed
    # Nothing given: nothing changes.
    assert client.update_user(AccountId=acct, UserId=user["UserId"])["User"] == changed
    back = client.update_user(AccountId=acct, UserId=user["UserId"],
                              UserType="PrivateUser")["User"]
    assert back == dict(user, LicenseType="Basic")
    assert get_user(client, acct, bystander) == bystander


def test_update_user_alexa_for_business_metadata(client, acct):
    user, bystander = invite(client, acct, 2)
    assert "AlexaForBusinessMetadata" not in user
    metadata = {"IsAlexaForBusinessEnabled": True, "AlexaForBusinessRoomArn": ROOM_ARN}
    updated = client.update_user(AccountId=acct, UserId=user["UserId"],
                                 AlexaForBusinessMetadata=metadata)["User"]
    assert updated == dict(user, AlexaForBusinessMetadata=metadata)
    assert get_user(client, acct, user) == updated
    assert listed(client, acct, user) == updated
    # Present only where it was set.
    assert "AlexaForBusinessMetadata" not in get_user(client, acct, bystander)
    assert "AlexaForBusinessMetadata" not in listed(client, acct, bystander)


@pytest.mark.parametrize("change,fragment", [
    ({"AlexaForBusinessMetadata": {"AlexaForBusinessRoomArn": "nope"}},
     "alexaForBusinessRoomArn"),
    ({"LicenseType": "Basic",
      "AlexaForBusinessMetadata": {"IsAlexaForBusinessEnabled": True,
                                   "AlexaForBusinessRoomArn": "nope"}},
     "alexaForBusinessRoomArn"),
    ({"LicenseType": "Bogus"}, "'Bogus'"),
    ({"UserType": "Robot"}, "'Robot'"),
], ids=["bad-room-arn", "valid-license-bad-room-arn", "bogus-license", "bogus-user-type"])
def test_update_user_invalid_is_bad_request_and_changes_nothing(client, acct, change, fragment):
    [user] = invite(client, acct, 1)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.update_user(AccountId=acct, UserId=user["UserId"], **change)
    err = expect_error(e, "BadRequestException", 400)
    assert fragment in err["Error"]["Message"], err["Error"]["Message"]
    assert get_user(client, acct, user) == user


def test_update_user_unknown_user_or_account_is_not_found(client, acct):
    [user] = invite(client, acct, 1)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.update_user(AccountId=acct, UserId=missing_id(), LicenseType="Basic")
    expect_error(e, "NotFoundException", 404)
    other = client.create_account(Name=unique())["Account"]["AccountId"]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.update_user(AccountId=other, UserId=user["UserId"], LicenseType="Basic")
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.update_user(AccountId=missing_id(), UserId=user["UserId"], LicenseType="Basic")
    expect_error(e, "NotFoundException", 404)
    assert get_user(client, acct, user) == user


def test_update_user_blank_user_id_is_bad_request(client, acct):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.update_user(AccountId=acct, UserId=" ", LicenseType="Basic")
    err = expect_error(e, "BadRequestException", 400)
    assert "'userId'" in err["Error"]["Message"]


# -- BatchUpdateUser ---------------------------------------------------------------------------

def test_batch_update_user_applies_every_item(client, acct):
    a, b, c = invite(client, acct, 3)
    resp = client.batch_update_user(AccountId=acct, UpdateUserRequestItems=[
        {"UserId": a["UserId"], "LicenseType": "Basic"},
        {"UserId": b["UserId"], "UserType": "SharedDevice", "LicenseType": "Plus"},
        {"UserId": c["UserId"], "AlexaForBusinessMetadata": {"IsAlexaForBusinessEnabled": False}},
    ])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["UserErrors"] == []
    assert get_user(client, acct, a) == dict(a, LicenseType="Basic")
    assert get_user(client, acct, b) == dict(b, UserType="SharedDevice", LicenseType="Plus")
    assert get_user(client, acct, c) == dict(
        c, AlexaForBusinessMetadata={"IsAlexaForBusinessEnabled": False})


def test_batch_update_user_reports_unknown_users_and_applies_the_rest(client, acct):
    a, b = invite(client, acct, 2)
    # A user of another account of the same tenant is unknown in this one.
    other = client.create_account(Name=unique())["Account"]["AccountId"]
    [stranger] = invite(client, other, 1)
    ghost = missing_id()
    resp = client.batch_update_user(AccountId=acct, UpdateUserRequestItems=[
        {"UserId": a["UserId"], "LicenseType": "Basic"},
        {"UserId": ghost, "LicenseType": "Plus"},
        {"UserId": stranger["UserId"], "LicenseType": "Plus"},
        {"UserId": b["UserId"], "UserType": "SharedDevice"},
    ])
    assert_user_errors(resp["UserErrors"], ghost, stranger["UserId"])
    assert get_user(client, acct, a) == dict(a, LicenseType="Basic")
    assert get_user(client, acct, b) == dict(b, UserType="SharedDevice")
    assert get_user(client, other, stranger) == stranger


def test_batch_update_user_accepts_20_items(client, acct):
    users = invite(client, acct, 3)
    ghosts = [missing_id() for _ in range(17)]
    items = [{"UserId": u["UserId"], "LicenseType": "Basic"} for u in users]
    items += [{"UserId": g, "LicenseType": "Basic"} for g in ghosts]
    resp = client.batch_update_user(AccountId=acct, UpdateUserRequestItems=items)
    assert_user_errors(resp["UserErrors"], *ghosts)
    assert all(get_user(client, acct, u)["LicenseType"] == "Basic" for u in users)


@pytest.mark.parametrize("case", ["21-items", "empty", "one-bad-item"])
def test_batch_update_user_invalid_is_bad_request_and_changes_nothing(client, acct, case):
    users = invite(client, acct, 2)
    if case == "21-items":
        items = [{"UserId": u["UserId"], "LicenseType": "Basic"} for u in users]
        items += [{"UserId": missing_id(), "LicenseType": "Basic"} for _ in range(19)]
        fragment = "'updateUserRequestItems'"
    elif case == "empty":
        items, fragment = [], "'updateUserRequestItems'"
    else:
        items = [{"UserId": users[0]["UserId"], "LicenseType": "Basic"},
                 {"UserId": users[1]["UserId"], "LicenseType": "Gold"}]
        fragment = "'Gold'"
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.batch_update_user(AccountId=acct, UpdateUserRequestItems=items)
    err = expect_error(e, "BadRequestException", 400)
    assert fragment in err["Error"]["Message"], err["Error"]["Message"]
    assert [get_user(client, acct, u) for u in users] == users


def test_batch_update_user_unknown_account_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.batch_update_user(AccountId=missing_id(), UpdateUserRequestItems=[
            {"UserId": missing_id(), "LicenseType": "Basic"}])
    expect_error(e, "NotFoundException", 404)


# -- BatchSuspendUser / BatchUnsuspendUser -----------------------------------------------------

def test_suspend_then_unsuspend_restores_the_previous_status(client, acct):
    users = invite(client, acct, 4)
    assert all(u["UserRegistrationStatus"] == "Unregistered" for u in users), users
    assert all(u["UserInvitationStatus"] == "Pending" for u in users), users
    ids = [u["UserId"] for u in users[:2]]

    resp = client.batch_suspend_user(AccountId=acct, UserIdList=ids)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["UserErrors"] == []
    now = list_all(client, AccountId=acct)
    assert [u["UserRegistrationStatus"] for u in now] == [
        "Suspended", "Suspended", "Unregistered", "Unregistered"]
    for before, after in zip(users, now):
        assert after == dict(before, UserRegistrationStatus=after["UserRegistrationStatus"])
        assert get_user(client, acct, before) == after

    resp = client.batch_unsuspend_user(AccountId=acct, UserIdList=ids)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["UserErrors"] == []
    # A Pending invitee was Unregistered, and is Unregistered again (not Registered).
    assert list_all(client, AccountId=acct) == users


def test_suspending_twice_still_restores_the_status_before_the_first(client, acct):
    [user, never_suspended] = invite(client, acct, 2)
    for _ in range(2):
        assert client.batch_suspend_user(AccountId=acct,
                                         UserIdList=[user["UserId"]])["UserErrors"] == []
    assert get_user(client, acct, user)["UserRegistrationStatus"] == "Suspended"
    resp = client.batch_unsuspend_user(
        AccountId=acct, UserIdList=[user["UserId"], never_suspended["UserId"]])
    assert resp["UserErrors"] == []
    assert get_user(client, acct, user) == user
    # "Users who are not previously suspended are ignored."
    assert get_user(client, acct, never_suspended) == never_suspended


@pytest.mark.parametrize("operation,status", [
    ("batch_suspend_user", "Suspended"), ("batch_unsuspend_user", "Unregistered"),
])
def test_suspension_batches_report_unknown_users_and_apply_the_rest(client, acct, operation,
                                                                     status):
    a, b = invite(client, acct, 2)
    if operation == "batch_unsuspend_user":
        client.batch_suspend_user(AccountId=acct, UserIdList=[a["UserId"], b["UserId"]])
    ghost = missing_id()
    resp = getattr(client, operation)(AccountId=acct, UserIdList=[a["UserId"], ghost])
    assert_user_errors(resp["UserErrors"], ghost)
    assert get_user(client, acct, a)["UserRegistrationStatus"] == status
    other = "Unregistered" if status == "Suspended" else "Suspended"
    assert get_user(client, acct, b)["UserRegistrationStatus"] == other


@pytest.mark.parametrize("operation", ["batch_suspend_user", "batch_unsuspend_user"])
def test_suspension_batches_take_up_to_50(client, acct, operation):
    users = invite(client, acct, 2)
    ghosts = [missing_id() for _ in range(48)]
    ids = [u["UserId"] for u in users] + ghosts
    resp = getattr(client, operation)(AccountId=acct, UserIdList=ids)
    assert_user_errors(resp["UserErrors"], *ghosts)
    expected = "Suspended" if operation == "batch_suspend_user" else "Unregistered"
    assert [get_user(client, acct, u)["UserRegistrationStatus"] for u in users] == [expected] * 2


@pytest.mark.parametrize("operation", ["batch_suspend_user", "batch_unsuspend_user"])
@pytest.mark.parametrize("size", [51, 0])
def test_suspension_batches_outside_1_to_50_are_bad_request(client, acct, operation, size):
    users = invite(client, acct, 2)
    if operation == "batch_unsuspend_user":
        client.batch_suspend_user(AccountId=acct, UserIdList=[u["UserId"] for u in users])
    before = list_all(client, AccountId=acct)
    ids = ([u["UserId"] for u in users] + [missing_id() for _ in range(49)])[:size]
    with pytest.raises(client.exceptions.BadRequestException) as e:
        getattr(client, operation)(AccountId=acct, UserIdList=ids)
    err = expect_error(e, "BadRequestException", 400)
    assert "'userIdList'" in err["Error"]["Message"], err["Error"]["Message"]
    assert list_all(client, AccountId=acct) == before


@pytest.mark.parametrize("operation", ["batch_suspend_user", "batch_unsuspend_user"])
def test_suspension_batches_of_unknown_account_are_not_found(client, operation):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        getattr(client, operation)(AccountId=missing_id(), UserIdList=[missing_id()])
    expect_error(e, "NotFoundException", 404)


def test_unsuspend_restores_registered_users_of_a_private_demo(bin_path, tmp_path, fresh_store):
    # Registered users exist only in a demo account: this test seeds one on a server of its
    # own rather than touching the session's shared demo account.
    server = start_server(bin_path, tmp_path, fresh_store, demo=True)
    try:
        demo = server.banner
        c = chime_client(server.endpoint, demo.demo_key)
        acct = demo.demo_account_id
        users = c.list_users(AccountId=acct, MaxResults=50)["Users"]
        registered = [u for u in users if u["UserRegistrationStatus"] == "Registered"][:2]
        assert registered, "the demo should hold Registered users"
        assert all("RegisteredOn" in u for u in registered), registered
        ids = [u["UserId"] for u in registered]
        assert c.batch_suspend_user(AccountId=acct, UserIdList=ids)["UserErrors"] == []
        for u in registered:
            assert get_user(c, acct, u) == dict(u, UserRegistrationStatus="Suspended")
        assert c.batch_unsuspend_user(AccountId=acct, UserIdList=ids)["UserErrors"] == []
        for u in registered:
            assert get_user(c, acct, u) == u
        assert c.list_users(AccountId=acct, MaxResults=50)["Users"] == users
    finally:
        assert server.stop() == 0, server.logs()


# -- ResetPersonalPIN / LogoutUser -------------------------------------------------------------

def test_reset_personal_pin_gives_a_new_10_digit_pin(client, acct):
    user, bystander = invite(client, acct, 2)
    assert PIN_RE.match(user["PersonalPIN"]), user
    old = user["PersonalPIN"]
    for _ in range(3):
        resp = client.reset_personal_pin(AccountId=acct, UserId=user["UserId"])
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        pin = resp["User"]["PersonalPIN"]
        assert PIN_RE.match(pin), pin
        assert pin != old
        assert resp["User"] == dict(user, PersonalPIN=pin)
        assert get_user(client, acct, user) == resp["User"]
        assert listed(client, acct, user)["PersonalPIN"] == pin
        old = pin
    assert get_user(client, acct, bystander) == bystander


def test_logout_user_is_204_and_changes_nothing(client, acct):
    [user] = invite(client, acct, 1)
    resp = client.logout_user(AccountId=acct, UserId=user["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert get_user(client, acct, user) == user


@pytest.mark.parametrize("operation", ["reset_personal_pin", "logout_user"])
def test_pin_and_logout_of_unknown_user_or_account_are_not_found(client, acct, operation):
    [user] = invite(client, acct, 1)
    for account_id, user_id in ((acct, missing_id()), (missing_id(), user["UserId"])):
        with pytest.raises(client.exceptions.NotFoundException) as e:
            getattr(client, operation)(AccountId=account_id, UserId=user_id)
        expect_error(e, "NotFoundException", 404)
    assert get_user(client, acct, user) == user


# -- GetUserSettings / UpdateUserSettings ------------------------------------------------------

def test_user_settings_default_to_every_telephony_feature(client, acct):
    [user] = invite(client, acct, 1)
    resp = client.get_user_settings(AccountId=acct, UserId=user["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["UserSettings"] == {"Telephony": TELEPHONY_DEFAULTS}


def test_update_user_settings_is_204_and_visible(client, acct):
    user, bystander = invite(client, acct, 2)
    telephony = {"InboundCalling": False, "OutboundCalling": True, "SMS": False}
    resp = client.update_user_settings(AccountId=acct, UserId=user["UserId"],
                                       UserSettings={"Telephony": telephony})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_user_settings(AccountId=acct, UserId=user["UserId"])["UserSettings"] == {
        "Telephony": telephony}
    assert client.get_user_settings(
        AccountId=acct, UserId=bystander["UserId"])["UserSettings"] == {
        "Telephony": TELEPHONY_DEFAULTS}
    again = {"InboundCalling": True, "OutboundCalling": False, "SMS": True}
    client.update_user_settings(AccountId=acct, UserId=user["UserId"],
                                UserSettings={"Telephony": again})
    assert client.get_user_settings(AccountId=acct, UserId=user["UserId"])["UserSettings"] == {
        "Telephony": again}
    # Settings are not part of the User structure.
    assert get_user(client, acct, user) == user


def test_user_settings_of_unknown_user_or_account_are_not_found(client, acct):
    [user] = invite(client, acct, 1)
    for account_id, user_id in ((acct, missing_id()), (missing_id(), user["UserId"])):
        with pytest.raises(client.exceptions.NotFoundException) as e:
            client.get_user_settings(AccountId=account_id, UserId=user_id)
        expect_error(e, "NotFoundException", 404)
        with pytest.raises(client.exceptions.NotFoundException) as e:
            client.update_user_settings(AccountId=account_id, UserId=user_id,
                                        UserSettings={"Telephony": TELEPHONY_DEFAULTS})
        expect_error(e, "NotFoundException", 404)


# -- AssociatePhoneNumberWithUser / DisassociatePhoneNumberFromUser ----------------------------

def test_associate_phone_number_sets_primary_provisioned_number(client, acct):
    user, bystander = invite(client, acct, 2)
    assert "PrimaryProvisionedNumber" not in user
    number = phone(client)
    resp = client.associate_phone_number_with_user(AccountId=acct, UserId=user["UserId"],
                                                   E164PhoneNumber=number)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_user(client, acct, user) == dict(user, PrimaryProvisionedNumber=number)
    assert listed(client, acct, user) == dict(user, PrimaryProvisionedNumber=number)
    by_id = {u["UserId"]: u for u in client.list_users(AccountId=acct)["Users"]}
    assert by_id[user["UserId"]]["PrimaryProvisionedNumber"] == number
    assert "PrimaryProvisionedNumber" not in by_id[bystander["UserId"]]


def test_phone_number_without_plus_is_the_same_number(client, acct):
    a, b = invite(client, acct, 2)
    number = phone(client)
    # Given without its `+`: stored and shown in E.164 form.
    client.associate_phone_number_with_user(AccountId=acct, UserId=a["UserId"],
                                            E164PhoneNumber=number[1:])
    assert get_user(client, acct, a)["PrimaryProvisionedNumber"] == number
    for spelling in (number, number[1:]):
        with pytest.raises(client.exceptions.ConflictException) as e:
            client.associate_phone_number_with_user(AccountId=acct, UserId=b["UserId"],
                                                    E164PhoneNumber=spelling)
        expect_error(e, "ConflictException", 409)
    assert get_user(client, acct, b) == b


def test_phone_number_held_by_another_user_is_conflict(client, acct):
    a, b = invite(client, acct, 2)
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=a["UserId"],
                                            E164PhoneNumber=number)
    # ConflictException is not among AssociatePhoneNumberWithUser's modeled errors; boto3
    # still types it from the x-amzn-ErrorType header.
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.associate_phone_number_with_user(AccountId=acct, UserId=b["UserId"],
                                                E164PhoneNumber=number)
    expect_error(e, "ConflictException", 409)
    assert get_user(client, acct, b) == b
    assert get_user(client, acct, a)["PrimaryProvisionedNumber"] == number
    # Also from another Chime account of the same AWS account.
    other = client.create_account(Name=unique())["Account"]["AccountId"]
    [c] = invite(client, other, 1)
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.associate_phone_number_with_user(AccountId=other, UserId=c["UserId"],
                                                E164PhoneNumber=number)
    expect_error(e, "ConflictException", 409)
    assert get_user(client, other, c) == c


def test_phone_numbers_of_one_tenant_do_not_conflict_with_anothers(client, acct, foreign):
    [user] = invite(client, acct, 1)
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=user["UserId"],
                                            E164PhoneNumber=number)
    theirs = foreign.create_account(Name=unique("Theirs"))["Account"]["AccountId"]
    [stranger] = invite(foreign, theirs, 1)
    provision(foreign, number)
    foreign.associate_phone_number_with_user(AccountId=theirs, UserId=stranger["UserId"],
                                             E164PhoneNumber=number)
    assert get_user(foreign, theirs, stranger)["PrimaryProvisionedNumber"] == number
    assert get_user(client, acct, user)["PrimaryProvisionedNumber"] == number


@pytest.mark.parametrize("bad", [
    "nope", "1", "+", "+0123456789", "0123456789", "+1234567890123456", "++14155550100",
    "+1 415 555 0100", "+1-415-555-0100", "",
])
def test_associate_invalid_phone_number_is_bad_request(client, acct, bad):
    [user] = invite(client, acct, 1)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.associate_phone_number_with_user(AccountId=acct, UserId=user["UserId"],
                                                E164PhoneNumber=bad)
    err = expect_error(e, "BadRequestException", 400)
    assert "e164PhoneNumber" in err["Error"]["Message"] or "E164PhoneNumber" in \
        err["Error"]["Message"], err["Error"]["Message"]
    assert get_user(client, acct, user) == user


def test_disassociate_phone_number_clears_it_and_frees_it(client, acct):
    a, b = invite(client, acct, 2)
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=a["UserId"],
                                            E164PhoneNumber=number)
    resp = client.disassociate_phone_number_from_user(AccountId=acct, UserId=a["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_user(client, acct, a) == a
    assert listed(client, acct, a) == a
    # The number is free again.
    client.associate_phone_number_with_user(AccountId=acct, UserId=b["UserId"],
                                            E164PhoneNumber=number)
    assert get_user(client, acct, b) == dict(b, PrimaryProvisionedNumber=number)


@pytest.mark.parametrize("operation", [
    "associate_phone_number_with_user", "disassociate_phone_number_from_user",
])
def test_phone_number_operations_of_unknown_user_or_account_are_not_found(client, acct,
                                                                          operation):
    [user] = invite(client, acct, 1)
    extra = {"E164PhoneNumber": phone()} if operation.startswith("associate") else {}
    for account_id, user_id in ((acct, missing_id()), (missing_id(), user["UserId"])):
        with pytest.raises(client.exceptions.NotFoundException) as e:
            getattr(client, operation)(AccountId=account_id, UserId=user_id, **extra)
        expect_error(e, "NotFoundException", 404)
    assert get_user(client, acct, user) == user


# -- required members botocore would not let go -------------------------------------------------

@pytest.mark.parametrize("method,suffix,body,member", [
    ("PUT", "/settings", {}, "'accountSettings'"),
    ("PUT", "/users/{user}/settings", {}, "'userSettings'"),
    ("PUT", "/users/{user}/settings", {"UserSettings": {}}, "'userSettings.telephony'"),
    ("PUT", "/users/{user}/settings", {"UserSettings": {"Telephony": {"SMS": False}}},
     "'userSettings.telephony.inboundCalling'"),
    ("POST", "/users/{user}?operation=associate-phone-number", {}, "'e164PhoneNumber'"),
    ("POST", "/users", {}, "'updateUserRequestItems'"),
    ("POST", "/users", {"UpdateUserRequestItems": [{"LicenseType": "Basic"}]},
     "'updateUserRequestItems.1.member.userId'"),
    ("POST", "/users?operation=suspend", {}, "'userIdList'"),
    ("POST", "/users?operation=unsuspend", {}, "'userIdList'"),
], ids=["account-settings", "user-settings", "telephony", "telephony-members", "e164",
        "batch-items", "batch-item-user-id", "suspend-ids", "unsuspend-ids"])
def test_missing_required_member_is_bad_request(belfry, tenant, client, acct, method, suffix,
                                               body, member):
    [user] = invite(client, acct, 1)
    path = f"/accounts/{acct}" + suffix.format(user=user["UserId"])
    resp = signed_request(belfry.endpoint, tenant, method, path,
                          body=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json"})
    msg = expect_raw_error(resp, "BadRequestException", 400)["Message"]
    assert member in msg and "must not be null" in msg, msg
    assert get_user(client, acct, user) == user
    assert client.get_account_settings(AccountId=acct)["AccountSettings"] == {
        "DisableRemoteControl": False, "EnableDialOut": True}


# -- visibility --------------------------------------------------------------------------------

def test_changes_are_visible_in_list_users_at_once(client, acct):
    users = invite(client, acct, 6)
    first = client.list_users(AccountId=acct, MaxResults=3)
    assert [u["UserId"] for u in first["Users"]] == [u["UserId"] for u in users[:3]]
    typed = client.list_users(AccountId=acct, UserType="PrivateUser", MaxResults=2)
    assert [u["UserId"] for u in typed["Users"]] == [u["UserId"] for u in users[:2]]

    # Changes after the tokens were issued, to users on the pages still to come.
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=users[3]["UserId"],
                                            E164PhoneNumber=number)
    client.update_user(AccountId=acct, UserId=users[4]["UserId"], LicenseType="Basic",
                       UserType="SharedDevice")
    client.batch_suspend_user(AccountId=acct, UserIdList=[users[5]["UserId"]])
    expected = users[:3] + [
        dict(users[3], PrimaryProvisionedNumber=number),
        dict(users[4], LicenseType="Basic", UserType="SharedDevice"),
        dict(users[5], UserRegistrationStatus="Suspended"),
    ]

    rest = client.list_users(AccountId=acct, MaxResults=3, NextToken=first["NextToken"])
    assert rest["Users"] == expected[3:]
    assert "NextToken" not in rest
    # The filtered walk begun before the change no longer sees the user made a SharedDevice.
    typed_rest = client.list_users(AccountId=acct, UserType="PrivateUser", MaxResults=10,
                                   NextToken=typed["NextToken"])
    assert typed_rest["Users"] == [expected[2], expected[3], expected[5]]
    assert client.list_users(AccountId=acct, UserType="SharedDevice")["Users"] == [expected[4]]
    assert list_all(client, AccountId=acct) == expected
    assert [get_user(client, acct, u) for u in users] == expected

    # And back through BatchUpdateUser: the filter follows at once.
    client.batch_update_user(AccountId=acct, UpdateUserRequestItems=[
        {"UserId": users[4]["UserId"], "UserType": "PrivateUser"}])
    assert client.list_users(AccountId=acct, UserType="SharedDevice")["Users"] == []
    assert len(client.list_users(AccountId=acct, UserType="PrivateUser")["Users"]) == 6


# -- concurrency -------------------------------------------------------------------------------

def test_concurrent_claims_of_one_number_give_it_to_exactly_one_user(client, belfry, tenant):
    # Across two Chime accounts of one AWS account, so that no single account lock orders them.
    accounts = [client.create_account(Name=unique("Race"))["Account"]["AccountId"]
                for _ in range(2)]
    claims = [(a, u["UserId"]) for a in accounts for u in invite(client, a, 4)]
    clients = [chime_client(belfry.endpoint, tenant) for _ in range(4)]
    number = phone(client)

    def claim(i):
        account_id, user_id = claims[i]
        c = clients[i % len(clients)]
        try:
            c.associate_phone_number_with_user(AccountId=account_id, UserId=user_id,
                                               E164PhoneNumber=number)
            return "associated"
        except c.exceptions.ConflictException:
            return "conflict"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(claim, range(len(claims))))
    assert sorted(outcomes) == ["associated"] + ["conflict"] * 7, outcomes
    holders = [u for a in accounts for u in list_all(client, AccountId=a)
               if u.get("PrimaryProvisionedNumber") == number]
    assert [u["UserId"] for u in holders] == [claims[outcomes.index("associated")][1]]


def test_invites_racing_a_delete_never_outlive_the_account(client, belfry, tenant):
    clients = [chime_client(belfry.endpoint, tenant) for _ in range(4)]
    for _ in range(3):
        acct = client.create_account(Name=unique("Doomed"))["Account"]["AccountId"]

        def act(i):
            c = clients[i % len(clients)]
            try:
                if i == 0:
                    c.delete_account(AccountId=acct)
                    return "deleted"
                c.invite_users(AccountId=acct, UserEmailList=[email(f"late{i}")])
                return "invited"
            except c.exceptions.UnprocessableEntityException:
                return "refused"
            except c.exceptions.NotFoundException:
                return "gone"

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(act, range(4)))
        if outcomes[0] == "deleted":
            # Deleted first: every invitation found no account.
            assert outcomes[1:] == ["gone"] * 3, outcomes
        else:
            # Refused because invitations got in first: the account and they remain.
            assert outcomes[0] == "refused" and "invited" in outcomes, outcomes
            assert "gone" not in outcomes, outcomes
            assert len(client.list_users(AccountId=acct)["Users"]) == outcomes.count("invited")


# -- read-only keys and foreign tenants ---------------------------------------------------------

@dataclass
class World:
    """An account of three invited users: `held` has a phone number, `plain` nothing,
    `suspended` is suspended."""

    acct: str
    held: str
    plain: str
    suspended: str
    number: str


@pytest.fixture
def world(client, acct) -> World:
    held, plain, suspended = invite(client, acct, 3)
    number = phone(client)
    client.associate_phone_number_with_user(AccountId=acct, UserId=held["UserId"],
                                            E164PhoneNumber=number)
    client.batch_suspend_user(AccountId=acct, UserIdList=[suspended["UserId"]])
    return World(acct, held["UserId"], plain["UserId"], suspended["UserId"], number)


def snapshot(client, acct: str) -> dict:
    """Everything the owner can read of an account."""
    users = list_all(client, AccountId=acct)
    return {
        "accounts": client.list_accounts()["Accounts"],
        "account": client.get_account(AccountId=acct)["Account"],
        "settings": client.get_account_settings(AccountId=acct)["AccountSettings"],
        "users": users,
        "user_settings": {u["UserId"]: client.get_user_settings(
            AccountId=acct, UserId=u["UserId"])["UserSettings"] for u in users},
    }


#: Every write operation served, as a valid request on a `World` (by name, for the ids).
WRITES = {
    "CreateAccount": lambda c, w: c.create_account(Name=unique("New")),
    "UpdateAccount": lambda c, w: c.update_account(AccountId=w.acct, Name=unique("Renamed"),
                                                   DefaultLicense="Basic"),
    "DeleteAccount": lambda c, w: c.delete_account(AccountId=w.acct),
    "UpdateAccountSettings": lambda c, w: c.update_account_settings(
        AccountId=w.acct, AccountSettings={"DisableRemoteControl": True, "EnableDialOut": False}),
    "CreateUser": lambda c, w: c.create_user(AccountId=w.acct, Email=email("new")),
    "InviteUsers": lambda c, w: c.invite_users(AccountId=w.acct, UserEmailList=[email("new")]),
    "UpdateUser": lambda c, w: c.update_user(AccountId=w.acct, UserId=w.plain,
                                             LicenseType="Basic", UserType="SharedDevice"),
    "BatchUpdateUser": lambda c, w: c.batch_update_user(AccountId=w.acct, UpdateUserRequestItems=[
        {"UserId": w.plain, "LicenseType": "Plus"}]),
    "BatchSuspendUser": lambda c, w: c.batch_suspend_user(AccountId=w.acct,
                                                          UserIdList=[w.plain]),
    "BatchUnsuspendUser": lambda c, w: c.batch_unsuspend_user(AccountId=w.acct,
                                                              UserIdList=[w.suspended]),
    "ResetPersonalPIN": lambda c, w: c.reset_personal_pin(AccountId=w.acct, UserId=w.plain),
    "LogoutUser": lambda c, w: c.logout_user(AccountId=w.acct, UserId=w.plain),
    "UpdateUserSettings": lambda c, w: c.update_user_settings(
        AccountId=w.acct, UserId=w.plain, UserSettings={"Telephony": {
            "InboundCalling": False, "OutboundCalling": False, "SMS": False}}),
    "AssociatePhoneNumberWithUser": lambda c, w: c.associate_phone_number_with_user(
        AccountId=w.acct, UserId=w.plain, E164PhoneNumber=phone(c)),
    "DisassociatePhoneNumberFromUser": lambda c, w: c.disassociate_phone_number_from_user(
        AccountId=w.acct, UserId=w.held),
}

#: Every read operation served.
READS = {
    "GetAccount": lambda c, w: c.get_account(AccountId=w.acct),
    "ListAccounts": lambda c, w: c.list_accounts(),
    "GetAccountSettings": lambda c, w: c.get_account_settings(AccountId=w.acct),
    "ListUsers": lambda c, w: c.list_users(AccountId=w.acct),
    "GetUser": lambda c, w: c.get_user(AccountId=w.acct, UserId=w.held),
    "GetUserSettings": lambda c, w: c.get_user_settings(AccountId=w.acct, UserId=w.plain),
}

#: The operations that take an AccountId.
WITH_ACCOUNT = sorted(op for op in {**WRITES, **READS} if op not in ("CreateAccount",
                                                                       "ListAccounts"))


def run_as_owner(client, world: World, operation: str) -> dict:
    """The same request by the owner succeeds: the control that the request itself is valid."""
    if operation == "DeleteAccount":
        client.batch_suspend_user(AccountId=world.acct, UserIdList=[world.held, world.plain])
    call = WRITES.get(operation) or READS[operation]
    resp = call(client, world)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] in (200, 201, 204), resp
    return resp


def body(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def test_every_served_operation_is_in_the_tables(client):
    # ListAccounts … DisassociatePhoneNumberFromUser: the operations this server serves.
    assert len(WRITES) == 15 and len(READS) == 6
    model = client.meta.service_model
    for name in {**WRITES, **READS}:
        op = model.operation_model(name)
        assert (op.http["method"] == "GET") == (name in READS), name


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_read_only_key_cannot_make_any_write(client, read_only, world, operation):
    before = snapshot(client, world.acct)
    with pytest.raises(read_only.exceptions.ForbiddenException) as e:
        WRITES[operation](read_only, world)
    expect_error(e, "ForbiddenException", 403)
    assert snapshot(client, world.acct) == before
    run_as_owner(client, world, operation)


@pytest.mark.parametrize("operation", sorted(READS))
def test_read_only_key_can_make_every_read(client, read_only, world, operation):
    resp = READS[operation](read_only, world)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert body(resp) == body(run_as_owner(client, world, operation))


@pytest.mark.parametrize("operation", WITH_ACCOUNT)
def test_foreign_tenant_gets_not_found_for_every_operation_on_an_account(
        client, foreign, world, operation):
    call = WRITES.get(operation) or READS[operation]
    before = snapshot(client, world.acct)
    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        call(foreign, world)
    foreign_msg = expect_error(e, "NotFoundException", 404)["Error"]["Message"]
    # Exactly what an account that does not exist gets: nothing tells the account exists.
    missing = missing_id()
    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        call(foreign, World(missing, world.held, world.plain, world.suspended, world.number))
    missing_msg = expect_error(e, "NotFoundException", 404)["Error"]["Message"]
    assert foreign_msg == missing_msg.replace(missing, world.acct)
    assert snapshot(client, world.acct) == before
    run_as_owner(client, world, operation)
