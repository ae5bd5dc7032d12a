//! What can go wrong in the store, in terms of the resources it keeps.
//!
//! The store knows nothing of HTTP: it says *which* resource was missing or collided, with the
//! ids that name it, and [`crate::error`] turns that into the client's error in one place
//! (`impl From<StoreError> for ApiError`).
//!
//! A duplicate key is recognised by the database's error code (SQLite's
//! `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`, PostgreSQL's `23505`), never by its message text.
//! The code says only that *some* unique key collided; the statement that wrote knows which,
//! and names it with [`StoreError::duplicate_is`].

use std::fmt;

/// A resource that does not exist (or belongs to another AWS account, which the store answers
/// the same way), with the ids that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Account {
        account_id: String,
    },
    User {
        account_id: String,
        user_id: String,
    },
    Room {
        account_id: String,
        room_id: String,
    },
    /// No user or bot of the account has this id (a room member to be).
    Member {
        account_id: String,
        member_id: String,
    },
    /// The member is not in the room.
    Membership {
        room_id: String,
        member_id: String,
    },
    Bot {
        account_id: String,
        bot_id: String,
    },
    /// The bot has no events configuration.
    EventsConfiguration {
        bot_id: String,
    },
    Conversation {
        account_id: String,
        conversation_id: String,
    },
    /// No user of any of the AWS account's accounts has this id.
    AnyUser {
        user_id: String,
    },
    /// The number is not in the AWS account's inventory.
    PhoneNumber {
        phone_number_id: String,
    },
    PhoneNumberOrder {
        order_id: String,
    },
    /// No message of this id in the room or conversation.
    Message {
        discussion_id: String,
        message_id: String,
    },
    /// No meeting of this id was registered (through the admin API).
    Meeting {
        meeting_id: String,
    },
}

/// A unique key that a write collided with, or a state of the resource it conflicts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A user of the account already has this email (case-insensitively).
    Email,
    /// A user of the account already has this SCIM userName (case-insensitively).
    UserName,
    /// A user of the AWS account already holds this phone number.
    PhoneNumber,
    /// A user of another account already has this UserId.
    UserId,
    /// The member is already in the room.
    Membership,
    /// A room or bot of another account has this id (an import restoring ids).
    ForeignId,
    /// The number is assigned to a user: its product type stays until it is disassociated.
    NumberAssigned,
    /// Retention settings are for Enterprise accounts; this one is a Team account.
    TeamAccount,
}

/// A limit of the service that a write would pass ([`super::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    RoomsPerAccount(i64),
    MembershipsPerRoom(i64),
    MembershipsPerMember(i64),
    BotsPerAccount(i64),
    NumbersPerOrder(i64),
}

/// A write the state of the resources does not allow, though each id names something real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A bot joins a room only once it has an events configuration (as in the service).
    BotWithoutEndpoint { bot_id: String },
    /// A message's sender is not a member of its room or conversation.
    SenderNotMember { sender_id: String },
    /// A conversation's members are users of its account.
    NotAUser { member_id: String },
    /// Only a user's role in a room can change, not a bot's.
    RoleOfABot { member_id: String },
    /// The number is in the deletion queue: it can only be restored.
    NumberInDeletionQueue,
    /// RestorePhoneNumber of a number that is not in the deletion queue.
    NumberNotInDeletionQueue,
    /// A number assigned to a user cannot be deleted.
    NumberAssigned,
    /// Only Business Calling numbers are assigned to users.
    NotBusinessCalling,
    /// The product cannot have a number of this country and type.
    ProductNotAllowed {
        product: crate::model::PhoneNumberProductType,
    },
    /// The outbound calling name changes at most once every seven days; the next change is
    /// allowed from `next_ms`.
    CallingNameChangedRecently { next_ms: i64 },
}

