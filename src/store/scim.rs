//! SCIM provisioning in the store: bearer tokens bound to one Chime account, and what SCIM keeps
//! of a user beside the Chime columns (its `userName`, `externalId`, the attributes Chime has no
//! column for, and when SCIM created and last changed it).
//!
//! A SCIM user *is* a Chime user: the same row of `users` that CreateUser writes, with its
//! ready JSON (`doc`) rendered by the same code ([`User::to_json_text`]), so GetUser, ListUsers
//! and the CLI see exactly what SCIM made, and SCIM sees what the Chime API changes. The SCIM
//! columns (migration 6) are NULL on a user SCIM never wrote: its `userName` is then its email.
//!
//! `userName` is unique per account case-insensitively: every user's *key*, the
//! [`email_key`] of its SCIM `userName`, else its email key, is indexed
//! uniquely (`users_by_user_name_key`, migration 8, so that no Chime write makes a duplicate
//! either), and a SCIM write checks it inside the account's write lock to answer a 409.
//!
//! Lists run in the ListUsers order (`email_key`, unique per account), as keyset ranges:
//! [`Store::scim_users_page`] starts after the key of the previous page's last user. Filters
//! arrive as a [`ScimCondition`], which this module turns into one SQL condition with bound
//! values (never text of the filter in the statement).

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::users::{USER_COLUMNS, UserRecord, record_from_row, set_record_suspended};
use super::{Backend, Conflict, Result, Store, StoreError, Tx, User};
use crate::model::{License, MemberType, RegistrationStatus, UserType, email_key};
use crate::time::now_millis;

/// The domain of the placeholder PrimaryEmail a user gets when SCIM sends no email at all:
/// `{UserId}@` this. `.invalid` is reserved (RFC 2606): no mail is ever delivered there, and
/// the UserId makes it unique in the account. SCIM never shows it as an email.
pub const NO_EMAIL_DOMAIN: &str = "scim.belfry.invalid";

/// A SCIM bearer token as listed: never the token itself, which only its creator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub token_id: String,
    /// The one Chime account the token reads and writes.
    pub account_id: String,
    pub created_ms: i64,
    /// When it was revoked; a revoked token authenticates nothing.
    pub revoked_ms: Option<i64>,
}

/// The SHA-256 (hex) under which a token is stored and looked up.
pub fn scim_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A Chime user with what SCIM keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub user: User,
    /// The SCIM `userName` as sent, or the user's email for a user SCIM never wrote.
    pub user_name: String,
    pub external_id: Option<String>,
    /// The SCIM attributes that have no Chime column (such as `name` and `emails`), as the
    /// JSON object text SCIM last wrote; `None` for a user SCIM never wrote.
    pub attributes: Option<String>,
    pub created_ms: Option<i64>,
    pub modified_ms: Option<i64>,
}

impl ScimUser {
    /// Whether the user's PrimaryEmail is the placeholder of a user SCIM sent no email for.
    pub fn has_placeholder_email(&self) -> bool {
        self.user.primary_email == format!("{}@{NO_EMAIL_DOMAIN}", self.user.user_id).as_str()
    }
}

/// What a SCIM create or replace writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserWrite {
    pub user_name: String,
    pub external_id: Option<String>,
    /// The Chime DisplayName.
    pub display_name: Option<String>,
    /// The Chime PrimaryEmail; `None` gives the user the placeholder of [`NO_EMAIL_DOMAIN`].
    pub primary_email: Option<String>,
    /// `false` suspends the user (remembering its registration status), `true` restores it.
    pub active: bool,
    /// `None` keeps the license (or, on create, gives the account's default).
    pub license_type: Option<License>,
    /// `None` keeps the type (or, on create, `PrivateUser`).
    pub user_type: Option<UserType>,
    /// The attributes with no Chime column, as a JSON object text.
    pub attributes: String,
}

/// An attribute a SCIM filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimAttr {
    /// The UserId, exactly.
    Id,
    /// The `userName`, case-insensitively.
    UserName,
    /// The `externalId`, exactly.
    ExternalId,
    /// The PrimaryEmail, case-insensitively.
    Email,
    /// The DisplayName, exactly.
    DisplayName,
}

