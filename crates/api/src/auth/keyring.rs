//! Access keys: stored in the Store with their secrets sealed, looked up by id when a
//! request is verified. The store is the truth for every request: a key that IAM
//! deactivated or deleted is refused at once. Only the opened secret is cached, bound to
//! the sealed value it was opened from, so the cache saves the decryption and nothing else.

use super::sealer::{SealError, Sealer, random_bytes};
use berth_model::Timestamp;
use berth_model::arn::Scope;
use berth_model::keys;
use berth_model::records::{AccessKeyRecord, AccessKeyStatus, KeyUse};
use berth_store::documents;
use berth_store::{Compare, Store, Txn};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// An access key whose secret has been opened, ready to verify signatures.
pub struct OpenKey {
    pub record: AccessKeyRecord,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("state store: {0}")]
    Store(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<crate::error::AwsError> for KeyringError {
    fn from(e: crate::error::AwsError) -> Self {
        KeyringError::Store(e.message)
    }
}

impl From<berth_store::StoreError> for KeyringError {
    fn from(e: berth_store::StoreError) -> Self {
        KeyringError::Store(e.to_string())
    }
}

impl From<berth_store::documents::DocumentError> for KeyringError {
    fn from(e: berth_store::documents::DocumentError) -> Self {
        KeyringError::Store(e.to_string())
    }
}

/// A secret opened from `sealed`.
struct Opened {
    sealed: String,
    secret: String,
}

pub struct Keyring {
    sealer: Sealer,
    // std RwLock: held only for a map lookup or insert, never across an await.
    opened: RwLock<HashMap<String, Arc<Opened>>>,
    /// Temporary credentials' settings (`auth/sessions.rs`).
    pub(super) sessions: super::sessions::Settings,
}

impl Keyring {
    pub fn new(sealer: Sealer) -> Self {
        Self { sealer, opened: RwLock::new(HashMap::new()), sessions: Default::default() }
    }

    /// The data dir's sealer, which also seals SSM and Secrets Manager values at rest.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The active key `id` as the store has it now, or None when there is no such key
    /// or it is inactive.
    pub async fn lookup(&self, store: &dyn Store, id: &str) -> Result<Option<OpenKey>, KeyringError> {
        if !is_valid_key_id(id) {
            return Ok(None);
        }
        let Some(doc) = documents::get::<AccessKeyRecord>(store, &keys::access_key(id)).await? else {
            self.forget(id);
            return Ok(None);
        };
        let record = doc.value;
        if record.status != AccessKeyStatus::Active {
            return Ok(None);
        }
        let secret = self.open(id, &record.sealed_secret)?;
        Ok(Some(OpenKey { record, secret }))
    }

    /// The secret sealed as `sealed` for key `id`, opened once and then cached.
    pub(super) fn open(&self, id: &str, sealed: &str) -> Result<String, SealError> {
        let cached = self.opened.read().ok().and_then(|c| c.get(id).cloned());
        if let Some(hit) = cached.filter(|hit| hit.sealed == sealed) {
            return Ok(hit.secret.clone());
        }
        let secret = self.sealer.open(sealed, id)?;
        let opened = Arc::new(Opened { sealed: sealed.to_string(), secret: secret.clone() });
        if let Ok(mut cache) = self.opened.write() {
            cache.insert(id.to_string(), opened);
        }
        Ok(secret)
    }

    /// `secret` sealed for key `id` (the id is bound in, so a sealed value moved to
    /// another key does not open).
    pub(super) fn seal(&self, secret: &str, id: &str) -> Result<String, SealError> {
        self.sealer.seal(secret, id)
    }

    /// Records that key `record` signed an accepted request to `service` in `region`, when that
    /// is news (`KeyUse::is_due`: at most one write an hour per key and service). A failure is
    /// logged, never the request's: the use is only reported, it decides nothing.
    pub async fn note_use(&self, store: &dyn Store, record: &AccessKeyRecord, service: &str, region: &str) {
        let now = Timestamp::now();
        if !KeyUse::is_due(record.last_used.as_ref(), now, service, region) {
            return;
        }
        let noted =
            documents::modify(store, &keys::access_key(&record.access_key_id), |current: Option<AccessKeyRecord>| {
                Ok::<_, documents::DocumentError>(match current {
                    Some(mut key) if KeyUse::is_due(key.last_used.as_ref(), now, service, region) => {
                        let used = KeyUse { date: now, service_name: service.to_string(), region: region.to_string() };
                        key.last_used = Some(used);
                        (documents::Change::Put(key), ())
                    }
                    _ => (documents::Change::Keep, ()),
                })
            })
            .await;
        if let Err(e) = noted {
            tracing::warn!(error = %e, key = %record.access_key_id, "could not record the access key's last use");
        }
    }

    /// Drops the opened secret of a key that was deleted.
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.opened.write() {
            cache.remove(id);
        }
    }

    /// A new active key acting as `arn` / `user_id`: its record (secret sealed, ready to
    /// store at `keys::access_key`) and its secret, which is shown once and never again.
    pub fn issue(&self, account: &str, arn: &str, user_id: &str) -> Result<(AccessKeyRecord, String), KeyringError> {
        let (id, secret) = (random_key_id()?, random_secret()?);
        let record = AccessKeyRecord {
            access_key_id: id.clone(),
            arn: arn.to_string(),
            user_id: user_id.to_string(),
            account: account.to_string(),
            status: AccessKeyStatus::Active,
            create_date: Timestamp::now(),
            sealed_secret: self.sealer.seal(&secret, &id)?,
            last_used: None,
        };
        Ok((record, secret))
    }

    /// Stores a key for the root identity of `scope`'s account (replacing the secret if
    /// the id exists) and makes it the root credential.
    async fn put_root(&self, store: &dyn Store, scope: &Scope, id: &str, secret: &str) -> Result<(), KeyringError> {
        let record = AccessKeyRecord {
            access_key_id: id.to_string(),
            arn: format!("arn:aws:iam::{}:root", scope.account),
            user_id: scope.account.clone(),
            account: scope.account.clone(),
            status: AccessKeyStatus::Active,
            create_date: Timestamp::now(),
            sealed_secret: self.sealer.seal(secret, id)?,
            last_used: None,
        };
        let txn = Txn::new()
            .put(keys::access_key(id), documents::encode(&record)?)
            .put(keys::ROOT_ACCESS_KEY, id.as_bytes().to_vec());
        store.txn(txn).await?;
        Ok(())
    }
}

