//! The production `Runtime`: the Docker Engine API through bollard.
//!
//! The client negotiates the API version with the daemon, so it speaks whatever older
//! version the engine has (Debian's 20.10 speaks 1.41). Replies are read leniently:
//! a field the daemon leaves out or fills oddly becomes "unknown", never a panic.

use super::{
    ContainerSpec, ContainerState, Health, LogLine, MountSource, NetworkSpec, PortSpec, Protocol, RegistryAuth,
    Runtime, RuntimeError, RuntimeEvent, Status,
};
use async_trait::async_trait;
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HealthConfig, HealthStatusEnum, HostConfig, Mount, MountType,
    NetworkCreateRequest, PortBinding, PortMap, ResourcesUlimits,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Mutex, mpsc};

/// How long one API call may take to answer (streams: until their headers arrive).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A pull that reports no progress for this long is given up.
const PULL_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The container events after which the agent should look at a container again.
const WATCHED_EVENTS: &[&str] = &["start", "die", "stop", "oom", "health_status", "destroy"];

pub struct DockerRuntime {
    docker: Docker,
    /// Serializes `ensure_network` within this agent: Docker 20.10 does not refuse a
    /// second network with the same name.
    network_lock: Mutex<()>,
}

impl DockerRuntime {
    /// Connects to the daemon named by `DOCKER_HOST`, or the local socket, and settles on
    /// the newest API version both sides speak.
    pub async fn connect() -> Result<Self, RuntimeError> {
        Self::negotiated(Docker::connect_with_defaults().map_err(unavailable)?).await
    }

    /// Connects to the daemon at `host` (`unix:///var/run/docker.sock`, `tcp://host:2375`).
    pub async fn connect_with_host(host: &str) -> Result<Self, RuntimeError> {
        Self::negotiated(Docker::connect_with_host(host).map_err(unavailable)?).await
    }

    async fn negotiated(docker: Docker) -> Result<Self, RuntimeError> {
        let docker = docker.with_timeout(REQUEST_TIMEOUT).negotiate_version().await.map_err(unavailable)?;
        Ok(Self { docker, network_lock: Mutex::new(()) })
    }

