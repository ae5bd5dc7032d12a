//! The one error type of the API, mapped onto the Chime wire shape.
//!
//! Every error the service model declares is a structure with `Code` and `Message`, sent with
//! the HTTP status the model binds and the header `x-amzn-ErrorType: <ShapeName>`. Clients pick
//! the typed exception from that header, so every error Belfry sends is one of these kinds.

use std::fmt;

use crate::store::{Conflict, Limit, Missing, Rejection, StoreError};

/// One modeled Chime error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    ResourceLimitExceeded,
    Throttled,
    ServiceUnavailable,
    ServiceFailure,
}

impl ErrorKind {
    /// The shape name sent in `x-amzn-ErrorType`.
    pub fn shape(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestException",
            ErrorKind::Unauthorized => "UnauthorizedClientException",
            ErrorKind::Forbidden => "ForbiddenException",
            ErrorKind::NotFound => "NotFoundException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::Unprocessable => "UnprocessableEntityException",
            ErrorKind::ResourceLimitExceeded => "ResourceLimitExceededException",
            ErrorKind::Throttled => "ThrottledClientException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
            ErrorKind::ServiceFailure => "ServiceFailureException",
        }
    }

    /// The `Code` member: a value of the model's `ErrorCode` enum.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unprocessable => "Unprocessable",
            ErrorKind::ResourceLimitExceeded => "ResourceLimitExceeded",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::ServiceUnavailable => "ServiceUnavailable",
            ErrorKind::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status the model binds to the shape.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::ResourceLimitExceeded => 400,
            ErrorKind::Throttled => 429,
            ErrorKind::ServiceUnavailable => 503,
            ErrorKind::ServiceFailure => 500,
        }
    }
}

/// An error answered to a client: a kind and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A request over its caller's rate limit; a token is there again in `retry_after_secs`.
    pub fn throttled(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..Self::new(ErrorKind::Throttled, message)
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    /// An internal failure. The cause is logged by the caller; the client sees no internals.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::ServiceFailure,
            "The service encountered an unexpected error.",
        )
    }

    /// A store error of an operation whose model lists no `NotFoundException`: what is
    /// missing is answered as the modeled `BadRequestException`, with the same message.
    pub fn not_found_as_bad_request(e: StoreError) -> Self {
        match ApiError::from(e) {
            ApiError {
                kind: ErrorKind::NotFound,
                message,
                ..
            } => ApiError::bad_request(message),
            other => other,
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            ErrorKind::ServiceUnavailable,
            "The service is currently unavailable. Retry the request.",
        )
    }

    /// The JSON body: `{"Code":"NotFound","Message":"..."}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "Code": self.kind.code(), "Message": self.message }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.shape(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// What the client sees of a store failure: the one place where the store's terms (which
