//! Chat rooms of an account, their memberships, and the messages of rooms and conversations.
//!
//! A member is a user or a bot of the room's account. A membership row keeps who the member
//! is (`member_id`, `member_type`), their role and who added them; the member's email and name
//! are read from the user or bot row whenever a membership is listed, so a rename shows at
//! once. Every write takes the account's lock ([`Store::lock_account`]), so the limits
//! ([`Limits`]) are counted and kept under concurrent writers.
//!
//! No operation of the Chime API posts a message: the admin API does (for test suites that
//! need messages to redact), through [`Store::post_message`].

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Limit, Missing, Rejection, Result, Store, StoreError, Tx};
use crate::model::{MemberType, RoomMembershipRole};
use crate::time::now_millis;

/// The service's quotas on rooms, memberships and bots (AWS General Reference, "Amazon Chime
/// endpoints and quotas": 1,500 rooms per account, 1,000 memberships per room, 1,000
/// memberships per profile). The service documented no quota on bots; Belfry allows 100 per
/// account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub rooms_per_account: i64,
    pub memberships_per_room: i64,
    /// How many rooms one user or bot may be a member of.
    pub memberships_per_member: i64,
    pub bots_per_account: i64,
    /// How many numbers one phone number order may name (Belfry's: the service documented
    /// none in its API reference).
    pub numbers_per_order: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rooms_per_account: 1_500,
            memberships_per_room: 1_000,
            memberships_per_member: 1_000,
            bots_per_account: 100,
            numbers_per_order: 500,
        }
    }
}

/// A chat room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub room_id: String,
    pub account_id: String,
    pub name: String,
    /// Who created it: the access key id of the caller.
    pub created_by: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One page of an account's rooms, in creation order.
#[derive(Debug, Clone)]
pub struct RoomPage {
    pub rooms: Vec<Room>,
    /// The position after the last room, when more rooms match.
    pub next: Option<(i64, String)>,
}

/// A room member: a user or a bot of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub member_id: String,
    pub member_type: MemberType,
    /// The user's primary email, or the bot's email.
    pub email: Option<String>,
    /// The user's or the bot's display name.
    pub full_name: Option<String>,
    pub account_id: String,
}

/// A member of a room, with their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMembership {
    pub room_id: String,
    pub member: Member,
    pub role: RoomMembershipRole,
    pub invited_by: String,
    pub updated_ms: i64,
}

/// One page of a room's memberships, in member id order.
#[derive(Debug, Clone)]
pub struct MembershipPage {
    pub memberships: Vec<RoomMembership>,
    /// The member id after which the next page starts, when more members remain.
    pub next: Option<String>,
}

/// A member to add to a room; the role defaults to `Member`.
#[derive(Debug, Clone)]
pub struct NewMembership {
    pub member_id: String,
    pub role: Option<RoomMembershipRole>,
}

/// A membership as an export wrote it, to restore as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredMembership {
    pub member_id: String,
    pub role: RoomMembershipRole,
    pub invited_by: String,
    pub updated_ms: i64,
}

/// Where a message is: a room or a conversation of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discussion<'a> {
    Room(&'a str),
    Conversation(&'a str),
}

impl Discussion<'_> {
    /// The `DiscussionType` of the service's bot events.
    pub fn kind(self) -> &'static str {
        match self {
            Discussion::Room(_) => "Room",
            Discussion::Conversation(_) => "Conversation",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Discussion::Room(id) | Discussion::Conversation(id) => id,
        }
    }
}

/// A message of a room or conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub discussion_type: String,
    pub discussion_id: String,
    pub sender_id: String,
    /// `None` once redacted.
    pub content: Option<String>,
    pub redacted: bool,
    pub created_ms: i64,
}

/// A bot of a discussion that may be told of a message: a member, not disabled, with an
/// events configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotHook {
    pub bot_id: String,
    pub display_name: String,
    pub bot_email: String,
    pub security_token: String,
    pub https_endpoint: Option<String>,
    pub lambda_arn: Option<String>,
}

/// A message just posted, with what its bot events need.
#[derive(Debug, Clone)]
pub struct PostedMessage {
    pub message: Message,
    /// The sender's email (a user's primary email, or a bot's email).
    pub sender_email: String,
    pub bots: Vec<BotHook>,
}

/// A conversation: messages between some users of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub conversation_id: String,
    pub account_id: String,
    pub member_ids: Vec<String>,
    pub created_ms: i64,
}

