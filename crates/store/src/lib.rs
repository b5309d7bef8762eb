//! berth's state store: a versioned key-value store with multi-key transactions,
//! prefix reads and watches from a revision — the etcd data model, on purpose, so that
//! backends are interchangeable without touching the handlers. This crate holds the
//! [`Store`] trait, typed [`documents`], the in-memory backend [`MemoryStore`] and, with
//! the `conformance` feature, the test suite every backend must pass.
//!
//! Every committed transaction bumps one store-wide revision. Each key remembers the
//! revision that created it and the one that last modified it; a transaction's
//! compares test those revisions (compare-and-swap), so read-modify-write cycles are
//! safe without locks held across awaits.
#![forbid(unsafe_code)]

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod documents;
mod memory;

pub use memory::MemoryStore;

use async_trait::async_trait;
use tokio::sync::mpsc;

/// A store-wide, strictly increasing commit counter. Revision 0 means "never written".
pub type Revision = i64;

/// One key and its current value, with the revisions that created and last changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    pub create_revision: Revision,
    pub mod_revision: Revision,
}

/// A condition a transaction checks before applying its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// The key's `mod_revision` equals the given one; `0` means the key must be absent.
    ModRevision(String, Revision),
    /// The key exists (with any value).
    Exists(String),
}

/// A write inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(String, Vec<u8>),
    Delete(String),
}

/// All compares are checked, then either every op of `success` or every op of
/// `failure` is applied atomically, in one commit.
/// A branch that writes one key more than once leaves it as the last write says; which
/// of the earlier writes watchers see is backend-specific (etcd refuses duplicate keys in
/// a branch, so its backend sends only the last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    pub compares: Vec<Compare>,
    pub success: Vec<Op>,
    pub failure: Vec<Op>,
}

impl Txn {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn when(mut self, compare: Compare) -> Self {
        self.compares.push(compare);
        self
    }
    pub fn put(mut self, key: impl Into<String>, value: Vec<u8>) -> Self {
        self.success.push(Op::Put(key.into(), value));
        self
    }
    pub fn delete(mut self, key: impl Into<String>) -> Self {
        self.success.push(Op::Delete(key.into()));
        self
    }
}

/// What a transaction did. `revision` is the store revision after it: the new one when
/// the applied branch wrote anything, the unchanged current one otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnResult {
    pub succeeded: bool,
    pub revision: Revision,
}

/// A change seen by a watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Put(KeyValue),
    /// The key and the revision of the commit that deleted it.
    Delete {
        key: String,
        mod_revision: Revision,
    },
}

impl Event {
    pub fn key(&self) -> &str {
        match self {
            Event::Put(kv) => &kv.key,
            Event::Delete { key, .. } => key,
        }
    }
    pub fn revision(&self) -> Revision {
        match self {
            Event::Put(kv) => kv.mod_revision,
            Event::Delete { mod_revision, .. } => *mod_revision,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The watch asked for history that compaction already removed.
    #[error("revision {requested} has been compacted; the oldest available is {oldest}")]
    Compacted { requested: Revision, oldest: Revision },
    #[error("store backend error: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store every berth component talks to. A write that returned `Ok` is committed:
/// every later read and watch sees it, and on a durable backend it survives a crash.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The current store revision.
    async fn revision(&self) -> Result<Revision>;
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;
    /// Every key starting with `prefix`, in key order, and the revision they were read at.
    async fn range(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision)> {
        self.range_page(prefix, None, usize::MAX).await
    }
    /// One page of a range: at most `limit` keys starting with `prefix` and greater than
    /// `after` (from the first when `after` is None), in key order, and the revision they
    /// were read at. Paged listings read one page, not the whole prefix.
    async fn range_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<KeyValue>, Revision)>;
    async fn txn(&self, txn: Txn) -> Result<TxnResult>;
    /// Events for keys under `prefix` with revision > `after`, oldest first: first the
    /// history since `after`, then live events as they commit. The stream ends when the
    /// receiver is dropped or the store shuts down.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>>;
}

/// Runs forever: notifies `wake` on every change under `prefix` (re-watching from the
/// current revision when the stream ends or fails). What the control loops wait on.
pub async fn notify_on_changes(
    store: std::sync::Arc<dyn Store>,
    prefix: &'static str,
    wake: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        let after = store.revision().await.unwrap_or(0);
        match store.watch(prefix, after).await {
            Ok(mut events) => {
                while events.recv().await.is_some() {
                    wake.notify_one();
                }
            }
            Err(e) => tracing::warn!(prefix, error = %e, "store watch failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
