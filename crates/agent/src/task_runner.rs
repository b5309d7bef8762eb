//! One task's life on this instance, run as its own tokio task: pull, set up the
//! network, create the containers, start them in dependsOn order, watch them, stop them
//! when asked or when an essential one exits, and report each step to the server.
//!
//! The decisions (what may start, what an exit means, health) are the pure functions of
//! `conditions`; this file only sequences I/O around them.

use crate::conditions::{self, Gate, name};
use crate::port_book::PortBook;
use crate::registry_auth;
use crate::runtime::{ContainerState, PortSpec, Protocol, Runtime, RuntimeError, RuntimeEvent, Status};
use crate::server::Server;
use crate::spec::{self, TaskContext, TaskNetwork};
use crate::task_secrets;
use berth_model::Timestamp;
use berth_model::agent_protocol::{ReportTaskStateRequest, RoleCredentials, TaskAssignment, labels};
use berth_model::ecs::{
    Attachment, Container, ContainerDefinition, HealthStatus, NetworkBinding, NetworkInterface, NetworkMode, Task,
    TaskStopCode, TransportProtocol,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// What every task runner of this agent shares.
pub struct Shared {
    pub runtime: Arc<dyn Runtime>,
    pub server: Arc<dyn Server>,
    pub cluster: String,
    pub instance_arn: String,
    /// The image of awsvpc tasks' network-holding container.
    pub pause_image: String,
    /// The Docker network awsvpc tasks get their addresses on.
    pub awsvpc_network: String,
    /// Shared by every agent of one host (in-process agents of EC2 instances).
    pub ports: Arc<PortBook>,
    pub events: broadcast::Sender<RuntimeEvent>,
    /// The agent's data dir (the awslogs shippers keep their cursors under `logs/`).
    pub data_dir: std::path::PathBuf,
    /// Where task roles' credentials are served to containers (None: it could not start).
    pub credentials: Option<Arc<crate::task_credentials::Endpoint>>,
}

pub const RUNNING: &str = "RUNNING";
pub const STOPPED: &str = "STOPPED";

/// How long the runner waits between looks at its containers when nothing wakes it.
const RESYNC: Duration = Duration::from_secs(10);

/// Why a task stops.
enum Stop {
    /// The server set desiredStatus STOPPED; its stopCode and reason stand.
    Desired,
    EssentialExited(String),
    FailedToStart(String),
    /// The agent restarted and found the task's containers gone.
    Vanished,
}

struct Run {
    shared: Arc<Shared>,
    task: Task,
    assignment: TaskAssignment,
    desired: watch::Receiver<String>,
    events: broadcast::Receiver<RuntimeEvent>,
    /// Container name -> runtime id.
    ids: BTreeMap<String, String>,
    pause: Option<String>,
    states: BTreeMap<String, ContainerState>,
    /// Host ports this task holds in the agent's port book.
    host_ports: Vec<(u16, Protocol)>,
    /// Bridge mode: each container's published ports.
    planned: Vec<(String, PortSpec)>,
    ip: Option<String>,
    attachment_id: String,
    pull_started_at: Option<Timestamp>,
    pull_stopped_at: Option<Timestamp>,
    started_at: Option<Timestamp>,
    execution_stopped_at: Option<Timestamp>,
    /// The last report the server accepted, to send only changes.
    last_report: Option<ReportTaskStateRequest>,
    /// The awslogs shippers of the task's containers.
    awslogs: crate::awslogs::TaskLogs,
}

/// Runs the task to completion: returns once it has been reported STOPPED and its
/// containers are removed. `adopted` are containers of this task found running when the
/// agent started (it restarted while the task ran).
pub async fn run(
    shared: Arc<Shared>,
    assignment: TaskAssignment,
    desired: watch::Receiver<String>,
    adopted: Vec<ContainerState>,
) {
    let events = shared.events.subscribe();
    let task = assignment.task.clone();
    let attachment_id = task
        .attachments
        .as_deref()
        .and_then(|a| a.first())
        .and_then(|a| a.id.clone())
        .unwrap_or_else(|| task_id(&task).to_string());
    let mut run = Run {
        shared,
        task,
        assignment,
        desired,
        events,
        ids: BTreeMap::new(),
        pause: None,
        states: BTreeMap::new(),
        host_ports: vec![],
        planned: vec![],
        ip: None,
        attachment_id,
        pull_started_at: None,
        pull_stopped_at: None,
        started_at: None,
        execution_stopped_at: None,
        last_report: None,
        awslogs: Default::default(),
    };
    // A task the server saw get past PENDING was started by an earlier run of this agent.
    let started_before = !matches!(run.task.last_status.as_deref(), None | Some("PROVISIONING" | "PENDING"));
    let stop = if !adopted.is_empty() {
        run.adopt(adopted).await
    } else if started_before {
        Some(Stop::Vanished)
    } else if run.stop_desired() {
        Some(Stop::Desired)
    } else {
        run.start().await.err()
    };
    let stop = match stop {
        Some(stop) => stop,
        None => run.monitor().await,
    };
    run.stop(stop).await;
}

impl Run {
    fn definitions(&self) -> &[ContainerDefinition] {
        self.assignment.task_definition.container_definitions.as_deref().unwrap_or_default()
    }

    fn network_mode(&self) -> NetworkMode {
        self.assignment.task_definition.network_mode.unwrap_or(NetworkMode::Bridge)
    }

    fn stop_desired(&self) -> bool {
        self.desired.borrow().as_str() == STOPPED
    }

    fn context(&self) -> TaskContext<'_> {
        TaskContext {
            cluster: &self.shared.cluster,
            task_arn: self.task.task_arn.as_deref().unwrap_or_default(),
            container_instance_arn: &self.shared.instance_arn,
            task_definition: &self.assignment.task_definition,
            overrides: self.task.overrides.as_ref(),
        }
    }

    async fn start(&mut self) -> Result<(), Stop> {
        self.pull_started_at = Some(Timestamp::now());
        self.report("PENDING", None).await;
        let ctx = self.context();
        let secrets = task_secrets::resolve(
            self.shared.server.as_ref(),
            ctx.cluster,
            ctx.container_instance_arn,
            ctx.task_arn,
            ctx.task_definition,
        )
        .await
        .map_err(Stop::FailedToStart)?;
        secrets.apply_log_options(&mut self.assignment.task_definition);
        let images: Vec<(String, String)> =
            self.definitions().iter().filter_map(|c| Some((name(c).to_string(), c.image.clone()?))).collect();
        let image_names: Vec<String> = images.iter().map(|(_, image)| image.clone()).collect();
        let execution_role = self.execution_role(&image_names).await?;
        for (container, image) in images {
            if self.stop_desired() {
                return Err(Stop::Desired);
            }
            let auth = match secrets.registry_auth(&container, &image) {
                Some(auth) => Some(auth),
                None => registry_auth::for_image(self.shared.server.as_ref(), &image, execution_role.as_ref())
                    .await
                    .map_err(|e| Stop::FailedToStart(format!("registry credentials for {image}: {e}")))?,
            };
            self.shared
                .runtime
                .ensure_image(&image, auth.as_ref())
                .await
                .map_err(|e| Stop::FailedToStart(e.to_string()))?;
        }
        self.pull_stopped_at = Some(Timestamp::now());
        self.report("ACTIVATING", None).await;

        let awslogs = crate::awslogs::configs(self.definitions(), task_id(&self.task)).map_err(Stop::FailedToStart)?;
        crate::awslogs::prepare(self.shared.server.as_ref(), &awslogs).await.map_err(Stop::FailedToStart)?;
        let role_env = self.task_role_env().await?;
        let network = self.set_up_network().await?;
        let definitions = self.definitions().to_vec();
        for def in &definitions {
            let ports = self.ports_of(name(def));
            let mut spec = spec::container_spec(&self.context(), def, &network, &ports);
            spec.env.extend(spec::gpu_env(&self.task, name(def)));
            spec.gpus = spec::gpu_ids(&self.task, name(def));
            let from_files = secrets.env_files(name(def), &spec.env);
            spec.env.extend(from_files);
            spec.env.extend(secrets.env(name(def)));
            spec.env.extend(role_env.iter().cloned());
            let id = self.shared.runtime.create(&spec).await.map_err(|e| failed("CannotCreateContainerError", &e))?;
            self.ids.insert(name(def).to_string(), id);
        }
        self.awslogs.start(&self.shared, awslogs, &self.ids);

        let mut waiting: Vec<ContainerDefinition> = definitions;
        while !waiting.is_empty() {
            if self.stop_desired() {
                return Err(Stop::Desired);
            }
            self.refresh().await;
            if let Some(c) = conditions::exited_essential(self.definitions(), &self.states) {
                return Err(Stop::EssentialExited(name(c).to_string()));
            }
            let mut still = vec![];
            for def in waiting {
                match conditions::ready_to_start(&def, &self.states) {
                    Gate::Open => {
                        let id = self.ids.get(name(&def)).cloned().unwrap_or_default();
                        self.shared.runtime.start(&id).await.map_err(|e| failed("CannotStartContainerError", &e))?;
                    }
                    Gate::Wait => still.push(def),
                    Gate::Never(why) => return Err(Stop::FailedToStart(format!("{}: {why}", name(&def)))),
                }
            }
            waiting = still;
            if !waiting.is_empty() {
                self.wait(Duration::from_millis(500)).await;
            }
        }
        self.refresh().await;
        if let Some(c) = conditions::exited_essential(self.definitions(), &self.states) {
            return Err(Stop::EssentialExited(name(c).to_string()));
        }
        self.started_at = Some(Timestamp::now());
        self.report(RUNNING, None).await;
        Ok(())
    }

    /// The execution role's credentials, when the task has one and pulls from the server's
    /// registry (without one, the agent pulls with its own).
    async fn execution_role(&self, images: &[String]) -> Result<Option<RoleCredentials>, Stop> {
        let overridden = self.task.overrides.as_ref().and_then(|o| o.execution_role_arn.as_ref());
        let endpoint = self.shared.server.endpoint();
        if overridden.or(self.assignment.task_definition.execution_role_arn.as_ref()).is_none()
            || !images.iter().any(|image| registry_auth::is_servers_registry(image, endpoint))
        {
            return Ok(None);
        }
        let arn = self.task.task_arn.as_deref().unwrap_or_default();
        registry_auth::execution_role(self.shared.server.as_ref(), &self.shared.cluster, &self.shared.instance_arn, arn)
            .await
            .map(Some)
            .map_err(|e| Stop::FailedToStart(format!("CannotPullContainerError: execution role credentials: {e}")))
    }

    /// The environment through which a task with a task role finds its credentials.
    async fn task_role_env(&self) -> Result<Vec<String>, Stop> {
        let overridden = self.task.overrides.as_ref().and_then(|o| o.task_role_arn.as_ref());
        if overridden.or(self.assignment.task_definition.task_role_arn.as_ref()).is_none() {
            return Ok(vec![]);
        }
        let endpoint = self.shared.credentials.as_ref().ok_or_else(|| {
            Stop::FailedToStart("the agent's task credentials endpoint is not running (see its log)".into())
        })?;
        let arn = self.task.task_arn.as_deref().unwrap_or_default();
        endpoint.register(arn).await.map_err(|e| Stop::FailedToStart(format!("task role credentials: {e}")))
    }

    /// awsvpc: the task's own address through a pause container on berth's network;
    /// bridge: host ports for the dynamic port mappings.
    async fn set_up_network(&mut self) -> Result<TaskNetwork, Stop> {
        match self.network_mode() {
            NetworkMode::Awsvpc => {
                let net = self.shared.awsvpc_network.clone();
                self.shared.runtime.ensure_network(&net).await.map_err(|e| failed("CannotCreateNetworkError", &e))?;
                let spec = spec::pause_spec(&self.context(), &net, &self.shared.pause_image);
                self.shared
                    .runtime
                    .ensure_image(&self.shared.pause_image, None)
                    .await
                    .map_err(|e| Stop::FailedToStart(e.to_string()))?;
                let id =
                    self.shared.runtime.create(&spec).await.map_err(|e| failed("CannotCreateContainerError", &e))?;
                self.pause = Some(id.clone());
                self.shared.runtime.start(&id).await.map_err(|e| failed("CannotStartContainerError", &e))?;
                let state = self.shared.runtime.inspect(&id).await.ok().flatten();
                self.ip = state.and_then(|s| s.ip_addresses.get(&net).cloned());
                Ok(TaskNetwork::Awsvpc { pause_container_id: id })
            }
            NetworkMode::Host => Ok(TaskNetwork::Host),
            NetworkMode::None => Ok(TaskNetwork::None),
            _ => {
                let needed = spec::host_ports_needed(&self.assignment.task_definition);
                let dynamic = needed.iter().filter(|p| p.host_port == 0).map(|p| p.protocol).collect::<Vec<_>>();
                let fixed: Vec<(u16, Protocol)> =
                    needed.iter().filter(|p| p.host_port != 0).map(|p| (p.host_port, p.protocol)).collect();
                let picked = self.shared.ports.allocate(&dynamic).map_err(Stop::FailedToStart)?;
                self.shared.ports.claim(&fixed);
                self.host_ports = fixed.into_iter().chain(picked.iter().copied()).collect();
                // Hand the picked ports to the dynamic mappings in order.
                let mut picked = picked.into_iter();
                self.planned = needed
                    .into_iter()
                    .map(|p| {
                        let host_port =
                            if p.host_port == 0 { picked.next().map_or(0, |(port, _)| port) } else { p.host_port };
                        (
                            p.container_name,
                            PortSpec { container_port: p.container_port, host_port, protocol: p.protocol },
                        )
                    })
                    .collect();
                Ok(TaskNetwork::Bridge)
            }
        }
    }
}

