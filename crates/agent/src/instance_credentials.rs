//! The credentials of an EC2 instance's agent: its instance profile's role, as the ECS
//! agent on EC2 gets them from the instance metadata service. The host running the
//! instance asks the server (`GetInstanceCredentials`, signed with the host's own key),
//! which assumes the role as `ec2.amazonaws.com` (the role's trust policy decides) with
//! the instance id as the session name. They are kept and fetched again before they
//! expire, so a long-running agent never signs with expired keys.

use crate::client::{ApiClient, ClientError, CredentialSource, SigningKeys};
use berth_model::Timestamp;
use berth_model::agent_protocol::TARGET_PREFIX;
use berth_model::fleet::{GetInstanceCredentialsRequest, GetInstanceCredentialsResponse};
use tokio::sync::Mutex;

/// Refresh at most this long before expiry (EC2's metadata service hands out new keys
/// about five minutes before the old ones expire).
const REFRESH_BEFORE_SECS: f64 = 300.0;

pub struct InstanceProfileCredentials {
    /// The host's client: it is allowed to ask for the credentials of its instances.
    host: ApiClient,
    request: GetInstanceCredentialsRequest,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    keys: SigningKeys,
    fetched_at: f64,
    expires_at: f64,
}

impl InstanceProfileCredentials {
    pub fn new(host: ApiClient, host_id: &str, instance_id: &str) -> Self {
        let request = GetInstanceCredentialsRequest { host_id: host_id.into(), instance_id: instance_id.into() };
        Self { host, request, cached: Mutex::new(None) }
    }
}

#[async_trait::async_trait]
impl CredentialSource for InstanceProfileCredentials {
    async fn keys(&self) -> Result<SigningKeys, ClientError> {
        // One fetch at a time: concurrent requests wait for it rather than each asking.
        let mut cached = self.cached.lock().await;
        let now = Timestamp::now().as_secs_f64();
        if let Some(c) = cached.as_ref().filter(|c| !needs_refresh(now, c.fetched_at, c.expires_at)) {
            return Ok(c.keys.clone());
        }
        let response: GetInstanceCredentialsResponse =
            self.host.call(TARGET_PREFIX, "GetInstanceCredentials", &self.request).await?;
        let c = response.credentials;
        let keys = SigningKeys {
            access_key_id: c.access_key_id,
            secret_access_key: c.secret_access_key,
            session_token: Some(c.token),
        };
        *cached = Some(Cached { keys: keys.clone(), fetched_at: now, expires_at: c.expiration.as_secs_f64() });
        Ok(keys)
    }
}

/// Whether credentials fetched at `fetched_at` and expiring at `expires_at` (epoch
/// seconds) should be fetched again at `now`: within five minutes of expiry, or past half
/// their lifetime when they live less than ten minutes.
pub fn needs_refresh(now: f64, fetched_at: f64, expires_at: f64) -> bool {
    let margin = ((expires_at - fetched_at) / 2.0).min(REFRESH_BEFORE_SECS);
    now >= expires_at - margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_before_expiry() {
        // An hour's session: kept until five minutes before it ends.
        assert!(!needs_refresh(1000.0, 1000.0, 4600.0));
        assert!(!needs_refresh(4299.0, 1000.0, 4600.0));
        assert!(needs_refresh(4300.0, 1000.0, 4600.0));
        // A 60 s session (tests cut STS short): after half of it.
        assert!(!needs_refresh(29.0, 0.0, 60.0));
        assert!(needs_refresh(30.0, 0.0, 60.0));
        // Already expired.
        assert!(needs_refresh(100.0, 0.0, 50.0));
    }
}