impl ScimAttr {
    /// The SQL expression of the attribute (the key for the case-insensitive ones).
    fn column(self) -> &'static str {
        match self {
            ScimAttr::Id => "user_id",
            ScimAttr::UserName => "COALESCE(scim_user_name_key, email_key)",
            ScimAttr::ExternalId => "scim_external_id",
            ScimAttr::Email => "email_key",
            ScimAttr::DisplayName => "display_name",
        }
    }

    /// Whether the column may be NULL (a user SCIM never wrote has no externalId; a user may
    /// have no DisplayName).
    fn nullable(self) -> bool {
        matches!(self, ScimAttr::ExternalId | ScimAttr::DisplayName)
    }

    /// A filter value as the column holds it.
    fn normalise(self, value: &str) -> String {
        match self {
            ScimAttr::UserName | ScimAttr::Email => email_key(value),
            ScimAttr::Id | ScimAttr::ExternalId | ScimAttr::DisplayName => value.to_string(),
        }
    }
}

/// A comparison of a SCIM filter (RFC 7644 3.4.2.2), on text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A SCIM filter over users, in the store's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimCondition {
    /// Every user (`true`) or none.
    Const(bool),
    /// `active eq true/false`: not suspended, or suspended.
    Active(bool),
    /// The attribute has a value.
    Present(ScimAttr),
    Compare(ScimAttr, ScimOp, String),
    Not(Box<ScimCondition>),
    And(Vec<ScimCondition>),
    Or(Vec<ScimCondition>),
}

/// A value bound to a generated statement.
enum Value {
    Text(String),
    Int(i64),
}

/// A statement being generated, with its bound values in placeholder order.
struct Statement {
    backend: Backend,
    sql: String,
    values: Vec<Value>,
}

