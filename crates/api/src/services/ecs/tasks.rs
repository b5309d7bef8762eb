//! Tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks, and the agent-side
//! SubmitTaskStateChange / SubmitContainerStateChange.
//!
//! Launching, stopping and applying reports are ECS's domain operations
//! (`berth_ecs::launch`, `stop`, `report`); these handlers decode, call them, and encode.

use super::{clusters, paging};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::{launch, load, names, report::report, stop::request_stop};
use berth_model::agent_protocol::ReportTaskStateRequest;
use berth_model::arn::EcsResource;
use berth_model::ecs::*;
use berth_model::keys;
use berth_model::records::TaskRecord;
use berth_store::documents;

pub async fn run(ctx: Ctx, req: RunTaskRequest) -> Result<RunTaskResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let (tasks, failures) = launch::run(ctx.ecs(), &cluster, req).await?;
    Ok(RunTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn start(ctx: Ctx, req: StartTaskRequest) -> Result<StartTaskResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let (tasks, failures) = launch::start(ctx.ecs(), &cluster, req).await?;
    Ok(StartTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn stop(ctx: Ctx, req: StopTaskRequest) -> Result<StopTaskResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let id = names::task_id(ctx.scope(), &cluster, &req.task).ok_or_else(AwsError::ecs_task_not_found)?;
    let task = request_stop(ctx.ecs(), &cluster, &id, req.reason.as_deref(), TaskStopCode::UserInitiated).await?;
    Ok(StopTaskResponse { task: Some(task) })
}

pub async fn describe(ctx: Ctx, req: DescribeTasksRequest) -> Result<DescribeTasksResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    if req.tasks.is_empty() {
        return Err(AwsError::ecs_invalid_parameter("Tasks cannot be empty."));
    }
    if req.tasks.len() > 100 {
        return Err(AwsError::ecs_invalid_parameter("At most 100 tasks can be described at once."));
    }
    let with_tags = req.include.unwrap_or_default().contains(&TaskField::Tags);
    let (mut tasks, mut failures) = (vec![], vec![]);
    for given in &req.tasks {
        let found = match names::task_id(ctx.scope(), &cluster, given) {
            Some(id) => documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id)).await?,
            None => None,
        };
        match found {
            Some(doc) => tasks.push(shown(doc.value.task, with_tags)),
            None => failures.push(Failure {
                arn: Some(names::missing_arn(ctx.scope(), given, |id| EcsResource::Task {
                    cluster: cluster.clone(),
                    id,
                })),
                reason: Some("MISSING".into()),
                detail: None,
            }),
        }
    }
    Ok(DescribeTasksResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn list(ctx: Ctx, req: ListTasksRequest) -> Result<ListTasksResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    // ECS never sets desiredStatus PENDING: filtering on it finds nothing.
    let desired = req.desired_status.unwrap_or(DesiredStatus::Running).as_str();
    let instance = req.container_instance.as_deref().map(|given| names::instance_id(ctx.scope(), &cluster, given));
    let service_group = req.service_name.as_deref().map(|s| format!("service:{s}"));
    let arns: Vec<String> = load::tasks(ctx.ecs(), &cluster)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|r| {
            let t = &r.task;
            t.desired_status.as_deref() == Some(desired)
                && instance.as_ref().is_none_or(|id| id.as_ref() == Some(&r.placement.container_instance_id))
                && req.family.as_ref().is_none_or(|f| family_of(t) == Some(f.as_str()))
                && req.started_by.as_ref().is_none_or(|s| t.started_by.as_ref() == Some(s))
                && service_group.as_ref().is_none_or(|g| t.group.as_ref() == Some(g))
                && req.launch_type.is_none_or(|lt| t.launch_type == Some(lt))
        })
        .filter_map(|r| r.task.task_arn)
        .collect();
    let page = paging::paginate(arns, String::clone, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListTasksResponse { task_arns: Some(page.items), next_token: page.next_token })
}

