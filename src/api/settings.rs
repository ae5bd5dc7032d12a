//! The settings operations: Get/UpdatePhoneNumberSettings and Get/UpdateGlobalSettings (of the
//! caller's AWS account), and Get/PutRetentionSettings (of one Chime account). Each parses
//! and validates its input, calls the store ([`crate::store`]'s `settings.rs`) and renders its
//! reply.

use serde::Deserialize;

use super::validate::{CALLING_NAME_PATTERN, Violations};
use super::{Call, Reply};
use crate::error::ApiError;
use crate::store::RetentionSettings;
use crate::time::iso8601_millis;

/// `RetentionDays` bounds: one day to 15 years.
pub const RETENTION_DAYS_MIN: i64 = 1;
pub const RETENTION_DAYS_MAX: i64 = 5475;

/// `GET /settings/phone-number`: the caller's AWS account's outbound calling name and when it
/// last changed; `{}` while it never set one.
pub async fn get_phone_number_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let settings = call.store.phone_number_settings(call.owner()).await?;
    let mut body = serde_json::json!({});
    if let Some(name) = &settings.calling_name {
        body["CallingName"] = name.as_str().into();
    }
    if let Some(ms) = settings.calling_name_updated_ms {
        body["CallingNameUpdatedTimestamp"] = iso8601_millis(ms).into();
    }
    Ok(Reply::json(200, body.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdatePhoneNumberSettingsBody {
    calling_name: Option<String>,
}

/// `PUT /settings/phone-number`: 204. The name changes at most once every seven days, as the
/// model documents ("You can update the default outbound calling name once every seven
/// days"); sooner is a `BadRequestException` naming when it may change, while setting the
/// name it already has always succeeds.
pub async fn update_phone_number_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdatePhoneNumberSettingsBody = call.json()?;
    let mut v = Violations::new();
    match &body.calling_name {
        Some(name) => v.pattern("callingName", name, CALLING_NAME_PATTERN, true),
        None => v.missing("callingName"),
    }
    v.finish()?;
    let name = body.calling_name.unwrap_or_default();
    call.store.update_calling_name(call.owner(), &name).await?;
    Ok(Reply::empty(204))
}

/// `BusinessCallingSettings` and `VoiceConnectorSettings`: one member each.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CdrSettings {
    cdr_bucket: Option<String>,
}

/// The `{"CdrBucket": ...}` of a bucket, `{}` when none is set.
fn cdr_json(bucket: Option<&str>) -> serde_json::Value {
    match bucket {
        Some(bucket) => serde_json::json!({ "CdrBucket": bucket }),
        None => serde_json::json!({}),
    }
}

