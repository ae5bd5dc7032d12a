//! The store: accounts, users, access keys and the page-token secret, in SQL.
//!
//! The store knows nothing of HTTP. Callers pass the caller's AWS account id (the *owner*) into
//! every call, and the store answers "not found" for an account owned by anyone else, exactly as
//! for one that does not exist: tenancy is enforced where the data is.
//!
//! One SQL code path serves SQLite (the embedded default) and PostgreSQL through sqlx's `Any`
//! driver: statements use `$N` placeholders, `BIGINT`/`TEXT` columns and `ON CONFLICT`, which
//! both dialects share. Where they differ the difference is named in [`Backend`].
//!
//! Every user row keeps, beside its typed columns, `doc`: the `User` structure already rendered as
//! JSON. Listing users is then a keyset range scan whose rows are concatenated as they are.

mod accounts;
mod import;
mod keys;
mod page_cache;
mod reader;
mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use accounts::{AccountFilter, AccountPage, AccountSettings};
pub use import::{Import, ImportOutcome, ImportUser};
pub use keys::AccessKey;
pub use users::{Invite, NewUser, Telephony, UserChange, UserFilter, UserPage, generate_pin};

/// Which SQL engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The statement that opens a write transaction. SQLite must take its write lock up
    /// front (`IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY` instead of waiting when another writer got there first.
    /// The collation under which keys sort by their bytes (the order ListUsers and
    /// ListAccounts page in). SQLite's default `BINARY` already does; PostgreSQL's default
    /// follows the database locale, so key columns name `"C"` there.
    fn byte_order_collation(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " COLLATE \"C\"",
        }
    }

    /// A table of the JSON array bound as `param`, one row per element in a column `value`
    /// (which `value ->> 'key'` reads in both dialects): how a batch travels as one parameter.
    fn json_rows(self, param: &str) -> String {
        match self {
            Backend::Sqlite => format!("json_each({param})"),
            Backend::Postgres => format!("json_array_elements(CAST({param} AS json)) AS j(value)"),
        }
    }

    /// A condition on `email_key` matching the keys that [`email_keys_param`] packed into
    /// the bound parameter `param`: a batch's keys are looked up in one query.
    fn email_key_in(self, param: &str) -> String {
        format!(
            "email_key IN (SELECT value ->> 'k' FROM {})",
            self.json_rows(param)
        )
    }

    /// Appends the `n`th (1-based) bound parameter of a generated statement. PostgreSQL numbers
    /// them (`$n`); SQLite gets anonymous `?`, bound in order, because looking up a numbered
    /// parameter's name is linear in the number of parameters: a statement of thousands of
    /// `$n` costs quadratic time to bind.
    fn push_placeholder(self, sql: &mut String, n: usize) {
        match self {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }

    fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}

/// Email keys as the one parameter that [`Backend::email_key_in`] reads.
fn email_keys_param<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let keys: Vec<serde_json::Value> = keys
        .into_iter()
        .map(|k| serde_json::json!({ "k": k }))
        .collect();
    serde_json::Value::Array(keys).to_string()
}

/// What can go wrong in the store, in the terms the API needs to answer.
#[derive(Debug)]
pub enum StoreError {
    /// The account does not exist, or belongs to another owner.
    AccountNotFound,
    /// The user does not exist in that account.
    UserNotFound,
    /// The email address is already used by a user of the account.
    EmailTaken,
    /// The phone number is held by another user.
    NumberTaken,
    /// The account cannot be deleted while this many of its users are not suspended.
    UsersNotSuspended(i64),
    /// The database cannot be reached or is too busy: the client may retry.
    Unavailable(String),
    /// A strict import refused the record of this line, for this reason.
    Refused(u64, String),
    /// Anything else: a bug or a corrupt database.
    Internal(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::AccountNotFound => write!(f, "account not found"),
            StoreError::UserNotFound => write!(f, "user not found"),
            StoreError::EmailTaken => write!(f, "email already in use"),
            StoreError::NumberTaken => write!(f, "phone number already in use"),
            StoreError::UsersNotSuspended(n) => write!(f, "{n} users are not suspended"),
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
                    // The unique keys a request can collide on: a user's email within its
                    // account (`users.email_key`), a phone number within an AWS account.
                    let message = db.message();
                    if message.contains("phone_numbers") {
                        StoreError::NumberTaken
                    } else if message.contains("email_key") {
                        StoreError::EmailTaken
                    } else {
                        StoreError::Internal(e.to_string())
                    }
                } else {
                    StoreError::Internal(e.to_string())
                }
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A transaction on the store's pool.
type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// An embedded SQLite database in this directory (created owner-only if missing).
    Dir(PathBuf),
    /// A database URL: `postgres://...` or `sqlite://...`.
    Url(String),
    /// An SQLite database in memory only, gone when the store closes (`--data :memory:`).
    Memory,
}

