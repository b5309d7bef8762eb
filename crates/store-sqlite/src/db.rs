//! The SQL side of the SQLite backend: schema, and the blocking functions that run
//! against a connection. Everything here is synchronous and must only be called from
//! a blocking context (see `SqliteStore::blocking`).

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use berth_store::{Compare, Event, KeyValue, Op, Result, Revision, StoreError, Txn, TxnResult};

/// The schema version this code writes, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// - `meta`: store-wide counters. `revision` is the current store revision; every
///   history event with a revision <= `compacted` has been removed.
/// - `kv`: the current value of every live key.
/// - `history`: one row per change, for watches. `seq` orders the changes of one
///   commit; `value` and `create_revision` are NULL for deletes.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
CREATE TABLE IF NOT EXISTS kv (
    key             TEXT PRIMARY KEY,
    value           BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    mod_revision    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    revision        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    key             TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('put', 'delete')),
    value           BLOB,
    create_revision INTEGER,
    PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
";

/// One committed transaction, as fanned out to live watchers.
#[derive(Debug)]
pub(super) struct Commit {
    pub revision: Revision,
    pub events: Vec<Event>,
}

/// Maps a rusqlite error to `StoreError::Backend`, saying what we were doing.
pub(super) fn db_err(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend(format!("sqlite: {what}: {e}"))
}

/// Sets the pragmas and creates (or checks) the schema. `file_backed` is false for
/// in-memory databases, which cannot use WAL.
pub(super) fn init(conn: &mut Connection, file_backed: bool) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5)).map_err(db_err("setting busy_timeout"))?;
    if file_backed {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db_err("enabling WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!("sqlite: could not enable WAL journal mode (got {mode:?})")));
        }
    }
    // FULL: in WAL mode this fsyncs the WAL on every commit, so a txn that returned Ok
    // survives a crash or power loss (NORMAL would only survive a process crash).
    conn.pragma_update(None, "synchronous", "FULL").map_err(db_err("setting synchronous=FULL"))?;

    let version: i64 =
        conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(db_err("reading schema version"))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "sqlite: database schema version {version} is newer than this berth supports \
             ({SCHEMA_VERSION})"
        )));
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err("starting schema transaction"))?;
    tx.execute_batch(SCHEMA).map_err(db_err("creating schema"))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(db_err("writing schema version"))?;
    // Both rows are inserted above; reading them back validates their type.
    meta_get(&tx, "revision")?;
    meta_get(&tx, "compacted")?;
    tx.commit().map_err(db_err("committing schema"))
}

fn meta_get(conn: &Connection, name: &'static str) -> Result<i64> {
    conn.prepare_cached("SELECT value FROM meta WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |row| row.get::<_, i64>(0)).optional())
        .map_err(db_err("reading meta"))?
        .ok_or_else(|| StoreError::Backend(format!("sqlite: meta row {name:?} is missing")))
}

fn meta_set(conn: &Connection, name: &'static str, value: i64) -> Result<()> {
    conn.prepare_cached("UPDATE meta SET value = ?2 WHERE name = ?1")
        .and_then(|mut stmt| stmt.execute(params![name, value]))
        .map_err(db_err("writing meta"))?;
    Ok(())
}

/// The current store revision.
pub(super) fn revision(conn: &Connection) -> Result<Revision> {
    meta_get(conn, "revision")
}

/// The current revision and the compaction floor, read together.
pub(super) fn revision_and_compacted(conn: &mut Connection) -> Result<(Revision, Revision)> {
    let tx = conn.transaction().map_err(db_err("starting read transaction"))?;
    let current = meta_get(&tx, "revision")?;
    let compacted = meta_get(&tx, "compacted")?;
    tx.finish().map_err(db_err("ending read transaction"))?;
    Ok((current, compacted))
}

fn row_to_kv(row: &Row<'_>) -> rusqlite::Result<KeyValue> {
    Ok(KeyValue { key: row.get(0)?, value: row.get(1)?, create_revision: row.get(2)?, mod_revision: row.get(3)? })
}

pub(super) fn get(conn: &Connection, key: &str) -> Result<Option<KeyValue>> {
    conn.prepare_cached("SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], row_to_kv).optional())
        .map_err(db_err("reading key"))
}

/// The smallest string greater than every string that starts with `prefix`, in byte
/// order (which for UTF-8 is code point order), or `None` when there is none (empty
/// prefix, or a prefix made only of `char::MAX`). So "starts with prefix" is exactly
/// `prefix <= key AND key < end`, an index range scan — unlike `LIKE`, which treats `%`
/// and `_` in the prefix as wildcards (and is case-insensitive for ASCII).
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            char::MAX => continue,
            // The surrogates U+D800..=U+DFFF are not chars; skip over them.
            '\u{D7FF}' => '\u{E000}',
            c => match char::from_u32(u32::from(c) + 1) {
                Some(next) => next,
                None => continue, // unreachable given the arms above; skip, don't panic
            },
        };
        chars.push(next);
        return Some(chars.into_iter().collect());
    }
    None
}

