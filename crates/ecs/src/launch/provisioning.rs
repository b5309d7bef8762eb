//! The PROVISIONING placer: a capacity provider's tasks that did not fit when they were
//! launched wait in PROVISIONING on no instance (as on ECS, RunTask and the service
//! return them, not a failure). `place_waiting` places those that fit now on their
//! provider's instances, each in one transaction with its instance's reservation
//! (compare-and-swap on both), stops the ones asked to stop, and stops with ECS's reason
//! the ones that waited longer than the timeout. It is a step of a control loop
//! (berth-control's managed scaling), so it can run any time.

use super::capacity;
use super::commit::{give_gpus, random_seed};
use crate::{Ecs, EcsError, load, placement_view, task_definitions};
use berth_model::agent_protocol::ReportTaskStateRequest;
use berth_model::ecs::{Attribute, CapacityProviderStrategyItem, TaskStopCode};
use berth_model::records::TaskRecord;
use berth_model::task_lifecycle::{self, TaskStatus};
use berth_model::{Timestamp, demand, fargate, keys};
use berth_scheduler::{Demand, Policy};
use berth_store::documents::{self, Doc};
use berth_store::{Compare, Txn};
use std::time::Duration;

/// How long a task may wait for capacity before it is stopped: ECS's 30 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The stoppedReason of a task that waited too long for its capacity provider.
pub const TIMEOUT_REASON: &str =
    "Capacity provider did not provide capacity for the task within the provisioning timeout.";

/// What one pass over a cluster's waiting tasks did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Placing {
    pub placed: usize,
    pub stopped: usize,
    /// Still waiting afterwards.
    pub waiting: usize,
}

/// Whether `rec` is a task waiting for capacity (PROVISIONING, on no instance).
pub fn is_waiting(rec: &TaskRecord) -> bool {
    rec.placement.container_instance_id.is_empty() && TaskStatus::of(&rec.task) == TaskStatus::Provisioning
}

/// One pass over the waiting tasks of `cluster`.
pub async fn place_waiting(ecs: &Ecs, cluster: &str, timeout: Duration) -> Result<Placing, EcsError> {
    let waiting: Vec<Doc<TaskRecord>> =
        load::tasks(ecs, cluster).await?.into_iter().filter(|d| is_waiting(&d.value)).collect();
    let mut out = Placing::default();
    let now = Timestamp::now();
    let mut live = vec![];
    for doc in waiting {
        let task = &doc.value.task;
        let created = task.created_at.map_or(now.as_secs_f64(), |t| t.as_secs_f64());
        if task.desired_status.as_deref() == Some("STOPPED") {
            out.stopped += usize::from(stop_waiting(ecs, cluster, doc, None).await?);
        } else if now.as_secs_f64() - created >= timeout.as_secs_f64() {
            out.stopped += usize::from(stop_waiting(ecs, cluster, doc, Some(TIMEOUT_REASON)).await?);
        } else {
            live.push(doc);
        }
    }
    if live.is_empty() {
        return Ok(out);
    }
    let providers: Vec<CapacityProviderStrategyItem> = {
        let mut names: Vec<String> = live.iter().filter_map(|d| d.value.task.capacity_provider_name.clone()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|p| CapacityProviderStrategyItem { capacity_provider: p, weight: None, base: None })
            .collect()
    };
    let members = capacity::members(ecs, cluster, &providers).await?;
    for doc in live {
        if place_one(ecs, cluster, &doc, &members).await? {
            out.placed += 1;
        } else {
            out.waiting += 1;
        }
    }
    Ok(out)
}

