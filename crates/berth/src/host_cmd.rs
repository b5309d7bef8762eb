//! `berth host`: this machine runs EC2 instances for a berth server. `berth up` and
//! `berth server` are hosts too (unless `--no-host`).
//!
//! The host registers its capacity (by default room for three g4dn.xlarge, or the
//! machine's own resources where larger: the capacity is virtual, each instance's
//! containers are limited to what their tasks reserve of its type), long-polls for the
//! instances the server assigns it, and runs one in-process ECS agent per instance:
//! CPU and MEMORY as its type registers them, its GPUs, the attributes ECS's agent on
//! the ECS-optimized AMI sets, its ecs.config read from its user data (nothing in it is
//! run), signing as its instance profile's role. All agents share the host's Docker
//! connection and one host-port book. Each keeps its state under
//! `<data-dir>/instances/<id>`, so a restarted host re-adopts every instance's containers
//! into the agent they belong to.
//!
//! The host is also Fargate's capacity: in every cluster that runs Fargate tasks it runs
//! a pool agent (state under `<data-dir>/fargate/<cluster>`), a container instance with
//! the host's capacity that registers with `berth.fargate-pool` and signs with the host's
//! own key; ECS shows it nowhere, and only Fargate tasks are placed on it.

use crate::agent_cmd::address_toward;
use anyhow::Context;
use berth_agent::agent::{Agent, AgentConfig};
use berth_agent::client::{ApiClient, ClientConfig, ClientError};
use berth_agent::instance_credentials::InstanceProfileCredentials;
use berth_agent::port_book::PortBook;
use berth_agent::registration::{MachineProfile, detect_resources};
use berth_agent::runtime::Runtime;
use berth_agent::runtime::docker::DockerRuntime;
use berth_model::agent_protocol::{MAX_POLL_WAIT_SECONDS, TARGET_PREFIX, labels};
use berth_model::ecs_config;
use berth_model::fleet::{
    self, Capacity, HostAssignment, PollHostAssignmentsRequest, PollHostAssignmentsResponse, RegisterHostRequest,
    RegisterHostResponse, ReportInstanceStateRequest, ReportInstanceStateResponse,
};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Args, Clone)]
pub struct HostArgs {
    /// The berth server's API endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566", env = "BERTH_SERVER")]
    pub server: String,
    /// Where the host keeps its id and each instance's agent state.
    #[arg(long, default_value = ".berth-host", env = "BERTH_HOST_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The region requests are signed for.
    #[arg(long, default_value = "us-east-1", env = "BERTH_REGION")]
    pub region: String,
    /// A shared-credentials file with a `berth` profile (AWS_ACCESS_KEY_ID /
    /// AWS_SECRET_ACCESS_KEY take precedence). The host's principal needs
    /// ecs:RegisterHost, ecs:PollHostAssignments, ecs:ReportInstanceState and
    /// ecs:GetInstanceCredentials.
    #[arg(long, default_value = ".berth/credentials", env = "BERTH_CREDENTIALS_FILE")]
    pub credentials_file: PathBuf,
    #[command(flatten)]
    pub options: HostOptions,
}

/// What the host offers (`berth up` and `berth server` offer the defaults).
#[derive(Args, Clone, Default)]
pub struct HostOptions {
    /// vCPUs offered to instances (default: the machine's, at least 12).
    #[arg(id = "host-cpus", long = "host-cpus", value_name = "N", env = "BERTH_HOST_CPUS")]
    pub cpu: Option<u32>,
    /// Memory offered to instances, MiB (default: the machine's, at least 48 GiB).
    #[arg(id = "host-memory", long = "host-memory", value_name = "MiB", env = "BERTH_HOST_MEMORY")]
    pub memory: Option<u64>,
    /// GPUs offered to instances (default: the machine's NVIDIA GPUs, at least 3; those
    /// beyond the real ones are emulated).
    #[arg(id = "host-gpus", long = "host-gpus", value_name = "N", env = "BERTH_HOST_GPUS")]
    pub gpus: Option<u32>,
}

/// Everything a host needs to run.
pub struct HostConfig {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    pub data_dir: PathBuf,
    pub options: HostOptions,
    pub pause_image: String,
    pub awsvpc_network: String,
    pub advertise_address: Option<IpAddr>,
}