impl Run {
    fn ports_of(&self, container: &str) -> Vec<PortSpec> {
        self.planned.iter().filter(|(name, _)| name == container).map(|(_, p)| *p).collect()
    }

    /// Re-reads the state of every container the task has.
    async fn refresh(&mut self) {
        for (name, id) in &self.ids {
            match self.shared.runtime.inspect(id).await {
                Ok(Some(state)) => {
                    self.states.insert(name.clone(), state);
                }
                // Removed behind the agent's back (`docker rm -f`): it has exited.
                Ok(None) => {
                    let entry = self.states.entry(name.clone()).or_insert_with(|| gone(id, name));
                    entry.status = Status::Exited;
                }
                Err(e) => tracing::warn!(container = %name, error = %e, "cannot inspect container"),
            }
        }
    }

    /// Sleeps until one of this task's containers changes, the desired status changes,
    /// or `timeout` passes.
    async fn wait(&mut self, timeout: Duration) {
        let ids: Vec<String> = self.ids.values().cloned().collect();
        let sleep = tokio::time::sleep(timeout);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return,
                changed = self.desired.changed() => {
                    if changed.is_err() {
                        // The agent dropped this task's channel: nothing will change any more.
                        sleep.as_mut().await;
                    }
                    return;
                }
                event = self.events.recv() => match event {
                    Ok(e) if ids.contains(&e.container_id) => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => { sleep.as_mut().await; return; }
                },
            }
        }
    }

    /// Watches the running task until it must stop, reporting health and container
    /// changes as they happen.
    async fn monitor(&mut self) -> Stop {
        loop {
            if self.stop_desired() {
                return Stop::Desired;
            }
            self.refresh().await;
            if let Some(c) = conditions::exited_essential(self.definitions(), &self.states) {
                return Stop::EssentialExited(name(c).to_string());
            }
            self.report(RUNNING, None).await;
            self.wait(RESYNC).await;
        }
    }

    /// Takes over containers a previous run of the agent started.
    async fn adopt(&mut self, adopted: Vec<ContainerState>) -> Option<Stop> {
        for c in adopted {
            if c.labels.get(labels::ROLE).map(String::as_str) == Some("pause") {
                self.ip = c.ip_addresses.get(&self.shared.awsvpc_network).cloned();
                self.pause = Some(c.id.clone());
            } else if let Some(name) = c.labels.get(labels::CONTAINER_NAME) {
                self.ids.insert(name.clone(), c.id.clone());
                for p in &c.ports {
                    self.host_ports.push((p.host_port, p.protocol));
                }
            }
        }
        self.shared.ports.claim(&self.host_ports);
        self.pull_started_at = self.task.pull_started_at;
        self.pull_stopped_at = self.task.pull_stopped_at;
        self.started_at = self.task.started_at;
        tracing::info!(task = %task_id(&self.task), containers = self.ids.len(), "adopted running task");
        let missing = self.definitions().iter().any(|d| !self.ids.contains_key(name(d)));
        self.refresh().await;
        if self.ids.is_empty() {
            return Some(Stop::Vanished);
        }
        if missing {
            return Some(Stop::FailedToStart("the agent restarted while the task was starting".into()));
        }
        if self.started_at.is_none() {
            self.started_at = Some(Timestamp::now());
        }
        let awslogs = crate::awslogs::configs(self.definitions(), task_id(&self.task)).unwrap_or_default();
        self.awslogs.start(&self.shared, awslogs, &self.ids);
        None
    }

    /// Stops every container (dependents first, each with its stopTimeout), reports the
    /// task STOPPED, then removes its containers and releases its ports.
    async fn stop(&mut self, why: Stop) {
        if let Some(endpoint) = &self.shared.credentials {
            endpoint.unregister(self.task.task_arn.as_deref().unwrap_or_default());
        }
        let (code, reason) = match &why {
            Stop::Desired => (None, None),
            Stop::EssentialExited(container) => {
                tracing::info!(task = %task_id(&self.task), %container, "essential container exited; stopping the task");
                (Some(TaskStopCode::EssentialContainerExited), Some("Essential container in task exited".to_string()))
            }
            Stop::FailedToStart(reason) => (Some(TaskStopCode::TaskFailedToStart), Some(reason.clone())),
            Stop::Vanished => (
                Some(TaskStopCode::EssentialContainerExited),
                Some("The task's containers disappeared while the agent was not running".to_string()),
            ),
        };
        if !self.ids.is_empty() {
            self.report("STOPPING", None).await;
        }
        for name in conditions::stop_order(self.definitions()) {
            let Some(id) = self.ids.get(&name).cloned() else { continue };
            let timeout = self
                .definitions()
                .iter()
                .find(|d| conditions::name(d) == name)
                .and_then(|d| d.stop_timeout)
                .map_or(spec::DEFAULT_STOP_TIMEOUT, |s| Duration::from_secs(s.max(0) as u64));
            if let Err(e) = self.shared.runtime.stop(&id, timeout).await {
                tracing::warn!(container = %name, error = %e, "stopping container failed");
            }
        }
        if let Some(pause) = self.pause.clone() {
            let _ = self.shared.runtime.stop(&pause, Duration::from_secs(1)).await;
        }
        // Everything the containers printed reaches the server before STOPPED is reported.
        self.awslogs.finish().await;
        self.refresh().await;
        self.execution_stopped_at = Some(Timestamp::now());
        self.report(STOPPED, code.map(|c| (c, reason.unwrap_or_default()))).await;
        for id in self.ids.values().chain(self.pause.iter()) {
            if let Err(e) = self.shared.runtime.remove(id).await {
                tracing::warn!(container = %id, error = %e, "removing container failed");
            }
        }
        self.shared.ports.release(&self.host_ports);
    }

    /// Sends the task's state as `last_status` unless the server already has exactly it.
    /// Retries while the server is unreachable; gives up on a refusal (logged).
    async fn report(&mut self, last_status: &str, stop: Option<(TaskStopCode, String)>) {
        let report = self.build_report(last_status, stop);
        if self.last_report.as_ref() == Some(&report) {
            return;
        }
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.shared.server.report_task_state(&report).await {
                Ok(_) => {
                    self.last_report = Some(report);
                    return;
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "reporting task state failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
                Err(e) => {
                    tracing::error!(task = %task_id(&self.task), status = last_status, error = %e, "report refused");
                    self.last_report = Some(report);
                    return;
                }
            }
        }
    }

    fn build_report(&self, last_status: &str, stop: Option<(TaskStopCode, String)>) -> ReportTaskStateRequest {
        let awsvpc = self.network_mode() == NetworkMode::Awsvpc;
        let containers = self
            .definitions()
            .iter()
            .map(|def| {
                let state = self.states.get(name(def));
                let status = match state.map(|s| s.status) {
                    Some(Status::Running) => RUNNING,
                    Some(Status::Exited) => STOPPED,
                    _ if last_status == STOPPED => STOPPED,
                    _ => "PENDING",
                };
                Container {
                    name: def.name.clone(),
                    image: def.image.clone(),
                    runtime_id: self.ids.get(name(def)).cloned(),
                    last_status: Some(status.into()),
                    exit_code: state.filter(|s| s.status == Status::Exited).and_then(|s| s.exit_code).map(|c| c as i32),
                    reason: state.filter(|s| s.status == Status::Exited).and_then(conditions::exit_reason),
                    network_bindings: Some(state.map(bindings).unwrap_or_default()),
                    network_interfaces: awsvpc.then(|| {
                        vec![NetworkInterface {
                            attachment_id: Some(self.attachment_id.clone()),
                            private_ipv4_address: self.ip.clone(),
                            ipv6_address: None,
                        }]
                    }),
                    health_status: def
                        .health_check
                        .as_ref()
                        .map(|_| state.map_or(HealthStatus::Unknown, conditions::container_health)),
                    image_digest: state.and_then(|s| s.image_digest.clone()),
                    ..Default::default()
                }
            })
            .collect();
        let (stop_code, stopped_reason) = match stop {
            Some((code, reason)) => (Some(code), Some(reason)),
            None => (None, None),
        };
        ReportTaskStateRequest {
            cluster: self.shared.cluster.clone(),
            task_arn: self.task.task_arn.clone().unwrap_or_default(),
            last_status: last_status.into(),
            stop_code,
            stopped_reason,
            health_status: Some(conditions::task_health(self.definitions(), &self.states)),
            pull_started_at: self.pull_started_at,
            pull_stopped_at: self.pull_stopped_at,
            started_at: self.started_at,
            execution_stopped_at: self.execution_stopped_at,
            containers,
            attachments: awsvpc.then(|| vec![self.attachment(last_status)]),
        }
    }

    /// awsvpc: the task's network interface, as ECS shows its ENI attachment.
    fn attachment(&self, last_status: &str) -> Attachment {
        let status = if last_status == STOPPED { "DELETED" } else { "ATTACHED" };
        let given = self.task.attachments.as_deref().and_then(|a| a.first()).and_then(|a| a.details.as_deref());
        let subnet = given
            .and_then(|d| d.iter().find(|p| p.name.as_deref() == Some("subnetId")))
            .and_then(|p| p.value.as_deref());
        let eni = format!("eni-{}", &self.attachment_id.chars().take(17).collect::<String>());
        let region = self.task.task_arn.as_deref().and_then(|a| a.split(':').nth(3)).unwrap_or("us-east-1");
        let details = berth_model::task_lifecycle::eni_details(subnet, &eni, self.ip.as_deref(), region);
        Attachment {
            id: Some(self.attachment_id.clone()),
            r#type: Some("ElasticNetworkInterface".into()),
            status: Some(status.into()),
            details: Some(details),
        }
    }
}