/// Every key with `prefix`, in key order, and the revision they were read at.
/// One page of a prefix range (see `Store::range_page`); the key is the table's primary key,
/// so a page costs its own rows, wherever it starts.
pub(super) fn range_page(
    conn: &mut Connection,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<KeyValue>, Revision)> {
    let tx = conn.transaction().map_err(db_err("starting read transaction"))?;
    let current = meta_get(&tx, "revision")?;
    // SQLite's LIMIT takes an i64; a negative one means no limit.
    let limit = i64::try_from(limit).unwrap_or(-1);
    let after = after.unwrap_or("");
    // Two statements rather than `?2 IS NULL OR key < ?2`, so that the end bound is an index
    // bound and a range stops at its prefix's end instead of scanning the rest of the table.
    let kvs = match prefix_end(prefix) {
        Some(end) => tx
            .prepare_cached(
                "SELECT key, value, create_revision, mod_revision FROM kv \
                 WHERE key >= ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![prefix, after, end, limit], row_to_kv)?.collect::<rusqlite::Result<Vec<_>>>()
            }),
        None => tx
            .prepare_cached(
                "SELECT key, value, create_revision, mod_revision FROM kv \
                 WHERE key >= ?1 AND key > ?2 ORDER BY key LIMIT ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![prefix, after, limit], row_to_kv)?.collect::<rusqlite::Result<Vec<_>>>()
            }),
    }
    .map_err(db_err("reading range"))?;
    tx.finish().map_err(db_err("ending read transaction"))?;
    Ok((kvs, current))
}

