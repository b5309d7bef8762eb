//! What Application Auto Scaling checks before it stores a target, a policy or a
//! scheduled action, in its words (ValidationException unless said otherwise).

use super::resource::{DESIRED_COUNT, ServiceId};
use super::*;

fn invalid(message: impl Into<String>) -> AasError {
    AasError::Validation(message.into())
}

/// The namespace, dimension and resource berth can scale: an ECS service's desired count.
pub fn check_resource(
    namespace: ServiceNamespace,
    resource_id: &str,
    dimension: ScalableDimension,
) -> Result<ServiceId, AasError> {
    if namespace != ServiceNamespace::Ecs {
        return Err(invalid(format!(
            "Unsupported service namespace {namespace}: berth scales ECS services (service namespace ecs) only"
        )));
    }
    if dimension.as_str() != DESIRED_COUNT {
        return Err(invalid(format!(
            "Unsupported scalable dimension {dimension} for service namespace ecs: use {DESIRED_COUNT}"
        )));
    }
    ServiceId::parse(resource_id)
}

/// The capacities a (re-)registration leaves: given ones replace stored ones; a new
/// target needs both.
pub fn capacities(
    given_min: Option<i32>,
    given_max: Option<i32>,
    current: Option<(i32, i32)>,
) -> Result<(i32, i32), AasError> {
    for (name, v) in [("minCapacity", given_min), ("maxCapacity", given_max)] {
        if let Some(v) = v.filter(|v| *v < 0) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must have value greater than or equal to 0"
            )));
        }
    }
    let (min, max) = match (given_min, given_max, current) {
        (Some(min), Some(max), _) => (min, max),
        (min, max, Some((cmin, cmax))) => (min.unwrap_or(cmin), max.unwrap_or(cmax)),
        _ => {
            return Err(invalid("MinCapacity and MaxCapacity are required when registering a new scalable target"));
        }
    };
    if min > max {
        return Err(invalid(format!(
            "Minimum capacity cannot be greater than maximum capacity (MinCapacity {min}, MaxCapacity {max})"
        )));
    }
    Ok((min, max))
}

/// The suspended state after a registration: each flag given replaces the stored one.
pub fn suspended(given: Option<&SuspendedState>, current: Option<&SuspendedState>) -> SuspendedState {
    let current = current.cloned().unwrap_or_default();
    let given = given.cloned().unwrap_or_default();
    let flag = |g: Option<bool>, c: Option<bool>| Some(g.or(c).unwrap_or(false));
    SuspendedState {
        dynamic_scaling_in_suspended: flag(given.dynamic_scaling_in_suspended, current.dynamic_scaling_in_suspended),
        dynamic_scaling_out_suspended: flag(given.dynamic_scaling_out_suspended, current.dynamic_scaling_out_suspended),
        scheduled_scaling_suspended: flag(given.scheduled_scaling_suspended, current.scheduled_scaling_suspended),
    }
}

pub fn check_role_arn(arn: &str) -> Result<(), AasError> {
    let ok = arn.starts_with("arn:aws:iam::") && arn.contains(":role/");
    if ok { Ok(()) } else { Err(invalid(format!("Invalid RoleARN {arn}: it must be the ARN of an IAM role"))) }
}

fn check_name(member: &str, name: &str) -> Result<(), AasError> {
    if name.is_empty() || name.chars().count() > 256 || name.chars().any(|c| c.is_control()) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must have length between 1 and 256 and contain printable characters only"
        )));
    }
    Ok(())
}

fn check_cooldown(member: &str, v: Option<i32>) -> Result<(), AasError> {
    match v {
        Some(v) if !(0..=31_536_000).contains(&v) => Err(invalid(format!(
            "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must have value between 0 and 31536000"
        ))),
        _ => Ok(()),
    }
}