const ROOM_COLUMNS: &str = "room_id, account_id, name, created_by, created_ms, updated_ms";

fn room_from_row(row: &AnyRow) -> Result<Room> {
    Ok(Room {
        room_id: row.try_get("room_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

/// Memberships with their members' current email and name (from the user or the bot row).
const MEMBERSHIP_SELECT: &str = "SELECT m.room_id, m.member_id, m.member_type, m.role,
        m.invited_by, m.updated_ms, r.account_id,
        COALESCE(u.primary_email, b.bot_email) AS email,
        COALESCE(u.display_name, b.display_name) AS full_name
    FROM room_memberships m
    JOIN rooms r ON r.room_id = m.room_id
    LEFT JOIN users u ON m.member_type = 'User' AND u.user_id = m.member_id
        AND u.account_id = r.account_id
    LEFT JOIN bots b ON m.member_type = 'Bot' AND b.bot_id = m.member_id
        AND b.account_id = r.account_id";

fn membership_from_row(row: &AnyRow) -> Result<RoomMembership> {
    let bad = |what: &str| StoreError::Internal(format!("invalid {what} in room_memberships row"));
    Ok(RoomMembership {
        room_id: row.try_get("room_id")?,
        member: Member {
            member_id: row.try_get("member_id")?,
            member_type: MemberType::parse(&row.try_get::<String, _>("member_type")?)
                .ok_or_else(|| bad("member_type"))?,
            email: row.try_get("email")?,
            full_name: row.try_get("full_name")?,
            account_id: row.try_get("account_id")?,
        },
        role: RoomMembershipRole::parse(&row.try_get::<String, _>("role")?)
            .ok_or_else(|| bad("role"))?,
        invited_by: row.try_get("invited_by")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

const MESSAGE_COLUMNS: &str =
    "message_id, discussion_type, discussion_id, sender_id, content, redacted, created_ms";

fn message_from_row(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        message_id: row.try_get("message_id")?,
        discussion_type: row.try_get("discussion_type")?,
        discussion_id: row.try_get("discussion_id")?,
        sender_id: row.try_get("sender_id")?,
        content: row.try_get("content")?,
        redacted: row.try_get::<i64, _>("redacted")? != 0,
        created_ms: row.try_get("created_ms")?,
    })
}

/// A user or bot of the account, as a member: with whether a bot has an events
/// configuration (a bot without one cannot join a room).
struct Candidate {
    member: Member,
    has_endpoint: bool,
}

impl Store {
    /// Creates a room. A `client_request_token` used before in the account returns the room
    /// it created, unchanged (the model's idempotency token).
    pub async fn create_room(
        &self,
        owner: &str,
        account_id: &str,
        name: &str,
        created_by: &str,
        client_request_token: Option<&str>,
    ) -> Result<Room> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        if let Some(token) = client_request_token {
            let sql = format!(
                "SELECT {ROOM_COLUMNS} FROM rooms WHERE account_id = $1 AND client_request_token = $2"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(account_id)
                .bind(token)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = row {
                return room_from_row(&row);
            }
        }
        let rooms: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
            .await?;
        if rooms >= self.limits.rooms_per_account {
            return Err(StoreError::LimitExceeded(Limit::RoomsPerAccount(
                self.limits.rooms_per_account,
            )));
        }
        let now = now_millis();
        let room = Room {
            room_id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            created_by: created_by.to_string(),
            created_ms: now,
            updated_ms: now,
        };
        sqlx::query(
            "INSERT INTO rooms (room_id, account_id, name, created_by, client_request_token,
                created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&room.room_id)
        .bind(&room.account_id)
        .bind(&room.name)
        .bind(&room.created_by)
        .bind(client_request_token)
        .bind(room.created_ms)
        .bind(room.updated_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(room)
    }

    /// The room, if it is in the account and `owner` owns the account.
    pub async fn get_room(&self, owner: &str, account_id: &str, room_id: &str) -> Result<Room> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let sql =
            format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE account_id = $1 AND room_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(room_id)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::no_room(account_id, room_id))?;
        room_from_row(&row)
    }

    /// A page of the account's rooms after `after`, in creation order; with `member_id`, only
    /// the rooms that member belongs to.
    pub async fn list_rooms(
        &self,
        owner: &str,
        account_id: &str,
        member_id: Option<&str>,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> Result<RoomPage> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms r
             WHERE account_id = $1
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM room_memberships m
                                          WHERE m.room_id = r.room_id AND m.member_id = $2))
               AND (created_ms, room_id) > ($3, $4)
             ORDER BY created_ms, room_id
             LIMIT $5"
        );
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(member_id)
            .bind(after_ms)
            .bind(after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.reads)
            .await?;
        let mut rooms = rows.iter().map(room_from_row).collect::<Result<Vec<_>>>()?;
        let next = super::page_end(&mut rooms, limit, |r| (r.created_ms, r.room_id.clone()));
        Ok(RoomPage { rooms, next })
    }

    /// Renames the room (when `name` is given) and returns it.
    pub async fn update_room(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        name: Option<&str>,
    ) -> Result<Room> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let done = sqlx::query(
            "UPDATE rooms SET name = COALESCE($1, name),
                updated_ms = CASE WHEN $1 IS NULL THEN updated_ms ELSE $2 END
             WHERE account_id = $3 AND room_id = $4",
        )
        .bind(name)
        .bind(now_millis())
        .bind(account_id)
        .bind(room_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::no_room(account_id, room_id));
        }
        let sql =
            format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE account_id = $1 AND room_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(room_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        room_from_row(&row)
    }

    /// Deletes the room with its memberships and messages.
    pub async fn delete_room(&self, owner: &str, account_id: &str, room_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::room_in_tx(&mut tx, account_id, room_id).await?;
        for statement in [
            "DELETE FROM messages WHERE discussion_type = 'Room' AND discussion_id = $1",
            "DELETE FROM room_memberships WHERE room_id = $1",
            "DELETE FROM rooms WHERE room_id = $1",
        ] {
            sqlx::query(statement)
                .bind(room_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Fails with [`Missing::Room`] unless the room is in the account.
    pub(super) async fn room_in_tx(tx: &mut Tx, account_id: &str, room_id: &str) -> Result<()> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM rooms WHERE account_id = $1 AND room_id = $2",
        )
        .bind(account_id)
        .bind(room_id)
        .fetch_optional(&mut **tx)
        .await?;
        found
            .map(|_| ())
            .ok_or_else(|| StoreError::no_room(account_id, room_id))
    }

    /// The user or bot `member_id` of the account.
    async fn candidate(tx: &mut Tx, account_id: &str, member_id: &str) -> Result<Candidate> {
        let user: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT primary_email, display_name FROM users WHERE account_id = $1 AND user_id = $2",
        )
        .bind(account_id)
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((email, name)) = user {
            return Ok(Candidate {
                member: Member {
                    member_id: member_id.to_string(),
                    member_type: MemberType::User,
                    email: Some(email),
                    full_name: name,
                    account_id: account_id.to_string(),
                },
                has_endpoint: false,
            });
        }
        let bot: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT bot_email, display_name, events_https_endpoint, events_lambda_arn
             FROM bots WHERE account_id = $1 AND bot_id = $2",
        )
        .bind(account_id)
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?;
        match bot {
            Some((email, name, endpoint, lambda)) => Ok(Candidate {
                member: Member {
                    member_id: member_id.to_string(),
                    member_type: MemberType::Bot,
                    email: Some(email),
                    full_name: Some(name),
                    account_id: account_id.to_string(),
                },
                has_endpoint: endpoint.is_some() || lambda.is_some(),
            }),
            None => Err(StoreError::NotFound(Missing::Member {
                account_id: account_id.to_string(),
                member_id: member_id.to_string(),
            })),
        }
    }

    /// Adds each member to the room, in one transaction; one result per item, in order. The
    /// room and account must exist (else the whole call fails); each member may fail alone:
    /// not a user or bot of the account, already a member, a bot without an events
    /// configuration, or over a limit.
    pub async fn create_memberships(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        items: &[NewMembership],
        invited_by: &str,
    ) -> Result<Vec<Result<RoomMembership>>> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::room_in_tx(&mut tx, account_id, room_id).await?;
        let mut members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM room_memberships WHERE room_id = $1")
                .bind(room_id)
                .fetch_one(&mut *tx)
                .await?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let added = self
                .add_member(&mut tx, account_id, room_id, item, invited_by, members)
                .await;
            if added.is_ok() {
                members += 1;
            }
            match added {
                Err(e @ (StoreError::Unavailable(_) | StoreError::Internal(_))) => return Err(e),
                other => results.push(other),
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    pub(super) async fn add_member(
        &self,
        tx: &mut Tx,
        account_id: &str,
        room_id: &str,
        item: &NewMembership,
        invited_by: &str,
        members: i64,
    ) -> Result<RoomMembership> {
        let candidate = Self::candidate(tx, account_id, &item.member_id).await?;
        let already: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM room_memberships WHERE room_id = $1 AND member_id = $2",
        )
        .bind(room_id)
        .bind(&item.member_id)
        .fetch_optional(&mut **tx)
        .await?;
        if already.is_some() {
            return Err(StoreError::Conflict(super::Conflict::Membership));
        }
        if candidate.member.member_type == MemberType::Bot && !candidate.has_endpoint {
            return Err(StoreError::Rejected(Rejection::BotWithoutEndpoint {
                bot_id: item.member_id.clone(),
            }));
        }
        if members >= self.limits.memberships_per_room {
            return Err(StoreError::LimitExceeded(Limit::MembershipsPerRoom(
                self.limits.memberships_per_room,
            )));
        }
        let rooms: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM room_memberships WHERE member_id = $1")
                .bind(&item.member_id)
                .fetch_one(&mut **tx)
                .await?;
        if rooms >= self.limits.memberships_per_member {
            return Err(StoreError::LimitExceeded(Limit::MembershipsPerMember(
                self.limits.memberships_per_member,
            )));
        }
        let membership = RoomMembership {
            room_id: room_id.to_string(),
            member: candidate.member,
            role: item.role.unwrap_or(RoomMembershipRole::Member),
            invited_by: invited_by.to_string(),
            updated_ms: now_millis(),
        };
        sqlx::query(
            "INSERT INTO room_memberships (room_id, member_id, member_type, role, invited_by,
                updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(room_id)
        .bind(&membership.member.member_id)
        .bind(membership.member.member_type.as_str())
        .bind(membership.role.as_str())
        .bind(&membership.invited_by)
        .bind(membership.updated_ms)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::from(e).duplicate_is(super::Conflict::Membership))?;
        Ok(membership)
    }

    /// A page of the room's memberships after the member id `after`, in member id order.
    pub async fn list_memberships(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<MembershipPage> {
        self.get_room(owner, account_id, room_id).await?;
        let sql = format!(
            "{MEMBERSHIP_SELECT}
             WHERE m.room_id = $1 AND m.member_id > $2
             ORDER BY m.member_id
             LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id)
            .bind(after.unwrap_or(""))
            .bind(limit as i64 + 1)
            .fetch_all(&self.reads)
            .await?;
        let mut memberships = rows
            .iter()
            .map(membership_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next = super::page_end(&mut memberships, limit, |m| m.member.member_id.clone());
        Ok(MembershipPage { memberships, next })
    }

    /// Changes a member's role (when `role` is given) and returns the membership.
    pub async fn update_membership(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        member_id: &str,
        role: Option<RoomMembershipRole>,
    ) -> Result<RoomMembership> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::room_in_tx(&mut tx, account_id, room_id).await?;
        let member_type: Option<String> = sqlx::query_scalar(
            "SELECT member_type FROM room_memberships WHERE room_id = $1 AND member_id = $2",
        )
        .bind(room_id)
        .bind(member_id)
        .fetch_optional(&mut *tx)
        .await?;
        match member_type.as_deref() {
            None => return Err(no_membership(room_id, member_id)),
            // "The member role can be updated only for user IDs." (the model's documentation)
            Some("Bot") if role.is_some() => {
                return Err(StoreError::Rejected(Rejection::RoleOfABot {
                    member_id: member_id.to_string(),
                }));
            }
            Some(_) => {}
        }
        let done = sqlx::query(
            "UPDATE room_memberships SET role = COALESCE($1, role),
                updated_ms = CASE WHEN $1 IS NULL THEN updated_ms ELSE $2 END
             WHERE room_id = $3 AND member_id = $4",
        )
        .bind(role.map(RoomMembershipRole::as_str))
        .bind(now_millis())
        .bind(room_id)
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(no_membership(room_id, member_id));
        }
        let sql = format!("{MEMBERSHIP_SELECT} WHERE m.room_id = $1 AND m.member_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(room_id)
            .bind(member_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        membership_from_row(&row)
    }

    /// Removes a member from the room.
    pub async fn delete_membership(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        member_id: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::room_in_tx(&mut tx, account_id, room_id).await?;
        let done =
            sqlx::query("DELETE FROM room_memberships WHERE room_id = $1 AND member_id = $2")
                .bind(room_id)
                .bind(member_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(no_membership(room_id, member_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes `room` into the account as it is (ids and timestamps kept: `belfry import`),
    /// replacing its memberships with `memberships`. Each member must be a user or bot of
    /// the account; a room id of another account is [`super::Conflict::ForeignId`].
    pub async fn restore_room(
        &self,
        owner: &str,
        account_id: &str,
        room: &Room,
        memberships: &[RestoredMembership],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let holder: Option<String> =
            sqlx::query_scalar("SELECT account_id FROM rooms WHERE room_id = $1")
                .bind(&room.room_id)
                .fetch_optional(&mut *tx)
                .await?;
        if holder.is_some_and(|a| a != account_id) {
            return Err(StoreError::Conflict(super::Conflict::ForeignId));
        }
        sqlx::query(
            "INSERT INTO rooms (room_id, account_id, name, created_by, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (room_id) DO UPDATE SET name = excluded.name,
                created_by = excluded.created_by, created_ms = excluded.created_ms,
                updated_ms = excluded.updated_ms",
        )
        .bind(&room.room_id)
        .bind(account_id)
        .bind(&room.name)
        .bind(&room.created_by)
        .bind(room.created_ms)
        .bind(room.updated_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM room_memberships WHERE room_id = $1")
            .bind(&room.room_id)
            .execute(&mut *tx)
            .await?;
        for m in memberships {
            let candidate = Self::candidate(&mut tx, account_id, &m.member_id).await?;
            sqlx::query(
                "INSERT INTO room_memberships (room_id, member_id, member_type, role,
                    invited_by, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&room.room_id)
            .bind(&m.member_id)
            .bind(candidate.member.member_type.as_str())
            .bind(m.role.as_str())
            .bind(&m.invited_by)
            .bind(m.updated_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from(e).duplicate_is(super::Conflict::Membership))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Fails unless the room or conversation is in the account.
    async fn discussion_in_tx(
        tx: &mut Tx,
        account_id: &str,
        discussion: Discussion<'_>,
    ) -> Result<()> {
        match discussion {
            Discussion::Room(room_id) => Self::room_in_tx(tx, account_id, room_id).await,
            Discussion::Conversation(conversation_id) => {
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM conversations
                     WHERE account_id = $1 AND conversation_id = $2",
                )
                .bind(account_id)
                .bind(conversation_id)
                .fetch_optional(&mut **tx)
                .await?;
                found.map(|_| ()).ok_or_else(|| {
                    StoreError::NotFound(Missing::Conversation {
                        account_id: account_id.to_string(),
                        conversation_id: conversation_id.to_string(),
                    })
                })
            }
        }
    }

    /// Redacts a message of the room or conversation: its content is gone for good, the
    /// message stays, marked redacted. Redacting it again changes nothing.
    pub async fn redact_message(
        &self,
        owner: &str,
        account_id: &str,
        discussion: Discussion<'_>,
        message_id: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::discussion_in_tx(&mut tx, account_id, discussion).await?;
        let done = sqlx::query(
            "UPDATE messages SET content = NULL, redacted = 1
             WHERE discussion_type = $1 AND discussion_id = $2 AND message_id = $3",
        )
        .bind(discussion.kind())
        .bind(discussion.id())
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(Missing::Message {
                discussion_id: discussion.id().to_string(),
                message_id: message_id.to_string(),
            }));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a conversation between users of the account (admin API).
    pub async fn create_conversation(
        &self,
        account_id: &str,
        member_ids: &[String],
    ) -> Result<Conversation> {
        let owner = self.account_owner(account_id).await?;
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, &owner, account_id).await?;
        let mut unique: Vec<String> = Vec::new();
        for member_id in member_ids {
            let candidate = Self::candidate(&mut tx, account_id, member_id).await?;
            if candidate.member.member_type != MemberType::User {
                return Err(StoreError::Rejected(Rejection::NotAUser {
                    member_id: member_id.clone(),
                }));
            }
            if !unique.contains(member_id) {
                unique.push(member_id.clone());
            }
        }
        let conversation = Conversation {
            conversation_id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            member_ids: unique,
            created_ms: now_millis(),
        };
        sqlx::query(
            "INSERT INTO conversations (conversation_id, account_id, created_ms) VALUES ($1, $2, $3)",
        )
        .bind(&conversation.conversation_id)
        .bind(account_id)
        .bind(conversation.created_ms)
        .execute(&mut *tx)
        .await?;
        for member_id in &conversation.member_ids {
            sqlx::query(
                "INSERT INTO conversation_members (conversation_id, member_id) VALUES ($1, $2)",
            )
            .bind(&conversation.conversation_id)
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(conversation)
    }

    /// Posts a message from `sender_id`, a member of the room or conversation (admin API).
    /// Returns it with the discussion's bots that may be told of it.
    pub async fn post_message(
        &self,
        account_id: &str,
        discussion: Discussion<'_>,
        sender_id: &str,
        content: &str,
    ) -> Result<PostedMessage> {
        let owner = self.account_owner(account_id).await?;
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, &owner, account_id).await?;
        Self::discussion_in_tx(&mut tx, account_id, discussion).await?;
        let member_sql = match discussion {
            Discussion::Room(_) => {
                "SELECT CAST(1 AS BIGINT) FROM room_memberships WHERE room_id = $1 AND member_id = $2"
            }
            Discussion::Conversation(_) => {
                "SELECT CAST(1 AS BIGINT) FROM conversation_members
                 WHERE conversation_id = $1 AND member_id = $2"
            }
        };
        let is_member: Option<i64> = sqlx::query_scalar(member_sql)
            .bind(discussion.id())
            .bind(sender_id)
            .fetch_optional(&mut *tx)
            .await?;
        if is_member.is_none() {
            return Err(StoreError::Rejected(Rejection::SenderNotMember {
                sender_id: sender_id.to_string(),
            }));
        }
        let sender = Self::candidate(&mut tx, account_id, sender_id).await?;
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE discussion_id = $1",
        )
        .bind(discussion.id())
        .fetch_one(&mut *tx)
        .await?;
        let message = Message {
            message_id: uuid::Uuid::new_v4().to_string(),
            discussion_type: discussion.kind().to_string(),
            discussion_id: discussion.id().to_string(),
            sender_id: sender_id.to_string(),
            content: Some(content.to_string()),
            redacted: false,
            created_ms: now_millis(),
        };
        sqlx::query(
            "INSERT INTO messages (message_id, account_id, discussion_type, discussion_id,
                sender_id, content, redacted, seq, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
        )
        .bind(&message.message_id)
        .bind(account_id)
        .bind(&message.discussion_type)
        .bind(&message.discussion_id)
        .bind(&message.sender_id)
        .bind(content)
        .bind(seq)
        .bind(message.created_ms)
        .execute(&mut *tx)
        .await?;
        let bots = match discussion {
            Discussion::Room(room_id) => {
                let rows = sqlx::query(
                    "SELECT b.bot_id, b.display_name, b.bot_email, b.security_token,
                        b.events_https_endpoint, b.events_lambda_arn
                     FROM room_memberships m JOIN bots b ON b.bot_id = m.member_id
                     WHERE m.room_id = $1 AND m.member_type = 'Bot' AND b.account_id = $2
                       AND b.disabled = 0
                       AND (b.events_https_endpoint IS NOT NULL OR b.events_lambda_arn IS NOT NULL)
                     ORDER BY b.bot_id",
                )
                .bind(room_id)
                .bind(account_id)
                .fetch_all(&mut *tx)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(BotHook {
                            bot_id: row.try_get("bot_id")?,
                            display_name: row.try_get("display_name")?,
                            bot_email: row.try_get("bot_email")?,
                            security_token: row.try_get("security_token")?,
                            https_endpoint: row.try_get("events_https_endpoint")?,
                            lambda_arn: row.try_get("events_lambda_arn")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            // Conversations are between users: no bot is in one.
            Discussion::Conversation(_) => Vec::new(),
        };
        tx.commit().await?;
        Ok(PostedMessage {
            message,
            sender_email: sender.member.email.unwrap_or_default(),
            bots,
        })
    }

    /// Every message of the room or conversation, oldest first (admin API).
    pub async fn list_messages(
        &self,
        account_id: &str,
        discussion: Discussion<'_>,
    ) -> Result<Vec<Message>> {
        let owner = self.account_owner(account_id).await?;
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, &owner, account_id).await?;
        Self::discussion_in_tx(&mut tx, account_id, discussion).await?;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE discussion_type = $1 AND discussion_id = $2
             ORDER BY seq"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(discussion.kind())
            .bind(discussion.id())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(message_from_row).collect()
    }
}

fn no_membership(room_id: &str, member_id: &str) -> StoreError {
    StoreError::NotFound(Missing::Membership {
        room_id: room_id.to_string(),
        member_id: member_id.to_string(),
    })
}
