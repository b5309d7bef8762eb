//! Fixtures for the unit tests of the task runner and the agent loop: a fake runtime
//! and a fake server wired into a `Shared`, tasks built from a few container
//! definitions, and a wait that runs on tokio's (paused) clock.

use crate::port_book::{DEFAULT_RANGE, PortBook};
use crate::runtime::Runtime;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::server::fake::FakeServer;
use crate::spec::{self, TaskContext, TaskNetwork};
use crate::task_runner::Shared;
use berth_model::agent_protocol::TaskAssignment;
use berth_model::ecs::{ContainerCondition, ContainerDefinition, ContainerDependency, Task, TaskDefinition};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub const CLUSTER: &str = "web";
pub const INSTANCE_ARN: &str = "arn:aws:ecs:us-east-1:000000000000:container-instance/web/instance-1";
pub const IMAGE: &str = "app:1";
pub const PAUSE_IMAGE: &str = "berth-test/pause:1";
pub const AWSVPC_NETWORK: &str = "berth-awsvpc";

pub fn task_arn(id: &str) -> String {
    format!("arn:aws:ecs:us-east-1:000000000000:task/{CLUSTER}/{id}")
}

/// An essential container running `IMAGE`.
pub fn container(name: &str) -> ContainerDefinition {
    ContainerDefinition { name: Some(name.into()), image: Some(IMAGE.into()), ..Default::default() }
}

/// `container` started once `on` meets `condition`.
pub fn depending(name: &str, on: &str, condition: ContainerCondition) -> ContainerDefinition {
    let dependency = ContainerDependency { container_name: on.into(), condition };
    ContainerDefinition { depends_on: Some(vec![dependency]), ..container(name) }
}

/// A new bridge-mode task `id` the server wants RUNNING on this instance.
pub fn assignment(id: &str, containers: Vec<ContainerDefinition>) -> TaskAssignment {
    TaskAssignment {
        task: Task {
            task_arn: Some(task_arn(id)),
            desired_status: Some("RUNNING".into()),
            last_status: Some("PENDING".into()),
            ..Default::default()
        },
        task_definition: TaskDefinition {
            family: Some("app".into()),
            revision: Some(1),
            container_definitions: Some(containers),
            ..Default::default()
        },
    }
}

/// The Docker name the agent gives `container` of task `id`.
pub fn docker_name(id: &str, container: &str) -> String {
    spec::container_name(&task_arn(id), container)
}

/// Puts a running container of `assignment` in the runtime, as a previous run of the
/// agent on instance `instance_arn` would have left it; returns its id.
pub fn leave_running(
    runtime: &FakeRuntime,
    instance_arn: &str,
    assignment: &TaskAssignment,
    container: &str,
) -> String {
    let ctx = TaskContext {
        cluster: CLUSTER,
        task_arn: assignment.task.task_arn.as_deref().unwrap_or_default(),
        container_instance_arn: instance_arn,
        task_definition: &assignment.task_definition,
        overrides: None,
    };
    let definitions = assignment.task_definition.container_definitions.as_deref().unwrap_or_default();
    let definition = definitions.iter().find(|d| d.name.as_deref() == Some(container)).cloned().unwrap_or_default();
    let spec = spec::container_spec(&ctx, &definition, &TaskNetwork::Bridge, &[]);
    runtime.add_container(spec, crate::runtime::Status::Running)
}

/// What the task runners of one agent share, over the fakes. `data_dir` must outlive it.
pub fn shared(runtime: &FakeRuntime, server: &FakeServer, data_dir: &std::path::Path) -> Arc<Shared> {
    let (events, _) = broadcast::channel(1024);
    let runtime: Arc<dyn Runtime> = Arc::new(runtime.clone());
    tokio::spawn(crate::agent::pump_events(runtime.clone(), events.clone()));
    Arc::new(Shared {
        runtime,
        server: Arc::new(server.clone()),
        cluster: CLUSTER.into(),
        instance_arn: INSTANCE_ARN.into(),
        pause_image: PAUSE_IMAGE.into(),
        awsvpc_network: AWSVPC_NETWORK.into(),
        ports: std::sync::Arc::new(PortBook::new(DEFAULT_RANGE, |_, _| true)),
        events,
        data_dir: data_dir.to_path_buf(),
        credentials: None,
    })
}

/// The runtime calls that change something (no inspect, list or subscription), in order.
pub fn actions(runtime: &FakeRuntime) -> Vec<Call> {
    runtime.calls().into_iter().filter(|c| !matches!(c, Call::Inspect(_) | Call::List(_) | Call::Events)).collect()
}

/// Waits until the server took a report of `status`.
pub async fn until_reported(server: &FakeServer, status: &str) {
    until(&format!("a {status} report"), || server.statuses().iter().any(|s| s == status)).await;
}

/// How long of tokio's clock a test waits for something before it fails: longer than
/// any backoff or timeout of the agent's, short enough to fail fast when paused.
const PATIENCE: Duration = Duration::from_secs(600);

/// Waits (on tokio's clock, paused in these tests) until `done` holds; fails the test
/// naming `what` after `PATIENCE`.
pub async fn until(what: &str, done: impl Fn() -> bool) {
    let waited = async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    within_patience(what, waited).await;
}

/// `future`'s output, or a failure naming `what` if it takes longer than `PATIENCE`.
pub async fn within_patience<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(out) => out,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
