//! Typed JSON documents over the Store: read a value with the revision it was read at,
//! list a prefix, and change one key with compare-and-swap, retrying when another writer
//! won. Every crate that keeps serde types in the store goes through here.

use crate::{Compare, KeyValue, Revision, Store, StoreError, Txn};
use serde::{Serialize, de::DeserializeOwned};

/// What can go wrong between a typed document and the bytes in the store.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored document {key} does not decode: {source}")]
    Decode { key: String, source: serde_json::Error },
    #[error("document does not encode: {0}")]
    Encode(serde_json::Error),
    #[error("gave up on {key} after {MAX_ATTEMPTS} conflicting writes")]
    Contended { key: String },
}

/// A decoded value and the `mod_revision` it was read at.
#[derive(Debug, Clone)]
pub struct Doc<T> {
    pub value: T,
    pub mod_revision: Revision,
}

impl<T: DeserializeOwned> Doc<T> {
    /// Decodes a key-value the caller read itself (from a range or a watch event).
    pub fn decode(kv: &KeyValue) -> Result<Self, DocumentError> {
        Ok(Doc { value: decode(&kv.key, &kv.value)?, mod_revision: kv.mod_revision })
    }
}

/// Decodes one stored value; `key` names it in the error.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, DocumentError> {
    serde_json::from_slice(bytes).map_err(|source| DocumentError::Decode { key: key.to_string(), source })
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, DocumentError> {
    serde_json::to_vec(value).map_err(DocumentError::Encode)
}

pub async fn get<T: DeserializeOwned>(store: &dyn Store, key: &str) -> Result<Option<Doc<T>>, DocumentError> {
    match store.get(key).await? {
        Some(kv) => Ok(Some(Doc::decode(&kv)?)),
        None => Ok(None),
    }
}

/// Every document under `prefix`, in key order.
pub async fn list<T: DeserializeOwned>(store: &dyn Store, prefix: &str) -> Result<Vec<Doc<T>>, DocumentError> {
    let (kvs, _) = store.range(prefix).await?;
    kvs.iter().map(Doc::decode).collect()
}

/// Every document under `prefix` that decodes, in key order; the others are logged and
/// skipped. For background loops that must go on past one bad record.
pub async fn list_decodable<T: DeserializeOwned>(store: &dyn Store, prefix: &str) -> Result<Vec<Doc<T>>, StoreError> {
    let (kvs, _) = store.range(prefix).await?;
    Ok(kvs.iter().filter_map(decodable).collect())
}

/// The document in `kv`, or None (logged) when it does not decode.
pub fn decodable<T: DeserializeOwned>(kv: &KeyValue) -> Option<Doc<T>> {
    Doc::decode(kv).map_err(|e| tracing::warn!(error = %e, "skipping a stored document")).ok()
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
/// absent), and writes it only if nobody changed the key in between; otherwise it runs
/// `change` again on the fresh value. Returns `change`'s result of the attempt that
/// committed. `change` must not have side effects beyond its return value.
pub async fn modify<T, R, E>(
    store: &dyn Store,
    key: &str,
    mut change: impl FnMut(Option<T>) -> Result<(Change<T>, R), E>,
) -> Result<R, E>
where
    T: Serialize + DeserializeOwned,
    E: From<DocumentError>,
{
    for _ in 0..MAX_ATTEMPTS {
        let current = get::<T>(store, key).await?;
        let seen = current.as_ref().map_or(0, |d| d.mod_revision);
        let (decision, result) = change(current.map(|d| d.value))?;
        let Change::Put(value) = decision else {
            return Ok(result);
        };
        let txn = Txn::new().when(Compare::ModRevision(key.to_string(), seen)).put(key, encode(&value)?);
        if store.txn(txn).await.map_err(DocumentError::from)?.succeeded {
            return Ok(result);
        }
    }
    Err(DocumentError::Contended { key: key.to_string() }.into())
}
