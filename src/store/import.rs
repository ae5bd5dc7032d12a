//! Bulk import and export of an account's users.
//!
//! An import upserts by email (case-insensitively, under [`email_key`]): a record whose email is
//! new creates a user, one whose email is there updates the fields the record gives and keeps the
//! rest, so running the same import twice changes nothing the second time.
//!
//! A batch of records takes one statement to look up its emails and two for its phone numbers,
//! each list travelling as one JSON parameter that the database unpacks itself (`json_each` on
//! SQLite, `json_array_elements` on PostgreSQL, see [`Backend::json_rows`]), and one multi-row
//! INSERT per [`ROWS_PER_INSERT`](super::users::ROWS_PER_INSERT) users. (The users themselves
//! go in as bound columns: unpacking them from JSON in SQL was about half as fast, 13,028
//! against 23,938 rows/s for 200,000 users in 20,000-row upserts through Python's sqlite3.) A
//! batch a constraint refuses (a phone number or a UserId held by another user) is retried
//! record by record, each in a savepoint of its own, so that the refused records are named and
//! the others still go in.

use std::collections::HashMap;

use sqlx::{AnyConnection, Connection};

use super::users::{AlexaForBusinessMetadata, User};
use super::users::{
    USER_COLUMNS, USER_ROW_COLUMNS, UserRecord, insert_rows_statement, record_from_row,
    write_user_rows,
};
use super::{Backend, Conflict, Result, Store, StoreError, Tx, keys_param};
use crate::model::{InviteStatus, License, RegistrationStatus, UserType, email_key};

/// One user as an import file gives it: only the email is required; what is absent is kept
/// (for a user already there) or defaulted as CreateUser does (for a new one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportUser {
    /// Where the record came from (its line number), to name it when it is refused.
    pub line: u64,
    pub primary_email: String,
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub license_type: Option<License>,
    pub user_type: Option<UserType>,
    pub registration_status: Option<RegistrationStatus>,
    pub invitation_status: Option<InviteStatus>,
    pub registered_on_ms: Option<i64>,
    pub invited_on_ms: Option<i64>,
    pub personal_pin: Option<String>,
    pub primary_provisioned_number: Option<String>,
    pub alexa: Option<AlexaForBusinessMetadata>,
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub created: u64,
    pub updated: u64,
    /// Records refused by the store: line number and reason.
    pub refused: Vec<(u64, String)>,
}

/// A write transaction that imports batches; nothing is visible until [`Import::commit`].
pub struct Import {
    tx: Tx,
    backend: Backend,
}

impl Store {
    /// Opens an import transaction.
    pub async fn begin_import(&self) -> Result<Import> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Sqlite {
            // A large import touches index pages all over the file: keep them in memory.
            // (Temporary files are in memory on every connection: see `pool_options`.)
            sqlx::Executor::execute(&mut *tx, "PRAGMA cache_size = -262144").await?;
        }
        Ok(Import {
            tx,
            backend: self.backend,
        })
    }

    /// The AWS account that owns a Chime account, whoever asks (import, export and the admin
    /// API act for the operator, not for a caller).
    pub async fn account_owner(&self, account_id: &str) -> Result<String> {
        let owner: Option<String> =
            sqlx::query_scalar("SELECT aws_account_id FROM accounts WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.reads)
                .await?;
        owner.ok_or_else(|| StoreError::no_account(account_id))
    }
}

/// The merged result of one record.
struct Merged {
    record: UserRecord,
    created: bool,
    number_changed: bool,
}

