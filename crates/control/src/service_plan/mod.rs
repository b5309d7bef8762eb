//! The service controller's decisions, as pure functions over plain data: given a
//! service, its tasks and the cluster's instances, what to start, what to stop, and the
//! service as it should be recorded (counts, deployments and their rollout states,
//! failed tasks, the circuit breaker, back-off, events). No I/O and no clock: the loop
//! (`service_controller`) reads, calls these, and commits.
//!
//! REPLICA, as ECS rolls deployments: with D = desiredCount, at most
//! ⌊D × maximumPercent / 100⌋ tasks are not STOPPED at once and at least
//! ⌈D × minimumHealthyPercent / 100⌉ stay healthy. Tasks of the PRIMARY deployment on
//! ACTIVE instances are kept (up to D); every other task (an older deployment's, or on a
//! DRAINING instance) is retired: unhealthy ones at once, healthy ones as far as the
//! minimum allows. New tasks are started while there is room under the maximum.
//!
//! DAEMON: one task of the PRIMARY deployment on every ACTIVE instance; an older
//! deployment's task on an instance is stopped (within minimumHealthyPercent) before
//! the new one starts there; tasks on instances that are not ACTIVE are stopped.

use berth_model::Timestamp;
use berth_model::ecs::{
    DeploymentRolloutState, HealthStatus, SchedulingStrategy, ServiceDeploymentStatus, Task, TaskStopCode,
};
use berth_model::records::{FinishedDeployment, ServiceRecord};
use berth_model::service::{self as rules, NewDeployment};
use berth_model::task_lifecycle::{DESIRED_STOPPED, TaskStatus};
use std::collections::BTreeSet;
pub use targets::ElbHealth;

pub mod targets;

/// The stoppedReason of a task stopped for failing its container health checks.
pub const UNHEALTHY_REASON: &str = "Task failed container health checks.";
/// How the stoppedReason of a task stopped for failing its load balancer's health checks begins.
pub const ELB_UNHEALTHY_REASON: &str = "Task failed ELB health checks";
/// How many finished deployments a service remembers.
const MAX_FINISHED: usize = 20;
/// Tasks named by one event.
const TASKS_PER_EVENT: usize = 10;
/// At most this many tasks are started in one step (one store transaction); the next
/// step follows at once, so a large service grows without holding the store for long.
pub const MAX_START_PER_STEP: usize = 500;
/// The longest back-off between attempts to start a service's tasks.
const MAX_BACKOFF_SECS: f64 = 60.0;

/// One of the service's tasks as the controller sees it.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub id: String,
    pub task: Task,
    pub instance_id: String,
    /// What its load balancer targets say (services with loadBalancers).
    pub elb: ElbHealth,
}

/// One container instance of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    pub id: String,
    /// ACTIVE (DRAINING and INACTIVE instances take no new tasks).
    pub active: bool,
}

/// What the loop is to do, and the service as it should be recorded (before anything
/// is started: `started` records what starting did).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub record: Option<ServiceRecord>,
    /// REPLICA: how many tasks of the PRIMARY deployment to place.
    pub start: usize,
    /// DAEMON: the instances to start a PRIMARY task on.
    pub start_on: Vec<String>,
    /// Task ids to stop, with the stoppedReason.
    pub stop: Vec<(String, String)>,
}

/// Everything `plan` needs besides the service and its tasks.
pub struct Inputs<'a> {
    pub tasks: &'a [TaskView],
    pub instances: &'a [InstanceView],
    pub now: Timestamp,
    /// Ids for the events and the deployment a rollback creates (fresh each call).
    pub new_id: &'a mut dyn FnMut() -> String,
    pub new_deployment_id: &'a mut dyn FnMut() -> String,
}

fn status(t: &TaskView) -> TaskStatus {
    TaskStatus::of(&t.task)
}

fn deployment_of(t: &TaskView) -> &str {
    t.task.started_by.as_deref().unwrap_or_default()
}