impl Statement {
    fn new(backend: Backend) -> Statement {
        Statement {
            backend,
            sql: String::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Statement {
        self.sql.push_str(sql);
        self
    }

    fn bind(&mut self, value: Value) -> &mut Statement {
        self.values.push(value);
        self.backend
            .push_placeholder(&mut self.sql, self.values.len());
        self
    }

    fn text(&mut self, value: &str) -> &mut Statement {
        self.bind(Value::Text(value.to_string()))
    }

    /// A text parameter where PostgreSQL must be told its type (inside `length()`).
    fn typed_text(&mut self, value: &str) -> &mut Statement {
        self.push("CAST(").text(value).push(" AS TEXT)")
    }

    /// Appends `condition` as one parenthesised SQL condition.
    fn condition(&mut self, condition: &ScimCondition) {
        match condition {
            ScimCondition::Const(true) => {
                self.push("(1 = 1)");
            }
            ScimCondition::Const(false) => {
                self.push("(1 = 0)");
            }
            ScimCondition::Active(true) => {
                self.push("(registration_status <> 'Suspended')");
            }
            ScimCondition::Active(false) => {
                self.push("(registration_status = 'Suspended')");
            }
            ScimCondition::Present(ScimAttr::Email) => {
                // Every user has a PrimaryEmail, but the placeholder is no email.
                self.push("(NOT ");
                self.ends_with("email_key", &format!("@{NO_EMAIL_DOMAIN}"));
                self.push(")");
            }
            ScimCondition::Present(attr) => {
                let column = attr.column();
                self.push(&format!("({column} IS NOT NULL AND {column} <> '')"));
            }
            ScimCondition::Compare(attr, op, value) => {
                // SQL compares NULL to unknown, and `NOT unknown` is unknown too: `not
                // (externalId eq "x")` would skip every user without an externalId. A
                // comparison on a NULL column is false instead (two-valued, as SCIM's), in a
                // form that keeps the column's index usable (`ne` already says what NULL is).
                if attr.nullable() && *op != ScimOp::Ne {
                    let column = attr.column();
                    self.push(&format!("({column} IS NOT NULL AND "));
                    self.compare(*attr, *op, &attr.normalise(value));
                    self.push(")");
                } else if *attr == ScimAttr::Email && *op != ScimOp::Ne {
                    // The placeholder is no email: it is absent, as a NULL is above.
                    self.push("(");
                    self.condition(&ScimCondition::Present(ScimAttr::Email));
                    self.push(" AND ");
                    self.compare(*attr, *op, &attr.normalise(value));
                    self.push(")");
                } else {
                    self.compare(*attr, *op, &attr.normalise(value));
                }
            }
            ScimCondition::Not(inner) => {
                self.push("(NOT ");
                self.condition(inner);
                self.push(")");
            }
            ScimCondition::And(items) | ScimCondition::Or(items) => {
                let joiner = if matches!(condition, ScimCondition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.push("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(joiner);
                    }
                    self.condition(item);
                }
                if items.is_empty() {
                    self.push("1 = 1");
                }
                self.push(")");
            }
        }
    }

    fn compare(&mut self, attr: ScimAttr, op: ScimOp, value: &str) {
        let column = attr.column();
        let simple = |op: &str| format!("({column} {op} ");
        match op {
            ScimOp::Eq => self.push(&simple("=")).text(value).push(")"),
            ScimOp::Ne => self
                .push(&format!("({column} IS NULL OR {column} <> "))
                .text(value)
                .push(")"),
            ScimOp::Gt => self.push(&simple(">")).text(value).push(")"),
            ScimOp::Ge => self.push(&simple(">=")).text(value).push(")"),
            ScimOp::Lt => self.push(&simple("<")).text(value).push(")"),
            ScimOp::Le => self.push(&simple("<=")).text(value).push(")"),
            ScimOp::Sw => self
                .push(&format!("(substr({column}, 1, length("))
                .typed_text(value)
                .push(")) = ")
                .text(value)
                .push(")"),
            ScimOp::Ew => {
                self.ends_with(column, value);
                self
            }
            ScimOp::Co => {
                // The position of a substring: one function, two names.
                let function = match self.backend {
                    Backend::Sqlite => "instr",
                    Backend::Postgres => "strpos",
                };
                self.push(&format!("({function}({column}, "))
                    .typed_text(value)
                    .push(") > 0)")
            }
        };
    }

    /// `column` ends with `suffix` (substr and length, which both dialects have alike).
    fn ends_with(&mut self, column: &str, suffix: &str) {
        self.push(&format!("(length({column}) >= length("))
            .typed_text(suffix)
            .push(&format!(
                ") AND substr({column}, length({column}) - length("
            ))
            .typed_text(suffix)
            .push(") + 1) = ")
            .text(suffix)
            .push(")");
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.as_str()));
        for value in &self.values {
            query = match value {
                Value::Text(text) => query.bind(text.as_str()),
                Value::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// The SCIM columns read beside [`USER_COLUMNS`]; `meta.created` and `lastModified` are the
/// user's `created_ms` and `modified_ms`, which every API's writes keep (migration 8).
const SCIM_COLUMNS: &str = "email_key, scim_user_name, scim_external_id, scim_attributes, \
    created_ms, modified_ms";

/// A user row with its SCIM columns: the [`UserRecord`] (for writes) and the [`ScimUser`].
fn scim_from_row(row: &AnyRow) -> Result<(UserRecord, ScimUser)> {
    let record = record_from_row(row)?;
    let user_name: Option<String> = row.try_get("scim_user_name")?;
    let scim = ScimUser {
        user_name: user_name.unwrap_or_else(|| record.user.primary_email.clone()),
        external_id: row.try_get("scim_external_id")?,
        attributes: row.try_get("scim_attributes")?,
        created_ms: row.try_get("created_ms")?,
        modified_ms: row.try_get("modified_ms")?,
        user: record.user.clone(),
    };
    Ok((record, scim))
}

/// One page of a SCIM list.
#[derive(Debug, Clone, Default)]
pub struct ScimUserPage {
    pub users: Vec<ScimUser>,
    /// The key after which the next page starts, when more users match.
    pub next: Option<String>,
}

impl Store {
    /// Makes a token for the account and returns it with the token itself, which is shown
    /// only now: the store keeps its hash.
    pub async fn create_scim_token(&self, account_id: &str) -> Result<(ScimToken, String)> {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM accounts WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.writer)
                .await?;
        if exists.is_none() {
            return Err(StoreError::no_account(account_id));
        }
        let secret = format!("belfry-scim-{}", hex::encode(rand::random::<[u8; 32]>()));
        let token = ScimToken {
            token_id: format!("st-{}", uuid::Uuid::new_v4().simple()),
            account_id: account_id.to_string(),
            created_ms: now_millis(),
            revoked_ms: None,
        };
        sqlx::query(
            "INSERT INTO scim_tokens (token_id, account_id, token_hash, created_ms)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.token_id)
        .bind(&token.account_id)
        .bind(scim_token_hash(&secret))
        .bind(token.created_ms)
        .execute(&self.writer)
        .await?;
        Ok((token, secret))
    }

    /// Every token (of one account, if named), oldest first.
    pub async fn scim_tokens(&self, account_id: Option<&str>) -> Result<Vec<ScimToken>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT token_id, account_id, created_ms, revoked_ms FROM scim_tokens
             WHERE $1 = '' OR account_id = $1 ORDER BY created_ms, token_id",
        )
        .bind(account_id.unwrap_or(""))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(token_id, account_id, created_ms, revoked_ms)| ScimToken {
                token_id,
                account_id,
                created_ms,
                revoked_ms,
            })
            .collect())
    }

