//! `/Users`: a SCIM User is a Chime user of the token's account.
//!
//! The mapping (README, "SCIM provisioning"): `id` is the UserId; `userName` is kept exactly
//! as sent (unique in the account case-insensitively); the primary (else `work`, else first)
//! email is the PrimaryEmail; `displayName` (else `name.formatted`, else given and family
//! name) is the DisplayName; `active: false` is a Suspended user; `externalId`, `name` and
//! `emails` are kept as sent; the Chime extension holds LicenseType and UserType. The
//! resource's ETag (`meta.version`) is a hash of what it shows, so a change made through the
//! Chime API changes it too.

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::paging::Cursor;
use super::patch::{self, get};
use super::schemas::{CHIME_USER_SCHEMA, LIST_RESPONSE, MAX_RESULTS, USER_SCHEMA};
use super::{Context, ScimResponse, filter, parse_json, version};
use crate::api::validate;
use crate::model::{License, UserType};
use crate::store::{ScimCondition, ScimUser, ScimUserWrite};
use crate::time::iso8601_millis;

/// The longest `userName`, `externalId`, `displayName` or email accepted.
pub const MAX_TEXT: usize = 1024;

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidValue", detail)
}

/// The user as a SCIM resource.
pub fn render(user: &ScimUser, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([USER_SCHEMA, CHIME_USER_SCHEMA]));
    out.insert("id".into(), json!(user.user.user_id));
    if let Some(external_id) = &user.external_id {
        out.insert("externalId".into(), json!(external_id));
    }
    out.insert("userName".into(), json!(user.user_name));
    if let Some(Ok(Value::Object(kept))) = user.attributes.as_deref().map(serde_json::from_str) {
        out.extend(kept);
    }
    if !out.contains_key("emails") && !user.has_placeholder_email() {
        out.insert(
            "emails".into(),
            json!([{"value": user.user.primary_email, "type": "work", "primary": true}]),
        );
    }
    if let Some(display_name) = &user.user.display_name {
        out.insert("displayName".into(), json!(display_name));
    }
    out.insert(
        "active".into(),
        json!(user.user.registration_status != crate::model::RegistrationStatus::Suspended),
    );
    out.insert(
        CHIME_USER_SCHEMA.into(),
        json!({
            "licenseType": user.user.license_type.as_str(),
            "userType": user.user.user_type.as_str(),
        }),
    );
    let version = version(&out);
    let created = user
        .created_ms
        .or(user.user.invited_on_ms)
        .or(user.user.registered_on_ms)
        .unwrap_or(0);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": iso8601_millis(created),
            "lastModified": iso8601_millis(user.modified_ms.unwrap_or(created)),
            "location": format!("{base}/Users/{}", user.user.user_id),
            "version": version,
        }),
    );
    Value::Object(out)
}

/// The `meta.version` of a rendered resource.
fn version_of(resource: &Value) -> Option<String> {
    resource["meta"]["version"].as_str().map(str::to_string)
}

/// Whether `text` holds a control character (NUL, a newline, ...): no SCIM string Belfry
/// stores has one, and PostgreSQL refuses a NUL in text outright (a 500 if it got there).
pub(super) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A string member (absent and `null` are `None`).
fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match get(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() > MAX_TEXT => {
            Err(invalid(format!("{name} is longer than {MAX_TEXT} bytes")))
        }
        Some(Value::String(s)) if has_control(s) => {
            Err(invalid(format!("{name} holds a control character")))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{name} is a string"))),
    }
}

/// A boolean: JSON, or the strings `"True"`/`"False"` Entra ID sends.
fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(format!("{name} is true or false"))),
    }
}

