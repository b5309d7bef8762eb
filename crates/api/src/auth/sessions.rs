//! Temporary credentials (STS's AssumeRole and GetSessionToken): an `ASIA…` access key, its
//! secret sealed in the store like every other key's, and a session token of which only the
//! SHA-256 is stored, so that a copied data dir holds no usable token. Requests present the
//! token in X-Amz-Security-Token; expired credentials are refused and deleted when they are
//! next presented, and a sweep on issue deletes the ones nobody presented again.

use super::keyring::{Keyring, KeyringError, random_id, random_secret};
use super::sealer::random_bytes;
use berth_model::Timestamp;
use berth_model::sts::{SessionRecord, Tag, keys};
use berth_store::{Store, Txn, documents};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often issuing credentials also deletes the expired ones, at most.
const SWEEP_EVERY_SECONDS: u64 = 60;

#[derive(Default)]
pub struct Settings {
    /// Test-only: the longest any session lives (`BERTH_TEST_SESSION_LIFETIME_SECONDS`).
    lifetime_cap: OnceLock<u32>,
    last_sweep: AtomicU64,
}

/// Who a new session acts as.
pub struct SessionIdentity {
    pub arn: String,
    pub user_id: String,
    pub account: String,
    pub role_arn: Option<String>,
    pub tags: Vec<Tag>,
}

/// New credentials, the only time their secret and token are seen.
pub struct IssuedSession {
    pub record: SessionRecord,
    pub secret: String,
    pub token: String,
}

/// What a presented key id and session token turn out to be.
pub enum SessionLookup {
    Valid {
        record: Box<SessionRecord>,
        secret: String,
    },
    Expired,
    /// No such temporary key, or a token other than the one it was issued with.
    Unknown,
}

impl Keyring {
    /// Test-only: caps every session's lifetime to `seconds`, so that a test can see
    /// credentials expire without waiting STS's 15-minute minimum. Set once, at start-up.
    pub fn cap_session_lifetime_for_tests(&self, seconds: u32) {
        let _ = self.sessions.lifetime_cap.set(seconds);
    }

    /// Issues and stores credentials for `identity`, expiring after `seconds` (or the
    /// test cap, when one is set).
    pub async fn issue_session(
        &self,
        store: &dyn Store,
        identity: SessionIdentity,
        seconds: u32,
    ) -> Result<IssuedSession, KeyringError> {
        self.sweep_expired(store).await;
        let seconds = self.sessions.lifetime_cap.get().map_or(seconds, |cap| seconds.min(*cap));
        let (id, secret, token) = (random_id("ASIA")?, random_secret()?, random_token()?);
        let expiration = Timestamp((Timestamp::now().as_secs_f64() + f64::from(seconds)).floor());
        let record = SessionRecord {
            sealed_secret: self.seal(&secret, &id)?,
            token_sha256: token_digest(&token),
            access_key_id: id,
            arn: identity.arn,
            user_id: identity.user_id,
            account: identity.account,
            expiration,
            role_arn: identity.role_arn,
            tags: identity.tags,
        };
        store.txn(Txn::new().put(keys::session(&record.access_key_id), documents::encode(&record)?)).await?;
        Ok(IssuedSession { record, secret, token })
    }

    /// The temporary key `id` if `token` is the one it was issued with.
    pub async fn lookup_session(
        &self,
        store: &dyn Store,
        id: &str,
        token: &str,
    ) -> Result<SessionLookup, KeyringError> {
        if !(id.starts_with("ASIA") && id.len() == 20 && id.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Ok(SessionLookup::Unknown);
        }
        let Some(doc) = documents::get::<SessionRecord>(store, &keys::session(id)).await? else {
            return Ok(SessionLookup::Unknown);
        };
        let record = doc.value;
        if record.token_sha256 != token_digest(token) {
            return Ok(SessionLookup::Unknown);
        }
        if record.is_expired(Timestamp::now()) {
            store.txn(Txn::new().delete(keys::session(id))).await?;
            self.forget(id);
            return Ok(SessionLookup::Expired);
        }
        let secret = self.open(id, &record.sealed_secret)?;
        Ok(SessionLookup::Valid { record: Box::new(record), secret })
    }

