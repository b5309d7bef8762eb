//! Step scaling: the step adjustment whose interval holds the breach (the metric minus
//! the alarm's threshold; lower bounds inclusive, upper bounds exclusive), applied as
//! ChangeInCapacity, PercentChangeInCapacity (rounded as AWS rounds, at least
//! MinAdjustmentMagnitude) or ExactCapacity, within min and max.

use super::*;

fn invalid(message: impl Into<String>) -> AasError {
    AasError::Validation(message.into())
}

/// AWS's rules for a step scaling configuration.
pub fn check(c: &StepScalingPolicyConfiguration) -> Result<(), AasError> {
    let Some(kind) = c.adjustment_type else {
        return Err(invalid("AdjustmentType is required for a StepScaling policy"));
    };
    let steps = c.step_adjustments.as_deref().unwrap_or_default();
    if steps.is_empty() {
        return Err(invalid("StepAdjustments must have at least one step adjustment"));
    }
    if c.min_adjustment_magnitude.is_some() && kind != AdjustmentType::PercentChangeInCapacity {
        return Err(invalid(
            "MinAdjustmentMagnitude is only supported with the PercentChangeInCapacity adjustment type",
        ));
    }
    if c.min_adjustment_magnitude.is_some_and(|m| m < 0) || c.cooldown.is_some_and(|cd| cd < 0) {
        return Err(invalid("MinAdjustmentMagnitude and Cooldown must be 0 or more"));
    }
    if kind == AdjustmentType::ExactCapacity && steps.iter().any(|s| s.scaling_adjustment < 0) {
        return Err(invalid("The scaling adjustment of an ExactCapacity step must be 0 or more"));
    }
    let mut sorted: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| {
            (
                s.metric_interval_lower_bound.unwrap_or(f64::NEG_INFINITY),
                s.metric_interval_upper_bound.unwrap_or(f64::INFINITY),
            )
        })
        .collect();
    if sorted.iter().any(|(lo, hi)| lo >= hi) {
        return Err(invalid("The lower bound of a step adjustment must be less than its upper bound"));
    }
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if sorted.iter().filter(|(lo, _)| lo.is_infinite()).count() > 1
        || sorted.iter().filter(|(_, hi)| hi.is_infinite()).count() > 1
    {
        return Err(invalid("Only one step adjustment may have a null lower bound, and only one a null upper bound"));
    }
    for pair in sorted.windows(2) {
        if pair[0].1 > pair[1].0 {
            return Err(invalid("Step adjustments may not overlap"));
        }
        if pair[0].1 < pair[1].0 {
            return Err(invalid("Step adjustments may not have gaps between them"));
        }
    }
    Ok(())
}

/// The scaling adjustment for a breach, if a step holds it.
pub fn adjustment(c: &StepScalingPolicyConfiguration, breach: f64) -> Option<i32> {
    c.step_adjustments.as_deref().unwrap_or_default().iter().find_map(|s| {
        let lo = s.metric_interval_lower_bound.unwrap_or(f64::NEG_INFINITY);
        let hi = s.metric_interval_upper_bound.unwrap_or(f64::INFINITY);
        (lo <= breach && breach < hi).then_some(s.scaling_adjustment)
    })
}

/// The capacity after applying `adjustment` to `current`, within `min..=max`.
pub fn apply(c: &StepScalingPolicyConfiguration, current: i32, min: i32, max: i32, adjustment: i32) -> i32 {
    let current64 = i64::from(current);
    let new = match c.adjustment_type.unwrap_or(AdjustmentType::ChangeInCapacity) {
        AdjustmentType::ChangeInCapacity => current64 + i64::from(adjustment),
        AdjustmentType::ExactCapacity => i64::from(adjustment),
        AdjustmentType::PercentChangeInCapacity => {
            let raw = current as f64 * f64::from(adjustment) / 100.0;
            // AWS: between 0 and 1 becomes 1, above 1 rounds down; the same mirrored below 0.
            let mut change = if raw > 0.0 && raw < 1.0 {
                1
            } else if raw < 0.0 && raw > -1.0 {
                -1
            } else {
                raw.trunc() as i64
            };
            let magnitude = i64::from(c.min_adjustment_magnitude.unwrap_or(0));
            if change != 0 && change.abs() < magnitude {
                change = magnitude * change.signum();
            }
            current64 + change
        }
    };
    new.clamp(i64::from(min), i64::from(max)) as i32
}

/// The metric value the policy's aggregation makes of the alarm's datapoints.
pub fn aggregate(kind: Option<MetricAggregationType>, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match kind.unwrap_or(MetricAggregationType::Average) {
        MetricAggregationType::Average => values.iter().sum::<f64>() / values.len() as f64,
        MetricAggregationType::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
        MetricAggregationType::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> StepScalingPolicyConfiguration {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn intervals_are_checked() {
        let ok = config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 2}]}));
        assert_eq!(check(&ok), Ok(()));
        let gap = config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 20.0, "ScalingAdjustment": 2}]}));
        assert!(check(&gap).is_err());
        let overlap = config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 5.0, "ScalingAdjustment": 2}]}));
        assert!(check(&overlap).is_err());
        assert!(
            check(&config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": []}))).is_err()
        );
        assert!(check(&config(serde_json::json!({"StepAdjustments": [{"ScalingAdjustment": 1}]}))).is_err());
        let magnitude = config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "MinAdjustmentMagnitude": 2,
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]}));
        assert!(check(&magnitude).is_err());
    }

    #[test]
    fn adjustments_by_breach_and_type() {
        let c = config(serde_json::json!({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 3}]}));
        assert_eq!(adjustment(&c, 0.0), Some(1), "lower bound inclusive");
        assert_eq!(adjustment(&c, 10.0), Some(3), "upper bound exclusive");
        assert_eq!(adjustment(&c, -1.0), None);
        assert_eq!(apply(&c, 1, 1, 4, 3), 4);
        assert_eq!(apply(&c, 3, 1, 4, 3), 4, "within max");

        let exact = config(serde_json::json!({"AdjustmentType": "ExactCapacity"}));
        assert_eq!(apply(&exact, 1, 1, 10, 5), 5);
        let pct = config(serde_json::json!({"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 2}));
        assert_eq!(apply(&pct, 10, 0, 100, 25), 12, "25 % of 10 = 2.5 rounds down to 2");
        assert_eq!(apply(&pct, 2, 0, 100, 10), 4, "0.2 becomes 1, then at least the magnitude 2");
        assert_eq!(apply(&pct, 10, 0, 100, -5), 8, "-0.5 becomes -1, then -2");
        assert_eq!(aggregate(Some(MetricAggregationType::Maximum), &[1.0, 5.0, 3.0]), Some(5.0));
        assert_eq!(aggregate(None, &[1.0, 5.0]), Some(3.0));
        assert_eq!(aggregate(None, &[]), None);
    }
}