pub async fn run(args: HostArgs) -> anyhow::Result<()> {
    let (access_key_id, secret_access_key) = crate::agent_cmd::credentials(&args.credentials_file)?;
    let config = HostConfig {
        endpoint: args.server,
        access_key_id,
        secret_access_key,
        region: args.region,
        data_dir: args.data_dir,
        options: args.options,
        pause_image: berth_agent::pause_image::DEFAULT.into(),
        awsvpc_network: "berth-awsvpc".into(),
        advertise_address: None,
    };
    tokio::select! {
        result = start(config) => result,
        // The instances' containers keep running: a restarted host re-adopts them.
        _ = crate::shutdown_signal() => Ok(()),
    }
}

/// Registers the host and runs its instances until the process ends.
pub async fn start(config: HostConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the host's data dir {}", config.data_dir.display()))?;
    let host_id = host_id(&config.data_dir)?;
    let client = ApiClient::new(ClientConfig {
        endpoint: config.endpoint.clone(),
        access_key_id: config.access_key_id.clone(),
        secret_access_key: config.secret_access_key.clone(),
        region: config.region.clone(),
    })?;
    let runtime = Arc::new(DockerRuntime::connect().await.context("connecting to the Docker engine")?);
    let real_gpus = berth_agent::gpu::detect();
    let capacity = capacity(&config.options, real_gpus.len());
    let offered = capacity;
    let name = std::fs::read_to_string("/etc/hostname").map_or_else(|_| host_id.clone(), |n| n.trim().to_string());
    let request = RegisterHostRequest { host_id: host_id.clone(), name, capacity, real_gpus: !real_gpus.is_empty() };
    let registered: RegisterHostResponse =
        retry("registering the host", || client.call(TARGET_PREFIX, "RegisterHost", &request)).await?;
    tracing::info!(host = %host_id, capacity = ?registered.host.capacity, gpus = real_gpus.len(), "host registered");
    let advertise = config.advertise_address.or_else(|| address_toward(&config.endpoint));
    let mut host = Host {
        host_id,
        client,
        runtime,
        ports: Arc::new(PortBook::system()),
        real_gpus,
        advertise,
        config,
        capacity: offered,
        agents: BTreeMap::new(),
        pools: BTreeMap::new(),
    };
    host.run().await
}

/// The host's capacity: what it is told, else the machine's, at least the virtual default.
fn capacity(options: &HostOptions, real_gpus: usize) -> Capacity {
    let (cpu_units, memory_mib) = detect_resources();
    let real = Capacity {
        vcpus: u32::try_from(cpu_units / 1024).unwrap_or(1),
        memory_mib: u64::try_from(memory_mib).unwrap_or(0),
        gpus: u32::try_from(real_gpus).unwrap_or(u32::MAX),
    };
    let offered = fleet::offered(real);
    Capacity {
        vcpus: options.cpu.unwrap_or(offered.vcpus),
        memory_mib: options.memory.unwrap_or(offered.memory_mib),
        gpus: options.gpus.unwrap_or(offered.gpus),
    }
}

/// How long an agent that ended (refused registration, deregistered) waits to start again.
const AGENT_RESTART: Duration = Duration::from_secs(15);

struct Host {
    host_id: String,
    /// Signs as the host (its own key).
    client: ApiClient,
    runtime: Arc<DockerRuntime>,
    ports: Arc<PortBook>,
    real_gpus: Vec<String>,
    advertise: Option<IpAddr>,
    config: HostConfig,
    capacity: Capacity,
    agents: BTreeMap<String, InstanceAgent>,
    /// The Fargate pool agent of each cluster that runs Fargate tasks.
    pools: BTreeMap<String, JoinHandle<()>>,
}

/// The agent of one instance (None: the instance cannot run one, e.g. no profile).
struct InstanceAgent {
    handle: Option<JoinHandle<()>>,
    /// When a finished agent may start again.
    restart_at: tokio::time::Instant,
}