/// What a User resource (a POST or PUT body, or a patched resource) writes.
pub fn write_of(resource: &Value) -> Result<ScimUserWrite, ScimError> {
    let object = resource
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "A User is a JSON object"))?;
    let user_name = text(object, "userName")?
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| invalid("userName is required"))?;
    let external_id = text(object, "externalId")?;
    let mut kept = Map::new();
    let name = match get(object, "name") {
        None | Some(Value::Null) => None,
        Some(Value::Object(name)) => {
            kept.insert("name".into(), Value::Object(name.clone()));
            Some(name)
        }
        Some(_) => return Err(invalid("name is a complex attribute")),
    };
    let display_name = match text(object, "displayName")? {
        Some(display) => Some(display),
        None => match name {
            Some(name) => match text(name, "formatted")? {
                Some(formatted) => Some(formatted),
                None => {
                    let parts: Vec<String> = [text(name, "givenName")?, text(name, "familyName")?]
                        .into_iter()
                        .flatten()
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                }
            },
            None => None,
        },
    }
    .filter(|d| !d.is_empty());
    let primary_email = match get(object, "emails") {
        None | Some(Value::Null) => None,
        Some(Value::Array(emails)) => {
            let mut chosen: Option<(u8, String)> = None;
            for email in emails {
                let email = email
                    .as_object()
                    .ok_or_else(|| invalid("each of emails is an object"))?;
                let value = text(email, "value")?.ok_or_else(|| invalid("an email has a value"))?;
                let rank =
                    if get(email, "primary").is_some_and(|p| boolean(p, "primary") == Ok(true)) {
                        0
                    } else if text(email, "type")?.is_some_and(|t| t.eq_ignore_ascii_case("work")) {
                        1
                    } else {
                        2
                    };
                if chosen.as_ref().is_none_or(|(best, _)| rank < *best) {
                    chosen = Some((rank, value));
                }
            }
            kept.insert("emails".into(), Value::Array(emails.clone()));
            chosen.map(|(_, value)| value)
        }
        Some(_) => return Err(invalid("emails is an array")),
    };
    if let Some(email) = &primary_email {
        // The Chime API's rule for PrimaryEmail (pattern and 254 characters), so that a SCIM
        // user is one the Chime API would take; no whitespace either, as providers never send it.
        let valid = validate::matches(validate::EMAIL_PATTERN, email)
            && !email.chars().any(char::is_whitespace);
        if !valid {
            return Err(invalid(format!("{email:?} is not an email address")));
        }
    }
    let active = match get(object, "active") {
        None | Some(Value::Null) => true,
        Some(value) => boolean(value, "active")?,
    };
    let (license_type, user_type) = match get(object, CHIME_USER_SCHEMA) {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(chime)) => {
            let license = text(chime, "licenseType")?
                .map(|l| {
                    License::parse(&l).ok_or_else(|| {
                        invalid(format!("licenseType is one of {}", License::choices()))
                    })
                })
                .transpose()?;
            let kind = text(chime, "userType")?
                .map(|t| {
                    UserType::parse(&t).ok_or_else(|| {
                        invalid(format!("userType is one of {}", UserType::choices()))
                    })
                })
                .transpose()?;
            (license, kind)
        }
        Some(_) => return Err(invalid("the Chime extension is an object")),
    };
    Ok(ScimUserWrite {
        user_name,
        external_id,
        display_name,
        primary_email,
        active,
        license_type,
        user_type,
        attributes: Value::Object(kept).to_string(),
    })
}

/// Refuses a write whose `If-Match` names another version.
pub(super) fn check_if_match(ctx: &Context<'_>, current: &Value) -> Result<(), ScimError> {
    match ctx.if_match {
        None => Ok(()),
        Some(wanted) if wanted.trim() == "*" => Ok(()),
        Some(wanted) => {
            let version = version_of(current).unwrap_or_default();
            if wanted.split(',').any(|tag| tag.trim() == version) {
                Ok(())
            } else {
                Err(ScimError::new(
                    412,
                    None,
                    format!("If-Match {wanted} does not match the version {version}"),
                ))
            }
        }
    }
}

/// POST /Users
pub async fn create(ctx: &Context<'_>, body: &[u8]) -> Result<ScimResponse, ScimError> {
    let write = write_of(&parse_json(body)?)?;
    let user = ctx
        .store
        .scim_create_user(ctx.owner, ctx.account_id, &write)
        .await?;
    Ok(ScimResponse::resource(201, render(&user, &ctx.base), true))
}

/// GET /Users/{id}
pub async fn get_one(ctx: &Context<'_>, user_id: &str) -> Result<ScimResponse, ScimError> {
    let user = ctx
        .store
        .scim_user(ctx.owner, ctx.account_id, user_id)
        .await?;
    let resource = render(&user, &ctx.base);
    let mut response = ScimResponse::resource(200, project(resource.clone(), ctx)?, false);
    response.etag = version_of(&resource);
    Ok(response)
}

/// PUT /Users/{id}, and PATCH /Users/{id} when `patch` is set: the body's operations are
/// applied to the user as it is, and the result written as a PUT would be.
pub async fn replace(
    ctx: &Context<'_>,
    user_id: &str,
    body: &[u8],
    patch: bool,
) -> Result<ScimResponse, ScimError> {
    let body = parse_json(body)?;
    let base = ctx.base.as_str();
    let user = ctx
        .store
        .scim_replace_user(ctx.owner, ctx.account_id, user_id, |current| {
            let mut resource = render(current, base);
            check_if_match(ctx, &resource)?;
            if patch {
                patch::apply(&mut resource, &body)?;
                write_of(&resource)
            } else {
                write_of(&body)
            }
        })
        .await?;
    Ok(ScimResponse::resource(200, render(&user, base), false))
}

