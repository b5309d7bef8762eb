//! The two CloudWatch alarms a target tracking policy creates, as AWS defines them:
//! `TargetTracking-<resource>-AlarmHigh-<uuid>` (3 of 3 one-minute periods above the
//! target) and `-AlarmLow-<uuid>` (15 of 15 below 90 % of it; none with DisableScaleIn),
//! both acting on the policy's ARN.

use super::*;

/// A metric alarm, as the scaler asks CloudWatch to keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub metric: Metric,
    pub period: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
    pub threshold: f64,
    pub comparison: &'static str,
    pub alarm_actions: Vec<String>,
}

/// What an alarm watches: one metric's statistic, or metric math.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    Stat {
        namespace: String,
        metric_name: String,
        dimensions: Vec<(String, String)>,
        statistic: String,
        unit: Option<String>,
    },
    Math(Vec<TargetTrackingMetricDataQuery>),
}

/// Which of a policy's alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    High,
    Low,
}

/// The alarms of a target tracking policy on `resource_id`; `uuids` name them (AWS
/// gives each its own).
pub fn for_policy(
    resource_id: &str,
    policy_arn: &str,
    config: &TargetTrackingScalingPolicyConfiguration,
    uuids: (&str, &str),
) -> Result<Vec<(Side, AlarmSpec)>, AasError> {
    let metric = metric_of(resource_id, config)?;
    let description = format!("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}.");
    let target = config.target_value;
    let alarm = |side: Side, uuid: &str| {
        let (tag, periods, threshold, comparison) = match side {
            Side::High => ("AlarmHigh", 3, target, "GreaterThanThreshold"),
            Side::Low => ("AlarmLow", 15, low_threshold(target), "LessThanThreshold"),
        };
        AlarmSpec {
            name: format!("TargetTracking-{resource_id}-{tag}-{uuid}"),
            description: description.clone(),
            metric: metric.clone(),
            period: 60,
            evaluation_periods: periods,
            datapoints_to_alarm: periods,
            threshold,
            comparison,
            alarm_actions: vec![policy_arn.to_string()],
        }
    };
    let mut out = vec![(Side::High, alarm(Side::High, uuids.0))];
    if !config.disable_scale_in.unwrap_or(false) {
        out.push((Side::Low, alarm(Side::Low, uuids.1)));
    }
    Ok(out)
}

/// The AlarmLow threshold: 90 % of the target.
pub fn low_threshold(target: f64) -> f64 {
    target * 0.9
}

impl AlarmSpec {
    /// The PutMetricAlarm request that makes this alarm (CloudWatch checks and stores it
    /// as it does the user's).
    pub fn to_input(&self) -> Result<crate::cloudwatch::PutMetricAlarmInput, AasError> {
        let mut input = serde_json::json!({
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "ActionsEnabled": true,
            "AlarmActions": self.alarm_actions,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison,
        });
        match &self.metric {
            Metric::Stat { namespace, metric_name, dimensions, statistic, unit } => {
                input["Namespace"] = namespace.as_str().into();
                input["MetricName"] = metric_name.as_str().into();
                input["Dimensions"] =
                    dimensions.iter().map(|(n, v)| serde_json::json!({"Name": n, "Value": v})).collect();
                input["Statistic"] = statistic.as_str().into();
                input["Period"] = self.period.into();
                if let Some(u) = unit {
                    input["Unit"] = u.as_str().into();
                }
            }
            Metric::Math(queries) => {
                let mut metrics = serde_json::to_value(queries).map_err(|e| AasError::Validation(e.to_string()))?;
                for q in metrics.as_array_mut().into_iter().flatten() {
                    if let Some(stat) = q.get_mut("MetricStat") {
                        stat["Period"] = self.period.into();
                    }
                }
                input["Metrics"] = metrics;
            }
        }
        serde_json::from_value(input)
            .map_err(|e| AasError::Validation(format!("The alarm does not fit CloudWatch: {e}")))
    }
}

