use std::sync::Arc;
use std::time::Duration;

use tokio::time::timeout;

use super::MemoryStore;
use crate::conformance::{WAIT, assert_ends, next, put, rev_key};
use crate::{Store, StoreError};

mod conformance {
    async fn new_store() -> std::sync::Arc<dyn crate::Store> {
        std::sync::Arc::new(super::MemoryStore::new())
    }
    crate::conformance_tests!(new_store);
}

#[tokio::test]
async fn watch_before_compacted_history_fails() {
    let store = MemoryStore::with_history(5);
    for i in 1..=20 {
        put(&store, &format!("k{i}"), b"").await;
    }
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
async fn watcher_behind_compacted_history_ends() {
    let store = MemoryStore::with_history(5);
    let mut rx = store.watch("", 0).await.unwrap();
    // On this single-threaded runtime the watcher does not run before these commits,
    // which compact the history it still needs.
    for i in 1..=20 {
        put(&store, &format!("k{i}"), b"").await;
    }
    assert_ends(&mut rx).await;
}

#[tokio::test]
async fn watch_task_ends_when_receiver_is_dropped() {
    let store = MemoryStore::new();
    put(&store, "a", b"").await;
    let rx = store.watch("", 0).await.unwrap();
    let rx2 = store.watch("zzz", 0).await.unwrap();
    assert_eq!(store.inner.revisions.receiver_count(), 2);
    drop(rx);
    drop(rx2);
    // No commit happens: the tasks must notice on their own.
    timeout(WAIT, async {
        while store.inner.revisions.receiver_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("watch tasks did not end");
}

#[tokio::test]
async fn clones_share_one_state() {
    let store = MemoryStore::new();
    let other: Arc<dyn Store> = Arc::new(store.clone());
    put(&store, "a", b"1").await;
    assert_eq!(other.get("a").await.unwrap().unwrap().value, b"1");
}
