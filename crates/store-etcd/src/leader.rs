//! Leader election over etcd: a lease-guarded key. A server campaigns by creating the
//! leader key (if absent) bound to a lease of its own, which it keeps alive; the
//! creation's revision is its term, and [`EtcdStore::fenced`] guards every controller
//! write with "the leader key still has that revision". When the leader dies its lease
//! expires after the TTL, etcd deletes the key, and a waiting server's creation wins.
//! A leader that cannot renew its lease in time considers itself deposed at once —
//! before etcd expires the lease — and even if it did not, its writes would be fenced.

use std::time::{Duration, Instant};

use etcd_client::{Client, Compare, CompareOp, EventType, PutOptions, TxnOp, TxnOpResponse, WatchOptions};
use tokio::sync::watch as signal;

use crate::EtcdStore;

/// A server's candidacy for the leader key.
pub struct Election {
    client: Client,
    key: Vec<u8>,
    id: String,
    ttl: Duration,
}

/// One term as leader. [`Term::lost`] resolves when it ends; dropping the term resigns
/// (the lease is revoked, so another server takes over at once).
pub struct Term {
    /// The leader key's `mod_revision` (etcd's numbering), the fencing token.
    pub mod_revision: i64,
    lease: i64,
    lost: signal::Receiver<bool>,
    client: Client,
    keeper: tokio::task::JoinHandle<()>,
}

/// The key under `namespace` that holds the leader's id (outside the namespace itself,
/// so berth's own ranges and watches never see it).
pub fn leader_key(namespace: &str) -> Vec<u8> {
    format!("{}-leader", namespace.trim_end_matches('/')).into_bytes()
}

/// The current leader's id, if there is one.
pub async fn current_leader(store: &EtcdStore) -> Option<String> {
    let key = leader_key(store.namespace());
    let response = store.etcd_get("reading the leader", &key, None).await.ok()?;
    response.kvs().first().map(|kv| String::from_utf8_lossy(kv.value()).into_owned())
}

impl Election {
    /// `id` names this server in the leader key (its API URL, say); `ttl` is how long a
    /// dead leader keeps the key (whole seconds, at least one).
    pub fn new(store: &EtcdStore, id: String, ttl: Duration) -> Self {
        let key = leader_key(store.namespace());
        Self { client: store.client(), key, id, ttl: ttl.max(Duration::from_secs(1)) }
    }

    /// Waits until this server is the leader; retries through etcd outages.
    pub async fn campaign(&self) -> Term {
        loop {
            match self.try_once().await {
                Ok(Some(term)) => return term,
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "campaigning for leadership");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
    }

    /// One attempt: the term when the key was free, else waits for it to be deleted
    /// (or for a while) and returns `None`.
    async fn try_once(&self) -> Result<Option<Term>, etcd_client::Error> {
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let lease = self.client.lease_client().grant(ttl, None).await?.id();
        let granted = Instant::now();
        let claim = etcd_client::Txn::new()
            .when([Compare::create_revision(self.key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(self.key.clone(), self.id.clone(), Some(PutOptions::new().with_lease(lease)))])
            .or_else([TxnOp::get(self.key.clone(), None)]);
        let response = self.client.kv_client().txn(claim).await?;
        let revision = response.header().map_or(0, |h| h.revision());
        if response.succeeded() {
            let (tx, lost) = signal::channel(false);
            let keeper =
                tokio::spawn(keep_alive(self.client.clone(), self.key.clone(), lease, self.ttl, granted, revision, tx));
            return Ok(Some(Term { mod_revision: revision, lease, lost, client: self.client.clone(), keeper }));
        }
        let _ = self.client.lease_client().revoke(lease).await;
        let held_at = match response.op_responses().first() {
            Some(TxnOpResponse::Get(get)) => get.kvs().first().map(|kv| kv.mod_revision()),
            _ => None,
        };
        let Some(held_at) = held_at else { return Ok(None) };
        self.wait_for_release(held_at).await?;
        Ok(None)
    }

    /// Watches the leader key from `held_at` until it is deleted (or a TTL passes, to
    /// re-check after an unnoticed change).
    async fn wait_for_release(&self, held_at: i64) -> Result<(), etcd_client::Error> {
        let options = WatchOptions::new().with_start_revision(held_at + 1);
        let mut stream = self.client.watch_client().watch(self.key.clone(), Some(options)).await?;
        let deadline = tokio::time::sleep(self.ttl * 2);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return Ok(()),
                message = stream.message() => match message? {
                    Some(r) if r.events().iter().any(|e| e.event_type() == EventType::Delete) => return Ok(()),
                    Some(r) if r.canceled() => return Ok(()),
                    Some(_) => {}
                    None => return Ok(()),
                },
            }
        }
    }
}

/// Renews the lease every third of the TTL (retrying at once, every 100 ms, when a
/// renewal fails: etcd's balancer may have picked a member that is down). The term is
/// lost (the signal set) when no renewal succeeded for the TTL minus a margin, when etcd
/// says the lease is gone, or when the leader key no longer has the term's revision.
async fn keep_alive(
    client: Client,
    key: Vec<u8>,
    lease: i64,
    ttl: Duration,
    granted: Instant,
    revision: i64,
    lost: signal::Sender<bool>,
) {
    let margin = ttl / 4;
    let mut valid_until = granted + ttl - margin;
    let mut keeper = None;
    let mut wait = ttl / 3;
    loop {
        tokio::time::sleep(wait).await;
        wait = Duration::from_millis(100);
        if Instant::now() >= valid_until {
            break;
        }
        if keeper.is_none() {
            keeper = client.lease_client().keep_alive(lease).await.ok();
        }
        let Some((k, stream)) = keeper.as_mut() else { continue };
        let sent = Instant::now();
        let answer = tokio::time::timeout(valid_until - sent, async {
            k.keep_alive().await?;
            stream.message().await
        })
        .await;
        match answer {
            Ok(Ok(Some(r))) if r.ttl() > 0 => {
                valid_until = sent + ttl - margin;
                wait = ttl / 3;
            }
            Ok(Ok(Some(_))) => break,
            _ => {
                keeper = None;
                continue;
            }
        }
        let held = client.kv_client().get(key.clone(), None).await;
        if let Ok(held) = held
            && held.kvs().first().map(|kv| kv.mod_revision()) != Some(revision)
        {
            break;
        }
    }
    let _ = lost.send(true);
}

impl Term {
    /// Resolves when this term is over.
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        self.keeper.abort();
        let (mut lease, id) = (self.client.lease_client(), self.lease);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = lease.revoke(id).await;
            });
        }
    }
}
