//! The admin API, under `/_belfry/`: no Chime path starts with `/_`, so it is never mistaken
//! for a Chime route.
//!
//! | request | what it does |
//! |---|---|
//! | `GET /_belfry/health` | `200 {"status":"ok"}`, or 503 when the store does not answer (no credential needed) |
//! | `POST /_belfry/reset` | deletes every account with its users, phone numbers, rooms, bots, messages, retention settings and sign-in delegate groups, every AWS account's settings, and the meetings with their dial-outs; keys stay (204) |
//! | `POST /_belfry/accounts/{accountId}/rooms/{roomId}/messages` | posts `{"SenderId":"<member id>","Content":"..."}` into the room (201 `{"Message":{...},"MentionedBots":[...]}`); bots it @mentions get the `Mention` event ([`crate::events`]) |
//! | `GET /_belfry/accounts/{accountId}/rooms/{roomId}/messages` | the room's messages, oldest first (`{"Messages":[...]}`; a redacted one has `"Redacted":true` and no `Content`) |
//! | `POST /_belfry/accounts/{accountId}/conversations` | starts a conversation between users of the account, `{"MemberIds":[...]}` (201 `{"Conversation":{...}}`) |
//! | `POST`/`GET /_belfry/accounts/{accountId}/conversations/{conversationId}/messages` | as for a room |
//! | `PUT /_belfry/accounts/{accountId}/account-type` | makes the account `{"AccountType":"EnterpriseLWA"}` (or `EnterpriseDirectory`, `EnterpriseOIDC`, `Team`), whoever owns it (204): Enterprise accounts are made in the Chime console, never through the API, and only they have retention settings |
//! | `POST /_belfry/meetings` | registers a meeting, `{"MeetingId":"<guid>"}` (a new id when none is given), that CreateMeetingDialOut can then call out of (201 `{"Meeting":{...}}`; again for the same id: the same meeting) |
//! | `GET /_belfry/meetings/{meetingId}/dial-outs` | the meeting's dial-outs, oldest first (`{"DialOuts":[{"TransactionId",...}]}`; 404 for a meeting not registered) |
//! | `GET /_belfry/faults` | the fault rules, `{"rules":[{"id":1,...}]}` |
//! | `POST /_belfry/faults` | adds a rule (a JSON [`FaultRule`]), answers 201 `{"id":N}` |
//! | `DELETE /_belfry/faults` | removes every rule (204) |
//! | `DELETE /_belfry/faults/{id}` | removes one rule (204, or 404) |
//!
//! Every call but health needs `Authorization: Bearer <admin token>`; a server started without
//! an admin token answers them 404, as if they did not exist. Errors use the Chime error shape.

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::faults::{FaultRule, Faults};
use crate::api::validate::{GUID_PATTERN, matches};
use crate::api::{Reply, decode_body};
use crate::error::ApiError;
use crate::events::BotEvents;
use crate::model::AccountType;
use crate::store::{Conversation, DialOut, Discussion, Message, Store};
use crate::time::iso8601_millis;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/_belfry/";

/// What the admin API works on.
pub struct Admin<'a> {
    pub store: &'a Store,
    pub faults: &'a Faults,
    /// Where the events of posted messages go.
    pub events: &'a BotEvents,
    /// The bearer token admin calls must present; `None` turns the admin API off.
    pub token: Option<&'a str>,
}