/// The root credential and whether this start created or changed it.
pub struct RootCredential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub changed: bool,
}

/// Makes sure a root credential exists: the one given (from BERTH_ROOT_ACCESS_KEY_ID /
/// BERTH_ROOT_SECRET_ACCESS_KEY) when there is one, else the one kept from an earlier
/// start, else a new random one.
pub async fn ensure_root(
    keyring: &Keyring,
    store: &dyn Store,
    scope: &Scope,
    given: Option<(String, String)>,
) -> Result<RootCredential, KeyringError> {
    let current = match store.get(keys::ROOT_ACCESS_KEY).await? {
        Some(kv) => {
            let id =
                String::from_utf8(kv.value).map_err(|_| KeyringError::Invalid("root key id is not UTF-8".into()))?;
            keyring.lookup(store, &id).await?
        }
        None => None,
    };
    if let Some((id, secret)) = given {
        if !is_valid_key_id(&id) {
            return Err(KeyringError::Invalid(format!(
                "BERTH_ROOT_ACCESS_KEY_ID '{id}' is not a valid access key id: use 16 to 128 letters and digits."
            )));
        }
        if secret.len() < 8 || secret.len() > 128 || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(KeyringError::Invalid(
                "BERTH_ROOT_SECRET_ACCESS_KEY must be 8 to 128 characters without spaces.".into(),
            ));
        }
        let unchanged = current.as_ref().is_some_and(|k| k.record.access_key_id == id && k.secret == secret);
        if !unchanged {
            keyring.put_root(store, scope, &id, &secret).await?;
        }
        return Ok(RootCredential { access_key_id: id, secret_access_key: secret, changed: !unchanged });
    }
    if let Some(key) = current {
        return Ok(RootCredential {
            access_key_id: key.record.access_key_id.clone(),
            secret_access_key: key.secret.clone(),
            changed: false,
        });
    }
    let (id, secret) = (random_key_id()?, random_secret()?);
    // Only the first writer wins if two servers share a store and start together.
    let claimed = store
        .txn(Txn::new().when(Compare::ModRevision(keys::ROOT_ACCESS_KEY.into(), 0)).put("iam/root-claim", vec![]))
        .await?;
    if !claimed.succeeded {
        return Err(KeyringError::Invalid("another server created the root key at the same time; start again".into()));
    }
    keyring.put_root(store, scope, &id, &secret).await?;
    Ok(RootCredential { access_key_id: id, secret_access_key: secret, changed: true })
}

