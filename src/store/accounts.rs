//! Chime accounts: created by, owned by, and visible to one AWS account, with their sign-in
//! delegate groups.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Result, Store, StoreError, Tx, keys_param};
use crate::model::{AccountStatus, AccountType, License};
use crate::time::now_millis;

/// A Chime account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub aws_account_id: String,
    pub account_id: String,
    pub name: String,
    pub account_type: AccountType,
    pub created_ms: i64,
    pub default_license: License,
    pub supported_licenses: Vec<License>,
    pub account_status: AccountStatus,
    /// The names of the account's sign-in delegate groups, in byte order.
    pub signin_delegate_groups: Vec<String>,
}

/// Filters of ListAccounts.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Only accounts whose name starts with this (case-sensitive).
    pub name_prefix: Option<String>,
    /// Only accounts holding a user with this email key (see [`crate::model::email_key`]).
    pub user_email_key: Option<String>,
}

/// One page of ListAccounts, in creation order.
#[derive(Debug, Clone)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    /// The position after the last account, when more accounts match.
    pub next: Option<(i64, String)>,
}

const ACCOUNT_COLUMNS: &str = "account_id, aws_account_id, name, account_type, default_license, \
                               supported_licenses, account_status, created_ms";

fn account_from_row(row: &AnyRow) -> Result<Account> {
    let bad = |what: &str| StoreError::Internal(format!("invalid {what} in accounts row"));
    let licenses: String = row.try_get("supported_licenses")?;
    Ok(Account {
        account_id: row.try_get("account_id")?,
        aws_account_id: row.try_get("aws_account_id")?,
        name: row.try_get("name")?,
        account_type: AccountType::parse(&row.try_get::<String, _>("account_type")?)
            .ok_or_else(|| bad("account_type"))?,
        default_license: License::parse(&row.try_get::<String, _>("default_license")?)
            .ok_or_else(|| bad("default_license"))?,
        supported_licenses: licenses
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| License::parse(s).ok_or_else(|| bad("supported_licenses")))
            .collect::<Result<_>>()?,
        account_status: AccountStatus::parse(&row.try_get::<String, _>("account_status")?)
            .ok_or_else(|| bad("account_status"))?,
        created_ms: row.try_get("created_ms")?,
        signin_delegate_groups: Vec::new(),
    })
}

impl Store {
    /// Creates a `Team` account, Active, default license `Pro`, supporting `Basic` and `Pro`.
    pub async fn create_account(&self, owner: &str, name: &str) -> Result<Account> {
        let account = Account {
            aws_account_id: owner.to_string(),
            account_id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            account_type: AccountType::Team,
            created_ms: now_millis(),
            default_license: License::Pro,
            supported_licenses: vec![License::Basic, License::Pro],
            account_status: AccountStatus::Active,
            signin_delegate_groups: Vec::new(),
        };
        let licenses: Vec<&str> = account
            .supported_licenses
            .iter()
            .map(|l| l.as_str())
            .collect();
        sqlx::query(
            "INSERT INTO accounts (account_id, aws_account_id, name, account_type,
                default_license, supported_licenses, account_status, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&account.account_id)
        .bind(&account.aws_account_id)
        .bind(&account.name)
        .bind(account.account_type.as_str())
        .bind(account.default_license.as_str())
        .bind(licenses.join(","))
        .bind(account.account_status.as_str())
        .bind(account.created_ms)
        .execute(&self.writer)
        .await?;
        Ok(account)
    }

