//! Statistics and periods: which a request may ask for, as GetMetricStatistics,
//! GetMetricData's MetricStat and alarms name them.

use super::alarm::{check_dimensions, check_percentile};
use super::{CwError, GetMetricStatisticsInput, Statistic};

/// A statistic over one period's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
    /// 0-100.
    Percentile(f64),
}

impl Stat {
    /// `Average`, `Sum`, ..., or `p99.9`, as MetricStat's `Stat` names it.
    pub fn parse(text: &str) -> Option<Stat> {
        Some(match text {
            "SampleCount" => Stat::SampleCount,
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            p => Stat::Percentile(check_percentile(p).ok()?),
        })
    }

    pub fn of(s: Statistic) -> Stat {
        match s {
            Statistic::SampleCount => Stat::SampleCount,
            Statistic::Average => Stat::Average,
            Statistic::Sum => Stat::Sum,
            Statistic::Minimum => Stat::Minimum,
            Statistic::Maximum => Stat::Maximum,
        }
    }

    /// The statistic of a period's aggregate; percentiles need the samples (`values`:
    /// `(value, count)`), and are None without them.
    pub fn value(&self, sum: f64, min: f64, max: f64, count: f64, values: &[(f64, f64)]) -> Option<f64> {
        match self {
            Stat::SampleCount => Some(count),
            Stat::Average => (count > 0.0).then(|| sum / count),
            Stat::Sum => Some(sum),
            Stat::Minimum => Some(min),
            Stat::Maximum => Some(max),
            Stat::Percentile(p) => percentile(values, *p),
        }
    }
}

/// The `p`th percentile of weighted samples: the smallest value with at least p% of the
/// samples at or below it.
pub fn percentile(values: &[(f64, f64)], p: f64) -> Option<f64> {
    let mut sorted: Vec<(f64, f64)> = values.iter().copied().filter(|(v, c)| v.is_finite() && *c > 0.0).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sorted.iter().map(|(_, c)| c).sum();
    let rank = p / 100.0 * total;
    let mut seen = 0.0;
    for (v, c) in &sorted {
        seen += c;
        if seen >= rank - 1e-9 {
            return Some(*v);
        }
    }
    sorted.last().map(|(v, _)| *v)
}

/// The most datapoints one GetMetricStatistics answer may hold.
pub const MAX_DATAPOINTS: i64 = 1440;

/// A period of 1, 5, 10, 30 (high resolution) or a multiple of 60 seconds.
pub fn check_period(name: &str, period: i32) -> Result<(), CwError> {
    if period <= 0 {
        return Err(CwError::InvalidParameterValue(format!("The parameter {name} must be greater than 0.")));
    }
    if !matches!(period, 1 | 5 | 10 | 30) && period % 60 != 0 {
        return Err(CwError::InvalidParameterValue(format!(
            "The parameter {name} must be a multiple of 60 (or 1, 5, 10 or 30 for high-resolution metrics); {period} is not."
        )));
    }
    Ok(())
}