/// DELETE /Users/{id}: the Chime user is deleted, with its room memberships.
pub async fn delete(ctx: &Context<'_>, user_id: &str) -> Result<ScimResponse, ScimError> {
    if ctx.if_match.is_some() {
        let user = ctx
            .store
            .scim_user(ctx.owner, ctx.account_id, user_id)
            .await?;
        check_if_match(ctx, &render(&user, &ctx.base))?;
    }
    ctx.store
        .delete_user(ctx.owner, ctx.account_id, user_id)
        .await?;
    Ok(ScimResponse::empty(204))
}

/// A positive integer query parameter.
pub(super) fn number(ctx: &Context<'_>, name: &str) -> Result<Option<i64>, ScimError> {
    ctx.param(name)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("{name} is an integer")))
        })
        .transpose()
}

/// GET /Users: a page of the account's users matching `filter`, from `startIndex` (1-based),
/// at most `count` ([`MAX_RESULTS`]) of them, in ListUsers order.
pub async fn list(ctx: &Context<'_>) -> Result<ScimResponse, ScimError> {
    let (start, count) = paging(ctx)?;
    let (total, resources) = page(ctx, start, count).await?;
    Ok(list_response(total, start, resources))
}

/// The `startIndex` (1 and up) and `count` (0 to [`MAX_RESULTS`]) of a list request.
pub(super) fn paging(ctx: &Context<'_>) -> Result<(u64, usize), ScimError> {
    let start = number(ctx, "startIndex")?.unwrap_or(1).max(1) as u64;
    let count = number(ctx, "count")?
        .unwrap_or(MAX_RESULTS as i64)
        .clamp(0, MAX_RESULTS as i64) as usize;
    Ok((start, count))
}

