//! Alarm actions, the pure rule: when an alarm's state value changes, CloudWatch invokes
//! the actions of the new state if ActionsEnabled — whoever changed it, the evaluator or
//! SetAlarmState. berth runs one kind: Application Auto Scaling policies
//! (`arn:aws:autoscaling:…:scalingPolicy:…`) in AlarmActions, on a change to ALARM (SNS,
//! EC2 and OKActions / InsufficientDataActions are stored but not run). Each invocation
//! is a record the scaler takes, stored with the state change in one transaction
//! (`keys::invocation`), so an ALARM that lasts less than the scaler's tick still acts.

use super::StateValue;
use super::alarm::AlarmRecord;
use serde::{Deserialize, Serialize};

/// The action ARNs berth runs (Application Auto Scaling scaling policies).
pub fn is_scaling_policy(arn: &str) -> bool {
    arn.starts_with("arn:aws:autoscaling:") && arn.contains(":scalingPolicy:")
}

/// One invocation of a scaling policy by an alarm's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub alarm_name: String,
    pub action_arn: String,
    /// The new state's StateReasonData (JSON text), whose recentDatapoints the policy reads.
    pub reason_data: Option<String>,
    pub threshold: Option<f64>,
    pub timestamp_ms: i64,
}

/// The invocations an alarm's change from `old` to `alarm.state` makes (none unless the
/// value changed to ALARM with actions enabled).
pub fn invocations(old: StateValue, alarm: &AlarmRecord) -> Vec<Invocation> {
    let new = alarm.state.value;
    if new == old || new != StateValue::Alarm || !alarm.actions_enabled {
        return vec![];
    }
    alarm
        .alarm_actions
        .iter()
        .filter(|arn| is_scaling_policy(arn))
        .map(|arn| Invocation {
            alarm_name: alarm.name.clone(),
            action_arn: arn.clone(),
            reason_data: alarm.state.reason_data.clone(),
            threshold: alarm.threshold,
            timestamp_ms: alarm.state.updated_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::Scope;
    use crate::cloudwatch::PutMetricAlarmInput;
    use crate::cloudwatch::alarm::validate;

    const POLICY: &str = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:u:resource/ecs/service/c/s:policyName/p";

    fn alarm(enabled: bool) -> AlarmRecord {
        let input: PutMetricAlarmInput = serde_json::from_value(serde_json::json!({
            "AlarmName": "a", "MetricName": "CPU", "Namespace": "App", "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 70.0, "ActionsEnabled": enabled,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": [POLICY, "arn:aws:sns:us-east-1:1:topic"], "OKActions": [POLICY]
        }))
        .unwrap();
        validate(&input, &Scope::new("us-east-1", "1"), 0).unwrap()
    }

    #[test]
    fn a_change_of_value_invokes_the_new_states_scaling_policies() {
        let mut a = alarm(true);
        a.state.value = StateValue::Alarm;
        a.state.updated_ms = 42;
        let got = invocations(StateValue::Ok, &a);
        assert_eq!(got.len(), 1, "the SNS topic is not berth's to run");
        assert_eq!((got[0].action_arn.as_str(), got[0].timestamp_ms), (POLICY, 42));
        assert_eq!(got[0].threshold, Some(70.0));
        assert!(invocations(StateValue::Alarm, &a).is_empty(), "no change, no action");
        a.state.value = StateValue::Ok;
        assert!(invocations(StateValue::Alarm, &a).is_empty(), "OKActions are not run");
        let mut off = alarm(false);
        off.state.value = StateValue::Alarm;
        assert!(invocations(StateValue::Ok, &off).is_empty(), "ActionsEnabled false");
        assert!(!is_scaling_policy("arn:aws:autoscaling:us-east-1:1:autoScalingGroup:x"));
    }
}
