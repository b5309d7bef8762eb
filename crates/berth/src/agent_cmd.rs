//! `berth agent`: this machine as a container instance of a berth cluster.

use anyhow::Context;
use berth_agent::agent::{Agent, AgentConfig};
use berth_agent::client::{ApiClient, ClientConfig};
use berth_agent::port_book::PortBook;
use berth_agent::registration::{MachineProfile, detect_resources};
use berth_agent::runtime::docker::DockerRuntime;
use clap::Args;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct AgentArgs {
    /// The berth server's API endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566", env = "BERTH_SERVER")]
    pub server: String,
    /// The cluster to join (`default` is created if absent, as the ECS agent does).
    #[arg(long, default_value = "default", env = "BERTH_CLUSTER")]
    pub cluster: String,
    /// Where the agent remembers which container instance it is.
    #[arg(long, default_value = ".berth-agent", env = "BERTH_AGENT_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The region requests are signed for.
    #[arg(long, default_value = "us-east-1", env = "BERTH_REGION")]
    pub region: String,
    /// A shared-credentials file with a `berth` profile (as `berth server` writes it); the
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables take precedence.
    #[arg(long, default_value = ".berth/credentials", env = "BERTH_CREDENTIALS_FILE")]
    pub credentials_file: PathBuf,
    /// Register N simulated container instances instead of this machine: their tasks
    /// "run" without containers (for measuring placement and control loops at scale).
    #[arg(long, value_name = "N")]
    pub simulate: Option<usize>,
    #[command(flatten)]
    pub options: AgentOptions,
}

/// How the machine presents itself; shared by `berth agent` and `berth up`.
#[derive(Args, Clone)]
pub struct AgentOptions {
    /// Extra container instance attributes, `name=value,...`.
    #[arg(long, value_delimiter = ',')]
    pub attributes: Vec<String>,
    /// CPU units offered to tasks (default: 1024 per core).
    #[arg(long)]
    pub cpu: Option<i32>,
    /// Memory offered to tasks, MiB (default: the machine's, less 256 MiB).
    #[arg(long)]
    pub memory: Option<i32>,
    /// The ecs.instance-type attribute.
    #[arg(long, default_value = "berth.local")]
    pub instance_type: String,
    /// The ecs.availability-zone attribute (default: the region + "a").
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// The image of awsvpc tasks' network-holding container: berth's own by default
    /// (made on the machine, nothing pulled); another must run until SIGTERM by itself.
    #[arg(long, default_value = berth_agent::pause_image::DEFAULT)]
    pub pause_image: String,
    /// The Docker bridge network awsvpc tasks get their own addresses on.
    #[arg(long, default_value = "berth-awsvpc")]
    pub awsvpc_network: String,
    /// The address load balancers reach this machine's tasks' host ports at (instance
    /// targets). Default: the machine's address on the route to the server.
    #[arg(long, value_name = "IP")]
    pub advertise_address: Option<IpAddr>,
}

/// How the agent reaches and signs for the server.
pub struct Connection {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let (access_key_id, secret_access_key) = credentials(&args.credentials_file)?;
    let connection = Connection { endpoint: args.server, access_key_id, secret_access_key, region: args.region };
    if let Some(count) = args.simulate {
        return simulate(connection, args.cluster, args.data_dir, args.options, count).await;
    }
    tokio::select! {
        result = start(connection, args.cluster, args.data_dir, args.options) => result,
        // The containers keep running: a restarted agent adopts them.
        _ = crate::shutdown_signal() => Ok(()),
    }
}

