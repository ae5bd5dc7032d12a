"""Authentication, read-only keys, tenancy and unsupported operations through boto3."""

import pytest

from support import Key, expect_error, random_key, unique


# -- authentication ------------------------------------------------------------------------

def test_unknown_access_key_is_unauthorized(make_client):
    key_id, secret = random_key()
    c = make_client(Key(key_id, secret, "000000000000"))
    with pytest.raises(c.exceptions.UnauthorizedClientException) as e:
        c.list_accounts()
    err = expect_error(e, "UnauthorizedClientException", 401)
    msg = err["Error"]["Message"]
    assert "access key" in msg.lower(), msg
    assert secret not in msg


def test_wrong_secret_is_unauthorized(make_client, tenant):
    wrong = "W" * 40
    c = make_client(Key(tenant.access_key_id, wrong, tenant.aws_account_id))
    with pytest.raises(c.exceptions.UnauthorizedClientException) as e:
        c.list_accounts()
    err = expect_error(e, "UnauthorizedClientException", 401)
    msg = err["Error"]["Message"]
    assert "signature" in msg.lower(), msg
    assert wrong not in msg and tenant.secret_access_key not in msg


def test_wrong_secret_cannot_write(make_client, tenant, client):
    c = make_client(Key(tenant.access_key_id, tenant.secret_access_key[::-1],
                        tenant.aws_account_id))
    with pytest.raises(c.exceptions.UnauthorizedClientException) as e:
        c.create_account(Name=unique("Intruder"))
    expect_error(e, "UnauthorizedClientException", 401)
    assert client.list_accounts()["Accounts"] == []


def test_root_key_from_environment_works(make_client, root_key):
    c = make_client(root_key)
    account = c.create_account(Name=unique("Root"))["Account"]
    assert account["AwsAccountId"] == "111111111111"
    assert c.get_account(AccountId=account["AccountId"])["Account"] == account


# -- read-only keys ----------------------------------------------------------------------------

def test_read_only_key_can_read(client, read_only):
    acct = client.create_account(Name=unique("RO"))["Account"]
    user = client.create_user(AccountId=acct["AccountId"], Email=f"{unique()}@example.com")["User"]
    assert read_only.get_account(AccountId=acct["AccountId"])["Account"] == acct
    assert [a["AccountId"] for a in read_only.list_accounts()["Accounts"]] == [acct["AccountId"]]
    assert read_only.get_user(AccountId=acct["AccountId"], UserId=user["UserId"])["User"] == user
    assert read_only.list_users(AccountId=acct["AccountId"])["Users"] == [user]


def test_read_only_key_cannot_write(client, read_only):
    acct = client.create_account(Name=unique("RO"))["Account"]["AccountId"]
    calls = [
        ("create_account", lambda: read_only.create_account(Name=unique("RO-new"))),
        ("create_user", lambda: read_only.create_user(AccountId=acct,
                                                      Email=f"{unique()}@example.com")),
        ("invite_users", lambda: read_only.invite_users(
            AccountId=acct, UserEmailList=[f"{unique()}@example.com"])),
    ]
    for name, call in calls:
        with pytest.raises(read_only.exceptions.ForbiddenException) as e:
            call()
        expect_error(e, "ForbiddenException", 403)
    # Nothing was written.
    assert [a["AccountId"] for a in client.list_accounts()["Accounts"]] == [acct]
    assert client.list_users(AccountId=acct)["Users"] == []


# -- tenancy -------------------------------------------------------------------------------

def test_foreign_tenant_sees_nothing_of_another_tenants_account(client, belfry, make_client):
    acct = client.create_account(Name=unique("Private"))["Account"]["AccountId"]
    address = f"{unique('secret')}@example.com"
    user = client.create_user(AccountId=acct, Email=address)["User"]
    foreign = make_client(belfry.create_key())

    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        foreign.get_account(AccountId=acct)
    foreign_msg = expect_error(e, "NotFoundException", 404)["Error"]["Message"]

    # Exactly as for an account that does not exist.
    missing = "12345678-1234-1234-1234-123456789012"
    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        foreign.get_account(AccountId=missing)
    missing_msg = expect_error(e, "NotFoundException", 404)["Error"]["Message"]
    assert foreign_msg == missing_msg.replace(missing, acct)

    for call in (
        lambda: foreign.list_users(AccountId=acct),
        lambda: foreign.get_user(AccountId=acct, UserId=user["UserId"]),
        lambda: foreign.create_user(AccountId=acct, Email=f"{unique()}@example.com"),
        lambda: foreign.invite_users(AccountId=acct, UserEmailList=[f"{unique()}@example.com"]),
    ):
        with pytest.raises(foreign.exceptions.NotFoundException) as e:
            call()
        expect_error(e, "NotFoundException", 404)

    assert foreign.list_accounts()["Accounts"] == []
    assert foreign.list_accounts(UserEmail=address)["Accounts"] == []
    # The owner's account is unchanged by the foreign writes.
    assert client.list_users(AccountId=acct)["Users"] == [user]


def test_root_does_not_see_a_tenants_accounts(client, make_client, root_key):
    name = unique("Tenant")
    acct = client.create_account(Name=name)["Account"]["AccountId"]
    root = make_client(root_key)
    assert root.list_accounts(Name=name)["Accounts"] == []
    with pytest.raises(root.exceptions.NotFoundException) as e:
        root.get_account(AccountId=acct)
    expect_error(e, "NotFoundException", 404)


def test_two_keys_of_one_aws_account_share_its_accounts(client, belfry, tenant, make_client):
    acct = client.create_account(Name=unique("Shared"))["Account"]
    other = make_client(belfry.create_key(tenant.aws_account_id))
    assert other.get_account(AccountId=acct["AccountId"])["Account"] == acct


# -- operations this server does not serve -----------------------------------------------------

@pytest.mark.parametrize("operation,kwargs,name", [
    ("get_phone_number", {"PhoneNumberId": "+12065550100"}, "GetPhoneNumber"),
    ("list_phone_numbers", {}, "ListPhoneNumbers"),
    ("search_available_phone_numbers", {}, "SearchAvailablePhoneNumbers"),
    ("list_phone_number_orders", {}, "ListPhoneNumberOrders"),
])
def test_unsupported_operation_is_bad_request_naming_it(client, operation, kwargs, name):
    with pytest.raises(client.exceptions.BadRequestException) as e:
        getattr(client, operation)(**kwargs)
    err = expect_error(e, "BadRequestException", 400)
    msg = err["Error"]["Message"]
    assert name in msg and "not supported" in msg, msg


def test_unsupported_operation_still_requires_authentication(make_client):
    key_id, secret = random_key()
    c = make_client(Key(key_id, secret, "000000000000"))
    with pytest.raises(c.exceptions.UnauthorizedClientException) as e:
        c.list_phone_numbers()
    expect_error(e, "UnauthorizedClientException", 401)