/// Not STOPPED.
fn live(t: &TaskView) -> bool {
    status(t) != TaskStatus::Stopped
}

/// Asked to stop (or on its way down).
fn stopping(t: &TaskView) -> bool {
    t.task.desired_status.as_deref() == Some(DESIRED_STOPPED) || status(t).is_stopping()
}

/// RUNNING, HEALTHY where its task definition has container health checks (never
/// UNHEALTHY), and with every load balancer target healthy where the service has any.
pub fn healthy(t: &TaskView, health_checked: bool) -> bool {
    let health = t.task.health_status.unwrap_or(HealthStatus::Unknown);
    status(t) == TaskStatus::Running
        && matches!(t.elb, ElbHealth::NotBehind | ElbHealth::Healthy)
        && health != HealthStatus::Unhealthy
        && (!health_checked || health == HealthStatus::Healthy)
}

/// A stopped task counts as a failure of its deployment when it stopped on its own
/// (failed to start, an essential container exited) or for failing its health checks.
pub fn failed(t: &TaskView) -> bool {
    status(t) == TaskStatus::Stopped
        && (matches!(t.task.stop_code, Some(TaskStopCode::TaskFailedToStart | TaskStopCode::EssentialContainerExited))
            || t.task.stopped_reason.as_deref() == Some(UNHEALTHY_REASON)
            || t.task.stopped_reason.as_deref().is_some_and(|r| r.starts_with(ELB_UNHEALTHY_REASON)))
}

/// How long to wait before starting tasks again after `failures` failed tasks in a row:
/// none for the first (a killed task is replaced at once), then 1, 2, 4... s, at most 60 s.
pub fn backoff_secs(failures: u32) -> f64 {
    if failures <= 1 { 0.0 } else { 2f64.powi((failures - 2).min(16) as i32).min(MAX_BACKOFF_SECS) }
}

/// The order in which tasks are given up: not yet healthy first, then the newest.
fn stop_order(tasks: &mut [&TaskView], health_checked: &BTreeSet<String>) {
    tasks.sort_by(|a, b| {
        let ha = healthy(a, health_checked.contains(deployment_of(a)));
        let hb = healthy(b, health_checked.contains(deployment_of(b)));
        let at = a.task.created_at.map_or(0.0, |t| t.as_secs_f64());
        let bt = b.task.created_at.map_or(0.0, |t| t.as_secs_f64());
        ha.cmp(&hb).then(bt.total_cmp(&at)).then(a.id.cmp(&b.id))
    });
}

/// "has started / has stopped N tasks" events, one per batch of at most
/// `TASKS_PER_EVENT` tasks (as ECS launches and stops them 10 at a time).
/// In ECS's words: "has started N tasks", "has stopped N running tasks".
fn task_events(label: &str, verb: &str, noun: &str, ids: &[&str]) -> Vec<String> {
    ids.chunks(TASKS_PER_EVENT)
        .map(|chunk| {
            let list = chunk.iter().map(|id| format!("(task {id})")).collect::<Vec<_>>().join(" ");
            format!("({label}) {verb} {} {noun}: {list}.", chunk.len())
        })
        .collect()
}

