use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::timeout;

use super::*;
use crate::{Compare, Op};

const WAIT: Duration = Duration::from_secs(10);

fn mem() -> SqliteStore {
    SqliteStore::open_in_memory().unwrap()
}

fn mem_with(f: impl FnOnce(&mut SqliteOptions)) -> SqliteStore {
    let mut options = SqliteOptions::default();
    f(&mut options);
    SqliteStore::open_in_memory_with(options).unwrap()
}

async fn put(store: &SqliteStore, key: &str, value: &[u8]) -> Revision {
    let result = store.txn(Txn::new().put(key, value.to_vec())).await.unwrap();
    assert!(result.succeeded);
    result.revision
}

async fn delete(store: &SqliteStore, key: &str) -> TxnResult {
    store.txn(Txn::new().delete(key)).await.unwrap()
}

async fn keys(store: &SqliteStore, prefix: &str) -> Vec<String> {
    let (kvs, _) = store.range(prefix).await.unwrap();
    kvs.into_iter().map(|kv| kv.key).collect()
}

async fn next(rx: &mut mpsc::Receiver<Event>) -> Event {
    timeout(WAIT, rx.recv()).await.expect("timed out waiting for a watch event").expect("watch stream ended")
}

/// Asserts nothing more arrives on `rx` for a little while.
async fn assert_quiet(rx: &mut mpsc::Receiver<Event>) {
    if let Ok(Some(event)) = timeout(Duration::from_millis(200), rx.recv()).await {
        panic!("unexpected extra event {event:?}");
    }
}

fn rev_key(event: &Event) -> (Revision, String) {
    (event.revision(), event.key().to_owned())
}

#[tokio::test]
async fn fresh_store_is_empty_at_revision_zero() {
    let store = mem();
    assert_eq!(store.revision().await.unwrap(), 0);
    assert_eq!(store.get("a").await.unwrap(), None);
    assert_eq!(store.range("").await.unwrap(), (vec![], 0));
}

#[tokio::test]
async fn put_sets_create_and_mod_revisions() {
    let store = mem();
    assert_eq!(put(&store, "a", b"1").await, 1);
    assert_eq!(put(&store, "b", b"x").await, 2);
    assert_eq!(put(&store, "a", b"2").await, 3);
    assert_eq!(store.revision().await.unwrap(), 3);
    let a = store.get("a").await.unwrap().unwrap();
    assert_eq!(a, KeyValue { key: "a".into(), value: b"2".to_vec(), create_revision: 1, mod_revision: 3 });
    let b = store.get("b").await.unwrap().unwrap();
    assert_eq!((b.create_revision, b.mod_revision), (2, 2));
}

#[tokio::test]
async fn cas_create_only_if_absent() {
    let store = mem();
    let create = || Txn::new().when(Compare::ModRevision("k".into(), 0)).put("k", b"v".to_vec());
    let first = store.txn(create()).await.unwrap();
    assert_eq!(first, TxnResult { succeeded: true, revision: 1 });
    let second = store.txn(create()).await.unwrap();
    assert_eq!(second, TxnResult { succeeded: false, revision: 1 });
}

#[tokio::test]
async fn cas_on_mod_revision_applies_success_or_failure_branch() {
    let store = mem();
    let r1 = put(&store, "k", b"v1").await;
    put(&store, "other", b"x").await;

    // Stale revision: failure branch runs, and as it writes, the revision is bumped.
    let mut stale = Txn::new().when(Compare::ModRevision("k".into(), r1 + 100)).put("k", b"never".to_vec());
    stale.failure.push(Op::Put("conflicts".into(), b"1".to_vec()));
    let result = store.txn(stale).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: false, revision: 3 });
    assert_eq!(store.get("k").await.unwrap().unwrap().value, b"v1");
    assert_eq!(store.get("conflicts").await.unwrap().unwrap().mod_revision, 3);

    // Matching revision: success branch runs.
    let ok = Txn::new()
        .when(Compare::ModRevision("k".into(), r1))
        .when(Compare::Exists("other".into()))
        .put("k", b"v2".to_vec());
    let result = store.txn(ok).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: true, revision: 4 });
    let k = store.get("k").await.unwrap().unwrap();
    assert_eq!((k.value.as_slice(), k.create_revision, k.mod_revision), (&b"v2"[..], 1, 4));

    // A present key never matches ModRevision(_, 0).
    let absent = Txn::new().when(Compare::ModRevision("k".into(), 0)).put("k", b"v3".to_vec());
    assert!(!store.txn(absent).await.unwrap().succeeded);
}

