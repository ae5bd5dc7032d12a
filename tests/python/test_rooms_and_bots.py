"""Rooms, room memberships, chat bots and their events configurations, and message redaction,
through boto3 and the AWS CLI: an administrator's walk through a room's life, the bots that may
join it, the modeled errors as typed exceptions, the demo's rooms and bot, and redaction of
messages posted through the admin API (on servers of the test's own, with `--admin-token`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from support import (
    TIMESTAMP_RE, admin, check_faults_arrive_typed, chime_client, email, expect_error, unique,
)

#: An account id of the right shape that no server has.
UNKNOWN_ACCOUNT_ID = "00000000-0000-0000-0000-000000000000"
#: A user or bot id that no account has.
UNKNOWN_MEMBER_ID = "00000000-1111-2222-3333-444444444444"
#: A room the demo seeds, and how many users it has as members (General also has the bot).
DEMO_ROOMS = {"General": 40, "Engineering": 12, "Support": 6}


def recent(ts: datetime) -> bool:
    return abs(datetime.now(timezone.utc) - ts) < timedelta(minutes=5)


def all_memberships(client, **kwargs) -> tuple[list[int], list[dict]]:
    """Every membership of a room by walking NextToken by hand (boto3 has no paginator for
    ListRoomMemberships); the page sizes and the memberships."""
    sizes, memberships, token = [], [], None
    while True:
        page = client.list_room_memberships(**kwargs, **({"NextToken": token} if token else {}))
        assert page["ResponseMetadata"]["HTTPStatusCode"] == 200
        sizes.append(len(page["RoomMemberships"]))
        memberships += page["RoomMemberships"]
        token = page.get("NextToken")
        if not token:
            return sizes, memberships
        assert len(sizes) < 100, "NextToken never ends"


def room_ids(client, **kwargs) -> list[str]:
    return [r["RoomId"] for r in client.list_rooms(**kwargs)["Rooms"]]


# -- a room's life with boto3 ----------------------------------------------------------------

def test_room_walkthrough_with_boto3(client, account):
    acct = account["AccountId"]
    names = ["Ada Lovelace", "Grace Hopper", None, None]
    users = []
    for name in names:
        kwargs = {"Username": name} if name else {}
        users.append(client.create_user(AccountId=acct, Email=email("member"), **kwargs)["User"])
    by_id = {u["UserId"]: u for u in users}

    # 1. A room: 201, with every member of the Room structure.
    room_name = unique("Design Review")
    resp = client.create_room(AccountId=acct, Name=room_name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    room = resp["Room"]
    assert set(room) == {"RoomId", "Name", "AccountId", "CreatedBy", "CreatedTimestamp",
                         "UpdatedTimestamp"}, room
    assert room["Name"] == room_name
    assert room["AccountId"] == acct
    assert room["CreatedBy"]
    assert recent(room["CreatedTimestamp"]), room
    assert room["UpdatedTimestamp"] == room["CreatedTimestamp"]
    assert client.get_room(AccountId=acct, RoomId=room["RoomId"])["Room"] == room
    rid = room["RoomId"]
    other = client.create_room(AccountId=acct, Name=unique("Lobby"))["Room"]

    # 2. Three users and one member that does not exist: only that one fails, NotFound.
    resp = client.batch_create_room_membership(
        AccountId=acct, RoomId=rid,
        MembershipItemList=[{"MemberId": u["UserId"], "Role": "Member"} for u in users[:3]]
        + [{"MemberId": UNKNOWN_MEMBER_ID, "Role": "Member"}])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    errors = resp["Errors"]
    assert [(e["MemberId"], e["ErrorCode"]) for e in errors] == [(UNKNOWN_MEMBER_ID, "NotFound")]
    assert errors[0]["ErrorMessage"], errors

    # The fourth user joins the other room alone: 201, the Member role by default.
    resp = client.create_room_membership(AccountId=acct, RoomId=other["RoomId"],
                                         MemberId=users[3]["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    single = resp["RoomMembership"]
    assert single["RoomId"] == other["RoomId"]
    assert single["Role"] == "Member"
    assert single["Member"]["MemberId"] == users[3]["UserId"]

    # 3. One of them becomes the room's administrator.
    resp = client.update_room_membership(AccountId=acct, RoomId=rid,
                                         MemberId=users[1]["UserId"], Role="Administrator")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["RoomMembership"]["Role"] == "Administrator"
    assert resp["RoomMembership"]["Member"]["MemberId"] == users[1]["UserId"]

    # 4. The memberships, two a page.
    sizes, memberships = all_memberships(client, AccountId=acct, RoomId=rid, MaxResults=2)
    assert sizes == [2, 1]
    assert sorted(m["Member"]["MemberId"] for m in memberships) == \
        sorted(u["UserId"] for u in users[:3])
    for m in memberships:
        user = by_id[m["Member"]["MemberId"]]
        assert m["RoomId"] == rid
        assert m["Member"]["MemberType"] == "User"
        assert m["Member"]["Email"] == user["PrimaryEmail"]
        assert m["Member"]["AccountId"] == acct
        if "DisplayName" in user:
            assert m["Member"]["FullName"] == user["DisplayName"]
        else:
            assert "FullName" not in m["Member"], m
        assert m["Role"] == ("Administrator" if user is users[1] else "Member")
        assert m["InvitedBy"] == room["CreatedBy"]  # the same caller made both
        assert recent(m["UpdatedTimestamp"]), m
    assert sum("FullName" in m["Member"] for m in memberships) == 2

    # 5. ListRooms: every room, or the rooms of one member.
    assert sorted(room_ids(client, AccountId=acct)) == sorted([rid, other["RoomId"]])
    assert room_ids(client, AccountId=acct, MemberId=users[0]["UserId"]) == [rid]
    assert room_ids(client, AccountId=acct, MemberId=users[3]["UserId"]) == [other["RoomId"]]

    # 6. A member leaves.
    resp = client.delete_room_membership(AccountId=acct, RoomId=rid, MemberId=users[0]["UserId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    _, left = all_memberships(client, AccountId=acct, RoomId=rid)
    assert sorted(m["Member"]["MemberId"] for m in left) == \
        sorted([users[1]["UserId"], users[2]["UserId"]])
    assert room_ids(client, AccountId=acct, MemberId=users[0]["UserId"]) == []
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.delete_room_membership(AccountId=acct, RoomId=rid, MemberId=users[0]["UserId"])
    expect_error(e, "NotFoundException", 404)

    # 7. The room goes, and is gone; the other stays.
    resp = client.delete_room(AccountId=acct, RoomId=rid)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_room(AccountId=acct, RoomId=rid)
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.list_room_memberships(AccountId=acct, RoomId=rid)
    expect_error(e, "NotFoundException", 404)
    assert room_ids(client, AccountId=acct) == [other["RoomId"]]
    assert room_ids(client, AccountId=acct, MemberId=users[1]["UserId"]) == []


# -- the same with the AWS CLI ---------------------------------------------------------------

def test_room_walkthrough_with_the_aws_cli(chime_cli):
    chime = chime_cli

    acct = chime("create-account", "--name", unique("CLI Rooms"))["Account"]["AccountId"]
    stem = unique("cliroom")
    users = [chime("create-user", "--account-id", acct, "--email", f"{stem}-{who}@example.com",
                   "--username", who.title())["User"]
             for who in ("alice", "bob", "carol", "dave")]
    ids = [u["UserId"] for u in users]

    # 1. A room.
    name = unique("Standup")
    room = chime("create-room", "--account-id", acct, "--name", name)["Room"]
    assert room["Name"] == name
    assert room["AccountId"] == acct
    assert TIMESTAMP_RE.match(room["CreatedTimestamp"]), room
    assert TIMESTAMP_RE.match(room["UpdatedTimestamp"]), room
    rid = room["RoomId"]
    assert chime("get-room", "--account-id", acct, "--room-id", rid)["Room"] == room

    # 2. Three members in shorthand syntax, and one that does not exist.
    resp = chime("batch-create-room-membership", "--account-id", acct, "--room-id", rid,
                 "--membership-item-list",
                 *(f"MemberId={i},Role=Member" for i in ids[:3]),
                 f"MemberId={UNKNOWN_MEMBER_ID},Role=Member")
    assert [(e["MemberId"], e["ErrorCode"]) for e in resp["Errors"]] == \
        [(UNKNOWN_MEMBER_ID, "NotFound")]

    # 3. Bob administers the room.
    m = chime("update-room-membership", "--account-id", acct, "--room-id", rid,
              "--member-id", ids[1], "--role", "Administrator")["RoomMembership"]
    assert (m["Member"]["MemberId"], m["Role"]) == (ids[1], "Administrator")

    # 4. The memberships.
    memberships = chime("list-room-memberships", "--account-id", acct, "--room-id", rid,
                        "--max-results", "2")
    assert len(memberships["RoomMemberships"]) == 2
    assert memberships["NextToken"]
    rest = chime("list-room-memberships", "--account-id", acct, "--room-id", rid,
                 "--max-results", "2", "--next-token", memberships["NextToken"])
    assert len(rest["RoomMemberships"]) == 1
    assert "NextToken" not in rest
    everyone = memberships["RoomMemberships"] + rest["RoomMemberships"]
    got = {m["Member"]["MemberId"]: m for m in everyone}
    assert sorted(got) == sorted(ids[:3])
    for user in users[:3]:
        m = got[user["UserId"]]
        assert m["Member"]["Email"] == user["PrimaryEmail"]
        assert m["Member"]["FullName"] == user["DisplayName"]
        assert m["Member"]["MemberType"] == "User"
        assert m["Role"] == ("Administrator" if user["UserId"] == ids[1] else "Member")
        assert TIMESTAMP_RE.match(m["UpdatedTimestamp"]), m

    # 5. Rooms by member: Dave is in none.
    rooms = chime("list-rooms", "--account-id", acct, "--member-id", ids[0])["Rooms"]
    assert [r["RoomId"] for r in rooms] == [rid]
    assert chime("list-rooms", "--account-id", acct, "--member-id", ids[3])["Rooms"] == []

    # 6. Alice leaves.
    chime.quiet("delete-room-membership", "--account-id", acct, "--room-id", rid,
                "--member-id", ids[0])
    left = chime("list-room-memberships", "--account-id", acct, "--room-id", rid)
    assert sorted(m["Member"]["MemberId"] for m in left["RoomMemberships"]) == sorted(ids[1:3])
    assert chime("list-rooms", "--account-id", acct, "--member-id", ids[0])["Rooms"] == []

    # 7. The room goes.
    chime.quiet("delete-room", "--account-id", acct, "--room-id", rid)
    stderr = chime.fails("get-room", "--account-id", acct, "--room-id", rid)
    assert "An error occurred (NotFoundException) when calling the GetRoom operation" \
        in stderr, stderr
    assert chime("list-rooms", "--account-id", acct)["Rooms"] == []


# -- bots ------------------------------------------------------------------------------------

def test_create_bot_and_its_life(client, account):
    acct = account["AccountId"]
    resp = client.create_bot(AccountId=acct, DisplayName="myBot", Domain="example.com")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    bot = resp["Bot"]
    assert bot["DisplayName"] == "myBot (Bot)"
    assert bot["BotEmail"] == "myBot-chimebot@example.com"
    assert bot["BotType"] == "ChatBot"
    assert bot["Disabled"] is False
    assert bot["BotId"]
    assert bot["UserId"] == bot["BotId"]
    assert len(bot["SecurityToken"]) == 40, bot
    assert recent(bot["CreatedTimestamp"]), bot
    assert client.get_bot(AccountId=acct, BotId=bot["BotId"])["Bot"] == bot

    listed = client.list_bots(AccountId=acct)
    assert listed["Bots"] == [bot]
    assert "NextToken" not in listed

    # Disable it.
    disabled = client.update_bot(AccountId=acct, BotId=bot["BotId"], Disabled=True)["Bot"]
    assert disabled["Disabled"] is True
    assert disabled["SecurityToken"] == bot["SecurityToken"]
    assert client.get_bot(AccountId=acct, BotId=bot["BotId"])["Bot"]["Disabled"] is True

    # A new token, and the bot otherwise the same.
    resp = client.regenerate_security_token(AccountId=acct, BotId=bot["BotId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    renewed = resp["Bot"]
    assert len(renewed["SecurityToken"]) == 40
    assert renewed["SecurityToken"] != bot["SecurityToken"]
    assert {k: v for k, v in renewed.items() if k not in ("SecurityToken", "UpdatedTimestamp")} \
        == {k: v for k, v in disabled.items() if k not in ("SecurityToken", "UpdatedTimestamp")}
    assert client.get_bot(AccountId=acct, BotId=bot["BotId"])["Bot"]["SecurityToken"] == \
        renewed["SecurityToken"]

    # A bot is no user of the account.
    user = client.create_user(AccountId=acct, Email=email("human"))["User"]
    users = client.list_users(AccountId=acct)["Users"]
    assert [u["UserId"] for u in users] == [user["UserId"]]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_user(AccountId=acct, UserId=bot["UserId"])
    expect_error(e, "NotFoundException", 404)


def test_events_configuration_put_get_delete(client, account):
    acct = account["AccountId"]
    bot_id = client.create_bot(AccountId=acct, DisplayName="hooks")["Bot"]["BotId"]

    resp = client.put_events_configuration(AccountId=acct, BotId=bot_id,
                                           OutboundEventsHTTPSEndpoint="https://bot.example.com/e")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    config = resp["EventsConfiguration"]
    assert config == {"BotId": bot_id, "OutboundEventsHTTPSEndpoint": "https://bot.example.com/e"}
    got = client.get_events_configuration(AccountId=acct, BotId=bot_id)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["EventsConfiguration"] == config

    # Both targets at once is refused, and the configuration is left as it was.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.put_events_configuration(
            AccountId=acct, BotId=bot_id, OutboundEventsHTTPSEndpoint="https://other.example.com/",
            LambdaFunctionArn="arn:aws:lambda:us-east-1:111122223333:function:hook")
    expect_error(e, "BadRequestException", 400)
    assert client.get_events_configuration(AccountId=acct, BotId=bot_id)[
        "EventsConfiguration"] == config

    # A Lambda function replaces the endpoint.
    arn = "arn:aws:lambda:us-east-1:111122223333:function:hook"
    config = client.put_events_configuration(AccountId=acct, BotId=bot_id,
                                             LambdaFunctionArn=arn)["EventsConfiguration"]
    assert config == {"BotId": bot_id, "LambdaFunctionArn": arn}

    # Deleting succeeds, also when there is nothing left to delete.
    for _ in range(2):
        resp = client.delete_events_configuration(AccountId=acct, BotId=bot_id)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.get_events_configuration(AccountId=acct, BotId=bot_id)
    expect_error(e, "NotFoundException", 404)


def test_bot_joins_a_room_only_with_an_events_configuration(client, account):
    acct = account["AccountId"]
    bot = client.create_bot(AccountId=acct, DisplayName="Greeter", Domain="example.com")["Bot"]
    user = client.create_user(AccountId=acct, Email=email("joiner"))["User"]
    rid = client.create_room(AccountId=acct, Name=unique("Bots"))["Room"]["RoomId"]

    resp = client.batch_create_room_membership(
        AccountId=acct, RoomId=rid,
        MembershipItemList=[{"MemberId": bot["BotId"]}, {"MemberId": user["UserId"]}])
    assert [(e["MemberId"], e["ErrorCode"]) for e in resp["Errors"]] == \
        [(bot["BotId"], "BadRequest")]
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=bot["BotId"])
    expect_error(e, "BadRequestException", 400)
    _, memberships = all_memberships(client, AccountId=acct, RoomId=rid)
    assert [m["Member"]["MemberId"] for m in memberships] == [user["UserId"]]

    client.put_events_configuration(AccountId=acct, BotId=bot["BotId"],
                                    OutboundEventsHTTPSEndpoint="https://bot.example.com/e")
    resp = client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=bot["BotId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    member = resp["RoomMembership"]["Member"]
    assert member["MemberId"] == bot["BotId"]
    assert member["MemberType"] == "Bot"
    assert member["Email"] == bot["BotEmail"]
    assert member["FullName"] == bot["DisplayName"]
    assert member["AccountId"] == acct
    _, memberships = all_memberships(client, AccountId=acct, RoomId=rid)
    assert {m["Member"]["MemberId"]: m["Member"]["MemberType"] for m in memberships} == \
        {user["UserId"]: "User", bot["BotId"]: "Bot"}
    assert room_ids(client, AccountId=acct, MemberId=bot["BotId"]) == [rid]


# -- modeled errors ----------------------------------------------------------------------------

def test_adding_a_member_twice_is_conflict(client, account):
    acct = account["AccountId"]
    user = client.create_user(AccountId=acct, Email=email("twice"))["User"]
    rid = client.create_room(AccountId=acct, Name=unique("Twice"))["Room"]["RoomId"]
    first = client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=user["UserId"],
                                          Role="Administrator")["RoomMembership"]
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=user["UserId"])
    expect_error(e, "ConflictException", 409)
    # In a batch it is that member's error, with the code of the same exception.
    resp = client.batch_create_room_membership(AccountId=acct, RoomId=rid,
                                               MembershipItemList=[{"MemberId": user["UserId"]}])
    assert [(x["MemberId"], x["ErrorCode"]) for x in resp["Errors"]] == \
        [(user["UserId"], "Conflict")]
    # The membership is untouched: still one, still the administrator.
    _, memberships = all_memberships(client, AccountId=acct, RoomId=rid)
    assert memberships == [first]


def test_room_of_an_unknown_account_is_not_found(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.create_room(AccountId=UNKNOWN_ACCOUNT_ID, Name=unique("Nowhere"))
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.list_rooms(AccountId=UNKNOWN_ACCOUNT_ID)
    expect_error(e, "NotFoundException", 404)


def test_another_tenants_room_is_not_found(client, account, foreign):
    acct = account["AccountId"]
    rid = client.create_room(AccountId=acct, Name=unique("Private"))["Room"]["RoomId"]
    for call in (
        lambda: foreign.get_room(AccountId=acct, RoomId=rid),
        lambda: foreign.list_rooms(AccountId=acct),
        lambda: foreign.list_room_memberships(AccountId=acct, RoomId=rid),
        lambda: foreign.delete_room(AccountId=acct, RoomId=rid),
    ):
        with pytest.raises(foreign.exceptions.NotFoundException) as e:
            call()
        expect_error(e, "NotFoundException", 404)
    # The owner still has it.
    assert client.get_room(AccountId=acct, RoomId=rid)["Room"]["RoomId"] == rid


def test_read_only_key_cannot_create_a_room(client, account, read_only):
    acct = account["AccountId"]
    rid = client.create_room(AccountId=acct, Name=unique("Seen"))["Room"]["RoomId"]
    with pytest.raises(read_only.exceptions.ForbiddenException) as e:
        read_only.create_room(AccountId=acct, Name=unique("Refused"))
    expect_error(e, "ForbiddenException", 403)
    with pytest.raises(read_only.exceptions.ForbiddenException) as e:
        read_only.create_bot(AccountId=acct, DisplayName="refused")
    expect_error(e, "ForbiddenException", 403)
    # It may read: it sees the one room, and nothing was made.
    assert room_ids(read_only, AccountId=acct) == [rid]
    assert client.list_bots(AccountId=acct)["Bots"] == []


def test_list_rooms_max_results_above_99_is_bad_request(client, account):
    acct = account["AccountId"]
    rid = client.create_room(AccountId=acct, Name=unique("Max"))["Room"]["RoomId"]
    # botocore checks only the model's minimum: 100 reaches the server.
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.list_rooms(AccountId=acct, MaxResults=100)
    expect_error(e, "BadRequestException", 400)
    assert room_ids(client, AccountId=acct, MaxResults=99) == [rid]


# -- the demo --------------------------------------------------------------------------------

def test_demo_account_has_three_rooms(demo_client, demo):
    acct = demo.demo_account_id
    rooms = demo_client.list_rooms(AccountId=acct)
    assert "NextToken" not in rooms
    assert sorted(r["Name"] for r in rooms["Rooms"]) == sorted(DEMO_ROOMS)
    assert all(r["AccountId"] == acct for r in rooms["Rooms"])
    by_name = {r["Name"]: r["RoomId"] for r in rooms["Rooms"]}

    _, general = all_memberships(demo_client, AccountId=acct, RoomId=by_name["General"])
    assert len(general) == DEMO_ROOMS["General"] + 1 == 41
    assert len({m["Member"]["MemberId"] for m in general}) == 41
    bots = [m for m in general if m["Member"]["MemberType"] == "Bot"]
    assert [m["Member"]["FullName"] for m in bots] == ["Helper (Bot)"]
    assert sum(m["Member"]["MemberType"] == "User" for m in general) == 40
    for name in ("Engineering", "Support"):
        _, members = all_memberships(demo_client, AccountId=acct, RoomId=by_name[name])
        assert len(members) == DEMO_ROOMS[name], name
        assert all(m["Member"]["MemberType"] == "User" for m in members), name

    listed = demo_client.list_bots(AccountId=acct)["Bots"]
    assert [b["DisplayName"] for b in listed] == ["Helper (Bot)"]
    assert listed[0]["BotId"] == bots[0]["Member"]["MemberId"]
    assert room_ids(demo_client, AccountId=acct, MemberId=listed[0]["BotId"]) == \
        [by_name["General"]]


# -- message redaction (through servers of the test's own, with the admin API) -----------------

def post_message(server, path: str, sender_id: str, content: str) -> dict:
    resp = admin(server, "POST", path, {"SenderId": sender_id, "Content": content})
    assert resp.status_code == 201, (resp.status_code, resp.text)
    return resp.json()["Message"]


def messages(server, path: str) -> list[dict]:
    resp = admin(server, "GET", path)
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.json()["Messages"]


def test_redact_room_message(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("redact"))["Account"]["AccountId"]
    alice, bob = (client.create_user(AccountId=acct, Email=email(w))["User"]["UserId"]
                  for w in ("alice", "bob"))
    rid = client.create_room(AccountId=acct, Name=unique("Redactions"))["Room"]["RoomId"]
    client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=alice)
    path = f"/_belfry/accounts/{acct}/rooms/{rid}/messages"

    resp = admin(admin_server, "POST", path, {"SenderId": alice, "Content": "first"})
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["MentionedBots"] == []
    first = doc["Message"]
    assert first["SenderId"] == alice
    assert first["Content"] == "first"
    assert first["Redacted"] is False
    assert first["DiscussionId"] == rid
    assert first["DiscussionType"] == "Room"
    assert TIMESTAMP_RE.match(first["CreatedTimestamp"]), first
    second = post_message(admin_server, path, alice, "second")

    # Bob is no member of the room: his message is refused.
    resp = admin(admin_server, "POST", path, {"SenderId": bob, "Content": "let me in"})
    assert resp.status_code == 400, (resp.status_code, resp.text)

    resp = client.redact_room_message(AccountId=acct, RoomId=rid, MessageId=first["MessageId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = messages(admin_server, path)
    assert [m["MessageId"] for m in got] == [first["MessageId"], second["MessageId"]]
    assert got[0]["Redacted"] is True
    assert "Content" not in got[0], got[0]
    assert got[0]["SenderId"] == alice
    assert got[1] == second

    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.redact_room_message(AccountId=acct, RoomId=rid, MessageId=UNKNOWN_MEMBER_ID)
    expect_error(e, "NotFoundException", 404)
    # A message id of another room is no message of this one.
    other = client.create_room(AccountId=acct, Name=unique("Elsewhere"))["Room"]["RoomId"]
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.redact_room_message(AccountId=acct, RoomId=other, MessageId=second["MessageId"])
    expect_error(e, "NotFoundException", 404)
    assert messages(admin_server, path)[1] == second


def test_redact_conversation_message(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("convo"))["Account"]["AccountId"]
    alice, bob = (client.create_user(AccountId=acct, Email=email(w))["User"]["UserId"]
                  for w in ("alice", "bob"))
    resp = admin(admin_server, "POST", f"/_belfry/accounts/{acct}/conversations",
                 {"MemberIds": [alice, bob]})
    assert resp.status_code == 201, (resp.status_code, resp.text)
    conversation = resp.json()["Conversation"]
    cid = conversation["ConversationId"]
    assert cid
    path = f"/_belfry/accounts/{acct}/conversations/{cid}/messages"

    hello = post_message(admin_server, path, alice, "hello Bob")
    reply = post_message(admin_server, path, bob, "hi Alice")
    assert hello["DiscussionId"] == reply["DiscussionId"] == cid
    assert hello["DiscussionType"] == reply["DiscussionType"] == "Conversation"
    assert (hello["Content"], hello["Redacted"]) == ("hello Bob", False)

    resp = client.redact_conversation_message(AccountId=acct, ConversationId=cid,
                                              MessageId=reply["MessageId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = messages(admin_server, path)
    assert [m["MessageId"] for m in got] == [hello["MessageId"], reply["MessageId"]]
    assert got[0] == hello
    assert got[1]["Redacted"] is True
    assert "Content" not in got[1], got[1]
    assert got[1]["SenderId"] == bob

    # Redacting again changes nothing.
    client.redact_conversation_message(AccountId=acct, ConversationId=cid,
                                       MessageId=reply["MessageId"])
    assert messages(admin_server, path) == got

    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.redact_conversation_message(AccountId=acct, ConversationId=cid,
                                           MessageId=UNKNOWN_MEMBER_ID)
    expect_error(e, "NotFoundException", 404)
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.redact_conversation_message(AccountId=acct, ConversationId=UNKNOWN_MEMBER_ID,
                                           MessageId=hello["MessageId"])
    expect_error(e, "NotFoundException", 404)


# -- what a role, a suspension and a reset do to rooms and bots --------------------------------

def test_only_a_users_role_in_a_room_can_change(client, account):
    acct = account["AccountId"]
    bot = client.create_bot(AccountId=acct, DisplayName="Roles")["Bot"]
    client.put_events_configuration(AccountId=acct, BotId=bot["BotId"],
                                    OutboundEventsHTTPSEndpoint="https://bot.example.com/e")
    user = client.create_user(AccountId=acct, Email=email("role"))["User"]
    rid = client.create_room(AccountId=acct, Name=unique("Roles"))["Room"]["RoomId"]
    for member in (bot["BotId"], user["UserId"]):
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=member)

    # "The member role can be updated only for user IDs." (the model's documentation)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.update_room_membership(AccountId=acct, RoomId=rid, MemberId=bot["BotId"],
                                      Role="Administrator")
    expect_error(e, "BadRequestException", 400)
    promoted = client.update_room_membership(AccountId=acct, RoomId=rid, MemberId=user["UserId"],
                                             Role="Administrator")["RoomMembership"]
    assert promoted["Role"] == "Administrator"
    _, memberships = all_memberships(client, AccountId=acct, RoomId=rid)
    assert {m["Member"]["MemberId"]: m["Role"] for m in memberships} == \
        {bot["BotId"]: "Member", user["UserId"]: "Administrator"}


def test_a_suspended_user_stays_a_member_of_their_rooms(client, account):
    acct = account["AccountId"]
    user = client.create_user(AccountId=acct, Email=email("away"))["User"]
    rid = client.create_room(AccountId=acct, Name=unique("Away"))["Room"]["RoomId"]
    client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=user["UserId"],
                                  Role="Administrator")
    _, before = all_memberships(client, AccountId=acct, RoomId=rid)

    resp = client.batch_suspend_user(AccountId=acct, UserIdList=[user["UserId"]])
    assert resp["UserErrors"] == []
    assert client.get_user(AccountId=acct, UserId=user["UserId"])["User"][
        "UserRegistrationStatus"] == "Suspended"
    _, during = all_memberships(client, AccountId=acct, RoomId=rid)
    assert during == before
    assert room_ids(client, AccountId=acct, MemberId=user["UserId"]) == [rid]

    client.batch_unsuspend_user(AccountId=acct, UserIdList=[user["UserId"]])
    _, after = all_memberships(client, AccountId=acct, RoomId=rid)
    assert after == before


def test_reset_deletes_rooms_bots_and_messages(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("reset"))["Account"]["AccountId"]
    alice = client.create_user(AccountId=acct, Email=email("alice"))["User"]["UserId"]
    bot = client.create_bot(AccountId=acct, DisplayName="Gone")["Bot"]["BotId"]
    client.put_events_configuration(AccountId=acct, BotId=bot,
                                    OutboundEventsHTTPSEndpoint="https://bot.example.com/e")
    rid = client.create_room(AccountId=acct, Name=unique("Gone"))["Room"]["RoomId"]
    for member in (alice, bot):
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=member)
    post_message(admin_server, f"/_belfry/accounts/{acct}/rooms/{rid}/messages", alice, "bye")

    resp = admin(admin_server, "POST", "/_belfry/reset")
    assert resp.status_code == 204, (resp.status_code, resp.text)
    assert client.list_accounts()["Accounts"] == []
    # An account made after the reset starts with no rooms and no bots.
    fresh = client.create_account(Name=unique("after-reset"))["Account"]["AccountId"]
    assert client.list_rooms(AccountId=fresh)["Rooms"] == []
    assert client.list_bots(AccountId=fresh)["Bots"] == []
    # What the account had is gone, each as the modeled NotFound.
    for call in (lambda: client.get_room(AccountId=acct, RoomId=rid),
                 lambda: client.get_bot(AccountId=acct, BotId=bot),
                 lambda: client.list_room_memberships(AccountId=acct, RoomId=rid)):
        with pytest.raises(client.exceptions.NotFoundException) as e:
            call()
        expect_error(e, "NotFoundException", 404)
    resp = admin(admin_server, "GET", f"/_belfry/accounts/{acct}/rooms/{rid}/messages")
    assert resp.status_code == 404, (resp.status_code, resp.text)


# -- bot events at an endpoint of the test's own -----------------------------------------------

class Receiver:
    """A bot's events endpoint on loopback: each POST it receives, as (headers, body)."""

    def __init__(self):
        import http.server
        import queue
        import threading

        received = self.received = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def next(self, timeout: float = 10.0) -> tuple[dict, bytes]:
        return self.received.get(timeout=timeout)

    def nothing_more(self, wait: float = 1.0) -> bool:
        import queue
        try:
            self.received.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signature(token: str, timestamp: str, body: bytes) -> str:
    import base64
    import hashlib
    import hmac
    mac = hmac.new(token.encode(), timestamp.encode() + b"|" + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_events_are_signed_with_the_regenerated_token(admin_server, receiver):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("tokens"))["Account"]["AccountId"]
    alice = client.create_user(AccountId=acct, Email=email("alice"))["User"]["UserId"]
    bot = client.create_bot(AccountId=acct, DisplayName="Signer", Domain="example.com")["Bot"]
    client.put_events_configuration(AccountId=acct, BotId=bot["BotId"],
                                    OutboundEventsHTTPSEndpoint=receiver.url)
    rid = client.create_room(AccountId=acct, Name=unique("Signed"))["Room"]["RoomId"]
    for member in (alice, bot["BotId"]):
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=member)
    path = f"/_belfry/accounts/{acct}/rooms/{rid}/messages"

    def mention(content: str) -> tuple[dict, bytes]:
        resp = admin(admin_server, "POST", path, {"SenderId": alice, "Content": content})
        assert resp.status_code == 201, (resp.status_code, resp.text)
        assert resp.json()["MentionedBots"] == [bot["BotId"]], resp.text
        return receiver.next()

    headers, body = mention("@Signer first")
    old = bot["SecurityToken"]
    assert headers["chime-signature"] == signature(old, headers["chime-request-timestamp"], body)
    assert json.loads(body)["Message"] == "@Signer first"

    new = client.regenerate_security_token(AccountId=acct, BotId=bot["BotId"])["Bot"][
        "SecurityToken"]
    assert new != old
    headers, body = mention("@Signer second")
    stamp = headers["chime-request-timestamp"]
    assert headers["chime-signature"] == signature(new, stamp, body)
    assert headers["chime-signature"] != signature(old, stamp, body)


