//! An in-memory `Runtime` for unit tests of the agent: it records every call, keeps
//! containers as plain data, lets a test script what Docker would do (a pull that fails,
//! a container that exits or turns unhealthy...) and emits events on every change, like
//! Docker's event stream.
//!
//! It mimics Docker where the agent could tell the difference: stopping a stopped or
//! never-started container is a no-op, removing a running one fails, removing a missing
//! one succeeds, a failed start leaves the container `Created` with an error, and a
//! container joining another's network namespace has no addresses of its own.
//!
//! Scripting methods take the container's Docker name (the spec's `name`) or its id.

use super::{
    ContainerSpec, ContainerState, Health, LogLine, NetworkSpec, RegistryAuth, Runtime, RuntimeError, RuntimeEvent,
    Status,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// One call the agent made, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `pulled`: the image was absent and the fake "pulled" it (or failed to).
    EnsureImage {
        image: String,
        auth: Option<RegistryAuth>,
        pulled: bool,
    },
    Create(Box<ContainerSpec>),
    Start(String),
    Stop {
        id: String,
        timeout: Duration,
    },
    Remove(String),
    Inspect(String),
    List(Vec<(String, String)>),
    EnsureNetwork(String),
    Events,
}

/// A container as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeContainer {
    pub id: String,
    pub spec: ContainerSpec,
    pub state: ContainerState,
}

/// Cheap to clone: clones share one state, so a test keeps a handle while the agent owns
/// another (as `Arc<dyn Runtime>`).
#[derive(Debug, Clone, Default)]
pub struct FakeRuntime {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    calls: Vec<Call>,
    /// Present images -> digest.
    images: BTreeMap<String, String>,
    pull_failures: HashMap<String, String>,
    create_failures: HashMap<String, String>,
    start_failures: HashMap<String, String>,
    /// Exit code a running container reports when stopped, by container name.
    stop_exit_codes: HashMap<String, i64>,
    /// Containers (by name) whose process ignores SIGTERM: `stop` waits out its timeout
    /// (on tokio's clock) and kills them.
    ignore_sigterm: BTreeSet<String>,
    containers: BTreeMap<String, FakeContainer>,
    networks: BTreeSet<String>,
    subscribers: Vec<mpsc::Sender<RuntimeEvent>>,
    unavailable: Option<String>,
    next_id: u64,
    /// What each container printed, by id.
    output: HashMap<String, Vec<LogLine>>,
    /// Followed log streams end after this many lines, as Docker's may at a fast
    /// writer's exit.
    follow_limit: Option<usize>,
}

/// What a running container reports when `stop` ends it, unless the test says otherwise:
/// 128 + SIGTERM, as a process killed by the signal does.
pub const DEFAULT_STOP_EXIT_CODE: i64 = 143;