/// A policy's configuration, checked for an ECS target.
pub fn check_policy(req: &PutScalingPolicyRequest) -> Result<PolicyType, AasError> {
    check_name("policyName", &req.policy_name)?;
    let kind = req.policy_type.unwrap_or(PolicyType::StepScaling);
    match kind {
        PolicyType::TargetTrackingScaling => {
            let Some(c) = &req.target_tracking_scaling_policy_configuration else {
                return Err(invalid(
                    "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy",
                ));
            };
            check_target_tracking(c)?;
        }
        PolicyType::StepScaling => {
            let Some(c) = &req.step_scaling_policy_configuration else {
                return Err(invalid("StepScalingPolicyConfiguration is required for a StepScaling policy"));
            };
            super::step::check(c)?;
        }
        PolicyType::PredictiveScaling => {
            return Err(invalid(
                "Predictive scaling is not supported by berth: use TargetTrackingScaling or StepScaling",
            ));
        }
    }
    Ok(kind)
}

fn check_target_tracking(c: &TargetTrackingScalingPolicyConfiguration) -> Result<(), AasError> {
    if !(c.target_value.is_finite() && c.target_value >= 8.515920e-109 && c.target_value <= 6.174597e307) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{}' at 'targetTrackingScalingPolicyConfiguration.targetValue' failed to satisfy constraint: Member must have value between 8.515920e-109 and 6.174597e+307",
            c.target_value
        )));
    }
    check_cooldown("targetTrackingScalingPolicyConfiguration.scaleOutCooldown", c.scale_out_cooldown)?;
    check_cooldown("targetTrackingScalingPolicyConfiguration.scaleInCooldown", c.scale_in_cooldown)?;
    match (&c.predefined_metric_specification, &c.customized_metric_specification) {
        (Some(p), None) => check_predefined(p),
        (None, Some(m)) => check_customized(m),
        _ => Err(invalid(
            "Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified",
        )),
    }
}

fn check_predefined(p: &PredefinedMetricSpecification) -> Result<(), AasError> {
    use MetricType as M;
    match (p.predefined_metric_type, p.resource_label.as_deref()) {
        (M::ECSServiceAverageCPUUtilization | M::ECSServiceAverageMemoryUtilization, None) => Ok(()),
        (M::ECSServiceAverageCPUUtilization | M::ECSServiceAverageMemoryUtilization, Some(_)) => Err(invalid(format!(
            "ResourceLabel is only supported for the predefined metric type ALBRequestCountPerTarget, not {}",
            p.predefined_metric_type
        ))),
        (M::ALBRequestCountPerTarget, None) => Err(invalid(
            "ResourceLabel is required for the predefined metric type ALBRequestCountPerTarget: app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>",
        )),
        (M::ALBRequestCountPerTarget, Some(label)) => super::alarms::target_group_of(label).map(|_| ()),
        (other, _) => Err(invalid(format!("Unsupported metric type {other} for service namespace ecs"))),
    }
}

fn check_customized(m: &CustomizedMetricSpecification) -> Result<(), AasError> {
    let single = m.metric_name.is_some() || m.namespace.is_some() || m.statistic.is_some();
    match (&m.metrics, single) {
        (Some(_), true) => Err(invalid(
            "A CustomizedMetricSpecification has either MetricName, Namespace and Statistic or Metrics, not both",
        )),
        (Some(queries), false) => {
            let returned = queries.iter().filter(|q| q.return_data.unwrap_or(true)).count();
            if returned != 1 {
                return Err(invalid(format!(
                    "Exactly one of the Metrics must return data (ReturnData true); {returned} do"
                )));
            }
            for q in queries {
                if q.expression.is_some() == q.metric_stat.is_some() {
                    return Err(invalid(format!(
                        "Metric query {} must have exactly one of Expression or MetricStat",
                        q.id
                    )));
                }
            }
            Ok(())
        }
        (None, _) => match (&m.metric_name, &m.namespace, &m.statistic) {
            (Some(_), Some(_), Some(_)) => Ok(()),
            _ => Err(invalid("A CustomizedMetricSpecification needs MetricName, Namespace and Statistic (or Metrics)")),
        },
    }
}