impl Import {
    /// Upserts `users` into `account_id`. With `strict`, the first refused record fails the
    /// whole call with [`StoreError::Refused`]; otherwise refused records are reported and the
    /// others applied.
    pub async fn upsert(
        &mut self,
        account_id: &str,
        users: &[ImportUser],
        strict: bool,
    ) -> Result<ImportOutcome> {
        let backend = self.backend;
        let (owner, license) = lock_account(&mut self.tx, backend, account_id).await?;
        let mut savepoint = Connection::begin(&mut *self.tx).await?;
        match apply(&mut savepoint, backend, &owner, license, account_id, users).await {
            Ok(outcome) => {
                savepoint.commit().await?;
                return Ok(outcome);
            }
            Err(e) if !is_refusal(&e) => return Err(e),
            Err(e) if users.len() == 1 => {
                let line = users[0].line;
                return if strict {
                    Err(StoreError::Refused(line, refusal_reason(&e, &users[0])))
                } else {
                    Ok(ImportOutcome {
                        refused: vec![(line, refusal_reason(&e, &users[0]))],
                        ..ImportOutcome::default()
                    })
                };
            }
            Err(_) => savepoint.rollback().await?,
        }
        // A constraint refused the batch: find which records, one savepoint each.
        let mut outcome = ImportOutcome::default();
        for user in users {
            let mut savepoint = Connection::begin(&mut *self.tx).await?;
            match apply(
                &mut savepoint,
                backend,
                &owner,
                license,
                account_id,
                std::slice::from_ref(user),
            )
            .await
            {
                Ok(one) => {
                    savepoint.commit().await?;
                    outcome.created += one.created;
                    outcome.updated += one.updated;
                    outcome.refused.extend(one.refused);
                }
                Err(e) if is_refusal(&e) => {
                    savepoint.rollback().await?;
                    let reason = refusal_reason(&e, user);
                    if strict {
                        return Err(StoreError::Refused(user.line, reason));
                    }
                    outcome.refused.push((user.line, reason));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }

    /// Makes every batch visible at once.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Refreshes the planner's statistics after a bulk import. PostgreSQL otherwise plans the
    /// first queries on a freshly filled table from no statistics (bench/ saw a first page sort
    /// a whole account that way); SQLite's plans here do not depend on statistics.
    pub async fn analyze(&self) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE users").execute(&self.writer).await?;
        }
        Ok(())
    }
}

/// Locks the account row (on PostgreSQL) and reads its owner and default license.
async fn lock_account(
    tx: &mut Tx,
    backend: Backend,
    account_id: &str,
) -> Result<(String, License)> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT aws_account_id, default_license FROM accounts WHERE account_id = $1"
        }
        Backend::Postgres => {
            "SELECT aws_account_id, default_license FROM accounts WHERE account_id = $1 FOR UPDATE"
        }
    };
    let row: Option<(String, String)> = sqlx::query_as(sql)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
    let (owner, license) = row.ok_or_else(|| StoreError::no_account(account_id))?;
    let license = License::parse(&license)
        .ok_or_else(|| StoreError::Internal("invalid default_license in accounts row".into()))?;
    Ok((owner, license))
}

/// Whether a unique key refused the batch (rather than the database failing).
fn is_refusal(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(_) | StoreError::Duplicate(_))
}

fn refusal_reason(e: &StoreError, user: &ImportUser) -> String {
    match e {
        StoreError::Conflict(Conflict::PhoneNumber) => format!(
            "PrimaryProvisionedNumber {} is held by another user",
            user.primary_provisioned_number.as_deref().unwrap_or("")
        ),
        StoreError::Conflict(Conflict::UserId) => format!(
            "UserId {} belongs to another user",
            user.user_id.as_deref().unwrap_or("")
        ),
        other => other.to_string(),
    }
}

