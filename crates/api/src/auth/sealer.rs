//! Secrets at rest: access-key secrets, SSM parameter values and Secrets Manager values
//! are stored sealed with XChaCha20-Poly1305 under a 256-bit master key that lives only
//! in `<data-dir>/master.key` (mode 0600). A copy of the store alone (a backup, an etcd
//! snapshot) reveals no secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("a sealed secret does not open with this data dir's master key")]
    Corrupt,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// Loads the master key, creating it (mode 0600, never overwritten) on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, SealError> {
        let err = |reason: String| SealError::KeyFile { path: path.display().to_string(), reason };
        let key = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes(KEY_LEN)?;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| err(e.to_string()))?;
                f.write_all(&key).and_then(|_| f.sync_all()).map_err(|e| err(e.to_string()))?;
                key
            }
            Err(e) => return Err(err(e.to_string())),
        };
        Self::from_key(&key).ok_or_else(|| err(format!("holds {} bytes, expected {KEY_LEN}", key.len())))
    }

    pub fn from_key(key: &[u8]) -> Option<Self> {
        (key.len() == KEY_LEN).then(|| Self { cipher: XChaCha20Poly1305::new(key.into()) })
    }

    /// Seals `secret`, bound to `context` (the access key id): a sealed secret copied onto
    /// another key's record does not open.
    pub fn seal(&self, secret: &str, context: &str) -> Result<String, SealError> {
        let nonce = random_bytes(NONCE_LEN)?;
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| SealError::Corrupt)?;
        Ok(STANDARD.encode([nonce, sealed].concat()))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SealError::Corrupt)
    }
}

pub fn random_bytes(n: usize) -> Result<Vec<u8>, SealError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| SealError::Random(e.to_string()))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn seals_and_opens_bound_to_context() {
        let s = Sealer::from_key(&[7u8; 32]).unwrap();
        let sealed = s.seal("wJalrXUtnFEMI/K7MDENG", "AKID1").unwrap();
        assert!(!sealed.contains("wJalr"));
        assert_eq!(s.open(&sealed, "AKID1").unwrap(), "wJalrXUtnFEMI/K7MDENG");
        assert!(s.open(&sealed, "AKID2").is_err());
        assert!(Sealer::from_key(&[8u8; 32]).unwrap().open(&sealed, "AKID1").is_err());
        assert!(s.open("not base64!", "AKID1").is_err());
        assert!(s.open("AAAA", "AKID1").is_err());
        assert_ne!(s.seal("x", "c").unwrap(), s.seal("x", "c").unwrap(), "nonces are random");
    }

    #[test]
    fn master_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let sealed = Sealer::load_or_create(&path).unwrap().seal("s", "c").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(Sealer::load_or_create(&path).unwrap().open(&sealed, "c").unwrap(), "s");
        std::fs::write(&path, b"short").unwrap();
        assert!(Sealer::load_or_create(&path).is_err());
    }
}