    /// The bollard client, for what the trait does not cover (logs, stats).
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// The image's digest: the repo digest matching `reference`'s repository when there
    /// is one (a pulled image), else any repo digest, else the image id (a local build).
    async fn image_digest(&self, image: &str, reference: Option<&str>) -> Result<Option<String>, RuntimeError> {
        match self.docker.inspect_image(image).await {
            Ok(inspect) => {
                let repo_digests = inspect.repo_digests.unwrap_or_default();
                let wanted = reference.map(|r| split_reference(r).0);
                let digest = repo_digests
                    .iter()
                    .find(|d| wanted.is_some_and(|w| d.split_once('@').is_some_and(|(repo, _)| same_repo(repo, w))))
                    .or_else(|| repo_digests.first())
                    .and_then(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
                    .or(inspect.id);
                Ok(digest)
            }
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn pull(&self, image: &str, auth: Option<&RegistryAuth>) -> Result<(), RuntimeError> {
        let (repo, tag) = split_reference(image);
        // Without a tag Docker would pull every tag of the repository.
        let options = CreateImageOptionsBuilder::default().from_image(repo).tag(tag.unwrap_or("latest")).build();
        let credentials = auth.map(|a| DockerCredentials {
            username: Some(a.username.clone()),
            password: Some(a.password.clone()),
            serveraddress: Some(a.server.clone()),
            ..Default::default()
        });
        let mut stream = self.docker.create_image(Some(options), None, credentials);
        loop {
            match tokio::time::timeout(PULL_IDLE_TIMEOUT, stream.next()).await {
                Err(_) => {
                    return Err(RuntimeError::Pull(format!(
                        "pulling {image}: no progress for {} s",
                        PULL_IDLE_TIMEOUT.as_secs()
                    )));
                }
                Ok(None) => return Ok(()),
                Ok(Some(Ok(_progress))) => {}
                Ok(Some(Err(e))) => {
                    return Err(match e {
                        DockerError::DockerStreamError { error } => RuntimeError::Pull(error),
                        DockerError::DockerResponseServerError { message, .. } => RuntimeError::Pull(message),
                        other => unavailable(other),
                    });
                }
            }
        }
    }

    async fn inspect_state(&self, id: &str) -> Result<Option<ContainerState>, RuntimeError> {
        let inspect = match self.docker.inspect_container(id, None).await {
            Ok(inspect) => inspect,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        let image_id = inspect.image.clone();
        let reference = inspect.config.as_ref().and_then(|c| c.image.clone());
        let mut state = container_state(inspect);
        if let Some(image_id) = image_id.filter(|i| !i.is_empty()) {
            // The image may have been removed since; the id is still a fine answer.
            state.image_digest = self.image_digest(&image_id, reference.as_deref()).await?.or(Some(image_id));
        }
        Ok(Some(state))
    }

    /// Docker 20.10 lets two concurrent creators make two networks of one name. Every
    /// creator keeps the oldest (ties: lowest id) and removes its own if it is not that one,
    /// so racing agents converge on one network.
    async fn dedupe_network(&self, name: &str, created_id: &str) -> Result<(), RuntimeError> {
        let filters = HashMap::from([("name", vec![name])]);
        let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
        let networks = self.docker.list_networks(Some(options)).await.map_err(unavailable)?;
        let mut same: Vec<(i128, String)> = networks
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| {
                let created = n.created.and_then(|c| OffsetDateTime::parse(&c.to_string(), &Rfc3339).ok());
                Some((created.map_or(i128::MAX, |c| c.unix_timestamp_nanos()), n.id?))
            })
            .collect();
        same.sort();
        if same.len() > 1 && same.first().is_some_and(|(_, id)| id != created_id) {
            match self.docker.remove_network(created_id).await {
                Ok(()) => {}
                Err(e) if status(&e) == Some(404) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    async fn ensure_image(&self, image: &str, auth: Option<&RegistryAuth>) -> Result<Option<String>, RuntimeError> {
        if let Some(digest) = self.image_digest(image, Some(image)).await? {
            return Ok(Some(digest));
        }
        self.pull(image, auth).await?;
        match self.image_digest(image, Some(image)).await? {
            Some(digest) => Ok(Some(digest)),
            None => Err(RuntimeError::Pull(format!("{image}: pulled, but the daemon does not have it"))),
        }
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        let options = CreateContainerOptionsBuilder::default().name(&spec.name).build();
        match self.docker.create_container(Some(options), create_body(spec)).await {
            Ok(created) => Ok(created.id),
            Err(e) => Err(container_error(e)),
        }
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        match self.docker.start_container(id, None).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) && message(&e).contains("No such container") => {
                Err(RuntimeError::NotFound(id.to_string()))
            }
            Err(e) => Err(container_error(e)),
        }
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let seconds = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(seconds).build();
        // Docker answers a stop only once the container is down, up to `timeout` later.
        let docker = self.docker.clone().with_timeout(REQUEST_TIMEOUT + timeout);
        match docker.stop_container(id, Some(options)).await {
            // bollard reads 304 (not running) as success.
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Err(RuntimeError::NotFound(id.to_string())),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptionsBuilder::default().force(false).v(true).build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) if status(&e) == Some(409) && message(&e).contains("already in progress") => Ok(()),
            Err(e) if status(&e) == Some(409) => Err(RuntimeError::Container(message(&e))),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, RuntimeError> {
        self.inspect_state(id).await
    }

    async fn list(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerState>, RuntimeError> {
        let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut filters: HashMap<&str, Vec<String>> = HashMap::new();
        if !wanted.is_empty() {
            filters.insert("label", wanted);
        }
        let options = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
        let summaries = self.docker.list_containers(Some(options)).await.map_err(unavailable)?;
        let mut states = vec![];
        for id in summaries.into_iter().filter_map(|s| s.id) {
            // A container removed between the list and the inspect is simply not there.
            if let Some(state) = self.inspect_state(&id).await? {
                states.push(state);
            }
        }
        Ok(states)
    }

    async fn sample(&self, labels: &[(&str, &str)]) -> Result<Option<Vec<crate::stats::Sample>>, RuntimeError> {
        crate::stats::docker::sample(&self.docker, labels).await.map(Some)
    }

    async fn ensure_network(&self, name: &str) -> Result<(), RuntimeError> {
        let _one_at_a_time = self.network_lock.lock().await;
        match self.docker.inspect_network(name, None).await {
            Ok(_) => return Ok(()),
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(unavailable(e)),
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".to_string()),
            labels: Some(HashMap::from([("dev.berth.managed".to_string(), "true".to_string())])),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(created) => self.dedupe_network(name, &created.id).await,
            // Another creator got there first (newer daemons refuse duplicates).
            Err(e) if status(&e) == Some(409) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn import_image(&self, reference: &str, rootfs_tar: Vec<u8>, cmd: &[String]) -> Result<(), RuntimeError> {
        let (repo, tag) = split_reference(reference);
        let cmd = serde_json::to_string(cmd).map_err(|e| RuntimeError::Container(e.to_string()))?;
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(repo)
            .tag(tag.unwrap_or("latest"))
            .changes(vec![format!("CMD {cmd}")])
            .build();
        let mut stream = self.docker.create_image(Some(options), Some(bollard::body_full(rootfs_tar.into())), None);
        while let Some(item) = stream.next().await {
            item.map_err(|e| match e {
                DockerError::DockerStreamError { error } => RuntimeError::Container(error),
                other => unavailable(other),
            })?;
        }
        Ok(())
    }

    async fn events(&self) -> Result<mpsc::Receiver<RuntimeEvent>, RuntimeError> {
        // Fail now, not as an empty stream, when the daemon is away.
        self.docker.ping().await.map_err(unavailable)?;
        // The request goes out when the stream is first polled, in the task below; asking
        // for events since a second ago covers a change in between (a repeat is harmless:
        // an event only says "look again").
        let since = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs().saturating_sub(1)).unwrap_or(0);
        let filters = HashMap::from([("type", vec!["container"]), ("event", WATCHED_EVENTS.to_vec())]);
        let options = EventsOptionsBuilder::default().since(&since.to_string()).filters(&filters).build();
        let mut stream = self.docker.events(Some(options));
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                let event = match item {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::debug!(error = %e, "docker event stream ended");
                        break;
                    }
                };
                let Some(id) = event.actor.and_then(|a| a.id).filter(|id| !id.is_empty()) else { continue };
                if tx.send(RuntimeEvent { container_id: id }).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    async fn logs(&self, id: &str, since: i64, follow: bool) -> Result<mpsc::Receiver<LogLine>, RuntimeError> {
        let options = bollard::query_parameters::LogsOptionsBuilder::default()
            .follow(follow)
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .since(since.clamp(0, i64::from(i32::MAX)) as i32)
            .build();
        let mut stream = self.docker.logs(id, Some(options));
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                let (stderr, bytes) = match item {
                    Ok(bollard::container::LogOutput::StdErr { message }) => (true, message),
                    Ok(bollard::container::LogOutput::StdOut { message })
                    | Ok(bollard::container::LogOutput::Console { message }) => (false, message),
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::debug!(error = %e, "docker log stream ended");
                        break;
                    }
                };
                for line in parse_log_frame(&bytes, stderr) {
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }
}

/// A frame of Docker's log stream with `timestamps=true`: `<RFC 3339 nanos> <text>\n`
/// per line.
fn parse_log_frame(bytes: &[u8], stderr: bool) -> Vec<LogLine> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = vec![];
    let mut ts = 0i64;
    for raw in text.split_inclusive('\n') {
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (stamp, line) = raw.split_once(' ').unwrap_or((raw, ""));
        match OffsetDateTime::parse(stamp, &Rfc3339) {
            Ok(t) => {
                ts = t.unix_timestamp_nanos() as i64;
                out.push(LogLine { timestamp_ns: ts, stderr, text: line.to_string() });
            }
            // A line without its own stamp continues the previous one's.
            Err(_) => out.push(LogLine { timestamp_ns: ts, stderr, text: raw.to_string() }),
        }
    }
    out
}

/// Docker's create request for the spec.
fn create_body(spec: &ContainerSpec) -> ContainerCreateBody {
    const MIB: i64 = 1024 * 1024;
    let (network_mode, exposed_ports, port_bindings) = match &spec.network {
        NetworkSpec::Bridge(ports) if !ports.is_empty() => {
            let mut bindings: PortMap = HashMap::new();
            for p in ports {
                bindings
                    .entry(port_key(p.container_port, p.protocol))
                    .or_insert_with(|| Some(vec![]))
                    .get_or_insert_default()
                    .push(PortBinding { host_ip: None, host_port: Some(p.host_port.to_string()) });
            }
            let mut exposed: Vec<String> = bindings.keys().cloned().collect();
            exposed.sort();
            ("bridge".to_string(), Some(exposed), Some(bindings))
        }
        NetworkSpec::Bridge(_) => ("bridge".to_string(), None, None),
        NetworkSpec::Host => ("host".to_string(), None, None),
        NetworkSpec::None => ("none".to_string(), None, None),
        NetworkSpec::Container(id) => (format!("container:{id}"), None, None),
        NetworkSpec::Network(name) => (name.clone(), None, None),
    };

    // Host paths go through `Binds`, which (unlike a bind `Mount`) creates a missing
    // source directory, as ECS documents for host volumes; paths with a colon cannot be
    // written that way and use a `Mount`.
    let mut binds = vec![];
    let mut mounts = vec![];
    for m in &spec.mounts {
        match &m.source {
            MountSource::HostPath(path) if !path.contains(':') && !m.target.contains(':') => {
                binds.push(format!("{path}:{}{}", m.target, if m.read_only { ":ro" } else { "" }));
            }
            MountSource::HostPath(path) => mounts.push(Mount {
                typ: Some(MountType::BIND),
                source: Some(path.clone()),
                target: Some(m.target.clone()),
                read_only: Some(m.read_only),
                ..Default::default()
            }),
            MountSource::Volume(name) => mounts.push(Mount {
                typ: Some(MountType::VOLUME),
                source: Some(name.clone()),
                target: Some(m.target.clone()),
                read_only: Some(m.read_only),
                ..Default::default()
            }),
        }
    }

    let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());

    ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.command.clone(),
        env: non_empty(&spec.env),
        working_dir: spec.working_dir.clone(),
        user: spec.user.clone(),
        hostname: spec.hostname.clone(),
        labels: Some(spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        exposed_ports,
        healthcheck: spec.health_check.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: Some(nanos(h.interval)),
            timeout: Some(nanos(h.timeout)),
            retries: Some(i64::from(h.retries)),
            start_period: Some(nanos(h.start_period)),
            ..Default::default()
        }),
        stop_timeout: Some(i64::try_from(spec.stop_timeout.as_secs()).unwrap_or(i64::MAX)),
        host_config: Some(HostConfig {
            cpu_shares: spec.cpu_shares.map(|s| s.max(2)),
            memory: spec.memory_mib.map(|m| m.saturating_mul(MIB)),
            memory_reservation: spec.memory_reservation_mib.map(|m| m.saturating_mul(MIB)),
            ulimits: (!spec.ulimits.is_empty()).then(|| {
                spec.ulimits
                    .iter()
                    .map(|u| ResourcesUlimits { name: Some(u.name.clone()), soft: Some(u.soft), hard: Some(u.hard) })
                    .collect()
            }),
            readonly_rootfs: Some(spec.readonly_rootfs),
            privileged: Some(spec.privileged),
            network_mode: Some(network_mode),
            port_bindings,
            binds: (!binds.is_empty()).then_some(binds),
            mounts: (!mounts.is_empty()).then_some(mounts),
            extra_hosts: non_empty(&spec.extra_hosts),
            dns: non_empty(&spec.dns_servers),
            dns_search: non_empty(&spec.dns_search),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn port_key(port: u16, protocol: Protocol) -> String {
    match protocol {
        Protocol::Tcp => format!("{port}/tcp"),
        Protocol::Udp => format!("{port}/udp"),
    }
}

/// What `docker inspect` says, in the runtime's terms (without the image digest, which
/// needs another call).
fn container_state(inspect: ContainerInspectResponse) -> ContainerState {
    let state = inspect.state.unwrap_or_default();
    let started_at = state.started_at.as_deref().and_then(epoch_seconds);
    // Docker stamps StartedAt after the process is running, so one that exits at once can
    // finish "before" it started; nobody downstream should see time run backwards.
    let finished_at = state.finished_at.as_deref().and_then(epoch_seconds).map(|f| started_at.map_or(f, |s| f.max(s)));
    let status = match state.status.map(|s| s.to_string()).as_deref() {
        Some("created") => Status::Created,
        Some("running" | "paused" | "restarting" | "stopping") => Status::Running,
        Some("exited" | "dead" | "removing") => Status::Exited,
        // A daemon that leaves the status out: judge by the flags and times.
        _ if state.running == Some(true) => Status::Running,
        _ if started_at.is_some() => Status::Exited,
        _ => Status::Created,
    };
    let error = state.error.filter(|e| !e.is_empty());
    // Docker reports exit code 0 for containers that never ran; a failed start leaves the
    // container created with a real one (127, 128...) next to its error.
    let exit_code = state.exit_code.filter(|code| status == Status::Exited || *code != 0 || error.is_some());
    let health = state.health.and_then(|h| h.status).and_then(|s| match s {
        HealthStatusEnum::STARTING => Some(Health::Starting),
        HealthStatusEnum::HEALTHY => Some(Health::Healthy),
        HealthStatusEnum::UNHEALTHY => Some(Health::Unhealthy),
        HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => None,
    });
    let settings = inspect.network_settings.unwrap_or_default();
    let ip_addresses = settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(network, endpoint)| Some((network, endpoint.ip_address.filter(|ip| !ip.is_empty())?)))
        .collect();
    ContainerState {
        id: inspect.id.unwrap_or_default(),
        name: inspect.name.map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default(),
        labels: inspect.config.and_then(|c| c.labels).map(|l| l.into_iter().collect()).unwrap_or_default(),
        status,
        exit_code,
        oom_killed: state.oom_killed.unwrap_or(false),
        error,
        health,
        started_at,
        finished_at,
        ip_addresses,
        ports: published_ports(settings.ports.unwrap_or_default()),
        image_digest: None,
    }
}

/// `{"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}, {"HostIp": "::", ...}]}`
/// as one `PortSpec` per (container port, host port, protocol).
fn published_ports(ports: PortMap) -> Vec<PortSpec> {
    let mut out: Vec<PortSpec> = vec![];
    for (key, bindings) in ports {
        let (port, protocol) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let protocol = match protocol {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => continue,
        };
        let Ok(container_port) = port.parse::<u16>() else { continue };
        for binding in bindings.into_iter().flatten() {
            let Some(host_port) = binding.host_port.and_then(|p| p.parse::<u16>().ok()).filter(|p| *p > 0) else {
                continue;
            };
            let spec = PortSpec { container_port, host_port, protocol };
            if !out.contains(&spec) {
                out.push(spec);
            }
        }
    }
    out.sort_by_key(|p| (p.container_port, p.protocol, p.host_port));
    out
}

/// RFC 3339 to epoch seconds; Docker's zero time ("0001-01-01T00:00:00Z": never) is `None`.
fn epoch_seconds(s: &str) -> Option<f64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    if t.year() <= 1 {
        return None;
    }
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// `registry:5000/team/app:1.2@sha256:...` -> (`registry:5000/team/app`, tag or digest).
fn split_reference(image: &str) -> (&str, Option<&str>) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, Some(digest));
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (&image[..name_start + i], Some(&image[name_start + i + 1..])),
        None => (image, None),
    }
}

/// Whether two repository names are the same, allowing for Docker Hub's implicit
/// `docker.io/` and `library/` prefixes.
fn same_repo(a: &str, b: &str) -> bool {
    fn normal(r: &str) -> &str {
        let r = r.strip_prefix("docker.io/").unwrap_or(r);
        r.strip_prefix("library/").unwrap_or(r)
    }
    normal(a) == normal(b)
}

fn status(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn message(e: &DockerError) -> String {
    match e {
        DockerError::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The daemon could not be reached or did not answer sensibly: try again later.
fn unavailable(e: DockerError) -> RuntimeError {
    RuntimeError::Unavailable(message(&e))
}

/// Create and start: an answer from the daemon refusing the container (bad config, missing
/// image or executable, port taken) fails the container; no answer is the daemon's problem.
fn container_error(e: DockerError) -> RuntimeError {
    match e {
        DockerError::DockerResponseServerError { status_code, message } if status_code != 503 => {
            RuntimeError::Container(message)
        }
        other => unavailable(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_frames_split_into_stamped_lines() {
        let lines = parse_log_frame(b"2024-01-02T03:04:05.000000006Z hello world\n2024-01-02T03:04:05.5Z \n", true);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "hello world");
        assert_eq!(lines[0].timestamp_ns % 1_000_000_000, 6);
        assert!(lines[0].stderr);
        assert_eq!(lines[1].text, "");
        assert_eq!(lines[1].timestamp_ns - lines[0].timestamp_ns, 499_999_994);
    }
    use crate::runtime::{HealthCheckSpec, MountSpec, Ulimit};

    #[test]
    fn references_split_into_repo_and_tag() {
        assert_eq!(split_reference("busybox"), ("busybox", None));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", Some("1.36")));
        assert_eq!(split_reference("localhost:5000/app"), ("localhost:5000/app", None));
        assert_eq!(split_reference("localhost:5000/team/app:v2"), ("localhost:5000/team/app", Some("v2")));
        assert_eq!(split_reference("app@sha256:abc"), ("app", Some("sha256:abc")));
        assert!(same_repo("docker.io/library/nginx", "nginx"));
        assert!(!same_repo("nginx", "localhost:5000/nginx"));
    }

    #[test]
    fn times_parse_and_zero_time_is_none() {
        assert_eq!(epoch_seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(epoch_seconds("garbage"), None);
        let t = epoch_seconds("2024-05-01T12:00:00.5Z").unwrap();
        assert!((t - 1_714_564_800.5).abs() < 1e-3, "{t}");
        assert!(epoch_seconds("2024-05-01T12:00:00.123456789+02:00").is_some());
    }

    #[test]
    fn ports_are_read_once_per_binding() {
        let ports: PortMap = HashMap::from([
            (
                "8080/tcp".to_string(),
                Some(vec![
                    PortBinding { host_ip: Some("0.0.0.0".into()), host_port: Some("49153".into()) },
                    PortBinding { host_ip: Some("::".into()), host_port: Some("49153".into()) },
                ]),
            ),
            ("53/udp".to_string(), Some(vec![PortBinding { host_ip: None, host_port: Some("5353".into()) }])),
            ("9000/tcp".to_string(), None),
            ("oops/sctp".to_string(), Some(vec![])),
            ("1/tcp".to_string(), Some(vec![PortBinding { host_ip: None, host_port: Some("junk".into()) }])),
        ]);
        assert_eq!(
            published_ports(ports),
            vec![
                PortSpec { container_port: 53, host_port: 5353, protocol: Protocol::Udp },
                PortSpec { container_port: 8080, host_port: 49153, protocol: Protocol::Tcp },
            ]
        );
    }

    #[test]
    fn an_empty_inspect_reply_does_not_panic() {
        let state = container_state(ContainerInspectResponse::default());
        assert_eq!(state.status, Status::Created);
        assert_eq!(state.exit_code, None);
        assert!(state.ports.is_empty() && state.ip_addresses.is_empty());
    }

    #[test]
    fn create_body_maps_the_spec() {
        let spec = ContainerSpec {
            name: "c".into(),
            image: "img".into(),
            cpu_shares: Some(0),
            memory_mib: Some(64),
            memory_reservation_mib: Some(32),
            ulimits: vec![Ulimit { name: "nofile".into(), soft: 10, hard: 20 }],
            network: NetworkSpec::Bridge(vec![
                PortSpec { container_port: 80, host_port: 49153, protocol: Protocol::Tcp },
                PortSpec { container_port: 80, host_port: 49154, protocol: Protocol::Tcp },
                PortSpec { container_port: 53, host_port: 49155, protocol: Protocol::Udp },
            ]),
            mounts: vec![
                MountSpec { source: MountSource::HostPath("/data".into()), target: "/d".into(), read_only: true },
                MountSpec { source: MountSource::Volume("v".into()), target: "/v".into(), read_only: false },
            ],
            health_check: Some(HealthCheckSpec {
                test: vec!["CMD".into(), "true".into()],
                interval: Duration::from_secs(2),
                timeout: Duration::from_millis(1500),
                retries: 3,
                start_period: Duration::ZERO,
            }),
            stop_timeout: Duration::from_secs(7),
            ..Default::default()
        };
        let body = create_body(&spec);
        let host = body.host_config.clone().unwrap();
        assert_eq!(host.cpu_shares, Some(2));
        assert_eq!(host.memory, Some(64 << 20));
        assert_eq!(host.memory_reservation, Some(32 << 20));
        assert_eq!(host.network_mode.as_deref(), Some("bridge"));
        assert_eq!(body.exposed_ports, Some(vec!["53/udp".to_string(), "80/tcp".to_string()]));
        let bindings = host.port_bindings.unwrap();
        assert_eq!(bindings["80/tcp"].as_ref().map(Vec::len), Some(2));
        assert_eq!(host.binds, Some(vec!["/data:/d:ro".to_string()]));
        assert_eq!(host.mounts.as_ref().map(Vec::len), Some(1));
        let health = body.healthcheck.unwrap();
        assert_eq!((health.interval, health.timeout), (Some(2_000_000_000), Some(1_500_000_000)));
        assert_eq!(body.stop_timeout, Some(7));
        assert_eq!(body.env, None);

        let joined = create_body(&ContainerSpec { network: NetworkSpec::Container("abc".into()), ..spec });
        assert_eq!(joined.host_config.unwrap().network_mode.as_deref(), Some("container:abc"));
        assert_eq!(joined.exposed_ports, None);
    }
}