fn bindings(state: &ContainerState) -> Vec<NetworkBinding> {
    state
        .ports
        .iter()
        .map(|p| NetworkBinding {
            bind_ip: Some("0.0.0.0".into()),
            container_port: Some(i32::from(p.container_port)),
            host_port: Some(i32::from(p.host_port)),
            protocol: Some(match p.protocol {
                Protocol::Tcp => TransportProtocol::Tcp,
                Protocol::Udp => TransportProtocol::Udp,
            }),
            ..Default::default()
        })
        .collect()
}

/// The last state of a container that no longer exists.
fn gone(id: &str, name: &str) -> ContainerState {
    ContainerState {
        id: id.into(),
        name: name.into(),
        labels: BTreeMap::new(),
        status: Status::Exited,
        exit_code: None,
        oom_killed: false,
        error: Some("the container was removed".into()),
        health: None,
        started_at: None,
        finished_at: None,
        ip_addresses: BTreeMap::new(),
        ports: vec![],
        image_digest: None,
    }
}

fn failed(kind: &str, e: &RuntimeError) -> Stop {
    match e {
        RuntimeError::Pull(_) => Stop::FailedToStart(e.to_string()),
        _ => Stop::FailedToStart(format!("{kind}: {e}")),
    }
}

fn task_id(task: &Task) -> &str {
    task.task_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