impl FakeRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock has failed already; keep going so
        // its other assertions still report.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Every container the fake holds (created and not removed), by id order.
    pub fn containers(&self) -> Vec<FakeContainer> {
        self.lock().containers.values().cloned().collect()
    }

    /// The container with this name or id.
    pub fn container(&self, name_or_id: &str) -> Option<FakeContainer> {
        let inner = self.lock();
        inner.find(name_or_id).and_then(|id| inner.containers.get(&id).cloned())
    }

    /// The networks `ensure_network` created.
    pub fn networks(&self) -> Vec<String> {
        self.lock().networks.iter().cloned().collect()
    }

    /// Makes `image` present, so `ensure_image` does not pull it.
    pub fn add_image(&self, image: &str) {
        self.lock().images.insert(image.to_string(), digest_of(image));
    }

    /// Whether `image` is present (added, or pulled by `ensure_image`).
    pub fn has_image(&self, image: &str) -> bool {
        self.lock().images.contains_key(image)
    }

    /// Pulling `image` fails with `message` (as `RuntimeError::Pull`) until `clear_failures`.
    pub fn fail_pull(&self, image: &str, message: &str) {
        self.lock().pull_failures.insert(image.to_string(), message.to_string());
    }

    /// Creating the container named `name` fails with `RuntimeError::Container(message)`.
    pub fn fail_create(&self, name: &str, message: &str) {
        self.lock().create_failures.insert(name.to_string(), message.to_string());
    }

    /// Starting the container named `name` fails with `RuntimeError::Container(message)`,
    /// leaving it `Created` with exit code 128 and the message as its error (as Docker does
    /// when, say, the entrypoint does not exist).
    pub fn fail_start(&self, name: &str, message: &str) {
        self.lock().start_failures.insert(name.to_string(), message.to_string());
    }

    pub fn clear_failures(&self) {
        let mut inner = self.lock();
        inner.pull_failures.clear();
        inner.create_failures.clear();
        inner.start_failures.clear();
    }

    /// The exit code the container named `name` reports when `stop` ends it.
    pub fn set_stop_exit_code(&self, name: &str, code: i64) {
        self.lock().stop_exit_codes.insert(name.to_string(), code);
    }

    /// The container named `name` ignores SIGTERM: stopping it takes the whole timeout
    /// and ends it with SIGKILL (exit code 137).
    pub fn ignore_sigterm(&self, name: &str) {
        self.lock().ignore_sigterm.insert(name.to_string());
    }

    /// Every call fails with `RuntimeError::Unavailable(message)` and the event streams
    /// end, as when the Docker daemon goes away; `None` brings it back.
    pub fn set_unavailable(&self, message: Option<&str>) {
        let mut inner = self.lock();
        inner.unavailable = message.map(str::to_string);
        if inner.unavailable.is_some() {
            inner.subscribers.clear();
        }
    }

    /// Ends every event stream (the receivers see `None`), as a lost daemon connection does.
    pub fn close_events(&self) {
        self.lock().subscribers.clear();
    }

    /// The container's process exits with `code`. Panics if there is no such container
    /// (a mistake in the test).
    pub fn exit(&self, name_or_id: &str, code: i64) {
        self.update(name_or_id, |c| {
            c.state.status = Status::Exited;
            c.state.exit_code = Some(code);
            c.state.finished_at = Some(now());
        });
    }

    /// The kernel kills the container for exceeding its memory limit: exit code 137, OOMKilled.
    pub fn oom_kill(&self, name_or_id: &str) {
        self.update(name_or_id, |c| {
            c.state.status = Status::Exited;
            c.state.exit_code = Some(137);
            c.state.oom_killed = true;
            c.state.finished_at = Some(now());
        });
    }

    /// Followed log streams end after `lines` lines from now on (reads without follow
    /// still deliver everything).
    pub fn end_follow_streams_after(&self, lines: usize) {
        self.lock().follow_limit = Some(lines);
    }

    /// The container prints `text` on stdout (a line, stamped now).
    pub fn print(&self, name_or_id: &str, text: &str) {
        let mut inner = self.lock();
        let Some(id) = inner.find(name_or_id) else {
            panic!("FakeRuntime: no container named or with id {name_or_id:?}");
        };
        let lines = inner.output.entry(id).or_default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
        let ts = lines.last().map_or(now, |l| l.timestamp_ns.max(now));
        lines.push(LogLine { timestamp_ns: ts, stderr: false, text: text.to_string() });
    }

    /// The container's health check reports `health`.
    pub fn set_health(&self, name_or_id: &str, health: Health) {
        self.update(name_or_id, |c| c.state.health = Some(health));
    }

    /// Puts a container in place as if it had been created earlier (by an agent that
    /// since restarted), in `status`; returns its id. Emits no event.
    pub fn add_container(&self, spec: ContainerSpec, status: Status) -> String {
        let mut inner = self.lock();
        let id = inner.new_id();
        let mut state = initial_state(&id, &spec, inner.images.get(&spec.image).cloned());
        state.status = status;
        if status != Status::Created {
            state.started_at = Some(now());
            state.health = spec.health_check.as_ref().map(|_| Health::Starting);
        }
        if status == Status::Exited {
            state.exit_code = Some(0);
            state.finished_at = Some(now());
        }
        inner.containers.insert(id.clone(), FakeContainer { id: id.clone(), spec, state });
        id
    }

    /// Sends an event for the container, as Docker would for a change the fake does not model.
    pub fn emit(&self, name_or_id: &str) {
        let mut inner = self.lock();
        let id = inner.find(name_or_id).unwrap_or_else(|| name_or_id.to_string());
        inner.emit(&id);
    }

    fn update(&self, name_or_id: &str, change: impl FnOnce(&mut FakeContainer)) {
        let mut inner = self.lock();
        let Some(id) = inner.find(name_or_id) else {
            panic!("FakeRuntime: no container named or with id {name_or_id:?}");
        };
        if let Some(c) = inner.containers.get_mut(&id) {
            change(c);
        }
        inner.emit(&id);
    }
}