/// `GET /settings`: the caller's AWS account's Business Calling and Voice Connector settings,
/// both structures always present (`{}` where no bucket is set).
pub async fn get_global_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let settings = call.store.global_settings(call.owner()).await?;
    let body = serde_json::json!({
        "BusinessCalling": cdr_json(settings.business_calling_cdr_bucket.as_deref()),
        "VoiceConnector": cdr_json(settings.voice_connector_cdr_bucket.as_deref()),
    });
    Ok(Reply::json(200, body.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateGlobalSettingsBody {
    business_calling: Option<CdrSettings>,
    voice_connector: Option<CdrSettings>,
}

/// `PUT /settings`: 204. A structure given replaces that product's settings (so one without
/// `CdrBucket` clears its bucket); one left out keeps its settings.
pub async fn update_global_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: UpdateGlobalSettingsBody = call.json()?;
    let business = body
        .business_calling
        .as_ref()
        .map(|s| s.cdr_bucket.as_deref());
    let voice = body
        .voice_connector
        .as_ref()
        .map(|s| s.cdr_bucket.as_deref());
    call.store
        .update_global_settings(call.owner(), business, voice)
        .await?;
    Ok(Reply::empty(204))
}

/// `GetRetentionSettingsResponse` and `PutRetentionSettingsResponse`: the settings, a kind of
/// discussion without retention left out, and `InitiateDeletionTimestamp` while any is on.
fn retention_json(settings: &RetentionSettings) -> serde_json::Value {
    let mut retention = serde_json::json!({});
    if let Some(days) = settings.room_retention_days {
        retention["RoomRetentionSettings"] = serde_json::json!({ "RetentionDays": days });
    }
    if let Some(days) = settings.conversation_retention_days {
        retention["ConversationRetentionSettings"] = serde_json::json!({ "RetentionDays": days });
    }
    let mut body = serde_json::json!({ "RetentionSettings": retention });
    if let Some(ms) = settings.initiate_deletion_ms {
        body["InitiateDeletionTimestamp"] = iso8601_millis(ms).into();
    }
    body
}

/// `GET /accounts/{accountId}/retention-settings`. An account that never put any (a Team
/// account cannot) has `"RetentionSettings": {}`: messages are kept.
pub async fn get_retention_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let [account_id] = call.path_labels(["accountId"])?;
    let settings = call
        .store
        .retention_settings(call.owner(), account_id)
        .await?;
    Ok(Reply::json(200, retention_json(&settings).to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DaysBody {
    retention_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RetentionSettingsBody {
    room_retention_settings: Option<DaysBody>,
    conversation_retention_settings: Option<DaysBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRetentionSettingsBody {
    retention_settings: Option<RetentionSettingsBody>,
}

/// The days of one kind of retention, checked against `RetentionDays`' bounds.
fn retention_days(v: &mut Violations, member: &str, given: Option<&DaysBody>) -> Option<i64> {
    let days = given.and_then(|d| d.retention_days)?;
    v.integer(
        member,
        &days.to_string(),
        RETENTION_DAYS_MIN,
        RETENTION_DAYS_MAX,
    )
}

/// `PUT /accounts/{accountId}/retention-settings`: the settings put, replacing the account's.
/// As the model documents, leaving out a kind's `RetentionDays` turns that retention off. Only
/// Enterprise accounts have retention settings: a Team account's is `ConflictException`.
///
/// The model binds this operation to 204 and yet gives it an output (the settings and
/// `InitiateDeletionTimestamp`). A 204 cannot carry a body (RFC 9110, 15.3.5): Python's
/// `http.client` (under boto3 and the AWS CLI) reads none after a 204, and hyper (under
/// aws-sdk-chime) neither sends nor reads one, so the output would never arrive, and bytes
/// sent after a 204 would be read as the start of the connection's next response. Every client
/// takes any 2xx as this operation's success (aws-sdk-chime: `is_success() || status == 204`;
/// botocore and @aws-sdk/client-chime: below 300) and parses the body it finds, so Belfry
/// answers 200 with the output: callers get what the model promises them.
pub async fn put_retention_settings(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: PutRetentionSettingsBody = call.json()?;
    let mut v = Violations::new();
    let [account_id] = call.labels(["accountId"], &mut v);
    let settings = body.retention_settings.as_ref();
    if settings.is_none() {
        v.missing("retentionSettings");
    }
    let room = retention_days(
        &mut v,
        "retentionSettings.roomRetentionSettings.retentionDays",
        settings.and_then(|s| s.room_retention_settings.as_ref()),
    );
    let conversation = retention_days(
        &mut v,
        "retentionSettings.conversationRetentionSettings.retentionDays",
        settings.and_then(|s| s.conversation_retention_settings.as_ref()),
    );
    v.finish()?;
    let settings = call
        .store
        .put_retention_settings(call.owner(), account_id, room, conversation)
        .await?;
    Ok(Reply::json(200, retention_json(&settings).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_replies_leave_out_what_is_off() {
        let off = retention_json(&RetentionSettings::default());
        assert_eq!(off, serde_json::json!({ "RetentionSettings": {} }));
        let on = retention_json(&RetentionSettings {
            room_retention_days: Some(30),
            conversation_retention_days: None,
            initiate_deletion_ms: Some(0),
        });
        assert_eq!(
            on,
            serde_json::json!({
                "RetentionSettings": { "RoomRetentionSettings": { "RetentionDays": 30 } },
                "InitiateDeletionTimestamp": "1970-01-01T00:00:00.000Z",
            })
        );
    }
}