impl Admin<'_> {
    /// Serves one admin request. `path` is the raw path, starting with [`PREFIX`].
    pub async fn handle(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let rest = &path[PREFIX.len()..];
        if (method, rest) == ("GET", "health") {
            return self.health().await;
        }
        self.authorize(authorization)?;
        match (method, rest) {
            ("POST", "reset") => {
                self.store.wipe().await?;
                tracing::info!(
                    "admin reset: every account with all it holds, the AWS accounts' settings and the meetings deleted"
                );
                Ok(Reply::empty(204))
            }
            ("GET", "faults") => {
                let rules: Vec<_> = self
                    .faults
                    .list()
                    .into_iter()
                    .map(|(id, rule)| {
                        let mut value = serde_json::to_value(rule).expect("a rule serialises");
                        value["id"] = json!(id);
                        value
                    })
                    .collect();
                Ok(Reply::json(200, json!({ "rules": rules }).to_string()))
            }
            ("POST", "faults") => {
                let rule: FaultRule = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("Invalid fault rule: {e}")))?;
                rule.validate(crate::server::is_operation)
                    .map_err(|e| ApiError::bad_request(format!("Invalid fault rule: {e}")))?;
                let id = self.faults.add(rule);
                tracing::info!(rule = id, "fault rule added");
                Ok(Reply::json(201, json!({ "id": id }).to_string()))
            }
            ("DELETE", "faults") => {
                self.faults.clear();
                tracing::info!("fault rules cleared");
                Ok(Reply::empty(204))
            }
            ("DELETE", rest) if rest.starts_with("faults/") => {
                let id: u64 = rest["faults/".len()..]
                    .parse()
                    .map_err(|_| ApiError::bad_request("A fault rule id is a number"))?;
                if self.faults.remove(id) {
                    Ok(Reply::empty(204))
                } else {
                    Err(ApiError::not_found(format!("No fault rule {id}")))
                }
            }
            (method, rest) if rest.starts_with("accounts/") => {
                self.discussions(method, rest, body).await
            }
            (method, rest) if rest == "meetings" || rest.starts_with("meetings/") => {
                self.meetings(method, rest, body).await
            }
            _ => Err(no_call(method, path)),
        }
    }

    /// The calls on rooms' and conversations' messages: `rest` is
    /// `accounts/{accountId}/(rooms|conversations)/...`.
    async fn discussions(&self, method: &str, rest: &str, body: &[u8]) -> Result<Reply, ApiError> {
        let segments = decoded_segments(rest);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, segments.as_slice()) {
            ("PUT", ["accounts", account_id, "account-type"]) => {
                let body: NewAccountType = decode_body(body)?;
                let account_type = body
                    .account_type
                    .as_deref()
                    .and_then(AccountType::parse)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "AccountType must be one of {}",
                            AccountType::choices()
                        ))
                    })?;
                self.store
                    .set_account_type(account_id, account_type)
                    .await?;
                Ok(Reply::empty(204))
            }
            ("POST", ["accounts", account_id, "conversations"]) => {
                let body: NewConversation = decode_body(body)?;
                let conversation = self
                    .store
                    .create_conversation(account_id, &body.member_ids.unwrap_or_default())
                    .await?;
                let body = json!({ "Conversation": conversation_json(&conversation) });
                Ok(Reply::json(201, body.to_string()))
            }
            (_, ["accounts", account_id, kind, id, "messages"]) => {
                let discussion = match *kind {
                    "rooms" => Discussion::Room(id),
                    "conversations" => Discussion::Conversation(id),
                    _ => return Err(no_call(method, rest)),
                };
                match method {
                    "POST" => self.post_message(account_id, discussion, body).await,
                    "GET" => {
                        let messages = self.store.list_messages(account_id, discussion).await?;
                        let messages: Vec<_> = messages.iter().map(message_json).collect();
                        Ok(Reply::json(
                            200,
                            json!({ "Messages": messages }).to_string(),
                        ))
                    }
                    _ => Err(no_call(method, rest)),
                }
            }
            _ => Err(no_call(method, rest)),
        }
    }

    /// The calls on meetings: `rest` is `meetings` or `meetings/{meetingId}/dial-outs`.
    async fn meetings(&self, method: &str, rest: &str, body: &[u8]) -> Result<Reply, ApiError> {
        let segments = decoded_segments(rest);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, segments.as_slice()) {
            ("POST", ["meetings"]) => {
                let body: NewMeeting = decode_body(body)?;
                let meeting_id = body
                    .meeting_id
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                if !matches(GUID_PATTERN, &meeting_id) {
                    return Err(ApiError::bad_request(
                        "MeetingId must be a GUID, as CreateMeetingDialOut's meetingId is",
                    ));
                }
                let meeting = self.store.register_meeting(&meeting_id).await?;
                let body = json!({ "Meeting": {
                    "MeetingId": meeting.meeting_id,
                    "CreatedTimestamp": iso8601_millis(meeting.created_ms),
                }});
                Ok(Reply::json(201, body.to_string()))
            }
            ("GET", ["meetings", meeting_id, "dial-outs"]) => {
                let dial_outs: Vec<_> = self
                    .store
                    .dial_outs(meeting_id)
                    .await?
                    .iter()
                    .map(dial_out_json)
                    .collect();
                Ok(Reply::json(
                    200,
                    json!({ "DialOuts": dial_outs }).to_string(),
                ))
            }
            _ => Err(no_call(method, rest)),
        }
    }

    async fn post_message(
        &self,
        account_id: &str,
        discussion: Discussion<'_>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let body: NewMessage = decode_body(body)?;
        let (Some(sender_id), Some(content)) = (body.sender_id, body.content) else {
            return Err(ApiError::bad_request(
                "A message needs SenderId (a member of the room or conversation) and Content",
            ));
        };
        let posted = self
            .store
            .post_message(account_id, discussion, &sender_id, &content)
            .await?;
        self.events.message_posted(&posted);
        let mentioned: Vec<&str> = posted
            .bots
            .iter()
            .filter(|bot| crate::events::mentions(&content, bot))
            .map(|bot| bot.bot_id.as_str())
            .collect();
        let body = json!({ "Message": message_json(&posted.message), "MentionedBots": mentioned });
        Ok(Reply::json(201, body.to_string()))
    }

    async fn health(&self) -> Result<Reply, ApiError> {
        match self.store.ping().await {
            Ok(()) => Ok(Reply::json(200, r#"{"status":"ok"}"#.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, "health check: store does not answer");
                Err(ApiError::unavailable())
            }
        }
    }

    fn authorize(&self, authorization: Option<&str>) -> Result<(), ApiError> {
        let Some(token) = self.token else {
            return Err(ApiError::not_found(
                "The admin API is off: start the server with --admin-token to turn it on",
            ));
        };
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("Admin calls need the header Authorization: Bearer <token>")
            })?;
        if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("The admin token is not valid"))
        }
    }
}

