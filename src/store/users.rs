//! Chime users: created, invited, read and listed within one account.
//!
//! Emails are unique within an account under [`email_key`], and ListUsers orders by that key.
//! Because the key is unique per account, ordering by it is the total order "email
//! case-insensitively, then UserId", and a page position is just the last key returned: a keyset,
//! so page 10,000 costs what page 1 costs, and a user present for a whole walk is returned
//! exactly once however others come and go.

use std::collections::HashSet;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;

use super::page_cache::{PageCache, Weigh};
use super::reader::Bind;
use super::{Backend, Conflict, Result, Store, StoreError, Tx, keys_param};
use crate::model::{InviteStatus, License, RegistrationStatus, UserType, email_key};
use crate::time::{iso8601_millis, now_millis};

/// `AlexaForBusinessMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AlexaForBusinessMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_alexa_for_business_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alexa_for_business_room_arn: Option<String>,
}

/// A Chime user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub account_id: String,
    pub primary_email: String,
    pub primary_provisioned_number: Option<String>,
    pub display_name: Option<String>,
    pub license_type: License,
    pub user_type: UserType,
    pub registration_status: RegistrationStatus,
    pub invitation_status: Option<InviteStatus>,
    pub registered_on_ms: Option<i64>,
    pub invited_on_ms: Option<i64>,
    pub alexa: Option<AlexaForBusinessMetadata>,
    pub personal_pin: String,
}

/// The `User` structure on the wire. Absent members are omitted, as the service does.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserWire<'a> {
    user_id: &'a str,
    account_id: &'a str,
    primary_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_provisioned_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    license_type: &'static str,
    user_type: &'static str,
    user_registration_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_invitation_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alexa_for_business_metadata: Option<&'a AlexaForBusinessMetadata>,
    #[serde(rename = "PersonalPIN")]
    personal_pin: &'a str,
}

impl User {
    /// The `User` structure as a JSON object text. The store keeps this text beside the row,
    /// so that listing users is concatenation rather than re-serialisation.
    pub fn to_json_text(&self) -> String {
        let wire = UserWire {
            user_id: &self.user_id,
            account_id: &self.account_id,
            primary_email: &self.primary_email,
            primary_provisioned_number: self.primary_provisioned_number.as_deref(),
            display_name: self.display_name.as_deref(),
            license_type: self.license_type.as_str(),
            user_type: self.user_type.as_str(),
            user_registration_status: self.registration_status.as_str(),
            user_invitation_status: self.invitation_status.map(|s| s.as_str()),
            registered_on: self.registered_on_ms.map(iso8601_millis),
            invited_on: self.invited_on_ms.map(iso8601_millis),
            alexa_for_business_metadata: self.alexa.as_ref(),
            personal_pin: &self.personal_pin,
        };
        // A user's JSON is some 400-500 bytes: one allocation, not serde_json's growth from 128.
        let mut out = Vec::with_capacity(640);
        serde_json::to_writer(&mut out, &wire).expect("a User always serialises");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

/// Filters of ListUsers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only the user with this email key.
    pub email_key: Option<String>,
    /// Only users of this type.
    pub user_type: Option<UserType>,
}

/// One page of users, as ready JSON objects.
#[derive(Debug, Clone, Default)]
pub struct UserPage {
    /// Each user's `User` structure as JSON text, in order, joined by commas: the members of
    /// a JSON array, ready to be enclosed in `[` and `]`.
    pub joined: String,
    /// Where each user's JSON ends in `joined`.
    pub ends: Vec<usize>,
    /// The email key of the last user, when more users match.
    pub next: Option<String>,
}

impl UserPage {
    /// How many users the page holds.
    pub fn count(&self) -> usize {
        self.ends.len()
    }

    /// Each user's JSON, in order.
    pub fn docs(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|end| end + 1));
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.joined[start..end])
    }
}

/// What decides a ListUsers page's content: the key of [`UserPageCache`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    owner: String,
    account_id: String,
    email_key: Option<String>,
    user_type: Option<UserType>,
    after: Option<String>,
    limit: usize,
}

