//! The hot reads of the embedded SQLite store, done in the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every result row
//! across a channel to the async task: on a page of 100 users, thread hand-offs cost several
//! times what SQLite itself spends stepping the rows (measured: most of a ListUsers request's
//! CPU time was context switches). The reads that clients call in loops (ListUsers, GetUser)
//! therefore go through plain SQLite connections of their own, run where the request runs.
//!
//! They execute the very statements the sqlx path executes (numbered parameters bound by
//! name), on the same database file. Each statement is its own read transaction in WAL mode,
//! so it sees every write committed before it began: a write acknowledged to a client is
//! visible to the next read. Writes never come this way.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use super::{Result, StoreError};

/// A value bound to a numbered parameter (`$1`, `$2`, ...).
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Bind::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Bind::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        })
    }
}

/// How many idle read connections are kept.
const MAX_IDLE: usize = 4;

/// Each read connection's page cache, in KiB. SQLite's default (2 MiB) held too little of a
/// large account: a walk through its pages went to the kernel for most rows (measured in
/// bench/: a `user-type` walk spent ~30 % of its time in `pread`). 32 MiB for each of at most
/// [`MAX_IDLE`] connections keeps the server's memory bounded.
const CACHE_KIB: i64 = 32 * 1024;

/// Read connections to one SQLite file.
pub struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// The connection that answers [`Reader::data_version`]: always the same one, since each
    /// connection counts versions of its own.
    watch: Mutex<Option<Connection>>,
}

impl Reader {
    pub fn new(path: PathBuf) -> Reader {
        Reader {
            path,
            idle: Mutex::new(Vec::new()),
            watch: Mutex::new(None),
        }
    }

    /// The database's version as this process sees it: a number that changes whenever any
    /// connection (of this process or another) has committed a write since the last call.
    ///
    /// This is SQLite's `PRAGMA data_version` on a connection that never writes. It opens a
    /// read transaction, which in WAL mode checks the shared WAL index for new commits: a few
    /// atomic loads, no system call.
    pub fn data_version(&self) -> Result<i64> {
        let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        if watch.is_none() {
            *watch = Some(self.open().map_err(StoreError::from)?);
        }
        let conn = watch.as_ref().expect("opened above");
        let version = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)));
        if version.is_err() {
            // Reopen next time rather than keep a connection in an unknown state.
            *watch = None;
        }
        version.map_err(StoreError::from)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(2))?;
        // This connection only reads, whatever a bug might ask of it.
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    /// Runs `f` on an idle connection (opening one if none is idle).
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.idle.lock().expect("read connections").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(StoreError::from)?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().expect("read connections");
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        out.map_err(StoreError::from)
    }

    /// Runs `sql` with `binds` (`$1` is `binds[0]`, ...) and calls `row` on each row's first
    /// two text columns, borrowed, without copying them.
    pub fn for_each_row(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        mut row: impl FnMut(&str, &str),
    ) -> Result<()> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            for (i, bind) in binds.iter().enumerate() {
                if let Some(index) = statement.parameter_index(&format!("${}", i + 1))? {
                    statement.raw_bind_parameter(index, bind)?;
                }
            }
            let mut rows = statement.raw_query();
            while let Some(r) = rows.next()? {
                let first = r.get_ref(0)?.as_str()?;
                let second = r.get_ref(1)?.as_str()?;
                row(first, second);
            }
            Ok(())
        })
    }
}
