//! `/console/clusters/{cluster}/services/{service}`: deployments with their rollout and
//! progress, events, tasks by status, load balancers, the autoscaling policies and their
//! recent activities, and the forms that change the service.

use super::{last_segment, percent, when, wire};
use crate::client::Service as Api;
use crate::page::{Signed, State};
use axum::extract::{Path, State as Shared};
use axum::response::Response;
use berth_api::error::AwsError;
use berth_model::application_autoscaling as aas;
use berth_model::ecs::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many events and stopped tasks the page shows (the newest).
const RECENT: usize = 20;

#[derive(Debug, Serialize)]
pub struct ServiceView {
    pub cluster: String,
    pub name: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub task_definition: String,
    pub deployments: Vec<DeploymentRow>,
    pub events: Vec<EventRow>,
    /// How many of the service's tasks are in each last status.
    pub by_status: BTreeMap<String, usize>,
    pub tasks: Vec<TaskRow>,
    pub stopped: Vec<TaskRow>,
    pub load_balancers: Vec<String>,
    pub policies: Vec<PolicyRow>,
    pub activities: Vec<EventRow>,
    /// A service is deleted from the console once nothing runs (desired and running 0).
    pub deletable: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DeploymentRow {
    pub id: String,
    pub status: String,
    pub rollout: String,
    pub reason: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed: i32,
    pub progress_percent: i64,
    pub updated: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct EventRow {
    pub at: String,
    pub message: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TaskRow {
    pub id: String,
    pub last_status: String,
    pub desired_status: String,
    pub health: String,
    pub revision: String,
    pub started: String,
    pub stopped_reason: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PolicyRow {
    pub name: String,
    pub kind: String,
}

pub fn deployment_row(d: &Deployment) -> DeploymentRow {
    let desired = d.desired_count.unwrap_or(0);
    let running = d.running_count.unwrap_or(0);
    DeploymentRow {
        id: d.id.clone().unwrap_or_default(),
        status: d.status.clone().unwrap_or_default(),
        rollout: d.rollout_state.as_ref().map(wire).unwrap_or_default(),
        reason: d.rollout_state_reason.clone().unwrap_or_default(),
        task_definition: last_segment(d.task_definition.as_deref().unwrap_or("")).into(),
        desired,
        running,
        pending: d.pending_count.unwrap_or(0),
        failed: d.failed_tasks.unwrap_or(0),
        progress_percent: if desired == 0 { 100 } else { percent(running.into(), desired.into()) },
        updated: when(d.updated_at),
    }
}

pub fn task_row(t: &Task) -> TaskRow {
    TaskRow {
        id: last_segment(t.task_arn.as_deref().unwrap_or("")).into(),
        last_status: t.last_status.clone().unwrap_or_default(),
        desired_status: t.desired_status.clone().unwrap_or_default(),
        health: t.health_status.as_ref().map(wire).unwrap_or_default(),
        revision: last_segment(t.task_definition_arn.as_deref().unwrap_or("")).into(),
        started: when(t.started_at),
        stopped_reason: t.stopped_reason.clone().unwrap_or_default(),
    }
}

/// The view of `service` with its `tasks` (desired RUNNING), its newest `stopped` tasks and
/// its scaling policies and activities.
pub fn view(
    cluster: &str,
    service: &Service,
    tasks: &[Task],
    stopped: &[Task],
    policies: &[aas::ScalingPolicy],
    activities: &[aas::ScalingActivity],
) -> ServiceView {
    let mut tasks: Vec<TaskRow> = tasks.iter().map(task_row).collect();
    tasks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut by_status = BTreeMap::new();
    for t in &tasks {
        *by_status.entry(t.last_status.clone()).or_insert(0) += 1;
    }
    let mut stopped: Vec<&Task> = stopped.iter().collect();
    stopped.sort_by(|a, b| b.stopped_at.partial_cmp(&a.stopped_at).unwrap_or(std::cmp::Ordering::Equal));
    let desired = service.desired_count.unwrap_or(0);
    let running = service.running_count.unwrap_or(0);
    ServiceView {
        cluster: cluster.into(),
        name: service.service_name.clone().unwrap_or_default(),
        status: service.status.clone().unwrap_or_default(),
        desired,
        running,
        pending: service.pending_count.unwrap_or(0),
        task_definition: last_segment(service.task_definition.as_deref().unwrap_or("")).into(),
        deployments: service.deployments.iter().flatten().map(deployment_row).collect(),
        events: service
            .events
            .iter()
            .flatten()
            .take(RECENT)
            .map(|e| EventRow { at: when(e.created_at), message: e.message.clone().unwrap_or_default() })
            .collect(),
        by_status,
        tasks,
        stopped: stopped.into_iter().take(RECENT).map(task_row).collect(),
        load_balancers: service
            .load_balancers
            .iter()
            .flatten()
            .map(|lb| {
                let group = lb.target_group_arn.as_deref().map(last_target_group).unwrap_or_default();
                let port = lb.container_port.map(|p| p.to_string()).unwrap_or_default();
                format!("{group} → {}:{port}", lb.container_name.as_deref().unwrap_or(""))
            })
            .collect(),
        policies: policies
            .iter()
            .map(|p| PolicyRow { name: p.policy_name.clone(), kind: wire(&p.policy_type) })
            .collect(),
        activities: activities
            .iter()
            .take(RECENT)
            .map(|a| EventRow {
                at: when(Some(a.start_time)),
                message: format!("{} ({})", a.description, wire(&a.status_code)),
            })
            .collect(),
        deletable: desired == 0 && running == 0 && service.status.as_deref() != Some("INACTIVE"),
    }
}

/// A target group's name from its ARN (`...:targetgroup/NAME/ID`).
fn last_target_group(arn: &str) -> String {
    arn.rsplit('/').nth(1).unwrap_or(arn).into()
}

pub async fn page(
    Shared(console): Shared<State>,
    Path((cluster, service)): Path<(String, String)>,
    signed: Signed,
) -> Response {
    match fetch(&signed, &cluster, &service).await {
        Ok(view) => console.page(&signed, "service.html", &service, view),
        Err(e) => console.error(&signed, &e),
    }
}

/// The service's tasks desired RUNNING, described.
async fn running_tasks(signed: &Signed, cluster: &str, service: &str) -> Result<Vec<Task>, AwsError> {
    let arns = signed
        .client
        .list_all(
            "ListTasks",
            |next_token| list(cluster, service, DesiredStatus::Running, next_token),
            |page: ListTasksResponse| (page.task_arns, page.next_token),
        )
        .await?;
    describe(signed, cluster, &arns).await
}

/// One page (100) of the service's stopped tasks, described: enough to show the newest.
async fn stopped_tasks(signed: &Signed, cluster: &str, service: &str) -> Result<Vec<Task>, AwsError> {
    let page: ListTasksResponse =
        signed.client.ecs("ListTasks", &list(cluster, service, DesiredStatus::Stopped, None)).await?;
    describe(signed, cluster, &page.task_arns.unwrap_or_default()).await
}

fn list(cluster: &str, service: &str, desired: DesiredStatus, next_token: Option<String>) -> ListTasksRequest {
    ListTasksRequest {
        cluster: Some(cluster.into()),
        service_name: Some(service.into()),
        desired_status: Some(desired),
        next_token,
        max_results: Some(100),
        ..Default::default()
    }
}

async fn describe(signed: &Signed, cluster: &str, arns: &[String]) -> Result<Vec<Task>, AwsError> {
    let mut tasks = vec![];
    for chunk in arns.chunks(100) {
        let request = DescribeTasksRequest { cluster: Some(cluster.into()), tasks: chunk.to_vec(), include: None };
        let page: DescribeTasksResponse = signed.client.ecs("DescribeTasks", &request).await?;
        tasks.extend(page.tasks.unwrap_or_default());
    }
    Ok(tasks)
}

async fn fetch(signed: &Signed, cluster: &str, name: &str) -> Result<ServiceView, AwsError> {
    let c = &signed.client;
    let described: DescribeServicesResponse = c
        .ecs(
            "DescribeServices",
            &DescribeServicesRequest { cluster: Some(cluster.into()), services: vec![name.into()], include: None },
        )
        .await?;
    let Some(service) = described.services.unwrap_or_default().into_iter().next() else {
        return Err(AwsError::ecs_service_not_found());
    };
    let running = running_tasks(signed, cluster, name).await?;
    let stopped = stopped_tasks(signed, cluster, name).await?;
    let resource_id = Some(format!("service/{cluster}/{name}"));
    // Autoscaling is shown to whoever may read it; a caller without that right still sees the service.
    let policies: aas::DescribeScalingPoliciesResponse = c
        .call(
            Api::ApplicationAutoScaling,
            "DescribeScalingPolicies",
            &aas::DescribeScalingPoliciesRequest {
                service_namespace: aas::ServiceNamespace::Ecs,
                resource_id: resource_id.clone(),
                policy_names: None,
                scalable_dimension: None,
                max_results: None,
                next_token: None,
            },
        )
        .await
        .unwrap_or_default();
    let activities: aas::DescribeScalingActivitiesResponse = c
        .call(
            Api::ApplicationAutoScaling,
            "DescribeScalingActivities",
            &aas::DescribeScalingActivitiesRequest {
                service_namespace: aas::ServiceNamespace::Ecs,
                resource_id,
                scalable_dimension: None,
                max_results: Some(RECENT as i32),
                next_token: None,
                include_not_scaled_activities: None,
            },
        )
        .await
        .unwrap_or_default();
    Ok(view(
        cluster,
        &service,
        &running,
        &stopped,
        &policies.scaling_policies.unwrap_or_default(),
        &activities.scaling_activities.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::Timestamp;

    fn task(id: &str, status: &str) -> Task {
        Task {
            task_arn: Some(format!("arn:aws:ecs:us-east-1:000000000000:task/web/{id}")),
            last_status: Some(status.into()),
            desired_status: Some("RUNNING".into()),
            task_definition_arn: Some("arn:aws:ecs:us-east-1:000000000000:task-definition/app:3".into()),
            ..Default::default()
        }
    }

    #[test]
    fn tasks_are_counted_by_status_and_listed_in_id_order() {
        let service = Service { service_name: Some("web".into()), desired_count: Some(3), ..Default::default() };
        let tasks = [task("c", "RUNNING"), task("a", "RUNNING"), task("b", "PENDING")];
        let v = view("prod", &service, &tasks, &[], &[], &[]);
        assert_eq!(v.by_status.get("RUNNING"), Some(&2));
        assert_eq!(v.by_status.get("PENDING"), Some(&1));
        let ids: Vec<_> = v.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(v.tasks[0].revision, "app:3");
        assert!(!v.deletable);
    }

    #[test]
    fn a_deployment_shows_its_progress() {
        let d = Deployment {
            status: Some("PRIMARY".into()),
            desired_count: Some(4),
            running_count: Some(1),
            rollout_state: Some(DeploymentRolloutState::InProgress),
            ..Default::default()
        };
        let row = deployment_row(&d);
        assert_eq!((row.progress_percent, row.rollout.as_str()), (25, "IN_PROGRESS"));
        let empty = Deployment { desired_count: Some(0), ..Default::default() };
        assert_eq!(deployment_row(&empty).progress_percent, 100);
    }

    #[test]
    fn the_newest_stopped_tasks_come_first_and_a_scaled_down_service_is_deletable() {
        let service = Service { status: Some("ACTIVE".into()), desired_count: Some(0), ..Default::default() };
        let mut old = task("old", "STOPPED");
        old.stopped_at = Some(Timestamp(1.0));
        let mut new = task("new", "STOPPED");
        new.stopped_at = Some(Timestamp(2.0));
        let v = view("prod", &service, &[], &[old, new], &[], &[]);
        assert_eq!(v.stopped[0].id, "new");
        assert!(v.deletable);
    }

    #[test]
    fn a_load_balancer_names_its_target_group_and_container() {
        let service = Service {
            load_balancers: Some(vec![LoadBalancer {
                target_group_arn: Some(
                    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web-tg/0123".into(),
                ),
                container_name: Some("app".into()),
                container_port: Some(80),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(view("prod", &service, &[], &[], &[], &[]).load_balancers, ["web-tg → app:80"]);
    }
}
