//! The web console's users table: ListUsers' keyset on `email_key`, with more filters
//! (an email prefix, registration status, license) and paging in both directions.
//!
//! Every filter but the prefix is an equality on a column that has an index ending in
//! `email_key` (`users_by_type`, `users_by_status`, `users_by_license`, migration 6), and the
//! prefix is a range of `email_key` itself, so a page is one index range read from its
//! position on: a page deep in a million users reads what the first page reads. Going back
//! reads the same range downwards from the first key of the page shown.

use sqlx::Row;

use super::{Result, Store};
use crate::model::{License, RegistrationStatus, UserType, email_key};

/// What the console's users table shows, narrowed as the filters say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTableFilter {
    /// Emails starting with this (compared under [`email_key`], so case does not matter).
    pub email_prefix: Option<String>,
    pub user_type: Option<UserType>,
    pub registration_status: Option<RegistrationStatus>,
    pub license: Option<License>,
}

/// Where a page starts: the first page, after a key (forward) or before one (back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TablePosition {
    First,
    After(String),
    Before(String),
}

/// One row of the users table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub email_key: String,
    pub user_id: String,
    pub primary_email: String,
    pub display_name: Option<String>,
    pub user_type: String,
    pub license_type: String,
    pub registration_status: String,
    pub invitation_status: Option<String>,
    pub primary_provisioned_number: Option<String>,
}

/// A page of the users table, in email order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserTablePage {
    pub rows: Vec<UserRow>,
    /// The key to page forward from (the last row's), when more rows follow.
    pub next: Option<String>,
    /// The key to page back from (the first row's), when rows come before.
    pub previous: Option<String>,
}

/// The largest code point: a prefix followed by it sorts after every key that starts with
/// the prefix (keys compare by their bytes, and its UTF-8 encoding is the largest there is).
const AFTER_EVERY_SUFFIX: char = '\u{10FFFF}';

impl Store {
    /// One page of at most `limit` users of the owner's account.
    pub async fn user_table_page(
        &self,
        owner: &str,
        account_id: &str,
        filter: &UserTableFilter,
        position: &TablePosition,
        limit: usize,
    ) -> Result<UserTablePage> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let mut binds: Vec<String> = vec![account_id.to_string()];
        let mut sql = String::from(
            "SELECT email_key, user_id, primary_email, display_name, user_type, license_type,
                registration_status, invitation_status, primary_provisioned_number
             FROM users WHERE account_id = $1",
        );
        let mut condition = |sql: &mut String, text: &str, value: String| {
            binds.push(value);
            sql.push_str(&format!(" AND {text} ${}", binds.len()));
        };
        if let Some(prefix) = &filter.email_prefix {
            let prefix = email_key(prefix);
            let end = format!("{prefix}{AFTER_EVERY_SUFFIX}");
            condition(&mut sql, "email_key >=", prefix);
            condition(&mut sql, "email_key <", end);
        }
        if let Some(kind) = filter.user_type {
            condition(&mut sql, "user_type =", kind.as_str().to_string());
        }
        if let Some(status) = filter.registration_status {
            condition(
                &mut sql,
                "registration_status =",
                status.as_str().to_string(),
            );
        }
        if let Some(license) = filter.license {
            condition(&mut sql, "license_type =", license.as_str().to_string());
        }
        let backwards = match position {
            TablePosition::First => false,
            TablePosition::After(key) => {
                condition(&mut sql, "email_key >", key.clone());
                false
            }
            TablePosition::Before(key) => {
                condition(&mut sql, "email_key <", key.clone());
                true
            }
        };
        let direction = if backwards { "DESC" } else { "ASC" };
        sql.push_str(&format!(
            " ORDER BY email_key {direction} LIMIT {}",
            limit + 1
        ));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in &binds {
            query = query.bind(bind.as_str());
        }
        let mut rows = Vec::with_capacity(limit + 1);
        for row in query.fetch_all(&self.reads).await? {
            rows.push(UserRow {
                email_key: row.try_get("email_key")?,
                user_id: row.try_get("user_id")?,
                primary_email: row.try_get("primary_email")?,
                display_name: row.try_get("display_name")?,
                user_type: row.try_get("user_type")?,
                license_type: row.try_get("license_type")?,
                registration_status: row.try_get("registration_status")?,
                invitation_status: row.try_get("invitation_status")?,
                primary_provisioned_number: row.try_get("primary_provisioned_number")?,
            });
        }
        // The row past the page says that more come in the direction read.
        let more = rows.len() > limit;
        rows.truncate(limit);
        if backwards {
            rows.reverse();
        }
        let first = rows.first().map(|r| r.email_key.clone());
        let last = rows.last().map(|r| r.email_key.clone());
        let (next, previous) = match position {
            TablePosition::First => (last.filter(|_| more), None),
            // Came forward from a page: that page is before this one.
            TablePosition::After(_) => (last.filter(|_| more), first),
            // Came back from a page: that page is after this one.
            TablePosition::Before(_) => (last, first.filter(|_| more)),
        };
        Ok(UserTablePage {
            rows,
            next,
            previous,
        })
    }

    /// How many users of the owner's account have each registration status (statuses with
    /// none are absent). Reads the whole `users_by_status` range of the account: for a
    /// million users this costs far more than a page does (see `bench/` for the figure).
    pub async fn user_counts(
        &self,
        owner: &str,
        account_id: &str,
    ) -> Result<Vec<(RegistrationStatus, u64)>> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT registration_status, COUNT(*) FROM users WHERE account_id = $1
             GROUP BY registration_status ORDER BY registration_status",
        )
        .bind(account_id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(status, n)| Some((RegistrationStatus::parse(&status)?, n as u64)))
            .collect())
    }
}
