//! The room operations: CreateRoom, GetRoom, ListRooms, UpdateRoom, DeleteRoom; the membership
//! operations CreateRoomMembership, BatchCreateRoomMembership, ListRoomMemberships,
//! UpdateRoomMembership, DeleteRoomMembership; and RedactRoomMessage and
//! RedactConversationMessage. Each parses and validates its input, calls the store
//! ([`crate::store`]'s `rooms.rs`) and renders its reply.

use serde::Deserialize;

use super::input::{RESULT_MAX_DEFAULT, RESULT_MAX_MAX};
use super::validate::Violations;
use super::{Call, Op, Reply};
use crate::error::ApiError;
use crate::model::RoomMembershipRole;
use crate::store::{Discussion, NewMembership, Room, RoomMembership};
use crate::time::iso8601_millis;

/// `MembershipItemList` holds at most 50 items.
const MAX_BATCH_MEMBERSHIPS: usize = 50;

/// `ClientRequestToken`: 2 to 64 of `[-_a-zA-Z0-9]`.
const CLIENT_REQUEST_TOKEN_PATTERN: &str = "[-_a-zA-Z0-9]*";

/// The `Room` structure as JSON.
fn room_json(room: &Room) -> serde_json::Value {
    serde_json::json!({
        "RoomId": room.room_id,
        "Name": room.name,
        "AccountId": room.account_id,
        "CreatedBy": room.created_by,
        "CreatedTimestamp": iso8601_millis(room.created_ms),
        "UpdatedTimestamp": iso8601_millis(room.updated_ms),
    })
}

/// The `RoomMembership` structure as JSON (a member's absent email or name is left out).
fn membership_json(m: &RoomMembership) -> serde_json::Value {
    let mut member = serde_json::json!({
        "MemberId": m.member.member_id,
        "MemberType": m.member.member_type.as_str(),
        "AccountId": m.member.account_id,
    });
    if let Some(email) = &m.member.email {
        member["Email"] = email.as_str().into();
    }
    if let Some(name) = &m.member.full_name {
        member["FullName"] = name.as_str().into();
    }
    serde_json::json!({
        "RoomId": m.room_id,
        "Member": member,
        "Role": m.role.as_str(),
        "InvitedBy": m.invited_by,
        "UpdatedTimestamp": iso8601_millis(m.updated_ms),
    })
}

/// The `{"Room": ...}` output of the operations that return one room.
fn room_reply(status: u16, room: &Room) -> Reply {
    let body = serde_json::json!({ "Room": room_json(room) });
    Reply::json(status, body.to_string())
}

/// The `{"RoomMembership": ...}` output of the operations that return one membership.
fn membership_reply(status: u16, membership: &RoomMembership) -> Reply {
    let body = serde_json::json!({ "RoomMembership": membership_json(membership) });
    Reply::json(status, body.to_string())
}

