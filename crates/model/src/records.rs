//! What the store holds for objects whose API shape does not carry everything berth
//! keeps about them.

use crate::Timestamp;
use crate::demand::Resources;
use crate::ecs::{
    Cluster, ContainerInstance, Deployment, Failure, NetworkConfiguration, PlacementConstraint, PlacementStrategy,
    Service, ServiceDeploymentStatus, Tag, Task, TaskDefinition,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A registered task definition revision and its tags (DescribeTaskDefinition returns
/// tags beside the definition, not inside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDefinitionRecord {
    #[serde(rename = "taskDefinition")]
    pub task_definition: TaskDefinition,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A task definition family's revision counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyRecord {
    #[serde(rename = "lastRevision")]
    pub last_revision: i32,
}

/// An access key. The secret is sealed (encrypted with the data dir's master key), so
/// the store alone never reveals it; the API never returns it after creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    #[serde(rename = "accessKeyId")]
    pub access_key_id: String,
    /// The identity requests signed with this key act as.
    #[serde(rename = "arn")]
    pub arn: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "account")]
    pub account: String,
    #[serde(rename = "status")]
    pub status: AccessKeyStatus,
    #[serde(rename = "createDate")]
    pub create_date: crate::Timestamp,
    #[serde(rename = "sealedSecret")]
    pub sealed_secret: String,
    /// When the key last signed a request that berth accepted, and for which service and
    /// region (GetAccessKeyLastUsed); kept to the hour, see [`KeyUse::is_due`].
    #[serde(rename = "lastUsed", default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<KeyUse>,
}

/// One use of an access key, as GetAccessKeyLastUsed reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyUse {
    pub date: crate::Timestamp,
    /// The signing name of the service called (`ecs`, `iam`, `sts`...).
    #[serde(rename = "serviceName")]
    pub service_name: String,
    pub region: String,
}

impl KeyUse {
    /// How stale a recorded use may get before a new one is written: AWS itself reports
    /// last use within hours, and writing on every request would double the store's load.
    pub const GRANULARITY_SECS: f64 = 3600.0;

    /// Whether a use at `now` of `service` in `region` is news to `recorded`: nothing was
    /// recorded, the record is older than [`Self::GRANULARITY_SECS`], or it names another
    /// service or region.
    pub fn is_due(recorded: Option<&KeyUse>, now: crate::Timestamp, service: &str, region: &str) -> bool {
        recorded.is_none_or(|r| {
            now.0 - r.date.0 >= Self::GRANULARITY_SECS || r.service_name != service || r.region != region
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

/// A container instance: the API shape as last written (remainingResources, task counts
/// and agentConnected are derived when shown), what it registered, and what the tasks
/// placed on it reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerInstanceRecord {
    #[serde(rename = "containerInstance")]
    pub container_instance: ContainerInstance,
    /// Registered CPU and MEMORY, and the host ports (PORTS, PORTS_UDP) kept from tasks.
    pub registered: Resources,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<String>,
    /// The reservation of each task placed here that has not reported STOPPED, by task id.
    /// Placing a task adds its entry and its STOPPED report removes it, each in the same
    /// transaction as the task's own write.
    #[serde(default)]
    pub reservations: BTreeMap<String, Resources>,
    /// The instance's address (its identity document's privateIp): where load balancers
    /// reach its tasks' host ports as instance targets.
    #[serde(rename = "privateIp", default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<std::net::IpAddr>,
}

impl ContainerInstanceRecord {
    pub const ACTIVE: &str = "ACTIVE";
    pub const DRAINING: &str = "DRAINING";
    pub const INACTIVE: &str = "INACTIVE";

    /// What the instance's tasks hold in total.
    pub fn reserved(&self) -> Resources {
        Resources::sum(self.reservations.values())
    }

    /// ACTIVE, DRAINING or INACTIVE (a record without one is ACTIVE).
    pub fn status(&self) -> &str {
        self.container_instance.status.as_deref().unwrap_or(Self::ACTIVE)
    }

    pub fn is_active(&self) -> bool {
        self.status() == Self::ACTIVE
    }

    /// Deregistered: kept, but given no tasks and not counted.
    pub fn is_inactive(&self) -> bool {
        self.status() == Self::INACTIVE
    }

    /// The instance's id (the last segment of its ARN).
    pub fn id(&self) -> String {
        self.container_instance
            .container_instance_arn
            .as_deref()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or_default()
            .into()
    }

    /// Bumps the version counter: every change a CloudWatch event would report.
    pub fn bump(&mut self) {
        let v = &mut self.container_instance.version;
        *v = Some(v.unwrap_or(0) + 1);
    }

    /// The value of one of the instance's attributes.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.container_instance.attributes.iter().flatten().find(|a| a.name == name).and_then(|a| a.value.as_deref())
    }
}

impl Cluster {
    pub const ACTIVE: &str = "ACTIVE";
    pub const INACTIVE: &str = "INACTIVE";

    /// Deleted clusters are kept INACTIVE; only ACTIVE ones take requests.
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some(Self::ACTIVE)
    }
}

/// A task, and what berth keeps about it beyond the API shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task: Task,
    pub placement: Placement,
    /// As given to RunTask (the Task shape has no member for them).
    #[serde(rename = "placementConstraints", default, skip_serializing_if = "Vec::is_empty")]
    pub placement_constraints: Vec<PlacementConstraint>,
    #[serde(rename = "placementStrategy", default, skip_serializing_if = "Vec::is_empty")]
    pub placement_strategy: Vec<PlacementStrategy>,
    #[serde(rename = "networkConfiguration", default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
}

