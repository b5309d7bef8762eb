//! PutMetricData's rules, as CloudWatch applies them: parameters named as the query
//! protocol names them (`MetricData.member.2.Value`), since that is how AWS words them.

use super::alarm::check_dimensions;
use super::{CwError, MetricDatum, PutMetricDataInput};

pub const MAX_DATA: usize = 1000;
pub const MAX_VALUES: usize = 150;
/// How far back and ahead a datum's timestamp may be.
pub const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
pub const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;

fn invalid(message: String) -> CwError {
    CwError::InvalidParameterValue(message)
}

/// Checks a whole request: nothing is stored unless every datum passes.
pub fn check(input: &PutMetricDataInput, now_ms: i64) -> Result<(), CwError> {
    check_namespace(&input.namespace)?;
    if input.namespace.starts_with("AWS/") {
        return Err(invalid(format!(
            "The value {} for parameter Namespace is invalid: namespaces beginning with AWS/ are reserved for AWS services.",
            input.namespace
        )));
    }
    let data = input.metric_data.as_deref().unwrap_or_default();
    if data.is_empty() {
        return Err(CwError::MissingParameter("The parameter MetricData is required.".into()));
    }
    if data.len() > MAX_DATA {
        return Err(invalid(format!(
            "The collection MetricData must not have a size greater than {MAX_DATA}; it has {}.",
            data.len()
        )));
    }
    for (i, datum) in data.iter().enumerate() {
        check_datum(&format!("MetricData.member.{}", i + 1), datum, now_ms)?;
    }
    Ok(())
}

pub fn check_namespace(namespace: &str) -> Result<(), CwError> {
    let n = namespace.chars().count();
    if n == 0 || n > 255 {
        return Err(invalid(format!("The parameter Namespace must be 1 to 255 characters long; it has {n}.")));
    }
    if namespace.starts_with(':') || namespace.chars().any(|c| c.is_control()) {
        return Err(invalid(format!("The value {namespace} for parameter Namespace is invalid.")));
    }
    Ok(())
}

fn check_datum(at: &str, d: &MetricDatum, now_ms: i64) -> Result<(), CwError> {
    let n = d.metric_name.chars().count();
    if n == 0 || n > 255 {
        return Err(invalid(format!("The parameter {at}.MetricName must be 1 to 255 characters long; it has {n}.")));
    }
    check_dimensions(d.dimensions.as_deref().unwrap_or_default())
        .map_err(|e| invalid(format!("{at}.Dimensions: {e}")))?;
    if let Some(t) = d.timestamp {
        let ms = (t.as_secs_f64() * 1000.0) as i64;
        if ms < now_ms - MAX_AGE_MS {
            return Err(invalid(format!(
                "The parameter {at}.Timestamp must specify a time within the past two weeks."
            )));
        }
        if ms > now_ms + MAX_AHEAD_MS {
            return Err(invalid(format!(
                "The parameter {at}.Timestamp must specify a time no more than two hours in the future."
            )));
        }
    }
    if let Some(r) = d.storage_resolution
        && r != 1
        && r != 60
    {
        return Err(invalid(format!("The value {r} for parameter {at}.StorageResolution is invalid: it is 1 or 60.")));
    }
    let given = [d.value.is_some(), d.statistic_values.is_some(), d.values.is_some()];
    match given {
        [false, false, false] => {
            return Err(CwError::InvalidParameterCombination(format!(
                "At least one of the parameters {at}.Value, {at}.StatisticValues or {at}.Values must be specified."
            )));
        }
        [true, true, _] => {
            return Err(CwError::InvalidParameterCombination(format!(
                "The parameters {at}.Value and {at}.StatisticValues are mutually exclusive and you have specified both."
            )));
        }
        [true, _, true] | [_, true, true] => {
            return Err(CwError::InvalidParameterCombination(format!(
                "The parameter {at}.Values cannot be specified with {at}.Value or {at}.StatisticValues."
            )));
        }
        _ => {}
    }
    if let Some(v) = d.value {
        check_value(&format!("{at}.Value"), v)?;
    }
    if let Some(s) = &d.statistic_values {
        for (name, v) in
            [("Sum", s.sum), ("Minimum", s.minimum), ("Maximum", s.maximum), ("SampleCount", s.sample_count)]
        {
            check_value(&format!("{at}.StatisticValues.{name}"), v)?;
        }
        if s.sample_count <= 0.0 {
            return Err(invalid(format!("The parameter {at}.StatisticValues.SampleCount must be greater than 0.")));
        }
        if s.minimum > s.maximum {
            return Err(invalid(format!(
                "The parameter {at}.StatisticValues.Minimum must be less than or equal to {at}.StatisticValues.Maximum."
            )));
        }
    }
    if let Some(values) = &d.values {
        if values.len() > MAX_VALUES {
            return Err(invalid(format!(
                "The collection {at}.Values must not have a size greater than {MAX_VALUES}; it has {}.",
                values.len()
            )));
        }
        for (j, v) in values.iter().enumerate() {
            check_value(&format!("{at}.Values.member.{}", j + 1), *v)?;
        }
        if let Some(counts) = &d.counts {
            if counts.len() != values.len() {
                return Err(invalid(format!("The parameters {at}.Values and {at}.Counts must be of the same size.")));
            }
            for (j, c) in counts.iter().enumerate() {
                if !c.is_finite() || *c <= 0.0 {
                    return Err(invalid(format!(
                        "The value {c} for parameter {at}.Counts.member.{} is invalid.",
                        j + 1
                    )));
                }
            }
        }
    } else if d.counts.is_some() {
        return Err(CwError::InvalidParameterCombination(format!("The parameter {at}.Counts needs {at}.Values.")));
    }
    Ok(())
}

