"""Settings through boto3 and the AWS CLI: an AWS account's phone-number settings (the outbound
calling name) and global settings (call detail record buckets), a Chime account's retention
settings and sign-in delegate groups, CreateMeetingDialOut out of a meeting registered
through the admin API, and every modeled service error of these operations as boto3's typed
exception (on servers of the test's own, with `--admin-token`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from support import (
    TIMESTAMP_RE, admin, check_faults_arrive_typed, chime_client, expect_error, unique,
)

#: An account id of the right shape that no server has.
UNKNOWN_ACCOUNT_ID = "00000000-0000-0000-0000-000000000000"
#: A meeting id for the dial-outs.
MEETING_ID = "3f2f5c3e-8c1a-4d7e-9a61-6f0f1b2c3d4e"


def recent(ts: datetime, offset: timedelta = timedelta(0)) -> bool:
    return abs(datetime.now(timezone.utc) + offset - ts) < timedelta(minutes=5)


def make_enterprise(server, account_id: str) -> None:
    resp = admin(server, "PUT", f"/_belfry/accounts/{account_id}/account-type",
                 {"AccountType": "EnterpriseDirectory"})
    assert resp.status_code == 204, resp.text


def group_names(client, account_id: str) -> list[str]:
    account = client.get_account(AccountId=account_id)["Account"]
    return [g["GroupName"] for g in account["SigninDelegateGroups"]]


# -- an AWS account's settings -----------------------------------------------------------------

def test_phone_number_settings_walkthrough(client, foreign):
    resp = client.get_phone_number_settings()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "CallingName" not in resp and "CallingNameUpdatedTimestamp" not in resp

    resp = client.update_phone_number_settings(CallingName="Acme Support")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = client.get_phone_number_settings()
    assert got["CallingName"] == "Acme Support"
    assert recent(got["CallingNameUpdatedTimestamp"]), got

    # The same name: nothing changes. Another within seven days: refused.
    client.update_phone_number_settings(CallingName="Acme Support")
    assert client.get_phone_number_settings()["CallingNameUpdatedTimestamp"] == \
        got["CallingNameUpdatedTimestamp"]
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.update_phone_number_settings(CallingName="Globex")
    err = expect_error(e, "BadRequestException", 400)
    assert "seven days" in err["Error"]["Message"]

    for bad in ["A", "Sixteen chars 16", "Acme, Inc."]:
        with pytest.raises(client.exceptions.BadRequestException) as e:
            client.update_phone_number_settings(CallingName=bad)
        err = expect_error(e, "BadRequestException", 400)
        assert "'callingName'" in err["Error"]["Message"], err
    assert client.get_phone_number_settings()["CallingName"] == "Acme Support"

    # Another AWS account's settings are its own.
    assert "CallingName" not in foreign.get_phone_number_settings()


def test_global_settings_walkthrough(client, foreign, read_only):
    got = client.get_global_settings()
    assert got["BusinessCalling"] == {} and got["VoiceConnector"] == {}, got

    resp = client.update_global_settings(BusinessCalling={"CdrBucket": "acme-cdrs"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    client.update_global_settings(VoiceConnector={"CdrBucket": "acme-voice-cdrs"})
    got = client.get_global_settings()
    assert got["BusinessCalling"] == {"CdrBucket": "acme-cdrs"}
    assert got["VoiceConnector"] == {"CdrBucket": "acme-voice-cdrs"}
    client.update_global_settings(BusinessCalling={})
    got = client.get_global_settings()
    assert got["BusinessCalling"] == {}
    assert got["VoiceConnector"] == {"CdrBucket": "acme-voice-cdrs"}

    assert foreign.get_global_settings()["VoiceConnector"] == {}
    assert read_only.get_global_settings()["VoiceConnector"] == {"CdrBucket": "acme-voice-cdrs"}
    with pytest.raises(read_only.exceptions.ForbiddenException) as e:
        read_only.update_global_settings(VoiceConnector={"CdrBucket": "mine"})
    expect_error(e, "ForbiddenException", 403)


def test_global_settings_with_the_aws_cli(chime_cli):
    got = chime_cli("get-global-settings")
    assert got == {"BusinessCalling": {}, "VoiceConnector": {}}, got
    chime_cli.quiet("update-global-settings", "--business-calling", "CdrBucket=cli-cdrs")
    got = chime_cli("get-global-settings")
    assert got["BusinessCalling"] == {"CdrBucket": "cli-cdrs"}, got
    chime_cli.quiet("update-phone-number-settings", "--calling-name", "CLI Calls")
    got = chime_cli("get-phone-number-settings")
    assert got["CallingName"] == "CLI Calls"
    assert TIMESTAMP_RE.match(got["CallingNameUpdatedTimestamp"]), got


# -- a Chime account's retention settings and sign-in delegate groups --------------------------

def test_retention_settings_walkthrough(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    foreign = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("retention"))["Account"]["AccountId"]

    got = client.get_retention_settings(AccountId=acct)
    assert got["RetentionSettings"] == {}
    assert "InitiateDeletionTimestamp" not in got
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.put_retention_settings(
            AccountId=acct, RetentionSettings={"RoomRetentionSettings": {"RetentionDays": 30}})
    err = expect_error(e, "ConflictException", 409)
    assert "Enterprise" in err["Error"]["Message"]

    make_enterprise(admin_server, acct)
    assert client.get_account(AccountId=acct)["Account"]["AccountType"] == "EnterpriseDirectory"
    settings = {"RoomRetentionSettings": {"RetentionDays": 30},
                "ConversationRetentionSettings": {"RetentionDays": 90}}
    put = client.put_retention_settings(AccountId=acct, RetentionSettings=settings)
    # The output the model promises arrives (see PutRetentionSettings in src/api/settings.rs).
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["RetentionSettings"] == settings
    assert recent(put["InitiateDeletionTimestamp"], timedelta(days=30)), put
    got = client.get_retention_settings(AccountId=acct)
    assert got["RetentionSettings"] == settings
    assert got["InitiateDeletionTimestamp"] == put["InitiateDeletionTimestamp"]

    # Leaving a kind out turns it off.
    put = client.put_retention_settings(
        AccountId=acct, RetentionSettings={"ConversationRetentionSettings": {"RetentionDays": 1}})
    assert put["RetentionSettings"] == {"ConversationRetentionSettings": {"RetentionDays": 1}}
    put = client.put_retention_settings(AccountId=acct, RetentionSettings={})
    assert put["RetentionSettings"] == {} and "InitiateDeletionTimestamp" not in put

    # boto3 checks the minimum itself; the maximum is the server's to enforce.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.put_retention_settings(
            AccountId=acct, RetentionSettings={"RoomRetentionSettings": {"RetentionDays": 5476}})
    err = expect_error(e, "BadRequestException", 400)
    assert "less than or equal to 5475" in err["Error"]["Message"]

    for other in (foreign, client):
        account_id = acct if other is foreign else UNKNOWN_ACCOUNT_ID
        with pytest.raises(other.exceptions.NotFoundException) as e:
            other.get_retention_settings(AccountId=account_id)
        expect_error(e, "NotFoundException", 404)
        with pytest.raises(other.exceptions.NotFoundException) as e:
            other.put_retention_settings(AccountId=account_id, RetentionSettings={})
        expect_error(e, "NotFoundException", 404)


def test_signin_delegate_groups_walkthrough(client, foreign, account):
    acct = account["AccountId"]
    assert account["SigninDelegateGroups"] == []
    resp = client.associate_signin_delegate_groups_with_account(
        AccountId=acct, SigninDelegateGroups=[{"GroupName": "Engineering"},
                                              {"GroupName": "Admins"}])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    client.associate_signin_delegate_groups_with_account(
        AccountId=acct, SigninDelegateGroups=[{"GroupName": "Admins"}])
    assert group_names(client, acct) == ["Admins", "Engineering"]
    listed = {a["AccountId"]: a for a in client.list_accounts()["Accounts"]}
    assert listed[acct]["SigninDelegateGroups"] == [{"GroupName": "Admins"},
                                                    {"GroupName": "Engineering"}]

    resp = client.disassociate_signin_delegate_groups_from_account(
        AccountId=acct, GroupNames=["Admins", "Nobody"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert group_names(client, acct) == ["Engineering"]

    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.associate_signin_delegate_groups_with_account(
            AccountId=acct, SigninDelegateGroups=[{"GroupName": "  "}])
    expect_error(e, "BadRequestException", 400)
    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        foreign.associate_signin_delegate_groups_with_account(
            AccountId=acct, SigninDelegateGroups=[{"GroupName": "Intruders"}])
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(foreign.exceptions.NotFoundException) as e:
        foreign.disassociate_signin_delegate_groups_from_account(
            AccountId=acct, GroupNames=["Engineering"])
    expect_error(e, "NotFoundException", 404)
    assert group_names(client, acct) == ["Engineering"]


# -- dial-outs ---------------------------------------------------------------------------------

def test_meeting_dial_out_walkthrough(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    call = {"MeetingId": MEETING_ID, "FromPhoneNumber": "+12065550100",
            "ToPhoneNumber": "+14155550123", "JoinToken": "am9pbi10b2tlbg"}

    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_meeting_dial_out(**call)
    err = expect_error(e, "BadRequestException", 400)
    assert MEETING_ID in err["Error"]["Message"]

    resp = admin(admin_server, "POST", "/_belfry/meetings", {"MeetingId": MEETING_ID})
    assert resp.status_code == 201, resp.text
    out = client.create_meeting_dial_out(**call)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    transaction = out["TransactionId"]
    dial_outs = admin(admin_server, "GET", f"/_belfry/meetings/{MEETING_ID}/dial-outs").json()
    assert [(d["TransactionId"], d["FromPhoneNumber"], d["ToPhoneNumber"])
            for d in dial_outs["DialOuts"]] == [(transaction, "+12065550100", "+14155550123")]

    for member, value in [("ToPhoneNumber", "555-0123"), ("JoinToken", "not a token"),
                          ("JoinToken", "A" * 2049)]:
        with pytest.raises(client.exceptions.BadRequestException) as e:
            client.create_meeting_dial_out(**dict(call, **{member: value}))
        err = expect_error(e, "BadRequestException", 400)
        assert member[0].lower() + member[1:] in err["Error"]["Message"], err
    assert len(admin(admin_server, "GET",
                     f"/_belfry/meetings/{MEETING_ID}/dial-outs").json()["DialOuts"]) == 1

    # Reset forgets the meeting.
    assert admin(admin_server, "POST", "/_belfry/reset").status_code == 204
    with pytest.raises(client.exceptions.BadRequestException):
        client.create_meeting_dial_out(**call)


# -- every modeled service error, typed ----------------------------------------------------------

def test_every_modeled_service_error_arrives_typed(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("faults"))["Account"]["AccountId"]
    calls = {
        "GetPhoneNumberSettings": {},
        "UpdatePhoneNumberSettings": {"CallingName": "Faults"},
        "GetGlobalSettings": {},
        "UpdateGlobalSettings": {},
        "GetRetentionSettings": {"AccountId": acct},
        "PutRetentionSettings": {"AccountId": acct, "RetentionSettings": {}},
        "AssociateSigninDelegateGroupsWithAccount": {
            "AccountId": acct, "SigninDelegateGroups": [{"GroupName": "g"}]},
        "DisassociateSigninDelegateGroupsFromAccount": {"AccountId": acct, "GroupNames": ["g"]},
        "CreateMeetingDialOut": {"MeetingId": MEETING_ID, "FromPhoneNumber": "+12065550100",
                                 "ToPhoneNumber": "+14155550123", "JoinToken": "ab"},
    }
    checked = check_faults_arrive_typed(client, lambda *call: admin(admin_server, *call), calls)
    # Every one of the nine models all five.
    assert checked == 9 * 5