    /// The account, if it exists and `owner` owns it.
    pub async fn get_account(&self, owner: &str, account_id: &str) -> Result<Account> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = $1 AND aws_account_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(owner)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::no_account(account_id))?;
        let mut account = account_from_row(&row)?;
        self.load_signin_delegate_groups(std::slice::from_mut(&mut account))
            .await?;
        Ok(account)
    }

    /// Fills in the sign-in delegate groups of `accounts`, in one query.
    async fn load_signin_delegate_groups(&self, accounts: &mut [Account]) -> Result<()> {
        if accounts.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT account_id, group_name FROM signin_delegate_groups WHERE {}
             ORDER BY account_id, group_name",
            self.backend.key_in("account_id", "$1")
        );
        let ids = accounts.iter().map(|a| a.account_id.as_str());
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(keys_param(ids))
            .fetch_all(&self.reads)
            .await?;
        for (account_id, group_name) in rows {
            if let Some(account) = accounts.iter_mut().find(|a| a.account_id == account_id) {
                account.signin_delegate_groups.push(group_name);
            }
        }
        Ok(())
    }

    /// Adds the named sign-in delegate groups to the account; a group it already has stays
    /// as it is.
    pub async fn associate_signin_delegate_groups(
        &self,
        owner: &str,
        account_id: &str,
        group_names: &[String],
    ) -> Result<()> {
        let add = "INSERT INTO signin_delegate_groups (account_id, group_name) VALUES ($1, $2)
                   ON CONFLICT (account_id, group_name) DO NOTHING";
        self.each_signin_delegate_group(owner, account_id, group_names, add)
            .await
    }

    /// Removes the named sign-in delegate groups from the account; a name it does not have
    /// is passed over.
    pub async fn disassociate_signin_delegate_groups(
        &self,
        owner: &str,
        account_id: &str,
        group_names: &[String],
    ) -> Result<()> {
        let remove = "DELETE FROM signin_delegate_groups WHERE account_id = $1 AND group_name = $2";
        self.each_signin_delegate_group(owner, account_id, group_names, remove)
            .await
    }

    /// Runs `statement` (its `$1` the account, `$2` a group name) for each of `group_names`,
    /// in one write transaction on the account.
    async fn each_signin_delegate_group(
        &self,
        owner: &str,
        account_id: &str,
        group_names: &[String],
        statement: &'static str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        for group_name in group_names {
            sqlx::query(statement)
                .bind(account_id)
                .bind(group_name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes the account of this type, whoever owns it (the admin API: how an account becomes
    /// an Enterprise account, which the Chime API cannot do).
    pub async fn set_account_type(
        &self,
        account_id: &str,
        account_type: AccountType,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET account_type = $1 WHERE account_id = $2")
            .bind(account_type.as_str())
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::no_account(account_id));
        }
        Ok(())
    }

    /// In a write transaction: fails with [`Missing::Account`](super::Missing) unless the account exists and
    /// `owner` owns it, and holds the account row until commit so that writes to one account
    /// (and its users) are serialised. Returns the account's default license.
    ///
    /// SQLite's `BEGIN IMMEDIATE` already holds the one write lock; PostgreSQL locks the row.
    pub(super) async fn lock_account(
        &self,
        tx: &mut Tx,
        owner: &str,
        account_id: &str,
    ) -> Result<License> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT default_license FROM accounts WHERE account_id = $1 AND aws_account_id = $2"
            }
            Backend::Postgres => {
                "SELECT default_license FROM accounts WHERE account_id = $1 AND aws_account_id = $2 \
                 FOR UPDATE"
            }
        };
        let license: Option<String> = sqlx::query_scalar(sql)
            .bind(account_id)
            .bind(owner)
            .fetch_optional(&mut **tx)
            .await?;
        let license = license.ok_or_else(|| StoreError::no_account(account_id))?;
        License::parse(&license)
            .ok_or_else(|| StoreError::Internal("invalid default_license in accounts row".into()))
    }

    /// Fails with [`Missing::Account`](super::Missing) unless the account exists and `owner` owns it.
    pub(super) async fn check_owner<'e, E>(executor: E, owner: &str, account_id: &str) -> Result<()>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM accounts WHERE account_id = $1 AND aws_account_id = $2",
        )
        .bind(account_id)
        .bind(owner)
        .fetch_optional(executor)
        .await?;
        found
            .map(|_| ())
            .ok_or_else(|| StoreError::no_account(account_id))
    }

    /// A page of the owner's accounts after `after`, in creation order.
    pub async fn list_accounts(
        &self,
        owner: &str,
        filter: &AccountFilter,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> Result<AccountPage> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a
             WHERE aws_account_id = $1
               AND ($2 IS NULL OR substr(name, 1, length($2)) = $2)
               AND ($3 IS NULL OR EXISTS (SELECT 1 FROM users u
                                          WHERE u.account_id = a.account_id AND u.email_key = $3))
               AND (created_ms, account_id) > ($4, $5)
             ORDER BY created_ms, account_id
             LIMIT $6"
        );
        // The first page starts before every account: a bound, not an `IS NULL OR`, so that
        // the position is a range of the `accounts_by_owner` index on every page.
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, String::new()));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(filter.name_prefix.as_deref())
            .bind(filter.user_email_key.as_deref())
            .bind(after_ms)
            .bind(after_id)
            .bind(limit as i64 + 1)
            .fetch_all(&self.reads)
            .await?;
        let mut accounts = rows
            .iter()
            .map(account_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next = super::page_end(&mut accounts, limit, |a| {
            (a.created_ms, a.account_id.clone())
        });
        self.load_signin_delegate_groups(&mut accounts).await?;
        Ok(AccountPage { accounts, next })
    }
}