impl PageKey {
    pub fn new(
        owner: &str,
        account_id: &str,
        filter: &UserFilter,
        after: Option<&str>,
        limit: usize,
    ) -> PageKey {
        PageKey {
            owner: owner.to_string(),
            account_id: account_id.to_string(),
            email_key: filter.email_key.clone(),
            user_type: filter.user_type,
            after: after.map(str::to_string),
            limit,
        }
    }
}

impl Weigh for PageKey {
    fn bytes(&self) -> usize {
        std::mem::size_of::<PageKey>()
            + self.owner.len()
            + self.account_id.len()
            + self.email_key.as_ref().map_or(0, String::len)
            + self.after.as_ref().map_or(0, String::len)
    }
}

impl Weigh for UserPage {
    fn bytes(&self) -> usize {
        std::mem::size_of::<UserPage>()
            + self.joined.len()
            + self.ends.len() * std::mem::size_of::<usize>()
            + self.next.as_ref().map_or(0, String::len)
    }
}

/// Recently served ListUsers pages (see [`super::page_cache`]).
pub type UserPageCache = PageCache<PageKey, UserPage>;

/// What CreateUser asks for.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: Option<String>,
    pub user_type: UserType,
}

/// The outcome of inviting one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub invite_id: String,
    pub email: String,
    /// `Pending` for a new user, `Failed` when the email was already in the account.
    pub status: InviteStatus,
}

/// What UpdateUser (and each BatchUpdateUser item) changes; `None` keeps the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub license_type: Option<License>,
    pub user_type: Option<UserType>,
    /// Replaces the user's Alexa for Business metadata (an empty one removes it).
    pub alexa: Option<AlexaForBusinessMetadata>,
}

/// Telephony settings of a user (`UserSettings.Telephony`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Telephony {
    pub inbound_calling: bool,
    pub outbound_calling: bool,
    pub sms: bool,
}

pub(super) const USER_COLUMNS: &str = "user_id, account_id, primary_email, primary_provisioned_number, \
    display_name, license_type, user_type, registration_status, invitation_status, \
    registered_on_ms, invited_on_ms, alexa_enabled, alexa_room_arn, personal_pin, \
    pre_suspend_status";

/// A user row: the `User` and what is kept beside it.
pub(super) struct UserRecord {
    pub(super) user: User,
    /// The registration status to restore on unsuspend.
    pub(super) pre_suspend: Option<RegistrationStatus>,
}

fn parse_column<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Internal(format!("invalid {column} in users row")))
}

fn parse_optional<T>(
    row: &AnyRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        parse(&t).ok_or_else(|| StoreError::Internal(format!("invalid {column} in users row")))
    })
    .transpose()
}

pub(super) fn record_from_row(row: &AnyRow) -> Result<UserRecord> {
    let alexa_enabled: Option<i64> = row.try_get("alexa_enabled")?;
    let alexa_arn: Option<String> = row.try_get("alexa_room_arn")?;
    let alexa =
        (alexa_enabled.is_some() || alexa_arn.is_some()).then(|| AlexaForBusinessMetadata {
            is_alexa_for_business_enabled: alexa_enabled.map(|v| v != 0),
            alexa_for_business_room_arn: alexa_arn,
        });
    Ok(UserRecord {
        user: User {
            user_id: row.try_get("user_id")?,
            account_id: row.try_get("account_id")?,
            primary_email: row.try_get("primary_email")?,
            primary_provisioned_number: row.try_get("primary_provisioned_number")?,
            display_name: row.try_get("display_name")?,
            license_type: parse_column(row, "license_type", License::parse)?,
            user_type: parse_column(row, "user_type", UserType::parse)?,
            registration_status: parse_column(
                row,
                "registration_status",
                RegistrationStatus::parse,
            )?,
            invitation_status: parse_optional(row, "invitation_status", InviteStatus::parse)?,
            registered_on_ms: row.try_get("registered_on_ms")?,
            invited_on_ms: row.try_get("invited_on_ms")?,
            alexa,
            personal_pin: row.try_get("personal_pin")?,
        },
        pre_suspend: parse_optional(row, "pre_suspend_status", RegistrationStatus::parse)?,
    })
}

