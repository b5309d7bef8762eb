//! A task's life as ECS shows it: the statuses it passes through, the task RunTask
//! creates, StopTask's request to stop, and how an agent's report changes a stored task.
//!
//! ```text
//! PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
//! ```
//!
//! A report may skip statuses forward (a task that fails to start goes from PENDING
//! straight to STOPPED) but never goes back, and STOPPED is final. The server owns
//! what it decided (desiredStatus, createdAt, overrides, group, ...) and the first stop
//! reason given: a StopTask's stopCode and stoppedReason are not replaced by the
//! agent's. Pure: the caller passes the clock.

use crate::Timestamp;
use crate::agent_protocol::ReportTaskStateRequest;
use crate::demand::Resources;
use crate::ecs::{
    Attachment, Attribute, AwsVpcConfiguration, Connectivity, Container, ContainerOverride, EphemeralStorage,
    HealthStatus, KeyValuePair, LaunchType, Tag, Task, TaskDefinition, TaskOverride, TaskStopCode,
};

/// The task statuses in lifecycle order (`Ord` follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 8] = [
        TaskStatus::Provisioning,
        TaskStatus::Pending,
        TaskStatus::Activating,
        TaskStatus::Running,
        TaskStatus::Deactivating,
        TaskStatus::Stopping,
        TaskStatus::Deprovisioning,
        TaskStatus::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Provisioning => "PROVISIONING",
            TaskStatus::Pending => "PENDING",
            TaskStatus::Activating => "ACTIVATING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Deactivating => "DEACTIVATING",
            TaskStatus::Stopping => "STOPPING",
            TaskStatus::Deprovisioning => "DEPROVISIONING",
            TaskStatus::Stopped => "STOPPED",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The status stored on `task` (a task without one is PROVISIONING).
    pub fn of(task: &Task) -> TaskStatus {
        task.last_status.as_deref().and_then(TaskStatus::parse).unwrap_or(TaskStatus::Provisioning)
    }

    /// Not yet RUNNING: what ECS counts as pending.
    pub fn is_pending(self) -> bool {
        self < TaskStatus::Running
    }

    /// On its way down (DEACTIVATING or later).
    pub fn is_stopping(self) -> bool {
        self >= TaskStatus::Deactivating
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const DESIRED_RUNNING: &str = "RUNNING";
pub const DESIRED_STOPPED: &str = "STOPPED";
/// The stoppedReason StopTask records when the caller gives none.
pub const DEFAULT_STOP_REASON: &str = "Task stopped by user";

/// A report the lifecycle refuses; the message says why (InvalidParameterException).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTransition(pub String);

/// Whether a task whose lastStatus is `from` may report `to`.
pub fn check_transition(from: TaskStatus, to: TaskStatus) -> Result<(), InvalidTransition> {
    if from == TaskStatus::Stopped && to != TaskStatus::Stopped {
        return Err(InvalidTransition(format!("The task is already STOPPED; it cannot become {to}.")));
    }
    if to < from {
        return Err(InvalidTransition(format!(
            "The task's lastStatus is {from}; a report cannot take it back to {to}. Statuses only move forward: {}.",
            TaskStatus::ALL.map(TaskStatus::as_str).join(" → ")
        )));
    }
    Ok(())
}

/// What applying a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// False when the task was already STOPPED (a repeated final report): nothing to write.
    pub changed: bool,
    /// This report took the task to STOPPED: its reservation is to be released.
    pub stopped: bool,
}

/// Container statuses in order; others (agent-specific) are not ranked and never
/// replace a known one.
fn container_rank(status: &str) -> Option<u8> {
    match status {
        "PENDING" => Some(0),
        "RUNNING" => Some(1),
        "STOPPED" => Some(2),
        _ => None,
    }
}

