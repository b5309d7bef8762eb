//! berth_store's backend test suite against SQLite (an in-memory database: the suite
//! tests semantics; durability has its own tests in src/tests.rs).

use std::sync::Arc;

use berth_store::Store;
use berth_store_sqlite::{SqliteOptions, SqliteStore};

async fn new_store() -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_in_memory().unwrap())
}

berth_store::conformance_tests!(new_store);

/// The suite's slow watcher, on buffers so small that its broadcast subscription
/// overflows: the watcher catches up from the history table.
#[tokio::test]
async fn watch_recovers_from_broadcast_lag_without_losing_events() {
    let options = SqliteOptions { broadcast_capacity: 2, watch_channel_capacity: 1, ..SqliteOptions::default() };
    let store = SqliteStore::open_in_memory_with(options).unwrap();
    berth_store::conformance::watches::slow_watcher_loses_no_events(Arc::new(store)).await;
}