    /// Revokes a token; returns whether there was one of this id not yet revoked.
    pub async fn revoke_scim_token(&self, token_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scim_tokens SET revoked_ms = $1 WHERE token_id = $2 AND revoked_ms IS NULL",
        )
        .bind(now_millis())
        .bind(token_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The account a presented token is bound to, with the account's owner: `None` for a token
    /// that is unknown, revoked, or whose account is gone. Looked up by the token's hash.
    pub async fn scim_token_account(&self, token: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .scim_token_grant(token)
            .await?
            .map(|(_, account_id, owner)| (account_id, owner)))
    }

    /// [`Store::scim_token_account`] with the token's id first (what SCIM is throttled by).
    pub async fn scim_token_grant(&self, token: &str) -> Result<Option<(String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT t.token_id, t.account_id, a.aws_account_id FROM scim_tokens t
             JOIN accounts a ON a.account_id = t.account_id
             WHERE t.token_hash = $1 AND t.revoked_ms IS NULL",
        )
        .bind(scim_token_hash(token))
        .fetch_optional(&self.reads)
        .await?)
    }

    /// One user with its SCIM attributes.
    pub async fn scim_user(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
    ) -> Result<ScimUser> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, {SCIM_COLUMNS} FROM users
             WHERE account_id = $1 AND user_id = $2"
        );
        Self::check_owner(&self.reads, owner, account_id).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(user_id)
            .fetch_optional(&self.reads)
            .await?;
        match row {
            Some(row) => Ok(scim_from_row(&row)?.1),
            None => Err(StoreError::no_user(account_id, user_id)),
        }
    }

    /// A page of the account's users matching `condition`, in ListUsers order, after the key
    /// `after`: a range of the `(account_id, email_key)` index, as ListUsers reads it.
    pub async fn scim_users_page(
        &self,
        owner: &str,
        account_id: &str,
        condition: &ScimCondition,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ScimUserPage> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let mut statement = Statement::new(self.backend);
        statement
            .push(&format!(
                "SELECT {USER_COLUMNS}, {SCIM_COLUMNS} FROM users WHERE account_id = "
            ))
            .text(account_id)
            .push(" AND email_key > ")
            .text(after.unwrap_or(""))
            .push(" AND ");
        statement.condition(condition);
        statement
            .push(" ORDER BY email_key LIMIT ")
            .bind(Value::Int(limit as i64 + 1));
        let rows = statement.query().fetch_all(&self.reads).await?;
        let mut users = Vec::with_capacity(rows.len().min(limit));
        let mut keys = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter() {
            keys.push(row.try_get::<String, _>("email_key")?);
            users.push(scim_from_row(row)?.1);
        }
        let next = super::page_end(&mut keys, limit, String::clone);
        users.truncate(limit);
        Ok(ScimUserPage { users, next })
    }

    /// How many of the account's users match `condition`.
    pub async fn scim_count_users(
        &self,
        owner: &str,
        account_id: &str,
        condition: &ScimCondition,
    ) -> Result<i64> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let mut statement = Statement::new(self.backend);
        statement
            .push("SELECT COUNT(*) AS n FROM users WHERE account_id = ")
            .text(account_id)
            .push(" AND ");
        statement.condition(condition);
        let row = statement.query().fetch_one(&self.reads).await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// The key of the `skip`th (1-based) user matching `condition`, in list order: where a
    /// page at SCIM's `startIndex` = `skip + 1` starts after, when no earlier page said.
    /// This is the one OFFSET of Belfry: it reads `skip` index entries (a walk that goes on
    /// from the page before never comes here; see `scim::paging`). `None` past the last user.
    pub async fn scim_position(
        &self,
        owner: &str,
        account_id: &str,
        condition: &ScimCondition,
        skip: u64,
    ) -> Result<Option<String>> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let mut statement = Statement::new(self.backend);
        statement
            .push("SELECT email_key FROM users WHERE account_id = ")
            .text(account_id)
            .push(" AND ");
        statement.condition(condition);
        statement
            .push(" ORDER BY email_key LIMIT 1 OFFSET ")
            .bind(Value::Int(
                skip.saturating_sub(1).min(i64::MAX as u64) as i64
            ));
        let row = statement.query().fetch_optional(&self.reads).await?;
        row.map(|row| row.try_get::<String, _>("email_key"))
            .transpose()
            .map_err(StoreError::from)
    }

    /// Creates a user as SCIM describes it: `Unregistered` (or `Suspended`, remembering
    /// `Unregistered`, when not active), with the account's default license unless one is
    /// given. A `userName` or email already in the account is a conflict.
    pub async fn scim_create_user(
        &self,
        owner: &str,
        account_id: &str,
        write: &ScimUserWrite,
    ) -> Result<ScimUser> {
        let mut tx = self.begin_write().await?;
        let license = self.lock_account(&mut tx, owner, account_id).await?;
        let user_id = uuid::Uuid::new_v4().to_string();
        check_user_name_free(&mut tx, account_id, &write.user_name, &user_id).await?;
        let mut record = UserRecord {
            user: User {
                user_id: user_id.clone(),
                account_id: account_id.to_string(),
                primary_email: String::new(),
                primary_provisioned_number: None,
                display_name: None,
                license_type: license,
                user_type: UserType::PrivateUser,
                registration_status: RegistrationStatus::Unregistered,
                invitation_status: None,
                registered_on_ms: None,
                invited_on_ms: None,
                alexa: None,
                personal_pin: super::generate_pin(),
            },
            pre_suspend: None,
        };
        apply_write(&mut record, write);
        let user = &record.user;
        super::users::write_user_rows(
            &mut tx,
            self.backend,
            &[(user, record.pre_suspend)],
            super::users::insert_rows_statement,
        )
        .await
        .map_err(|e| e.duplicate_is(Conflict::Email))?;
        let now = now_millis();
        save_scim_columns(&mut tx, user_id.as_str(), write, Some(now), now).await?;
        tx.commit().await?;
        Ok(ScimUser {
            user: record.user,
            user_name: write.user_name.clone(),
            external_id: write.external_id.clone(),
            attributes: Some(write.attributes.clone()),
            created_ms: Some(now),
            modified_ms: Some(now),
        })
    }

    /// Replaces a user with what `change` makes of it (PUT, or a PATCH applied to it), in one
    /// write transaction: `change` sees the user as it is and may refuse (a failed
    /// `If-Match`, an invalid value) with its own error.
    pub async fn scim_replace_user<E: From<StoreError>>(
        &self,
        owner: &str,
        account_id: &str,
        user_id: &str,
        change: impl FnOnce(&ScimUser) -> std::result::Result<ScimUserWrite, E>,
    ) -> std::result::Result<ScimUser, E> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        let sql = format!(
            "SELECT {USER_COLUMNS}, {SCIM_COLUMNS} FROM users
             WHERE account_id = $1 AND user_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| StoreError::no_user(account_id, user_id))?;
        let (mut record, current) = scim_from_row(&row)?;
        let write = change(&current)?;
        check_user_name_free(&mut tx, account_id, &write.user_name, user_id).await?;
        apply_write(&mut record, &write);
        let user = &record.user;
        sqlx::query(
            "UPDATE users SET email_key = $1, primary_email = $2, display_name = $3,
                license_type = $4, user_type = $5, registration_status = $6,
                pre_suspend_status = $7, doc = $8
             WHERE user_id = $9",
        )
        .bind(email_key(&user.primary_email))
        .bind(&user.primary_email)
        .bind(user.display_name.as_deref())
        .bind(user.license_type.as_str())
        .bind(user.user_type.as_str())
        .bind(user.registration_status.as_str())
        .bind(record.pre_suspend.map(RegistrationStatus::as_str))
        .bind(user.to_json_text())
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from(e).duplicate_is(Conflict::Email))?;
        let now = now_millis();
        let created = current.created_ms.unwrap_or(now);
        save_scim_columns(&mut tx, user_id, &write, Some(created), now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(ScimUser {
            user: record.user,
            user_name: write.user_name,
            external_id: write.external_id,
            attributes: Some(write.attributes),
            created_ms: Some(created),
            modified_ms: Some(now),
        })
    }
}