/// CloudWatch refuses values outside ±2^360 and non-zero magnitudes under 2^-260.
fn check_value(at: &str, v: f64) -> Result<(), CwError> {
    let big = 2f64.powi(360);
    let small = 2f64.powi(-260);
    if !v.is_finite() || v.abs() > big || (v != 0.0 && v.abs() < small) {
        return Err(invalid(format!("The value {v} for parameter {at} is invalid.")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: serde_json::Value) -> PutMetricDataInput {
        serde_json::from_value(serde_json::json!({"Namespace": "App", "MetricData": data})).unwrap()
    }

    #[test]
    fn good_data_passes_and_bad_data_names_the_member() {
        let now = 1_800_000_000_000;
        assert!(check(&input(serde_json::json!([{"MetricName": "m", "Value": 1.0}])), now).is_ok());
        let cases = [
            (serde_json::json!([{"MetricName": "m"}]), "InvalidParameterCombination", ".member.1.Value"),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1, "StatisticValues": {"Sum": 1, "Minimum": 1, "Maximum": 1, "SampleCount": 1}}]),
                "InvalidParameterCombination",
                "mutually exclusive",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1}, {"MetricName": "", "Value": 1}]),
                "InvalidParameterValue",
                "member.2.MetricName",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Values": [1, 2], "Counts": [1]}]),
                "InvalidParameterValue",
                "same size",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1, "StorageResolution": 5}]),
                "InvalidParameterValue",
                "StorageResolution",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1, "Timestamp": 1_000_000_000}]),
                "InvalidParameterValue",
                "two weeks",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1, "Timestamp": 1_900_000_000}]),
                "InvalidParameterValue",
                "two hours",
            ),
            (
                serde_json::json!([{"MetricName": "m", "Value": 1, "Dimensions": (0..31).map(|i| serde_json::json!({"Name": format!("d{i}"), "Value": "v"})).collect::<Vec<_>>()}]),
                "InvalidParameterValue",
                "30",
            ),
            (serde_json::json!([]), "MissingParameter", "MetricData"),
        ];
        for (data, code, text) in cases {
            let e = check(&input(data.clone()), now).unwrap_err();
            assert_eq!(e.code(), code, "{data}: {e}");
            assert!(e.to_string().contains(text), "{data}: {e}");
        }
        let many: Vec<_> = (0..1001).map(|_| serde_json::json!({"MetricName": "m", "Value": 1})).collect();
        assert_eq!(check(&input(serde_json::json!(many)), now).unwrap_err().code(), "InvalidParameterValue");
        let aws: PutMetricDataInput = serde_json::from_value(
            serde_json::json!({"Namespace": "AWS/ECS", "MetricData": [{"MetricName": "m", "Value": 1}]}),
        )
        .unwrap();
        assert_eq!(check(&aws, now).unwrap_err().code(), "InvalidParameterValue");
    }
}
