use super::*;
use berth_store::conformance::{
    assert_ends, assert_history_kept_from, assert_watches_end_when_dropped, delete, next, put, rev_key,
};

fn mem() -> SqliteStore {
    SqliteStore::open_in_memory().unwrap()
}

#[test]
fn prefix_end_is_the_code_point_successor() {
    use db::prefix_end;
    assert_eq!(prefix_end(""), None);
    assert_eq!(prefix_end("a"), Some("b".into()));
    assert_eq!(prefix_end("a/"), Some("a0".into()));
    assert_eq!(prefix_end("a%"), Some("a&".into()));
    assert_eq!(prefix_end("z\u{10FFFF}"), Some("{".into()));
    assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
    assert_eq!(prefix_end("x\u{D7FF}"), Some("x\u{E000}".into()));
    assert_eq!(prefix_end("é"), Some("ê".into()));
}

#[tokio::test]
async fn file_store_is_durable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/state.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        {
            let conn = store.inner.lock();
            let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
            let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
            assert_eq!(sync, 2, "synchronous must be FULL");
        }
        put(&store, "clusters/a", b"A").await; // 1
        put(&store, "clusters/b", b"B").await; // 2
        put(&store, "clusters/a", b"A2").await; // 3
        delete(&store, "clusters/b").await; // 4
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.revision().await.unwrap(), 4);
    let a = store.get("clusters/a").await.unwrap().unwrap();
    assert_eq!((a.value.as_slice(), a.create_revision, a.mod_revision), (&b"A2"[..], 1, 3));
    assert_eq!(store.get("clusters/b").await.unwrap(), None);
    // The revision continues from where it was.
    assert_eq!(put(&store, "clusters/c", b"C").await, 5);
    // History survives too.
    let mut rx = store.watch("clusters/", 2).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (3, "clusters/a".into()));
    assert_eq!(rev_key(&next(&mut rx).await), (4, "clusters/b".into()));
    assert_eq!(rev_key(&next(&mut rx).await), (5, "clusters/c".into()));
}

const KILL_CHILD_ENV: &str = "BERTH_STORE_KILL_CHILD_DB";

/// Not a test by itself: the child half of `acked_txns_survive_process_kill`. It
/// writes until killed, printing each acknowledged revision.
#[tokio::test]
async fn kill_child_writer() {
    let Ok(path) = std::env::var(KILL_CHILD_ENV) else {
        return;
    };
    let store = SqliteStore::open(Path::new(&path)).unwrap();
    for i in 0..100_000 {
        let result = store.txn(Txn::new().put(format!("k/{i:06}"), i.to_string().into_bytes())).await.unwrap();
        println!("ACK {} {i}", result.revision);
    }
}

#[tokio::test]
async fn acked_txns_survive_process_kill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["tests::kill_child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(KILL_CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acked = tokio::task::spawn_blocking(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (rev, i) = rest.split_once(' ').unwrap();
                acked.push((rev.parse::<Revision>().unwrap(), i.parse::<u32>().unwrap()));
                if acked.len() == 50 {
                    child.kill().unwrap(); // SIGKILL: no destructors, no clean close
                    break;
                }
            }
        }
        child.wait().unwrap();
        acked
    })
    .await
    .unwrap();
    assert_eq!(acked.len(), 50, "child did not write");

    let store = SqliteStore::open(&path).unwrap();
    let revision = store.revision().await.unwrap();
    assert!(revision >= 50, "revision {revision} lost acknowledged commits");
    for (rev, i) in acked {
        let kv = store.get(&format!("k/{i:06}")).await.unwrap().unwrap();
        assert_eq!(kv.mod_revision, rev);
        assert_eq!(kv.value, i.to_string().into_bytes());
    }
    // And the store keeps working, continuing the revision.
    assert_eq!(put(&store, "after", b"").await, revision + 1);
}

#[tokio::test]
async fn watch_before_compacted_history_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let options = SqliteOptions { history_revisions: 5, ..SqliteOptions::default() };
    {
        let store = SqliteStore::open_with(&path, options.clone()).unwrap();
        for i in 1..=20 {
            put(&store, &format!("k{i}"), b"").await;
        }
        let rows: i64 =
            store.inner.lock().query_row("SELECT COUNT(DISTINCT revision) FROM history", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 5);
    }
    let store = SqliteStore::open_with(&path, options).unwrap();
    assert_history_kept_from(&store, 16).await;
}

#[tokio::test]
async fn watch_task_ends_when_receiver_is_dropped() {
    let store = mem();
    assert_watches_end_when_dropped(&store, || store.inner.commits.receiver_count()).await;
}

#[tokio::test]
async fn corrupt_rows_are_errors_not_panics() {
    let store = mem();
    put(&store, "ok", b"v").await;
    {
        let conn = store.inner.lock();
        // A value stored as TEXT instead of BLOB, and a put event missing its value.
        conn.execute(
            "INSERT INTO kv (key, value, create_revision, mod_revision) \
             VALUES ('bad', 'text', 1, 1)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO history (revision, seq, key, kind, value, create_revision) \
             VALUES (1, 1, 'bad', 'put', NULL, NULL)",
            [],
        )
        .unwrap();
    }
    match store.get("bad").await {
        Err(StoreError::Backend(msg)) => assert!(msg.contains("sqlite"), "{msg}"),
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert!(matches!(store.range("").await, Err(StoreError::Backend(_))));
    assert!(store.get("ok").await.unwrap().is_some());
    // The watch cannot replay the malformed history: its stream ends instead.
    let mut rx = store.watch("", 0).await.unwrap();
    assert_ends(&mut rx).await;
}

#[tokio::test]
async fn newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(msg)) => assert!(msg.contains("99"), "{msg}"),
        other => panic!("expected a backend error, got {other:?}"),
    }
}