#[tokio::test]
async fn exists_compare() {
    let store = mem();
    let txn = || Txn::new().when(Compare::Exists("k".into())).put("seen", b"1".to_vec());
    assert!(!store.txn(txn()).await.unwrap().succeeded);
    put(&store, "k", b"").await;
    assert!(store.txn(txn()).await.unwrap().succeeded);
    delete(&store, "k").await;
    assert!(!store.txn(txn()).await.unwrap().succeeded);
}

#[tokio::test]
async fn all_compares_must_hold() {
    let store = mem();
    put(&store, "a", b"1").await;
    let txn = Txn::new().when(Compare::Exists("a".into())).when(Compare::Exists("b".into())).put("c", b"1".to_vec());
    assert!(!store.txn(txn).await.unwrap().succeeded);
    assert_eq!(store.get("c").await.unwrap(), None);
}

#[tokio::test]
async fn txn_without_changes_does_not_bump_revision() {
    let store = mem();
    put(&store, "a", b"1").await;
    // Empty success branch.
    let result = store.txn(Txn::new().when(Compare::Exists("a".into()))).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: true, revision: 1 });
    // Empty failure branch.
    let result = store.txn(Txn::new().when(Compare::Exists("nope".into())).put("x", vec![])).await.unwrap();
    assert_eq!(result, TxnResult { succeeded: false, revision: 1 });
    // A completely empty txn.
    assert_eq!(store.txn(Txn::new()).await.unwrap().revision, 1);
    assert_eq!(store.revision().await.unwrap(), 1);
}

#[tokio::test]
async fn delete_of_absent_key_is_a_noop_without_event() {
    let store = mem();
    let result = delete(&store, "ghost").await;
    assert_eq!(result, TxnResult { succeeded: true, revision: 0 });
    put(&store, "a", b"1").await;
    assert_eq!(delete(&store, "ghost").await.revision, 1);
    assert_eq!(store.revision().await.unwrap(), 1);

    let mut rx = store.watch("", 0).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (1, "a".into()));
    assert_quiet(&mut rx).await;
}

#[tokio::test]
async fn delete_then_recreate_gets_a_new_create_revision() {
    let store = mem();
    put(&store, "k", b"1").await; // 1
    put(&store, "k", b"2").await; // 2
    let deleted = delete(&store, "k").await;
    assert_eq!(deleted.revision, 3);
    assert_eq!(store.get("k").await.unwrap(), None);
    put(&store, "k", b"3").await; // 4
    let k = store.get("k").await.unwrap().unwrap();
    assert_eq!((k.create_revision, k.mod_revision), (4, 4));

    let mut rx = store.watch("k", 0).await.unwrap();
    let events: Vec<Event> =
        [next(&mut rx).await, next(&mut rx).await, next(&mut rx).await, next(&mut rx).await].into();
    assert!(matches!(&events[0], Event::Put(kv) if kv.create_revision == 1 && kv.mod_revision == 1));
    assert!(matches!(&events[1], Event::Put(kv) if kv.create_revision == 1 && kv.mod_revision == 2));
    assert_eq!(events[2], Event::Delete { key: "k".into(), mod_revision: 3 });
    assert!(matches!(&events[3], Event::Put(kv) if kv.create_revision == 4 && kv.value == b"3"));
}

