//! The embedded SQLite backend of berth's [`Store`]: what `berth server` keeps its state
//! in. A crate of its own so that only the binary (and tests that want durability)
//! compile SQLite; everything else talks to the trait.
//!
//! One connection, behind a mutex, serves reads and writes. Every call runs on tokio's
//! blocking pool (`spawn_blocking`): SQLite calls block — a commit with
//! `synchronous=FULL` waits for an fsync — and blocking a runtime worker thread would
//! stall every other task scheduled on it. `spawn_blocking` rather than a dedicated
//! writer thread because the mutex already serialises access and it keeps reads and
//! writes on one simple path; a writer thread would only pay off with group commit.
//!
//! Watches: every commit is fanned out on a tokio broadcast channel *while the
//! connection lock is still held*, so broadcast order is revision order and a watcher
//! that subscribes under the lock sees exactly the commits after the revision it read
//! there. See `watch.rs` for the history-then-live hand-over.

#![forbid(unsafe_code)]

mod db;
mod watch;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::{broadcast, mpsc};

use berth_store::{Event, KeyValue, Result, Revision, Store, StoreError, Txn, TxnResult};
use db::{Commit, db_err};

/// Tuning for [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How many of the most recent revisions the event history keeps for watches
    /// (minimum 1). A watch from an older revision fails with
    /// [`StoreError::Compacted`]. Default 10,000.
    pub history_revisions: i64,
    /// How many commits the live fan-out to watchers buffers. A watcher that falls
    /// further behind re-reads the history instead of losing events. Default 1,024.
    pub broadcast_capacity: usize,
    /// Capacity, in events, of the channel each [`Store::watch`] returns. Default 256.
    pub watch_channel_capacity: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { history_revisions: 10_000, broadcast_capacity: 1024, watch_channel_capacity: 256 }
    }
}

/// The SQLite-backed [`Store`]. Cheap to clone: clones share one database connection.
/// The database closes when the last clone is dropped; open watch streams then end.
///
/// Schema: `kv` (current key-values), `history` (the change events watches replay,
/// compacted to the newest [`SqliteOptions::history_revisions`] revisions) and `meta`
/// (the store revision and the compaction floor).
///
/// Notes on [`Store::watch`] for this backend:
/// - [`StoreError::Compacted`] carries `requested` = `after + 1`, the first revision
///   the watch needed, and `oldest` = the oldest revision whose events are still kept.
/// - If a watcher falls so far behind that history it still needs is compacted while
///   it catches up, its stream ends (logged as a warning); re-list and watch again.
///
/// A [`Store::txn`] whose future is dropped after it started may still commit.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    commits: broadcast::Sender<Arc<Commit>>,
    options: SqliteOptions,
    path: Option<PathBuf>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A poisoned lock means a panic while the connection was in use. rusqlite rolls
        // back an open transaction when its guard is dropped during unwinding, so the
        // connection itself is still consistent: keep using it.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directory) the database at `path`,
    /// with default options. Blocks briefly: call it at startup, not from a hot path.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with explicit options.
    pub fn open_with(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("creating directory {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("sqlite: opening {}: {e}", path.display())))?;
        db::init(&mut conn, true)?;
        tracing::debug!(path = %path.display(), "opened sqlite store");
        Ok(Self::from_connection(conn, options, Some(path.to_owned())))
    }

    /// A private in-memory database (no WAL, no durability): for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        Self::open_in_memory_with(SqliteOptions::default())
    }

    /// [`SqliteStore::open_in_memory`] with explicit options.
    pub fn open_in_memory_with(options: SqliteOptions) -> Result<SqliteStore> {
        let mut conn = Connection::open_in_memory().map_err(db_err("opening in-memory database"))?;
        db::init(&mut conn, false)?;
        Ok(Self::from_connection(conn, options, None))
    }

    fn from_connection(conn: Connection, options: SqliteOptions, path: Option<PathBuf>) -> Self {
        let (commits, _) = broadcast::channel(options.broadcast_capacity.max(1));
        SqliteStore { inner: Arc::new(Inner { conn: Mutex::new(conn), commits, options, path }) }
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Connection) -> Result<T> + Send + 'static,
    {
        run_blocking(self.inner.clone(), f).await
    }
}

async fn run_blocking<T, F>(inner: Arc<Inner>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Inner, &mut Connection) -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut conn = inner.lock();
        f(&inner, &mut conn)
    })
    .await
    .map_err(|e| StoreError::Backend(format!("store worker failed: {e}")))?
}

#[async_trait]
impl Store for SqliteStore {
    async fn revision(&self) -> Result<Revision> {
        self.blocking(|_, conn| db::revision(conn)).await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.blocking(move |_, conn| db::get(conn, &key)).await
    }

    async fn range_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<KeyValue>, Revision)> {
        let (prefix, after) = (prefix.to_owned(), after.map(str::to_owned));
        self.blocking(move |_, conn| db::range_page(conn, &prefix, after.as_deref(), limit)).await
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResult> {
        self.blocking(move |inner, conn| {
            let (result, commit) = db::apply_txn(conn, txn, inner.options.history_revisions)?;
            if let Some(commit) = commit {
                // Still under the connection lock: broadcast order == revision order.
                // An error only means nobody is watching right now.
                let _ = inner.commits.send(Arc::new(commit));
            }
            Ok(result)
        })
        .await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
        watch::start(self, prefix, after).await
    }
}
