//! The user operations: CreateUser, InviteUsers, GetUser, ListUsers, UpdateUser,
//! BatchUpdateUser, BatchSuspendUser, BatchUnsuspendUser, ResetPersonalPIN, LogoutUser,
//! Get/UpdateUserSettings, AssociatePhoneNumberWithUser, DisassociatePhoneNumberFromUser.
//! Each parses and validates its input, calls the store ([`crate::store`]'s `users.rs`) and
//! renders its reply.

use std::sync::Arc;

use axum::body::Bytes;
use serde::Deserialize;

use super::validate::{ARN_PATTERN, E164_PATTERN, Violations};
use super::{Call, Op, Reply};
use crate::error::ApiError;
use crate::model::{EmailStatus, InviteStatus, License, UserType, email_key};
use crate::store::{
    AlexaForBusinessMetadata, NewUser, Telephony, User, UserChange, UserFilter, UserPage,
};

/// `InviteUsers` accepts 1 to 50 emails (`UserEmailList`).
const MAX_INVITES: usize = 50;

/// `BatchUpdateUser` takes 1 to 20 items; the suspend operations 1 to 50 ids.
const MAX_BATCH_UPDATE: usize = 20;
const MAX_BATCH_SUSPEND: usize = 50;

/// Checks an optional `UserType` member.
fn user_type(v: &mut Violations, member: &str, value: Option<&str>) -> Option<UserType> {
    value.and_then(|t| v.enumeration(member, t, UserType::parse, UserType::choices()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserBody {
    username: Option<String>,
    email: Option<String>,
    user_type: Option<String>,
}

/// `POST /accounts/{accountId}/users?operation=create`: 201 with the new `User`.
pub async fn create_user(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateUserBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    match &body.email {
        Some(email) => v.email("email", email),
        None => v.missing("email"),
    }
    let kind = user_type(&mut v, "userType", body.user_type.as_deref());
    v.finish()?;
    let new = NewUser {
        email: body.email.unwrap_or_default(),
        display_name: body.username,
        user_type: kind.unwrap_or(UserType::PrivateUser),
    };
    let user = call
        .store
        .create_user(call.owner(), account_id, &new)
        .await?;
    Ok(Reply::json(
        201,
        format!("{{\"User\":{}}}", user.to_json_text()),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InviteUsersBody {
    user_email_list: Option<Vec<String>>,
    user_type: Option<String>,
}

/// `POST /accounts/{accountId}/users?operation=add`: 201 with one `Invite` per email.
pub async fn invite_users(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: InviteUsersBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    match &body.user_email_list {
        Some(emails) => {
            v.list_length("userEmailList", emails.len(), 1, MAX_INVITES);
            for (i, email) in emails.iter().enumerate() {
                v.email(&format!("userEmailList.{}.member", i + 1), email);
            }
        }
        None => v.missing("userEmailList"),
    }
    let kind = user_type(&mut v, "userType", body.user_type.as_deref());
    v.finish()?;
    let emails = body.user_email_list.unwrap_or_default();
    let invites = call
        .store
        .invite_users(
            call.owner(),
            account_id,
            &emails,
            kind.unwrap_or(UserType::PrivateUser),
        )
        .await?;
    let invites: Vec<serde_json::Value> = invites
        .iter()
        .map(|i| {
            let email_status = match i.status {
                InviteStatus::Failed => EmailStatus::NotSent,
                _ => EmailStatus::Sent,
            };
            serde_json::json!({
                "InviteId": i.invite_id,
                "Status": i.status.as_str(),
                "EmailAddress": i.email,
                "EmailStatus": email_status.as_str(),
            })
        })
        .collect();
    let body = serde_json::json!({ "Invites": invites });
    Ok(Reply::json(201, body.to_string()))
}

/// `GET /accounts/{accountId}/users/{userId}`.
pub async fn get_user(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let user_id = call.non_empty_label("userId", &mut v);
    v.finish()?;
    let doc = call
        .store
        .get_user_doc(call.owner(), account_id, user_id)
        .await?;
    Ok(Reply::json(200, format!("{{\"User\":{doc}}}")))
}

/// `GET /accounts/{accountId}/users?user-email=&user-type=&max-results=&next-token=`.
///
/// The page is assembled from each user's stored JSON, concatenated as it is.
pub async fn list_users(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let email = call.query.get("user-email")?;
    if let Some(email) = email {
        v.email("userEmail", email);
    }
    let kind = user_type(&mut v, "userType", call.query.get("user-type")?);
    let limit = call.max_results(&mut v)?;
    v.finish()?;
    let filter = UserFilter {
        email_key: email.map(email_key),
        user_type: kind,
    };
    // A token continues only the listing it was issued for: same account, same filters.
    let scope = [
        Op::ListUsers.name(),
        account_id,
        filter.email_key.as_deref().unwrap_or("\0"),
        kind.map_or("\0", UserType::as_str),
    ];
    let after = call
        .page_after(&scope, 1)?
        .and_then(|mut parts| parts.pop());
    let page = call
        .store
        .list_users(call.owner(), account_id, &filter, after.as_deref(), limit)
        .await?;
    let mut end = String::from("]");
    if let Some(last) = &page.next {
        let token = call.next_token(&scope, &[last]);
        end.push_str(",\"NextToken\":\"");
        end.push_str(&token); // base64url: nothing to escape
        end.push('"');
    }
    end.push('}');
    let users = Bytes::from_owner(PageText(page));
    Ok(Reply::pieces(
        200,
        vec![Bytes::from_static(b"{\"Users\":["), users, Bytes::from(end)],
    ))
}

/// A page's users as the bytes of a body, shared with the page cache.
struct PageText(Arc<UserPage>);

impl AsRef<[u8]> for PageText {
    fn as_ref(&self) -> &[u8] {
        self.0.joined.as_bytes()
    }
}

/// `AlexaForBusinessMetadata` as sent.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlexaBody {
    is_alexa_for_business_enabled: Option<bool>,
    alexa_for_business_room_arn: Option<String>,
}

/// The members UpdateUser and each BatchUpdateUser item share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserChangeBody {
    user_id: Option<String>,
    license_type: Option<String>,
    user_type: Option<String>,
    alexa_for_business_metadata: Option<AlexaBody>,
}

/// Validates a change; `prefix` is where it sits in the request (`` or `updateUserRequestItems.1.member.`).
fn user_change(v: &mut Violations, prefix: &str, body: &UserChangeBody) -> UserChange {
    let license_type = body.license_type.as_deref().and_then(|l| {
        v.enumeration(
            &format!("{prefix}licenseType"),
            l,
            License::parse,
            License::choices(),
        )
    });
    let user_type = user_type(v, &format!("{prefix}userType"), body.user_type.as_deref());
    let alexa = body.alexa_for_business_metadata.as_ref().map(|a| {
        if let Some(arn) = &a.alexa_for_business_room_arn {
            v.pattern(
                &format!("{prefix}alexaForBusinessMetadata.alexaForBusinessRoomArn"),
                arn,
                ARN_PATTERN,
                true,
            );
        }
        AlexaForBusinessMetadata {
            is_alexa_for_business_enabled: a.is_alexa_for_business_enabled,
            alexa_for_business_room_arn: a.alexa_for_business_room_arn.clone(),
        }
    });
    UserChange {
        license_type,
        user_type,
        alexa,
    }
}

/// The `{"User": ...}` output of the operations that return one user.
fn user_reply(user: &User) -> Reply {
    Reply::json(200, format!("{{\"User\":{}}}", user.to_json_text()))
}

/// `POST /accounts/{accountId}/users/{userId}`: change license, type or Alexa metadata.
pub async fn update_user(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UserChangeBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let user_id = call.non_empty_label("userId", &mut v);
    let change = user_change(&mut v, "", &body);
    v.finish()?;
    let user = call
        .store
        .update_user(call.owner(), account_id, user_id, &change)
        .await?;
    Ok(user_reply(&user))
}

/// The `UserErrors` of a batch: each user id not found in the account.
fn user_errors(account_id: &str, missing: &[String]) -> Reply {
    let errors: Vec<serde_json::Value> = missing
        .iter()
        .map(|id| {
            serde_json::json!({
                "UserId": id,
                "ErrorCode": "NotFound",
                "ErrorMessage": format!("The user {id} was not found in account {account_id}."),
            })
        })
        .collect();
    Reply::json(200, serde_json::json!({ "UserErrors": errors }).to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchUpdateUserBody {
    update_user_request_items: Option<Vec<UserChangeBody>>,
}

/// `POST /accounts/{accountId}/users`: up to 20 UpdateUser changes; unknown users are
/// reported in `UserErrors` while the others are applied.
pub async fn batch_update_user(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: BatchUpdateUserBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let mut items = Vec::new();
    match &body.update_user_request_items {
        Some(list) => {
            v.list_length("updateUserRequestItems", list.len(), 1, MAX_BATCH_UPDATE);
            for (i, item) in list.iter().enumerate() {
                let prefix = format!("updateUserRequestItems.{}.member.", i + 1);
                match &item.user_id {
                    Some(id) => v.non_empty(&format!("{prefix}userId"), id),
                    None => v.missing(&format!("{prefix}userId")),
                }
                let change = user_change(&mut v, &prefix, item);
                items.push((item.user_id.clone().unwrap_or_default(), change));
            }
        }
        None => v.missing("updateUserRequestItems"),
    }
    v.finish()?;
    let missing = call
        .store
        .batch_update_users(call.owner(), account_id, &items)
        .await?;
    Ok(user_errors(account_id, &missing))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserIdListBody {
    user_id_list: Option<Vec<String>>,
}

/// `POST /accounts/{accountId}/users?operation=suspend|unsuspend`: 1 to 50 users.
pub async fn batch_suspend_user(call: &Call<'_>, suspend: bool) -> Result<Reply, ApiError> {
    let body: UserIdListBody = call.json()?;
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    match &body.user_id_list {
        Some(ids) => {
            v.list_length("userIdList", ids.len(), 1, MAX_BATCH_SUSPEND);
            for (i, id) in ids.iter().enumerate() {
                v.non_empty(&format!("userIdList.{}.member", i + 1), id);
            }
        }
        None => v.missing("userIdList"),
    }
    v.finish()?;
    let ids = body.user_id_list.unwrap_or_default();
    let missing = call
        .store
        .set_suspended(call.owner(), account_id, &ids, suspend)
        .await?;
    Ok(user_errors(account_id, &missing))
}

/// `POST /accounts/{accountId}/users/{userId}?operation=reset-personal-pin`.
pub async fn reset_personal_pin(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let user_id = call.non_empty_label("userId", &mut v);
    v.finish()?;
    let user = call
        .store
        .reset_personal_pin(call.owner(), account_id, user_id)
        .await?;
    Ok(user_reply(&user))
}

/// `POST /accounts/{accountId}/users/{userId}?operation=logout`: 204. Belfry holds no
/// sessions, so logging out only checks that the user exists.
pub async fn logout_user(call: &Call<'_>) -> Result<Reply, ApiError> {
    let mut v = Violations::new();
    let account_id = call.non_empty_label("accountId", &mut v);
    let user_id = call.non_empty_label("userId", &mut v);
    v.finish()?;
    call.store
        .check_user(call.owner(), account_id, user_id)
        .await?;
    Ok(Reply::empty(204))
}

/// `GET /accounts/{accountId}/users/{userId}/settings`.
pub async fn get_user_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let (account_id, user_id) = (call.label("accountId"), call.label("userId"));
    let t = call
        .store
        .user_telephony(call.owner(), account_id, user_id)
        .await?;
    let body = serde_json::json!({ "UserSettings": { "Telephony": {
        "InboundCalling": t.inbound_calling,
        "OutboundCalling": t.outbound_calling,
        "SMS": t.sms,
    }}});
    Ok(Reply::json(200, body.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TelephonyBody {
    inbound_calling: Option<bool>,
    outbound_calling: Option<bool>,
    #[serde(rename = "SMS")]
    sms: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserSettingsBody {
    telephony: Option<TelephonyBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserSettingsBody {
    user_settings: Option<UserSettingsBody>,
}

/// `PUT /accounts/{accountId}/users/{userId}/settings`: 204.
pub async fn update_user_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateUserSettingsBody = call.json()?;
    let (account_id, user_id) = (call.label("accountId"), call.label("userId"));
    let mut v = Violations::new();
    let telephony = match body.user_settings {
        None => {
            v.missing("userSettings");
            None
        }
        Some(UserSettingsBody { telephony: None }) => {
            v.missing("userSettings.telephony");
            None
        }
        Some(UserSettingsBody { telephony: Some(t) }) => {
            for (member, value) in [
                ("inboundCalling", t.inbound_calling),
                ("outboundCalling", t.outbound_calling),
                ("sMS", t.sms),
            ] {
                if value.is_none() {
                    v.missing(&format!("userSettings.telephony.{member}"));
                }
            }
            Some(t)
        }
    };
    v.finish()?;
    let t = telephony.expect("validated");
    let telephony = Telephony {
        inbound_calling: t.inbound_calling.unwrap_or(true),
        outbound_calling: t.outbound_calling.unwrap_or(true),
        sms: t.sms.unwrap_or(true),
    };
    call.store
        .set_user_telephony(call.owner(), account_id, user_id, telephony)
        .await?;
    Ok(Reply::empty(204))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociatePhoneNumberBody {
    #[serde(rename = "E164PhoneNumber")]
    e164_phone_number: Option<String>,
}

/// `POST /accounts/{accountId}/users/{userId}?operation=associate-phone-number`.
pub async fn associate_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: AssociatePhoneNumberBody = call.json()?;
    let (account_id, user_id) = (call.label("accountId"), call.label("userId"));
    let mut v = Violations::new();
    match &body.e164_phone_number {
        Some(number) => v.pattern("e164PhoneNumber", number, E164_PATTERN, true),
        None => v.missing("e164PhoneNumber"),
    }
    v.finish()?;
    // One spelling per number: `14155550100` and `+14155550100` are the same line.
    let e164 = super::phone_numbers::normalize_e164(&body.e164_phone_number.unwrap_or_default());
    call.store
        .associate_phone_number(call.owner(), account_id, user_id, &e164)
        .await?;
    Ok(Reply::empty(200))
}

/// `POST /accounts/{accountId}/users/{userId}?operation=disassociate-phone-number`.
pub async fn disassociate_phone_number(call: &Call<'_>) -> Result<Reply, ApiError> {
    let (account_id, user_id) = (call.label("accountId"), call.label("userId"));
    call.store
        .disassociate_phone_number(call.owner(), account_id, user_id)
        .await?;
    Ok(Reply::empty(200))
}
