//! The agent's main loop: register the machine as a container instance, then long-poll
//! the server and keep one task runner per task it places here. Level-triggered: each
//! poll carries the instance's whole desired state, so nothing depends on having seen
//! every change.

use crate::client::ClientError;
use crate::port_book::PortBook;
use crate::registration::{self, MachineProfile};
use crate::runtime::{ContainerState, Runtime};
use crate::server::Server;
use crate::task_runner::{self, Shared};
use berth_model::agent_protocol::{self, PollTasksRequest, labels};
use berth_model::ecs::CreateClusterRequest;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

pub struct AgentConfig {
    pub cluster: String,
    /// Where the agent remembers which container instance it is.
    pub data_dir: PathBuf,
    pub profile: MachineProfile,
    pub pause_image: String,
    pub awsvpc_network: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the server refused the registration: {0}")]
    Registration(ClientError),
    #[error("agent state file {path}: {reason}")]
    StateFile { path: String, reason: String },
    #[error("container runtime: {0}")]
    Runtime(#[from] crate::runtime::RuntimeError),
}

/// What the agent keeps across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AgentState {
    cluster: String,
    #[serde(rename = "containerInstanceArn")]
    container_instance_arn: String,
}

pub struct Agent {
    config: AgentConfig,
    server: Arc<dyn Server>,
    runtime: Arc<dyn Runtime>,
    ports: PortBook,
}

/// A task runner and the channel that tells it the task's desired status.
struct Runner {
    desired: watch::Sender<String>,
    handle: JoinHandle<()>,
}

impl Agent {
    pub fn new(config: AgentConfig, server: Arc<dyn Server>, runtime: Arc<dyn Runtime>, ports: PortBook) -> Self {
        Self { config, server, runtime, ports }
    }

