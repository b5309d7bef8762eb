//! The etcd v3 backend of berth's [`Store`]: what several `berth server`s share for a
//! highly available control plane (`berth server --store etcd://host:2379,host:2379`).
//! The Store trait mirrors etcd's data model, so the mapping is direct: a berth
//! transaction is one etcd `Txn`, a prefix range one `Range`, a watch one etcd watch.
//!
//! Revisions: etcd counts its initial, empty state as revision 1, berth as revision 0,
//! so a berth revision is the etcd revision minus one ([`revs`]). Keys live under a
//! namespace (`berth/` by default) so that one etcd can hold other data too; the leader
//! key of [`leader`] lies outside it, so berth's ranges and watches never see it.
//!
//! Limits an operator sets on etcd (docs/architecture.md, "HA control plane"):
//! `--max-txn-ops` (berth writes a service's tasks in one transaction) and
//! `--max-request-bytes`; history is kept until etcd's own auto-compaction drops it,
//! after which an older watch fails with [`StoreError::Compacted`].

#![forbid(unsafe_code)]

pub mod leader;
mod revs;
mod watch;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, Compare as EtcdCompare, CompareOp, ConnectOptions, GetOptions, TxnOp, TxnOpResponse};
use tokio::sync::mpsc;

use berth_store::{Compare, KeyValue, Op, Result, Revision, Store, StoreError, Txn, TxnResult};
use revs::{from_etcd, to_etcd};

/// How to reach etcd, parsed from `etcd://host:port,host:port[/namespace]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdConfig {
    pub endpoints: Vec<String>,
    /// The prefix of every berth key in etcd.
    pub namespace: String,
    /// How long one request may take before it fails (etcd without a quorum does not
    /// answer writes; the API then answers 5xx instead of hanging).
    pub request_timeout: Duration,
}

impl EtcdConfig {
    /// Parses `etcd://host:port[,host:port…][/namespace]`; `None` when `url` is not an
    /// etcd URL, an error message when it is one but malformed.
    pub fn parse(url: &str) -> Option<std::result::Result<Self, String>> {
        let rest = url.strip_prefix("etcd://")?;
        let (hosts, namespace) = match rest.split_once('/') {
            Some((hosts, ns)) if !ns.is_empty() => (hosts, format!("{}/", ns.trim_end_matches('/'))),
            Some((hosts, _)) => (hosts, "berth/".to_owned()),
            None => (rest, "berth/".to_owned()),
        };
        let endpoints: Vec<String> =
            hosts.split(',').filter(|h| !h.is_empty()).map(|h| format!("http://{h}")).collect();
        if endpoints.is_empty() {
            return Some(Err(format!("{url}: name at least one etcd endpoint, as etcd://host:2379,host:2379")));
        }
        if let Some(bad) = hosts.split(',').find(|h| h.rsplit_once(':').is_none_or(|(_, p)| p.parse::<u16>().is_err()))
        {
            return Some(Err(format!("{url}: the endpoint {bad:?} is not host:port")));
        }
        Some(Ok(Self { endpoints, namespace, request_timeout: Duration::from_secs(5) }))
    }
}

/// The etcd-backed [`Store`]. Cheap to clone; clones share one client. Open watch
/// streams end when the last clone is dropped. A [`fenced`](EtcdStore::fenced) clone
/// writes only while a leader key still has the revision it was given.
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
    fence: Option<Fence>,
}

struct Inner {
    client: Client,
    namespace: Vec<u8>,
    timeout: Duration,
    /// Dropped with the last clone: watch tasks see the channel close and end.
    _alive: tokio::sync::watch::Sender<()>,
    alive: tokio::sync::watch::Receiver<()>,
}

/// A write guard: the key must still have this `mod_revision` (see [`leader`]).
#[derive(Clone, Debug)]
struct Fence {
    key: Vec<u8>,
    mod_revision: i64,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("etcd: {e}"))
}

