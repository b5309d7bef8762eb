//! The group as berth stores it (`keys::group`): what CreateAutoScalingGroup and the
//! updates after it said, the instances the group holds with their lifecycle states, its
//! lifecycle hooks, scaling policies and recent activities, and the group controller's
//! bookkeeping. DescribeAutoScalingGroups shows `shown()`.

use super::{
    Activity, AutoScalingGroup, AutoScalingInstanceDetails, Instance, LaunchTemplateSpecification, LifecycleHook,
    LifecycleState, MixedInstancesPolicy, ScalingPolicy, SuspendedProcess, TagDescription,
};
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `Status` while a DeleteAutoScalingGroup is under way.
pub const DELETE_IN_PROGRESS: &str = "Delete in progress";
/// HealthStatus values.
pub const HEALTHY: &str = "Healthy";
pub const UNHEALTHY: &str = "Unhealthy";
/// How many activities a group keeps (newest first); Auto Scaling keeps six weeks' worth.
pub const ACTIVITIES_KEPT: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoScalingGroupRecord {
    pub name: String,
    /// `arn:aws:autoscaling:REGION:ACCT:autoScalingGroup:UUID:autoScalingGroupName/NAME`.
    pub arn: String,
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateSpecification>,
    /// Stored and shown; instances launch from its launch template.
    #[serde(default)]
    pub mixed_instances_policy: Option<MixedInstancesPolicy>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    pub default_cooldown: i32,
    /// The subnets, in the order given (VPCZoneIdentifier).
    #[serde(default)]
    pub vpc_zone_identifier: Vec<String>,
    /// The zones of those subnets (or the ones given without subnets), in first-seen order.
    #[serde(default)]
    pub availability_zones: Vec<String>,
    /// subnet id → its availability zone.
    #[serde(default)]
    pub subnet_zones: BTreeMap<String, String>,
    pub health_check_type: String,
    pub health_check_grace_period: i32,
    pub termination_policies: Vec<String>,
    #[serde(default)]
    pub new_instances_protected_from_scale_in: bool,
    #[serde(default)]
    pub capacity_rebalance: bool,
    #[serde(default)]
    pub max_instance_lifetime: Option<i32>,
    #[serde(default)]
    pub default_instance_warmup: Option<i32>,
    #[serde(default)]
    pub context: Option<String>,
    /// Tags with ResourceId, ResourceType `auto-scaling-group` and PropagateAtLaunch.
    #[serde(default)]
    pub tags: Vec<TagDescription>,
    #[serde(default)]
    pub instances: Vec<GroupInstance>,
    /// None, or `Delete in progress`.
    #[serde(default)]
    pub status: Option<String>,
    pub created_time: Timestamp,
    pub service_linked_role_arn: String,
    #[serde(default)]
    pub lifecycle_hooks: Vec<LifecycleHook>,
    #[serde(default)]
    pub suspended_processes: Vec<SuspendedProcess>,
    #[serde(default)]
    pub policies: Vec<ScalingPolicy>,
    /// Newest first, at most `ACTIVITIES_KEPT`.
    #[serde(default)]
    pub activities: Vec<Activity>,
    /// Why the desired capacity last changed, the first sentence of the cause of the
    /// activities that follow it ("At T a user request explicitly set group desired
    /// capacity changing the desired capacity from 2 to 3."); taken by the first one.
    #[serde(default)]
    pub desired_cause: Option<String>,
    /// When the last scaling activity ended (the cooldown's start).
    #[serde(default)]
    pub last_scaled: Option<Timestamp>,
    /// How many launches the group has asked EC2 for: the next launch's client token is
    /// `{arn uuid}-{launches}`, so a launch repeated after a crash is the same launch.
    #[serde(default)]
    pub launches: u64,
    /// After a failed launch, no new launch before this (Auto Scaling backs off too).
    #[serde(default)]
    pub launch_retry_after: Option<Timestamp>,
}