fn mod_revision_of(conn: &Connection, key: &str) -> Result<Option<Revision>> {
    conn.prepare_cached("SELECT mod_revision FROM kv WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(db_err("checking compare"))
}

fn create_revision_of(conn: &Connection, key: &str) -> Result<Option<Revision>> {
    conn.prepare_cached("SELECT create_revision FROM kv WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(db_err("reading key"))
}

/// Checks the compares and applies one branch, in one IMMEDIATE transaction (so the
/// compares and the writes see the same state). Returns the commit to fan out to
/// watchers when the branch changed anything. `history_revisions` is how many of the
/// most recent revisions the history keeps.
pub(super) fn apply_txn(
    conn: &mut Connection,
    txn: Txn,
    history_revisions: i64,
) -> Result<(TxnResult, Option<Commit>)> {
    let tx =
        conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err("starting write transaction"))?;
    let current = meta_get(&tx, "revision")?;

    let mut succeeded = true;
    for compare in &txn.compares {
        let holds = match compare {
            Compare::ModRevision(key, want) => mod_revision_of(&tx, key)?.unwrap_or(0) == *want,
            Compare::Exists(key) => mod_revision_of(&tx, key)?.is_some(),
        };
        if !holds {
            succeeded = false;
            break;
        }
    }
    let ops = if succeeded { txn.success } else { txn.failure };

    let revision =
        current.checked_add(1).ok_or_else(|| StoreError::Backend("sqlite: store revision overflowed".into()))?;
    let mut events = Vec::new();
    for op in ops {
        match op {
            Op::Put(key, value) => {
                let create_revision = create_revision_of(&tx, &key)?.unwrap_or(revision);
                tx.prepare_cached(
                    "INSERT INTO kv (key, value, create_revision, mod_revision) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (key) DO UPDATE SET \
                         value = excluded.value, mod_revision = excluded.mod_revision",
                )
                .and_then(|mut stmt| stmt.execute(params![key, value, create_revision, revision]))
                .map_err(db_err("writing key"))?;
                events.push(Event::Put(KeyValue { key, value, create_revision, mod_revision: revision }));
            }
            Op::Delete(key) => {
                let deleted = tx
                    .prepare_cached("DELETE FROM kv WHERE key = ?1")
                    .and_then(|mut stmt| stmt.execute([&key]))
                    .map_err(db_err("deleting key"))?;
                if deleted > 0 {
                    events.push(Event::Delete { key, mod_revision: revision });
                }
            }
        }
    }

    if events.is_empty() {
        // Nothing changed (empty branch, or only deletes of absent keys): no new revision.
        tx.rollback().map_err(db_err("ending transaction"))?;
        return Ok((TxnResult { succeeded, revision: current }, None));
    }

    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO history (revision, seq, key, kind, value, create_revision) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_err("writing history"))?;
        for (seq, event) in events.iter().enumerate() {
            let seq = i64::try_from(seq).map_err(|_| StoreError::Backend("sqlite: too many ops in one txn".into()))?;
            let result = match event {
                Event::Put(kv) => insert.execute(params![revision, seq, kv.key, "put", kv.value, kv.create_revision]),
                Event::Delete { key, .. } => {
                    insert.execute(params![revision, seq, key, "delete", None::<Vec<u8>>, None::<i64>])
                }
            };
            result.map_err(db_err("writing history"))?;
        }
    }
    meta_set(&tx, "revision", revision)?;

    // Compaction, in the same commit: keep the newest `history_revisions` revisions.
    // Normally this deletes the events of one old revision, through the primary key.
    let floor = revision - history_revisions.max(1);
    if floor > meta_get(&tx, "compacted")? {
        tx.prepare_cached("DELETE FROM history WHERE revision <= ?1")
            .and_then(|mut stmt| stmt.execute([floor]))
            .map_err(db_err("compacting history"))?;
        meta_set(&tx, "compacted", floor)?;
    }

    tx.commit().map_err(db_err("committing"))?;
    Ok((TxnResult { succeeded, revision }, Some(Commit { revision, events })))
}

/// Why a history read could not be served.
pub(super) enum HistoryError {
    /// Events after `after` are needed but history up to `compacted` is gone.
    Compacted {
        after: Revision,
        compacted: Revision,
    },
    Store(StoreError),
}

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> Self {
        HistoryError::Store(e)
    }
}

/// The events for keys in `[prefix, end)` with `after < revision <= upto`, oldest first.
pub(super) fn history(
    conn: &mut Connection,
    prefix: &str,
    end: Option<&str>,
    after: Revision,
    upto: Revision,
) -> Result<Vec<Event>, HistoryError> {
    let tx = conn.transaction().map_err(db_err("starting read transaction"))?;
    let compacted = meta_get(&tx, "compacted")?;
    if after < compacted {
        return Err(HistoryError::Compacted { after, compacted });
    }
    // The key bounds are checked per row; the scan itself walks the primary key by revision.
    let rows = tx
        .prepare_cached(
            "SELECT revision, key, kind, value, create_revision FROM history \
             WHERE revision > ?1 AND revision <= ?2 AND key >= ?3 AND (?4 IS NULL OR key < ?4) \
             ORDER BY revision, seq",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![after, upto, prefix, end], |row| {
                Ok((
                    row.get::<_, Revision>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                    row.get::<_, Option<Revision>>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db_err("reading history"))?;
    tx.finish().map_err(db_err("ending read transaction"))?;

    rows.into_iter()
        .map(|(revision, key, kind, value, create_revision)| match (kind.as_str(), value, create_revision) {
            ("put", Some(value), Some(create_revision)) => {
                Ok(Event::Put(KeyValue { key, value, create_revision, mod_revision: revision }))
            }
            ("delete", _, _) => Ok(Event::Delete { key, mod_revision: revision }),
            _ => Err(HistoryError::Store(StoreError::Backend(format!(
                "sqlite: malformed history row at revision {revision} for key {key:?} \
                     (kind {kind:?})"
            )))),
        })
        .collect()
}
