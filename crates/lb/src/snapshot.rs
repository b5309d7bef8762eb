//! What the data plane serves, read from the store in one pass: every listener (by the
//! address and port it binds) with its rules in priority order, and every target group
//! with its targets and settings.

use crate::http1::Xff;
use berth_model::Timestamp;
use berth_model::elbv2::attributes::{self, LOAD_BALANCER, TARGET_GROUP};
use berth_model::elbv2::parse::parse_matcher;
use berth_model::elbv2::records::{ListenerRecord, LoadBalancerRecord, RuleRecord, TargetGroupRecord};
use berth_model::elbv2::{Action, Rule, TargetTypeEnum};
use berth_model::keys;
use berth_store::documents;
use berth_store::{Store, StoreError};
use std::collections::HashMap;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Snapshot {
    pub listeners: HashMap<SocketAddr, ListenerView>,
    pub groups: HashMap<String, GroupView>,
}

#[derive(Debug)]
pub struct ListenerView {
    pub rules: Vec<Rule>,
    pub default_actions: Vec<Action>,
    /// The load balancer's idle_timeout.timeout_seconds.
    pub idle_timeout: Duration,
    /// Its routing.http.xff_header_processing.mode.
    pub xff: Xff,
    /// Its routing.http.drop_invalid_header_fields.enabled.
    pub drop_invalid_headers: bool,
    /// Its load balancer's ARN, and that balancer's counters (`metrics`, set by `Shared`).
    pub load_balancer: String,
    pub counters: Arc<crate::metrics::Counters>,
}

#[derive(Debug)]
pub struct GroupView {
    pub arn: String,
    pub targets: Vec<TargetView>,
    pub algorithm: crate::balance::Algorithm,
    /// Requests so far (round robin's turn); kept across snapshots by `proxy::Shared`.
    pub turn: Arc<AtomicUsize>,
    /// Whether a listener forwards to it (only then is it health checked).
    pub in_use: bool,
    /// The load balancer whose listeners route to it, and its counters (`metrics`).
    pub load_balancer: Option<String>,
    pub counters: Arc<crate::metrics::Counters>,
    pub check: HealthCheck,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub enabled: bool,
    /// None: the target's own port.
    pub port: Option<u16>,
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub matcher: Vec<(u16, u16)>,
}

#[derive(Debug, Clone)]
pub struct TargetView {
    pub id: String,
    pub port: i32,
    pub addr: SocketAddr,
    /// Requests in flight to `addr`; kept across snapshots by `proxy::Shared`.
    pub in_flight: Arc<AtomicUsize>,
    pub state: String,
    pub draining: bool,
}

/// Every document under `prefix` that decodes: one bad record must not take the data
/// plane down (it is logged and skipped).
async fn all<T: serde::de::DeserializeOwned>(store: &dyn Store, prefix: &str) -> Result<Vec<T>, StoreError> {
    Ok(documents::list_decodable(store, prefix).await?.into_iter().map(|d| d.value).collect())
}