impl Location {
    /// `--data DIR` as given: `:memory:` names the in-memory store.
    pub fn data(dir: PathBuf) -> Location {
        if dir.as_os_str() == ":memory:" {
            Location::Memory
        } else {
            Location::Dir(dir)
        }
    }
}

/// The store handle: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run. On SQLite a pool of one connection of its own: SQLite
    /// admits one writer at a time, and writers queued here are served in arrival order,
    /// where writers competing for the file's lock sleep in SQLite's busy handler and are
    /// served in no order (InviteUsers at 64 connections: p99 1.4-3.2 s through the busy
    /// handler, 0.35-0.40 s queued; `bench/README.md`). On PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
    token_secret: [u8; 32],
    /// Plain connections for the hot reads of an embedded SQLite file (see [`reader`]).
    reader: Option<std::sync::Arc<reader::Reader>>,
    /// Recently served ListUsers pages, where the database has a version to check them
    /// against (the embedded SQLite file; see [`page_cache`]).
    pages: Option<std::sync::Arc<page_cache::PageCache>>,
}

/// How much page text the ListUsers cache of an embedded store keeps: some 1,400 pages of
/// 100 users.
pub const PAGE_CACHE_BYTES: usize = 64 << 20;

/// The name of the SQLite file inside the data directory.
pub const DB_FILE: &str = "belfry.db";

/// The schema, one statement per entry. Both dialects accept each statement as written, once
/// `{C}` is replaced by [`Backend::byte_order_collation`].
const SCHEMA_V1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS access_keys (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        aws_account_id TEXT NOT NULL,
        read_only BIGINT NOT NULL,
        created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS accounts (
        account_id TEXT{C} PRIMARY KEY,
        aws_account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        account_type TEXT NOT NULL,
        default_license TEXT NOT NULL,
        supported_licenses TEXT NOT NULL,
        account_status TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        disable_remote_control BIGINT NOT NULL DEFAULT 0,
        enable_dial_out BIGINT NOT NULL DEFAULT 1)",
    "CREATE INDEX IF NOT EXISTS accounts_by_owner
        ON accounts (aws_account_id, created_ms, account_id)",
    "CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY,
        account_id TEXT{C} NOT NULL REFERENCES accounts (account_id),
        email_key TEXT{C} NOT NULL,
        primary_email TEXT NOT NULL,
        primary_provisioned_number TEXT,
        display_name TEXT,
        license_type TEXT NOT NULL,
        user_type TEXT NOT NULL,
        registration_status TEXT NOT NULL,
        invitation_status TEXT,
        registered_on_ms BIGINT,
        invited_on_ms BIGINT,
        alexa_enabled BIGINT,
        alexa_room_arn TEXT,
        personal_pin TEXT NOT NULL,
        pre_suspend_status TEXT,
        inbound_calling BIGINT NOT NULL DEFAULT 1,
        outbound_calling BIGINT NOT NULL DEFAULT 1,
        sms BIGINT NOT NULL DEFAULT 1,
        doc TEXT NOT NULL,
        UNIQUE (account_id, email_key))",
    "CREATE INDEX IF NOT EXISTS users_by_type ON users (account_id, user_type, email_key)",
    // A phone number is held by at most one user of an AWS account.
    "CREATE TABLE IF NOT EXISTS phone_numbers (
        aws_account_id TEXT NOT NULL,
        e164 TEXT NOT NULL,
        user_id TEXT NOT NULL UNIQUE,
        PRIMARY KEY (aws_account_id, e164))",
];

/// How many connections the pool holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, idle or in use.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Connection pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The options of one of the store's pools: `max` connections, each set up for the backend.
fn pool_options(
    backend: Backend,
    location: &Location,
    max: u32,
    acquire_timeout: Duration,
) -> AnyPoolOptions {
    let mut options = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(acquire_timeout);
    if let Location::Memory = location {
        // Every connection to `:memory:` is a database of its own: the store is exactly
        // one connection, never closed while the pool lives.
        options = options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY;",
                )
                .await?;
                Ok(())
            })
        });
    }
    options
}

impl Store {
    /// Opens (creating if needed) the store with default pool settings and brings its schema
    /// up to date.
    pub async fn open(location: &Location) -> Result<Store> {
        Self::open_with(location, PoolSettings::default()).await
    }

