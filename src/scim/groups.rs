//! `/Groups`: a SCIM Group is a Chime room of the token's account.
//!
//! Rooms have landed (src/store/rooms.rs), so a group needs no table of its own: its
//! `displayName` is the room's name and its `members` are the room's user memberships, which
//! ListRooms and ListRoomMemberships show as they are; a member added over SCIM joins the room
//! as a `Member`. `id` is the RoomId; `externalId` is kept beside the room (migration 6).
//! A group's ETag (`meta.version`) is a hash of what it
//! shows, its members included.
//!
//! An account has at most 1,500 rooms and a room 1,000 members (the service's quotas, see
//! `store::Limits`): a list reads the account's rooms whole (with their externalIds, in one
//! statement) and filters them here with any RFC 7644 filter ([`evaluate`]), reading members
//! for every room only when the filter tests them; a group is rendered with every member. A PUT or PATCH is
//! applied as the store's room operations (rename, add and remove memberships), each a
//! transaction of its own, so a failure half-way leaves the steps before it done.

use std::collections::BTreeSet;

use scim_v2::filter::{AttrExp, AttrPath, Filter};
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::patch::{self, case_exact, compare, get, matches};
use super::schemas::GROUP_SCHEMA;
use super::users::has_control;
use super::{Context, ScimResponse, parse_json, version};
use crate::model::MemberType;
use crate::store::{Room, RoomMembership, ScimGroupChange, StoreError};
use crate::time::iso8601_millis;

/// Who the rooms SCIM creates say created them (`CreatedBy`).
pub const CREATED_BY: &str = "scim";

/// Rooms and memberships read per store call.
const PAGE: usize = 100;

/// The group as a SCIM resource.
pub fn render(
    room: &Room,
    external_id: Option<&str>,
    members: &[RoomMembership],
    base: &str,
) -> Value {
    let members: Vec<Value> = members
        .iter()
        .filter(|m| m.member.member_type == MemberType::User)
        .map(|m| {
            json!({
                "value": m.member.member_id,
                "$ref": format!("{base}/Users/{}", m.member.member_id),
                "type": "User",
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_SCHEMA]));
    out.insert("id".into(), json!(room.room_id));
    if let Some(external_id) = external_id {
        out.insert("externalId".into(), json!(external_id));
    }
    out.insert("displayName".into(), json!(room.name));
    if !members.is_empty() {
        out.insert("members".into(), Value::Array(members));
    }
    let version = version(&out);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": iso8601_millis(room.created_ms),
            "lastModified": iso8601_millis(room.updated_ms),
            "location": format!("{base}/Groups/{}", room.room_id),
            "version": version,
        }),
    );
    Value::Object(out)
}

/// Every membership of a room.
async fn members_of(ctx: &Context<'_>, room_id: &str) -> Result<Vec<RoomMembership>, ScimError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ctx
            .store
            .list_memberships(ctx.owner, ctx.account_id, room_id, after.as_deref(), PAGE)
            .await?;
        all.extend(page.memberships);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// What a Group resource writes.
struct GroupWrite {
    name: String,
    external_id: Option<String>,
    /// The members' ids, if given.
    members: Option<BTreeSet<String>>,
}

/// What a Group resource (a body, or a patched resource) writes.
fn write_of(resource: &Value) -> Result<GroupWrite, ScimError> {
    let object = resource
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "A Group is a JSON object"))?;
    let name = match get(object, "displayName") {
        Some(Value::String(name))
            if !name.trim().is_empty() && name.len() <= 256 && !has_control(name) =>
        {
            name.clone()
        }
        _ => {
            return Err(ScimError::bad(
                "invalidValue",
                "displayName is a string of 1 to 256 bytes without control characters",
            ));
        }
    };
    let members = match get(object, "members") {
        None | Some(Value::Null) => None,
        Some(Value::Array(members)) => Some(
            members
                .iter()
                .map(|m| {
                    m.as_object()
                        .and_then(|m| get(m, "value"))
                        .and_then(Value::as_str)
                        .filter(|value| !has_control(value))
                        .map(str::to_string)
                        .ok_or_else(|| ScimError::bad("invalidValue", "each member has a value"))
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
        Some(_) => return Err(ScimError::bad("invalidValue", "members is an array")),
    };
    let external_id = match get(object, "externalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.len() <= 1024 && !has_control(id) => Some(id.clone()),
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                "externalId is a string of at most 1024 bytes without control characters",
            ));
        }
    };
    Ok(GroupWrite {
        name,
        external_id,
        members,
    })
}

/// A member that is no user of the account is an invalid value, not a missing group.
fn member_error(e: StoreError) -> ScimError {
    match e {
        StoreError::NotFound(crate::store::Missing::Member { member_id, .. }) => ScimError::bad(
            "invalidValue",
            format!("{member_id} is not a user of the account"),
        ),
        other => other.into(),
    }
}