/// One instance of the group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupInstance {
    pub instance_id: String,
    #[serde(default)]
    pub instance_type: Option<String>,
    pub availability_zone: String,
    #[serde(default)]
    pub subnet_id: Option<String>,
    pub lifecycle_state: LifecycleState,
    /// `Healthy` or `Unhealthy`.
    pub health_status: String,
    pub protected_from_scale_in: bool,
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateSpecification>,
    /// When the group launched it.
    pub launched_at: Timestamp,
    /// The activity that launched (or is terminating) it, to finish when it gets there.
    #[serde(default)]
    pub activity_id: Option<String>,
}

impl GroupInstance {
    /// Counts toward the group's capacity: launching or in service (AWS counts Pending
    /// instances as capacity on its way), not leaving.
    pub fn in_capacity(&self) -> bool {
        matches!(
            self.lifecycle_state,
            LifecycleState::Pending
                | LifecycleState::PendingWait
                | LifecycleState::PendingProceed
                | LifecycleState::InService
        )
    }

    pub fn is_terminating(&self) -> bool {
        matches!(
            self.lifecycle_state,
            LifecycleState::Terminating | LifecycleState::TerminatingWait | LifecycleState::TerminatingProceed
        )
    }

    pub fn is_healthy(&self) -> bool {
        self.health_status == HEALTHY
    }

    /// The instance as DescribeAutoScalingGroups lists it.
    pub fn shown(&self) -> Instance {
        Instance {
            instance_id: self.instance_id.clone(),
            instance_type: self.instance_type.clone(),
            availability_zone: self.availability_zone.clone(),
            availability_zone_id: None,
            lifecycle_state: self.lifecycle_state,
            health_status: self.health_status.clone(),
            launch_configuration_name: None,
            launch_template: self.launch_template.clone(),
            image_id: None,
            protected_from_scale_in: self.protected_from_scale_in,
            weighted_capacity: None,
        }
    }

    /// The instance as DescribeAutoScalingInstances shows it (HealthStatus in capitals there).
    pub fn details(&self, group: &str) -> AutoScalingInstanceDetails {
        AutoScalingInstanceDetails {
            instance_id: self.instance_id.clone(),
            instance_type: self.instance_type.clone(),
            auto_scaling_group_name: group.to_string(),
            availability_zone: self.availability_zone.clone(),
            availability_zone_id: None,
            lifecycle_state: self.lifecycle_state.as_str().to_string(),
            health_status: self.health_status.to_uppercase(),
            launch_configuration_name: None,
            launch_template: self.launch_template.clone(),
            image_id: None,
            protected_from_scale_in: self.protected_from_scale_in,
            weighted_capacity: None,
        }
    }
}

impl AutoScalingGroupRecord {
    pub fn is_deleting(&self) -> bool {
        self.status.as_deref() == Some(DELETE_IN_PROGRESS)
    }

    /// The uuid in the group's ARN.
    pub fn uuid(&self) -> &str {
        self.arn.split(':').nth(6).unwrap_or_default()
    }

    pub fn instance(&self, id: &str) -> Option<&GroupInstance> {
        self.instances.iter().find(|i| i.instance_id == id)
    }

    pub fn instance_mut(&mut self, id: &str) -> Option<&mut GroupInstance> {
        self.instances.iter_mut().find(|i| i.instance_id == id)
    }

    /// Instances that count toward the desired capacity.
    pub fn capacity(&self) -> usize {
        self.instances.iter().filter(|i| i.in_capacity()).count()
    }

    /// Whether `process` (Launch, Terminate, ReplaceUnhealthy, AZRebalance, ...) is suspended.
    pub fn is_suspended(&self, process: &str) -> bool {
        self.suspended_processes.iter().any(|p| p.process_name.as_deref() == Some(process))
    }

    /// Records an activity (newest first), keeping at most `ACTIVITIES_KEPT`.
    pub fn record_activity(&mut self, activity: Activity) {
        self.activities.insert(0, activity);
        self.activities.truncate(ACTIVITIES_KEPT);
    }

