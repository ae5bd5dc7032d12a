//! Rooms, room memberships and message redaction through aws-sdk-chime: CreateRoom, GetRoom,
//! ListRooms, UpdateRoom, DeleteRoom, CreateRoomMembership, BatchCreateRoomMembership,
//! ListRoomMemberships, UpdateRoomMembership, DeleteRoomMembership, RedactRoomMessage and
//! RedactConversationMessage; every modeled error as its typed exception; limits; tenancy.

use aws_sdk_chime::Client;
use aws_sdk_chime::operation::list_rooms::ListRoomsOutput;
use aws_sdk_chime::types::{ErrorCode, MemberType, Room, RoomMembershipRole};
use belfry::store::Limits;
use serde_json::json;

use crate::common::*;

/// ListRooms of the account, one page of the default size, which must succeed.
async fn list_rooms(client: &Client, account_id: &str) -> ListRoomsOutput {
    client
        .list_rooms()
        .account_id(account_id)
        .send()
        .await
        .expect("ListRooms")
}

/// Each room's `(CreatedTimestamp, RoomId)`, for [`assert_creation_order`].
fn created_and_ids(rooms: &[Room]) -> Vec<(aws_sdk_chime::primitives::DateTime, String)> {
    rooms
        .iter()
        .map(|r| {
            let created = *r.created_timestamp().expect("CreatedTimestamp");
            (created, r.room_id().expect("RoomId").to_string())
        })
        .collect()
}

/// Every membership of the room, walking ListRoomMemberships with pages of `page`.
async fn all_memberships(
    client: &Client,
    account_id: &str,
    room_id: &str,
    page: i32,
) -> Vec<aws_sdk_chime::types::RoomMembership> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_room_memberships()
            .account_id(account_id)
            .room_id(room_id)
            .max_results(page)
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListRoomMemberships");
        assert!(out.room_memberships().len() <= page as usize);
        all.extend(out.room_memberships().iter().cloned());
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return all,
        }
    }
}

#[tokio::test]
async fn a_room_is_created_read_renamed_listed_and_deleted() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Rooms").await;
    let before = now_millis();

    let out = client
        .create_room()
        .account_id(&account)
        .name("Launch")
        .send()
        .await
        .expect("CreateRoom");
    let room = out.room().expect("Room").clone();
    let room_id = room.room_id().expect("RoomId").to_string();
    assert!(is_uuid_v4(&room_id), "{room_id}");
    assert_eq!(room.name(), Some("Launch"));
    assert_eq!(room.account_id(), Some(account.as_str()));
    assert_eq!(room.created_by(), Some(server.root.access_key_id.as_str()));
    let created = room.created_timestamp().expect("CreatedTimestamp");
    assert!(created.to_millis().unwrap() >= before - 1000);
    assert_eq!(room.updated_timestamp(), Some(created));

    let got = client
        .get_room()
        .account_id(&account)
        .room_id(&room_id)
        .send()
        .await
        .expect("GetRoom");
    assert_eq!(got.room(), Some(&room));

    let renamed = client
        .update_room()
        .account_id(&account)
        .room_id(&room_id)
        .name("Launch 2")
        .send()
        .await
        .expect("UpdateRoom")
        .room()
        .expect("Room")
        .clone();
    assert_eq!(renamed.name(), Some("Launch 2"));
    assert_eq!(renamed.created_timestamp(), Some(created));
    assert!(renamed.updated_timestamp().unwrap() >= created);

    let listed = list_rooms(&client, &account).await;
    assert_eq!(listed.rooms(), std::slice::from_ref(&renamed));
    assert_eq!(listed.next_token(), None);

    client
        .delete_room()
        .account_id(&account)
        .room_id(&room_id)
        .send()
        .await
        .expect("DeleteRoom");
    expect_error(
        client
            .get_room()
            .account_id(&account)
            .room_id(&room_id)
            .send()
            .await,
        NOT_FOUND,
        "GetRoom of a deleted room",
    );
    expect_error(
        client
            .delete_room()
            .account_id(&account)
            .room_id(&room_id)
            .send()
            .await,
        NOT_FOUND,
        "DeleteRoom of a deleted room",
    );
    assert!(list_rooms(&client, &account).await.rooms().is_empty());
}

