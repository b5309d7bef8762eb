use super::*;
use crate::Timestamp;
use crate::application_autoscaling::records::{PolicyRecord, ScheduledRecord};

const CPU: &str = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:u:resource/ecs/service/c/s:policyName/cpu70";
const STEP: &str = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:v:resource/ecs/service/c/s:policyName/step";

fn target(min: i32, max: i32) -> TargetRecord {
    serde_json::from_value(serde_json::json!({
        "target": {"ServiceNamespace": "ecs", "ResourceId": "service/c/s", "ScalableDimension": "ecs:service:DesiredCount",
                   "MinCapacity": min, "MaxCapacity": max, "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": 0.0},
    }))
    .unwrap()
}

fn tracking(rec: &mut TargetRecord) {
    rec.policies.push(PolicyRecord {
        policy: serde_json::from_value(serde_json::json!({
            "PolicyARN": CPU, "PolicyName": "cpu70", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
            "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling", "CreationTime": 0.0,
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 60,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
        }))
        .unwrap(),
        last_action: None,
    });
}

fn alarm(name: &str, policy: &str, threshold: f64, values: &[f64]) -> AlarmView {
    AlarmView {
        name: name.into(),
        in_alarm: true,
        actions_enabled: true,
        alarm_actions: vec![policy.into()],
        threshold,
        values: values.to_vec(),
    }
}

fn utc(_: Option<&str>) -> Option<Zone> {
    Some(Zone::utc())
}

#[test]
fn alarm_high_scales_out_with_aws_words() {
    let mut rec = target(1, 4);
    tracking(&mut rec);
    let high = alarm("TargetTracking-service/c/s-AlarmHigh-x", CPU, 70.0, &[95.0, 99.0, 100.0]);
    let plan = step(&rec, 1, &[high], 1000.0, &utc);
    assert_eq!(plan.capacity, Some(2));
    assert_eq!(plan.activities[0].description, "Setting desired count to 2.");
    assert_eq!(
        plan.activities[0].cause,
        "monitor alarm TargetTracking-service/c/s-AlarmHigh-x in state ALARM triggered policy cpu70"
    );
    assert_eq!(plan.cooldown.unwrap().scale_out, Some((Timestamp(1000.0), 1)));

    rec.target.suspended_state =
        Some(SuspendedState { dynamic_scaling_out_suspended: Some(true), ..Default::default() });
    let high = alarm("TargetTracking-service/c/s-AlarmHigh-x", CPU, 70.0, &[100.0]);
    assert!(step(&rec, 1, &[high], 1000.0, &utc).is_empty(), "scale-out suspended");
}

#[test]
fn alarm_low_scales_in_and_an_ok_alarm_does_nothing() {
    let mut rec = target(1, 4);
    tracking(&mut rec);
    let low = alarm("TargetTracking-service/c/s-AlarmLow-y", CPU, 63.0, &[0.5]);
    assert_eq!(step(&rec, 4, std::slice::from_ref(&low), 1000.0, &utc).capacity, Some(2));
    let quiet = AlarmView { in_alarm: false, ..low };
    assert!(step(&rec, 4, &[quiet], 1000.0, &utc).is_empty());
}

#[test]
fn step_policies_act_from_their_alarm_and_wait_their_cooldown() {
    let mut rec = target(1, 10);
    rec.policies.push(PolicyRecord {
        policy: serde_json::from_value(serde_json::json!({
            "PolicyARN": STEP, "PolicyName": "step", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
            "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "StepScaling", "CreationTime": 0.0,
            "StepScalingPolicyConfiguration": {"AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "StepAdjustments": [
                {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 20.0, "ScalingAdjustment": 2},
                {"MetricIntervalLowerBound": 20.0, "ScalingAdjustment": 4}]},
        }))
        .unwrap(),
        last_action: None,
    });
    let set_by_hand = alarm("my-alarm", STEP, 50.0, &[]);
    let plan = step(&rec, 1, std::slice::from_ref(&set_by_hand), 1000.0, &utc);
    assert_eq!(plan.capacity, Some(3), "no datapoints: the step at the threshold");
    assert_eq!(plan.policies_acted, ["step"]);
    let breached = alarm("my-alarm", STEP, 50.0, &[80.0]);
    assert_eq!(step(&rec, 1, &[breached], 1000.0, &utc).capacity, Some(5));
    rec.policies[0].last_action = Some(Timestamp(990.0));
    assert!(step(&rec, 1, &[set_by_hand], 1000.0, &utc).is_empty(), "in its cooldown");
}

#[test]
fn scheduled_actions_set_bounds_and_clamp_the_capacity() {
    let mut rec = target(1, 4);
    rec.scheduled.push(ScheduledRecord {
        action: serde_json::from_value(serde_json::json!({
            "ScheduledActionName": "peak", "ScheduledActionARN": "arn:x", "ServiceNamespace": "ecs",
            "Schedule": "at(1970-01-01T00:16:40)", "ResourceId": "service/c/s", "CreationTime": 0.0,
            "ScalableTargetAction": {"MinCapacity": 3, "MaxCapacity": 6},
        }))
        .unwrap(),
        last_run: None,
    });
    assert!(step(&rec, 1, &[], 999.0, &utc).is_empty(), "not yet");
    let plan = step(&rec, 1, &[], 1000.0, &utc);
    assert_eq!(plan.bounds, Some((3, 6)));
    assert_eq!(plan.capacity, Some(3));
    assert_eq!(plan.scheduled_runs, [("peak".to_string(), 1000.0)]);
    assert_eq!(plan.activities[0].description, "Setting min capacity to 3 and max capacity to 6");
    assert_eq!(plan.activities[0].cause, "scheduled action name peak was triggered");
    assert_eq!(plan.activities[1].description, "Setting desired count to 3.");
    rec.target.suspended_state = Some(SuspendedState { scheduled_scaling_suspended: Some(true), ..Default::default() });
    assert!(step(&rec, 1, &[], 1000.0, &utc).is_empty(), "scheduled scaling suspended");
}

#[test]
fn a_registration_outside_the_capacity_brings_it_within() {
    let mut rec = target(2, 4);
    rec.bounds_changed = Some("minimum capacity was set to 2 and maximum capacity was set to 4".into());
    let plan = step(&rec, 1, &[], 1000.0, &utc);
    assert_eq!(plan.capacity, Some(2));
    assert!(plan.bounds_handled);
    let plan = step(&rec, 3, &[], 1000.0, &utc);
    assert_eq!(plan.capacity, None, "within: nothing to do but forget the change");
    assert!(plan.bounds_handled);
    rec.bounds_changed = None;
    assert!(step(&rec, 6, &[], 1000.0, &utc).is_empty(), "a manual count outside is left until the scaler acts");
}
