//! The store: accounts, users, rooms, bots, the phone-number inventory and its orders,
//! settings, meetings, access keys and the page-token secret, in SQL.
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
mod bots;
mod error;
mod import;
mod keys;
mod meetings;
pub mod migrations;
mod page_cache;
mod phone_numbers;
mod reader;
mod rooms;
mod scim;
mod sessions;
mod settings;
mod user_table;
mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use accounts::{Account, AccountFilter, AccountPage, AccountSettings};
pub use bots::{Bot, BotPage, DEFAULT_BOT_DOMAIN, EventsConfiguration};
pub use error::{Conflict, Limit, Missing, Rejection, StoreError};
pub use import::{Import, ImportOutcome, ImportUser};
pub use keys::AccessKey;
pub use meetings::{DialOut, Meeting};
pub use page_cache::ListKey;
pub use phone_numbers::{
    Association, DELETION_QUEUE_MS, NumberChange, NumberFilter, OrderLine, OrderPage,
    OrderedNumber, PhoneNumber, PhoneNumberOrder, PhoneNumberPage,
};
pub use rooms::{
    BotHook, Conversation, Discussion, Limits, Member, MembershipPage, Message, NewMembership,
    PostedMessage, RestoredMembership, Room, RoomMembership, RoomPage,
};
pub use scim::{
    NO_EMAIL_DOMAIN, ScimAttr, ScimCondition, ScimGroupChange, ScimOp, ScimToken, ScimUser,
    ScimUserPage, ScimUserWrite, scim_token_hash,
};
pub use settings::{
    BucketChange, CALLING_NAME_PERIOD_MS, GlobalSettings, PhoneNumberSettings, RETENTION_GRACE_MS,
    RetentionSettings,
};
pub use user_table::{TablePosition, UserRow, UserTableFilter, UserTablePage};
pub use users::{
    AlexaForBusinessMetadata, Invite, NewUser, Telephony, User, UserChange, UserFilter, UserPage,
    generate_pin,
};

/// Which SQL engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
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

    /// A condition on `column` matching the keys that [`keys_param`] packed into the bound
    /// parameter `param`: a batch's keys are looked up in one query.
    fn key_in(self, column: &str, param: &str) -> String {
        format!(
            "{column} IN (SELECT value ->> 'k' FROM {})",
            self.json_rows(param)
        )
    }

    /// [`Backend::key_in`] on users' `email_key`.
    fn email_key_in(self, param: &str) -> String {
        self.key_in("email_key", param)
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

    /// The statement that opens a write transaction. SQLite must take its write lock up
    /// front (`IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY` instead of waiting when another writer got there first.
    fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}

/// Keys (email keys, account ids) as the one parameter that [`Backend::key_in`] reads.
fn keys_param<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let keys: Vec<serde_json::Value> = keys
        .into_iter()
        .map(|k| serde_json::json!({ "k": k }))
        .collect();
    serde_json::Value::Array(keys).to_string()
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The last step of a keyset page: `items` were read with `LIMIT limit + 1`, so one more than
/// `limit` means another page follows. Keeps the first `limit` items and returns the key of the
/// last one kept (where the next page starts after), or `None` on the last page.
fn page_end<T, K>(items: &mut Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> Option<K> {
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    }
}

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
///
/// Reads and writes go through pools of their own, and only the writer can write: every
/// connection of `reads` is read-only in the database itself (SQLite's `query_only`,
/// PostgreSQL's read-only session), so a write sent the wrong way fails at once instead of
/// slipping past the writer's queue. (The in-memory store is one connection, both at once.)
#[derive(Clone)]
pub struct Store {
    reads: AnyPool,
    /// Where every write runs. On SQLite a pool of one connection: SQLite admits one writer at
    /// a time, and writers queued here are served in arrival order, where writers competing
    /// for the file's lock sleep in SQLite's busy handler and are served in no order
    /// (InviteUsers at 64 connections: p99 1.4-3.2 s through the busy handler, 0.35-0.40 s
    /// queued; `bench/README.md`). On PostgreSQL as many connections as `reads`.
    writer: AnyPool,
    backend: Backend,
    token_secret: [u8; 32],
    /// Plain connections for the hot reads of an embedded SQLite file (see [`reader`]).
    reader: Option<Arc<reader::Reader>>,
    /// Recently served ListUsers pages, where the database has a version to check them
    /// against (the embedded SQLite file; see [`page_cache`]).
    pages: Option<Arc<users::UserPageCache>>,
    /// Recently served pages of the other lists (rooms, memberships, bots), rendered, kept
    /// exact the same way ([`Store::cached_page`]).
    lists: Option<Arc<page_cache::ListPageCache>>,
    /// The service's quotas on rooms, memberships, bots and orders.
    limits: Limits,
    /// How long the simulated carrier takes to process a phone number order (0: done by the
    /// next call that reads it).
    order_processing_ms: i64,
}