impl Host {
    async fn run(&mut self) -> anyhow::Result<()> {
        let mut after: Option<i64> = None;
        let mut backoff = Duration::from_millis(200);
        loop {
            let request = PollHostAssignmentsRequest {
                host_id: self.host_id.clone(),
                after_revision: after,
                wait_seconds: Some(MAX_POLL_WAIT_SECONDS),
            };
            let polled: Result<PollHostAssignmentsResponse, ClientError> =
                self.client.call(TARGET_PREFIX, "PollHostAssignments", &request).await;
            let state = match polled {
                Ok(state) => {
                    backoff = Duration::from_millis(200);
                    state
                }
                Err(e) => {
                    // The instances keep running while the server is away.
                    tracing::warn!(error = %e, "polling for the host's instances failed; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(15));
                    after = None;
                    continue;
                }
            };
            let first = after.is_none();
            after = Some(state.revision);
            let listed: BTreeSet<String> = state.instances.iter().map(|a| a.instance_id.clone()).collect();
            for assignment in state.instances {
                self.reconcile(assignment).await;
            }
            // Instances no longer here (terminated while the host was away, expired, placed
            // elsewhere): their agents end and what they left goes. At start, also those of
            // instances the host no longer runs since before it stopped.
            let mut gone: BTreeSet<String> = self.agents.keys().filter(|id| !listed.contains(*id)).cloned().collect();
            if first {
                gone.extend(self.kept_instances().into_iter().filter(|id| !listed.contains(id)));
            }
            for id in gone {
                self.end_agent(&id);
                self.remove_instance(&id).await;
            }
            self.reconcile_pools(&state.fargate_clusters);
        }
    }

    /// A Fargate pool agent in each of `clusters` (started again if it ended); those of
    /// clusters no longer listed (deleted) end, and their state goes.
    fn reconcile_pools(&mut self, clusters: &[String]) {
        for cluster in clusters {
            if self.pools.get(cluster).is_some_and(|h| !h.is_finished()) {
                continue;
            }
            match self.pool_agent(cluster) {
                Ok(agent) => {
                    let name = cluster.clone();
                    let handle = tokio::spawn(async move {
                        match agent.run().await {
                            Ok(arn) => {
                                tracing::info!(cluster = %name, container_instance = %arn, "Fargate pool agent ended")
                            }
                            Err(e) => tracing::warn!(cluster = %name, error = %e, "Fargate pool agent stopped"),
                        }
                    });
                    self.pools.insert(cluster.clone(), handle);
                }
                Err(e) => tracing::warn!(cluster = %cluster, error = %e, "the Fargate pool agent cannot start"),
            }
        }
        let gone: Vec<String> = self.pools.keys().filter(|c| !clusters.contains(c)).cloned().collect();
        for cluster in gone {
            if let Some(handle) = self.pools.remove(&cluster) {
                handle.abort();
            }
            let dir = self.pool_dir(&cluster);
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(cluster = %cluster, error = %e, "removing the Fargate pool agent's state failed");
            }
        }
    }

    /// The Fargate pool agent of `cluster`: the host's capacity, its own key.
    fn pool_agent(&self, cluster: &str) -> anyhow::Result<Agent> {
        let data_dir = self.pool_dir(cluster);
        std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let attributes = BTreeMap::from([
            (berth_model::fargate::POOL_ATTRIBUTE.to_string(), self.host_id.clone()),
            ("ecs.os-type".to_string(), "linux".to_string()),
        ]);
        let profile = MachineProfile {
            cpu_units: fleet::registered_cpu(self.capacity.vcpus),
            memory_mib: i32::try_from(self.capacity.memory_mib).unwrap_or(i32::MAX),
            instance_id: format!("fargate-{}", self.host_id),
            instance_type: "fargate".into(),
            availability_zone: format!("{}a", self.config.region),
            cpu_architecture: std::env::consts::ARCH.to_string(),
            attributes,
            private_ip: self.advertise,
            gpus: vec![],
            tags: BTreeMap::new(),
        };
        let config = AgentConfig {
            cluster: cluster.to_string(),
            data_dir,
            profile,
            pause_image: self.config.pause_image.clone(),
            awsvpc_network: self.config.awsvpc_network.clone(),
        };
        Ok(Agent::new(config, Arc::new(self.client.clone()), self.runtime.clone(), self.ports.clone()))
    }

    fn pool_dir(&self, cluster: &str) -> PathBuf {
        self.config.data_dir.join("fargate").join(cluster)
    }