/// The total of the users matching the request's filter, and the page from `start`.
pub(super) async fn page(
    ctx: &Context<'_>,
    start: u64,
    count: usize,
) -> Result<(i64, Vec<Value>), ScimError> {
    let filter_text = ctx.param("filter").unwrap_or_default();
    let condition = if filter_text.trim().is_empty() {
        ScimCondition::Const(true)
    } else {
        filter::parse(&filter_text)?
    };
    let (store, owner, account) = (ctx.store, ctx.owner, ctx.account_id);
    let cursor = match ctx.cursors.get(account, &filter_text, start) {
        Some(cursor) => Some(cursor),
        None if start == 1 => None,
        None => match store
            .scim_position(owner, account, &condition, start - 1)
            .await?
        {
            Some(after) => Some(Cursor {
                after,
                total: store.scim_count_users(owner, account, &condition).await?,
            }),
            None => {
                // Past the last user: an empty page.
                let total = store.scim_count_users(owner, account, &condition).await?;
                return Ok((total, Vec::new()));
            }
        },
    };
    let total = match &cursor {
        Some(cursor) => cursor.total,
        None => store.scim_count_users(owner, account, &condition).await?,
    };
    if count == 0 {
        return Ok((total, Vec::new()));
    }
    let after = cursor.as_ref().map(|c| c.after.as_str());
    let page = store
        .scim_users_page(owner, account, &condition, after, count)
        .await?;
    if let Some(next) = page.next {
        let next_start = start + page.users.len() as u64;
        ctx.cursors.put(
            account,
            &filter_text,
            next_start,
            Cursor { after: next, total },
        );
    }
    let resources = page
        .users
        .iter()
        .map(|user| project(render(user, &ctx.base), ctx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((total, resources))
}

pub(super) fn list_response(total: i64, start: u64, resources: Vec<Value>) -> ScimResponse {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    ScimResponse {
        status: 200,
        body: Some(body.to_string()),
        etag: None,
        location: None,
        retry_after: None,
    }
}

/// Keeps the attributes `attributes` names, or drops those `excludedAttributes` names
/// (RFC 7644 3.4.2.5); `id` and `schemas` are always returned. Names are matched on their
/// top-level attribute (`name.givenName` keeps `name`), case-insensitively.
pub(super) fn project(resource: Value, ctx: &Context<'_>) -> Result<Value, ScimError> {
    Ok(project_names(
        resource,
        ctx.param("attributes").as_deref(),
        ctx.param("excludedAttributes").as_deref(),
    ))
}

/// [`project`] on the raw `attributes` and `excludedAttributes` parameters (public for the
/// fuzz target: any text is a list of names, never a panic).
pub fn project_names(resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let Value::Object(mut object) = resource else {
        return resource;
    };
    let top = |name: &str| -> String {
        let name = name.trim();
        // `get` rather than slicing: a name may hold multi-byte characters, and a byte index
        // inside one would panic.
        let starts_with = |uri: &str| {
            name.get(..uri.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(uri))
        };
        let name = if name.len() > CHIME_USER_SCHEMA.len() && starts_with(CHIME_USER_SCHEMA) {
            CHIME_USER_SCHEMA
        } else if let Some(rest) = name
            .get(USER_SCHEMA.len() + 1..)
            .filter(|rest| !rest.is_empty() && starts_with(USER_SCHEMA))
        {
            rest
        } else {
            name
        };
        let name = if name.eq_ignore_ascii_case(CHIME_USER_SCHEMA) {
            name
        } else {
            name.split('.').next().unwrap_or(name)
        };
        name.to_ascii_lowercase()
    };
    let always = |k: &str| k == "id" || k == "schemas";
    if let Some(wanted) = attributes.filter(|a| !a.trim().is_empty()) {
        let wanted: Vec<String> = wanted.split(',').map(top).collect();
        object.retain(|k, _| always(k) || wanted.contains(&k.to_ascii_lowercase()));
    }
    if let Some(excluded) = excluded.filter(|a| !a.trim().is_empty()) {
        let excluded: Vec<String> = excluded.split(',').map(top).collect();
        object.retain(|k, _| always(k) || !excluded.contains(&k.to_ascii_lowercase()));
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_resource_maps_onto_chime() {
        let write = write_of(&json!({
            "schemas": [USER_SCHEMA],
            "userName": "5f0c-UUID",
            "externalId": "e-1",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "home@example.com", "type": "home"},
                {"value": "Work@Example.com", "type": "work"},
            ],
            "active": "False",
            CHIME_USER_SCHEMA: {"licenseType": "Pro", "userType": "SharedDevice"},
        }))
        .unwrap();
        assert_eq!(write.user_name, "5f0c-UUID");
        assert_eq!(write.external_id.as_deref(), Some("e-1"));
        assert_eq!(write.display_name.as_deref(), Some("Barbara Jensen"));
        assert_eq!(write.primary_email.as_deref(), Some("Work@Example.com"));
        assert!(!write.active);
        assert_eq!(write.license_type, Some(License::Pro));
        assert_eq!(write.user_type, Some(UserType::SharedDevice));
        let kept: Value = serde_json::from_str(&write.attributes).unwrap();
        assert_eq!(kept["name"]["givenName"], "Barbara");
        assert_eq!(kept["emails"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn projection_names_may_hold_multibyte_characters() {
        let user = json!({"id": "u", "schemas": [USER_SCHEMA], "userName": "a", "name": {}});
        // 28 two-byte characters: a byte index at either schema URI's length falls inside one.
        let names = "\u{e9}".repeat(28);
        let kept = project_names(user.clone(), Some(&names), None);
        assert_eq!(kept, json!({"id": "u", "schemas": [USER_SCHEMA]}));
        let kept = project_names(user.clone(), None, Some(&format!("{names},userName")));
        assert_eq!(
            kept,
            json!({"id": "u", "schemas": [USER_SCHEMA], "name": {}})
        );
        let core = format!("{USER_SCHEMA}:name.givenName");
        let kept = project_names(user, Some(&core), None);
        assert_eq!(
            kept,
            json!({"id": "u", "schemas": [USER_SCHEMA], "name": {}})
        );
    }

    #[test]
    fn bad_users_are_invalid_values() {
        for bad in [
            json!({}),
            json!({"userName": ""}),
            json!({"userName": 3}),
            json!({"userName": "a", "active": "maybe"}),
            json!({"userName": "a", "emails": [{"value": "not an email"}]}),
            json!({"userName": "a", "emails": [{"value": "a@b"}]}),
            json!({"userName": "a", "emails": [{"value": format!("{}@b.c", "a".repeat(251))}]}),
            json!({"userName": "nul\u{0}x"}),
            json!({"userName": "a", "externalId": "e\u{1b}"}),
            json!({"userName": "a", "name": {"givenName": "g\u{0}"}}),
            json!({"userName": "a", "emails": {"value": "a@b.c"}}),
            json!({"userName": "a", CHIME_USER_SCHEMA: {"licenseType": "Gold"}}),
            json!({"userName": "x".repeat(MAX_TEXT + 1)}),
        ] {
            let e = write_of(&bad).expect_err(&bad.to_string());
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidValue")),
                "{bad}"
            );
        }
        let e = write_of(&json!([1])).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }
}
