//! CloudWatch's IAM table: actions are `cloudwatch:<Operation>` (the signing name is
//! `monitoring`); alarm operations are on the alarms' ARNs
//! (`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME`), tag operations on ResourceARN,
//! metric operations on `*` (CloudWatch has no metric resources).

use crate::authorize::{Ask, Target, strings, text};
use berth_model::arn::Scope;
use berth_model::cloudwatch::alarm::alarm_arn;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let Some(action) = action(op) else { return Ask::any() };
    let on = |resources: Vec<String>| {
        let targets: Vec<Target> =
            if resources.is_empty() { vec![Target::any()] } else { resources.into_iter().map(Target::on).collect() };
        Ask::Targets(targets.into_iter().map(|t| Target { action: Some(action), ..t }).collect())
    };
    let alarm = |name: &str| alarm_arn(scope, name);
    match op {
        "PutMetricAlarm" => {
            on(text(input, "AlarmName").map(alarm).into_iter().collect()).request_tags(input.get("Tags"))
        }
        "DeleteAlarms" | "EnableAlarmActions" | "DisableAlarmActions" => {
            on(strings(input.get("AlarmNames")).iter().map(|n| alarm(n)).collect())
        }
        "SetAlarmState" => on(text(input, "AlarmName").map(alarm).into_iter().collect()),
        "DescribeAlarmHistory" => on(text(input, "AlarmName").map(alarm).into_iter().collect()),
        "TagResource" => {
            on(text(input, "ResourceARN").map(str::to_string).into_iter().collect()).request_tags(input.get("Tags"))
        }
        "UntagResource" => {
            on(text(input, "ResourceARN").map(str::to_string).into_iter().collect()).tag_keys(input.get("TagKeys"))
        }
        "ListTagsForResource" => on(text(input, "ResourceARN").map(str::to_string).into_iter().collect()),
        _ => on(vec![]),
    }
}

/// The IAM action of each operation (`cloudwatch:`, not the signing name's prefix).
fn action(op: &str) -> Option<&'static str> {
    Some(match op {
        "PutMetricData" => "cloudwatch:PutMetricData",
        "GetMetricStatistics" => "cloudwatch:GetMetricStatistics",
        "GetMetricData" => "cloudwatch:GetMetricData",
        "ListMetrics" => "cloudwatch:ListMetrics",
        "PutMetricAlarm" => "cloudwatch:PutMetricAlarm",
        "DescribeAlarms" => "cloudwatch:DescribeAlarms",
        "DescribeAlarmsForMetric" => "cloudwatch:DescribeAlarmsForMetric",
        "DeleteAlarms" => "cloudwatch:DeleteAlarms",
        "SetAlarmState" => "cloudwatch:SetAlarmState",
        "EnableAlarmActions" => "cloudwatch:EnableAlarmActions",
        "DisableAlarmActions" => "cloudwatch:DisableAlarmActions",
        "DescribeAlarmHistory" => "cloudwatch:DescribeAlarmHistory",
        "TagResource" => "cloudwatch:TagResource",
        "UntagResource" => "cloudwatch:UntagResource",
        "ListTagsForResource" => "cloudwatch:ListTagsForResource",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn targets(op: &str, input: Value) -> Vec<(Option<&'static str>, String)> {
        match asks(&Scope::new("us-east-1", "123456789012"), op, &input) {
            Ask::Targets(t) => t.into_iter().map(|t| (t.action, t.resource)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alarms_are_their_arns_and_metrics_are_any() {
        let a = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:";
        assert_eq!(
            targets("PutMetricAlarm", json!({"AlarmName": "hi"})),
            [(Some("cloudwatch:PutMetricAlarm"), format!("{a}hi"))]
        );
        assert_eq!(
            targets("DeleteAlarms", json!({"AlarmNames": ["x", "y"]})),
            [(Some("cloudwatch:DeleteAlarms"), format!("{a}x")), (Some("cloudwatch:DeleteAlarms"), format!("{a}y"))]
        );
        assert_eq!(
            targets("PutMetricData", json!({"Namespace": "App"})),
            [(Some("cloudwatch:PutMetricData"), "*".into())]
        );
        assert_eq!(targets("DescribeAlarms", json!({})), [(Some("cloudwatch:DescribeAlarms"), "*".into())]);
        assert_eq!(
            targets("TagResource", json!({"ResourceARN": format!("{a}x")})),
            [(Some("cloudwatch:TagResource"), format!("{a}x"))]
        );
    }
}