#[tokio::test]
async fn a_client_request_token_makes_create_room_idempotent() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Idempotent").await;
    let create = |name: &'static str| {
        client
            .create_room()
            .account_id(&account)
            .name(name)
            .client_request_token("retry-token-1")
            .send()
    };
    let first = create("Once").await.expect("CreateRoom").room().cloned();
    let again = create("Once").await.expect("CreateRoom").room().cloned();
    assert_eq!(first, again);
    assert_eq!(list_rooms(&client, &account).await.rooms().len(), 1);

    let f = expect_error(
        client
            .create_room()
            .account_id(&account)
            .name("Bad token")
            .client_request_token("has space")
            .send()
            .await,
        BAD_REQUEST,
        "CreateRoom with a malformed token",
    );
    assert!(
        f.message().contains("clientRequestToken"),
        "{}",
        f.message()
    );
}

#[tokio::test]
async fn list_rooms_pages_filters_by_member_and_checks_its_input() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Many rooms").await;
    let user = create_user(&client, &account, "member@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create_room(&client, &account, &format!("Room {i}")).await);
    }
    for room in &ids[1..3] {
        add_member(&client, &account, room, user.user_id()).await;
    }

    let mut listed = Vec::new();
    let mut page_sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_rooms()
            .account_id(&account)
            .max_results(2)
            .set_next_token(token.take())
            .send()
            .await
            .expect("ListRooms");
        page_sizes.push(out.rooms().len());
        listed.extend(created_and_ids(out.rooms()));
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(page_sizes, [2, 2, 1], "pages of MaxResults 2");
    assert_creation_order(&listed, &ids, "ListRooms");

    let of_member = client
        .list_rooms()
        .account_id(&account)
        .member_id(user.user_id())
        .send()
        .await
        .expect("ListRooms member-id");
    assert_creation_order(
        &created_and_ids(of_member.rooms()),
        &ids[1..3],
        "ListRooms member-id",
    );

    let f = expect_error(
        client
            .list_rooms()
            .account_id(&account)
            .max_results(100)
            .send()
            .await,
        BAD_REQUEST,
        "ListRooms MaxResults 100",
    );
    assert!(
        f.message().contains("less than or equal to 99"),
        "{}",
        f.message()
    );
    expect_error(
        client
            .list_rooms()
            .account_id(&account)
            .next_token("not-a-token")
            .send()
            .await,
        BAD_REQUEST,
        "ListRooms with a malformed token",
    );
    expect_error(
        client.list_rooms().account_id(missing_id()).send().await,
        NOT_FOUND,
        "ListRooms of a missing account",
    );
}