impl Store {
    /// The SCIM `externalId` of a room of the account (a SCIM Group).
    pub async fn scim_room_external_id(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
    ) -> Result<Option<String>> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT scim_external_id FROM rooms WHERE account_id = $1 AND room_id = $2",
        )
        .bind(account_id)
        .bind(room_id)
        .fetch_optional(&self.reads)
        .await?;
        match row {
            Some((external_id,)) => Ok(external_id),
            None => Err(StoreError::no_room(account_id, room_id)),
        }
    }

    /// The SCIM `externalId`s of the account's rooms that have one, by RoomId.
    pub async fn scim_room_external_ids(
        &self,
        owner: &str,
        account_id: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        Self::check_owner(&self.reads, owner, account_id).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT room_id, scim_external_id FROM rooms
             WHERE account_id = $1 AND scim_external_id IS NOT NULL",
        )
        .bind(account_id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// What a SCIM PUT or PATCH changes in a group (a room): all of it is written in one
/// transaction, or none of it.
#[derive(Debug, Default)]
pub struct ScimGroupChange {
    /// The room's new name, if it changes.
    pub name: Option<String>,
    /// The group's new externalId (`Some(None)` clears it), if it changes.
    pub external_id: Option<Option<String>>,
    /// Users to make members (one already a member is left as it is).
    pub add: Vec<String>,
    /// Members to remove (one not a member is left out).
    pub remove: Vec<String>,
}

impl Store {
    /// Applies `change` to the room in one write transaction: a member that is no user of the
    /// account (a bot, an unknown id) is [`Missing::Member`](super::Missing::Member), and
    /// nothing of the change is kept.
    pub async fn scim_update_group(
        &self,
        owner: &str,
        account_id: &str,
        room_id: &str,
        change: &ScimGroupChange,
        invited_by: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.lock_account(&mut tx, owner, account_id).await?;
        Self::room_in_tx(&mut tx, account_id, room_id).await?;
        let now = now_millis();
        if let Some(name) = &change.name {
            sqlx::query("UPDATE rooms SET name = $1, updated_ms = $2 WHERE room_id = $3")
                .bind(name)
                .bind(now)
                .bind(room_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(external_id) = &change.external_id {
            sqlx::query("UPDATE rooms SET scim_external_id = $1 WHERE room_id = $2")
                .bind(external_id.as_deref())
                .bind(room_id)
                .execute(&mut *tx)
                .await?;
        }
        let not_a_user = |member_id: &str| {
            StoreError::NotFound(super::Missing::Member {
                account_id: account_id.to_string(),
                member_id: member_id.to_string(),
            })
        };
        let mut members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM room_memberships WHERE room_id = $1")
                .bind(room_id)
                .fetch_one(&mut *tx)
                .await?;
        for member_id in &change.add {
            let item = super::NewMembership {
                member_id: member_id.clone(),
                role: None,
            };
            match self
                .add_member(&mut tx, account_id, room_id, &item, invited_by, members)
                .await
            {
                Ok(added) if added.member.member_type == MemberType::User => members += 1,
                // A bot is no SCIM member: the transaction is dropped, the insert undone.
                Ok(_) | Err(StoreError::Rejected(super::Rejection::BotWithoutEndpoint { .. })) => {
                    return Err(not_a_user(member_id));
                }
                Err(StoreError::Conflict(Conflict::Membership)) => {}
                Err(e) => return Err(e),
            }
        }
        for member_id in &change.remove {
            sqlx::query("DELETE FROM room_memberships WHERE room_id = $1 AND member_id = $2")
                .bind(room_id)
                .bind(member_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Applies the Chime side of a SCIM write to a user record.
fn apply_write(record: &mut UserRecord, write: &ScimUserWrite) {
    let user = &mut record.user;
    user.primary_email = match &write.primary_email {
        Some(email) => email.clone(),
        None => format!("{}@{NO_EMAIL_DOMAIN}", user.user_id),
    };
    user.display_name = write.display_name.clone();
    if let Some(license) = write.license_type {
        user.license_type = license;
    }
    if let Some(kind) = write.user_type {
        user.user_type = kind;
    }
    set_record_suspended(record, !write.active);
}

/// Fails with [`Conflict::UserName`] when another user of the account has `user_name`'s key.
async fn check_user_name_free(
    tx: &mut Tx,
    account_id: &str,
    user_name: &str,
    user_id: &str,
) -> Result<()> {
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM users
         WHERE account_id = $1 AND COALESCE(scim_user_name_key, email_key) = $2
           AND user_id <> $3",
    )
    .bind(account_id)
    .bind(email_key(user_name))
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    match taken {
        Some(_) => Err(StoreError::Conflict(Conflict::UserName)),
        None => Ok(()),
    }
}

/// Writes the SCIM columns of a user.
async fn save_scim_columns(
    tx: &mut Tx,
    user_id: &str,
    write: &ScimUserWrite,
    created_ms: Option<i64>,
    modified_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET scim_user_name = $1, scim_user_name_key = $2, scim_external_id = $3,
            scim_attributes = $4, scim_created_ms = $5, scim_modified_ms = $6,
            created_ms = COALESCE(created_ms, $5), modified_ms = $6
         WHERE user_id = $7",
    )
    .bind(&write.user_name)
    .bind(email_key(&write.user_name))
    .bind(write.external_id.as_deref())
    .bind(&write.attributes)
    .bind(created_ms)
    .bind(modified_ms)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filter values are bound, never spliced into the statement, and each placeholder gets
    /// its value in order.
    #[test]
    fn conditions_bind_every_value_in_order() {
        let condition = ScimCondition::Or(vec![
            ScimCondition::Compare(ScimAttr::UserName, ScimOp::Eq, "Bob'; --".into()),
            ScimCondition::Not(Box::new(ScimCondition::Compare(
                ScimAttr::ExternalId,
                ScimOp::Ew,
                "x".into(),
            ))),
        ]);
        let mut statement = Statement::new(Backend::Postgres);
        statement.condition(&condition);
        assert!(!statement.sql.contains("Bob"));
        assert_eq!(statement.values.len(), 4);
        assert!(statement.sql.contains("$1") && statement.sql.contains("$4"));
        match &statement.values[0] {
            Value::Text(text) => assert_eq!(text, "bob'; --"),
            Value::Int(_) => panic!("a text value"),
        }
    }
}