/// Checks an optional `RoomMembershipRole` member.
fn role(v: &mut Violations, member: &str, value: Option<&str>) -> Option<RoomMembershipRole> {
    value.and_then(|r| {
        v.enumeration(
            member,
            r,
            RoomMembershipRole::parse,
            RoomMembershipRole::choices(),
        )
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRoomBody {
    name: Option<String>,
    client_request_token: Option<String>,
}

/// `POST /accounts/{accountId}/rooms`: 201 with the new `Room`.
pub async fn create_room(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateRoomBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    if body.name.is_none() {
        v.missing("name");
    }
    if let Some(token) = &body.client_request_token {
        v.length("clientRequestToken", token, Some(2), Some(64), true);
        // The model's pattern holds for the whole value (it is not anchored as written).
        if !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            v.violated(
                "clientRequestToken",
                &format!(
                    "Member must satisfy regular expression pattern: {CLIENT_REQUEST_TOKEN_PATTERN}"
                ),
            );
        }
    }
    v.finish()?;
    let room = call
        .store
        .create_room(
            call.owner(),
            account_id,
            body.name.as_deref().unwrap_or_default(),
            call.caller(),
            body.client_request_token.as_deref(),
        )
        .await?;
    Ok(room_reply(201, &room))
}

/// `GET /accounts/{accountId}/rooms/{roomId}`.
pub async fn get_room(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, room_id] = call.path_labels(["accountId", "roomId"])?;
    let room = call
        .store
        .get_room(call.owner(), account_id, room_id)
        .await?;
    Ok(room_reply(200, &room))
}

/// `GET /accounts/{accountId}/rooms?member-id=&max-results=&next-token=`.
pub async fn list_rooms(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let member_id = call.query.get("member-id")?;
    let limit = call.max_results_within(&mut v, RESULT_MAX_MAX, RESULT_MAX_DEFAULT)?;
    v.finish()?;
    let scope = [
        Op::ListRooms.name(),
        call.owner(),
        account_id,
        member_id.unwrap_or("\0"),
    ];
    call.cached_list(&scope, limit, async {
        let after = call.created_after(&scope)?;
        let page = call
            .store
            .list_rooms(call.owner(), account_id, member_id, after, limit)
            .await?;
        let rooms: Vec<serde_json::Value> = page.rooms.iter().map(room_json).collect();
        let mut body = serde_json::json!({ "Rooms": rooms });
        if let Some(next) = &page.next {
            body["NextToken"] = call.created_token(&scope, next).into();
        }
        Ok(body.to_string())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRoomBody {
    name: Option<String>,
}

/// `POST /accounts/{accountId}/rooms/{roomId}`: rename.
pub async fn update_room(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateRoomBody = call.json()?;
    let [account_id, room_id] = call.path_labels(["accountId", "roomId"])?;
    let room = call
        .store
        .update_room(call.owner(), account_id, room_id, body.name.as_deref())
        .await?;
    Ok(room_reply(200, &room))
}

/// `DELETE /accounts/{accountId}/rooms/{roomId}`: 204; the room's memberships and messages go
/// with it.
pub async fn delete_room(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id, room_id] = call.path_labels(["accountId", "roomId"])?;
    call.store
        .delete_room(call.owner(), account_id, room_id)
        .await?;
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembershipBody {
    member_id: Option<String>,
    role: Option<String>,
}

/// `POST /accounts/{accountId}/rooms/{roomId}/memberships`: 201 with the `RoomMembership`.
pub async fn create_room_membership(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: MembershipBody = call.json()?;
    let mut v = Violations::new();
    let [account_id, room_id] = call.labels(["accountId", "roomId"], &mut v);
    match &body.member_id {
        Some(id) => v.non_empty("memberId", id),
        None => v.missing("memberId"),
    }
    let role = role(&mut v, "role", body.role.as_deref());
    v.finish()?;
    let item = NewMembership {
        member_id: body.member_id.unwrap_or_default(),
        role,
    };
    let mut results = call
        .store
        .create_memberships(
            call.owner(),
            account_id,
            room_id,
            std::slice::from_ref(&item),
            call.caller(),
        )
        .await?;
    let membership = results.pop().expect("one result per item")?;
    Ok(membership_reply(201, &membership))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchMembershipBody {
    membership_item_list: Option<Vec<MembershipBody>>,
}

/// `POST /accounts/{accountId}/rooms/{roomId}/memberships?operation=batch-create`: 201 with a
/// `MemberError` for each member that could not be added (the others are added).
pub async fn batch_create_room_membership(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: BatchMembershipBody = call.json()?;
    let mut v = Violations::new();
    let [account_id, room_id] = call.labels(["accountId", "roomId"], &mut v);
    let mut items = Vec::new();
    match &body.membership_item_list {
        Some(list) => {
            v.list_length("membershipItemList", list.len(), 0, MAX_BATCH_MEMBERSHIPS);
            for (i, item) in list.iter().enumerate() {
                let member = format!("membershipItemList.{}.member", i + 1);
                match &item.member_id {
                    Some(id) => v.non_empty(&format!("{member}.memberId"), id),
                    None => v.missing(&format!("{member}.memberId")),
                }
                let role = role(&mut v, &format!("{member}.role"), item.role.as_deref());
                items.push(NewMembership {
                    member_id: item.member_id.clone().unwrap_or_default(),
                    role,
                });
            }
        }
        None => v.missing("membershipItemList"),
    }
    v.finish()?;
    let results = call
        .store
        .create_memberships(call.owner(), account_id, room_id, &items, call.caller())
        .await?;
    let errors: Vec<serde_json::Value> = items
        .iter()
        .zip(results)
        .filter_map(|(item, result)| {
            let e = ApiError::from(result.err()?);
            Some(serde_json::json!({
                "MemberId": item.member_id,
                "ErrorCode": e.kind.code(),
                "ErrorMessage": e.message,
            }))
        })
        .collect();
    let body = serde_json::json!({ "Errors": errors });
    Ok(Reply::json(201, body.to_string()))
}

/// `GET /accounts/{accountId}/rooms/{roomId}/memberships?max-results=&next-token=`.
pub async fn list_room_memberships(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let [account_id, room_id] = call.labels(["accountId", "roomId"], &mut v);
    let limit = call.max_results_within(&mut v, RESULT_MAX_MAX, RESULT_MAX_DEFAULT)?;
    v.finish()?;
    let scope = [
        Op::ListRoomMemberships.name(),
        call.owner(),
        account_id,
        room_id,
    ];
    call.cached_list(&scope, limit, async {
        let after = call.page_after(&scope, 1)?.and_then(|mut p| p.pop());
        let page = call
            .store
            .list_memberships(call.owner(), account_id, room_id, after.as_deref(), limit)
            .await?;
        let memberships: Vec<serde_json::Value> =
            page.memberships.iter().map(membership_json).collect();
        let mut body = serde_json::json!({ "RoomMemberships": memberships });
        if let Some(member_id) = page.next {
            body["NextToken"] = call.next_token(&scope, &[&member_id]).into();
        }
        Ok(body.to_string())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateMembershipBody {
    role: Option<String>,
}

/// `POST /accounts/{accountId}/rooms/{roomId}/memberships/{memberId}`: change the role.
pub async fn update_room_membership(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateMembershipBody = call.json()?;
    let mut v = Violations::new();
    let [account_id, room_id] = call.labels(["accountId", "roomId"], &mut v);
    let member_id = call.non_empty_label("memberId", &mut v);
    let role = role(&mut v, "role", body.role.as_deref());
    v.finish()?;
    let membership = call
        .store
        .update_membership(call.owner(), account_id, room_id, member_id, role)
        .await?;
    Ok(membership_reply(200, &membership))
}

/// `DELETE /accounts/{accountId}/rooms/{roomId}/memberships/{memberId}`: 204.
pub async fn delete_room_membership(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let [account_id, room_id] = call.labels(["accountId", "roomId"], &mut v);
    let member_id = call.non_empty_label("memberId", &mut v);
    v.finish()?;
    call.store
        .delete_membership(call.owner(), account_id, room_id, member_id)
        .await?;
    Ok(Reply::empty(204))
}

/// `POST /accounts/{accountId}/rooms/{roomId}/messages/{messageId}?operation=redact`.
pub async fn redact_room_message(call: &Call<'_>) -> Result<Reply, ApiError> {
    redact(call, "roomId", |id| Discussion::Room(id)).await
}

/// `POST /accounts/{accountId}/conversations/{conversationId}/messages/{messageId}?operation=redact`.
pub async fn redact_conversation_message(call: &Call<'_>) -> Result<Reply, ApiError> {
    redact(call, "conversationId", |id| Discussion::Conversation(id)).await
}

/// Redacts the message `messageId` of the discussion the path label `label` names.
async fn redact(
    call: &Call<'_>,
    label: &str,
    discussion: for<'d> fn(&'d str) -> Discussion<'d>,
) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let discussion_id = call.non_empty_label(label, &mut v);
    let message_id = call.non_empty_label("messageId", &mut v);
    v.finish()?;
    call.store
        .redact_message(
            call.owner(),
            account_id,
            discussion(discussion_id),
            message_id,
        )
        .await?;
    Ok(Reply::empty(200))
}