/// What makes the room's user members `wanted`: the users to add and those to remove.
fn member_change(
    current: &[RoomMembership],
    wanted: &BTreeSet<String>,
    change: &mut ScimGroupChange,
) {
    let have: BTreeSet<String> = current
        .iter()
        .filter(|m| m.member.member_type == MemberType::User)
        .map(|m| m.member.member_id.clone())
        .collect();
    change.add = wanted.difference(&have).cloned().collect();
    change.remove = have.difference(wanted).cloned().collect();
}

/// Writes `change` to the room, all of it or nothing (one store transaction).
async fn write_change(
    ctx: &Context<'_>,
    room_id: &str,
    change: &ScimGroupChange,
) -> Result<(), ScimError> {
    ctx.store
        .scim_update_group(ctx.owner, ctx.account_id, room_id, change, CREATED_BY)
        .await
        .map_err(member_error)
}

/// A room of the account with what SCIM shows of it.
struct Group {
    room: Room,
    external_id: Option<String>,
    members: Vec<RoomMembership>,
}

impl Group {
    fn render(&self, base: &str) -> Value {
        render(&self.room, self.external_id.as_deref(), &self.members, base)
    }
}

async fn load(ctx: &Context<'_>, room: Room) -> Result<Group, ScimError> {
    let room_id = room.room_id.clone();
    Ok(Group {
        external_id: ctx
            .store
            .scim_room_external_id(ctx.owner, ctx.account_id, &room_id)
            .await?,
        members: members_of(ctx, &room_id).await?,
        room,
    })
}

async fn read(ctx: &Context<'_>, room_id: &str) -> Result<Group, ScimError> {
    let room = ctx
        .store
        .get_room(ctx.owner, ctx.account_id, room_id)
        .await
        .map_err(|_| ScimError::not_found(format!("Resource {room_id} not found")))?;
    load(ctx, room).await
}

/// POST /Groups
pub async fn create(ctx: &Context<'_>, body: &[u8]) -> Result<ScimResponse, ScimError> {
    let write = write_of(&parse_json(body)?)?;
    let room = ctx
        .store
        .create_room(ctx.owner, ctx.account_id, &write.name, CREATED_BY, None)
        .await?;
    let room_id = room.room_id.as_str();
    let mut change = ScimGroupChange {
        external_id: write.external_id.clone().map(Some),
        ..ScimGroupChange::default()
    };
    if let Some(members) = &write.members {
        member_change(&[], members, &mut change);
    }
    if let Err(e) = write_change(ctx, room_id, &change).await {
        // A group that cannot have its members is not made.
        ctx.store
            .delete_room(ctx.owner, ctx.account_id, room_id)
            .await?;
        return Err(e);
    }
    Ok(ScimResponse::resource(
        201,
        read(ctx, room_id).await?.render(&ctx.base),
        true,
    ))
}

/// GET /Groups/{id}
pub async fn get_one(ctx: &Context<'_>, room_id: &str) -> Result<ScimResponse, ScimError> {
    let resource = read(ctx, room_id).await?.render(&ctx.base);
    Ok(ScimResponse::resource(
        200,
        super::users::project(resource, ctx)?,
        false,
    ))
}

/// PUT or PATCH /Groups/{id}
pub async fn replace(
    ctx: &Context<'_>,
    room_id: &str,
    body: &[u8],
    patch: bool,
) -> Result<ScimResponse, ScimError> {
    let body = parse_json(body)?;
    let group = read(ctx, room_id).await?;
    let mut resource = group.render(&ctx.base);
    super::users::check_if_match(ctx, &resource)?;
    let target = if patch {
        patch::apply(&mut resource, &body)?;
        resource
    } else {
        body
    };
    let write = write_of(&target)?;
    let mut change = ScimGroupChange {
        name: (write.name != group.room.name).then(|| write.name.clone()),
        external_id: (write.external_id != group.external_id).then(|| write.external_id.clone()),
        ..ScimGroupChange::default()
    };
    // A group without members has none (a PUT replaces the whole resource; a patched one
    // lists every member it keeps).
    member_change(
        &group.members,
        &write.members.unwrap_or_default(),
        &mut change,
    );
    write_change(ctx, room_id, &change).await?;
    Ok(ScimResponse::resource(
        200,
        read(ctx, room_id).await?.render(&ctx.base),
        false,
    ))
}

/// DELETE /Groups/{id}: the room, with its memberships and messages.
pub async fn delete(ctx: &Context<'_>, room_id: &str) -> Result<ScimResponse, ScimError> {
    if ctx.if_match.is_some() {
        super::users::check_if_match(ctx, &read(ctx, room_id).await?.render(&ctx.base))?;
    }
    ctx.store
        .delete_room(ctx.owner, ctx.account_id, room_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => {
                ScimError::not_found(format!("Resource {room_id} not found"))
            }
            other => other.into(),
        })?;
    Ok(ScimResponse::empty(204))
}