/// Places one waiting task if its provider has room; false when it still waits (or
/// another writer changed it meanwhile: the next pass looks again).
async fn place_one(
    ecs: &Ecs,
    cluster: &str,
    doc: &Doc<TaskRecord>,
    members: &capacity::Members,
) -> Result<bool, EcsError> {
    let mut rec = doc.value.clone();
    let Some(provider) = rec.task.capacity_provider_name.clone() else { return Ok(false) };
    let Some(mine) = members.get(&provider) else { return Ok(false) };
    let td_arn = rec.task.task_definition_arn.clone().unwrap_or_default();
    let td = task_definitions::runnable(ecs, &td_arn, true).await?.task_definition;
    let gpus = demand::gpus(&td, rec.task.overrides.as_ref());
    let wanted = Demand {
        resources: rec.placement.reserved.clone(),
        gpus: gpus.iter().map(|(_, n)| n).sum(),
        group: rec.task.group.clone().unwrap_or_default(),
    };
    let mut policy = Policy::from_ecs(
        &rec.placement_strategy,
        &rec.placement_constraints,
        td.placement_constraints.as_deref().unwrap_or_default(),
    )
    .map_err(EcsError::InvalidParameter)?;
    policy.seed = random_seed();
    let (records, mut snapshots) = placement_view::snapshots(ecs, cluster).await?;
    for s in snapshots.iter_mut() {
        s.active = s.active && mine.contains(&s.ec2_instance_id);
    }
    let Some(Ok(placed)) = berth_scheduler::place_in(&mut snapshots, std::slice::from_ref(&wanted), &policy).pop()
    else {
        return Ok(false);
    };
    let (instance_doc, arn) = (&records[placed.instance], snapshots[placed.instance].arn.clone());
    let id = task_id(&rec);
    let key = keys::task(cluster, &id);
    let mut reserved = rec.placement.reserved.clone();
    reserved.gpus = placed.gpus.iter().cloned().collect();
    let instance = &instance_doc.value;
    // A Fargate task's pool agent is not shown (ECS shows Fargate tasks on no instance).
    rec.task.container_instance_arn = Some(arn).filter(|_| !fargate::is_fargate(rec.task.launch_type));
    rec.task.availability_zone = instance.attribute("ecs.availability-zone").map(Into::into);
    if let Some(arch) = instance.attribute("ecs.cpu-architecture") {
        rec.task.attributes = Some(vec![Attribute {
            name: "ecs.cpu-architecture".into(),
            value: Some(arch.into()),
            target_type: None,
            target_id: None,
        }]);
    }
    give_gpus(&mut rec.task, &gpus, &placed.gpus);
    rec.task.version = Some(rec.task.version.unwrap_or(0) + 1);
    rec.placement.container_instance_id = instance.id();
    rec.placement.reserved = reserved.clone();
    let mut irec = instance.clone();
    irec.reservations.insert(id, reserved);
    irec.bump();
    let instance_key = keys::instance(cluster, &irec.id());
    let txn = Txn::new()
        .when(Compare::ModRevision(key.clone(), doc.mod_revision))
        .when(Compare::ModRevision(instance_key.clone(), instance_doc.mod_revision))
        .put(key, documents::encode(&rec)?)
        .put(instance_key, documents::encode(&irec)?);
    Ok(ecs.store().txn(txn).await?.succeeded)
}

/// Stops a waiting task at once (no agent has it): asked to stop, or timed out with
/// `reason` (stopCode TaskFailedToStart). True if this call stopped it.
async fn stop_waiting(ecs: &Ecs, cluster: &str, doc: Doc<TaskRecord>, reason: Option<&str>) -> Result<bool, EcsError> {
    let mut rec = doc.value;
    let now = Timestamp::now();
    if let Some(reason) = reason {
        task_lifecycle::request_stop(&mut rec.task, Some(reason), TaskStopCode::TaskFailedToStart, now);
    }
    let report = ReportTaskStateRequest {
        cluster: cluster.to_string(),
        task_arn: rec.task.task_arn.clone().unwrap_or_default(),
        last_status: TaskStatus::Stopped.as_str().into(),
        stop_code: rec.task.stop_code,
        stopped_reason: rec.task.stopped_reason.clone(),
        health_status: None,
        pull_started_at: None,
        pull_stopped_at: None,
        started_at: None,
        execution_stopped_at: Some(now),
        containers: vec![],
        attachments: None,
    };
    task_lifecycle::apply_report(&mut rec.task, &report, now)?;
    let key = keys::task(cluster, &task_id(&rec));
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).put(key, documents::encode(&rec)?);
    Ok(ecs.store().txn(txn).await?.succeeded)
}

/// A task's id: the last segment of its ARN.
fn task_id(rec: &TaskRecord) -> String {
    rec.task.task_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default().to_string()
}