def test_mentions_reach_only_the_named_bot_with_a_configuration(admin_server, receiver):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("mentions"))["Account"]["AccountId"]
    alice = client.create_user(AccountId=acct, Email=email("alice"))["User"]["UserId"]
    rid = client.create_room(AccountId=acct, Name=unique("Mentions"))["Room"]["RoomId"]
    client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=alice)
    bots = {}
    for name in ("Ops", "Ops2"):
        bot = client.create_bot(AccountId=acct, DisplayName=name)["Bot"]
        client.put_events_configuration(AccountId=acct, BotId=bot["BotId"],
                                        OutboundEventsHTTPSEndpoint=receiver.url)
        client.create_room_membership(AccountId=acct, RoomId=rid, MemberId=bot["BotId"])
        bots[name] = bot["BotId"]
    path = f"/_belfry/accounts/{acct}/rooms/{rid}/messages"

    def mentioned(content: str) -> list[str]:
        resp = admin(admin_server, "POST", path, {"SenderId": alice, "Content": content})
        assert resp.status_code == 201, (resp.status_code, resp.text)
        return sorted(resp.json()["MentionedBots"])

    # `@Ops2` names Ops2 only, not Ops, whose name it begins with.
    assert mentioned("@Ops2 deploy?") == [bots["Ops2"]]
    assert json.loads(receiver.next()[1])["Message"] == "@Ops2 deploy?"
    assert mentioned("@ops, and @OPS2.") == sorted(bots.values())
    receiver.next()
    receiver.next()
    assert mentioned("@Opsteam is nobody") == []

    # A bot whose configuration was deleted after it joined is no longer sent anything.
    resp = client.delete_events_configuration(AccountId=acct, BotId=bots["Ops"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert mentioned("@Ops @Ops2 both?") == [bots["Ops2"]]
    assert json.loads(receiver.next()[1])["Message"] == "@Ops @Ops2 both?"
    assert receiver.nothing_more()


# -- every modeled service error of these operations, as boto3's typed exception ---------------

#: Each operation of this group with arguments that pass boto3's own checks.
GROUP_CALLS = {
    "CreateRoom": {"Name": "r"},
    "GetRoom": {"RoomId": UNKNOWN_MEMBER_ID},
    "ListRooms": {},
    "UpdateRoom": {"RoomId": UNKNOWN_MEMBER_ID},
    "DeleteRoom": {"RoomId": UNKNOWN_MEMBER_ID},
    "CreateRoomMembership": {"RoomId": UNKNOWN_MEMBER_ID, "MemberId": UNKNOWN_MEMBER_ID},
    "BatchCreateRoomMembership": {"RoomId": UNKNOWN_MEMBER_ID,
                                  "MembershipItemList": [{"MemberId": UNKNOWN_MEMBER_ID}]},
    "ListRoomMemberships": {"RoomId": UNKNOWN_MEMBER_ID},
    "UpdateRoomMembership": {"RoomId": UNKNOWN_MEMBER_ID, "MemberId": UNKNOWN_MEMBER_ID},
    "DeleteRoomMembership": {"RoomId": UNKNOWN_MEMBER_ID, "MemberId": UNKNOWN_MEMBER_ID},
    "RedactRoomMessage": {"RoomId": UNKNOWN_MEMBER_ID, "MessageId": UNKNOWN_MEMBER_ID},
    "RedactConversationMessage": {"ConversationId": UNKNOWN_MEMBER_ID,
                                  "MessageId": UNKNOWN_MEMBER_ID},
    "CreateBot": {"DisplayName": "b"},
    "GetBot": {"BotId": UNKNOWN_MEMBER_ID},
    "ListBots": {},
    "UpdateBot": {"BotId": UNKNOWN_MEMBER_ID},
    "RegenerateSecurityToken": {"BotId": UNKNOWN_MEMBER_ID},
    "PutEventsConfiguration": {"BotId": UNKNOWN_MEMBER_ID},
    "GetEventsConfiguration": {"BotId": UNKNOWN_MEMBER_ID},
    "DeleteEventsConfiguration": {"BotId": UNKNOWN_MEMBER_ID},
}

def test_every_modeled_service_error_arrives_typed(admin_server):
    client = chime_client(admin_server.endpoint, admin_server.create_key())
    acct = client.create_account(Name=unique("faults"))["Account"]["AccountId"]
    calls = {op: dict(kwargs, AccountId=acct) for op, kwargs in GROUP_CALLS.items()}
    checked = check_faults_arrive_typed(client, lambda *call: admin(admin_server, *call), calls)
    # Throttled is not modeled for the three events-configuration operations.
    assert checked == 20 * 5 - 3


def test_list_bots_pages_ten_by_default(client, account):
    """ListBots' MaxResults: "The default is 10." (the model's documentation)."""
    acct = account["AccountId"]
    made = {client.create_bot(AccountId=acct, DisplayName=f"pager{i:02d}")["Bot"]["BotId"]
            for i in range(11)}
    first = client.list_bots(AccountId=acct)
    assert len(first["Bots"]) == 10
    rest = client.list_bots(AccountId=acct, NextToken=first["NextToken"])
    assert len(rest["Bots"]) == 1
    assert "NextToken" not in rest
    assert {b["BotId"] for b in first["Bots"] + rest["Bots"]} == made
