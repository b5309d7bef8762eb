//! What Auto Scaling checks of its input before anything is stored, with its messages.

use super::{AsgError, LifecycleHook, PutLifecycleHookType, PutScalingPolicyType, Tag, TagDescription};

/// The tag ResourceType of a group.
pub const GROUP_RESOURCE_TYPE: &str = "auto-scaling-group";
/// Auto Scaling's quota of tags per group.
pub const TAGS_MAX: usize = 50;
/// Lifecycle hooks per group.
pub const HOOKS_MAX: usize = 50;
/// Scaling policies per group.
pub const POLICIES_MAX: usize = 50;

pub const TERMINATION_POLICIES: &[&str] = &[
    "Default",
    "OldestInstance",
    "NewestInstance",
    "OldestLaunchConfiguration",
    "OldestLaunchTemplate",
    "ClosestToNextInstanceHour",
    "AllocationStrategy",
];

pub const HEALTH_CHECK_TYPES: &[&str] = &["EC2", "ELB", "VPC_LATTICE", "EBS"];

/// The processes Suspend/ResumeProcesses name (DescribeScalingProcessTypes).
pub const PROCESSES: &[&str] = &[
    "Launch",
    "Terminate",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "HealthCheck",
    "InstanceRefresh",
    "ReplaceUnhealthy",
    "ScheduledActions",
];

pub const LAUNCHING: &str = "autoscaling:EC2_INSTANCE_LAUNCHING";
pub const TERMINATING: &str = "autoscaling:EC2_INSTANCE_TERMINATING";
pub const HOOK_TRANSITIONS: &[&str] = &[LAUNCHING, TERMINATING];

pub const POLICY_TYPES: &[&str] = &["SimpleScaling", "StepScaling", "TargetTrackingScaling", "PredictiveScaling"];
pub const ADJUSTMENT_TYPES: &[&str] = &["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"];

/// A group name (also a hook or policy name): 1-255 characters, no control characters
/// other than tab and newlines.
pub fn name(value: &str, member: &str) -> Result<(), AsgError> {
    let len = value.chars().count();
    if len == 0 || len > 255 {
        return Err(AsgError::validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length between 1 and 255"
        )));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(AsgError::validation(format!("{member} '{}' contains a control character.", value.escape_debug())));
    }
    Ok(())
}

/// Min, max and desired as a group must hold them.
pub fn sizes(min: i32, max: i32, desired: i32) -> Result<(), AsgError> {
    if min < 0 || max < 0 || desired < 0 {
        return Err(AsgError::validation(format!(
            "MinSize ({min}), MaxSize ({max}) and DesiredCapacity ({desired}) must not be negative."
        )));
    }
    if min > max {
        return Err(AsgError::validation(format!(
            "Max bound, {max}, must be greater than or equal to min bound, {min}"
        )));
    }
    if desired < min || desired > max {
        return Err(AsgError::validation(format!(
            "Desired capacity:{desired} must be between the specified min size:{min} and max size:{max}"
        )));
    }
    Ok(())
}

/// Seconds that must not be negative (cooldown, grace period, warm-up).
pub fn seconds(value: i32, member: &str) -> Result<(), AsgError> {
    if value < 0 {
        return Err(AsgError::validation(format!("{member} must be greater than or equal to 0 (it is {value}).")));
    }
    Ok(())
}

pub fn termination_policies(policies: &[String]) -> Result<(), AsgError> {
    match policies.iter().find(|p| !TERMINATION_POLICIES.contains(&p.as_str()) && !p.starts_with("arn:aws:lambda:")) {
        Some(p) => Err(AsgError::validation(format!(
            "Termination policy '{p}' is not valid: use one of {}.",
            TERMINATION_POLICIES.join(", ")
        ))),
        None => Ok(()),
    }
}

pub fn health_check_type(value: &str) -> Result<(), AsgError> {
    if !HEALTH_CHECK_TYPES.contains(&value) {
        return Err(AsgError::validation(format!(
            "Health check type '{value}' is not valid: use one of {}.",
            HEALTH_CHECK_TYPES.join(", ")
        )));
    }
    Ok(())
}

pub fn processes(names: &[String]) -> Result<(), AsgError> {
    match names.iter().find(|p| !PROCESSES.contains(&p.as_str())) {
        Some(p) => Err(AsgError::validation(format!(
            "Process '{p}' is not a valid process: use one of {}.",
            PROCESSES.join(", ")
        ))),
        None => Ok(()),
    }
}