/// Merges the records into the users already there and writes the batch.
async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    owner: &str,
    default_license: License,
    account_id: &str,
    users: &[ImportUser],
) -> Result<ImportOutcome> {
    // The users already there, by email key.
    let keys: Vec<String> = users.iter().map(|u| email_key(&u.primary_email)).collect();
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND {}",
        backend.email_key_in("$2")
    );
    let existing = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .bind(keys_param(keys.iter().map(String::as_str)))
        .fetch_all(&mut *conn)
        .await?;
    let mut merged: HashMap<String, Merged> = HashMap::with_capacity(users.len());
    for row in &existing {
        let record = record_from_row(row)?;
        let key = email_key(&record.user.primary_email);
        merged.insert(
            key,
            Merged {
                record,
                created: false,
                number_changed: false,
            },
        );
    }
    // The emails the batch writes.
    let mut order: Vec<String> = Vec::with_capacity(users.len());
    let mut outcome = ImportOutcome::default();
    for (user, key) in users.iter().zip(keys) {
        if let Some(m) = merged.get(&key)
            && let Some(id) = &user.user_id
            && *id != m.record.user.user_id
        {
            outcome.refused.push((
                user.line,
                format!(
                    "PrimaryEmail belongs to user {}, not to UserId {id}",
                    m.record.user.user_id
                ),
            ));
            continue;
        }
        let entry = merged.entry(key.clone()).or_insert_with(|| Merged {
            record: new_record(account_id, user, default_license),
            created: true,
            number_changed: user.primary_provisioned_number.is_some(),
        });
        let before = entry.record.user.primary_provisioned_number.clone();
        merge(&mut entry.record, user);
        if entry.record.user.primary_provisioned_number != before {
            entry.number_changed = true;
        }
        order.push(key);
    }
    // Written in email order, the order ListUsers reads them: each index takes the batch's
    // keys in one sweep instead of at random, and the rows of a listing page lie side by side.
    order.sort_unstable();
    order.dedup();
    let batch: Vec<&Merged> = order.iter().map(|k| &merged[k]).collect();
    if batch.is_empty() {
        return Ok(outcome);
    }
    let user_rows: Vec<_> = batch
        .iter()
        .map(|m| (&m.record.user, m.record.pre_suspend))
        .collect();
    // The upsert absorbs a colliding email; the one key left to collide is a UserId that a
    // user of another account has.
    write_user_rows(conn, backend, &user_rows, upsert_statement)
        .await
        .map_err(|e| e.duplicate_is(Conflict::UserId))?;
    // The numbers the batch changes enter the inventory as assigned to their users.
    let numbers: Vec<(&str, Option<&str>)> = batch
        .iter()
        .filter(|m| m.number_changed)
        .map(|m| {
            (
                m.record.user.user_id.as_str(),
                m.record.user.primary_provisioned_number.as_deref(),
            )
        })
        .collect();
    super::phone_numbers::hold_numbers(conn, backend, owner, account_id, &numbers).await?;
    for m in &batch {
        if m.created {
            outcome.created += 1;
        } else {
            outcome.updated += 1;
        }
    }
    Ok(outcome)
}

/// [`insert_rows_statement`] for `rows` rows, updating the row of an email that is there.
fn upsert_statement(backend: Backend, rows: usize) -> String {
    let mut sql = insert_rows_statement(backend, rows);
    sql.push_str(" ON CONFLICT (account_id, email_key) DO UPDATE SET ");
    let updates: Vec<String> = USER_ROW_COLUMNS
        .iter()
        // A user imported again keeps its key, and when it was created.
        .filter(|c| !matches!(**c, "user_id" | "account_id" | "email_key" | "created_ms"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sql.push_str(&updates.join(", "));
    sql
}

/// A new user as CreateUser makes one, before the record's fields are merged in.
fn new_record(account_id: &str, user: &ImportUser, default_license: License) -> UserRecord {
    UserRecord {
        user: User {
            user_id: user
                .user_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            account_id: account_id.to_string(),
            primary_email: user.primary_email.clone(),
            primary_provisioned_number: None,
            display_name: None,
            license_type: default_license,
            user_type: UserType::PrivateUser,
            registration_status: RegistrationStatus::Unregistered,
            invitation_status: None,
            registered_on_ms: None,
            invited_on_ms: None,
            alexa: None,
            personal_pin: super::generate_pin(),
        },
        pre_suspend: None,
    }
}

/// Sets every field the record gives; keeps the others.
fn merge(record: &mut UserRecord, from: &ImportUser) {
    let user = &mut record.user;
    user.primary_email = from.primary_email.clone();
    if let Some(v) = &from.display_name {
        user.display_name = Some(v.clone());
    }
    if let Some(v) = from.license_type {
        user.license_type = v;
    }
    if let Some(v) = from.user_type {
        user.user_type = v;
    }
    if let Some(status) = from.registration_status {
        let was = user.registration_status;
        if status == RegistrationStatus::Suspended && was != RegistrationStatus::Suspended {
            // Suspended by the import: unsuspending restores what the user was.
            record.pre_suspend = Some(was);
        } else if status != RegistrationStatus::Suspended {
            record.pre_suspend = None;
        }
        user.registration_status = status;
    }
    if let Some(v) = from.invitation_status {
        user.invitation_status = Some(v);
    }
    if let Some(v) = from.registered_on_ms {
        user.registered_on_ms = Some(v);
    }
    if let Some(v) = from.invited_on_ms {
        user.invited_on_ms = Some(v);
    }
    if let Some(v) = &from.personal_pin {
        user.personal_pin = v.clone();
    }
    if let Some(v) = &from.primary_provisioned_number {
        user.primary_provisioned_number = Some(v.clone());
    }
    if let Some(v) = &from.alexa {
        user.alexa = Some(v.clone());
    }
}
