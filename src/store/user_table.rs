//! The web console's users table: ListUsers' keyset on `email_key`, with more filters
//! (an email prefix, registration status, license) and paging in both directions.
//!
//! Every filter but the prefix is an equality on a column that has an index ending in
//! `email_key` (`users_by_type`, `users_by_status`, `users_by_license`, migration 7), and the
//! prefix is a range of `email_key` itself, so a page is one index range read from its
//! position on: a page deep in a million users reads what the first page reads. Going back
//! reads the same range downwards from the first key of the page shown.

use sqlx::Row;

use super::users::{USER_COLUMNS, User, record_from_row};
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

/// One row of the users table: the user, decoded as every read of a user is
/// (`record_from_row` in `users.rs`), and its key in the table's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub email_key: String,
    pub user: User,
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
        let mut sql = format!("SELECT email_key, {USER_COLUMNS} FROM users WHERE account_id = $1");
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
                user: record_from_row(&row)?.user,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    const OWNER: &str = "123456789012";

    /// Walks every page forward from the first, then every page back from the last, and
    /// checks both walks against the rows filtered and sorted here.
    async fn check_walks(
        store: &Store,
        account_id: &str,
        filter: &UserTableFilter,
        all: &[UserRow],
    ) {
        let wanted: Vec<&str> = all
            .iter()
            .filter(|r| {
                filter
                    .email_prefix
                    .as_ref()
                    .is_none_or(|p| r.email_key.starts_with(&email_key(p)))
                    && filter.user_type.is_none_or(|t| r.user.user_type == t)
                    && filter
                        .registration_status
                        .is_none_or(|s| r.user.registration_status == s)
                    && filter.license.is_none_or(|l| r.user.license_type == l)
            })
            .map(|r| r.email_key.as_str())
            .collect();
        let mut forward = Vec::new();
        let mut position = TablePosition::First;
        let mut pages = Vec::new();
        loop {
            let page = store
                .user_table_page(OWNER, account_id, filter, &position, 4)
                .await
                .unwrap();
            assert_eq!(page.previous.is_some(), !pages.is_empty(), "{filter:?}");
            forward.extend(page.rows.iter().map(|r| r.email_key.clone()));
            pages.push(page.rows.len());
            match page.next {
                Some(next) => position = TablePosition::After(next),
                None => break,
            }
        }
        assert_eq!(forward, wanted, "{filter:?}");
        // Back from the last page's first key: the pages before it, in reverse.
        let mut backward: Vec<String> = Vec::new();
        let last_page_start = forward.len().saturating_sub(1) / 4 * 4;
        if last_page_start == 0 {
            return; // one page: nothing before it
        }
        let mut position = TablePosition::Before(forward[last_page_start].clone());
        loop {
            let page = store
                .user_table_page(OWNER, account_id, filter, &position, 4)
                .await
                .unwrap();
            assert!(page.next.is_some());
            let mut keys: Vec<String> = page.rows.iter().map(|r| r.email_key.clone()).collect();
            keys.append(&mut backward);
            backward = keys;
            match page.previous {
                Some(previous) => position = TablePosition::Before(previous),
                None => break,
            }
        }
        assert_eq!(backward, wanted[..last_page_start], "{filter:?}");
    }

    /// Every user of the account (fewer than 100), in table order.
    async fn every_row(store: &Store, account_id: &str) -> Vec<UserRow> {
        store
            .user_table_page(
                OWNER,
                account_id,
                &UserTableFilter::default(),
                &TablePosition::First,
                100,
            )
            .await
            .unwrap()
            .rows
    }

    #[tokio::test]
    async fn pages_forward_and_back_match_the_filtered_rows() {
        let store = Store::open(&Location::Memory).await.unwrap();
        let account = store.create_account(OWNER, "Table").await.unwrap();
        let id = &account.account_id;
        let emails: Vec<String> = (0..23)
            .map(|i| match i % 3 {
                0 => format!("Ann.{i:02}@Example.com"),
                1 => format!("bob.{i:02}@example.com"),
                _ => format!("Élodie.{i:02}@example.com"),
            })
            .collect();
        store
            .invite_users(OWNER, id, &emails[..12], UserType::PrivateUser)
            .await
            .unwrap();
        store
            .invite_users(OWNER, id, &emails[12..], UserType::SharedDevice)
            .await
            .unwrap();
        let everyone = every_row(&store, id).await;
        assert_eq!(everyone.len(), 23);
        let suspended: Vec<String> = everyone
            .iter()
            .step_by(4)
            .map(|r| r.user.user_id.clone())
            .collect();
        store
            .set_suspended(OWNER, id, &suspended, true)
            .await
            .unwrap();
        let all = every_row(&store, id).await;
        let filters = [
            UserTableFilter::default(),
            UserTableFilter {
                email_prefix: Some("BOB".into()),
                ..Default::default()
            },
            UserTableFilter {
                email_prefix: Some("élodie.1".into()),
                ..Default::default()
            },
            UserTableFilter {
                user_type: Some(UserType::SharedDevice),
                ..Default::default()
            },
            UserTableFilter {
                registration_status: Some(RegistrationStatus::Suspended),
                ..Default::default()
            },
            UserTableFilter {
                license: Some(License::Pro),
                user_type: Some(UserType::PrivateUser),
                registration_status: Some(RegistrationStatus::Unregistered),
                ..Default::default()
            },
            UserTableFilter {
                email_prefix: Some("nobody".into()),
                ..Default::default()
            },
        ];
        for filter in &filters {
            check_walks(&store, id, filter, &all).await;
        }
        let counts = store.user_counts(OWNER, id).await.unwrap();
        assert_eq!(
            counts,
            vec![
                (RegistrationStatus::Suspended, suspended.len() as u64),
                (
                    RegistrationStatus::Unregistered,
                    23 - suspended.len() as u64
                ),
            ]
        );
        // Another AWS account sees nothing of it.
        let other = store
            .user_table_page(
                "999999999999",
                id,
                &UserTableFilter::default(),
                &TablePosition::First,
                4,
            )
            .await;
        assert!(other.is_err());
        assert!(store.user_counts("999999999999", id).await.is_err());
    }
}
