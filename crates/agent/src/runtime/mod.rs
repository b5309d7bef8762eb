//! The container runtime behind one trait: Docker in production (`docker.rs`), a
//! recording fake in unit tests. Everything the agent does to containers goes through
//! here; the specs it passes are built by pure code from task definitions.

pub mod docker;
pub mod fake;

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// Everything needed to create one container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerSpec {
    /// The Docker container name (unique on the host).
    pub name: String,
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    /// `KEY=value` pairs.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Docker CPU shares (ECS cpu units map 1:1; Docker's minimum is 2).
    pub cpu_shares: Option<i64>,
    /// Hard memory limit, MiB.
    pub memory_mib: Option<i64>,
    /// Soft memory limit (reservation), MiB.
    pub memory_reservation_mib: Option<i64>,
    pub ulimits: Vec<Ulimit>,
    pub readonly_rootfs: bool,
    pub privileged: bool,
    pub network: NetworkSpec,
    pub mounts: Vec<MountSpec>,
    pub health_check: Option<HealthCheckSpec>,
    pub extra_hosts: Vec<String>,
    pub dns_servers: Vec<String>,
    pub dns_search: Vec<String>,
    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub stop_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NetworkSpec {
    /// Docker's default bridge, publishing these ports.
    Bridge(Vec<PortSpec>),
    Host,
    None,
    /// Join another container's network namespace (awsvpc: the task's pause container).
    Container(String),
    /// Attach to a named Docker network (awsvpc: the pause container on berth's network).
    Network(String),
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec::Bridge(vec![])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// A published port: `host_port` is always concrete (the agent picks dynamic ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountSpec {
    pub source: MountSource,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MountSource {
    HostPath(String),
    /// A Docker named volume (created if absent).
    Volume(String),
}

/// Docker's health check: `test` is Docker's form (`["CMD-SHELL", "..."]` or `["CMD", ...]`).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckSpec {
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    /// Exited or dead: it will not run again by itself.
    Exited,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

/// A container as the runtime sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub status: Status,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    /// The runtime's own error, e.g. an entrypoint that does not exist.
    pub error: Option<String>,
    pub health: Option<Health>,
    /// Epoch seconds.
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    /// Network name -> IPv4 address.
    pub ip_addresses: BTreeMap<String, String>,
    /// The ports Docker actually published.
    pub ports: Vec<PortSpec>,
    /// The image's content digest (`sha256:...`) when known.
    pub image_digest: Option<String>,
}

/// Something changed about a container (it died, its health changed, ...): look again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeEvent {
    pub container_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The image could not be pulled (absent, no access, registry down).
    #[error("CannotPullContainerError: {0}")]
    Pull(String),
    /// Creating or starting failed because of the container's own configuration
    /// (missing command, bad mount, port in use...): the task fails to start.
    #[error("{0}")]
    Container(String),
    #[error("no such container: {0}")]
    NotFound(String),
    /// The runtime itself is unreachable or broken: retry later.
    #[error("container runtime unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Runtime: Send + Sync + 'static {
    /// Makes sure `image` is present, pulling it when absent; returns its digest if known.
    async fn ensure_image(&self, image: &str, auth: Option<&RegistryAuth>) -> Result<Option<String>, RuntimeError>;
    /// Creates (does not start) a container; returns its id.
    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError>;
    async fn start(&self, id: &str) -> Result<(), RuntimeError>;
    /// SIGTERM, then SIGKILL after `timeout`. Stopping a stopped container is not an error.
    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError>;
    /// Removes a stopped container (and its anonymous volumes).
    async fn remove(&self, id: &str) -> Result<(), RuntimeError>;
    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, RuntimeError>;
    /// Every container (running or not) carrying all of `labels`.
    async fn list(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerState>, RuntimeError>;
    /// Creates the named bridge network if absent (awsvpc tasks get their addresses there).
    async fn ensure_network(&self, name: &str) -> Result<(), RuntimeError>;
    /// Container changes as they happen (die, health_status, start, oom...). The stream
    /// ends if the runtime connection is lost; the caller resubscribes.
    async fn events(&self) -> Result<mpsc::Receiver<RuntimeEvent>, RuntimeError>;
    /// Creates (or re-tags) image `reference` from a root filesystem tarball, as
    /// `docker import` does, with `cmd` as its default command.
    async fn import_image(&self, reference: &str, rootfs_tar: Vec<u8>, cmd: &[String]) -> Result<(), RuntimeError>;
    /// The container's stdout and stderr lines, in the order the runtime recorded them,
    /// from `since` (epoch seconds, inclusive; 0 for all). With `follow` the stream goes
    /// on until the container stops; it also ends if the runtime connection is lost.
    async fn logs(&self, id: &str, since: i64, follow: bool) -> Result<mpsc::Receiver<LogLine>, RuntimeError>;
    /// A stats reading of every running container carrying all of `labels`, for the
    /// metrics sampler (`stats/`); None from a runtime that has no stats.
    async fn sample(&self, _labels: &[(&str, &str)]) -> Result<Option<Vec<crate::stats::Sample>>, RuntimeError> {
        Ok(None)
    }
}

/// One line a container printed, as the runtime recorded it (no trailing newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When the runtime read it: nanoseconds since the epoch.
    pub timestamp_ns: i64,
    pub stderr: bool,
    pub text: String,
}

/// Credentials for pulling from a private registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    pub username: String,
    pub password: String,
    pub server: String,
}