/// A random 10-digit personal meeting PIN.
pub fn generate_pin() -> String {
    let mut rng = rand::rng();
    (0..10)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// The columns of a user row written whole (CreateUser, InviteUsers, seeding, import), in the
/// order [`bind_user_row`] binds them.
pub(super) const USER_ROW_COLUMNS: [&str; 19] = [
    "user_id",
    "account_id",
    "email_key",
    "primary_email",
    "primary_provisioned_number",
    "display_name",
    "license_type",
    "user_type",
    "registration_status",
    "invitation_status",
    "registered_on_ms",
    "invited_on_ms",
    "alexa_enabled",
    "alexa_room_arn",
    "personal_pin",
    "pre_suspend_status",
    "doc",
    // When the row was written first and last (migration 8): an insert sets both to now.
    "created_ms",
    "modified_ms",
];

/// Rows per multi-row INSERT: 19 parameters each stays under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
pub(super) const ROWS_PER_INSERT: usize = 1000;

/// `INSERT INTO users (<USER_ROW_COLUMNS>) VALUES (...), ...` for `rows` rows.
pub(super) fn insert_rows_statement(backend: Backend, rows: usize) -> String {
    let columns = USER_ROW_COLUMNS.len();
    let mut sql = String::with_capacity(600 + rows * columns * 6);
    sql.push_str("INSERT INTO users (");
    sql.push_str(&USER_ROW_COLUMNS.join(", "));
    sql.push_str(") VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            backend.push_placeholder(&mut sql, row * columns + column + 1);
        }
        sql.push(')');
    }
    sql
}

/// Binds one row of [`USER_ROW_COLUMNS`]: the user's typed columns and its ready JSON.
fn bind_user_row<'q>(
    query: Query<'q, sqlx::Any, AnyArguments>,
    user: &User,
    pre_suspend: Option<RegistrationStatus>,
    now: i64,
) -> Query<'q, sqlx::Any, AnyArguments> {
    let alexa = user.alexa.as_ref();
    query
        .bind(user.user_id.as_str())
        .bind(user.account_id.as_str())
        .bind(email_key(&user.primary_email))
        .bind(user.primary_email.as_str())
        .bind(user.primary_provisioned_number.as_deref())
        .bind(user.display_name.as_deref())
        .bind(user.license_type.as_str())
        .bind(user.user_type.as_str())
        .bind(user.registration_status.as_str())
        .bind(user.invitation_status.map(InviteStatus::as_str))
        .bind(user.registered_on_ms)
        .bind(user.invited_on_ms)
        .bind(
            alexa
                .and_then(|a| a.is_alexa_for_business_enabled)
                .map(i64::from),
        )
        .bind(alexa.and_then(|a| a.alexa_for_business_room_arn.as_deref()))
        .bind(user.personal_pin.as_str())
        .bind(pre_suspend.map(RegistrationStatus::as_str))
        .bind(user.to_json_text())
        .bind(now)
        .bind(now)
}

