//! ECS capacity providers backed by Auto Scaling groups: the stored record, the rules
//! CreateCapacityProvider and UpdateCapacityProvider apply (`validate`), how a capacity
//! provider strategy shares tasks out (`split`), and managed scaling's arithmetic
//! (`scaling`: the CapacityProviderReservation metric and the group's new desired
//! capacity). Pure: no I/O.

pub mod scaling;
pub mod split;
pub mod validate;

use crate::Timestamp;
use crate::ecs::{CapacityProvider, ManagedScaling, ManagedScalingStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The providers every cluster may name without creating them (Fargate's).
pub const BUILT_IN: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];

/// Whether `name` is one of Fargate's built-in providers.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.contains(&name)
}

/// ECS's defaults for managed scaling's members.
pub const DEFAULT_TARGET_CAPACITY: i32 = 100;
pub const DEFAULT_MIN_STEP: i32 = 1;
pub const DEFAULT_MAX_STEP: i32 = 10_000;
pub const DEFAULT_WARMUP_SECS: i32 = 300;

/// A capacity provider as stored: the API shape as DescribeCapacityProviders shows it
/// (tags included), the group it scales, and managed scaling's bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityProviderRecord {
    pub provider: CapacityProvider,
    /// The Auto Scaling group's name (from `autoScalingGroupArn`).
    #[serde(rename = "groupName")]
    pub group_name: String,
    /// The target tracking policy ECS puts on the group (`ECSManagedAutoScalingPolicy-<uuid>`).
    #[serde(rename = "policyName", default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// Since when each EC2 instance of the group has had no task but daemon tasks: an
    /// instance is scaled in only after it has been empty for the server's scale-in delay.
    #[serde(rename = "emptySince", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub empty_since: BTreeMap<String, Timestamp>,
    /// The last CapacityProviderReservation computed (percent).
    #[serde(rename = "lastReservation", default, skip_serializing_if = "Option::is_none")]
    pub last_reservation: Option<f64>,
}

impl CapacityProviderRecord {
    pub fn name(&self) -> &str {
        self.provider.name.as_deref().unwrap_or_default()
    }

    pub fn is_active(&self) -> bool {
        self.provider.status == Some(crate::ecs::CapacityProviderStatus::Active)
    }

    /// Managed scaling as configured, ECS's defaults filled in.
    pub fn managed_scaling(&self) -> ManagedScaling {
        with_defaults(self.provider.auto_scaling_group_provider.as_ref().and_then(|g| g.managed_scaling.clone()))
    }

    pub fn scaling_enabled(&self) -> bool {
        self.managed_scaling().status == Some(ManagedScalingStatus::Enabled)
    }

    pub fn termination_protection(&self) -> bool {
        self.provider.auto_scaling_group_provider.as_ref().and_then(|g| g.managed_termination_protection)
            == Some(crate::ecs::ManagedTerminationProtection::Enabled)
    }
}

/// Managed scaling with every member ECS shows filled in: absent, it is DISABLED.
pub fn with_defaults(given: Option<ManagedScaling>) -> ManagedScaling {
    let present = given.is_some();
    let g = given.unwrap_or_default();
    ManagedScaling {
        status: Some(g.status.unwrap_or(if present {
            ManagedScalingStatus::Enabled
        } else {
            ManagedScalingStatus::Disabled
        })),
        target_capacity: Some(g.target_capacity.unwrap_or(DEFAULT_TARGET_CAPACITY)),
        minimum_scaling_step_size: Some(g.minimum_scaling_step_size.unwrap_or(DEFAULT_MIN_STEP)),
        maximum_scaling_step_size: Some(g.maximum_scaling_step_size.unwrap_or(DEFAULT_MAX_STEP)),
        instance_warmup_period: Some(g.instance_warmup_period.unwrap_or(DEFAULT_WARMUP_SECS)),
    }
}

/// The group name an `autoScalingGroupArn` names (ECS takes the ARN, or the name).
/// An ARN of another region, partition or account names no group here.
pub fn group_name<'a>(scope: &crate::arn::Scope, arn_or_name: &'a str) -> Option<&'a str> {
    if arn_or_name.starts_with("arn:") {
        let arn = scope.resolve(arn_or_name, "autoscaling")?;
        let name = arn.resource.split_once(":autoScalingGroupName/")?.1;
        (!name.is_empty()).then_some(name)
    } else {
        (!arn_or_name.is_empty()).then_some(arn_or_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_come_from_arns_or_names() {
        let arn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0b6e5e6a-1b2c-4d5e-8f90-1234567890ab:autoScalingGroupName/gpu-asg";
        let scope = crate::arn::Scope::new("us-east-1", "123456789012");
        assert_eq!(group_name(&scope, arn), Some("gpu-asg"));
        assert_eq!(group_name(&scope, "gpu-asg"), Some("gpu-asg"));
        assert_eq!(group_name(&scope, "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x"), None);
        assert_eq!(group_name(&scope, &arn.replace("us-east-1", "eu-west-1")), None);
        assert_eq!(group_name(&scope, ""), None);
    }

    #[test]
    fn managed_scaling_defaults_are_ecs_ones() {
        let off = with_defaults(None);
        assert_eq!(off.status, Some(ManagedScalingStatus::Disabled));
        assert_eq!(off.target_capacity, Some(100));
        assert_eq!(off.maximum_scaling_step_size, Some(10_000));
        assert_eq!(off.instance_warmup_period, Some(300));
        let on = with_defaults(Some(ManagedScaling { target_capacity: Some(80), ..Default::default() }));
        assert_eq!(
            (on.status, on.target_capacity, on.minimum_scaling_step_size),
            (Some(ManagedScalingStatus::Enabled), Some(80), Some(1))
        );
    }
}