/// Where a target is reached: an ip target at its address; an instance target at its
/// container instance's address (`instances`), else on this machine's loopback.
pub fn target_addr(
    target_type: Option<TargetTypeEnum>,
    id: &str,
    port: i32,
    instances: &HashMap<String, IpAddr>,
) -> Option<SocketAddr> {
    let ip: IpAddr = match target_type {
        Some(TargetTypeEnum::Ip) => id.parse().ok()?,
        _ => instances.get(id).copied().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    Some(SocketAddr::new(ip, u16::try_from(port).ok()?))
}

/// The parts of a container instance record an instance target needs.
#[derive(serde::Deserialize)]
struct InstanceAddress {
    #[serde(rename = "containerInstance")]
    container_instance: InstanceIds,
    #[serde(rename = "privateIp")]
    private_ip: Option<IpAddr>,
}

#[derive(serde::Deserialize)]
struct InstanceIds {
    #[serde(rename = "containerInstanceArn")]
    arn: Option<String>,
    #[serde(rename = "ec2InstanceId")]
    ec2_instance_id: Option<String>,
}

/// Container instances' addresses, by the ids their instance targets may have (its
/// ec2InstanceId, else its own id, as the service controller registers them). The
/// records are big and the data plane's thread decodes them, so they are read again
/// only when an instance target names an instance not looked up yet, or after
/// `REREAD` (an instance's address changes only when it registers again).
#[derive(Default)]
pub struct InstanceAddresses {
    by_id: HashMap<String, IpAddr>,
    looked_up: HashSet<String>,
    read_at: Option<Instant>,
}

const REREAD: Duration = Duration::from_secs(30);

impl InstanceAddresses {
    async fn of(&mut self, store: &dyn Store, wanted: HashSet<&str>) -> Result<&HashMap<String, IpAddr>, StoreError> {
        let stale = self.read_at.is_none_or(|at| at.elapsed() >= REREAD);
        if !wanted.is_empty() && (stale || !wanted.iter().all(|id| self.looked_up.contains(*id))) {
            self.by_id = read_instance_addresses(store).await?;
            self.looked_up = wanted.into_iter().map(str::to_owned).collect();
            self.read_at = Some(Instant::now());
        }
        Ok(&self.by_id)
    }
}

async fn read_instance_addresses(store: &dyn Store) -> Result<HashMap<String, IpAddr>, StoreError> {
    let mut addresses = HashMap::new();
    for i in all::<InstanceAddress>(store, keys::INSTANCES).await? {
        let Some(ip) = i.private_ip else { continue };
        let ids = [
            i.container_instance.ec2_instance_id,
            i.container_instance.arn.and_then(|a| Some(a.rsplit('/').next()?.to_string())),
        ];
        for id in ids.into_iter().flatten().filter(|id| !id.is_empty()) {
            addresses.insert(id, ip);
        }
    }
    Ok(addresses)
}

pub async fn load(store: &dyn Store, instances: &mut InstanceAddresses) -> Result<Snapshot, StoreError> {
    let lbs: Vec<LoadBalancerRecord> = all(store, keys::LOAD_BALANCERS).await?;
    let listeners: Vec<ListenerRecord> = all(store, keys::LISTENERS).await?;
    let rules: Vec<RuleRecord> = all(store, keys::RULES).await?;
    let groups: Vec<TargetGroupRecord> = all(store, keys::TARGET_GROUPS).await?;
    let mut snapshot = Snapshot::default();
    let mut used: Vec<String> = Vec::new();
    let mut balancer_of: HashMap<String, String> = HashMap::new();
    for l in listeners {
        let listener = &l.listener;
        let Some(lb) = lbs.iter().find(|lb| listener.load_balancer_arn.as_deref() == Some(lb.arn())) else {
            continue;
        };
        let dns_name = lb.load_balancer.dns_name.as_deref().unwrap_or_default();
        let (Ok(ip), Some(Ok(port))) = (dns_name.parse::<IpAddr>(), listener.port.map(u16::try_from)) else {
            continue;
        };
        let prefix = l.arn().replace(":listener/", ":listener-rule/") + "/";
        let mut own: Vec<Rule> =
            rules.iter().filter(|r| r.arn().starts_with(&prefix)).map(|r| r.rule.clone()).collect();
        own.sort_by_key(|r| r.priority.as_deref().and_then(|p| p.parse::<i32>().ok()).unwrap_or(i32::MAX));
        let default_actions = l.listener.default_actions.unwrap_or_default();
        let actions: Vec<Action> =
            default_actions.iter().chain(own.iter().flat_map(|r| r.actions.iter().flatten())).cloned().collect();
        let groups = berth_model::elbv2::validate::target_groups_of(&actions);
        balancer_of.extend(groups.iter().map(|g| (g.clone(), lb.arn().to_string())));
        used.extend(groups);
        let attribute = |name| attributes::value(LOAD_BALANCER, &lb.attributes, name);
        let view = ListenerView {
            rules: own,
            default_actions,
            idle_timeout: Duration::from_secs(attribute("idle_timeout.timeout_seconds").parse().unwrap_or(60)),
            xff: Xff::from_attribute(attribute("routing.http.xff_header_processing.mode")),
            drop_invalid_headers: attribute("routing.http.drop_invalid_header_fields.enabled") == "true",
            load_balancer: lb.arn().to_string(),
            counters: Arc::default(),
        };
        snapshot.listeners.insert(SocketAddr::new(ip, port), view);
    }
    let instance_targets = groups
        .iter()
        .filter(|g| g.target_group.target_type.is_none_or(|t| t == TargetTypeEnum::Instance))
        .flat_map(|g| g.targets.iter().map(|t| t.id.as_str()))
        .collect();
    let instances = instances.of(store, instance_targets).await?;
    let now = Timestamp::now();
    for g in groups {
        let tg = &g.target_group;
        let targets = g
            .targets
            .iter()
            .filter(|t| !t.gone_at(now))
            .filter_map(|t| {
                let addr = target_addr(tg.target_type, &t.id, t.port, instances)?;
                Some(TargetView {
                    id: t.id.clone(),
                    port: t.port,
                    addr,
                    in_flight: Arc::default(),
                    state: t.health.state.map_or("", |s| s.as_str()).to_string(),
                    draining: t.draining_until.is_some(),
                })
            })
            .collect();
        let secs = |v: Option<i32>, d: u64| Duration::from_secs(v.map_or(d, |v| v.max(1) as u64));
        let check = HealthCheck {
            enabled: tg.health_check_enabled.unwrap_or(true),
            port: tg.health_check_port.as_deref().and_then(|p| p.parse().ok()),
            path: tg.health_check_path.clone().unwrap_or_else(|| "/".into()),
            interval: secs(tg.health_check_interval_seconds, 30),
            timeout: secs(tg.health_check_timeout_seconds, 5),
            healthy_threshold: tg.healthy_threshold_count.unwrap_or(5).max(1) as u32,
            unhealthy_threshold: tg.unhealthy_threshold_count.unwrap_or(2).max(1) as u32,
            matcher: tg
                .matcher
                .as_ref()
                .and_then(|m| m.http_code.as_deref())
                .and_then(parse_matcher)
                .unwrap_or(vec![(200, 200)]),
        };
        let algorithm = attributes::value(TARGET_GROUP, &g.attributes, "load_balancing.algorithm.type");
        snapshot.groups.insert(
            g.arn().to_string(),
            GroupView {
                arn: g.arn().to_string(),
                targets,
                algorithm: crate::balance::Algorithm::from_attribute(algorithm),
                turn: Arc::default(),
                in_use: used.iter().any(|u| u == g.arn()),
                load_balancer: balancer_of.get(g.arn()).cloned(),
                counters: Arc::default(),
                check,
            },
        );
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::{MemoryStore, Txn};
    use serde_json::json;

    async fn put(store: &dyn Store, key: String, value: serde_json::Value) {
        store.txn(Txn::new().put(key, serde_json::to_vec(&value).unwrap())).await.unwrap();
    }

    fn group(name: &str, target_type: &str, targets: &[(&str, i32)]) -> serde_json::Value {
        json!({
            "targetGroup": {
                "TargetGroupArn": format!("arn:aws:elasticloadbalancing:us-east-1:0:targetgroup/{name}/1"),
                "TargetGroupName": name, "TargetType": target_type,
            },
            "targets": targets.iter().map(|(id, port)| json!({
                "id": id, "port": port, "registeredAt": 0.0,
                "health": {"State": "healthy"},
            })).collect::<Vec<_>>(),
        })
    }

    #[tokio::test]
    async fn instance_targets_are_reached_at_their_instance_address() {
        let store = MemoryStore::new();
        let id = "a".repeat(32);
        put(
            &store,
            keys::instance("c", &id),
            json!({
                "containerInstance": {
                    "containerInstanceArn": format!("arn:aws:ecs:us-east-1:0:container-instance/c/{id}"),
                    "ec2InstanceId": "i-0remote",
                },
                "registered": {"cpu": 1024, "memory": 1024},
                "privateIp": "10.0.3.7",
            }),
        )
        .await;
        put(
            &store,
            keys::target_group("web"),
            group("web", "instance", &[("i-0remote", 32768), (&id, 80), ("i-0unknown", 81)]),
        )
        .await;
        put(&store, keys::target_group("api"), group("api", "ip", &[("172.18.0.5", 8080)])).await;
        let mut instances = InstanceAddresses::default();
        let snapshot = load(&store, &mut instances).await.unwrap();
        let addrs = |name: &str| -> Vec<String> {
            let g = snapshot.groups.values().find(|g| g.arn.contains(&format!("/{name}/"))).unwrap();
            g.targets.iter().map(|t| t.addr.to_string()).collect()
        };
        // By ec2InstanceId or container instance id; an unknown instance on this machine.
        assert_eq!(addrs("web"), ["10.0.3.7:32768", "10.0.3.7:80", "127.0.0.1:81"]);
        assert_eq!(addrs("api"), ["172.18.0.5:8080"]);

        // Known instances are not read again; a target naming a new one is.
        put(
            &store,
            keys::instance("c", &"b".repeat(32)),
            json!({
                "containerInstance": {"ec2InstanceId": "i-0later"}, "registered": {"cpu": 1, "memory": 1},
                "privateIp": "10.0.3.8",
            }),
        )
        .await;
        assert_eq!(load(&store, &mut instances).await.unwrap().groups.len(), 2);
        assert!(!instances.by_id.contains_key("i-0later"), "no new instance target: not read again");
        put(&store, keys::target_group("web"), group("web", "instance", &[("i-0later", 8000)])).await;
        let snapshot = load(&store, &mut instances).await.unwrap();
        let web = snapshot.groups.values().find(|g| g.arn.contains("/web/")).unwrap();
        assert_eq!(web.targets[0].addr.to_string(), "10.0.3.8:8000");
    }
}