/// Applies an agent's report to the stored task, or refuses it without changing anything.
///
/// - lastStatus moves forward (or stays); STOPPED is final (a repeated STOPPED report is
///   accepted and changes nothing).
/// - containers are merged by name (containers the task does not have are ignored); a
///   container's status does not move back either.
/// - startedAt is set when the task first reports RUNNING (the agent's time if given);
///   stoppingAt when it begins stopping, and desiredStatus becomes STOPPED then (an
///   essential container exited); stoppedAt and executionStoppedAt when STOPPED, when
///   every container is shown STOPPED too.
/// - stopCode and stoppedReason already set (by StopTask) are kept.
/// - a report that changes nothing (a retry) leaves the task as it was, version included.
pub fn apply_report(
    task: &mut Task,
    report: &ReportTaskStateRequest,
    now: Timestamp,
) -> Result<Applied, InvalidTransition> {
    let to = TaskStatus::parse(&report.last_status).ok_or_else(|| {
        InvalidTransition(format!(
            "'{}' is not a task status: use one of {}.",
            report.last_status,
            TaskStatus::ALL.map(TaskStatus::as_str).join(", ")
        ))
    })?;
    let from = TaskStatus::of(task);
    check_transition(from, to)?;
    if from == TaskStatus::Stopped {
        return Ok(Applied { changed: false, stopped: false });
    }
    let before = task.clone();

    task.last_status = Some(to.as_str().to_string());
    merge_containers(task.containers.get_or_insert_with(Vec::new), &report.containers);
    if report.health_status.is_some() {
        task.health_status = report.health_status;
    }
    task.pull_started_at = task.pull_started_at.or(report.pull_started_at);
    task.pull_stopped_at = report.pull_stopped_at.or(task.pull_stopped_at);
    if let Some(attachments) = &report.attachments {
        task.attachments = Some(attachments.clone());
    }
    if task.connectivity.is_none() && to >= TaskStatus::Pending {
        task.connectivity = Some(Connectivity::Connected);
        task.connectivity_at = Some(now);
    }
    if task.started_at.is_none()
        && (to == TaskStatus::Running || (to > TaskStatus::Running && report.started_at.is_some()))
    {
        task.started_at = Some(report.started_at.unwrap_or(now));
    }
    if to.is_stopping() {
        task.desired_status = Some(DESIRED_STOPPED.to_string());
        task.stopping_at.get_or_insert(now);
        if task.stop_code.is_none() {
            task.stop_code = report.stop_code;
        }
        if task.stopped_reason.is_none() {
            task.stopped_reason = report.stopped_reason.clone();
        }
    }
    let stopped = to == TaskStatus::Stopped;
    if stopped {
        task.stopped_at.get_or_insert(now);
        task.execution_stopped_at = Some(report.execution_stopped_at.or(task.execution_stopped_at).unwrap_or(now));
        for c in task.containers.iter_mut().flatten() {
            c.last_status = Some("STOPPED".into());
        }
    }
    if *task == before {
        // The same report again (an agent retrying): nothing to write, nobody to wake.
        return Ok(Applied { changed: false, stopped: false });
    }
    task.version = Some(task.version.unwrap_or(0) + 1);
    Ok(Applied { changed: true, stopped })
}