/// Decides one step for `rec`. Returns no record when nothing about the service changes.
pub fn plan(rec: &ServiceRecord, input: Inputs<'_>) -> Plan {
    let mut rec = rec.clone();
    let before = rec.clone();
    let now = input.now;
    let name = rec.service.service_name.clone().unwrap_or_default();
    let label = format!("service {name}");
    let mut events: Vec<String> = vec![];
    let mut out = Plan::default();

    let deployment_ids: BTreeSet<String> =
        rec.service.deployments.iter().flatten().filter_map(|d| d.id.clone()).collect();
    let tasks: Vec<&TaskView> = input.tasks.iter().filter(|t| deployment_ids.contains(deployment_of(t))).collect();

    // Failed tasks, each counted once.
    let stopped_ids: BTreeSet<&str> = tasks.iter().filter(|t| !live(t)).map(|t| t.id.as_str()).collect();
    for t in tasks.iter().filter(|t| failed(t)) {
        if rec.tracking.counted_failures.insert(t.id.clone()) {
            rec.tracking.failures_in_a_row += 1;
            let wait = backoff_secs(rec.tracking.failures_in_a_row);
            rec.tracking.retry_after = (wait > 0.0).then(|| Timestamp(now.as_secs_f64() + wait));
            if let Some(d) =
                rec.service.deployments.iter_mut().flatten().find(|d| d.id.as_deref() == Some(deployment_of(t)))
            {
                d.failed_tasks = Some(d.failed_tasks.unwrap_or(0) + 1);
                d.updated_at = Some(now);
            }
        }
    }
    rec.tracking.counted_failures.retain(|id| stopped_ids.contains(id.as_str()));

    let draining_service = rec.service.status.as_deref() == Some(rules::DRAINING);
    if rec.service.status.as_deref() == Some(rules::INACTIVE) {
        return Plan::default();
    }
    if !draining_service {
        circuit_breaker(&mut rec, &label, &mut events, &mut *input.new_deployment_id, now);
    }
    let live_tasks: Vec<&TaskView> = tasks.iter().copied().filter(|t| live(t)).collect();
    let primary_id = rec.service.deployments.iter().flatten().next().and_then(|d| d.id.clone()).unwrap_or_default();
    let checked = rec.tracking.health_checked.clone();
    let grace = f64::from(rec.service.health_check_grace_period_seconds.unwrap_or(0));
    let active_instances: BTreeSet<&str> = input.instances.iter().filter(|i| i.active).map(|i| i.id.as_str()).collect();
    let mut stop: Vec<(&TaskView, String)> = vec![];
    let scaling_reason = format!("Scaling activity initiated by (deployment {primary_id})");

    if draining_service {
        for t in live_tasks.iter().filter(|t| !stopping(t)) {
            stop.push((t, scaling_reason.clone()));
        }
    } else {
        // Tasks failing their health checks after the grace period are replaced.
        for t in live_tasks.iter().filter(|t| !stopping(t)) {
            let started = t.task.started_at.map_or(now.as_secs_f64(), |s| s.as_secs_f64());
            let past_grace = now.as_secs_f64() - started >= grace;
            if t.task.health_status == Some(HealthStatus::Unhealthy) && past_grace {
                stop.push((t, UNHEALTHY_REASON.to_string()));
            } else if let ElbHealth::Unhealthy(group) = &t.elb
                && past_grace
            {
                stop.push((t, format!("{ELB_UNHEALTHY_REASON} in (target-group {group})")));
                events.push(format!("({label}) (task {}) failed ELB health checks in (target-group {group})", t.id));
            }
        }
        let candidates: Vec<&TaskView> =
            live_tasks.iter().copied().filter(|t| !stopping(t) && !stop.iter().any(|(s, _)| s.id == t.id)).collect();
        let config = rec.service.deployment_configuration.clone().unwrap_or_default();
        let min_pct = i64::from(config.minimum_healthy_percent.unwrap_or(100));
        let max_pct = i64::from(config.maximum_percent.unwrap_or(200));
        let in_backoff = rec.tracking.retry_after.is_some_and(|at| at.as_secs_f64() > now.as_secs_f64());
        match rec.service.scheduling_strategy.unwrap_or(SchedulingStrategy::Replica) {
            SchedulingStrategy::Replica => {
                let desired = i64::from(rec.service.desired_count.unwrap_or(0));
                let (mut keep, mut retire): (Vec<&TaskView>, Vec<&TaskView>) = candidates
                    .iter()
                    // A task waiting in PROVISIONING for its capacity provider is on no instance yet.
                    .partition(|t| {
                        deployment_of(t) == primary_id
                            && (active_instances.contains(t.instance_id.as_str()) || t.instance_id.is_empty())
                    });
                stop_order(&mut keep, &checked);
                stop_order(&mut retire, &checked);
                let excess = (keep.len() as i64 - desired).max(0) as usize;
                for t in keep.drain(..excess) {
                    stop.push((t, scaling_reason.clone()));
                }
                let max_total = desired * max_pct / 100;
                let min_healthy = (desired * min_pct + 99) / 100;
                let is_healthy = |t: &TaskView| healthy(t, checked.contains(deployment_of(t)));
                let mut healthy_total = keep.iter().chain(&retire).filter(|t| is_healthy(t)).count() as i64;
                for t in &retire {
                    if !is_healthy(t) {
                        stop.push((t, scaling_reason.clone()));
                    } else if healthy_total > min_healthy {
                        healthy_total -= 1;
                        stop.push((t, scaling_reason.clone()));
                    }
                }
                // Tasks on their way down still count against the maximum until STOPPED
                // (they may hold the host ports the new ones need).
                let total = live_tasks.len() as i64;
                let room = (max_total - total).min(desired - keep.len() as i64);
                if room > 0 && !in_backoff {
                    out.start = (room as usize).min(MAX_START_PER_STEP);
                }
                if let Some(primary) = rec.service.deployments.iter_mut().flatten().next() {
                    primary.desired_count = Some(desired as i32);
                }
            }
            SchedulingStrategy::Daemon => {
                let eligible: Vec<&str> = active_instances.iter().copied().collect();
                let desired = eligible.len() as i64;
                let min_healthy = (desired * min_pct + 99) / 100;
                let is_healthy = |t: &TaskView| healthy(t, checked.contains(deployment_of(t)));
                let mut healthy_total = candidates.iter().filter(|t| is_healthy(t)).count() as i64;
                let mut done: BTreeSet<&str> = BTreeSet::new();
                for t in &candidates {
                    let on_eligible = active_instances.contains(t.instance_id.as_str());
                    let primary = deployment_of(t) == primary_id;
                    if !on_eligible || (primary && !done.insert(t.instance_id.as_str())) {
                        stop.push((t, scaling_reason.clone()));
                    }
                }
                for instance in &eligible {
                    if done.contains(instance) {
                        continue;
                    }
                    let old: Vec<&&TaskView> = candidates
                        .iter()
                        .filter(|t| t.instance_id == *instance && deployment_of(t) != primary_id)
                        .collect();
                    if old.is_empty() {
                        let clear = !live_tasks.iter().any(|t| t.instance_id == *instance && stopping(t));
                        if clear && !in_backoff && out.start_on.len() < MAX_START_PER_STEP {
                            out.start_on.push(instance.to_string());
                        }
                        continue;
                    }
                    for t in old {
                        if !is_healthy(t) {
                            stop.push((t, scaling_reason.clone()));
                        } else if healthy_total > min_healthy {
                            healthy_total -= 1;
                            stop.push((t, scaling_reason.clone()));
                        }
                    }
                }
                rec.service.desired_count = Some(desired as i32);
                if let Some(primary) = rec.service.deployments.iter_mut().flatten().next() {
                    primary.desired_count = Some(desired as i32);
                }
            }
        }
    }

    let stopping_now: BTreeSet<&str> = stop.iter().map(|(t, _)| t.id.as_str()).collect();
    let scheduler_stops: Vec<&str> = stop
        .iter()
        .filter(|(_, r)| r != UNHEALTHY_REASON && !r.starts_with(ELB_UNHEALTHY_REASON))
        .map(|(t, _)| t.id.as_str())
        .collect();
    events.extend(task_events(&label, "has stopped", "running tasks", &scheduler_stops));
    out.stop = stop.iter().map(|(t, r)| (t.id.clone(), r.clone())).collect();

    // Counts, and deployments that are over.
    let mut finished = vec![];
    let mut kept = vec![];
    for (i, mut d) in rec.service.deployments.take().unwrap_or_default().into_iter().enumerate() {
        let mine: Vec<&&TaskView> = live_tasks.iter().filter(|t| Some(deployment_of(t)) == d.id.as_deref()).collect();
        let counts_before = (d.desired_count, d.running_count, d.pending_count);
        d.running_count = Some(mine.iter().filter(|t| status(t) == TaskStatus::Running).count() as i32);
        d.pending_count = Some(mine.iter().filter(|t| status(t).is_pending()).count() as i32);
        if i > 0 {
            d.desired_count =
                Some(mine.iter().filter(|t| !stopping(t) && !stopping_now.contains(t.id.as_str())).count() as i32);
            if mine.is_empty() {
                let status = match d.rollout_state {
                    Some(DeploymentRolloutState::Completed) => ServiceDeploymentStatus::Successful,
                    Some(DeploymentRolloutState::Failed) => ServiceDeploymentStatus::RollbackSuccessful,
                    _ => ServiceDeploymentStatus::Stopped,
                };
                d.status = Some("INACTIVE".into());
                finished.push(FinishedDeployment { deployment: d, status, finished_at: now });
                continue;
            }
        }
        if counts_before != (d.desired_count, d.running_count, d.pending_count) {
            d.updated_at = Some(now);
        }
        kept.push(d);
    }
    rec.service.running_count = Some(kept.iter().map(|d| d.running_count.unwrap_or(0)).sum());
    rec.service.pending_count = Some(kept.iter().map(|d| d.pending_count.unwrap_or(0)).sum());
    rec.service.deployments = Some(kept);
    for f in finished {
        rec.finished.insert(0, f);
    }
    rec.finished.truncate(MAX_FINISHED);

    if draining_service {
        if live_tasks.is_empty() {
            rec.service.status = Some(rules::INACTIVE.into());
        }
    } else {
        completion(&mut rec, &label, &mut events, input.tasks, out.start + out.start_on.len(), now);
    }

    // Health-check bookkeeping only for the deployments still around (and the rollback target).
    let keep_ids: BTreeSet<String> = rec
        .service
        .deployments
        .iter()
        .flatten()
        .chain(rec.tracking.last_completed.as_ref())
        .filter_map(|d| d.id.clone())
        .collect();
    rec.tracking.health_checked.retain(|id| keep_ids.contains(id));

    for message in events {
        let id = (input.new_id)();
        rules::push_event(rec.service.events.get_or_insert_with(Vec::new), message, now, id);
    }
    if rec != before {
        out.record = Some(rec);
    }
    out
}