#[tokio::test]
async fn members_are_added_alone_and_in_batches_promoted_listed_and_removed() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Members").await;
    let room = create_room(&client, &account, "Team").await;
    let ada = create_user(&client, &account, "ada@example.com").await;
    let bob = create_user(&client, &account, "bob@example.com").await;
    let cy = create_user(&client, &account, "cy@example.com").await;

    let m = client
        .create_room_membership()
        .account_id(&account)
        .room_id(&room)
        .member_id(ada.user_id())
        .role(RoomMembershipRole::Administrator)
        .send()
        .await
        .expect("CreateRoomMembership")
        .room_membership()
        .expect("RoomMembership")
        .clone();
    assert_eq!(m.room_id(), Some(room.as_str()));
    assert_eq!(m.role(), Some(&RoomMembershipRole::Administrator));
    assert_eq!(m.invited_by(), Some(server.root.access_key_id.as_str()));
    let member = m.member().expect("Member");
    assert_eq!(member.member_id(), Some(ada.user_id()));
    assert_eq!(member.member_type(), Some(&MemberType::User));
    assert_eq!(member.email(), ada.primary_email());
    assert_eq!(member.full_name(), ada.display_name());
    assert_eq!(member.account_id(), Some(account.as_str()));

    expect_error(
        client
            .create_room_membership()
            .account_id(&account)
            .room_id(&room)
            .member_id(ada.user_id())
            .send()
            .await,
        CONFLICT,
        "CreateRoomMembership of a member",
    );

    let missing = missing_id();
    let batch = client
        .batch_create_room_membership()
        .account_id(&account)
        .room_id(&room)
        .membership_item_list(membership_item(bob.user_id(), None))
        .membership_item_list(membership_item(&missing, Some(RoomMembershipRole::Member)))
        .membership_item_list(membership_item(
            cy.user_id(),
            Some(RoomMembershipRole::Member),
        ))
        .membership_item_list(membership_item(ada.user_id(), None))
        .send()
        .await
        .expect("BatchCreateRoomMembership");
    let errors: Vec<(&str, Option<&ErrorCode>)> = batch
        .errors()
        .iter()
        .map(|e| (e.member_id().unwrap(), e.error_code()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (missing.as_str(), Some(&ErrorCode::NotFound)),
            (ada.user_id(), Some(&ErrorCode::Conflict)),
        ]
    );
    assert!(batch.errors().iter().all(|e| e.error_message().is_some()));

    let all = all_memberships(&client, &account, &room, 2).await;
    let mut expected: Vec<&str> = vec![ada.user_id(), bob.user_id(), cy.user_id()];
    expected.sort();
    let got: Vec<&str> = all
        .iter()
        .map(|m| m.member().unwrap().member_id().unwrap())
        .collect();
    assert_eq!(got, expected, "every member once, in member id order");
    let bob_m = all
        .iter()
        .find(|m| m.member().unwrap().member_id() == Some(bob.user_id()))
        .unwrap();
    assert_eq!(bob_m.role(), Some(&RoomMembershipRole::Member));

    let promoted = client
        .update_room_membership()
        .account_id(&account)
        .room_id(&room)
        .member_id(bob.user_id())
        .role(RoomMembershipRole::Administrator)
        .send()
        .await
        .expect("UpdateRoomMembership")
        .room_membership()
        .unwrap()
        .clone();
    assert_eq!(promoted.role(), Some(&RoomMembershipRole::Administrator));
    assert_eq!(promoted.member().unwrap().email(), bob.primary_email());

    client
        .delete_room_membership()
        .account_id(&account)
        .room_id(&room)
        .member_id(cy.user_id())
        .send()
        .await
        .expect("DeleteRoomMembership");
    assert_eq!(all_memberships(&client, &account, &room, 50).await.len(), 2);
    expect_error(
        client
            .delete_room_membership()
            .account_id(&account)
            .room_id(&room)
            .member_id(cy.user_id())
            .send()
            .await,
        NOT_FOUND,
        "DeleteRoomMembership of a removed member",
    );
    expect_error(
        client
            .update_room_membership()
            .account_id(&account)
            .room_id(&room)
            .member_id(cy.user_id())
            .role(RoomMembershipRole::Member)
            .send()
            .await,
        NOT_FOUND,
        "UpdateRoomMembership of a removed member",
    );

    // A user of another account is not a member to be.
    let other = server.account("Other").await;
    let stranger = create_user(&client, &other, "stranger@example.com").await;
    expect_error(
        client
            .create_room_membership()
            .account_id(&account)
            .room_id(&room)
            .member_id(stranger.user_id())
            .send()
            .await,
        NOT_FOUND,
        "CreateRoomMembership of another account's user",
    );

    // A user who is gone is no longer a member.
    server
        .store
        .delete_user(ROOT_AWS_ACCOUNT, &account, bob.user_id())
        .await
        .unwrap();
    let left: Vec<String> = all_memberships(&client, &account, &room, 50)
        .await
        .iter()
        .map(|m| m.member().unwrap().member_id().unwrap().to_string())
        .collect();
    assert_eq!(left, vec![ada.user_id().to_string()]);
}