fn merge_containers(stored: &mut [Container], reported: &[Container]) {
    for r in reported {
        let Some(c) = stored.iter_mut().find(|c| c.name.is_some() && c.name == r.name) else { continue };
        macro_rules! take {
            ($($field:ident),*) => { $(if r.$field.is_some() { c.$field = r.$field.clone(); })* };
        }
        take!(runtime_id, image_digest, exit_code, reason, network_bindings, network_interfaces, health_status);
        take!(managed_agents, gpu_ids);
        if let Some(status) = &r.last_status {
            let forward = match (container_rank(status), c.last_status.as_deref().and_then(container_rank)) {
                (Some(new), Some(old)) => new >= old,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if forward {
                c.last_status = Some(status.clone());
            }
        }
    }
}

/// StopTask: desiredStatus STOPPED, with the caller's reason (ECS's default when none),
/// `code` and stoppingAt. A task already asked to stop keeps its first reason. Returns
/// whether anything changed.
pub fn request_stop(task: &mut Task, reason: Option<&str>, code: TaskStopCode, now: Timestamp) -> bool {
    if task.desired_status.as_deref() == Some(DESIRED_STOPPED) {
        return false;
    }
    task.desired_status = Some(DESIRED_STOPPED.to_string());
    task.stop_code.get_or_insert(code);
    if task.stopped_reason.is_none() {
        task.stopped_reason = Some(reason.filter(|r| !r.is_empty()).unwrap_or(DEFAULT_STOP_REASON).to_string());
    }
    task.stopping_at.get_or_insert(now);
    task.version = Some(task.version.unwrap_or(0) + 1);
    true
}

/// Everything a new task is made of that the server decided.
#[derive(Debug, Clone)]
pub struct Provision<'a> {
    pub task_arn: String,
    pub cluster_arn: String,
    pub container_instance_arn: String,
    pub task_definition: &'a TaskDefinition,
    pub overrides: Option<&'a TaskOverride>,
    /// What the task reserves (its cpu and memory are shown from it).
    pub reserved: &'a Resources,
    pub group: String,
    pub started_by: Option<String>,
    pub launch_type: Option<LaunchType>,
    pub capacity_provider_name: Option<String>,
    pub platform_version: Option<String>,
    pub tags: Vec<Tag>,
    pub availability_zone: Option<String>,
    pub attributes: Vec<Attribute>,
    /// awsvpc tasks get an ElasticNetworkInterface attachment in the first subnet.
    pub awsvpc: Option<&'a AwsVpcConfiguration>,
    pub enable_execute_command: bool,
    pub created_at: Timestamp,
}

/// The task RunTask/StartTask creates, as their responses show it: PROVISIONING with
/// desiredStatus RUNNING, version 1, each container PENDING with its own ARN.
/// `new_id` makes the ids of containers and attachments.
pub fn provision(p: Provision, mut new_id: impl FnMut() -> String) -> Task {
    let td = p.task_definition;
    let fargate = crate::fargate::is_fargate(p.launch_type);
    let definitions = td.container_definitions.as_deref().unwrap_or_default();
    let given = |name: Option<&str>| {
        p.overrides
            .and_then(|o| o.container_overrides.as_deref())
            .and_then(|cos| cos.iter().find(|co| co.name.is_some() && co.name.as_deref() == name))
    };
    let container_arn_prefix = p.task_arn.replacen(":task/", ":container/", 1);
    let containers = definitions
        .iter()
        .map(|c| {
            let o = given(c.name.as_deref());
            Container {
                container_arn: Some(format!("{container_arn_prefix}/{}", new_id())),
                task_arn: Some(p.task_arn.clone()),
                name: c.name.clone(),
                image: c.image.clone(),
                last_status: Some("PENDING".into()),
                network_interfaces: Some(vec![]),
                health_status: Some(HealthStatus::Unknown),
                cpu: Some(o.and_then(|o| o.cpu).or(c.cpu).unwrap_or(0).to_string()),
                memory: o.and_then(|o| o.memory).or(c.memory).map(|m| m.to_string()),
                memory_reservation: o
                    .and_then(|o| o.memory_reservation)
                    .or(c.memory_reservation)
                    .map(|m| m.to_string()),
                ..Default::default()
            }
        })
        .collect();
    // ECS echoes an override entry for every container, with just its name when none was given.
    let mut overrides = p.overrides.cloned().unwrap_or_default();
    overrides.container_overrides = Some(
        definitions
            .iter()
            .map(|c| {
                given(c.name.as_deref())
                    .cloned()
                    .unwrap_or(ContainerOverride { name: c.name.clone(), ..Default::default() })
            })
            .collect(),
    );
    overrides.inference_accelerator_overrides.get_or_insert_with(Vec::new);
    let attachments = match p.awsvpc {
        Some(vpc) => vec![Attachment {
            id: Some(new_id()),
            r#type: Some("ElasticNetworkInterface".into()),
            status: Some("PRECREATED".into()),
            details: Some(
                vpc.subnets
                    .first()
                    .map(|s| KeyValuePair { name: Some("subnetId".into()), value: Some(s.clone()) })
                    .into_iter()
                    .collect(),
            ),
        }],
        None => vec![],
    };
    Task {
        attachments: Some(attachments),
        attributes: Some(p.attributes),
        availability_zone: p.availability_zone,
        capacity_provider_name: p.capacity_provider_name,
        cluster_arn: Some(p.cluster_arn),
        container_instance_arn: Some(p.container_instance_arn),
        containers: Some(containers),
        cpu: Some(p.reserved.cpu.to_string()),
        memory: Some(p.reserved.memory.to_string()),
        created_at: Some(p.created_at),
        desired_status: Some(DESIRED_RUNNING.into()),
        enable_execute_command: Some(p.enable_execute_command),
        group: Some(p.group),
        health_status: Some(HealthStatus::Unknown),
        last_status: Some(TaskStatus::Provisioning.as_str().into()),
        launch_type: p.launch_type,
        overrides: Some(overrides),
        platform_version: p.platform_version,
        started_by: p.started_by,
        tags: Some(p.tags),
        task_arn: Some(p.task_arn),
        task_definition_arn: td.task_definition_arn.clone(),
        version: Some(1),
        // Fargate shows its platform family and the task's storage (20 GiB unless asked).
        platform_family: fargate.then(|| crate::fargate::PLATFORM_FAMILY.to_string()),
        ephemeral_storage: td.ephemeral_storage.clone().or_else(|| {
            fargate.then_some(EphemeralStorage { size_in_gi_b: crate::fargate::DEFAULT_EPHEMERAL_STORAGE_GIB })
        }),
        ..Default::default()
    }
}