fn is_valid_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `AKIA` and 16 characters of the base32 alphabet, as AWS access key ids look.
fn random_key_id() -> Result<String, SealError> {
    random_id("AKIA")
}

/// `prefix` and 16 characters of the base32 alphabet.
pub(super) fn random_id(prefix: &str) -> Result<String, SealError> {
    Ok(berth_model::iam::ids::with_prefix(prefix, random_bytes(16)?.iter()))
}

/// 40 characters, as AWS secret keys are (30 random bytes in base64).
pub(super) fn random_secret() -> Result<String, SealError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes(30)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    fn keyring() -> Keyring {
        Keyring::new(Sealer::from_key(&[1u8; 32]).unwrap())
    }

    #[tokio::test]
    async fn random_root_is_created_once_then_reused() {
        let store = MemoryStore::new();
        let scope = Scope::new("us-east-1", "000000000000");
        let first = ensure_root(&keyring(), &store, &scope, None).await.unwrap();
        assert!(first.changed);
        assert!(first.access_key_id.starts_with("AKIA") && first.access_key_id.len() == 20);
        assert_eq!(first.secret_access_key.len(), 40);
        let again = ensure_root(&keyring(), &store, &scope, None).await.unwrap();
        assert!(!again.changed);
        assert_eq!(again.access_key_id, first.access_key_id);
        assert_eq!(again.secret_access_key, first.secret_access_key);
        // The store holds no plaintext secret.
        let (all, _) = store.range("").await.unwrap();
        assert!(all.iter().all(|kv| !String::from_utf8_lossy(&kv.value).contains(&first.secret_access_key)));
    }

    #[tokio::test]
    async fn given_root_replaces_and_is_looked_up() {
        let store = MemoryStore::new();
        let scope = Scope::new("us-east-1", "123456789012");
        let k = keyring();
        ensure_root(&k, &store, &scope, None).await.unwrap();
        let given = ("AKIDBERTHTEST0000001".to_string(), "berth-test-secret".to_string());
        let root = ensure_root(&k, &store, &scope, Some(given.clone())).await.unwrap();
        assert!(root.changed);
        assert!(!ensure_root(&k, &store, &scope, Some(given)).await.unwrap().changed);
        let found = k.lookup(&store, "AKIDBERTHTEST0000001").await.unwrap().unwrap();
        assert_eq!(found.secret, "berth-test-secret");
        assert_eq!(found.record.arn, "arn:aws:iam::123456789012:root");
        let (all, _) = store.range("").await.unwrap();
        assert!(all.iter().all(|kv| !String::from_utf8_lossy(&kv.value).contains("berth-test-secret")));
        assert!(k.lookup(&store, "AKIDUNKNOWN000000000").await.unwrap().is_none());
        assert!(k.lookup(&store, "../../etc").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn issued_keys_are_refused_once_deactivated_or_deleted() {
        let store = MemoryStore::new();
        let k = keyring();
        let (record, secret) = k.issue("1", "arn:aws:iam::1:user/u", "AIDAEXAMPLE").unwrap();
        let key = keys::access_key(&record.access_key_id);
        store.txn(Txn::new().put(key.clone(), documents::encode(&record).unwrap())).await.unwrap();
        let found = k.lookup(&store, &record.access_key_id).await.unwrap().unwrap();
        assert_eq!((found.secret.as_str(), found.record.arn.as_str()), (secret.as_str(), "arn:aws:iam::1:user/u"));

        // The opened secret stays cached, but the record is read again: a deactivated key is refused at once.
        let inactive = AccessKeyRecord { status: AccessKeyStatus::Inactive, ..record.clone() };
        store.txn(Txn::new().put(key.clone(), documents::encode(&inactive).unwrap())).await.unwrap();
        assert!(k.lookup(&store, &record.access_key_id).await.unwrap().is_none());
        store.txn(Txn::new().put(key.clone(), documents::encode(&record).unwrap())).await.unwrap();
        assert!(k.lookup(&store, &record.access_key_id).await.unwrap().is_some());
        store.txn(Txn::new().delete(key)).await.unwrap();
        assert!(k.lookup(&store, &record.access_key_id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn rejects_unusable_given_credentials() {
        let store = MemoryStore::new();
        let scope = Scope::new("us-east-1", "000000000000");
        for (id, secret) in [
            ("short", "long-enough-secret"),
            ("AKIDBERTHTEST0000001", "x"),
            ("AKIDBERTHTEST0000001", "has space in it"),
        ] {
            assert!(ensure_root(&keyring(), &store, &scope, Some((id.into(), secret.into()))).await.is_err());
        }
    }
}
