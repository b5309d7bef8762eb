//! `/console/clusters/{cluster}/tasks/{id}`: the task's containers (status, exit codes,
//! health, ports as links), why it stopped, and the last lines each container logged through
//! `awslogs`, refreshed live.

use super::{last_segment, when, wire};
use crate::client::Service as Api;
use crate::page::{Signed, State};
use axum::extract::{Path, State as Shared};
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::ecs::*;
use berth_model::generated::logs::{GetLogEventsRequest, GetLogEventsResponse, OutputLogEvent};
use serde::Serialize;

/// How many of a container's last log lines the page shows.
pub const LOG_LINES: i32 = 50;

#[derive(Debug, Serialize)]
pub struct TaskView {
    pub cluster: String,
    pub id: String,
    pub group: String,
    pub last_status: String,
    pub desired_status: String,
    pub health: String,
    pub task_definition: String,
    pub started: String,
    pub stopped: String,
    pub stop_code: String,
    pub stopped_reason: String,
    pub instance: String,
    pub containers: Vec<ContainerRow>,
    pub logs: Vec<LogView>,
    /// A task not yet stopping can be stopped from the page.
    pub stoppable: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    pub last_status: String,
    pub exit_code: Option<i32>,
    pub reason: String,
    pub health: String,
    pub ports: Vec<PortLink>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PortLink {
    pub label: String,
    /// Where a browser reaches the port: only for TCP ports bound on the host.
    pub href: Option<String>,
}

/// Where a container's `awslogs` lines are, and the last of them.
#[derive(Debug, Serialize, PartialEq)]
pub struct LogView {
    pub container: String,
    pub group: String,
    pub stream: String,
    pub lines: Vec<LogLine>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LogLine {
    pub at: String,
    pub message: String,
}

/// A binding as a link: `http://HOST:PORT` on the host the agent reported (a wildcard bind
/// is this machine's loopback).
pub fn port_link(b: &NetworkBinding) -> PortLink {
    let protocol = b.protocol.as_ref().map(wire).unwrap_or_else(|| "tcp".into());
    let container = b.container_port.map(|p| p.to_string()).unwrap_or_default();
    let Some(host_port) = b.host_port.filter(|p| *p > 0) else {
        return PortLink { label: format!("{container}/{protocol}"), href: None };
    };
    let ip = match b.bind_ip.as_deref() {
        None | Some("0.0.0.0") | Some("::") | Some("") => "127.0.0.1",
        Some(ip) => ip,
    };
    let host = if ip.contains(':') { format!("[{ip}]") } else { ip.to_owned() };
    let href = (protocol == "tcp").then(|| format!("http://{host}:{host_port}/"));
    PortLink { label: format!("{host}:{host_port} → {container}/{protocol}"), href }
}

pub fn container_row(c: &Container) -> ContainerRow {
    ContainerRow {
        name: c.name.clone().unwrap_or_default(),
        image: c.image.clone().unwrap_or_default(),
        last_status: c.last_status.clone().unwrap_or_default(),
        exit_code: c.exit_code,
        reason: c.reason.clone().unwrap_or_default(),
        health: c.health_status.as_ref().map(wire).unwrap_or_default(),
        ports: c.network_bindings.iter().flatten().map(port_link).collect(),
    }
}

/// Where each container of `definition` logs through `awslogs` for task `task_id`:
/// (container, group, stream).
pub fn log_places(definition: &TaskDefinition, task_id: &str) -> Vec<(String, String, String)> {
    definition
        .container_definitions
        .iter()
        .flatten()
        .filter_map(|def| {
            let config = def.log_configuration.as_ref().filter(|c| c.log_driver == LogDriver::Awslogs)?;
            let options = config.options.as_ref()?;
            let group = options.get("awslogs-group")?.clone();
            let container = def.name.clone().unwrap_or_default();
            let prefix = options.get("awslogs-stream-prefix").map(String::as_str);
            let stream = berth_model::awslogs::stream_name(prefix, &container, task_id);
            Some((container, group, stream))
        })
        .collect()
}

pub fn log_line(e: &OutputLogEvent) -> LogLine {
    let at = e.timestamp.map(|ms| berth_model::Timestamp(ms as f64 / 1000.0));
    LogLine { at: when(at), message: e.message.clone().unwrap_or_default() }
}

pub fn view(cluster: &str, task: &Task, logs: Vec<LogView>) -> TaskView {
    let last_status = task.last_status.clone().unwrap_or_default();
    let desired_status = task.desired_status.clone().unwrap_or_default();
    TaskView {
        cluster: cluster.into(),
        id: last_segment(task.task_arn.as_deref().unwrap_or("")).into(),
        group: task.group.clone().unwrap_or_default(),
        stoppable: desired_status != "STOPPED" && last_status != "STOPPED",
        last_status,
        desired_status,
        health: task.health_status.as_ref().map(wire).unwrap_or_default(),
        task_definition: last_segment(task.task_definition_arn.as_deref().unwrap_or("")).into(),
        started: when(task.started_at),
        stopped: when(task.stopped_at),
        stop_code: task.stop_code.as_ref().map(wire).unwrap_or_default(),
        stopped_reason: task.stopped_reason.clone().unwrap_or_default(),
        instance: last_segment(task.container_instance_arn.as_deref().unwrap_or("")).into(),
        containers: task.containers.iter().flatten().map(container_row).collect(),
        logs,
    }
}

pub async fn page(
    Shared(console): Shared<State>,
    Path((cluster, id)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    match fetch(&signed, &cluster, &id).await {
        Ok(view) => console.page(&signed, "task.html", &id, view),
        Err(e) => console.error(&signed, &e),
    }
}

async fn fetch(signed: &Signed, cluster: &str, id: &str) -> Result<TaskView, AwsError> {
    let c = &signed.client;
    let described: DescribeTasksResponse = c
        .ecs(
            "DescribeTasks",
            &DescribeTasksRequest { cluster: Some(cluster.into()), tasks: vec![id.into()], include: None },
        )
        .await?;
    let Some(task) = described.tasks.unwrap_or_default().into_iter().next() else {
        return Err(AwsError::ecs_task_not_found());
    };
    let definition: DescribeTaskDefinitionResponse = c
        .ecs(
            "DescribeTaskDefinition",
            &DescribeTaskDefinitionRequest {
                task_definition: task.task_definition_arn.clone().unwrap_or_default(),
                include: None,
            },
        )
        .await?;
    let places = definition.task_definition.as_ref().map(|d| log_places(d, id)).unwrap_or_default();
    let mut logs = vec![];
    for (container, group, stream) in places {
        let request = GetLogEventsRequest {
            log_group_name: Some(group.clone()),
            log_stream_name: stream.clone(),
            limit: Some(LOG_LINES),
            start_from_head: Some(false),
            log_group_identifier: None,
            start_time: None,
            end_time: None,
            next_token: None,
            unmask: None,
        };
        // A stream the container has not written yet (or a caller who may not read it) shows no lines.
        let events: GetLogEventsResponse = c.call(Api::Logs, "GetLogEvents", &request).await.unwrap_or_default();
        let lines = events.events.iter().flatten().map(log_line).collect();
        logs.push(LogView { container, group, stream, lines });
    }
    Ok(view(cluster, &task, logs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_host_port_is_a_link_and_an_unbound_port_is_not() {
        let bound = NetworkBinding {
            bind_ip: Some("0.0.0.0".into()),
            container_port: Some(80),
            host_port: Some(32768),
            protocol: Some(TransportProtocol::Tcp),
            ..Default::default()
        };
        let link = port_link(&bound);
        assert_eq!(link.href.as_deref(), Some("http://127.0.0.1:32768/"));
        assert_eq!(link.label, "127.0.0.1:32768 → 80/tcp");
        let udp = NetworkBinding { protocol: Some(TransportProtocol::Udp), ..bound.clone() };
        assert_eq!(port_link(&udp).href, None);
        let unbound = NetworkBinding { container_port: Some(80), ..Default::default() };
        assert_eq!(port_link(&unbound), PortLink { label: "80/tcp".into(), href: None });
    }

    #[test]
    fn awslogs_containers_name_their_group_and_stream() {
        let options = BTreeMap::from([
            ("awslogs-group".to_string(), "/ecs/web".to_string()),
            ("awslogs-stream-prefix".to_string(), "web".to_string()),
        ]);
        let logged = ContainerDefinition {
            name: Some("app".into()),
            log_configuration: Some(LogConfiguration {
                log_driver: LogDriver::Awslogs,
                options: Some(options),
                secret_options: None,
            }),
            ..Default::default()
        };
        let silent = ContainerDefinition { name: Some("sidecar".into()), ..Default::default() };
        let definition = TaskDefinition { container_definitions: Some(vec![logged, silent]), ..Default::default() };
        assert_eq!(
            log_places(&definition, "abc"),
            vec![("app".to_string(), "/ecs/web".to_string(), "web/app/abc".to_string())]
        );
    }

    #[test]
    fn a_stopped_task_shows_why_and_cannot_be_stopped_again() {
        let task = Task {
            task_arn: Some("arn:aws:ecs:us-east-1:000000000000:task/web/abc".into()),
            last_status: Some("STOPPED".into()),
            desired_status: Some("STOPPED".into()),
            stopped_reason: Some("Task stopped by user".into()),
            containers: Some(vec![Container { name: Some("app".into()), exit_code: Some(137), ..Default::default() }]),
            ..Default::default()
        };
        let v = view("web", &task, vec![]);
        assert!(!v.stoppable);
        assert_eq!((v.id.as_str(), v.containers[0].exit_code), ("abc", Some(137)));
        assert_eq!(v.stopped_reason, "Task stopped by user");
    }
}