impl EtcdStore {
    pub async fn connect(config: &EtcdConfig) -> Result<Self> {
        let options = ConnectOptions::new()
            .with_connect_timeout(config.request_timeout)
            .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2))
            .with_require_leader(true);
        let client = tokio::time::timeout(config.request_timeout, Client::connect(&config.endpoints, Some(options)))
            .await
            .map_err(|_| {
                backend(format!("no answer from {} within {:?}", config.endpoints.join(","), config.request_timeout))
            })?
            .map_err(backend)?;
        let (tx, rx) = tokio::sync::watch::channel(());
        let inner = Inner {
            client,
            namespace: config.namespace.clone().into_bytes(),
            timeout: config.request_timeout,
            _alive: tx,
            alive: rx,
        };
        let store = Self { inner: Arc::new(inner), fence: None };
        store.revision().await?;
        Ok(store)
    }

    /// The prefix of berth's keys in etcd.
    pub fn namespace(&self) -> &str {
        std::str::from_utf8(&self.inner.namespace).unwrap_or_default()
    }

    /// The raw client, for the leader election and `berth cluster status`.
    pub fn client(&self) -> Client {
        self.inner.client.clone()
    }

    /// A clone whose every transaction also requires `key` (a raw etcd key, outside the
    /// namespace) to still have `mod_revision`; once it does not, transactions fail with
    /// [`StoreError::Backend`] "fenced" and write nothing. Reads and watches are unguarded.
    pub fn fenced(&self, key: &[u8], mod_revision: i64) -> Self {
        Self { inner: self.inner.clone(), fence: Some(Fence { key: key.to_vec(), mod_revision }) }
    }

    async fn etcd_get(&self, what: &str, key: &[u8], options: Option<GetOptions>) -> Result<etcd_client::GetResponse> {
        self.timed(what, || {
            let (mut kv, key, options) = (self.inner.client.kv_client(), key.to_vec(), options.clone());
            async move { kv.get(key, options).await }
        })
        .await
    }

    async fn commit(&self, txn: &etcd_client::Txn) -> Result<etcd_client::TxnResponse> {
        self.timed("a transaction", || {
            let (mut kv, txn) = (self.inner.client.kv_client(), txn.clone());
            async move { kv.txn(txn).await }
        })
        .await
    }

    fn key(&self, key: &str) -> Vec<u8> {
        let mut k = self.inner.namespace.clone();
        k.extend_from_slice(key.as_bytes());
        k
    }

    /// Runs `call` (again while etcd's balancer picks a member it cannot connect to: such
    /// a request never left, so repeating it is safe) and fails once the request timeout
    /// has passed.
    async fn timed<T, F: Future<Output = Result<T, etcd_client::Error>>>(
        &self,
        what: &str,
        mut call: impl FnMut() -> F,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + self.inner.timeout;
        loop {
            match tokio::time::timeout_at(deadline, call()).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) if never_sent(&e) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(Err(e)) => return Err(backend(e)),
                Err(_) => {
                    return Err(backend(format!(
                        "{what} got no answer within {:?} (is a majority of etcd up?)",
                        self.inner.timeout
                    )));
                }
            }
        }
    }

    fn decode_kv(&self, kv: &etcd_client::KeyValue) -> Option<KeyValue> {
        let key = kv.key().strip_prefix(self.inner.namespace.as_slice())?;
        Some(KeyValue {
            key: String::from_utf8(key.to_vec()).ok()?,
            value: kv.value().to_vec(),
            create_revision: from_etcd(kv.create_revision()),
            mod_revision: from_etcd(kv.mod_revision()),
        })
    }

    fn etcd_txn(&self, txn: &Txn) -> etcd_client::Txn {
        let compares: Vec<EtcdCompare> = txn
            .compares
            .iter()
            .map(|c| match c {
                Compare::ModRevision(key, rev) => {
                    EtcdCompare::mod_revision(self.key(key), CompareOp::Equal, to_etcd(*rev))
                }
                Compare::Exists(key) => EtcdCompare::create_revision(self.key(key), CompareOp::Greater, 0),
            })
            .collect();
        etcd_client::Txn::new()
            .when(compares)
            .and_then(self.etcd_ops(&txn.success))
            .or_else(self.etcd_ops(&txn.failure))
    }

    /// etcd refuses a transaction that writes one key twice; the last write of each key
    /// wins, which leaves the same state (watchers see only that last write).
    fn etcd_ops(&self, ops: &[Op]) -> Vec<TxnOp> {
        let last = |i: usize, key: &str| !ops[i + 1..].iter().any(|later| op_key(later) == key);
        ops.iter()
            .enumerate()
            .filter(|(i, op)| last(*i, op_key(op)))
            .map(|(_, op)| match op {
                Op::Put(key, value) => TxnOp::put(self.key(key), value.clone(), None),
                Op::Delete(key) => TxnOp::delete(self.key(key), None),
            })
            .collect()
    }
}