/// An awsvpc task's ENI attachment details as ECS shows them once ATTACHED: subnetId,
/// networkInterfaceId, macAddress, privateDnsName, privateIPv4Address. The MAC is derived
/// from the address as Docker derives its containers' (02:42 and the four IPv4 bytes);
/// the DNS name is EC2's `ip-A-B-C-D.<region>.compute.internal` (`ec2.internal` in us-east-1).
pub fn eni_details(subnet_id: Option<&str>, eni_id: &str, ip: Option<&str>, region: &str) -> Vec<KeyValuePair> {
    let pair = |n: &str, v: String| KeyValuePair { name: Some(n.into()), value: Some(v) };
    let mut out: Vec<KeyValuePair> = subnet_id.map(|s| pair("subnetId", s.into())).into_iter().collect();
    out.push(pair("networkInterfaceId", eni_id.into()));
    if let Some(v4) = ip.and_then(|ip| ip.parse::<std::net::Ipv4Addr>().ok()) {
        let [a, b, c, d] = v4.octets();
        out.push(pair("macAddress", format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")));
        let domain =
            if region == "us-east-1" { "ec2.internal".to_string() } else { format!("{region}.compute.internal") };
        out.push(pair("privateDnsName", format!("ip-{a}-{b}-{c}-{d}.{domain}")));
        out.push(pair("privateIPv4Address", v4.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::ContainerDefinition;

    const T0: Timestamp = Timestamp(1000.0);
    const T1: Timestamp = Timestamp(2000.0);

    fn td() -> TaskDefinition {
        TaskDefinition {
            task_definition_arn: Some("arn:aws:ecs:r:1:task-definition/web:1".into()),
            family: Some("web".into()),
            container_definitions: Some(vec![
                ContainerDefinition {
                    name: Some("app".into()),
                    image: Some("nginx".into()),
                    memory: Some(128),
                    ..Default::default()
                },
                ContainerDefinition { name: Some("side".into()), image: Some("busybox".into()), ..Default::default() },
            ]),
            ..Default::default()
        }
    }

    fn task() -> Task {
        let def = td();
        let reserved = Resources { cpu: 0, memory: 128, ..Default::default() };
        let mut n = 0;
        provision(
            Provision {
                task_arn: "arn:aws:ecs:r:1:task/c/abc".into(),
                cluster_arn: "arn:aws:ecs:r:1:cluster/c".into(),
                container_instance_arn: "arn:aws:ecs:r:1:container-instance/c/i".into(),
                task_definition: &def,
                overrides: None,
                reserved: &reserved,
                group: "family:web".into(),
                started_by: None,
                launch_type: Some(LaunchType::Ec2),
                capacity_provider_name: None,
                platform_version: None,
                tags: vec![],
                availability_zone: None,
                attributes: vec![],
                awsvpc: None,
                enable_execute_command: false,
                created_at: T0,
            },
            || {
                n += 1;
                format!("id{n}")
            },
        )
    }

    fn report(status: &str) -> ReportTaskStateRequest {
        ReportTaskStateRequest {
            cluster: "c".into(),
            task_arn: "t".into(),
            last_status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_task_is_provisioning_with_pending_containers() {
        let t = task();
        assert_eq!(t.last_status.as_deref(), Some("PROVISIONING"));
        assert_eq!(t.desired_status.as_deref(), Some("RUNNING"));
        assert_eq!(t.version, Some(1));
        let c = t.containers.as_ref().unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].container_arn.as_deref(), Some("arn:aws:ecs:r:1:container/c/abc/id1"));
        assert_eq!(c[0].last_status.as_deref(), Some("PENDING"));
        assert_eq!((c[0].memory.as_deref(), c[1].memory.as_deref()), (Some("128"), None));
        let names: Vec<_> =
            t.overrides.unwrap().container_overrides.unwrap().into_iter().map(|o| o.name.unwrap()).collect();
        assert_eq!(names, ["app", "side"]);
    }

    #[test]
    fn statuses_move_forward_only_and_may_skip() {
        for (i, from) in TaskStatus::ALL.iter().enumerate() {
            for (j, to) in TaskStatus::ALL.iter().enumerate() {
                let ok = check_transition(*from, *to).is_ok();
                let expected = j >= i && (*from != TaskStatus::Stopped || *to == TaskStatus::Stopped);
                assert_eq!(ok, expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn running_then_stopped_sets_the_timestamps() {
        let mut t = task();
        let mut r = report("RUNNING");
        r.containers = vec![Container {
            name: Some("app".into()),
            last_status: Some("RUNNING".into()),
            runtime_id: Some("docker-1".into()),
            ..Default::default()
        }];
        assert_eq!(apply_report(&mut t, &r, T0).unwrap(), Applied { changed: true, stopped: false });
        assert_eq!(t.started_at, Some(T0));
        assert_eq!(t.version, Some(2));
        let app = &t.containers.as_ref().unwrap()[0];
        assert_eq!((app.last_status.as_deref(), app.runtime_id.as_deref()), (Some("RUNNING"), Some("docker-1")));

        let mut stopped = report("STOPPED");
        stopped.stop_code = Some(TaskStopCode::EssentialContainerExited);
        stopped.stopped_reason = Some("Essential container in task exited".into());
        assert_eq!(apply_report(&mut t, &stopped, T1).unwrap(), Applied { changed: true, stopped: true });
        assert_eq!(t.started_at, Some(T0));
        assert_eq!((t.stopping_at, t.stopped_at, t.execution_stopped_at), (Some(T1), Some(T1), Some(T1)));
        assert_eq!(t.desired_status.as_deref(), Some("STOPPED"));
        assert_eq!(t.stop_code, Some(TaskStopCode::EssentialContainerExited));
        assert!(t.containers.unwrap().iter().all(|c| c.last_status.as_deref() == Some("STOPPED")));
    }

    #[test]
    fn backward_and_unknown_reports_are_refused_without_change() {
        let mut t = task();
        apply_report(&mut t, &report("RUNNING"), T0).unwrap();
        let before = t.clone();
        assert!(apply_report(&mut t, &report("PENDING"), T1).is_err());
        assert!(apply_report(&mut t, &report("BOUNCING"), T1).is_err());
        assert_eq!(t, before);
        apply_report(&mut t, &report("STOPPED"), T1).unwrap();
        let stopped = t.clone();
        assert!(apply_report(&mut t, &report("RUNNING"), T1).is_err());
        assert_eq!(apply_report(&mut t, &report("STOPPED"), T1).unwrap(), Applied { changed: false, stopped: false });
        assert_eq!(t, stopped);
    }

    #[test]
    fn stop_task_reason_survives_the_agents_report() {
        let mut t = task();
        assert!(request_stop(&mut t, None, TaskStopCode::UserInitiated, T0));
        assert_eq!(t.stopped_reason.as_deref(), Some(DEFAULT_STOP_REASON));
        assert!(!request_stop(&mut t, Some("again"), TaskStopCode::UserInitiated, T1));
        assert_eq!(t.stopping_at, Some(T0));
        let mut r = report("STOPPED");
        r.stop_code = Some(TaskStopCode::TaskFailedToStart);
        r.stopped_reason = Some("agent says".into());
        apply_report(&mut t, &r, T1).unwrap();
        assert_eq!(t.stop_code, Some(TaskStopCode::UserInitiated));
        assert_eq!(t.stopped_reason.as_deref(), Some(DEFAULT_STOP_REASON));
        // Never started: no startedAt.
        assert_eq!(t.started_at, None);
    }

    #[test]
    fn a_repeated_report_changes_nothing() {
        let mut t = task();
        let r = report("RUNNING");
        assert!(apply_report(&mut t, &r, T0).unwrap().changed);
        let once = t.clone();
        assert_eq!(apply_report(&mut t, &r, T1).unwrap(), Applied { changed: false, stopped: false });
        assert_eq!(t, once);
    }

    #[test]
    fn container_statuses_do_not_regress_and_unknown_names_are_ignored() {
        let mut t = task();
        let c = |name: &str, status: &str| Container {
            name: Some(name.into()),
            last_status: Some(status.into()),
            ..Default::default()
        };
        let mut r = report("RUNNING");
        r.containers = vec![c("app", "RUNNING"), c("ghost", "RUNNING")];
        apply_report(&mut t, &r, T0).unwrap();
        r.containers = vec![c("app", "PENDING")];
        apply_report(&mut t, &r, T0).unwrap();
        assert_eq!(t.containers.as_ref().unwrap()[0].last_status.as_deref(), Some("RUNNING"));
        assert_eq!(t.containers.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn eni_details_are_ecs_names() {
        let d = eni_details(Some("subnet-1"), "eni-abc", Some("172.18.0.5"), "eu-west-1");
        let got: Vec<(String, String)> =
            d.into_iter().map(|p| (p.name.unwrap_or_default(), p.value.unwrap_or_default())).collect();
        let want = [
            ("subnetId", "subnet-1"),
            ("networkInterfaceId", "eni-abc"),
            ("macAddress", "02:42:ac:12:00:05"),
            ("privateDnsName", "ip-172-18-0-5.eu-west-1.compute.internal"),
            ("privateIPv4Address", "172.18.0.5"),
        ];
        assert_eq!(got, want.map(|(n, v)| (n.to_string(), v.to_string())));
        let east = eni_details(None, "eni-abc", Some("10.0.0.1"), "us-east-1");
        assert_eq!(east[2].value.as_deref(), Some("ip-10-0-0-1.ec2.internal"));
        assert_eq!(eni_details(None, "eni-abc", None, "us-east-1").len(), 1, "no address yet");
    }
}
