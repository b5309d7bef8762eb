//! The cluster as placement sees it: each instance's `InstanceSnapshot` (what it
//! registered, what its tasks reserve, its attributes, task groups and connectivity).
//!
//! This module is the one entry point through which launches read a cluster
//! (`snapshots`). Today it reads the store on every call; a later change keeps the
//! cluster's instances in memory (kept current from a store watch) so that placement
//! runs at the scheduler's speed, and that view belongs here, behind `snapshots`, with
//! the commit's compare-and-swap on the instances' `mod_revision`s still the arbiter.

use crate::{Ecs, EcsError, load};
use berth_model::cluster_query;
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, TaskSummary};
use berth_model::task_lifecycle::TaskStatus;
use berth_scheduler::InstanceSnapshot;
use berth_store::documents::{self, Doc};
use std::collections::{BTreeMap, HashMap};

/// The not-yet-STOPPED tasks of one instance, counted as ECS shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceTasks {
    /// lastStatus RUNNING.
    pub running: i32,
    /// lastStatus before RUNNING (PROVISIONING, PENDING, ACTIVATING).
    pub pending: i32,
    /// Task group → number of not-yet-STOPPED tasks.
    pub groups: BTreeMap<String, u32>,
}

/// Each instance's not-yet-STOPPED tasks, by instance id.
pub async fn by_instance(ecs: &Ecs, cluster: &str) -> Result<HashMap<String, InstanceTasks>, EcsError> {
    let mut out: HashMap<String, InstanceTasks> = HashMap::new();
    for doc in documents::list::<TaskSummary>(ecs.store(), &keys::tasks_of(cluster)).await? {
        let TaskSummary { task, placement } = doc.value;
        let status = task.last_status.as_deref().and_then(TaskStatus::parse).unwrap_or(TaskStatus::Provisioning);
        if status == TaskStatus::Stopped {
            continue;
        }
        let entry = out.entry(placement.container_instance_id).or_default();
        if status == TaskStatus::Running {
            entry.running += 1;
        } else if status.is_pending() {
            entry.pending += 1;
        }
        if let Some(group) = task.group {
            *entry.groups.entry(group).or_default() += 1;
        }
    }
    Ok(out)
}

/// The cluster's instances as stored, and as placement sees them (same order).
pub async fn snapshots(
    ecs: &Ecs,
    cluster: &str,
) -> Result<(Vec<Doc<ContainerInstanceRecord>>, Vec<InstanceSnapshot>), EcsError> {
    let records = load::all_instances(ecs, cluster).await?;
    let stats = by_instance(ecs, cluster).await?;
    let snapshots = records.iter().map(|d| snapshot(ecs, &d.value, &stats)).collect();
    Ok((records, snapshots))
}

/// One instance as placement sees it.
fn snapshot(ecs: &Ecs, rec: &ContainerInstanceRecord, stats: &HashMap<String, InstanceTasks>) -> InstanceSnapshot {
    let ci = &rec.container_instance;
    let counts = stats.get(&rec.id());
    InstanceSnapshot {
        gpus: rec.gpus.clone(),
        ec2_instance_id: ci.ec2_instance_id.clone().unwrap_or_default(),
        running_tasks_count: counts.map_or(0, |c| u32::try_from(c.running).unwrap_or(0)),
        agent_connected: ecs.connected(rec),
        agent_version: ci.version_info.as_ref().and_then(|v| v.agent_version.clone()).unwrap_or_default(),
        registered_at: ci.registered_at.map(cluster_query::iso8601).unwrap_or_default(),
        arn: ci.container_instance_arn.clone().unwrap_or_default(),
        active: rec.is_active(),
        registered: rec.registered.clone(),
        reserved: rec.reserved(),
        attributes: ci.attributes.iter().flatten().map(|a| (a.name.clone(), a.value.clone())).collect(),
        task_groups: counts.map(|s| s.groups.clone()).unwrap_or_default(),
    }
}