    async fn reconcile(&mut self, a: HostAssignment) {
        match a.state.as_str() {
            "pending" | "running" => {
                self.ensure_agent(&a);
                if a.state == "pending" {
                    self.report(&a.instance_id, "running").await;
                }
            }
            "stopping" if a.released => {
                self.end_agent(&a.instance_id);
                self.report(&a.instance_id, "stopped").await;
            }
            "shutting-down" if a.released => {
                self.end_agent(&a.instance_id);
                self.remove_instance(&a.instance_id).await;
                self.report(&a.instance_id, "terminated").await;
            }
            // Its state stays for when it starts again.
            "stopped" => self.end_agent(&a.instance_id),
            // Draining: the agent stops the instance's tasks meanwhile.
            _ => {}
        }
    }

    async fn report(&self, instance_id: &str, state: &str) {
        let request = ReportInstanceStateRequest {
            host_id: self.host_id.clone(),
            instance_id: instance_id.into(),
            state: state.into(),
        };
        let sent: Result<ReportInstanceStateResponse, ClientError> =
            self.client.call(TARGET_PREFIX, "ReportInstanceState", &request).await;
        // A report that did not arrive is sent again after the next poll.
        if let Err(e) = sent {
            tracing::warn!(instance = instance_id, state, error = %e, "reporting the instance's state failed");
        }
    }

    /// Starts the instance's agent unless it runs (or ended lately, or cannot run).
    fn ensure_agent(&mut self, a: &HostAssignment) {
        let now = tokio::time::Instant::now();
        if let Some(existing) = self.agents.get(&a.instance_id) {
            let running = existing.handle.as_ref().is_some_and(|h| !h.is_finished());
            if running || existing.handle.is_none() || now < existing.restart_at {
                return;
            }
        }
        let handle = match self.agent_for(a) {
            Ok(Some(agent)) => {
                let id = a.instance_id.clone();
                Some(tokio::spawn(async move {
                    match agent.run().await {
                        Ok(arn) => tracing::info!(instance = %id, container_instance = %arn, "instance agent ended"),
                        Err(e) => tracing::warn!(instance = %id, error = %e, "instance agent stopped"),
                    }
                }))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(instance = %a.instance_id, error = %e, "the instance's agent cannot start");
                None
            }
        };
        self.agents.insert(a.instance_id.clone(), InstanceAgent { handle, restart_at: now + AGENT_RESTART });
    }

    /// The agent of instance `a`, as ECS's agent on the ECS-optimized AMI would run.
    /// None when it cannot sign (no instance profile), as on EC2: the instance runs, its
    /// agent never joins a cluster.
    fn agent_for(&self, a: &HostAssignment) -> anyhow::Result<Option<Agent>> {
        if a.iam_instance_profile_arn.is_none() {
            tracing::warn!(
                instance = %a.instance_id,
                "no IAM instance profile: its ECS agent has no credentials and never joins a cluster"
            );
            return Ok(None);
        }
        let ecs = ecs_config::parse(a.user_data.as_deref().unwrap_or_default())?;
        let data_dir = self.instance_dir(&a.instance_id);
        std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let gpu_ami = berth_model::amis::AMIS.iter().any(|ami| ami.id == a.image_id && ami.gpu);
        let gpus = if a.capacity.gpus > 0 && (gpu_ami || ecs.enable_gpu_support) {
            self.gpus_of(&a.instance_id, a.capacity.gpus, &data_dir)?
        } else {
            vec![]
        };
        let mut attributes = ecs.instance_attributes.clone();
        attributes.insert("ecs.ami-id".into(), a.image_id.clone());
        if !gpus.is_empty() && self.real_gpus.is_empty() {
            attributes.insert(berth_agent::gpu::EMULATED_ATTRIBUTE.into(), "true".into());
        }
        let reserved = ecs.settings.get("ECS_RESERVED_MEMORY").and_then(|m| m.parse().ok()).unwrap_or(0);
        let profile = MachineProfile {
            cpu_units: fleet::registered_cpu(a.capacity.vcpus),
            memory_mib: fleet::registered_memory(a.capacity.memory_mib, reserved),
            instance_id: a.instance_id.clone(),
            instance_type: a.instance_type.clone(),
            availability_zone: a.availability_zone.clone(),
            cpu_architecture: if a.architecture.is_empty() {
                std::env::consts::ARCH.to_string()
            } else {
                a.architecture.clone()
            },
            attributes,
            // Load balancers reach the instance's host ports on the host's address.
            private_ip: self.advertise,
            gpus,
            tags: ecs.container_instance_tags.clone(),
        };
        let credentials = InstanceProfileCredentials::new(self.client.clone(), &self.host_id, &a.instance_id);
        let client = ApiClient::with_source(
            ClientConfig {
                endpoint: self.config.endpoint.clone(),
                access_key_id: String::new(),
                secret_access_key: String::new(),
                region: self.config.region.clone(),
            },
            Arc::new(credentials),
        )?;
        let config = AgentConfig {
            cluster: ecs.cluster,
            data_dir,
            profile,
            pause_image: self.config.pause_image.clone(),
            awsvpc_network: self.config.awsvpc_network.clone(),
        };
        Ok(Some(Agent::new(config, Arc::new(client), self.runtime.clone(), self.ports.clone())))
    }