/// The segments of an admin path, percent-decoded.
fn decoded_segments(rest: &str) -> Vec<String> {
    rest.split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

fn no_call(method: &str, path: &str) -> ApiError {
    ApiError::not_found(format!("No admin call {method} {path}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewAccountType {
    account_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewMeeting {
    meeting_id: Option<String>,
}

fn dial_out_json(dial_out: &DialOut) -> serde_json::Value {
    json!({
        "TransactionId": dial_out.transaction_id,
        "MeetingId": dial_out.meeting_id,
        "AwsAccountId": dial_out.aws_account_id,
        "FromPhoneNumber": dial_out.from_phone_number,
        "ToPhoneNumber": dial_out.to_phone_number,
        "CreatedTimestamp": iso8601_millis(dial_out.created_ms),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewConversation {
    member_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewMessage {
    sender_id: Option<String>,
    content: Option<String>,
}

fn message_json(message: &Message) -> serde_json::Value {
    let mut json = json!({
        "MessageId": message.message_id,
        "DiscussionType": message.discussion_type,
        "DiscussionId": message.discussion_id,
        "SenderId": message.sender_id,
        "Redacted": message.redacted,
        "CreatedTimestamp": iso8601_millis(message.created_ms),
    });
    if let Some(content) = &message.content {
        json["Content"] = content.as_str().into();
    }
    json
}

fn conversation_json(conversation: &Conversation) -> serde_json::Value {
    json!({
        "ConversationId": conversation.conversation_id,
        "AccountId": conversation.account_id,
        "MemberIds": conversation.member_ids,
        "CreatedTimestamp": iso8601_millis(conversation.created_ms),
    })
}
