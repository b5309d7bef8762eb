//! The in-memory backend of [`Store`]: the same semantics as the durable backends,
//! nothing kept across a restart. For tests, and for anything that needs a store but
//! not its durability.
//!
//! One mutex guards the whole state and is never held across an await, so every
//! operation is atomic and commits are totally ordered by revision. The history of the
//! newest commits is kept for watches; see `watch.rs` for how a watcher follows it.

mod watch;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::{Compare, Event, KeyValue, Op, Result, Revision, Store, StoreError, Txn, TxnResult};

/// How many of the most recent revisions [`MemoryStore::new`] keeps for watches.
const DEFAULT_HISTORY_REVISIONS: i64 = 10_000;

/// The in-memory [`Store`]. Cheap to clone: clones share one state, which is dropped
/// with the last clone; open watch streams then end.
///
/// As with the SQLite backend, a watch from a revision whose history is gone fails
/// with [`StoreError::Compacted`] (`requested` = `after + 1`, `oldest` = the oldest
/// revision still kept), and a watcher that falls behind the kept history while it
/// catches up has its stream ended (logged as a warning).
#[derive(Clone, Debug)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// The newest committed revision, for watchers to wait on. Set under the state lock,
    /// so its values only ever grow.
    revisions: tokio::sync::watch::Sender<Revision>,
}

#[derive(Debug)]
struct State {
    revision: Revision,
    kv: BTreeMap<String, KeyValue>,
    /// The events of revisions `compacted + 1 ..= revision`, one entry per revision:
    /// every revision is one commit, so the entry of revision `r` is at
    /// `r - compacted - 1`.
    history: VecDeque<Vec<Event>>,
    /// Every revision <= this has left the history.
    compacted: Revision,
    history_revisions: i64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store that keeps the newest 10,000 revisions for watches.
    pub fn new() -> Self {
        Self::with_history(DEFAULT_HISTORY_REVISIONS)
    }

    /// An empty store that keeps the newest `history_revisions` (minimum 1) revisions
    /// for watches.
    pub fn with_history(history_revisions: i64) -> Self {
        let state = State {
            revision: 0,
            kv: BTreeMap::new(),
            history: VecDeque::new(),
            compacted: 0,
            history_revisions: history_revisions.max(1),
        };
        let (revisions, _) = tokio::sync::watch::channel(0);
        MemoryStore { inner: Arc::new(Inner { state: Mutex::new(state), revisions }) }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held (no caller code runs under it); should a
        // bug here ever poison it, the state is still whole (a txn applies only after its
        // checks), so go on rather than panic every later caller.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The events for keys under `prefix` with `after < revision <= upto`, oldest
    /// first; `None` when part of that history is compacted.
    fn events(&self, prefix: &str, after: Revision, upto: Revision) -> Option<Vec<Event>> {
        if after < self.compacted {
            return None;
        }
        let skip = usize::try_from(after - self.compacted).ok()?;
        let take = usize::try_from(upto.saturating_sub(after)).ok()?;
        let commits = self.history.iter().skip(skip).take(take);
        Some(commits.flatten().filter(|e| e.key().starts_with(prefix)).cloned().collect())
    }

    fn holds(&self, compare: &Compare) -> bool {
        match compare {
            Compare::ModRevision(key, want) => self.kv.get(key).map_or(0, |kv| kv.mod_revision) == *want,
            Compare::Exists(key) => self.kv.contains_key(key),
        }
    }

    fn apply(&mut self, txn: Txn) -> Result<TxnResult> {
        let succeeded = txn.compares.iter().all(|c| self.holds(c));
        let ops = if succeeded { txn.success } else { txn.failure };
        let revision = self
            .revision
            .checked_add(1)
            .ok_or_else(|| StoreError::Backend("memory: store revision overflowed".into()))?;
        let mut events = Vec::new();
        for op in ops {
            match op {
                Op::Put(key, value) => {
                    let create_revision = self.kv.get(&key).map_or(revision, |kv| kv.create_revision);
                    let kv = KeyValue { key: key.clone(), value, create_revision, mod_revision: revision };
                    self.kv.insert(key, kv.clone());
                    events.push(Event::Put(kv));
                }
                Op::Delete(key) => {
                    if self.kv.remove(&key).is_some() {
                        events.push(Event::Delete { key, mod_revision: revision });
                    }
                }
            }
        }
        if events.is_empty() {
            // Nothing changed (empty branch, or only deletes of absent keys): no new revision.
            return Ok(TxnResult { succeeded, revision: self.revision });
        }
        self.revision = revision;
        self.history.push_back(events);
        while self.history.len() as i64 > self.history_revisions {
            self.history.pop_front();
            self.compacted += 1;
        }
        Ok(TxnResult { succeeded, revision })
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn revision(&self) -> Result<Revision> {
        Ok(self.inner.lock().revision)
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        Ok(self.inner.lock().kv.get(key).cloned())
    }

    async fn range_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<KeyValue>, Revision)> {
        use std::ops::Bound;
        let state = self.inner.lock();
        let start = match after {
            Some(after) if after >= prefix => Bound::Excluded(after.to_owned()),
            _ => Bound::Included(prefix.to_owned()),
        };
        let kvs = state.kv.range((start, Bound::Unbounded)).take_while(|(key, _)| key.starts_with(prefix)).take(limit);
        Ok((kvs.map(|(_, kv)| kv.clone()).collect(), state.revision))
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResult> {
        let mut state = self.inner.lock();
        let result = state.apply(txn)?;
        // Still under the lock, so watchers see revisions in commit order.
        self.inner.revisions.send_if_modified(|newest| std::mem::replace(newest, result.revision) != result.revision);
        Ok(result)
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<mpsc::Receiver<Event>> {
        watch::start(self, prefix, after)
    }
}