/// A scheduled action's times and capacities (its schedule is parsed by `schedule`).
pub fn check_scheduled(req: &PutScheduledActionRequest) -> Result<(), AasError> {
    check_name("scheduledActionName", &req.scheduled_action_name)?;
    if let Some(a) = &req.scalable_target_action {
        for (name, v) in [("MinCapacity", a.min_capacity), ("MaxCapacity", a.max_capacity)] {
            if v.is_some_and(|v| v < 0) {
                return Err(invalid(format!("{name} of a ScalableTargetAction must be 0 or more")));
            }
        }
        if let (Some(min), Some(max)) = (a.min_capacity, a.max_capacity)
            && min > max
        {
            return Err(invalid(format!(
                "Minimum capacity cannot be greater than maximum capacity (MinCapacity {min}, MaxCapacity {max})"
            )));
        }
    }
    if let (Some(s), Some(e)) = (req.start_time, req.end_time)
        && e.as_secs_f64() <= s.as_secs_f64()
    {
        return Err(invalid("EndTime must be after StartTime"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_of_new_and_updated_targets() {
        assert_eq!(capacities(Some(1), Some(4), None), Ok((1, 4)));
        assert!(capacities(Some(1), None, None).is_err(), "a new target needs both");
        assert_eq!(capacities(None, Some(6), Some((1, 4))), Ok((1, 6)));
        assert!(
            matches!(capacities(Some(5), Some(4), None), Err(AasError::Validation(m)) if m.contains("greater than maximum"))
        );
        assert!(capacities(None, Some(0), Some((1, 4))).is_err(), "the stored min is kept and checked");
        assert!(capacities(Some(-1), Some(4), None).is_err());
    }

    #[test]
    fn suspended_flags_merge() {
        let given = SuspendedState { dynamic_scaling_in_suspended: Some(true), ..Default::default() };
        let current = SuspendedState { scheduled_scaling_suspended: Some(true), ..Default::default() };
        let s = suspended(Some(&given), Some(&current));
        assert_eq!(s.dynamic_scaling_in_suspended, Some(true));
        assert_eq!(s.dynamic_scaling_out_suspended, Some(false));
        assert_eq!(s.scheduled_scaling_suspended, Some(true));
    }

    fn tracking(config: serde_json::Value) -> PutScalingPolicyRequest {
        serde_json::from_value(serde_json::json!({
            "PolicyName": "cpu70", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
            "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": config,
        }))
        .unwrap()
    }

    #[test]
    fn target_tracking_configurations() {
        let cpu = serde_json::json!({"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}});
        assert_eq!(check_policy(&tracking(cpu)), Ok(PolicyType::TargetTrackingScaling));
        let alb = serde_json::json!({"TargetValue": 10.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget"}});
        assert!(
            matches!(check_policy(&tracking(alb)), Err(AasError::Validation(m)) if m.contains("ResourceLabel is required"))
        );
        let dynamo = serde_json::json!({"TargetValue": 10.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}});
        assert!(
            matches!(check_policy(&tracking(dynamo)), Err(AasError::Validation(m)) if m.contains("Unsupported metric type"))
        );
        let both = serde_json::json!({"TargetValue": 10.0});
        assert!(check_policy(&tracking(both)).is_err());
        let zero = serde_json::json!({"TargetValue": 0.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}});
        assert!(check_policy(&tracking(zero)).is_err());
        let custom = serde_json::json!({"TargetValue": 5.0, "CustomizedMetricSpecification": {"MetricName": "Q", "Namespace": "App"}});
        assert!(check_policy(&tracking(custom)).is_err(), "a statistic is needed");
        let math = serde_json::json!({"TargetValue": 5.0, "CustomizedMetricSpecification": {"Metrics": [
            {"Id": "m1", "MetricStat": {"Metric": {"MetricName": "Q", "Namespace": "App"}, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "e1", "Expression": "m1 / 2"}]}});
        assert_eq!(check_policy(&tracking(math)), Ok(PolicyType::TargetTrackingScaling));
    }
}