/// Writes user rows, each with its pre-suspend status: [`ROWS_PER_INSERT`] rows per statement,
/// which `statement` makes for a chunk's number of rows ([`insert_rows_statement`], or a
/// statement built on it).
pub(super) async fn write_user_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    rows: &[(&User, Option<RegistrationStatus>)],
    statement: fn(Backend, usize) -> String,
) -> Result<()> {
    let now = now_millis();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement(backend, chunk.len())));
        for &(user, pre_suspend) in chunk {
            query = bind_user_row(query, user, pre_suspend, now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// Inserts new users: an email or UserId that is already there fails the statement.
    async fn insert_users_rows(
        conn: &mut sqlx::AnyConnection,
        backend: Backend,
        users: &[User],
    ) -> Result<()> {
        let rows: Vec<_> = users.iter().map(|user| (user, None)).collect();
        write_user_rows(conn, backend, &rows, insert_rows_statement).await
    }

    /// Creates one user, `Unregistered`, with the account's default license.
    /// An email already in the account (case-insensitively) is [`Conflict::Email`].
    pub async fn create_user(&self, owner: &str, account_id: &str, new: &NewUser) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let license = self.lock_account(&mut tx, owner, account_id).await?;
        let user = User {
            user_id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            primary_email: new.email.clone(),
            primary_provisioned_number: None,
            display_name: new.display_name.clone(),
            license_type: license,
            user_type: new.user_type,
            registration_status: RegistrationStatus::Unregistered,
            invitation_status: None,
            registered_on_ms: None,
            invited_on_ms: None,
            alexa: None,
            personal_pin: generate_pin(),
        };
        Self::insert_users_rows(&mut tx, self.backend, std::slice::from_ref(&user))
            .await
            .map_err(|e| e.duplicate_is(Conflict::Email))?;
        tx.commit().await?;
        Ok(user)
    }

    /// Inserts users as they are (ids, statuses and dates included), for seeding and tests;
    /// a user's PrimaryProvisionedNumber enters the AWS account's inventory as assigned to
    /// them. All or nothing.
    pub async fn insert_users(&self, owner: &str, account_id: &str, users: &[User]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::insert_users_rows(&mut tx, self.backend, users).await?;
        let numbers: Vec<(&str, Option<&str>)> = users
            .iter()
            .filter(|u| u.primary_provisioned_number.is_some())
            .map(|u| (u.user_id.as_str(), u.primary_provisioned_number.as_deref()))
            .collect();
        super::phone_numbers::hold_numbers(&mut tx, self.backend, owner, account_id, &numbers)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Invites each email: a new `Pending` user per email not yet in the account; an email
    /// already there (or repeated in the list) creates nothing and its invite is `Failed`.
    pub async fn invite_users(
        &self,
        owner: &str,
        account_id: &str,
        emails: &[String],
        user_type: UserType,
    ) -> Result<Vec<Invite>> {
        let mut tx = self.begin_write().await?;
        let license = self.lock_account(&mut tx, owner, account_id).await?;
        let now = now_millis();
        // The emails already in the account, and the userNames SCIM gave (unique with the
        // emails: see migration 8), in one query.
        let keys: Vec<String> = emails.iter().map(|e| email_key(e)).collect();
        let sql = format!(
            "SELECT email_key FROM users WHERE account_id = $1 AND {}
             UNION SELECT scim_user_name_key FROM users WHERE account_id = $1 AND {}",
            self.backend.email_key_in("$2"),
            self.backend.key_in("scim_user_name_key", "$2")
        );
        let mut taken: HashSet<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(keys_param(keys.iter().map(String::as_str)))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let mut invites = Vec::with_capacity(emails.len());
        let mut new_users = Vec::with_capacity(emails.len());
        for (email, key) in emails.iter().zip(keys) {
            // `insert` is false for an email there before or earlier in the list.
            let status = if taken.insert(key) {
                new_users.push(User {
                    user_id: uuid::Uuid::new_v4().to_string(),
                    account_id: account_id.to_string(),
                    primary_email: email.clone(),
                    primary_provisioned_number: None,
                    display_name: None,
                    license_type: license,
                    user_type,
                    registration_status: RegistrationStatus::Unregistered,
                    invitation_status: Some(InviteStatus::Pending),
                    registered_on_ms: None,
                    invited_on_ms: Some(now),
                    alexa: None,
                    personal_pin: generate_pin(),
                });
                InviteStatus::Pending
            } else {
                InviteStatus::Failed
            };
            invites.push(Invite {
                invite_id: uuid::Uuid::new_v4().to_string(),
                email: email.clone(),
                status,
            });
        }
        Self::insert_users_rows(&mut tx, self.backend, &new_users)
            .await
            .map_err(|e| e.duplicate_is(Conflict::Email))?;
        tx.commit().await?;
        Ok(invites)
    }

    /// The user's `User` JSON, if the account is the owner's and holds the user.
    pub async fn get_user_doc(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<String> {
        const SQL: &str = "SELECT u.user_id, u.doc FROM users u
             JOIN accounts a ON a.account_id = u.account_id
             WHERE u.user_id = $1 AND u.account_id = $2 AND a.aws_account_id = $3";
        let doc = match &self.reader {
            Some(reader) => {
                let mut found = None;
                let binds = [
                    Bind::Text(user_id),
                    Bind::Text(account_id),
                    Bind::Text(owner),
                ];
                reader.for_each_row(SQL, &binds, |_, doc| found = Some(doc.to_string()))?;
                found
            }
            None => sqlx::query_as::<_, (String, String)>(SQL)
                .bind(user_id)
                .bind(account_id)
                .bind(owner)
                .fetch_optional(&self.reads)
                .await?
                .map(|(_, doc)| doc),
        };
        match doc {
            Some(doc) => Ok(doc),
            None => {
                Self::check_owner(&self.reads, owner, account_id).await?;
                Err(StoreError::no_user(account_id, user_id))
            }
        }
    }

    /// A page of the account's users matching `filter`, after the email key `after`.
    ///
    /// One statement per filter, each a range of one index from the position `after` on
    /// (`(account_id, email_key)`, or `users_by_type`): page 10,000 reads what page 1 reads.
    /// On the embedded SQLite file, a page served before comes from the [`page_cache`] when
    /// the database has not changed since.
    ///
    /// [`page_cache`]: super::page_cache
    pub async fn list_users(
        &self,
        owner: &str,
        account_id: &str,
        filter: &UserFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Arc<UserPage>> {
        let (Some(pages), Some(reader)) = (&self.pages, &self.reader) else {
            return self
                .read_users_page(owner, account_id, filter, after, limit)
                .await
                .map(Arc::new);
        };
        let version = reader.data_version()?;
        let key = PageKey::new(owner, account_id, filter, after, limit);
        if let Some(page) = pages.get(version, &key) {
            return Ok(page);
        }
        let page = Arc::new(
            self.read_users_page(owner, account_id, filter, after, limit)
                .await?,
        );
        pages.put(version, key, page.clone());
        Ok(page)
    }

    /// [`Store::list_users`] from the database, never from the page cache nor into it: for a
    /// walk through every page once, such as an export.
    pub async fn read_users_page(
        &self,
        owner: &str,
        account_id: &str,
        filter: &UserFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<UserPage> {
        // The owner check is a statement of its own: inside the page's statement (as EXISTS or
        // a join) it cost SQLite more per page than the check itself (measured with callgrind:
        // ~156k instructions for a 100-user page with EXISTS, ~101k without).
        self.check_owner_fast(owner, account_id).await?;
        const BASE: &str = "SELECT email_key, doc FROM users
             WHERE account_id = $1 AND email_key > $2";
        const ORDER: &str = " ORDER BY email_key LIMIT $3";
        let mut binds = vec![
            Bind::Text(account_id),
            Bind::Text(after.unwrap_or("")),
            Bind::Int(limit as i64 + 1),
        ];
        let clause = match (&filter.email_key, filter.user_type) {
            (None, None) => "",
            (None, Some(kind)) => {
                binds.push(Bind::Text(kind.as_str()));
                " AND user_type = $4"
            }
            (Some(key), None) => {
                binds.push(Bind::Text(key));
                " AND email_key = $4"
            }
            (Some(key), Some(kind)) => {
                binds.push(Bind::Text(key));
                binds.push(Bind::Text(kind.as_str()));
                " AND email_key = $4 AND user_type = $5"
            }
        };
        let sql = format!("{BASE}{clause}{ORDER}");
        let mut page = UserPage::default();
        let mut last = String::new();
        let mut add = |key: &str, doc: &str| {
            if page.count() == limit {
                // The row past the page: there is more, after the page's last key.
                page.next = Some(std::mem::take(&mut last));
                return;
            }
            if page.count() > 0 {
                page.joined.push(',');
            }
            page.joined.push_str(doc);
            page.ends.push(page.joined.len());
            last.clear();
            last.push_str(key);
        };
        match &self.reader {
            Some(reader) => reader.for_each_row(&sql, &binds, &mut add)?,
            None => {
                let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                for bind in &binds {
                    query = match *bind {
                        Bind::Text(text) => query.bind(text),
                        Bind::Int(n) => query.bind(n),
                    };
                }
                for (key, doc) in query.fetch_all(&self.reads).await? {
                    add(&key, &doc);
                }
            }
        }
        Ok(page)
    }

    /// [`Store::check_owner`] through the plain read connections where there are some.
    async fn check_owner_fast(&self, owner: &str, account_id: &str) -> Result<()> {
        const SQL: &str = "SELECT account_id, aws_account_id FROM accounts
             WHERE account_id = $1 AND aws_account_id = $2";
        match &self.reader {
            Some(reader) => {
                let mut found = false;
                let binds = [Bind::Text(account_id), Bind::Text(owner)];
                reader.for_each_row(SQL, &binds, |_, _| found = true)?;
                if found {
                    Ok(())
                } else {
                    Err(StoreError::no_account(account_id))
                }
            }
            None => Self::check_owner(&self.reads, owner, account_id).await,
        }
    }

    /// The ids of the account's first `limit` registered users, in email order (for the demo).
    pub async fn user_ids_registered(&self, account_id: &str, limit: usize) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM users
             WHERE account_id = $1 AND registration_status = 'Registered'
             ORDER BY email_key LIMIT $2",
        )
        .bind(account_id)
        .bind(limit as i64)
        .fetch_all(&self.reads)
        .await?)
    }

    /// Deletes a user outright: SCIM's DELETE (the Chime API has no DeleteUser; DeleteAccount
    /// removes users with their account, and releases their numbers), and tests of concurrent
    /// walks. The user's phone number goes back to the inventory in the same transaction, as
    /// DisassociatePhoneNumberFromUser returns it: a number is never left `Assigned` to no one.
    pub async fn delete_user(&self, owner: &str, account_id: &str, user_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let done = sqlx::query("DELETE FROM users WHERE account_id = $1 AND user_id = $2")
            .bind(account_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::no_user(account_id, user_id));
        }
        super::phone_numbers::release_numbers(&mut tx, super::phone_numbers::Holder::User(user_id))
            .await?;
        // A user who is gone is no longer a member of any room or conversation; the
        // messages they sent stay.
        for statement in [
            "DELETE FROM room_memberships WHERE member_id = $1 AND room_id IN
                (SELECT room_id FROM rooms WHERE account_id = $2)",
            "DELETE FROM conversation_members WHERE member_id = $1 AND conversation_id IN
                (SELECT conversation_id FROM conversations WHERE account_id = $2)",
        ] {
            sqlx::query(statement)
                .bind(user_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Reads one user of an account inside a transaction.
    pub(super) async fn load_user(
        tx: &mut Tx,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND user_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Writes a user's mutable columns back, with its JSON rendered anew, so that GetUser and
    /// every later ListUsers page see the change at once.
    pub(super) async fn save_user(tx: &mut Tx, record: &UserRecord) -> Result<()> {
        let user = &record.user;
        let alexa = user.alexa.as_ref();
        sqlx::query(
            "UPDATE users SET primary_provisioned_number = $1, license_type = $2, user_type = $3,
                registration_status = $4, alexa_enabled = $5, alexa_room_arn = $6,
                personal_pin = $7, pre_suspend_status = $8, doc = $9, modified_ms = $10
             WHERE user_id = $11",
        )
        .bind(user.primary_provisioned_number.as_deref())
        .bind(user.license_type.as_str())
        .bind(user.user_type.as_str())
        .bind(user.registration_status.as_str())
        .bind(
            alexa
                .and_then(|a| a.is_alexa_for_business_enabled)
                .map(i64::from),
        )
        .bind(alexa.and_then(|a| a.alexa_for_business_room_arn.as_deref()))
        .bind(&user.personal_pin)
        .bind(record.pre_suspend.map(RegistrationStatus::as_str))
        .bind(user.to_json_text())
        .bind(now_millis())
        .bind(&user.user_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Loads a user, lets `change` modify it, and saves it, all in one write transaction.
    async fn modify_user<T>(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
        change: impl FnOnce(&mut UserRecord) -> T,
    ) -> Result<(User, T)> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let mut record = Self::load_user(&mut tx, account_id, user_id)
            .await?
            .ok_or_else(|| StoreError::no_user(account_id, user_id))?;
        let out = change(&mut record);
        Self::save_user(&mut tx, &record).await?;
        tx.commit().await?;
        Ok((record.user, out))
    }

    /// Applies one UpdateUser change.
    pub async fn update_user(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
        change: &UserChange,
    ) -> Result<User> {
        let (user, ()) = self
            .modify_user(owner, account_id, user_id, |r| {
                apply_change(&mut r.user, change)
            })
            .await?;
        Ok(user)
    }

    /// Applies each item that names a user of the account, in order, in one transaction;
    /// returns the ids of the users that were not found (their items change nothing).
    pub async fn batch_update_users(
        &self,
        owner: &str,
        account_id: &str,
        items: &[(String, UserChange)],
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let mut missing = Vec::new();
        for (user_id, change) in items {
            match Self::load_user(&mut tx, account_id, user_id).await? {
                Some(mut record) => {
                    apply_change(&mut record.user, change);
                    Self::save_user(&mut tx, &record).await?;
                }
                None => missing.push(user_id.clone()),
            }
        }
        tx.commit().await?;
        Ok(missing)
    }

    /// Suspends (or unsuspends) each listed user of the account; returns the ids not found.
    ///
    /// Suspending remembers the registration status the user had; unsuspending restores it.
    /// Suspending a suspended user, or unsuspending one who is not, changes nothing.
    pub async fn set_suspended(
        &self,
        owner: &str,
        account_id: &str,
        user_ids: &[String],
        suspend: bool,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let mut missing = Vec::new();
        for user_id in user_ids {
            let Some(mut record) = Self::load_user(&mut tx, account_id, user_id).await? else {
                missing.push(user_id.clone());
                continue;
            };
            if set_record_suspended(&mut record, suspend) {
                Self::save_user(&mut tx, &record).await?;
            }
        }
        tx.commit().await?;
        Ok(missing)
    }

    /// Gives the user a new personal PIN, different from the old one.
    pub async fn reset_personal_pin(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<User> {
        let (user, ()) = self
            .modify_user(owner, account_id, user_id, |r| {
                let old = std::mem::take(&mut r.user.personal_pin);
                r.user.personal_pin = loop {
                    let pin = generate_pin();
                    if pin != old {
                        break pin;
                    }
                };
            })
            .await?;
        Ok(user)
    }

    /// Fails unless the account is the owner's and holds the user.
    pub async fn check_user(&self, owner: &str, account_id: &str, user_id: &str) -> Result<()> {
        self.user_telephony(owner, account_id, user_id)
            .await
            .map(|_| ())
    }

    /// The user's telephony settings.
    pub async fn user_telephony(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<Telephony> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT u.inbound_calling, u.outbound_calling, u.sms
             FROM users u JOIN accounts a ON a.account_id = u.account_id
             WHERE u.user_id = $1 AND u.account_id = $2 AND a.aws_account_id = $3",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(owner)
        .fetch_optional(&self.reads)
        .await?;
        match row {
            Some((inbound, outbound, sms)) => Ok(Telephony {
                inbound_calling: inbound != 0,
                outbound_calling: outbound != 0,
                sms: sms != 0,
            }),
            None => {
                Self::check_owner(&self.reads, owner, account_id).await?;
                Err(StoreError::no_user(account_id, user_id))
            }
        }
    }

    /// Replaces the user's telephony settings.
    pub async fn set_user_telephony(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
        telephony: Telephony,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let done = sqlx::query(
            "UPDATE users SET inbound_calling = $1, outbound_calling = $2, sms = $3
             WHERE account_id = $4 AND user_id = $5",
        )
        .bind(i64::from(telephony.inbound_calling))
        .bind(i64::from(telephony.outbound_calling))
        .bind(i64::from(telephony.sms))
        .bind(account_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::no_user(account_id, user_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes the inventory's number `e164` the user's primary provisioned number; the number
    /// the user held before goes back to the inventory. The number must be an `Unassigned`
    /// Business Calling number of the AWS account's inventory (see
    /// `phone_numbers::assign_number`); one held by another user is [`Conflict::PhoneNumber`].
    pub async fn associate_phone_number(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
        e164: &str,
    ) -> Result<User> {
        // An order placed just before is processed first.
        self.settle_phone_numbers(owner).await?;
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let mut record = Self::load_user(&mut tx, account_id, user_id)
            .await?
            .ok_or_else(|| StoreError::no_user(account_id, user_id))?;
        if !super::phone_numbers::assign_number(&mut tx, owner, e164, account_id, user_id).await? {
            return Ok(record.user);
        }
        record.user.primary_provisioned_number = Some(e164.to_string());
        Self::save_user(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(record.user)
    }

    /// Returns the user's primary provisioned number, if any, to the inventory (`Unassigned`).
    pub async fn disassociate_phone_number(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let mut record = Self::load_user(&mut tx, account_id, user_id)
            .await?
            .ok_or_else(|| StoreError::no_user(account_id, user_id))?;
        super::phone_numbers::release_numbers(&mut tx, super::phone_numbers::Holder::User(user_id))
            .await?;
        record.user.primary_provisioned_number = None;
        Self::save_user(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(record.user)
    }
}

/// Suspends (or unsuspends) a user record: suspending remembers the registration status the
/// user had, unsuspending restores it. Returns whether anything changed (suspending a
/// suspended user, or unsuspending one who is not, changes nothing).
pub(super) fn set_record_suspended(record: &mut UserRecord, suspend: bool) -> bool {
    let suspended = record.user.registration_status == RegistrationStatus::Suspended;
    if suspend && !suspended {
        record.pre_suspend = Some(record.user.registration_status);
        record.user.registration_status = RegistrationStatus::Suspended;
    } else if !suspend && suspended {
        record.user.registration_status = record
            .pre_suspend
            .take()
            .unwrap_or(RegistrationStatus::Registered);
    } else {
        return false;
    }
    true
}

/// Applies an UpdateUser change to a user.
fn apply_change(user: &mut User, change: &UserChange) {
    if let Some(license) = change.license_type {
        user.license_type = license;
    }
    if let Some(kind) = change.user_type {
        user.user_type = kind;
    }
    if let Some(alexa) = &change.alexa {
        let empty = alexa.is_alexa_for_business_enabled.is_none()
            && alexa.alexa_for_business_room_arn.is_none();
        user.alexa = (!empty).then(|| alexa.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_json_omits_absent_members() {
        let u = User {
            user_id: "u".into(),
            account_id: "a".into(),
            primary_email: "x@example.com".into(),
            primary_provisioned_number: None,
            display_name: None,
            license_type: License::Pro,
            user_type: UserType::PrivateUser,
            registration_status: RegistrationStatus::Unregistered,
            invitation_status: Some(InviteStatus::Pending),
            registered_on_ms: None,
            invited_on_ms: Some(0),
            alexa: None,
            personal_pin: "0123456789".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&u.to_json_text()).unwrap();
        assert_eq!(v["UserInvitationStatus"], "Pending");
        assert_eq!(v["InvitedOn"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["PersonalPIN"], "0123456789");
        assert!(v.get("RegisteredOn").is_none());
        assert!(v.get("AlexaForBusinessMetadata").is_none());
    }

    /// Every part of a ListUsers request that decides its page is part of the cache's key.
    #[test]
    fn page_keys_tell_tenants_positions_filters_and_sizes_apart() {
        let plain = UserFilter::default();
        let typed = UserFilter {
            email_key: None,
            user_type: Some(UserType::SharedDevice),
        };
        let one = PageKey::new("111", "acct", &plain, None, 100);
        assert_eq!(one, PageKey::new("111", "acct", &plain, None, 100));
        for other in [
            PageKey::new("222", "acct", &plain, None, 100),
            PageKey::new("111", "other", &plain, None, 100),
            PageKey::new("111", "acct", &typed, None, 100),
            PageKey::new("111", "acct", &plain, Some("k"), 100),
            PageKey::new("111", "acct", &plain, None, 99),
        ] {
            assert_ne!(one, other);
        }
        let cache = UserPageCache::new(1 << 20);
        let page = Arc::new(UserPage {
            joined: "{}".into(),
            ends: vec![2],
            next: None,
        });
        cache.put(0, one.clone(), page);
        assert!(cache.get(0, &one).is_some());
        assert!(
            cache
                .get(0, &PageKey::new("111", "acct", &typed, None, 100))
                .is_none()
        );
    }
}