    /// Opens the store with these pool settings.
    pub async fn open_with(location: &Location, settings: PoolSettings) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match location {
            Location::Dir(dir) => (prepare_sqlite_dir(dir)?, Backend::Sqlite),
            Location::Url(url)
                if url.starts_with("postgres:") || url.starts_with("postgresql:") =>
            {
                (url.clone(), Backend::Postgres)
            }
            Location::Url(url) if url.starts_with("sqlite:") => (url.clone(), Backend::Sqlite),
            Location::Memory => ("sqlite::memory:".to_string(), Backend::Sqlite),
            Location::Url(url) => {
                return Err(StoreError::Internal(format!(
                    "unsupported database URL scheme in {:?}; use postgres:// or sqlite://",
                    url.split(':').next().unwrap_or("")
                )));
            }
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = pool_options(
            backend,
            location,
            settings.max_connections,
            settings.acquire_timeout,
        )
        .connect_with(options.clone())
        .await?;
        let writer = match (backend, location) {
            // The in-memory database is the one connection the pool holds.
            (Backend::Postgres, _) | (_, Location::Memory) => pool.clone(),
            (Backend::Sqlite, _) => {
                pool_options(backend, location, 1, settings.acquire_timeout)
                    .connect_with(options)
                    .await?
            }
        };
        let reader = match location {
            Location::Dir(dir) => Some(std::sync::Arc::new(reader::Reader::new(
                dir.canonicalize()
                    .map_err(|e| StoreError::Internal(format!("data directory: {e}")))?
                    .join(DB_FILE),
            ))),
            _ => None,
        };
        let pages = reader
            .as_ref()
            .map(|_| std::sync::Arc::new(page_cache::PageCache::new(PAGE_CACHE_BYTES)));
        let mut store = Store {
            pool,
            writer,
            backend,
            token_secret: [0; 32],
            reader,
            pages,
        };
        store.migrate().await?;
        store.token_secret = store.load_token_secret().await?;
        Ok(store)
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The secret that signs page tokens: made once per store, kept in it, so that tokens
    /// stay valid across restarts and across replicas of one database.
    pub fn token_secret(&self) -> &[u8; 32] {
        &self.token_secret
    }

    /// Closes every connection; pending writes are already committed.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// The pool's current usage.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes every account, user and phone number, in one transaction. Access keys and the
    /// page-token secret stay, so callers keep their credentials.
    pub async fn wipe(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for table in ["phone_numbers", "users", "accounts"] {
            tx.execute(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Tx> {
        Ok(self.writer.begin_with(self.backend.begin_write()).await?)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Replicas starting together migrate one at a time: concurrent `CREATE TABLE IF
            // NOT EXISTS` collide in PostgreSQL's catalog. (SQLite's BEGIN IMMEDIATE already
            // excludes every other writer.)
            tx.execute("SELECT pg_advisory_xact_lock(4242018050100)")
                .await?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS belfry_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        )
        .await?;
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM belfry_meta WHERE name = 'schema_version'")
                .fetch_optional(&mut *tx)
                .await?;
        let version: i64 = version.and_then(|v| v.parse().ok()).unwrap_or(0);
        if version < 1 {
            for statement in SCHEMA_V1 {
                let statement = statement.replace("{C}", self.backend.byte_order_collation());
                tx.execute(sqlx::AssertSqlSafe(statement)).await?;
            }
            sqlx::query(
                "INSERT INTO belfry_meta (name, value) VALUES ('schema_version', '1')
                 ON CONFLICT (name) DO UPDATE SET value = '1'",
            )
            .execute(&mut *tx)
            .await?;
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        sqlx::query(
            "INSERT INTO belfry_meta (name, value) VALUES ('page_token_secret', $1)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(secret)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_token_secret(&self) -> Result<[u8; 32]> {
        let hex_secret: String =
            sqlx::query_scalar("SELECT value FROM belfry_meta WHERE name = 'page_token_secret'")
                .fetch_one(&self.pool)
                .await?;
        let bytes = hex::decode(hex_secret.trim())
            .map_err(|_| StoreError::Internal("page token secret is not hex".into()))?;
        bytes
            .try_into()
            .map_err(|_| StoreError::Internal("page token secret is not 32 bytes".into()))
    }

    /// Reads a value of the `belfry_meta` table.
    pub async fn meta(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM belfry_meta WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets a value of the `belfry_meta` table.
    pub async fn set_meta(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO belfry_meta (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Creates the data directory and database file owner-only, and returns the SQLite URL.
fn prepare_sqlite_dir(dir: &Path) -> Result<String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let io =
        |e: std::io::Error| StoreError::Internal(format!("data directory {}: {e}", dir.display()));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    let dir = dir.canonicalize().map_err(io)?;
    let file = dir.join(DB_FILE);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&file)
        .map_err(io)?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    let path = file
        .to_str()
        .ok_or_else(|| StoreError::Internal("data directory path is not UTF-8".into()))?;
    Ok(format!("sqlite://{path}?mode=rwc"))
}