/// Runs an agent until its container instance is deregistered.
pub async fn start(
    connection: Connection,
    cluster: String,
    data_dir: PathBuf,
    options: AgentOptions,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let (cpu, memory) = detect_resources();
    let mut attributes = BTreeMap::new();
    for pair in &options.attributes {
        let (k, v) = pair.split_once('=').with_context(|| format!("attribute '{pair}' is not name=value"))?;
        attributes.insert(k.trim().to_string(), v.trim().to_string());
    }
    let profile = MachineProfile {
        cpu_units: options.cpu.unwrap_or(cpu),
        memory_mib: options.memory.unwrap_or(memory),
        instance_id: instance_id(&data_dir)?,
        instance_type: options.instance_type,
        availability_zone: options.availability_zone.unwrap_or_else(|| format!("{}a", connection.region)),
        cpu_architecture: std::env::consts::ARCH.to_string(),
        attributes,
        private_ip: options.advertise_address.or_else(|| address_toward(&connection.endpoint)),
        gpus: vec![],
        tags: BTreeMap::new(),
    };
    let client = ApiClient::new(ClientConfig {
        endpoint: connection.endpoint,
        access_key_id: connection.access_key_id,
        secret_access_key: connection.secret_access_key,
        region: connection.region,
    })?;
    let runtime = DockerRuntime::connect().await.context("connecting to the Docker engine")?;
    let config = AgentConfig {
        cluster,
        data_dir,
        profile,
        pause_image: options.pause_image,
        awsvpc_network: options.awsvpc_network,
    };
    let arn = Agent::new(config, Arc::new(client), Arc::new(runtime), PortBook::system()).run().await?;
    tracing::info!(instance = %arn, "agent finished");
    Ok(())
}

/// This machine's address on the route to the server at `endpoint` (a URL): connecting
/// a UDP socket picks the source address and sends nothing.
pub(crate) fn address_toward(endpoint: &str) -> Option<IpAddr> {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let server = authority.to_socket_addrs().or_else(|_| (authority, 80).to_socket_addrs()).ok()?.next()?;
    let any: IpAddr = if server.is_ipv4() { Ipv4Addr::UNSPECIFIED.into() } else { Ipv6Addr::UNSPECIFIED.into() };
    let socket = UdpSocket::bind((any, 0)).ok()?;
    socket.connect(server).ok()?;
    Some(socket.local_addr().ok()?.ip())
}

/// Runs `count` simulated container instances in this process, sharing one client.
async fn simulate(
    connection: Connection,
    cluster: String,
    data_dir: PathBuf,
    options: AgentOptions,
    count: usize,
) -> anyhow::Result<()> {
    let mut attributes = BTreeMap::new();
    for pair in &options.attributes {
        let (k, v) = pair.split_once('=').with_context(|| format!("attribute '{pair}' is not name=value"))?;
        attributes.insert(k.trim().to_string(), v.trim().to_string());
    }
    let sim = berth_agent::simulated::Simulation {
        count,
        cluster,
        data_dir,
        region: connection.region.clone(),
        cpu: options.cpu,
        memory: options.memory,
        attributes,
        pause_image: options.pause_image,
        awsvpc_network: options.awsvpc_network,
    };
    let client = ApiClient::new(ClientConfig {
        endpoint: connection.endpoint,
        access_key_id: connection.access_key_id,
        secret_access_key: connection.secret_access_key,
        region: connection.region,
    })?;
    tokio::select! {
        result = berth_agent::simulated::run(sim, client) => Ok(result?),
        _ = crate::shutdown_signal() => Ok(()),
    }
}

/// The access key from the environment, else from the `berth` profile of `file`.
pub(crate) fn credentials(file: &Path) -> anyhow::Result<(String, String)> {
    if let (Ok(id), Ok(secret)) = (std::env::var("AWS_ACCESS_KEY_ID"), std::env::var("AWS_SECRET_ACCESS_KEY")) {
        return Ok((id, secret));
    }
    let text = std::fs::read_to_string(file).with_context(|| {
        format!("no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set and cannot read {}", file.display())
    })?;
    let value = |key: &str| {
        text.lines()
            .skip_while(|l| l.trim() != format!("[{}]", crate::credentials::PROFILE))
            .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string()))
    };
    match (value("aws_access_key_id"), value("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => anyhow::bail!("{} has no [berth] profile with both keys", file.display()),
    }
}

/// A stable id for this machine (its "EC2 instance id"), kept in the agent's data dir.
fn instance_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("instance-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        return Ok(id.trim().to_string());
    }
    let mut bytes = [0u8; 9];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let id: String = format!("i-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())[..19].to_string();
    std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_toward_a_loopback_server_is_loopback() {
        let local: IpAddr = Ipv4Addr::LOCALHOST.into();
        assert_eq!(address_toward("http://127.0.0.1:4566"), Some(local));
        assert_eq!(address_toward("http://127.0.0.1:4566/"), Some(local));
        assert_eq!(address_toward("127.0.0.1:4566"), Some(local));
    }
}