/// GET /Groups: the account's groups matching `filter`, from `startIndex`, `count` of them,
/// in creation order.
pub async fn list(ctx: &Context<'_>) -> Result<ScimResponse, ScimError> {
    let (start, count) = super::users::paging(ctx)?;
    let (total, resources) = page(ctx, start, count).await?;
    Ok(super::users::list_response(total, start, resources))
}

/// The total of the groups matching the request's filter, and the page from `start`.
pub(super) async fn page(
    ctx: &Context<'_>,
    start: u64,
    count: usize,
) -> Result<(i64, Vec<Value>), ScimError> {
    let text = ctx.param("filter").unwrap_or_default();
    let filter = match text.trim() {
        "" => None,
        text => Some(super::filter::parse_filter(text)?),
    };
    // Members are read for every room only when the filter tests them; else only for the
    // rooms of the page served.
    let by_members = text.to_ascii_lowercase().contains("members");
    let external_ids = ctx
        .store
        .scim_room_external_ids(ctx.owner, ctx.account_id)
        .await?;
    let mut matching = Vec::new();
    let mut after = None;
    loop {
        let page = ctx
            .store
            .list_rooms(ctx.owner, ctx.account_id, None, after, PAGE)
            .await?;
        for room in page.rooms {
            let members = if by_members {
                members_of(ctx, &room.room_id).await?
            } else {
                Vec::new()
            };
            let group = Group {
                external_id: external_ids.get(&room.room_id).cloned(),
                room,
                members,
            };
            if filter
                .as_ref()
                .is_none_or(|f| evaluate(&group.render(&ctx.base), f))
            {
                matching.push(group);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let total = matching.len() as i64;
    let mut resources = Vec::new();
    for mut group in matching.into_iter().skip(start as usize - 1).take(count) {
        if !by_members {
            group.members = members_of(ctx, &group.room.room_id).await?;
        }
        resources.push(super::users::project(group.render(&ctx.base), ctx)?);
    }
    Ok((total, resources))
}

/// The values an attribute path names in a resource (a multi-valued one's sub-attribute
/// names one value per element).
fn values<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(object) = resource.as_object() else {
        return Vec::new();
    };
    let Some(value) = get(object, &path.name) else {
        return Vec::new();
    };
    match (&path.sub_attr, value) {
        (None, Value::Array(items)) => items.iter().collect(),
        (None, value) => vec![value],
        (Some(sub), Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_object().and_then(|o| get(o, sub)))
            .collect(),
        (Some(sub), Value::Object(inner)) => get(inner, sub).into_iter().collect(),
        (Some(_), _) => Vec::new(),
    }
}

/// Whether a resource matches a filter, evaluated on its JSON (RFC 7644 3.4.2.2; strings
/// compare as the schema's `caseExact` says: [`patch::case_exact`]).
pub fn evaluate(resource: &Value, filter: &Filter) -> bool {
    match filter {
        Filter::Attr(AttrExp::Present(path)) => values(resource, path)
            .iter()
            .any(|v| !v.is_null() && v.as_str() != Some("")),
        Filter::Attr(AttrExp::Comparison(path, op, value)) => {
            let found = values(resource, path);
            let exact = case_exact(&path.name, path.sub_attr.as_deref());
            if found.is_empty() {
                compare(None, op, value, exact)
            } else {
                found.iter().any(|v| compare(Some(v), op, value, exact))
            }
        }
        Filter::ValuePath(path) => {
            let attr = AttrPath {
                uri: path.attr.uri.clone(),
                name: path.attr.name.clone(),
                sub_attr: None,
            };
            values(resource, &attr)
                .iter()
                .any(|item| matches(item, &path.filter, &path.attr.name))
        }
        Filter::Not(inner) => !evaluate(resource, inner),
        Filter::And(items) => items.as_slice().iter().all(|f| evaluate(resource, f)),
        Filter::Or(items) => items.as_slice().iter().any(|f| evaluate(resource, f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_evaluate_on_a_group() {
        let group = json!({"displayName": "Sales", "members": [{"value": "u1"}, {"value": "u2"}]});
        let yes = |text: &str| evaluate(&group, &super::super::filter::parse_filter(text).unwrap());
        assert!(yes(r#"displayName eq "sales""#));
        assert!(yes(r#"members[value eq "u2"]"#));
        assert!(yes(r#"members.value eq "u1" and displayName sw "Sa""#));
        assert!(!yes(r#"members[value eq "u3"]"#));
        assert!(!yes(r#"not (displayName pr)"#));
        // members.value is caseExact (a UserId), displayName is not.
        assert!(!yes(r#"members[value eq "U2"]"#));
        assert!(!yes(r#"members.value eq "U1""#));
        assert!(yes(r#"displayName eq "SALES" and members.value eq "u1""#));
    }
}