    /// Deletes expired sessions, at most once a minute; a failure only waits for the next.
    async fn sweep_expired(&self, store: &dyn Store) {
        let now = Timestamp::now();
        let secs = now.as_secs_f64() as u64;
        let last = self.sessions.last_sweep.load(Ordering::Relaxed);
        if secs < last.saturating_add(SWEEP_EVERY_SECONDS)
            || self.sessions.last_sweep.compare_exchange(last, secs, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let expired: Vec<String> = match documents::list_decodable::<SessionRecord>(store, keys::SESSIONS).await {
            Ok(all) => all.into_iter().filter(|d| d.value.is_expired(now)).map(|d| d.value.access_key_id).collect(),
            Err(e) => return tracing::warn!(error = %e, "listing sessions to sweep failed"),
        };
        let txn = expired.iter().fold(Txn::new(), |txn, id| txn.delete(keys::session(id)));
        if !expired.is_empty() {
            match store.txn(txn).await {
                Ok(_) => expired.iter().for_each(|id| self.forget(id)),
                Err(e) => tracing::warn!(error = %e, "deleting expired sessions failed"),
            }
        }
    }
}

/// A session token: 96 random bytes in base64 (128 characters).
fn random_token() -> Result<String, KeyringError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes(96)?))
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sealer::Sealer;
    use berth_store::MemoryStore;

    fn identity() -> SessionIdentity {
        SessionIdentity {
            arn: "arn:aws:sts::000000000000:assumed-role/r/s".into(),
            user_id: "AROAEXAMPLE:s".into(),
            account: "000000000000".into(),
            role_arn: Some("arn:aws:iam::000000000000:role/r".into()),
            tags: vec![],
        }
    }

    #[tokio::test]
    async fn a_session_is_found_with_its_token_only() {
        let store = MemoryStore::new();
        let keyring = Keyring::new(Sealer::from_key(&[2u8; 32]).unwrap());
        let issued = keyring.issue_session(&store, identity(), 900).await.unwrap();
        let id = &issued.record.access_key_id;
        assert!(id.starts_with("ASIA") && id.len() == 20);
        match keyring.lookup_session(&store, id, &issued.token).await.unwrap() {
            SessionLookup::Valid { record, secret } => {
                assert_eq!(secret, issued.secret);
                assert_eq!(record.arn, identity().arn);
            }
            _ => panic!("the session should be valid"),
        }
        assert!(matches!(keyring.lookup_session(&store, id, "wrong").await.unwrap(), SessionLookup::Unknown));
        assert!(matches!(
            keyring.lookup_session(&store, "ASIAUNKNOWN000000000", &issued.token).await.unwrap(),
            SessionLookup::Unknown
        ));
        // Neither the secret nor the token is in the store.
        let (all, _) = store.range("").await.unwrap();
        for kv in all {
            let text = String::from_utf8_lossy(&kv.value).to_string();
            assert!(!text.contains(&issued.secret) && !text.contains(&issued.token));
        }
    }

    #[tokio::test]
    async fn an_expired_session_is_refused_and_deleted() {
        let store = MemoryStore::new();
        let keyring = Keyring::new(Sealer::from_key(&[3u8; 32]).unwrap());
        keyring.cap_session_lifetime_for_tests(0);
        let issued = keyring.issue_session(&store, identity(), 900).await.unwrap();
        let id = issued.record.access_key_id.clone();
        assert!(matches!(keyring.lookup_session(&store, &id, &issued.token).await.unwrap(), SessionLookup::Expired));
        assert!(store.get(&keys::session(&id)).await.unwrap().is_none());
        assert!(matches!(keyring.lookup_session(&store, &id, &issued.token).await.unwrap(), SessionLookup::Unknown));
    }

    #[tokio::test]
    async fn issuing_sweeps_expired_sessions() {
        let store = MemoryStore::new();
        let keyring = Keyring::new(Sealer::from_key(&[4u8; 32]).unwrap());
        keyring.cap_session_lifetime_for_tests(0);
        let first = keyring.issue_session(&store, identity(), 900).await.unwrap();
        keyring.sessions.last_sweep.store(0, Ordering::Relaxed);
        keyring.issue_session(&store, identity(), 900).await.unwrap();
        assert!(store.get(&keys::session(&first.record.access_key_id)).await.unwrap().is_none());
    }
}