/// Which side an alarm of a target tracking policy is, from its name.
pub fn side_of(alarm_name: &str) -> Option<Side> {
    if alarm_name.contains("-AlarmHigh-") {
        Some(Side::High)
    } else if alarm_name.contains("-AlarmLow-") {
        Some(Side::Low)
    } else {
        None
    }
}

fn metric_of(resource_id: &str, config: &TargetTrackingScalingPolicyConfiguration) -> Result<Metric, AasError> {
    if let Some(p) = &config.predefined_metric_specification {
        let service = super::resource::ServiceId::parse(resource_id)?;
        let ecs = |name: &str| Metric::Stat {
            namespace: "AWS/ECS".into(),
            metric_name: name.into(),
            dimensions: vec![
                ("ClusterName".into(), service.cluster.clone()),
                ("ServiceName".into(), service.service.clone()),
            ],
            statistic: "Average".into(),
            unit: None,
        };
        return match p.predefined_metric_type {
            MetricType::ECSServiceAverageCPUUtilization => Ok(ecs("CPUUtilization")),
            MetricType::ECSServiceAverageMemoryUtilization => Ok(ecs("MemoryUtilization")),
            MetricType::ALBRequestCountPerTarget => {
                let label = p.resource_label.as_deref().unwrap_or_default();
                Ok(Metric::Stat {
                    namespace: "AWS/ApplicationELB".into(),
                    metric_name: "RequestCountPerTarget".into(),
                    dimensions: vec![("TargetGroup".into(), target_group_of(label)?.to_string())],
                    statistic: "Sum".into(),
                    unit: None,
                })
            }
            other => Err(AasError::Validation(format!("Unsupported metric type {other} for service namespace ecs"))),
        };
    }
    let Some(c) = &config.customized_metric_specification else {
        return Err(AasError::Validation(
            "Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified".into(),
        ));
    };
    if let Some(queries) = &c.metrics {
        return Ok(Metric::Math(queries.clone()));
    }
    let mut dimensions: Vec<(String, String)> =
        c.dimensions.iter().flatten().map(|d| (d.name.clone(), d.value.clone())).collect();
    dimensions.sort();
    Ok(Metric::Stat {
        namespace: c.namespace.clone().unwrap_or_default(),
        metric_name: c.metric_name.clone().unwrap_or_default(),
        dimensions,
        statistic: c.statistic.map(|s| s.as_str().to_string()).unwrap_or_else(|| "Average".into()),
        unit: c.unit.clone(),
    })
}