/// The VPCZoneIdentifier list: comma-separated subnet ids, spaces allowed around them.
pub fn subnet_list(value: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// Tags as given to CreateAutoScalingGroup or CreateOrUpdateTags, for the group `group`:
/// each names that group as a group resource and follows AWS's tag rules (`crate::tags`).
pub fn tags_for(group: &str, tags: &[Tag]) -> Result<Vec<TagDescription>, AsgError> {
    tags.iter()
        .map(|t| {
            if t.resource_type.as_deref().is_some_and(|r| r != GROUP_RESOURCE_TYPE) {
                return Err(AsgError::validation(format!(
                    "Invalid resource type '{}': tags apply to resources of type {GROUP_RESOURCE_TYPE}.",
                    t.resource_type.as_deref().unwrap_or_default()
                )));
            }
            if t.resource_id.as_deref().is_some_and(|r| super::arn::name_or_arn(r) != group) {
                return Err(AsgError::validation(format!(
                    "Tag ResourceId '{}' does not name the Auto Scaling group {group}.",
                    t.resource_id.as_deref().unwrap_or_default()
                )));
            }
            crate::tags::check([(t.key.as_str(), t.value.as_deref().unwrap_or_default())])
                .map_err(|e| AsgError::validation(e.to_string()))?;
            Ok(TagDescription {
                resource_id: Some(group.to_string()),
                resource_type: Some(GROUP_RESOURCE_TYPE.to_string()),
                key: Some(t.key.clone()),
                value: Some(t.value.clone().unwrap_or_default()),
                propagate_at_launch: Some(t.propagate_at_launch.unwrap_or(false)),
            })
        })
        .collect()
}

/// `new` merged into `existing` by key (a key given again takes the new value), checked
/// against the quota.
pub fn merge_tags(existing: &[TagDescription], new: Vec<TagDescription>) -> Result<Vec<TagDescription>, AsgError> {
    let mut merged = existing.to_vec();
    for t in new {
        match merged.iter_mut().find(|m| m.key == t.key) {
            Some(m) => *m = t,
            None => merged.push(t),
        }
    }
    if merged.len() > TAGS_MAX {
        return Err(AsgError::LimitExceeded(format!(
            "The quota of {TAGS_MAX} tags per Auto Scaling group would be exceeded ({} tags).",
            merged.len()
        )));
    }
    merged.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(merged)
}

/// PutLifecycleHook's hook, with Auto Scaling's defaults (heartbeat 3600 s, ABANDON),
/// merged over the hook of that name if there is one (an update keeps what it does not say).
pub fn lifecycle_hook(
    input: &PutLifecycleHookType,
    existing: Option<&LifecycleHook>,
) -> Result<LifecycleHook, AsgError> {
    name(&input.lifecycle_hook_name, "lifecycleHookName")?;
    let transition = match (&input.lifecycle_transition, existing) {
        (Some(t), _) => t.clone(),
        (None, Some(e)) => e.lifecycle_transition.clone().unwrap_or_default(),
        (None, None) => {
            return Err(AsgError::validation("LifecycleTransition is required to create a lifecycle hook."));
        }
    };
    if !HOOK_TRANSITIONS.contains(&transition.as_str()) {
        return Err(AsgError::validation(format!(
            "Invalid Lifecycle Transition '{transition}': use {LAUNCHING} or {TERMINATING}."
        )));
    }
    let heartbeat = input.heartbeat_timeout.or(existing.and_then(|e| e.heartbeat_timeout)).unwrap_or(3600);
    if !(30..=7200).contains(&heartbeat) {
        return Err(AsgError::validation(format!(
            "Heartbeat timeout {heartbeat} must be between 30 and 7200 seconds."
        )));
    }
    let result = input
        .default_result
        .clone()
        .or(existing.and_then(|e| e.default_result.clone()))
        .unwrap_or_else(|| "ABANDON".into());
    if result != "CONTINUE" && result != "ABANDON" {
        return Err(AsgError::validation(format!("Default result '{result}' is not valid: use CONTINUE or ABANDON.")));
    }
    Ok(LifecycleHook {
        lifecycle_hook_name: Some(input.lifecycle_hook_name.clone()),
        auto_scaling_group_name: Some(input.auto_scaling_group_name.clone()),
        lifecycle_transition: Some(transition),
        notification_target_arn: input
            .notification_target_arn
            .clone()
            .or(existing.and_then(|e| e.notification_target_arn.clone())),
        role_arn: input.role_arn.clone().or(existing.and_then(|e| e.role_arn.clone())),
        notification_metadata: input
            .notification_metadata
            .clone()
            .or(existing.and_then(|e| e.notification_metadata.clone())),
        heartbeat_timeout: Some(heartbeat),
        global_timeout: Some((heartbeat * 100).min(172_800)),
        default_result: Some(result),
    })
}

/// PutScalingPolicy's checks: a known type; SimpleScaling and StepScaling need an
/// AdjustmentType (and SimpleScaling a ScalingAdjustment); TargetTrackingScaling a
/// configuration with a target value.
pub fn scaling_policy(input: &PutScalingPolicyType) -> Result<String, AsgError> {
    name(&input.policy_name, "policyName")?;
    let kind = input.policy_type.clone().unwrap_or_else(|| "SimpleScaling".into());
    if !POLICY_TYPES.contains(&kind.as_str()) {
        return Err(AsgError::validation(format!(
            "Policy type '{kind}' is not valid: use one of {}.",
            POLICY_TYPES.join(", ")
        )));
    }
    if let Some(a) = &input.adjustment_type
        && !ADJUSTMENT_TYPES.contains(&a.as_str())
    {
        return Err(AsgError::validation(format!(
            "Adjustment type '{a}' is not valid: use one of {}.",
            ADJUSTMENT_TYPES.join(", ")
        )));
    }
    match kind.as_str() {
        "SimpleScaling" if input.scaling_adjustment.is_none() => {
            Err(AsgError::validation("ScalingAdjustment is required for a SimpleScaling policy."))
        }
        "SimpleScaling" | "StepScaling" if input.adjustment_type.is_none() => {
            Err(AsgError::validation(format!("AdjustmentType is required for a {kind} policy.")))
        }
        "StepScaling" if input.step_adjustments.as_ref().is_none_or(Vec::is_empty) => {
            Err(AsgError::validation("StepAdjustments are required for a StepScaling policy."))
        }
        "TargetTrackingScaling" if input.target_tracking_configuration.is_none() => {
            Err(AsgError::validation("TargetTrackingConfiguration is required for a TargetTrackingScaling policy."))
        }
        "PredictiveScaling" if input.predictive_scaling_configuration.is_none() => {
            Err(AsgError::validation("PredictiveScalingConfiguration is required for a PredictiveScaling policy."))
        }
        _ => Ok(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_hold_min_desired_max() {
        assert!(sizes(1, 3, 2).is_ok());
        assert!(sizes(0, 0, 0).is_ok());
        assert_eq!(
            sizes(5, 1, 1).unwrap_err().to_string(),
            "Max bound, 1, must be greater than or equal to min bound, 5"
        );
        assert_eq!(
            sizes(1, 3, 4).unwrap_err().to_string(),
            "Desired capacity:4 must be between the specified min size:1 and max size:3"
        );
        assert!(sizes(-1, 3, 1).is_err());
    }

    #[test]
    fn names_policies_and_processes() {
        assert!(name("my-asg", "autoScalingGroupName").is_ok());
        assert!(name("", "autoScalingGroupName").is_err());
        assert!(name(&"x".repeat(256), "autoScalingGroupName").is_err());
        assert!(termination_policies(&["OldestInstance".into(), "Default".into()]).is_ok());
        assert!(termination_policies(&["Newest".into()]).is_err());
        assert!(processes(&["Launch".into(), "AZRebalance".into()]).is_ok());
        assert!(processes(&["Nope".into()]).is_err());
        assert!(health_check_type("EC2").is_ok() && health_check_type("TCP").is_err());
        assert_eq!(subnet_list(" subnet-a,subnet-b , ,subnet-a"), ["subnet-a", "subnet-b"]);
    }

    #[test]
    fn tags_name_their_group_and_merge_by_key() {
        let t = |k: &str, v: &str, p: Option<bool>| Tag {
            key: k.into(),
            value: Some(v.into()),
            propagate_at_launch: p,
            resource_id: Some("g".into()),
            resource_type: Some(GROUP_RESOURCE_TYPE.into()),
        };
        let first = tags_for("g", &[t("b", "1", Some(true)), t("a", "2", None)]).unwrap();
        assert_eq!(first[1].propagate_at_launch, Some(false));
        let merged = merge_tags(&first, tags_for("g", &[t("b", "3", Some(false))]).unwrap()).unwrap();
        assert_eq!(
            merged.iter().map(|t| (t.key.clone().unwrap(), t.value.clone().unwrap())).collect::<Vec<_>>(),
            [("a".to_string(), "2".to_string()), ("b".to_string(), "3".to_string())]
        );
        assert!(tags_for("other", &[t("a", "1", None)]).is_err());
        assert!(tags_for("g", &[t("aws:x", "1", None)]).is_err());
    }

    #[test]
    fn hooks_default_and_check() {
        let input = PutLifecycleHookType {
            lifecycle_hook_name: "h".into(),
            auto_scaling_group_name: "g".into(),
            lifecycle_transition: Some(LAUNCHING.into()),
            role_arn: None,
            notification_target_arn: None,
            notification_metadata: None,
            heartbeat_timeout: None,
            default_result: None,
        };
        let hook = lifecycle_hook(&input, None).unwrap();
        assert_eq!(
            (hook.heartbeat_timeout, hook.global_timeout, hook.default_result.as_deref()),
            (Some(3600), Some(172_800), Some("ABANDON"))
        );
        let bad = PutLifecycleHookType { lifecycle_transition: Some("x".into()), ..input.clone() };
        assert!(lifecycle_hook(&bad, None).is_err());
        let update = PutLifecycleHookType { lifecycle_transition: None, heartbeat_timeout: Some(60), ..input };
        assert_eq!(lifecycle_hook(&update, Some(&hook)).unwrap().lifecycle_transition.as_deref(), Some(LAUNCHING));
    }
}
