//! Watches: history replay, then live commits; prefix filtering; slow and dropped
//! watchers; a dropped store.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::time::timeout;

use super::{WAIT, assert_ends, assert_quiet, delete, next, put, rev_key};
use crate::{Event, KeyValue, Store};

pub async fn watch_prefix_filter_matches_range_semantics(store: Arc<dyn Store>) {
    let mut rx = store.watch("a_", 0).await.unwrap();
    for key in ["a_1", "ab", "a%", "a_", "A_1", "a_\u{10FFFF}"] {
        put(&*store, key, b"").await;
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

pub async fn watch_replays_history_then_continues_live(store: Arc<dyn Store>) {
    put(&*store, "t/1", b"1").await; // 1
    put(&*store, "u/1", b"x").await; // 2
    put(&*store, "t/2", b"2").await; // 3
    let mut rx = store.watch("t/", 1).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (3, "t/2".into()));
    put(&*store, "u/2", b"x").await; // 4
    put(&*store, "t/1", b"1b").await; // 5
    delete(&*store, "t/2").await; // 6
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

pub async fn watch_from_a_future_revision_skips_until_then(store: Arc<dyn Store>) {
    put(&*store, "a", b"").await; // 1
    let mut rx = store.watch("", 3).await.unwrap();
    put(&*store, "b", b"").await; // 2
    put(&*store, "c", b"").await; // 3
    put(&*store, "d", b"").await; // 4
    assert_eq!(rev_key(&next(&mut rx).await), (4, "d".into()));
    assert_quiet(&mut rx).await;
}

/// A watcher that reads nothing while commits pile up still gets every event, in order,
/// and then follows live commits. Run it on a store with tiny buffers too, where the
/// backend has any, so that its catch-up path is taken.
pub async fn slow_watcher_loses_no_events(store: Arc<dyn Store>) {
    let mut rx = store.watch("", 0).await.unwrap();
    for i in 1..=50 {
        put(&*store, &format!("k{i}"), b"").await;
    }
    for i in 1..=50 {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    // Live events keep flowing after the catch-up.
    for i in 51..=60 {
        put(&*store, &format!("k{i}"), b"").await;
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    // Fall behind again, with interleaved reads.
    for i in 61..=200 {
        put(&*store, &format!("k{i}"), b"").await;
        if i % 37 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for i in 61..=200 {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    assert_quiet(&mut rx).await;
}

/// Writers never wait for watchers: not for one that stopped reading, nor for one whose
/// receiver was dropped.
pub async fn unread_watch_does_not_block_writers(store: Arc<dyn Store>) {
    let unread = store.watch("", 0).await.unwrap();
    let dropped = store.watch("", 0).await.unwrap();
    drop(dropped);
    timeout(WAIT, async {
        for i in 0..1000 {
            put(&*store, &format!("k{i}"), b"").await;
        }
    })
    .await
    .expect("writes stalled behind a watcher");
    drop(unread);
    assert_eq!(put(&*store, "after", b"").await, 1001);
}

pub async fn watch_stream_ends_when_store_is_dropped(store: Arc<dyn Store>) {
    put(&*store, "a", b"").await;
    let mut rx = store.watch("", 0).await.unwrap();
    assert_eq!(rev_key(&next(&mut rx).await), (1, "a".into()));
    drop(store);
    assert_ends(&mut rx).await;
}

pub async fn concurrent_watchers_all_see_the_same_stream(store: Arc<dyn Store>) {
    let mut watchers = Vec::new();
    for _ in 0..5 {
        watchers.push(store.watch("", 0).await.unwrap());
    }
    let mut values = BTreeMap::new();
    for i in 1..=30 {
        let rev = put(&*store, &format!("k{}", i % 7), &[i as u8]).await;
        values.insert(rev, format!("k{}", i % 7));
    }
    for rx in &mut watchers {
        for (rev, key) in &values {
            assert_eq!(rev_key(&next(rx).await), (*rev, key.clone()));
        }
    }
}