/// Checks GetMetricStatistics' request; returns the statistics asked for, in order
/// (Statistics, then ExtendedStatistics with their names).
pub fn check(input: &GetMetricStatisticsInput) -> Result<Vec<(String, Stat)>, CwError> {
    super::put_data::check_namespace(&input.namespace)?;
    if input.metric_name.is_empty() || input.metric_name.chars().count() > 255 {
        return Err(CwError::InvalidParameterValue(
            "The parameter MetricName must be 1 to 255 characters long.".into(),
        ));
    }
    check_dimensions(input.dimensions.as_deref().unwrap_or_default())?;
    check_period("Period", input.period)?;
    let (start, end) = (input.start_time.as_secs_f64(), input.end_time.as_secs_f64());
    if start >= end {
        return Err(CwError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    let statistics = input.statistics.as_deref().unwrap_or_default();
    let extended = input.extended_statistics.as_deref().unwrap_or_default();
    match (statistics.is_empty(), extended.is_empty()) {
        (true, true) => {
            return Err(CwError::MissingParameter(
                "Must specify either the Statistics or the ExtendedStatistics parameter.".into(),
            ));
        }
        (false, false) => {
            return Err(CwError::InvalidParameterCombination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both."
                    .into(),
            ));
        }
        _ => {}
    }
    if statistics.len() > 5 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection Statistics must not have a size greater than 5; it has {}.",
            statistics.len()
        )));
    }
    if extended.len() > 10 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection ExtendedStatistics must not have a size greater than 10; it has {}.",
            extended.len()
        )));
    }
    let points = ((end - start) / f64::from(input.period)).ceil() as i64;
    if points > MAX_DATAPOINTS {
        return Err(CwError::InvalidParameterCombination(format!(
            "You have requested up to {points} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }
    let mut out: Vec<(String, Stat)> = statistics.iter().map(|s| (s.as_str().to_string(), Stat::of(*s))).collect();
    for (i, p) in extended.iter().enumerate() {
        let value = check_percentile(p).map_err(|_| {
            CwError::InvalidParameterValue(format!(
                "The value {p} for parameter ExtendedStatistics.member.{} is invalid: a percentile is p0 to p100 (p90, p99.9).",
                i + 1
            ))
        })?;
        out.push((p.clone(), Stat::Percentile(value)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(patch: serde_json::Value) -> GetMetricStatisticsInput {
        let mut v = serde_json::json!({
            "Namespace": "App", "MetricName": "m", "StartTime": 1_700_000_000, "EndTime": 1_700_003_600,
            "Period": 60, "Statistics": ["Sum", "Average"]
        });
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn requests_are_checked_as_cloudwatch_does() {
        let ok = check(&input(serde_json::json!({}))).unwrap();
        assert_eq!(ok.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["Sum", "Average"]);
        let p = check(&input(serde_json::json!({"Statistics": null, "ExtendedStatistics": ["p99"]}))).unwrap();
        assert_eq!(p[0].1, Stat::Percentile(99.0));
        let cases = [
            (serde_json::json!({"Period": 45}), "InvalidParameterValue"),
            (serde_json::json!({"Period": 0}), "InvalidParameterValue"),
            (serde_json::json!({"Period": 1}), "InvalidParameterCombination"),
            (serde_json::json!({"EndTime": 1_600_000_000}), "InvalidParameterValue"),
            (serde_json::json!({"Statistics": null}), "MissingParameter"),
            (serde_json::json!({"ExtendedStatistics": ["p50"]}), "InvalidParameterCombination"),
            (serde_json::json!({"Statistics": null, "ExtendedStatistics": ["median"]}), "InvalidParameterValue"),
        ];
        for (patch, code) in cases {
            let e = check(&input(patch.clone())).unwrap_err();
            assert_eq!(e.code(), code, "{patch}: {e}");
        }
        // 3600 one-second periods is more than 1440 datapoints.
        assert!(check(&input(serde_json::json!({"Period": 1}))).unwrap_err().to_string().contains("1,440"));
        assert!(check(&input(serde_json::json!({"Period": 5, "EndTime": 1_700_007_200}))).is_ok());
    }

    #[test]
    fn statistics_of_an_aggregate() {
        let values = [(1.0, 1.0), (2.0, 1.0), (9.0, 2.0)];
        assert_eq!(Stat::Average.value(21.0, 1.0, 9.0, 4.0, &values), Some(5.25));
        assert_eq!(Stat::SampleCount.value(21.0, 1.0, 9.0, 4.0, &values), Some(4.0));
        assert_eq!(Stat::Percentile(50.0).value(21.0, 1.0, 9.0, 4.0, &values), Some(2.0));
        assert_eq!(Stat::Percentile(90.0).value(21.0, 1.0, 9.0, 4.0, &[]), None);
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("Median"), None);
    }
}