/// Why a store call failed.
#[derive(Debug)]
pub enum StoreError {
    NotFound(Missing),
    Conflict(Conflict),
    LimitExceeded(Limit),
    Rejected(Rejection),
    /// The account cannot be deleted while this many of its users are not suspended.
    UsersNotSuspended {
        account_id: String,
        count: i64,
    },
    /// A unique key collided, and the statement did not say which ([`StoreError::duplicate_is`]).
    Duplicate(String),
    /// The database cannot be reached or is too busy: the client may retry.
    Unavailable(String),
    /// A strict import refused the record of this line, for this reason.
    Refused(u64, String),
    /// Anything else: a bug or a corrupt database.
    Internal(String),
}

impl StoreError {
    /// The account `account_id` is not there (for this owner).
    pub fn no_account(account_id: &str) -> StoreError {
        StoreError::NotFound(Missing::Account {
            account_id: account_id.to_string(),
        })
    }

    /// The user `user_id` is not in the account `account_id`.
    pub fn no_user(account_id: &str, user_id: &str) -> StoreError {
        StoreError::NotFound(Missing::User {
            account_id: account_id.to_string(),
            user_id: user_id.to_string(),
        })
    }

    /// The room `room_id` is not in the account `account_id`.
    pub fn no_room(account_id: &str, room_id: &str) -> StoreError {
        StoreError::NotFound(Missing::Room {
            account_id: account_id.to_string(),
            room_id: room_id.to_string(),
        })
    }

    /// The bot `bot_id` is not in the account `account_id`.
    pub fn no_bot(account_id: &str, bot_id: &str) -> StoreError {
        StoreError::NotFound(Missing::Bot {
            account_id: account_id.to_string(),
            bot_id: bot_id.to_string(),
        })
    }

    /// Names the key of a [`StoreError::Duplicate`]: the caller knows which unique key the
    /// statement it ran can collide on. Any other error is returned as it is.
    pub fn duplicate_is(self, conflict: Conflict) -> StoreError {
        match self {
            StoreError::Duplicate(_) => StoreError::Conflict(conflict),
            other => other,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound(Missing::Account { account_id }) => {
                write!(f, "account {account_id} not found")
            }
            StoreError::NotFound(missing) => write!(f, "not found: {missing:?}"),
            StoreError::Conflict(Conflict::Email) => write!(f, "email already in use"),
            StoreError::Conflict(Conflict::UserName) => write!(f, "userName already in use"),
            StoreError::Conflict(Conflict::PhoneNumber) => write!(f, "phone number already in use"),
            StoreError::Conflict(Conflict::UserId) => write!(f, "user id already in use"),
            StoreError::Conflict(Conflict::Membership) => write!(f, "already a member"),
            StoreError::Conflict(Conflict::ForeignId) => {
                write!(f, "the id belongs to another account")
            }
            StoreError::Conflict(Conflict::NumberAssigned) => {
                write!(f, "the number is assigned to a user")
            }
            StoreError::Conflict(Conflict::TeamAccount) => {
                write!(f, "retention settings are for Enterprise accounts")
            }
            StoreError::LimitExceeded(limit) => write!(f, "limit exceeded: {limit:?}"),
            StoreError::Rejected(why) => write!(f, "rejected: {why:?}"),
            StoreError::UsersNotSuspended { count, .. } => {
                write!(f, "{count} users are not suspended")
            }
            StoreError::Duplicate(e) => write!(f, "duplicate key: {e}"),
            StoreError::Unavailable(e) => write!(f, "store unavailable: {e}"),
            StoreError::Refused(line, reason) => write!(f, "line {line}: {reason}"),
            StoreError::Internal(e) => write!(f, "store failure: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => {
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6) past the busy timeout, PostgreSQL's
                // "cannot connect now" and admin shutdown classes: all transient.
                let code = db.code().unwrap_or_default();
                if matches!(
                    code.as_ref(),
                    "5" | "6" | "517" | "57P01" | "57P02" | "57P03"
                ) || code.starts_with("08")
                {
                    StoreError::Unavailable(e.to_string())
                } else if db.is_unique_violation() {
                    StoreError::Duplicate(e.to_string())
                } else {
                    StoreError::Internal(e.to_string())
                }
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// Errors of the plain SQLite read connections ([`super::reader`]).
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}
