use std::sync::Arc;

use super::MemoryStore;
use crate::Store;
use crate::conformance::{assert_ends, assert_history_kept_from, assert_watches_end_when_dropped, put};

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
    assert_history_kept_from(&store, 16).await;
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
    assert_watches_end_when_dropped(&store, || store.inner.revisions.receiver_count()).await;
}

#[tokio::test]
async fn clones_share_one_state() {
    let store = MemoryStore::new();
    let other: Arc<dyn Store> = Arc::new(store.clone());
    put(&store, "a", b"1").await;
    assert_eq!(other.get("a").await.unwrap().unwrap().value, b"1");
}
