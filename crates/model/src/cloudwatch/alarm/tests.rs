use super::*;

fn input() -> PutMetricAlarmInput {
    serde_json::from_value(serde_json::json!({
        "AlarmName": "cpu-high",
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/ECS",
        "Statistic": "Average",
        "Dimensions": [{"Name": "ClusterName", "Value": "default"}],
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 70.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:x:resource/ecs/service/default/web:policyName/p"]
    }))
    .unwrap()
}

fn scope() -> Scope {
    Scope::new("us-east-1", "000000000000")
}

#[test]
fn a_valid_alarm_starts_insufficient_data() {
    let a = validate(&input(), &scope(), 1_000).unwrap();
    assert_eq!(a.arn, "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high");
    assert_eq!(a.state.value, StateValue::InsufficientData);
    assert_eq!(a.state.reason, "Unchecked: Initial alarm creation");
    assert_eq!(a.datapoints_to_alarm(), 3);
    assert_eq!(a.period(), 60);
    assert!(a.actions_enabled);
    let shown = a.to_metric_alarm();
    assert_eq!(shown.statistic, Some(Statistic::Average));
    assert_eq!(shown.treat_missing_data, None);
}

#[test]
fn bad_alarms_get_cloudwatch_codes() {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (serde_json::json!({"Period": 45}), "InvalidParameterValue"),
        (serde_json::json!({"ExtendedStatistic": "p99"}), "InvalidParameterCombination"),
        (serde_json::json!({"DatapointsToAlarm": 4}), "InvalidParameterCombination"),
        (serde_json::json!({"TreatMissingData": "sometimes"}), "InvalidParameterValue"),
        (serde_json::json!({"Threshold": null}), "MissingParameter"),
        (serde_json::json!({"EvaluationPeriods": 0}), "InvalidParameterValue"),
        (serde_json::json!({"EvaluationPeriods": 1441}), "InvalidParameterValue"),
        (serde_json::json!({"AlarmActions": ["not-an-arn"]}), "InvalidParameterValue"),
        (serde_json::json!({"Metrics": [{"Id": "m1", "Expression": "1"}]}), "InvalidParameterCombination"),
    ];
    for (patch, code) in cases {
        let mut v = serde_json::to_value(input()).unwrap();
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        let i: PutMetricAlarmInput = serde_json::from_value(v).unwrap();
        let e = validate(&i, &scope(), 0).unwrap_err();
        assert_eq!(e.code(), code, "{patch}: {e}");
    }
}

#[test]
fn percentiles_follow_cloudwatch_syntax() {
    assert_eq!(check_percentile("p99").unwrap(), 99.0);
    assert_eq!(check_percentile("p99.9").unwrap(), 99.9);
    assert_eq!(check_percentile("p100").unwrap(), 100.0);
    for bad in ["p", "99", "p101", "p99.999", "p9.", "px", "p-1"] {
        assert!(check_percentile(bad).is_err(), "{bad}");
    }
}
