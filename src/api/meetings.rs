//! CreateMeetingDialOut: a call from an Amazon Chime SDK meeting to a phone number. It parses
//! and validates its input, calls the store ([`crate::store`]'s `meetings.rs`) and renders
//! its reply.
//!
//! Its own file rather than `settings.rs`: a dial-out is not a setting but a resource of its
//! own (a meeting's call, recorded with its transaction id), and meetings are what the admin
//! API registers for it ([`crate::server::admin`]).

use serde::Deserialize;

use super::validate::{E164_PATTERN, GUID_PATTERN, Violations};
use super::{Call, Reply};
use crate::error::ApiError;

/// `JoinTokenString`: 2-2048 characters of base64's alphabet.
pub const JOIN_TOKEN_PATTERN: &str = r"^[a-zA-Z0-9+/]+$";
pub const JOIN_TOKEN_MIN: usize = 2;
pub const JOIN_TOKEN_MAX: usize = 2048;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateMeetingDialOutBody {
    from_phone_number: Option<String>,
    to_phone_number: Option<String>,
    join_token: Option<String>,
}

/// `POST /meetings/{meetingId}/dial-outs`: 201 with the call's `TransactionId`.
///
/// The model lists no `NotFoundException` for this operation, so a meeting that was never
/// registered is the modeled `BadRequestException` (the service's own answer for a missing
/// meeting is not documented). The numbers are checked as `E164PhoneNumber` and the join
/// token as `JoinTokenString`; Belfry has no attendees to match the token against and no
/// phone-number inventory to check that `FromPhoneNumber` is the caller's.
pub async fn create_meeting_dial_out(call: &Call<'_>) -> Result<Reply, ApiError> {
    let body: CreateMeetingDialOutBody = call.json()?;
    let mut v = Violations::new();
    let meeting_id = call.label("meetingId");
    v.pattern("meetingId", meeting_id, GUID_PATTERN, false);
    for (member, value) in [
        ("fromPhoneNumber", &body.from_phone_number),
        ("toPhoneNumber", &body.to_phone_number),
    ] {
        match value {
            Some(number) => v.pattern(member, number, E164_PATTERN, true),
            None => v.missing(member),
        }
    }
    match &body.join_token {
        Some(token) => {
            v.length(
                "joinToken",
                token,
                Some(JOIN_TOKEN_MIN),
                Some(JOIN_TOKEN_MAX),
                true,
            );
            v.pattern("joinToken", token, JOIN_TOKEN_PATTERN, true);
        }
        None => v.missing("joinToken"),
    }
    v.finish()?;
    let dial_out = call
        .store
        .create_dial_out(
            call.owner(),
            meeting_id,
            body.from_phone_number.as_deref().unwrap_or_default(),
            body.to_phone_number.as_deref().unwrap_or_default(),
        )
        .await
        .map_err(ApiError::not_found_as_bad_request)?;
    let body = serde_json::json!({ "TransactionId": dial_out.transaction_id });
    Ok(Reply::json(201, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate::matches;

    #[test]
    fn join_tokens_are_base64_characters() {
        assert!(matches(JOIN_TOKEN_PATTERN, "YWJj+/Zz09"));
        assert!(!matches(JOIN_TOKEN_PATTERN, "YWJj=="));
        assert!(!matches(JOIN_TOKEN_PATTERN, "a b"));
        assert!(!matches(JOIN_TOKEN_PATTERN, ""));
    }
}
