//! Simulated container instances (`berth agent --simulate N`): N agents in one process,
//! each registered as its own container instance, whose runtime accepts tasks without
//! creating containers. Placement and the control loops can then be measured at scale
//! through the real API: the agents register, long-poll and report exactly as real ones
//! do (PENDING → RUNNING, STOPPED when asked); only Docker is replaced, by the in-memory
//! `FakeRuntime` (its containers "run" until stopped).
//!
//! Resource use: one process, one HTTP client (one connection pool) for all, one small
//! in-memory runtime and state dir per instance. Each instance still holds one long
//! poll, so the server sees one open connection per instance: a few hundred is cheap;
//! thousands need the file-descriptor limit raised on both sides.
//!
//! Instances differ, so that spread and memberOf have something to work on: instance
//! types (CPU and memory) cycle through `TYPES`, zones through `ZONES` (the region's
//! a, b and c).

use crate::agent::{Agent, AgentConfig, AgentError};
use crate::client::ApiClient;
use crate::port_book::{DEFAULT_RANGE, PortBook};
use crate::registration::MachineProfile;
use crate::runtime::fake::FakeRuntime;
use crate::server::Server;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// (instance type, CPU units, MiB) of the simulated machines.
pub const TYPES: [(&str, i32, i32); 4] =
    [("m5.large", 2048, 7680), ("m5.xlarge", 4096, 15_616), ("c5.2xlarge", 8192, 15_104), ("r5.large", 2048, 15_616)];
pub const ZONES: [&str; 3] = ["a", "b", "c"];

/// What every simulated instance shares.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub count: usize,
    pub cluster: String,
    /// Each instance keeps its state in `data_dir/sim-NNNNN`.
    pub data_dir: PathBuf,
    pub region: String,
    /// Overrides of the instance types' sizes, for all instances.
    pub cpu: Option<i32>,
    pub memory: Option<i32>,
    /// Extra attributes for all instances.
    pub attributes: BTreeMap<String, String>,
    pub pause_image: String,
    pub awsvpc_network: String,
}

impl Simulation {
    pub fn data_dir_of(&self, k: usize) -> PathBuf {
        self.data_dir.join(format!("sim-{k:05}"))
    }

    /// Instance `k`'s machine.
    pub fn profile(&self, k: usize) -> MachineProfile {
        // 3 and 4 share no factor: any 12 consecutive instances cover every pair.
        let (instance_type, cpu, memory) = TYPES[k % TYPES.len()];
        let zone = ZONES[k % ZONES.len()];
        let mut attributes = self.attributes.clone();
        attributes.insert("berth.simulated".into(), "true".into());
        MachineProfile {
            cpu_units: self.cpu.unwrap_or(cpu),
            memory_mib: self.memory.unwrap_or(memory),
            instance_id: instance_id(&self.data_dir_of(k)),
            instance_type: instance_type.into(),
            availability_zone: format!("{}{zone}", self.region),
            cpu_architecture: std::env::consts::ARCH.to_string(),
            attributes,
            private_ip: None,
            gpus: vec![],
            tags: BTreeMap::new(),
        }
    }
}

/// A stable EC2-style id for a simulated instance, from its state dir (different dirs,
/// different ids; the same dir after a restart, the same id).
fn instance_id(dir: &Path) -> String {
    let mut h = DefaultHasher::new();
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()).hash(&mut h);
    format!("i-5{:016x}", h.finish())
}

/// Runs the simulated instances until every one is deregistered (or the future is
/// dropped). Registration is staggered so that N instances do not hit the server at once.
pub async fn run(sim: Simulation, client: ApiClient) -> Result<(), AgentError> {
    let server: Arc<dyn Server> = Arc::new(client);
    let mut agents = tokio::task::JoinSet::new();
    let mut janitors = tokio::task::JoinSet::new();
    for k in 0..sim.count {
        let dir = sim.data_dir_of(k);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AgentError::StateFile { path: dir.display().to_string(), reason: e.to_string() })?;
        let config = AgentConfig {
            cluster: sim.cluster.clone(),
            data_dir: dir,
            profile: sim.profile(k),
            pause_image: sim.pause_image.clone(),
            awsvpc_network: sim.awsvpc_network.clone(),
        };
        let runtime = FakeRuntime::new();
        // The fake records every call for tests; nobody reads them here.
        let janitor = runtime.clone();
        janitors.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                janitor.clear_calls();
            }
        });
        // No real ports are bound: any port of the range is free.
        let ports = PortBook::new(DEFAULT_RANGE, |_, _| true);
        let agent = Agent::new(config, server.clone(), Arc::new(runtime), ports);
        agents.spawn(async move {
            if let Err(e) = agent.run().await {
                tracing::error!(instance = k, error = %e, "simulated instance failed");
            }
        });
        if k % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tracing::info!(count = sim.count, "simulated instances started");
    while agents.join_next().await.is_some() {}
    janitors.abort_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_vary_in_type_and_zone_and_have_their_own_ids() {
        let sim = Simulation {
            count: 12,
            cluster: "c".into(),
            data_dir: "/tmp/sim".into(),
            region: "us-east-1".into(),
            cpu: None,
            memory: Some(1000),
            attributes: [("team".to_string(), "x".to_string())].into(),
            pause_image: "p".into(),
            awsvpc_network: "n".into(),
        };
        let profiles: Vec<MachineProfile> = (0..12).map(|k| sim.profile(k)).collect();
        let pairs: std::collections::BTreeSet<(String, String)> =
            profiles.iter().map(|p| (p.instance_type.clone(), p.availability_zone.clone())).collect();
        assert_eq!(pairs.len(), 12, "every type meets every zone");
        let ids: std::collections::BTreeSet<&str> = profiles.iter().map(|p| p.instance_id.as_str()).collect();
        assert_eq!(ids.len(), 12);
        assert_eq!(profiles[0].instance_id, sim.profile(0).instance_id);
        assert!(profiles.iter().all(|p| p.memory_mib == 1000 && p.attributes["team"] == "x"));
        assert_eq!(profiles[1].cpu_units, 4096);
        assert_eq!(profiles[4].availability_zone, "us-east-1b");
    }
}
