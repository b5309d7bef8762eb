//! Typed JSON documents over the Store: read a value with the revision it was read
//! at, and change one key with compare-and-swap, retrying when another writer won.

use crate::error::AwsError;
use berth_store::{Compare, Revision, Store, Txn};
use serde::{Serialize, de::DeserializeOwned};

/// A decoded value and the `mod_revision` it was read at.
#[derive(Debug, Clone)]
pub struct Doc<T> {
    pub value: T,
    pub mod_revision: Revision,
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, AwsError> {
    serde_json::from_slice(bytes).map_err(|e| {
        tracing::error!(key, error = %e, "stored document does not decode");
        AwsError::internal("InternalFailure")
    })
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, AwsError> {
    serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "document does not encode");
        AwsError::internal("InternalFailure")
    })
}

pub async fn get<T: DeserializeOwned>(store: &dyn Store, key: &str) -> Result<Option<Doc<T>>, AwsError> {
    match store.get(key).await? {
        Some(kv) => Ok(Some(Doc { value: decode(key, &kv.value)?, mod_revision: kv.mod_revision })),
        None => Ok(None),
    }
}

/// Every document under `prefix`, in key order.
pub async fn list<T: DeserializeOwned>(store: &dyn Store, prefix: &str) -> Result<Vec<Doc<T>>, AwsError> {
    let (kvs, _) = store.range(prefix).await?;
    kvs.into_iter().map(|kv| Ok(Doc { value: decode(&kv.key, &kv.value)?, mod_revision: kv.mod_revision })).collect()
}

/// What a change function decides for the document it was shown.
pub enum Change<T> {
    Put(T),
    Keep,
}

/// How many times a compare-and-swap is retried before the request fails. Conflicts
/// only happen when writers race on one key; this bound just keeps a bug from spinning.
pub const MAX_ATTEMPTS: usize = 64;

/// Reads `key`, lets `change` decide the new value from the current one (None when
/// absent), and writes it only if nobody changed the key in between; otherwise it
/// runs `change` again on the fresh value. Returns `change`'s result of the attempt
/// that committed. `change` must not have side effects beyond its return value.
pub async fn modify<T, R>(
    store: &dyn Store,
    key: &str,
    mut change: impl FnMut(Option<T>) -> Result<(Change<T>, R), AwsError>,
) -> Result<R, AwsError>
where
    T: Serialize + DeserializeOwned,
{
    for _ in 0..MAX_ATTEMPTS {
        let current = get::<T>(store, key).await?;
        let seen = current.as_ref().map_or(0, |d| d.mod_revision);
        let (decision, result) = change(current.map(|d| d.value))?;
        let Change::Put(value) = decision else {
            return Ok(result);
        };
        let txn = Txn::new().when(Compare::ModRevision(key.to_string(), seen)).put(key, encode(&value)?);
        if store.txn(txn).await?.succeeded {
            return Ok(result);
        }
    }
    tracing::error!(key, "gave up after {MAX_ATTEMPTS} conflicting writes");
    Err(AwsError::internal("InternalFailure"))
}