    /// Registers, then runs tasks until the instance is deregistered. Returns the
    /// container instance ARN it ran as.
    pub async fn run(self) -> Result<String, AgentError> {
        crate::pause_image::ensure(self.runtime.as_ref(), &self.config.pause_image).await?;
        let instance_arn = self.register().await?;
        tracing::info!(cluster = %self.config.cluster, instance = %instance_arn, "agent registered");
        let (events_tx, _) = broadcast::channel(1024);
        tokio::spawn(pump_events(self.runtime.clone(), events_tx.clone()));

        // Containers a previous run of the agent left running, by task ARN.
        let mut leftovers: BTreeMap<String, Vec<ContainerState>> = BTreeMap::new();
        for c in self.runtime.list(&[(labels::CONTAINER_INSTANCE, &instance_arn)]).await? {
            if let Some(task) = c.labels.get(labels::TASK_ARN).cloned() {
                leftovers.entry(task).or_default().push(c);
            }
        }
        let credentials = crate::task_credentials::Endpoint::start(
            self.server.clone(),
            &self.config.cluster,
            &instance_arn,
            std::net::SocketAddr::new(crate::task_credentials::ADDRESS.into(), 0),
        )
        .await
        .inspect_err(
            |e| tracing::warn!(error = %e, "no task credentials endpoint: tasks with a task role will not start"),
        )
        .ok();
        let shared = Arc::new(Shared {
            runtime: self.runtime.clone(),
            server: self.server.clone(),
            cluster: self.config.cluster.clone(),
            instance_arn: instance_arn.clone(),
            pause_image: self.config.pause_image.clone(),
            awsvpc_network: self.config.awsvpc_network.clone(),
            ports: self.ports,
            events: events_tx,
            data_dir: self.config.data_dir.clone(),
            credentials,
        });

        let sampler = crate::stats::sampler::run(
            self.runtime.clone(),
            self.server.clone(),
            self.config.cluster.clone(),
            instance_arn.clone(),
        );
        let sampler = tokio::spawn(sampler);
        let mut runners: BTreeMap<String, Runner> = BTreeMap::new();
        // Tasks whose runner finished but that the server still listed last time.
        let mut finished: BTreeSet<String> = BTreeSet::new();
        let mut after: Option<i64> = None;
        let mut backoff = Duration::from_millis(200);
        loop {
            let request = PollTasksRequest {
                cluster: self.config.cluster.clone(),
                container_instance: instance_arn.clone(),
                after_revision: after,
                wait_seconds: Some(agent_protocol::MAX_POLL_WAIT_SECONDS),
            };
            let state = match self.server.poll_tasks(&request).await {
                Ok(state) => {
                    backoff = Duration::from_millis(200);
                    state
                }
                Err(e) => {
                    // The containers keep running while the server is away.
                    tracing::warn!(error = %e, "polling the server failed; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(15));
                    after = None;
                    continue;
                }
            };
            after = Some(state.revision);
            if state.instance_status == "INACTIVE" {
                tracing::info!("the container instance was deregistered; the agent stops");
                sampler.abort();
                return Ok(instance_arn);
            }

            runners.retain(|arn, r| {
                if r.handle.is_finished() {
                    finished.insert(arn.clone());
                    false
                } else {
                    true
                }
            });
            let listed: BTreeSet<String> = state.tasks.iter().filter_map(|t| t.task.task_arn.clone()).collect();
            finished.retain(|arn| listed.contains(arn));
            for assignment in state.tasks {
                let Some(arn) = assignment.task.task_arn.clone() else { continue };
                let desired = assignment.task.desired_status.clone().unwrap_or_else(|| task_runner::RUNNING.into());
                if let Some(runner) = runners.get(&arn) {
                    runner.desired.send_if_modified(|d| std::mem::replace(d, desired.clone()) != desired);
                    continue;
                }
                if finished.contains(&arn) {
                    continue;
                }
                let (tx, rx) = watch::channel(desired);
                let adopted = leftovers.remove(&arn).unwrap_or_default();
                let handle = tokio::spawn(task_runner::run(shared.clone(), assignment, rx, adopted));
                runners.insert(arn, Runner { desired: tx, handle });
            }
            // What is left over belongs to tasks the server no longer wants here.
            for (task, containers) in std::mem::take(&mut leftovers) {
                tracing::info!(task = %task, "removing containers of a task the server no longer runs here");
                let runtime = self.runtime.clone();
                tokio::spawn(async move {
                    for c in containers {
                        let _ = runtime.stop(&c.id, Duration::from_secs(10)).await;
                        let _ = runtime.remove(&c.id).await;
                    }
                });
            }
        }
    }

    /// Registers (again, as the same container instance when the agent has run before),
    /// retrying while the server is unreachable.
    async fn register(&self) -> Result<String, AgentError> {
        let state_path = self.config.data_dir.join("agent.json");
        let known: Option<AgentState> = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|s: &AgentState| s.cluster == self.config.cluster);
        let mut existing = known.map(|s| s.container_instance_arn);
        let mut backoff = Duration::from_millis(200);
        let mut cluster_ensured = self.config.cluster != "default";
        loop {
            // Like ECS's agent, one configured for `default` creates that cluster first.
            if !cluster_ensured {
                let create = CreateClusterRequest { cluster_name: Some("default".into()), ..Default::default() };
                match self.server.create_cluster(&create).await {
                    Ok(_) => cluster_ensured = true,
                    Err(e) if e.is_transient() => {
                        tracing::warn!(error = %e, "cannot reach the server; retrying in {backoff:?}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(15));
                        continue;
                    }
                    Err(e) => return Err(AgentError::Registration(e)),
                }
            }
            let request = registration::request(&self.config.cluster, &self.config.profile, existing.as_deref());
            match self.server.register_container_instance(&request).await {
                Ok(response) => {
                    let arn = response.container_instance.and_then(|c| c.container_instance_arn).ok_or_else(|| {
                        AgentError::Registration(ClientError::Protocol("no containerInstanceArn".into()))
                    })?;
                    let state =
                        AgentState { cluster: self.config.cluster.clone(), container_instance_arn: arn.clone() };
                    save_state(&state_path, &state)?;
                    return Ok(arn);
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "cannot reach the server to register; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(15));
                }
                // The remembered instance is gone (deregistered): become a new one.
                Err(e) if existing.is_some() => {
                    tracing::warn!(error = %e, "re-registration refused; registering as a new container instance");
                    existing = None;
                }
                Err(e) => return Err(AgentError::Registration(e)),
            }
        }
    }
}

fn save_state(path: &std::path::Path, state: &AgentState) -> Result<(), AgentError> {
    let err = |e: std::io::Error| AgentError::StateFile { path: path.display().to_string(), reason: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Forwards the runtime's container events to every task runner, resubscribing when
/// the runtime's stream ends.
pub(crate) async fn pump_events(runtime: Arc<dyn Runtime>, tx: broadcast::Sender<crate::runtime::RuntimeEvent>) {
    loop {
        match runtime.events().await {
            Ok(mut rx) => {
                while let Some(event) = rx.recv().await {
                    let _ = tx.send(event);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot subscribe to container events"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests;