/// Whether the request failed without taking effect, so that repeating it is safe: it
/// never reached etcd (the member picked was unreachable), the member had no leader to
/// propose it to, or a read lost its leader mid-way ("leader changed" is what etcd's
/// linearizable reads answer; proposals whose fate is unknown answer "request timed
/// out", which is not repeated).
fn never_sent(e: &etcd_client::Error) -> bool {
    const UNDONE: [&str; 3] = ["connect error", "etcdserver: no leader", "etcdserver: leader changed"];
    matches!(e, etcd_client::Error::GRpcStatus(status) if UNDONE.iter().any(|m| status.message().contains(m)))
}

fn op_key(op: &Op) -> &str {
    match op {
        Op::Put(key, _) | Op::Delete(key) => key,
    }
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<Revision> {
    header.map(|h| from_etcd(h.revision())).ok_or_else(|| backend("a response without a header"))
}

#[async_trait]
impl Store for EtcdStore {
    async fn revision(&self) -> Result<Revision> {
        let key = self.key("");
        let response = self.etcd_get("reading the revision", &key, Some(GetOptions::new().with_count_only())).await?;
        header_revision(response.header())
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = self.key(key);
        let response = self.etcd_get("a read", &key, None).await?;
        Ok(response.kvs().first().and_then(|kv| self.decode_kv(kv)))
    }

    async fn range_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<KeyValue>, Revision)> {
        let full = self.key(prefix);
        let end = revs::prefix_end(&full);
        let start = match after {
            Some(after) if after >= prefix => {
                let mut start = self.key(after);
                start.push(0);
                start
            }
            _ => full,
        };
        if limit == 0 || (end != [0] && start >= end) {
            return Ok((vec![], self.revision().await?));
        }
        // etcd reads a limit of 0 as "no limit".
        let limit = if limit == usize::MAX { 0 } else { i64::try_from(limit).unwrap_or(i64::MAX) };
        let options = GetOptions::new().with_range(end).with_limit(limit);
        let response = self.etcd_get("a range read", &start, Some(options)).await?;
        let kvs = response.kvs().iter().filter_map(|kv| self.decode_kv(kv)).collect();
        Ok((kvs, header_revision(response.header())?))
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResult> {
        let inner_txn = self.etcd_txn(&txn);
        let Some(fence) = &self.fence else {
            let response = self.commit(&inner_txn).await?;
            return Ok(TxnResult { succeeded: response.succeeded(), revision: header_revision(response.header())? });
        };
        // Fenced: the caller's transaction nested in one that requires the fence key.
        let guarded = etcd_client::Txn::new()
            .when([EtcdCompare::mod_revision(fence.key.clone(), CompareOp::Equal, fence.mod_revision)])
            .and_then([TxnOp::txn(inner_txn)]);
        let response = self.commit(&guarded).await?;
        if !response.succeeded() {
            return Err(StoreError::Backend("fenced: this server is no longer the leader".into()));
        }
        let revision = header_revision(response.header())?;
        match response.op_responses().into_iter().next() {
            Some(TxnOpResponse::Txn(nested)) => Ok(TxnResult { succeeded: nested.succeeded(), revision }),
            _ => Err(backend("a guarded transaction without its nested answer")),
        }
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<mpsc::Receiver<berth_store::Event>> {
        watch::start(self.clone(), prefix, after).await
    }
}
