//! The semantic test suite every [`Store`] backend must pass: revisions, compare-and-swap,
//! the failure branch, range order, watches (replay, live, after a drop) and concurrent
//! writers. Compiled with the `conformance` feature (and in this crate's own tests).
//!
//! A backend runs all of it with one macro call, given a constructor of fresh, empty
//! stores (an `async fn() -> Arc<dyn Store>` or a closure returning such a future), from
//! a test module of its own so the generated test names cannot clash:
//!
//! ```ignore
//! mod conformance {
//!     async fn new_store() -> std::sync::Arc<dyn berth_store::Store> {
//!         std::sync::Arc::new(MyStore::open_for_tests().await)
//!     }
//!     berth_store::conformance_tests!(new_store);
//! }
//! ```
//!
//! The crate needs `tokio` (with `macros` and `rt-multi-thread`) among its
//! dev-dependencies: every test is a `#[tokio::test]`. Each test is also a public
//! function taking the store, so a backend can run one again against a store it tuned
//! (tiny buffers, say, to exercise a catch-up path). The helpers below are public for
//! the backend-specific tests that sit next to the suite.

pub mod concurrency;
pub mod ranges;
pub mod txns;
pub mod watches;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::{Event, Revision, Store, StoreError, Txn, TxnResult};

/// Generates one `#[tokio::test]` per test of the suite, each on a store from
/// `$new_store`. Every public test function of the suite's modules is listed here.
#[macro_export]
macro_rules! conformance_tests {
    ($new_store:expr) => {
        $crate::conformance_tests!(@current_thread $new_store;
            txns::fresh_store_is_empty_at_revision_zero,
            txns::put_sets_create_and_mod_revisions,
            txns::cas_create_only_if_absent,
            txns::cas_on_mod_revision_applies_success_or_failure_branch,
            txns::exists_compare,
            txns::all_compares_must_hold,
            txns::txn_without_changes_does_not_bump_revision,
            txns::delete_of_absent_key_is_a_noop_without_event,
            txns::delete_then_recreate_gets_a_new_create_revision,
            txns::ops_of_one_txn_share_one_revision,
            txns::the_last_write_of_a_key_in_one_txn_wins,
            ranges::range_prefix_edge_cases,
            ranges::range_pages_walk_a_prefix_in_key_order,
            watches::watch_prefix_filter_matches_range_semantics,
            watches::watch_replays_history_then_continues_live,
            watches::watch_from_a_future_revision_skips_until_then,
            watches::slow_watcher_loses_no_events,
            watches::unread_watch_does_not_block_writers,
            watches::watch_stream_ends_when_store_is_dropped,
            watches::concurrent_watchers_all_see_the_same_stream,
        );
        $crate::conformance_tests!(@multi_thread 4, $new_store;
            concurrency::watch_has_no_gap_and_no_duplicate_under_concurrent_writes,
        );
        $crate::conformance_tests!(@multi_thread 8, $new_store;
            concurrency::concurrent_cas_increments_never_lose_updates,
        );
    };
    (@current_thread $new_store:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $name() {
                $crate::conformance::$module::$name(($new_store)().await).await;
            }
        )*
    };
    (@multi_thread $workers:literal, $new_store:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = $workers)]
            async fn $name() {
                $crate::conformance::$module::$name(($new_store)().await).await;
            }
        )*
    };
}

/// How long a test waits for an event that should come.
pub const WAIT: Duration = Duration::from_secs(10);

/// Puts one key; returns the revision of the commit.
pub async fn put(store: &dyn Store, key: &str, value: &[u8]) -> Revision {
    let result = store.txn(Txn::new().put(key, value.to_vec())).await.unwrap();
    assert!(result.succeeded);
    result.revision
}

pub async fn delete(store: &dyn Store, key: &str) -> TxnResult {
    store.txn(Txn::new().delete(key)).await.unwrap()
}

/// The keys under `prefix`, in the order `range` returns them.
pub async fn keys(store: &dyn Store, prefix: &str) -> Vec<String> {
    let (kvs, _) = store.range(prefix).await.unwrap();
    kvs.into_iter().map(|kv| kv.key).collect()
}

/// The next event of a watch; panics when none comes within [`WAIT`] or the stream ended.
pub async fn next(rx: &mut mpsc::Receiver<Event>) -> Event {
    timeout(WAIT, rx.recv()).await.expect("timed out waiting for a watch event").expect("watch stream ended")
}

/// Asserts nothing more arrives on `rx` for a little while.
pub async fn assert_quiet(rx: &mut mpsc::Receiver<Event>) {
    if let Ok(Some(event)) = timeout(Duration::from_millis(200), rx.recv()).await {
        panic!("unexpected extra event {event:?}");
    }
}

/// Asserts the watch stream ends (within [`WAIT`]) without another event.
pub async fn assert_ends(rx: &mut mpsc::Receiver<Event>) {
    let end = timeout(WAIT, rx.recv()).await.expect("stream did not end");
    assert_eq!(end, None);
}

/// An event's revision and key, the part most assertions compare.
pub fn rev_key(event: &Event) -> (Revision, String) {
    (event.revision(), event.key().to_owned())
}

/// For a backend that bounds its history: checks a store whose keys `k1` to `kN` were put
/// at revisions 1 to N (its current revision) and which keeps the history from revision
/// `oldest` on. Older watches fail with [`StoreError::Compacted`], the kept history
/// replays, and compaction left the current keys alone.
pub async fn assert_history_kept_from(store: &dyn Store, oldest: Revision) {
    let newest = store.revision().await.unwrap();
    for after in [0, oldest - 2] {
        match store.watch("", after).await {
            Err(StoreError::Compacted { requested, oldest: got }) => assert_eq!((requested, got), (after + 1, oldest)),
            other => panic!("expected Compacted, got {other:?}"),
        }
    }
    let mut rx = store.watch("", oldest - 1).await.unwrap();
    for i in oldest..=newest {
        assert_eq!(rev_key(&next(&mut rx).await), (i, format!("k{i}")));
    }
    assert_eq!(store.range("k").await.unwrap().0.len() as Revision, newest);
}

/// For a backend-specific test: a watch's background work ends once its receiver is
/// dropped, with no commit to notice it by. `watchers` counts the backend's live watches.
pub async fn assert_watches_end_when_dropped(store: &dyn Store, watchers: impl Fn() -> usize) {
    put(store, "a", b"").await;
    let rx = store.watch("", 0).await.unwrap();
    let rx2 = store.watch("zzz", 0).await.unwrap();
    assert_eq!(watchers(), 2);
    drop(rx);
    drop(rx2);
    timeout(WAIT, async {
        while watchers() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("watch tasks did not end");
}
