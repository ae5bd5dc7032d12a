"""Authentication, read-only keys, tenancy, and every operation of the model served, through
boto3."""

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


# -- every operation of the model is served ----------------------------------------------------

#: A value of each constrained string shape of the model's inputs that its pattern accepts.
SAMPLE_STRINGS = {
    "E164PhoneNumber": "+12065550100",
    "GuidString": "00000000-0000-4000-8000-000000000000",
    "JoinTokenString": "am9pbg",
    "EmailAddress": "nobody@example.com",
    "CallingName": "Belfry",
}


def sample(model, shape):
    """A value of `shape` that passes the model's constraints: required members only, lists of
    their minimum length (at least one), the first enum value, the minimum of a number."""
    if shape.type_name == "structure":
        return {name: sample(model, shape.members[name]) for name in shape.required_members}
    if shape.type_name == "list":
        return [sample(model, shape.member)] * max(shape.metadata.get("min", 1), 1)
    if shape.type_name == "string":
        if shape.enum:
            return shape.enum[0]
        return SAMPLE_STRINGS.get(shape.name, "x")
    if shape.type_name in ("integer", "long"):
        return shape.metadata.get("min", 1)
    if shape.type_name == "boolean":
        return False
    raise AssertionError(f"no sample for {shape.name} ({shape.type_name})")


def test_every_operation_of_the_model_is_served(client):
    """Each of the model's 62 operations, called through boto3 with input that passes the
    model's constraints (ids that name nothing), gets its success or one of its modeled
    errors: never a refusal of the operation itself."""
    from botocore import xform_name
    from botocore.exceptions import ClientError

    model = client.meta.service_model
    assert len(model.operation_names) == 62
    outcomes = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        kwargs = sample(model, op.input_shape) if op.input_shape is not None else {}
        try:
            getattr(client, xform_name(name))(**kwargs)
            outcomes[name] = "ok"
        except ClientError as e:
            code = e.response["Error"]["Code"]
            modeled = {shape.name for shape in op.error_shapes}
            assert code in modeled, (name, kwargs, e.response["Error"])
            assert "not supported" not in e.response["Error"]["Message"], (name, e.response)
            outcomes[name] = code
    # The samples name no account, user, room, bot, number or meeting: most operations answer
    # NotFound or BadRequest, and some succeed.
    assert "ok" in outcomes.values(), outcomes


def test_an_operation_still_requires_authentication(make_client):
    key_id, secret = random_key()
    c = make_client(Key(key_id, secret, "000000000000"))
    with pytest.raises(c.exceptions.UnauthorizedClientException) as e:
        c.get_phone_number_settings()
    expect_error(e, "UnauthorizedClientException", 401)