#[tokio::test]
async fn ops_of_one_txn_share_one_revision() {
    let store = mem();
    put(&store, "gone", b"x").await; // 1
    let txn = Txn::new()
        .put("a", b"1".to_vec())
        .put("b", b"2".to_vec())
        .delete("gone")
        .put("tmp", b"t".to_vec())
        .delete("tmp");
    let result = store.txn(txn).await.unwrap();
    assert_eq!(result.revision, 2);
    assert_eq!(store.revision().await.unwrap(), 2);
    let (kvs, rev) = store.range("").await.unwrap();
    assert_eq!(rev, 2);
    assert_eq!(kvs.iter().map(|kv| (kv.key.as_str(), kv.mod_revision)).collect::<Vec<_>>(), [("a", 2), ("b", 2)]);

    let mut rx = store.watch("", 1).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..5 {
        let event = next(&mut rx).await;
        assert_eq!(event.revision(), 2);
        got.push((matches!(event, Event::Put(_)), event.key().to_owned()));
    }
    assert_eq!(
        got,
        [
            (true, "a".to_owned()),
            (true, "b".to_owned()),
            (false, "gone".to_owned()),
            (true, "tmp".to_owned()),
            (false, "tmp".to_owned()),
        ]
    );
    assert_quiet(&mut rx).await;
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
async fn range_prefix_edge_cases() {
    let store = mem();
    let all = [
        "a",
        "a%",
        "a%b/1",
        "a%c",
        "a/",
        "a/x",
        "a/x/y",
        "a/\u{10FFFF}",
        "a/\u{10FFFF}\u{10FFFF}z",
        "a0",
        "aXb/1",
        "a_b/1",
        "ab",
        "b",
        "é/1",
        "\u{10FFFF}",
        "\u{10FFFF}\u{10FFFF}",
    ];
    for key in all {
        put(&store, key, key.as_bytes()).await;
    }

    // Key order is byte order (which Rust's String Ord also is).
    let mut sorted: Vec<String> = all.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(keys(&store, "").await, sorted);

    assert_eq!(keys(&store, "a/").await, ["a/", "a/x", "a/x/y", "a/\u{10FFFF}", "a/\u{10FFFF}\u{10FFFF}z"]);
    // `%` and `_` are literal characters, not wildcards.
    assert_eq!(keys(&store, "a%").await, ["a%", "a%b/1", "a%c"]);
    assert_eq!(keys(&store, "a_").await, ["a_b/1"]);
    assert_eq!(keys(&store, "a_b").await, ["a_b/1"]);
    // Case matters (LIKE would fold ASCII case).
    assert_eq!(keys(&store, "aX").await, ["aXb/1"]);
    assert_eq!(keys(&store, "ax").await, Vec::<String>::new());
    // A prefix ending in the largest code point.
    assert_eq!(keys(&store, "a/\u{10FFFF}").await, ["a/\u{10FFFF}", "a/\u{10FFFF}\u{10FFFF}z"]);
    assert_eq!(keys(&store, "\u{10FFFF}").await, ["\u{10FFFF}", "\u{10FFFF}\u{10FFFF}"]);
    assert_eq!(keys(&store, "é").await, ["é/1"]);
    // A full key is its own prefix; nothing matches a longer one.
    assert_eq!(keys(&store, "a/x/y").await, ["a/x/y"]);
    assert_eq!(keys(&store, "a/x/y/").await, Vec::<String>::new());

    let (kvs, rev) = store.range("a%").await.unwrap();
    assert_eq!(rev, all.len() as Revision);
    assert_eq!(kvs[1].value, b"a%b/1");
}

#[tokio::test]
async fn watch_prefix_filter_matches_range_semantics() {
    let store = mem();
    let mut rx = store.watch("a_", 0).await.unwrap();
    for key in ["a_1", "ab", "a%", "a_", "A_1", "a_\u{10FFFF}"] {
        put(&store, key, b"").await;
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next(&mut rx).await.key().to_owned());
    }
    assert_eq!(got, ["a_1", "a_", "a_\u{10FFFF}"]);
    assert_quiet(&mut rx).await;
    // And the same from history.
    let mut rx = store.watch("a_", 0).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next(&mut rx).await.key().to_owned());
    }
    assert_eq!(got, ["a_1", "a_", "a_\u{10FFFF}"]);
    assert_quiet(&mut rx).await;
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
        .args(["sqlite::tests::kill_child_writer", "--exact", "--nocapture", "--test-threads=1"])
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
async fn watch_replays_history_then_continues_live() {
    let store = mem();
    put(&store, "t/1", b"1").await; // 1
    put(&store, "u/1", b"x").await; // 2
    put(&store, "t/2", b"2").await; // 3
    let mut rx = store.watch("t/", 1).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (3, "t/2".into()));
    put(&store, "u/2", b"x").await; // 4
    put(&store, "t/1", b"1b").await; // 5
    delete(&store, "t/2").await; // 6
    let event = next(&mut rx).await;
    match event {
        Event::Put(kv) => {
            assert_eq!(kv, KeyValue { key: "t/1".into(), value: b"1b".to_vec(), create_revision: 1, mod_revision: 5 })
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(next(&mut rx).await, Event::Delete { key: "t/2".into(), mod_revision: 6 });
    assert_quiet(&mut rx).await;
}

#[tokio::test]
async fn watch_from_a_future_revision_skips_until_then() {
    let store = mem();
    put(&store, "a", b"").await; // 1
    let mut rx = store.watch("", 3).await.unwrap();
    put(&store, "b", b"").await; // 2
    put(&store, "c", b"").await; // 3
    put(&store, "d", b"").await; // 4
    assert_eq!(rev_key(&next(&mut rx).await), (4, "d".into()));
    assert_quiet(&mut rx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_has_no_gap_and_no_duplicate_under_concurrent_writes() {
    let store = mem();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..100 {
                    let key = format!("w/{w}/{i}");
                    let rev = put(&store, &key, b"v").await;
                    mine.push((rev, key));
                    put(&store, &format!("other/{w}/{i}"), b"v").await;
                    if i % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                mine
            })
        })
        .collect();

    // Start watching while the writers are busy.
    while store.revision().await.unwrap() < 60 {
        tokio::task::yield_now().await;
    }
    let after = 30;
    let mut rx = store.watch("w/", after).await.unwrap();

    let mut expected = Vec::new();
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }
    expected.retain(|(rev, _)| *rev > after);
    expected.sort();

    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.push(rev_key(&next(&mut rx).await));
    }
    assert_eq!(got, expected);
    assert_quiet(&mut rx).await;
}