/// Trips the circuit breaker of the PRIMARY deployment once its failed tasks reach the
/// threshold: rolloutState FAILED and, with rollback, a new PRIMARY deployment on the
/// task definition of the last COMPLETED one.
fn circuit_breaker(
    rec: &mut ServiceRecord,
    label: &str,
    events: &mut Vec<String>,
    new_deployment_id: &mut dyn FnMut() -> String,
    now: Timestamp,
) {
    let breaker = rec.service.deployment_configuration.as_ref().and_then(|c| c.deployment_circuit_breaker.clone());
    let Some(breaker) = breaker.filter(|b| b.enable) else { return };
    let desired = rec.service.desired_count.unwrap_or(0);
    let Some(primary) = rec.service.deployments.iter_mut().flatten().next() else { return };
    if primary.rollout_state != Some(DeploymentRolloutState::InProgress)
        || primary.failed_tasks.unwrap_or(0) < rules::failure_threshold(desired)
    {
        return;
    }
    let failed_id = primary.id.clone().unwrap_or_default();
    primary.rollout_state = Some(DeploymentRolloutState::Failed);
    primary.rollout_state_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
    primary.updated_at = Some(now);
    events.push(format!("({label}) (deployment {failed_id}) deployment failed: tasks failed to start."));
    // A rollback goes back once: a failing deployment of the last completed task
    // definition (a rollback itself) is left FAILED.
    let failed_td = primary.task_definition.clone();
    let Some(target) =
        rec.tracking.last_completed.clone().filter(|t| breaker.rollback && t.task_definition != failed_td)
    else {
        return;
    };
    let target_id = target.id.clone().unwrap_or_default();
    let id = new_deployment_id();
    let mut rollback = rules::new_deployment(NewDeployment {
        id: id.clone(),
        task_definition: target.task_definition.clone().unwrap_or_default(),
        desired_count: desired,
        launch_type: rec.service.launch_type,
        network_configuration: rec.service.network_configuration.as_ref(),
        now,
    });
    rollback.service_connect_configuration = target.service_connect_configuration.clone();
    rollback.volume_configurations = target.volume_configurations.clone();
    rollback.vpc_lattice_configurations = target.vpc_lattice_configurations.clone();
    rules::begin_deployment(&mut rec.service, rollback, now);
    rec.service.task_definition = target.task_definition.clone();
    if rec.tracking.health_checked.contains(&target_id) {
        rec.tracking.health_checked.insert(id);
    }
    rec.tracking.failures_in_a_row = 0;
    rec.tracking.retry_after = None;
    events.push(format!("({label}) rolling back to deployment {target_id}."));
}