/// resource was missing or collided) become the service's errors and messages.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(Missing::Account { account_id }) => {
                ApiError::not_found(format!("The account {account_id} was not found."))
            }
            StoreError::NotFound(Missing::User {
                account_id,
                user_id,
            }) => ApiError::not_found(format!(
                "The user {user_id} was not found in account {account_id}."
            )),
            StoreError::NotFound(Missing::Room {
                account_id,
                room_id,
            }) => ApiError::not_found(format!(
                "The room {room_id} was not found in account {account_id}."
            )),
            StoreError::NotFound(Missing::Member {
                account_id,
                member_id,
            }) => ApiError::not_found(format!(
                "The member {member_id} was not found in account {account_id}: a member is a \
                 user or a bot of the same account."
            )),
            StoreError::NotFound(Missing::Membership { room_id, member_id }) => {
                ApiError::not_found(format!(
                    "The member {member_id} is not a member of room {room_id}."
                ))
            }
            StoreError::NotFound(Missing::Bot { account_id, bot_id }) => ApiError::not_found(
                format!("The bot {bot_id} was not found in account {account_id}."),
            ),
            StoreError::NotFound(Missing::EventsConfiguration { bot_id }) => {
                ApiError::not_found(format!("The bot {bot_id} has no events configuration."))
            }
            StoreError::NotFound(Missing::Conversation {
                account_id,
                conversation_id,
            }) => ApiError::not_found(format!(
                "The conversation {conversation_id} was not found in account {account_id}."
            )),
            StoreError::NotFound(Missing::Message {
                discussion_id,
                message_id,
            }) => ApiError::not_found(format!(
                "The message {message_id} was not found in {discussion_id}."
            )),
            StoreError::NotFound(Missing::AnyUser { user_id }) => ApiError::not_found(format!(
                "The user {user_id} was not found in any account of this AWS account."
            )),
            // The number is sensitive: not echoed.
            StoreError::NotFound(Missing::PhoneNumber { .. }) => ApiError::not_found(
                "The phone number was not found in this AWS account's phone number inventory.",
            ),
            StoreError::NotFound(Missing::PhoneNumberOrder { order_id }) => {
                ApiError::not_found(format!("The phone number order {order_id} was not found."))
            }
            StoreError::Conflict(Conflict::NumberAssigned) => ApiError::conflict(
                "The phone number is assigned to a user: disassociate it before changing its \
                 product type.",
            ),
            StoreError::NotFound(Missing::Meeting { meeting_id }) => {
                ApiError::not_found(format!("The meeting {meeting_id} was not found."))
            }
            StoreError::Conflict(Conflict::ForeignId) => {
                ApiError::conflict("The id belongs to a resource of another account.")
            }
            StoreError::Conflict(Conflict::TeamAccount) => ApiError::conflict(
                "Retention settings apply to Amazon Chime Enterprise accounts only; this is a \
                 Team account.",
            ),
            StoreError::Conflict(Conflict::Membership) => {
                ApiError::conflict("The member is already a member of the room.")
            }
            StoreError::LimitExceeded(limit) => {
                let message = match limit {
                    Limit::RoomsPerAccount(n) => format!("An account has at most {n} rooms."),
                    Limit::MembershipsPerRoom(n) => format!("A room has at most {n} members."),
                    Limit::MembershipsPerMember(n) => {
                        format!("A member belongs to at most {n} rooms.")
                    }
                    Limit::BotsPerAccount(n) => format!("An account has at most {n} bots."),
                    Limit::NumbersPerOrder(n) => {
                        format!("A phone number order has at most {n} numbers.")
                    }
                };
                ApiError::new(ErrorKind::ResourceLimitExceeded, message)
            }
            StoreError::Rejected(why) => ApiError::bad_request(match why {
                Rejection::BotWithoutEndpoint { bot_id } => format!(
                    "The bot {bot_id} has no events configuration: put one before adding the \
                     bot to a room."
                ),
                Rejection::SenderNotMember { sender_id } => {
                    format!("The sender {sender_id} is not a member of the discussion.")
                }
                Rejection::NotAUser { member_id } => {
                    format!("The member {member_id} is not a user of the account.")
                }
                Rejection::RoleOfABot { member_id } => format!(
                    "The member {member_id} is a bot: the member role can be updated only for \
                     user IDs."
                ),
                Rejection::NumberInDeletionQueue => "The phone number is in the deletion queue: \
                     restore it first."
                    .to_string(),
                Rejection::NumberNotInDeletionQueue => {
                    "The phone number is not in the deletion queue.".to_string()
                }
                Rejection::NumberAssigned => "A phone number must be disassociated from any \
                     users before it can be deleted."
                    .to_string(),
                Rejection::NotBusinessCalling => "Only a BusinessCalling phone number can be \
                     associated with a user."
                    .to_string(),
                Rejection::ProductNotAllowed { product } => format!(
                    "The phone number cannot have the product type {}: toll-free numbers \
                     cannot use BusinessCalling, and numbers outside the US must use \
                     SipMediaApplicationDialIn.",
                    product.as_str()
                ),
                Rejection::CallingNameChangedRecently { next_ms } => format!(
                    "The default outbound calling name can be updated once every seven days: \
                     the next update is possible from {}.",
                    crate::time::iso8601_millis(next_ms)
                ),
            }),
            StoreError::Conflict(Conflict::Email) => {
                ApiError::conflict("A user with this email address already exists in the account.")
            }
            StoreError::Conflict(Conflict::UserName) => {
                ApiError::conflict("A user with this userName already exists in the account.")
            }
            StoreError::Conflict(Conflict::PhoneNumber) => {
                ApiError::conflict("The phone number is already associated with another user.")
            }
            StoreError::Conflict(Conflict::UserId) => {
                ApiError::conflict("A user with this UserId already exists.")
            }
            StoreError::UsersNotSuspended { account_id, count } => ApiError::new(
                ErrorKind::Unprocessable,
                format!(
                    "The account {account_id} cannot be deleted: {count} of its users are not \
                     suspended. Suspend every user first."
                ),
            ),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::unavailable()
            }
            e @ (StoreError::Internal(_) | StoreError::Refused(..) | StoreError::Duplicate(_)) => {
                tracing::error!(error = %e, "store failure");
                ApiError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_and_message() {
        let e = ApiError::not_found("The account x was not found.");
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(v["Code"], "NotFound");
        assert_eq!(v["Message"], "The account x was not found.");
        assert_eq!(e.kind.status(), 404);
        assert_eq!(e.kind.shape(), "NotFoundException");
    }

    #[test]
    fn store_errors_name_what_was_missing() {
        let e = ApiError::from(StoreError::no_user("a1", "u1"));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "The user u1 was not found in account a1.");
        let e = ApiError::from(StoreError::no_account("a1"));
        assert_eq!(e.message, "The account a1 was not found.");
        let e = ApiError::from(StoreError::Conflict(Conflict::Email));
        assert_eq!(e.kind.status(), 409);
        // A duplicate no statement named is a bug, not the client's conflict.
        let e = ApiError::from(StoreError::Duplicate("users.user_id".into()));
        assert_eq!(e.kind, ErrorKind::ServiceFailure);
        assert!(!e.message.contains("users"));
    }
}