    /// The instance's GPU ids, kept in its data dir: real ones not taken by another
    /// instance of this host where the machine has them, else emulated.
    fn gpus_of(&self, instance_id: &str, count: u32, data_dir: &Path) -> anyhow::Result<Vec<String>> {
        let path = data_dir.join("gpus");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(text.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect());
        }
        let ids = if self.real_gpus.is_empty() {
            fleet::emulated_gpu_ids(instance_id, count)
        } else {
            let taken: BTreeSet<String> = self
                .agents
                .keys()
                .filter_map(|other| std::fs::read_to_string(self.instance_dir(other).join("gpus")).ok())
                .flat_map(|t| t.lines().map(str::to_owned).collect::<Vec<_>>())
                .collect();
            let free: Vec<String> = self.real_gpus.iter().filter(|g| !taken.contains(*g)).cloned().collect();
            let wanted = usize::try_from(count).unwrap_or(usize::MAX);
            anyhow::ensure!(free.len() >= wanted, "the host has {} free GPUs, the instance needs {count}", free.len());
            free.into_iter().take(wanted).collect()
        };
        std::fs::write(&path, ids.join("\n")).with_context(|| format!("writing {}", path.display()))?;
        Ok(ids)
    }

    /// The instances whose state this host keeps (`<data-dir>/instances/*`).
    fn kept_instances(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.config.data_dir.join("instances")) else { return vec![] };
        entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect()
    }

    fn instance_dir(&self, instance_id: &str) -> PathBuf {
        self.config.data_dir.join("instances").join(instance_id)
    }

    /// Ends the instance's agent (its tasks are stopped first by the drain).
    fn end_agent(&mut self, instance_id: &str) {
        if let Some(agent) = self.agents.remove(instance_id)
            && let Some(handle) = agent.handle
        {
            handle.abort();
        }
    }

    /// A terminated instance's leftovers: containers still labelled with its container
    /// instance (tasks orphaned by a forced deregistration), and its state.
    async fn remove_instance(&self, instance_id: &str) {
        let dir = self.instance_dir(instance_id);
        let arn = std::fs::read(dir.join("agent.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["containerInstanceArn"].as_str().map(str::to_owned));
        if let Some(arn) = arn {
            match self.runtime.list(&[(labels::CONTAINER_INSTANCE, &arn)]).await {
                Ok(containers) => {
                    for c in containers {
                        let _ = self.runtime.stop(&c.id, Duration::from_secs(10)).await;
                        let _ = self.runtime.remove(&c.id).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(instance = instance_id, error = %e, "listing the instance's containers failed")
                }
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(instance = instance_id, error = %e, "removing the instance's state failed");
        }
    }
}

/// Retries `call` while the server is unreachable.
async fn retry<T, F: std::future::Future<Output = Result<T, ClientError>>>(
    what: &str,
    mut call: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let mut backoff = Duration::from_millis(200);
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "{what}: server unreachable; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(15));
            }
            Err(e) => return Err(anyhow::anyhow!("{what}: {e}")),
        }
    }
}

/// A stable id for this host, kept in its data dir.
fn host_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("host-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        return Ok(id.trim().to_string());
    }
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let id = format!("h-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}