#[tokio::test]
async fn membership_input_is_checked_against_the_model() {
    let server = TestServer::start().await;
    let account = server.account("Checks").await;
    let room = create_room(&server.client(), &account, "Room").await;
    let r = server
        .raw(
            "POST",
            &format!("/accounts/{account}/rooms/{room}/memberships"),
            r#"{"MemberId":"u","Role":"Owner"}"#,
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body
            .contains("Member must satisfy enum value set: [Administrator, Member]")
    );
    let items: Vec<String> = (0..51)
        .map(|i| format!(r#"{{"MemberId":"m{i}"}}"#))
        .collect();
    let r = server
        .raw(
            "POST",
            &format!("/accounts/{account}/rooms/{room}/memberships?operation=batch-create"),
            &format!(r#"{{"MembershipItemList":[{}]}}"#, items.join(",")),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body.contains("less than or equal to 50"), "{}", r.body);
    let r = server
        .raw(
            "POST",
            &format!("/accounts/{account}/rooms/{room}/memberships?operation=batch-remove"),
            r#"{"MembershipItemList":[]}"#,
        )
        .await;
    assert_eq!(r.status, 400, "an unknown operation value: {r:?}");
    expect_error(
        server
            .client()
            .list_room_memberships()
            .account_id(&account)
            .room_id(missing_id())
            .send()
            .await,
        NOT_FOUND,
        "ListRoomMemberships of a missing room",
    );
}

#[tokio::test]
async fn the_services_limits_answer_resource_limit_exceeded() {
    let server = TestServer::start_with_limits(Limits {
        rooms_per_account: 2,
        memberships_per_room: 2,
        memberships_per_member: 2,
        bots_per_account: 1,
        ..Limits::default()
    })
    .await;
    let client = server.client();
    let account = server.account("Limits").await;
    let a = create_room(&client, &account, "A").await;
    let b = create_room(&client, &account, "B").await;
    expect_error(
        client
            .create_room()
            .account_id(&account)
            .name("C")
            .send()
            .await,
        RESOURCE_LIMIT_EXCEEDED,
        "a third room",
    );

    let users: Vec<_> = {
        let mut users = Vec::new();
        for i in 0..3 {
            users.push(create_user(&client, &account, &format!("u{i}@example.com")).await);
        }
        users
    };
    let batch = client
        .batch_create_room_membership()
        .account_id(&account)
        .room_id(&a)
        .membership_item_list(membership_item(users[0].user_id(), None))
        .membership_item_list(membership_item(users[1].user_id(), None))
        .membership_item_list(membership_item(users[2].user_id(), None))
        .send()
        .await
        .expect("BatchCreateRoomMembership");
    let codes: Vec<_> = batch.errors().iter().map(|e| e.error_code()).collect();
    assert_eq!(codes, vec![Some(&ErrorCode::ResourceLimitExceeded)]);
    expect_error(
        client
            .create_room_membership()
            .account_id(&account)
            .room_id(&a)
            .member_id(users[2].user_id())
            .send()
            .await,
        RESOURCE_LIMIT_EXCEEDED,
        "a third member of a room",
    );

    // users[0] is in A; in B too makes two rooms: its limit.
    add_member(&client, &account, &b, users[0].user_id()).await;
    client
        .delete_room()
        .account_id(&account)
        .room_id(&a)
        .send()
        .await
        .unwrap();
    let c = create_room(&client, &account, "C").await;
    // A deleted room's membership no longer counts: a third room for users[0].
    add_member(&client, &account, &c, users[0].user_id()).await;
    client
        .delete_room_membership()
        .account_id(&account)
        .room_id(&c)
        .member_id(users[0].user_id())
        .send()
        .await
        .unwrap();

    client
        .create_bot()
        .account_id(&account)
        .display_name("one")
        .send()
        .await
        .expect("CreateBot");
    expect_error(
        client
            .create_bot()
            .account_id(&account)
            .display_name("two")
            .send()
            .await,
        RESOURCE_LIMIT_EXCEEDED,
        "a second bot",
    );
}

#[tokio::test]
async fn room_and_conversation_messages_are_redacted() {
    let server = TestServer::start_with_admin().await;
    let client = server.client();
    let account = server.account("Redaction").await;
    let room = create_room(&client, &account, "Chat").await;
    let ada = create_user(&client, &account, "ada@example.com").await;
    let bob = create_user(&client, &account, "bob@example.com").await;
    add_member(&client, &account, &room, ada.user_id()).await;

    let messages_path = format!("accounts/{account}/rooms/{room}/messages");
    let message_id = posted_message_id(
        &server
            .post_message(&messages_path, ada.user_id(), "secret plans")
            .await,
    );
    server
        .post_message(&messages_path, ada.user_id(), "lunch?")
        .await;
    let (status, refused) = server
        .admin(
            "POST",
            &messages_path,
            Some(json!({ "SenderId": bob.user_id(), "Content": "not a member" })),
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    client
        .redact_room_message()
        .account_id(&account)
        .room_id(&room)
        .message_id(&message_id)
        .send()
        .await
        .expect("RedactRoomMessage");
    let (_, listed) = server.admin("GET", &messages_path, None).await;
    let listed = listed["Messages"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["MessageId"], message_id.as_str());
    assert_eq!(listed[0]["Redacted"], true);
    assert!(listed[0].get("Content").is_none(), "{}", listed[0]);
    assert_eq!(listed[1]["Content"], "lunch?");
    assert_eq!(listed[1]["Redacted"], false);
    // Again: still redacted, still 200.
    client
        .redact_room_message()
        .account_id(&account)
        .room_id(&room)
        .message_id(&message_id)
        .send()
        .await
        .expect("RedactRoomMessage again");

    expect_error(
        client
            .redact_room_message()
            .account_id(&account)
            .room_id(&room)
            .message_id(missing_id())
            .send()
            .await,
        NOT_FOUND,
        "RedactRoomMessage of a missing message",
    );
    let other_room = create_room(&client, &account, "Elsewhere").await;
    expect_error(
        client
            .redact_room_message()
            .account_id(&account)
            .room_id(&other_room)
            .message_id(&message_id)
            .send()
            .await,
        NOT_FOUND,
        "another room's message",
    );

    let (status, conversation) = server
        .admin(
            "POST",
            &format!("accounts/{account}/conversations"),
            Some(json!({ "MemberIds": [ada.user_id(), bob.user_id()] })),
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    let conversation_id = conversation["Conversation"]["ConversationId"]
        .as_str()
        .unwrap()
        .to_string();
    let conversation_path = format!("accounts/{account}/conversations/{conversation_id}/messages");
    let dm = posted_message_id(
        &server
            .post_message(&conversation_path, bob.user_id(), "psst")
            .await,
    );
    client
        .redact_conversation_message()
        .account_id(&account)
        .conversation_id(&conversation_id)
        .message_id(&dm)
        .send()
        .await
        .expect("RedactConversationMessage");
    let (_, listed) = server.admin("GET", &conversation_path, None).await;
    assert_eq!(listed["Messages"][0]["Redacted"], true);
    expect_error(
        client
            .redact_conversation_message()
            .account_id(&account)
            .conversation_id(missing_id())
            .message_id(&dm)
            .send()
            .await,
        NOT_FOUND,
        "RedactConversationMessage in a missing conversation",
    );
    expect_error(
        client
            .redact_conversation_message()
            .account_id(&account)
            .conversation_id(&conversation_id)
            .message_id(&message_id)
            .send()
            .await,
        NOT_FOUND,
        "a room's message",
    );
}

#[tokio::test]
async fn rooms_belong_to_their_aws_account_and_read_only_keys_cannot_change_them() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Tenancy").await;
    let room = create_room(&client, &account, "Private").await;

    let stranger = server.client_for(&server.new_key("222222222222", false).await);
    expect_error(
        stranger
            .get_room()
            .account_id(&account)
            .room_id(&room)
            .send()
            .await,
        NOT_FOUND,
        "GetRoom by a stranger",
    );
    expect_error(
        stranger.list_rooms().account_id(&account).send().await,
        NOT_FOUND,
        "ListRooms by a stranger",
    );
    expect_error(
        stranger
            .create_room()
            .account_id(&account)
            .name("Intruder")
            .send()
            .await,
        NOT_FOUND,
        "CreateRoom by a stranger",
    );

    // A read-only key reads, and may change nothing.
    let reader = server.client_for(&server.new_key(ROOT_AWS_ACCOUNT, true).await);
    assert_eq!(list_rooms(&reader, &account).await.rooms().len(), 1);
    expect_error(
        reader
            .create_room()
            .account_id(&account)
            .name("No")
            .send()
            .await,
        FORBIDDEN,
        "CreateRoom by a read-only key",
    );
    expect_error(
        reader
            .delete_room()
            .account_id(&account)
            .room_id(&room)
            .send()
            .await,
        FORBIDDEN,
        "DeleteRoom by a read-only key",
    );
    expect_error(
        reader
            .redact_room_message()
            .account_id(&account)
            .room_id(&room)
            .message_id("m")
            .send()
            .await,
        FORBIDDEN,
        "RedactRoomMessage by a read-only key",
    );
}

#[tokio::test]
async fn deleting_an_account_deletes_its_rooms() {
    let server = TestServer::start().await;
    let client = server.client();
    let account = server.account("Doomed").await;
    let user = create_user(&client, &account, "last@example.com").await;
    let room = create_room(&client, &account, "Doomed room").await;
    add_member(&client, &account, &room, user.user_id()).await;
    client
        .batch_suspend_user()
        .account_id(&account)
        .user_id_list(user.user_id())
        .send()
        .await
        .unwrap();
    client
        .delete_account()
        .account_id(&account)
        .send()
        .await
        .expect("DeleteAccount");
    expect_error(
        client
            .get_room()
            .account_id(&account)
            .room_id(&room)
            .send()
            .await,
        NOT_FOUND,
        "GetRoom of a deleted account's room",
    );
}
