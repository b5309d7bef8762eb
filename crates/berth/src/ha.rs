//! Several `berth server`s on one etcd (docs/architecture.md, "HA control plane"):
//! every server serves the whole API; the controllers run on the elected leader only,
//! over a fenced store, and stop the moment its term ends. Servers publish themselves
//! (and the agents that poll them) under `ha/servers/`, which is how the leader's
//! placement learns that an agent polling another server is connected, and what
//! `berth cluster status` lists.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_ecs::Ecs;
use berth_store::documents::{decodable, encode};
use berth_store::{Store, Txn};
use berth_store_etcd::EtcdStore;
use berth_store_etcd::leader::Election;
use serde::{Deserialize, Serialize};

/// How often a server republishes itself and reads the others.
const PUBLISH_EVERY: Duration = Duration::from_secs(2);

/// `ha/servers/{id}`: one server, as it last published itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServerRecord {
    pub id: String,
    /// When it published this, in milliseconds since the epoch.
    pub published_ms: u64,
    /// Agents' container instance ARNs and when each last polled this server (epoch ms).
    pub agents: BTreeMap<String, u64>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Runs the controllers whenever this server is the leader, forever.
pub async fn lead(
    etcd: EtcdStore,
    ecs: Ecs,
    id: String,
    ttl: Duration,
    start: impl Fn(Ecs) -> Vec<tokio::task::JoinHandle<()>>,
) {
    let election = Election::new(&etcd, id.clone(), ttl);
    loop {
        let mut term = election.campaign().await;
        tracing::info!(server = %id, term = term.mod_revision, "elected leader: the controllers run here");
        let fenced: Arc<dyn Store> =
            Arc::new(etcd.fenced(&berth_store_etcd::leader::leader_key(etcd.namespace()), term.mod_revision));
        let controllers = start(Ecs { store: fenced, ..ecs.clone() });
        term.lost().await;
        tracing::warn!(server = %id, "leadership lost: the controllers stop here");
        for controller in controllers {
            controller.abort();
        }
    }
}

/// Publishes this server and its agents' polls every [`PUBLISH_EVERY`], and records the
/// other servers' agents' polls in this server's heartbeats.
pub async fn share_heartbeats(store: Arc<dyn Store>, ecs: Ecs, id: String) {
    let key = berth_model::keys::ha_server(&id);
    let mut tick = tokio::time::interval(PUBLISH_EVERY);
    loop {
        tick.tick().await;
        let now = now_ms();
        let agents = ecs
            .heartbeats
            .snapshot()
            .into_iter()
            .map(|(arn, age)| (arn, now.saturating_sub(age.as_millis() as u64)))
            .collect();
        let record = ServerRecord { id: id.clone(), published_ms: now, agents };
        let written = match encode(&record) {
            Ok(value) => store.txn(Txn::new().put(key.clone(), value)).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, "publishing this server in the store");
            continue;
        }
        for other in servers(store.as_ref()).await.into_iter().filter(|s| s.id != id) {
            for (arn, at) in other.agents {
                ecs.heartbeats.beat_ago(&arn, Duration::from_millis(now.saturating_sub(at)));
            }
        }
    }
}

/// Every server that ever published itself (`published_ms` says how lately).
pub async fn servers(store: &dyn Store) -> Vec<ServerRecord> {
    let Ok((kvs, _)) = store.range(berth_model::keys::HA_SERVERS).await else { return vec![] };
    kvs.iter().filter_map(decodable).map(|doc| doc.value).collect()
}