impl Inner {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        // 64 hex digits, like Docker's ids, so code that shortens ids keeps working.
        format!("{:064x}", self.next_id)
    }

    fn find(&self, name_or_id: &str) -> Option<String> {
        if self.containers.contains_key(name_or_id) {
            return Some(name_or_id.to_string());
        }
        self.containers.values().find(|c| c.spec.name == name_or_id).map(|c| c.id.clone())
    }

    fn emit(&mut self, id: &str) {
        let event = RuntimeEvent { container_id: id.to_string() };
        // A full or dropped receiver loses the event, as a slow Docker client would.
        self.subscribers.retain(|tx| !matches!(tx.try_send(event.clone()), Err(mpsc::error::TrySendError::Closed(_))));
    }

    fn check_available(&self) -> Result<(), RuntimeError> {
        match &self.unavailable {
            Some(message) => Err(RuntimeError::Unavailable(message.clone())),
            None => Ok(()),
        }
    }

    /// The address the container gets on each network it is attached to.
    fn addresses(&self, network: &NetworkSpec) -> BTreeMap<String, String> {
        let n = self.next_id;
        let ip = format!("172.{}.{}.{}", 17 + (n / 65536) % 8, (n / 256) % 256, n % 256);
        match network {
            NetworkSpec::Bridge(_) => BTreeMap::from([("bridge".to_string(), ip)]),
            NetworkSpec::Network(name) => BTreeMap::from([(name.clone(), ip)]),
            NetworkSpec::Host | NetworkSpec::None | NetworkSpec::Container(_) => BTreeMap::new(),
        }
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn digest_of(image: &str) -> String {
    // Stable per image name, shaped like a digest; not a real hash of anything.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in image.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("sha256:{:064x}", h)
}

fn initial_state(id: &str, spec: &ContainerSpec, digest: Option<String>) -> ContainerState {
    ContainerState {
        id: id.to_string(),
        name: spec.name.clone(),
        labels: spec.labels.clone(),
        status: Status::Created,
        exit_code: None,
        oom_killed: false,
        error: None,
        health: None,
        started_at: None,
        finished_at: None,
        ip_addresses: BTreeMap::new(),
        ports: match &spec.network {
            NetworkSpec::Bridge(ports) => ports.clone(),
            _ => vec![],
        },
        image_digest: digest,
    }
}

#[async_trait]
impl Runtime for FakeRuntime {
    async fn ensure_image(&self, image: &str, auth: Option<&RegistryAuth>) -> Result<Option<String>, RuntimeError> {
        let mut inner = self.lock();
        let present = inner.images.get(image).cloned();
        let pulled = present.is_none() && inner.unavailable.is_none();
        inner.calls.push(Call::EnsureImage { image: image.to_string(), auth: auth.cloned(), pulled });
        inner.check_available()?;
        if let Some(digest) = present {
            return Ok(Some(digest));
        }
        if let Some(message) = inner.pull_failures.get(image) {
            return Err(RuntimeError::Pull(message.clone()));
        }
        let digest = digest_of(image);
        inner.images.insert(image.to_string(), digest.clone());
        Ok(Some(digest))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::Create(Box::new(spec.clone())));
        inner.check_available()?;
        if let Some(message) = inner.create_failures.get(&spec.name) {
            return Err(RuntimeError::Container(message.clone()));
        }
        if !inner.images.contains_key(&spec.image) {
            return Err(RuntimeError::Container(format!("No such image: {}", spec.image)));
        }
        if inner.find(&spec.name).is_some() {
            return Err(RuntimeError::Container(format!(
                "Conflict. The container name \"/{}\" is already in use",
                spec.name
            )));
        }
        match &spec.network {
            NetworkSpec::Network(name) if !inner.networks.contains(name) => {
                return Err(RuntimeError::Container(format!("network {name} not found")));
            }
            NetworkSpec::Container(other) if inner.find(other).is_none() => {
                return Err(RuntimeError::Container(format!("No such container: {other}")));
            }
            _ => {}
        }
        let id = inner.new_id();
        let state = initial_state(&id, spec, inner.images.get(&spec.image).cloned());
        inner.containers.insert(id.clone(), FakeContainer { id: id.clone(), spec: spec.clone(), state });
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::Start(id.to_string()));
        inner.check_available()?;
        let Some(id) = inner.find(id) else {
            return Err(RuntimeError::NotFound(id.to_string()));
        };
        let addresses = match inner.containers.get(&id) {
            Some(c) => inner.addresses(&c.spec.network),
            None => BTreeMap::new(),
        };
        let failure = inner.containers.get(&id).and_then(|c| inner.start_failures.get(&c.spec.name).cloned());
        let Some(c) = inner.containers.get_mut(&id) else {
            return Err(RuntimeError::NotFound(id));
        };
        if let Some(message) = failure {
            c.state.error = Some(message.clone());
            c.state.exit_code = Some(128);
            inner.emit(&id);
            return Err(RuntimeError::Container(message));
        }
        if c.state.status == Status::Running {
            return Ok(());
        }
        c.state.status = Status::Running;
        c.state.started_at = Some(now());
        c.state.finished_at = None;
        c.state.exit_code = None;
        c.state.error = None;
        c.state.oom_killed = false;
        c.state.health = c.spec.health_check.as_ref().map(|_| Health::Starting);
        c.state.ip_addresses = addresses;
        inner.emit(&id);
        Ok(())
    }

    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let stubborn = {
            let mut inner = self.lock();
            inner.calls.push(Call::Stop { id: id.to_string(), timeout });
            inner.check_available()?;
            let Some(c) = inner.find(id).and_then(|id| inner.containers.get(&id)) else {
                return Err(RuntimeError::NotFound(id.to_string()));
            };
            c.state.status == Status::Running && inner.ignore_sigterm.contains(&c.spec.name)
        };
        if stubborn {
            tokio::time::sleep(timeout).await;
        }
        let mut inner = self.lock();
        let Some(id) = inner.find(id) else {
            return Err(RuntimeError::NotFound(id.to_string()));
        };
        let code = if stubborn {
            Some(137)
        } else {
            inner.containers.get(&id).and_then(|c| inner.stop_exit_codes.get(&c.spec.name).copied())
        };
        let Some(c) = inner.containers.get_mut(&id) else {
            return Err(RuntimeError::NotFound(id));
        };
        if c.state.status != Status::Running {
            return Ok(());
        }
        c.state.status = Status::Exited;
        c.state.exit_code = Some(code.unwrap_or(DEFAULT_STOP_EXIT_CODE));
        c.state.finished_at = Some(now());
        inner.emit(&id);
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::Remove(id.to_string()));
        inner.check_available()?;
        let Some(id) = inner.find(id) else {
            return Ok(());
        };
        if inner.containers.get(&id).is_some_and(|c| c.state.status == Status::Running) {
            return Err(RuntimeError::Container(format!(
                "You cannot remove a running container {id}. Stop the container before attempting removal"
            )));
        }
        inner.containers.remove(&id);
        inner.emit(&id);
        Ok(())
    }

    async fn inspect(&self, id: &str) -> Result<Option<ContainerState>, RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::Inspect(id.to_string()));
        inner.check_available()?;
        Ok(inner.find(id).and_then(|id| inner.containers.get(&id)).map(|c| c.state.clone()))
    }

    async fn list(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerState>, RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::List(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()));
        inner.check_available()?;
        Ok(inner
            .containers
            .values()
            .filter(|c| labels.iter().all(|(k, v)| c.state.labels.get(*k).map(String::as_str) == Some(*v)))
            .map(|c| c.state.clone())
            .collect())
    }

    async fn ensure_network(&self, name: &str) -> Result<(), RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::EnsureNetwork(name.to_string()));
        inner.check_available()?;
        inner.networks.insert(name.to_string());
        Ok(())
    }

    async fn import_image(&self, reference: &str, _rootfs_tar: Vec<u8>, _cmd: &[String]) -> Result<(), RuntimeError> {
        self.add_image(reference);
        Ok(())
    }

    async fn events(&self) -> Result<mpsc::Receiver<RuntimeEvent>, RuntimeError> {
        let mut inner = self.lock();
        inner.calls.push(Call::Events);
        inner.check_available()?;
        let (tx, rx) = mpsc::channel(1024);
        inner.subscribers.push(tx);
        Ok(rx)
    }

    /// Lines from `print`; following ends once the container has exited (or is gone)
    /// and every line was delivered.
    async fn logs(&self, id: &str, since: i64, follow: bool) -> Result<mpsc::Receiver<LogLine>, RuntimeError> {
        self.lock().check_available()?;
        let (tx, rx) = mpsc::channel(1024);
        let fake = self.clone();
        let id = id.to_string();
        let from_ns = since.saturating_mul(1_000_000_000);
        tokio::spawn(async move {
            let mut next = 0;
            let mut sent = 0;
            loop {
                let (batch, running, limit) = {
                    let inner = fake.lock();
                    let lines = inner.output.get(&id).map(Vec::as_slice).unwrap_or_default();
                    let batch: Vec<LogLine> = lines[next.min(lines.len())..].to_vec();
                    let running = inner.containers.get(&id).is_some_and(|c| c.state.status != Status::Exited);
                    (batch, running && inner.unavailable.is_none(), inner.follow_limit.filter(|_| follow))
                };
                next += batch.len();
                for line in batch.into_iter().filter(|l| l.timestamp_ns >= from_ns) {
                    if limit.is_some_and(|limit| sent >= limit) {
                        return;
                    }
                    if tx.send(line).await.is_err() {
                        return;
                    }
                    sent += 1;
                }
                if !follow || !running {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{HealthCheckSpec, PortSpec, Protocol};

    fn spec(name: &str) -> ContainerSpec {
        ContainerSpec {
            name: name.into(),
            image: "app:1".into(),
            labels: BTreeMap::from([("task".to_string(), "t1".to_string())]),
            network: NetworkSpec::Bridge(vec![PortSpec {
                container_port: 80,
                host_port: 49153,
                protocol: Protocol::Tcp,
            }]),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn runs_a_container_through_its_life() {
        let fake = FakeRuntime::new();
        let mut events = fake.events().await.unwrap();
        assert_eq!(fake.ensure_image("app:1", None).await.unwrap(), Some(digest_of("app:1")));
        assert_eq!(fake.ensure_image("app:1", None).await.unwrap(), Some(digest_of("app:1")));
        let id = fake.create(&spec("web")).await.unwrap();
        fake.start(&id).await.unwrap();
        assert_eq!(events.recv().await, Some(RuntimeEvent { container_id: id.clone() }));

        let state = fake.inspect(&id).await.unwrap().unwrap();
        assert_eq!((state.status, state.name.as_str()), (Status::Running, "web"));
        assert_eq!(state.ports.len(), 1);
        assert!(state.ip_addresses.contains_key("bridge"));
        assert_eq!(fake.list(&[("task", "t1")]).await.unwrap().len(), 1);
        assert!(fake.list(&[("task", "t2")]).await.unwrap().is_empty());

        assert!(matches!(fake.remove(&id).await, Err(RuntimeError::Container(_))), "running");
        fake.exit("web", 3);
        assert_eq!(events.recv().await, Some(RuntimeEvent { container_id: id.clone() }));
        let state = fake.inspect("web").await.unwrap().unwrap();
        assert_eq!((state.status, state.exit_code), (Status::Exited, Some(3)));
        fake.stop(&id, Duration::from_secs(30)).await.unwrap();
        assert_eq!(fake.inspect(&id).await.unwrap().unwrap().exit_code, Some(3), "stopping a stopped one: no-op");
        fake.remove(&id).await.unwrap();
        fake.remove(&id).await.unwrap();
        assert_eq!(fake.inspect(&id).await.unwrap(), None);

        let calls = fake.calls();
        assert_eq!(
            calls[..3],
            [
                Call::Events,
                Call::EnsureImage { image: "app:1".into(), auth: None, pulled: true },
                Call::EnsureImage { image: "app:1".into(), auth: None, pulled: false },
            ]
        );
        assert!(calls.contains(&Call::Stop { id: id.clone(), timeout: Duration::from_secs(30) }));
    }

    #[tokio::test]
    async fn scripted_failures() {
        let fake = FakeRuntime::new();
        fake.fail_pull("gone:1", "manifest unknown");
        match fake.ensure_image("gone:1", None).await {
            Err(RuntimeError::Pull(m)) => assert_eq!(m, "manifest unknown"),
            other => panic!("{other:?}"),
        }
        fake.add_image("app:1");
        fake.fail_create("bad", "invalid mount");
        assert!(matches!(fake.create(&spec("bad")).await, Err(RuntimeError::Container(_))));
        fake.fail_start("nocmd", "executable file not found");
        let id = fake.create(&spec("nocmd")).await.unwrap();
        assert!(matches!(fake.start(&id).await, Err(RuntimeError::Container(_))));
        let state = fake.container("nocmd").unwrap().state;
        assert_eq!(state.status, Status::Created);
        assert_eq!(state.error.as_deref(), Some("executable file not found"));
        assert!(matches!(fake.create(&spec("nocmd")).await, Err(RuntimeError::Container(_))), "name in use");

        fake.set_unavailable(Some("daemon gone"));
        assert!(matches!(fake.list(&[]).await, Err(RuntimeError::Unavailable(_))));
        fake.set_unavailable(None);
        assert_eq!(fake.list(&[]).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn health_oom_stop_and_awsvpc() {
        let fake = FakeRuntime::new();
        fake.add_image("app:1");
        fake.ensure_network("berth").await.unwrap();
        let mut pause = spec("pause");
        pause.network = NetworkSpec::Network("berth".into());
        let pause_id = fake.create(&pause).await.unwrap();
        fake.start(&pause_id).await.unwrap();
        assert!(fake.container(&pause_id).unwrap().state.ip_addresses.contains_key("berth"));

        let mut app = spec("app");
        app.network = NetworkSpec::Container(pause_id.clone());
        app.health_check = Some(HealthCheckSpec {
            test: vec!["CMD".into(), "true".into()],
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            retries: 1,
            start_period: Duration::ZERO,
        });
        let id = fake.create(&app).await.unwrap();
        fake.start(&id).await.unwrap();
        let state = fake.inspect(&id).await.unwrap().unwrap();
        assert_eq!(state.health, Some(Health::Starting));
        assert!(state.ip_addresses.is_empty() && state.ports.is_empty());
        fake.set_health("app", Health::Unhealthy);
        assert_eq!(fake.container("app").unwrap().state.health, Some(Health::Unhealthy));

        fake.set_stop_exit_code("pause", 0);
        fake.stop(&pause_id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(fake.container("pause").unwrap().state.exit_code, Some(0));
        fake.oom_kill("app");
        let state = fake.container("app").unwrap().state;
        assert_eq!((state.exit_code, state.oom_killed), (Some(137), true));

        let mut events = fake.events().await.unwrap();
        fake.close_events();
        assert_eq!(events.recv().await, None);

        let adopted = fake.add_container(spec("old"), Status::Running);
        assert_eq!(fake.container("old").unwrap().id, adopted);
        assert_eq!(fake.containers().len(), 3);
    }
}