#[tokio::test]
async fn watch_recovers_from_broadcast_lag_without_losing_events() {
    let store = mem_with(|o| {
        o.broadcast_capacity = 2;
        o.watch_channel_capacity = 1;
    });
    let mut rx = store.watch("", 0).await.unwrap();
    // Nobody reads while 50 commits happen: the watcher blocks on its full channel and
    // its broadcast subscription (capacity 2) overflows.
    for i in 1..=50 {
        put(&store, &format!("k{i}"), b"").await;
    }
    for i in 1..=50 {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    // Live events keep flowing after the catch-up.
    for i in 51..=60 {
        put(&store, &format!("k{i}"), b"").await;
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    // Lag again, with interleaved reads.
    for i in 61..=200 {
        put(&store, &format!("k{i}"), b"").await;
        if i % 37 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for i in 61..=200 {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    assert_quiet(&mut rx).await;
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
    for after in [0, 14] {
        match store.watch("", after).await {
            Err(StoreError::Compacted { requested, oldest }) => {
                assert_eq!((requested, oldest), (after + 1, 16));
            }
            other => panic!("expected Compacted, got {other:?}"),
        }
    }
    let mut rx = store.watch("", 15).await.unwrap();
    for i in 16..=20 {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    // Current keys are not affected by compaction.
    assert_eq!(store.range("k").await.unwrap().0.len(), 20);
}

#[tokio::test]
async fn watch_task_ends_when_receiver_is_dropped() {
    let store = mem();
    put(&store, "a", b"").await;
    let rx = store.watch("", 0).await.unwrap();
    let rx2 = store.watch("zzz", 0).await.unwrap();
    assert_eq!(store.inner.commits.receiver_count(), 2);
    drop(rx);
    drop(rx2);
    // No commit happens: the tasks must notice on their own.
    timeout(WAIT, async {
        while store.inner.commits.receiver_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("watch tasks did not end");
}

#[tokio::test]
async fn watch_stream_ends_when_store_is_dropped() {
    let store = mem();
    put(&store, "a", b"").await;
    let mut rx = store.watch("", 0).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (1, "a".into()));
    drop(store);
    let end = timeout(WAIT, rx.recv()).await.expect("stream did not end");
    assert_eq!(end, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_cas_increments_never_lose_updates() {
    let store = mem();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for _ in 0..50 {
                    loop {
                        let (count, rev) = match store.get("counter").await.unwrap() {
                            Some(kv) => {
                                let n: u64 = String::from_utf8(kv.value).unwrap().parse().unwrap();
                                (n, kv.mod_revision)
                            }
                            None => (0, 0),
                        };
                        let txn = Txn::new()
                            .when(Compare::ModRevision("counter".into(), rev))
                            .put("counter", (count + 1).to_string().into_bytes());
                        if store.txn(txn).await.unwrap().succeeded {
                            break;
                        }
                        conflicts += 1;
                    }
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let counter = store.get("counter").await.unwrap().unwrap();
    assert_eq!(counter.value, b"400", "after {conflicts} CAS conflicts");
    // Failed compares with an empty failure branch do not bump the revision.
    assert_eq!(store.revision().await.unwrap(), 400);
    assert_eq!((counter.create_revision, counter.mod_revision), (1, 400));
}

#[tokio::test]
async fn concurrent_watchers_all_see_the_same_stream() {
    let store = mem();
    let mut watchers = Vec::new();
    for _ in 0..5 {
        watchers.push(store.watch("", 0).await.unwrap());
    }
    let mut values = BTreeMap::new();
    for i in 1..=30 {
        let rev = put(&store, &format!("k{}", i % 7), &[i as u8]).await;
        values.insert(rev, format!("k{}", i % 7));
    }
    for rx in &mut watchers {
        for (rev, key) in &values {
            assert_eq!(rev_key(&next(rx).await), (*rev, key.clone()));
        }
    }
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
    let end = timeout(WAIT, rx.recv()).await.expect("stream did not end");
    assert_eq!(end, None);
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
