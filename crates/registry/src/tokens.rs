//! Registry passwords as GetAuthorizationToken hands them out: `AWS:<password>`, the
//! password being `<base64url(principal ARN)>.<expiry epoch>.<hex HMAC-SHA256(principal,
//! expiry)>` keyed by a secret in `<data-dir>/registry/token.key` (mode 0600). A pull or push
//! with it is authorized for that principal, as ECR does. Nothing is stored per token, and
//! tokens stay valid across restarts until they expire.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use subtle::ConstantTimeEq;

/// How long a token is valid: 12 hours, as ECR's.
pub const VALIDITY_SECS: u64 = 12 * 3600;

pub struct Tokens {
    key: Vec<u8>,
}

impl Tokens {
    /// Loads the signing key, creating it on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(key) if key.len() == 32 => return Ok(Self { key }),
            Ok(_) => return Err(std::io::Error::other(format!("{} is not a 32-byte key", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        f.write_all(&key)?;
        f.sync_all()?;
        Ok(Self { key })
    }

    pub fn from_key(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, principal: &str, expiry: u64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("berth-ecr-token\n{principal}\n{expiry}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The password for `principal` (an IAM ARN), valid until `expiry` (epoch seconds).
    pub fn password(&self, principal: &str, expiry: u64) -> String {
        format!("{}.{expiry}.{}", URL_SAFE_NO_PAD.encode(principal), self.mac(principal, expiry))
    }

    /// GetAuthorizationToken's `authorizationToken`: base64 of `AWS:<password>`.
    pub fn authorization_token(&self, principal: &str, expiry: u64) -> String {
        STANDARD.encode(format!("AWS:{}", self.password(principal, expiry)))
    }

    /// The principal a password was issued to, if it is genuine and not expired at `now`.
    pub fn verify(&self, password: &str, now: u64) -> Option<String> {
        let mut parts = password.splitn(3, '.');
        let (principal, expiry, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let principal = String::from_utf8(URL_SAFE_NO_PAD.decode(principal).ok()?).ok()?;
        let expiry: u64 = expiry.parse().ok()?;
        let genuine: bool = self.mac(&principal, expiry).as_bytes().ct_eq(mac.as_bytes()).into();
        (genuine && now < expiry).then_some(principal)
    }

    /// Checks an `Authorization: Basic ...` header value: user `AWS` and a valid password.
    pub fn verify_basic(&self, header: &str, now: u64) -> Option<String> {
        let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        (user == "AWS").then_some(())?;
        self.verify(password, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire() {
        let t = Tokens::from_key(&[1u8; 32]);
        let root = "arn:aws:iam::000000000000:root";
        let token = t.authorization_token(root, 1000);
        let decoded = String::from_utf8(STANDARD.decode(&token).unwrap()).unwrap();
        let (user, password) = decoded.split_once(':').unwrap();
        assert_eq!(user, "AWS");
        assert!(!password.contains(':'));
        assert_eq!(t.verify(password, 999).as_deref(), Some(root));
        assert_eq!(t.verify(password, 1000), None);
        assert_eq!(t.verify_basic(&format!("Basic {token}"), 10).as_deref(), Some(root));
        let other = URL_SAFE_NO_PAD.encode("arn:aws:iam::000000000000:user/mallory");
        let (_, rest) = password.split_once('.').unwrap();
        assert_eq!(t.verify(&format!("{other}.{rest}"), 999), None);
        assert_eq!(Tokens::from_key(&[2u8; 32]).verify(password, 999), None);
        assert_eq!(t.verify(&password.replace(".1000.", ".9999."), 999), None);
        assert_eq!(t.verify_basic(&format!("Basic {}", STANDARD.encode(format!("bob:{password}"))), 10), None);
        assert_eq!(t.verify_basic("Bearer x", 10), None);
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.key");
        let a = Tokens::load_or_create(&path).unwrap().password("arn:aws:iam::1:root", 5);
        assert_eq!(Tokens::load_or_create(&path).unwrap().password("arn:aws:iam::1:root", 5), a);
    }
}