    pub fn activity_mut(&mut self, id: &str) -> Option<&mut Activity> {
        self.activities.iter_mut().find(|a| a.activity_id == id)
    }

    /// Tags that instances launched by the group get (PropagateAtLaunch).
    pub fn propagated_tags(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .filter(|t| t.propagate_at_launch == Some(true))
            .filter_map(|t| Some((t.key.clone()?, t.value.clone().unwrap_or_default())))
            .collect()
    }

    /// The group as DescribeAutoScalingGroups answers it.
    pub fn shown(&self) -> AutoScalingGroup {
        AutoScalingGroup {
            auto_scaling_group_name: self.name.clone(),
            auto_scaling_group_arn: Some(self.arn.clone()),
            launch_template: self.launch_template.clone(),
            mixed_instances_policy: self.mixed_instances_policy.clone(),
            min_size: self.min_size,
            max_size: self.max_size,
            desired_capacity: self.desired_capacity,
            default_cooldown: self.default_cooldown,
            availability_zones: self.availability_zones.clone(),
            load_balancer_names: Some(vec![]),
            target_group_ar_ns: Some(vec![]),
            health_check_type: self.health_check_type.clone(),
            health_check_grace_period: Some(self.health_check_grace_period),
            instances: Some(
                self.instances
                    .iter()
                    .filter(|i| i.lifecycle_state != LifecycleState::Terminated)
                    .map(GroupInstance::shown)
                    .collect(),
            ),
            created_time: self.created_time,
            suspended_processes: Some(self.suspended_processes.clone()),
            vpc_zone_identifier: Some(self.vpc_zone_identifier.join(",")),
            enabled_metrics: Some(vec![]),
            status: self.status.clone(),
            tags: Some(self.tags.clone()),
            termination_policies: Some(self.termination_policies.clone()),
            new_instances_protected_from_scale_in: Some(self.new_instances_protected_from_scale_in),
            service_linked_role_arn: Some(self.service_linked_role_arn.clone()),
            max_instance_lifetime: self.max_instance_lifetime,
            capacity_rebalance: Some(self.capacity_rebalance),
            context: self.context.clone(),
            default_instance_warmup: self.default_instance_warmup,
            traffic_sources: Some(vec![]),
            ..AutoScalingGroup::default_for(&self.name, self.created_time)
        }
    }
}

impl AutoScalingGroup {
    /// An empty group shape with its required members, for struct updates.
    fn default_for(name: &str, created_time: Timestamp) -> Self {
        AutoScalingGroup {
            auto_scaling_group_name: name.to_string(),
            auto_scaling_group_arn: None,
            launch_configuration_name: None,
            launch_template: None,
            mixed_instances_policy: None,
            min_size: 0,
            max_size: 0,
            desired_capacity: 0,
            predicted_capacity: None,
            default_cooldown: 0,
            availability_zones: vec![],
            availability_zone_ids: None,
            load_balancer_names: None,
            target_group_ar_ns: None,
            health_check_type: String::new(),
            health_check_grace_period: None,
            instances: None,
            created_time,
            suspended_processes: None,
            placement_group: None,
            vpc_zone_identifier: None,
            enabled_metrics: None,
            status: None,
            tags: None,
            termination_policies: None,
            new_instances_protected_from_scale_in: None,
            service_linked_role_arn: None,
            max_instance_lifetime: None,
            capacity_rebalance: None,
            warm_pool_configuration: None,
            warm_pool_size: None,
            context: None,
            desired_capacity_type: None,
            default_instance_warmup: None,
            traffic_sources: None,
            instance_maintenance_policy: None,
            deletion_protection: None,
            availability_zone_distribution: None,
            availability_zone_impairment_policy: None,
            capacity_reservation_specification: None,
            instance_lifecycle_policy: None,
            operator: None,
        }
    }
}