/// Marks the PRIMARY deployment COMPLETED once it alone runs the desired count, and
/// records the steady state when the service reaches it.
fn completion(
    rec: &mut ServiceRecord,
    label: &str,
    events: &mut Vec<String>,
    tasks: &[TaskView],
    starting: usize,
    now: Timestamp,
) {
    let desired = rec.service.desired_count.unwrap_or(0);
    let deployments = rec.service.deployments.get_or_insert_with(Vec::new);
    let single = deployments.len() == 1;
    let Some(primary) = deployments.first_mut() else { return };
    let primary_id = primary.id.clone().unwrap_or_default();
    let checked = rec.tracking.health_checked.contains(&primary_id);
    let healthy_count =
        tasks.iter().filter(|t| deployment_of(t) == primary_id && !stopping(t) && healthy(t, checked)).count() as i32;
    let steady = single
        && starting == 0
        && healthy_count == desired
        && primary.running_count == Some(desired)
        && primary.pending_count == Some(0);
    if steady && primary.rollout_state == Some(DeploymentRolloutState::InProgress) {
        primary.rollout_state = Some(DeploymentRolloutState::Completed);
        primary.rollout_state_reason = Some(format!("ECS deployment {primary_id} completed."));
        primary.updated_at = Some(now);
        rec.tracking.last_completed = Some(primary.clone());
        events.push(format!("({label}) (deployment {primary_id}) deployment completed."));
    }
    if steady && !rec.tracking.steady {
        events.push(format!("({label}) has reached a steady state."));
        rec.tracking.failures_in_a_row = 0;
        rec.tracking.retry_after = None;
    }
    rec.tracking.steady = steady;
}

/// Records what starting tasks did: "has started N tasks", or why a task could not be
/// placed (`unplaced`: the scheduler's sentence for the service).
pub fn started(
    rec: &ServiceRecord,
    task_ids: &[String],
    unplaced: Option<String>,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> String,
) -> Option<ServiceRecord> {
    let mut rec = rec.clone();
    let name = rec.service.service_name.clone().unwrap_or_default();
    let events = rec.service.events.get_or_insert_with(Vec::new);
    let mut changed = false;
    let ids: Vec<&str> = task_ids.iter().map(String::as_str).collect();
    for message in task_events(&format!("service {name}"), "has started", "tasks", &ids) {
        changed |= rules::push_event(events, message, now, new_id());
    }
    if let Some(message) = unplaced {
        changed |= rules::push_event(events, message, now, new_id());
    }
    changed.then_some(rec)
}

#[cfg(test)]
mod tests;
