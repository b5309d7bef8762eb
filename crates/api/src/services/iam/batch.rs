//! Changes that span several IAM records (a user and a group, a role and a policy's
//! attachment count) are committed together: every record read is compared at its read
//! revision, every write applied in one transaction, and the whole body runs again when
//! another writer got there first. So both sides of a relation never disagree.

use crate::error::AwsError;
use berth_store::documents::{self, MAX_ATTEMPTS};
use berth_store::{Compare, Revision, Store, Txn};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::{Arc, Mutex, PoisonError};

/// The reads and writes of one attempt. A handle: the body gets a clone, `transact`
/// keeps one to commit what the body did.
#[derive(Clone)]
pub struct Batch<'s> {
    store: &'s dyn Store,
    // std Mutex: held only to record a read or a write, never across an await.
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    reads: Vec<(String, Revision)>,
    txn: Txn,
}

impl Batch<'_> {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The record at `key` (None when absent), to be unchanged when the batch commits.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, AwsError> {
        let doc = documents::get::<T>(self.store, key).await?;
        self.state().reads.push((key.to_string(), doc.as_ref().map_or(0, |d| d.mod_revision)));
        Ok(doc.map(|d| d.value))
    }

    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), AwsError> {
        let bytes = documents::encode(value)?;
        let mut state = self.state();
        state.txn = std::mem::take(&mut state.txn).put(key, bytes);
        Ok(())
    }

    pub fn delete(&self, key: &str) {
        let mut state = self.state();
        state.txn = std::mem::take(&mut state.txn).delete(key);
    }
}

/// Runs `body` and commits what it wrote, retrying on conflict; `body` must have no
/// effects but the batch's.
pub async fn transact<'s, R, Fut>(store: &'s dyn Store, mut body: impl FnMut(Batch<'s>) -> Fut) -> Result<R, AwsError>
where
    Fut: Future<Output = Result<R, AwsError>>,
{
    for _ in 0..MAX_ATTEMPTS {
        let batch = Batch { store, state: Arc::default() };
        let result = body(batch.clone()).await?;
        let State { reads, mut txn } = std::mem::take(&mut *batch.state());
        if txn.success.is_empty() {
            return Ok(result);
        }
        txn.compares = reads.into_iter().map(|(key, rev)| Compare::ModRevision(key, rev)).collect();
        if store.txn(txn).await?.succeeded {
            return Ok(result);
        }
    }
    tracing::error!("IAM change gave up after conflicting writes");
    Err(AwsError::internal("ServiceFailure"))
}