/// How much page text the ListUsers cache of an embedded store keeps: some 1,400 pages of
/// 100 users.
pub const PAGE_CACHE_BYTES: usize = 64 << 20;

/// How much the cache of the other lists' pages keeps: some 800 pages of 99 rooms.
pub const LIST_CACHE_BYTES: usize = 16 << 20;

/// The name of the SQLite file inside the data directory.
pub const DB_FILE: &str = "belfry.db";

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

/// Whether a pool's connections may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadOnly,
    ReadWrite,
}

/// The options of one of the store's pools: `max` connections, each set up for the backend.
fn pool_options(
    backend: Backend,
    location: &Location,
    access: Access,
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
    let setup = match (backend, access) {
        (Backend::Sqlite, Access::ReadWrite) => {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY;"
        }
        (Backend::Sqlite, Access::ReadOnly) => {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA query_only = ON;"
        }
        (Backend::Postgres, Access::ReadOnly) => {
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
        }
        (Backend::Postgres, Access::ReadWrite) => return options,
    };
    options.after_connect(move |conn, _meta| {
        Box::pin(async move {
            conn.execute(setup).await?;
            Ok(())
        })
    })
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
        let max = settings.max_connections;
        let timeout = settings.acquire_timeout;
        let (reads, writer) = if let Location::Memory = location {
            // The in-memory database is the one connection its pool holds.
            let pool = pool_options(backend, location, Access::ReadWrite, 1, timeout)
                .connect_with(options)
                .await?;
            (pool.clone(), pool)
        } else {
            let writers = match backend {
                Backend::Sqlite => 1,
                Backend::Postgres => max,
            };
            let writer = pool_options(backend, location, Access::ReadWrite, writers, timeout)
                .connect_with(options.clone())
                .await?;
            let reads = pool_options(backend, location, Access::ReadOnly, max, timeout)
                .connect_with(options)
                .await?;
            (reads, writer)
        };
        let reader = match location {
            Location::Dir(dir) => Some(Arc::new(reader::Reader::new(
                dir.canonicalize()
                    .map_err(|e| StoreError::Internal(format!("data directory: {e}")))?
                    .join(DB_FILE),
            ))),
            _ => None,
        };
        let pages = reader
            .as_ref()
            .map(|_| Arc::new(page_cache::PageCache::new(PAGE_CACHE_BYTES)));
        let lists = reader
            .as_ref()
            .map(|_| Arc::new(page_cache::PageCache::new(LIST_CACHE_BYTES)));
        let mut store = Store {
            reads,
            writer,
            backend,
            token_secret: [0; 32],
            reader,
            pages,
            lists,
            limits: Limits::default(),
            order_processing_ms: 0,
        };
        store.migrate().await?;
        store.token_secret = store.load_token_secret().await?;
        Ok(store)
    }

    /// The same store with other quotas on rooms, memberships and bots (tests that reach a
    /// limit set a low one).
    pub fn with_limits(mut self, limits: Limits) -> Store {
        self.limits = limits;
        self
    }

    /// The page of a list under `key`: as `render` made it for an earlier request, if the
    /// database has not changed since (any commit, by any connection or process, changes its
    /// version; see [`page_cache`]), else made by `render` now and kept for the next one.
    ///
    /// For the lists other than ListUsers, whose rows are read into typed values and rendered:
    /// a page asked for again (a dashboard, a sync job's first page) costs a lookup instead of
    /// its statements and its rendering. `key` must hold everything that decides the page,
    /// the caller's AWS account included: a page found under it is served without asking the
    /// database again, tenancy checks included. Only pages that `render` made without error
    /// are kept. On PostgreSQL and in memory there is no version to check, and every page is
    /// rendered.
    pub async fn cached_page<E: From<StoreError>>(
        &self,
        key: ListKey,
        render: impl Future<Output = std::result::Result<Bytes, E>>,
    ) -> std::result::Result<Bytes, E> {
        let (Some(lists), Some(reader)) = (&self.lists, &self.reader) else {
            return render.await;
        };
        let version = reader.data_version()?;
        if let Some(page) = lists.get(version, &key) {
            return Ok(Bytes::clone(&page));
        }
        let page = render.await?;
        lists.put(version, key, Arc::new(page.clone()));
        Ok(page)
    }

    /// The same store with a carrier that takes `duration` to process a phone number order.
    pub fn with_order_processing(mut self, duration: Duration) -> Store {
        self.order_processing_ms = duration.as_millis().min(i64::MAX as u128) as i64;
        self
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
        self.reads.close().await;
        self.writer.close().await;
    }

    /// The read pool's current usage.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.reads.size(),
            idle: self.reads.num_idle() as u32,
            max: self.reads.options().get_max_connections(),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    /// Deletes every account with all it holds (users, phone numbers, rooms, bots,
    /// conversations, messages, retention settings, sign-in delegate groups), every AWS
    /// account's settings, and the registered meetings with their dial-outs, in one
    /// transaction. Access keys and the page-token secret stay, so callers keep their
    /// credentials.
    pub async fn wipe(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for table in [
            "meeting_dial_outs",
            "meetings",
            "aws_settings",
            "retention_settings",
            "signin_delegate_groups",
            "messages",
            "phone_number_order_numbers",
            "phone_number_orders",
            "conversation_members",
            "conversations",
            "room_memberships",
            "rooms",
            "bots",
            "phone_numbers",
            "users",
            "accounts",
        ] {
            tx.execute(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<Tx> {
        Ok(self.writer.begin_with(self.backend.begin_write()).await?)
    }

    /// Applies every migration the store lacks ([`migrations`]) and makes the page-token
    /// secret if the store has none, in one write transaction.
    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        migrations::migrate(&mut tx, self.backend).await?;
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
                .fetch_one(&self.reads)
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
                .fetch_optional(&self.reads)
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
        .execute(&self.writer)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that a write through the read pool fails and the same write through the writer
    /// succeeds.
    async fn only_the_writer_writes(store: &Store) {
        let write = "INSERT INTO belfry_meta (name, value) VALUES ('probe', 'x')";
        let refused = store.reads.execute(write).await;
        assert!(refused.is_err(), "a write went through the read pool");
        store
            .writer
            .execute(write)
            .await
            .expect("the writer writes");
        assert_eq!(store.meta("probe").await.unwrap().as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn the_read_pool_of_an_sqlite_store_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::Dir(dir.path().join("data")))
            .await
            .unwrap();
        only_the_writer_writes(&store).await;
        store.close().await;
    }

    /// On PostgreSQL when the run tests it (`BELFRY_TEST_BACKEND=postgres`), in a database of
    /// its own.
    #[tokio::test]
    async fn the_read_pool_of_a_postgres_store_cannot_write() {
        if std::env::var("BELFRY_TEST_BACKEND").map_or(true, |b| b != "postgres") {
            return;
        }
        let base = std::env::var("BELFRY_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let name = format!("belfry_unit_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
                .await
                .expect("PostgreSQL is required by this run");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let store = Store::open(&Location::Url(format!("{base}/{name}")))
            .await
            .unwrap();
        only_the_writer_writes(&store).await;
        store.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {name} WITH (FORCE)"
            )))
            .await
            .unwrap();
    }
}