/// `AccountSettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    pub disable_remote_control: bool,
    pub enable_dial_out: bool,
}

impl Store {
    /// Renames the account and/or changes its default license; returns it as it now is.
    pub async fn update_account(
        &self,
        owner: &str,
        account_id: &str,
        name: Option<&str>,
        default_license: Option<License>,
    ) -> Result<Account> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        sqlx::query(
            "UPDATE accounts SET name = COALESCE($1, name),
                default_license = COALESCE($2, default_license)
             WHERE account_id = $3",
        )
        .bind(name)
        .bind(default_license.map(License::as_str))
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_account(owner, account_id).await
    }

    /// Deletes the account with its users, rooms, bots, messages, retention settings and
    /// sign-in delegate groups, once every user is suspended.
    pub async fn delete_account(&self, owner: &str, account_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE account_id = $1 AND registration_status <> 'Suspended'",
        )
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
        if active > 0 {
            return Err(StoreError::UsersNotSuspended {
                account_id: account_id.to_string(),
                count: active,
            });
        }
        // The users' numbers stay in the AWS account's inventory, unassigned.
        super::phone_numbers::release_numbers(
            &mut tx,
            super::phone_numbers::Holder::Account(account_id),
        )
        .await?;
        for statement in [
            "DELETE FROM retention_settings WHERE account_id = $1",
            "DELETE FROM signin_delegate_groups WHERE account_id = $1",
            "DELETE FROM messages WHERE account_id = $1",
            "DELETE FROM conversation_members WHERE conversation_id IN
                (SELECT conversation_id FROM conversations WHERE account_id = $1)",
            "DELETE FROM conversations WHERE account_id = $1",
            "DELETE FROM room_memberships WHERE room_id IN
                (SELECT room_id FROM rooms WHERE account_id = $1)",
            "DELETE FROM rooms WHERE account_id = $1",
            "DELETE FROM bots WHERE account_id = $1",
            "DELETE FROM users WHERE account_id = $1",
            "DELETE FROM accounts WHERE account_id = $1",
        ] {
            sqlx::query(statement)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account's settings.
    pub async fn account_settings(&self, owner: &str, account_id: &str) -> Result<AccountSettings> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT disable_remote_control, enable_dial_out FROM accounts
             WHERE account_id = $1 AND aws_account_id = $2",
        )
        .bind(account_id)
        .bind(owner)
        .fetch_optional(&self.reads)
        .await?;
        let (remote, dial_out) = row.ok_or_else(|| StoreError::no_account(account_id))?;
        Ok(AccountSettings {
            disable_remote_control: remote != 0,
            enable_dial_out: dial_out != 0,
        })
    }

    /// Changes the settings given; the others keep their values.
    pub async fn update_account_settings(
        &self,
        owner: &str,
        account_id: &str,
        disable_remote_control: Option<bool>,
        enable_dial_out: Option<bool>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE accounts SET
                disable_remote_control = COALESCE($1, disable_remote_control),
                enable_dial_out = COALESCE($2, enable_dial_out)
             WHERE account_id = $3 AND aws_account_id = $4",
        )
        .bind(disable_remote_control.map(i64::from))
        .bind(enable_dial_out.map(i64::from))
        .bind(account_id)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::no_account(account_id));
        }
        Ok(())
    }
}
