//! Fargate's managed capacity: the pool agents hosts run per cluster (hidden container
//! instances that take only Fargate tasks) and FARGATE_SPOT's interruption. Pure: no I/O.

use crate::ecs::{LaunchType, Task, TaskStopCode};
use crate::records::ContainerInstanceRecord;
use serde::{Deserialize, Serialize};

/// The attribute a host's Fargate pool agent registers with (its value: the host id).
/// Such container instances run Fargate tasks only and appear in no ECS listing.
pub const POOL_ATTRIBUTE: &str = "berth.fargate-pool";

/// The platformFamily Fargate tasks show (berth runs Linux containers).
pub const PLATFORM_FAMILY: &str = "Linux";

/// A Fargate task's ephemeral storage when its definition asks for none (ECS's 20 GiB).
pub const DEFAULT_EPHEMERAL_STORAGE_GIB: i32 = 20;

/// The stoppedReason of a FARGATE_SPOT task whose capacity is reclaimed (ECS's words).
pub const SPOT_INTERRUPTED_REASON: &str = "Your Spot Task was interrupted.";

/// The capacity provider whose tasks can be interrupted.
pub const SPOT_PROVIDER: &str = "FARGATE_SPOT";

/// Whether `rec` is a host's Fargate pool agent (hidden, Fargate tasks only).
pub fn is_pool(rec: &ContainerInstanceRecord) -> bool {
    rec.attribute(POOL_ATTRIBUTE).is_some()
}

/// Whether a task of this launch runs on Fargate's pool rather than on container instances.
pub fn is_fargate(launch_type: Option<LaunchType>) -> bool {
    launch_type == Some(LaunchType::Fargate)
}

/// Whether reclaiming spot capacity interrupts `task`: a FARGATE_SPOT task not yet
/// asked to stop.
pub fn interruptible(task: &Task) -> bool {
    task.capacity_provider_name.as_deref() == Some(SPOT_PROVIDER) && task.desired_status.as_deref() != Some("STOPPED")
}

/// The stop code and reason an interrupted spot task stops with.
pub fn spot_interruption() -> (TaskStopCode, &'static str) {
    (TaskStopCode::SpotInterruption, SPOT_INTERRUPTED_REASON)
}

/// `InterruptSpotTasks` (berth's agent protocol, `BerthAgent_V1`): an administrator
/// reclaims FARGATE_SPOT capacity in a cluster, as AWS does when it needs the capacity
/// back. Every spot task of the cluster (or only those named) gets ECS's two-minute
/// warning: a stop with stopCode SpotInterruption, so its containers get SIGTERM and
/// are stopped after their stopTimeout (at most 120 s on Fargate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterruptSpotTasksRequest {
    pub cluster: String,
    /// Task ARNs or ids; absent or empty: every FARGATE_SPOT task of the cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterruptSpotTasksResponse {
    /// The ARNs of the tasks interrupted.
    #[serde(rename = "taskArns")]
    pub task_arns: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::{Attribute, ContainerInstance};

    #[test]
    fn pool_instances_carry_the_attribute() {
        let rec = |attributes: Vec<Attribute>| ContainerInstanceRecord {
            container_instance: ContainerInstance { attributes: Some(attributes), ..Default::default() },
            registered: Default::default(),
            gpus: vec![],
            reservations: Default::default(),
            private_ip: None,
        };
        let attribute =
            |name: &str| Attribute { name: name.into(), value: Some("h-1".into()), target_type: None, target_id: None };
        assert!(!is_pool(&rec(vec![attribute("ecs.os-type")])));
        assert!(is_pool(&rec(vec![attribute(POOL_ATTRIBUTE)])));
    }

    #[test]
    fn only_live_spot_tasks_are_interrupted() {
        let task = |p: &str, desired: &str| Task {
            capacity_provider_name: Some(p.into()),
            desired_status: Some(desired.into()),
            ..Default::default()
        };
        assert!(interruptible(&task("FARGATE_SPOT", "RUNNING")));
        assert!(!interruptible(&task("FARGATE", "RUNNING")));
        assert!(!interruptible(&task("FARGATE_SPOT", "STOPPED")));
        assert_eq!(spot_interruption().1, "Your Spot Task was interrupted.");
    }
}
