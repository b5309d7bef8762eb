//! The berth agent protocol (`X-Amz-Target: BerthAgent_V1.<Op>`, see
//! `berth_model::agent_protocol`): PollTasks, the agent's long poll and heartbeat, and
//! ReportTaskState, what it observed of a task; ResolveSecrets (`secrets.rs`), the values
//! a task's containers are created with; ReportTaskMetrics (`metrics.rs`), its tasks' usage;
//! InterruptSpotTasks (`spot.rs`), an administrator reclaiming FARGATE_SPOT capacity.
//! Errors use ECS's codes.
//!
//! PollTasks is level-triggered: each answer is the whole desired state of the
//! instance (every task placed on it that has not reported STOPPED, with its exact task
//! definition revision) and the store revision it was read at. Given that revision back
//! as `afterRevision`, the next poll waits (up to `MAX_POLL_WAIT_SECONDS`) until one of
//! the instance's tasks or the instance itself changes after it, then answers.

mod hosts;
mod metrics;
mod secrets;
mod spot;

use super::ecs::clusters;
use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_ecs::{EcsError, names};
use berth_model::agent_protocol::{
    MAX_POLL_WAIT_SECONDS, PollTasksRequest, PollTasksResponse, ReportTaskStateRequest, ReportTaskStateResponse,
    TARGET_PREFIX, TaskAssignment,
};
use berth_model::arn::EcsResource;
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, TaskDefinitionRecord, TaskRecord};
use berth_model::task_lifecycle::TaskStatus;
use berth_store::Revision;
use berth_store::documents;
use std::collections::HashMap;
use std::time::Duration;

/// The agent protocol is ECS's channel to its agents, so it is signed as `ecs`, as the agent
/// signs its ECS calls (crates/agent/src/client.rs).
pub const SERVICE: Service = Service::json("ecs", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "PollTasks" => poll,
        "ReportTaskState" => report,
        "ResolveSecrets" => secrets::resolve,
        "ReportTaskMetrics" => metrics::report,
        "GetTaskCredentials" => super::task_credentials::get,
        "RegisterHost" => hosts::register,
        "PollHostAssignments" => hosts::poll,
        "ReportInstanceState" => hosts::report,
        "GetInstanceCredentials" => hosts::credentials,
        "InterruptSpotTasks" => spot::interrupt,
    })
}

async fn poll(ctx: Ctx, req: PollTasksRequest) -> Result<PollTasksResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    // An instance that exists is answered whatever its cluster's state, so that the agent
    // of a deregistered (INACTIVE) instance learns it even after the cluster is deleted.
    let instance = match names::instance_id(ctx.scope(), &cluster, &req.container_instance) {
        Some(id) => ctx.store().get(&keys::instance(&cluster, &id)).await?.map(|_| id),
        None => None,
    };
    let Some(id) = instance else {
        clusters::active(&ctx, &cluster).await?;
        return Err(AwsError::ecs_instance_not_found());
    };
    let arn = ctx.scope().ecs(&EcsResource::ContainerInstance { cluster: cluster.clone(), id: id.clone() });
    ctx.ecs().heartbeats.beat(&arn);
    if let Some(after) = req.after_revision {
        let wait = req.wait_seconds.unwrap_or(MAX_POLL_WAIT_SECONDS).min(MAX_POLL_WAIT_SECONDS);
        if wait > 0 {
            wait_for_change(&ctx, &cluster, &id, after, Duration::from_secs(wait.into())).await?;
        }
    }
    let state = read_state(&ctx, &cluster, &id).await?;
    ctx.ecs().heartbeats.beat(&arn);
    Ok(state)
}

async fn report(ctx: Ctx, req: ReportTaskStateRequest) -> Result<ReportTaskStateResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let not_found = || async {
        // A task the store does not have: say so about the cluster first when it is gone.
        clusters::active(&ctx, &cluster).await?;
        Err(AwsError::ecs_task_not_found())
    };
    let Some(id) = names::task_id(ctx.scope(), &cluster, &req.task_arn) else { return not_found().await };
    let revision = match berth_ecs::report::report(ctx.ecs(), &cluster, &id, |_| req.clone()).await {
        Err(EcsError::TaskNotFound) => return not_found().await,
        other => other?,
    };
    Ok(ReportTaskStateResponse { revision })
}

/// Returns when one of the instance's tasks, or the instance record, changed after
/// `after`, or when `wait` has passed (`InstanceChanges` tells, from one store watch
/// shared by every poll).
async fn wait_for_change(ctx: &Ctx, cluster: &str, id: &str, after: Revision, wait: Duration) -> Result<(), AwsError> {
    if after > ctx.store().revision().await? {
        // Not a revision of this store (it was reset?): answer with the current state.
        return Ok(());
    }
    let changes = ctx.api.instance_changes().await?;
    let instance = keys::instance(cluster, id);
    tokio::select! {
        _ = changes.changed_after(&instance, after) => {}
        _ = tokio::time::sleep(wait) => {}
        _ = ctx.api.shutdown_begun() => {}
    }
    Ok(())
}

/// The instance's desired state: its status and every task placed on it that has not
/// reported STOPPED (the tasks its record reserves for), with the store revision read
/// before them, so that any later change is after the revision returned.
async fn read_state(ctx: &Ctx, cluster: &str, id: &str) -> Result<PollTasksResponse, AwsError> {
    let store = ctx.store();
    let revision = store.revision().await?;
    let instance = documents::get::<ContainerInstanceRecord>(store, &keys::instance(cluster, id))
        .await?
        .ok_or_else(AwsError::ecs_instance_not_found)?;
    let mut definitions: HashMap<String, TaskDefinitionRecord> = HashMap::new();
    let mut assignments = vec![];
    for task_id in instance.value.reservations.keys() {
        let Some(doc) = documents::get::<TaskRecord>(store, &keys::task(cluster, task_id)).await? else { continue };
        let rec = doc.value;
        if TaskStatus::of(&rec.task) == TaskStatus::Stopped {
            continue;
        }
        let td_arn = rec.task.task_definition_arn.clone().unwrap_or_default();
        if !definitions.contains_key(&td_arn) {
            let wanted = names::task_definition(ctx.scope(), &td_arn)?;
            let key = keys::taskdef(&wanted.family, wanted.revision.unwrap_or_default());
            match documents::get::<TaskDefinitionRecord>(store, &key).await? {
                Some(doc) => definitions.insert(td_arn.clone(), doc.value),
                None => {
                    tracing::error!(task = rec.task.task_arn, td_arn, "a task's definition is missing");
                    continue;
                }
            };
        }
        assignments
            .push(TaskAssignment { task: rec.task, task_definition: definitions[&td_arn].task_definition.clone() });
    }
    Ok(PollTasksResponse { revision, instance_status: instance.value.status().to_string(), tasks: assignments })
}