/// The few members of a stored `TaskRecord` that counting and routing need, read
/// without decoding the rest (serde skips it): what scans over every task of a cluster
/// decode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskSummary {
    pub task: TaskSummaryTask,
    pub placement: TaskSummaryPlacement,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskSummaryTask {
    #[serde(rename = "lastStatus")]
    pub last_status: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskSummaryPlacement {
    #[serde(rename = "containerInstanceId")]
    pub container_instance_id: String,
}

/// Where a task was placed and what it reserves there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    #[serde(rename = "containerInstanceId")]
    pub container_instance_id: String,
    pub reserved: Resources,
}

/// What a RunTask with a clientToken answered, so that a retry answers the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientTokenRecord {
    #[serde(rename = "taskArns")]
    pub task_arns: Vec<String>,
    #[serde(default)]
    pub failures: Vec<Failure>,
}

/// A service: the API shape (deployments and events included) and what the API and the
/// service controller keep beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub service: Service,
    /// The CreateService clientToken, so that a retry with it answers the same service.
    #[serde(rename = "clientToken", default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Deployments that left `service.deployments`, newest first (ListServiceDeployments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished: Vec<FinishedDeployment>,
    #[serde(default)]
    pub tracking: ServiceTracking,
}

/// A deployment that is over, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedDeployment {
    pub deployment: Deployment,
    pub status: ServiceDeploymentStatus,
    #[serde(rename = "finishedAt")]
    pub finished_at: Timestamp,
}

/// The service controller's bookkeeping, committed with the service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceTracking {
    /// Ids of the service's stopped tasks already counted as failures (each is counted
    /// once; ids of tasks no longer stored are dropped).
    #[serde(rename = "countedFailures", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub counted_failures: BTreeSet<String>,
    /// Failed tasks since the service was last steady: the back-off grows with it.
    #[serde(rename = "failuresInARow", default)]
    pub failures_in_a_row: u32,
    /// No task is started before this (back-off after failures).
    #[serde(rename = "retryAfter", default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Timestamp>,
    /// Whether the service was steady when last looked at (the steady-state event is
    /// recorded when it becomes so).
    #[serde(default)]
    pub steady: bool,
    /// The deployments whose task definition has container health checks (a task of
    /// one counts as healthy only once HEALTHY).
    #[serde(rename = "healthChecked", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub health_checked: BTreeSet<String>,
    /// The last deployment that COMPLETED: where a circuit-breaker rollback goes back to.
    #[serde(rename = "lastCompleted", default, skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<Deployment>,
    /// The load balancer targets registered for each task (task id → targets), so that
    /// they are deregistered before the task stops.
    #[serde(rename = "lbTargets", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lb_targets: BTreeMap<String, Vec<ServiceTarget>>,
    /// Tasks deregistered from their target groups and draining: stopped at that time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub draining: BTreeMap<String, Timestamp>,
}

/// A target a service registered for one of its tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTarget {
    #[serde(rename = "targetGroupArn")]
    pub target_group_arn: String,
    pub id: String,
    pub port: i32,
}

#[cfg(test)]
mod key_use_tests {
    use super::KeyUse;
    use crate::Timestamp;

    #[test]
    fn a_use_is_written_when_new_stale_or_elsewhere() {
        let at = |secs| Timestamp(1_000_000.0 + secs);
        let recorded = KeyUse { date: at(0.0), service_name: "ecs".into(), region: "us-east-1".into() };
        assert!(KeyUse::is_due(None, at(0.0), "ecs", "us-east-1"));
        assert!(!KeyUse::is_due(Some(&recorded), at(3599.0), "ecs", "us-east-1"));
        assert!(KeyUse::is_due(Some(&recorded), at(3600.0), "ecs", "us-east-1"));
        assert!(KeyUse::is_due(Some(&recorded), at(1.0), "sts", "us-east-1"));
        assert!(KeyUse::is_due(Some(&recorded), at(1.0), "ecs", "eu-west-1"));
    }
}