pub async fn submit_task_state_change(
    ctx: Ctx,
    req: SubmitTaskStateChangeRequest,
) -> Result<SubmitTaskStateChangeResponse, AwsError> {
    let (cluster, id) = reported_task(&ctx, req.cluster.as_deref(), req.task.as_deref()).await?;
    report(ctx.ecs(), &cluster, &id, |current| ReportTaskStateRequest {
        cluster: cluster.clone(),
        task_arn: current.task_arn.clone().unwrap_or_default(),
        last_status: req.status.clone().or_else(|| current.last_status.clone()).unwrap_or_default(),
        stopped_reason: req.reason.clone(),
        pull_started_at: req.pull_started_at,
        pull_stopped_at: req.pull_stopped_at,
        execution_stopped_at: req.execution_stopped_at,
        containers: req
            .containers
            .iter()
            .flatten()
            .map(|c| Container {
                name: c.container_name.clone(),
                image_digest: c.image_digest.clone(),
                runtime_id: c.runtime_id.clone(),
                exit_code: c.exit_code,
                network_bindings: c.network_bindings.clone(),
                reason: c.reason.clone(),
                last_status: c.status.clone(),
                ..Default::default()
            })
            .collect(),
        attachments: req.attachments.as_ref().map(|changes| {
            let mut attachments = current.attachments.clone().unwrap_or_default();
            for change in changes {
                let id = change.attachment_arn.rsplit('/').next().unwrap_or_default();
                for a in attachments.iter_mut().filter(|a| a.id.as_deref() == Some(id)) {
                    a.status = Some(change.status.clone());
                }
            }
            attachments
        }),
        ..Default::default()
    })
    .await?;
    Ok(SubmitTaskStateChangeResponse { acknowledgment: Some("ACK".into()) })
}

pub async fn submit_container_state_change(
    ctx: Ctx,
    req: SubmitContainerStateChangeRequest,
) -> Result<SubmitContainerStateChangeResponse, AwsError> {
    let (cluster, id) = reported_task(&ctx, req.cluster.as_deref(), req.task.as_deref()).await?;
    report(ctx.ecs(), &cluster, &id, |current| ReportTaskStateRequest {
        cluster: cluster.clone(),
        task_arn: current.task_arn.clone().unwrap_or_default(),
        last_status: current.last_status.clone().unwrap_or_default(),
        containers: vec![Container {
            name: req.container_name.clone(),
            runtime_id: req.runtime_id.clone(),
            last_status: req.status.clone(),
            exit_code: req.exit_code,
            reason: req.reason.clone(),
            network_bindings: req.network_bindings.clone(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .await?;
    Ok(SubmitContainerStateChangeResponse { acknowledgment: Some("ACK".into()) })
}

/// The task as DescribeTasks shows it: tags only when asked for.
fn shown(mut task: Task, with_tags: bool) -> Task {
    if !with_tags {
        task.tags = Some(vec![]);
    }
    task
}

/// The cluster and task id a Submit*StateChange names (the cluster must be ACTIVE).
async fn reported_task(ctx: &Ctx, cluster: Option<&str>, task: Option<&str>) -> Result<(String, String), AwsError> {
    let cluster = names::cluster_name(ctx.scope(), cluster)?;
    clusters::active(ctx, &cluster).await?;
    let given = task.ok_or_else(|| AwsError::ecs_invalid_parameter("task is required."))?;
    let id = names::task_id(ctx.scope(), &cluster, given).ok_or_else(AwsError::ecs_task_not_found)?;
    Ok((cluster, id))
}

/// The family of the task's definition (from its ARN).
fn family_of(task: &Task) -> Option<&str> {
    let arn = task.task_definition_arn.as_deref()?;
    let (_, spec) = arn.rsplit_once("task-definition/")?;
    spec.rsplit_once(':').map(|(family, _)| family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_comes_from_the_definition_arn() {
        let task = Task {
            task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/web-app:12".into()),
            ..Default::default()
        };
        assert_eq!(family_of(&task), Some("web-app"));
        assert_eq!(family_of(&Task::default()), None);
    }
}