/// The `targetgroup/NAME/ID` part of an ALB resource label
/// (`app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID`).
pub fn target_group_of(label: &str) -> Result<&str, AasError> {
    let parts: Vec<&str> = label.split('/').collect();
    let well_formed =
        parts.len() == 6 && parts[0] == "app" && parts[3] == "targetgroup" && parts.iter().all(|p| !p.is_empty());
    match label.find("/targetgroup/") {
        Some(at) if well_formed => Ok(&label[at + 1..]),
        _ => Err(AasError::Validation(format!(
            "Invalid ResourceLabel {label}: it must be app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str =
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:u:resource/ecs/service/c/s:policyName/cpu70";

    fn config(json: serde_json::Value) -> TargetTrackingScalingPolicyConfiguration {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn cpu_policy_alarms_as_aws_creates_them() {
        let c = config(
            serde_json::json!({"TargetValue": 70.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}),
        );
        let alarms = for_policy("service/c/s", P, &c, ("u1", "u2")).unwrap();
        let (high, low) = (&alarms[0].1, &alarms[1].1);
        assert_eq!(high.name, "TargetTracking-service/c/s-AlarmHigh-u1");
        assert_eq!(low.name, "TargetTracking-service/c/s-AlarmLow-u2");
        assert_eq!(high.description, format!("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {P}."));
        assert_eq!((high.evaluation_periods, high.datapoints_to_alarm, high.period), (3, 3, 60));
        assert_eq!((low.evaluation_periods, low.datapoints_to_alarm), (15, 15));
        assert_eq!((high.threshold, high.comparison), (70.0, "GreaterThanThreshold"));
        assert!((low.threshold - 63.0).abs() < 1e-9 && low.comparison == "LessThanThreshold");
        assert_eq!(high.alarm_actions, [P]);
        let Metric::Stat { namespace, metric_name, dimensions, statistic, .. } = &high.metric else { panic!() };
        assert_eq!(
            (namespace.as_str(), metric_name.as_str(), statistic.as_str()),
            ("AWS/ECS", "CPUUtilization", "Average")
        );
        assert_eq!(dimensions, &[("ClusterName".into(), "c".into()), ("ServiceName".into(), "s".into())]);
        assert_eq!(side_of(&high.name), Some(Side::High));
        assert_eq!(side_of(&low.name), Some(Side::Low));

        let input = high.to_input().unwrap();
        let scope = crate::arn::Scope::new("us-east-1", "123456789012");
        let alarm = crate::cloudwatch::alarm::validate(&input, &scope, 0).unwrap();
        assert_eq!(alarm.alarm_actions, [P]);
        assert_eq!((alarm.evaluation_periods, alarm.datapoints_to_alarm, alarm.threshold), (3, Some(3), Some(70.0)));
        assert!(
            matches!(&alarm.metric, crate::cloudwatch::alarm::AlarmMetric::Single(m) if m.period == 60 && m.metric_name == "CPUUtilization")
        );
    }

    #[test]
    fn metric_math_alarms_fit_cloudwatch() {
        let c = config(serde_json::json!({"TargetValue": 5.0, "CustomizedMetricSpecification": {"Metrics": [
            {"Id": "m1", "MetricStat": {"Metric": {"MetricName": "Q", "Namespace": "App"}, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "e1", "Expression": "m1 / 2", "ReturnData": true}]}}));
        let alarms = for_policy("service/c/s", P, &c, ("u1", "u2")).unwrap();
        let scope = crate::arn::Scope::new("us-east-1", "123456789012");
        let alarm = crate::cloudwatch::alarm::validate(&alarms[0].1.to_input().unwrap(), &scope, 0).unwrap();
        assert!(matches!(&alarm.metric, crate::cloudwatch::alarm::AlarmMetric::Math(q) if q.len() == 2));
    }

    #[test]
    fn memory_alb_and_customized_metrics() {
        let mem = config(
            serde_json::json!({"TargetValue": 50.0, "DisableScaleIn": true, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}}),
        );
        let alarms = for_policy("service/c/s", P, &mem, ("u1", "u2")).unwrap();
        assert_eq!(alarms.len(), 1, "no AlarmLow with DisableScaleIn");
        assert!(matches!(&alarms[0].1.metric, Metric::Stat { metric_name, .. } if metric_name == "MemoryUtilization"));

        let alb = config(serde_json::json!({"TargetValue": 100.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "app/web/0123/targetgroup/tg/4567"}}));
        let alarms = for_policy("service/c/s", P, &alb, ("u1", "u2")).unwrap();
        let Metric::Stat { namespace, metric_name, dimensions, statistic, .. } = &alarms[0].1.metric else { panic!() };
        assert_eq!(
            (namespace.as_str(), metric_name.as_str(), statistic.as_str()),
            ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum")
        );
        assert_eq!(dimensions, &[("TargetGroup".into(), "targetgroup/tg/4567".into())]);
        assert!(target_group_of("app/web/0123/tg/4567").is_err());
        assert!(target_group_of("targetgroup/tg/4567").is_err());

        let custom = config(serde_json::json!({"TargetValue": 5.0, "CustomizedMetricSpecification": {
            "MetricName": "Backlog", "Namespace": "App", "Statistic": "Maximum",
            "Dimensions": [{"Name": "Queue", "Value": "q"}]}}));
        let alarms = for_policy("service/c/s", P, &custom, ("u1", "u2")).unwrap();
        assert!(
            matches!(&alarms[0].1.metric, Metric::Stat { namespace, statistic, .. } if namespace == "App" && statistic == "Maximum")
        );
    }
}
