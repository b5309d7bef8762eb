//! Alarm evaluation, the pure rule: given an alarm's most recent periods' datapoints,
//! the state it should be in, with StateReason and StateReasonData in AWS's words.
//!
//! As on AWS, an evaluation reads an *evaluation range* longer than EvaluationPeriods
//! (berth's: twice as many periods, `range_periods`) and evaluates the N =
//! EvaluationPeriods most recent datapoints the range holds, so a late or skipped
//! datapoint does not hold an alarm up. Only when the range holds fewer than N are the
//! missing ones filled as TreatMissingData says: `breaching` / `notBreaching` count them
//! as such; `missing` and `ignore` leave them out. Then: ALARM when at least M =
//! DatapointsToAlarm breach; OK when more than N − M do not (ALARM is then impossible,
//! whatever the missing periods held); INSUFFICIENT_DATA (`missing`) or the current state
//! (`ignore`) when every period is missing; otherwise the state stays as it is.

use super::ComparisonOperator;
use super::StateValue;
use super::alarm::{AlarmRecord, TreatMissingData};

/// One evaluated period: its start (ms of real time) and its statistic, if it has data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub timestamp_ms: i64,
    pub value: Option<f64>,
    /// Samples in the period (StateReasonData's sampleCount).
    pub sample_count: f64,
}

/// What the evaluation decided. `value == None` means: keep the current state.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub value: Option<StateValue>,
    pub reason: String,
    pub reason_data: String,
}

/// The window an evaluation at `now_ms` covers: the `n` most recent complete periods of
/// `period_ms` (aligned to multiples of the period since the epoch), as `[start, end)`.
pub fn window(now_ms: i64, period_ms: i64, n: i32) -> (i64, i64) {
    let period = period_ms.max(1);
    let end = now_ms.div_euclid(period) * period;
    (end - period * i64::from(n.max(1)), end)
}

/// How many periods an alarm of `evaluation_periods` reads (its evaluation range).
pub fn range_periods(evaluation_periods: i32) -> i32 {
    evaluation_periods.max(1).saturating_mul(2)
}

pub fn breaches(op: ComparisonOperator, value: f64, threshold: f64) -> bool {
    match op {
        ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
        ComparisonOperator::GreaterThanThreshold => value > threshold,
        ComparisonOperator::LessThanThreshold => value < threshold,
        ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        _ => false,
    }
}

fn words(op: ComparisonOperator) -> &'static str {
    match op {
        ComparisonOperator::GreaterThanOrEqualToThreshold => "greater than or equal to",
        ComparisonOperator::GreaterThanThreshold => "greater than",
        ComparisonOperator::LessThanThreshold => "less than",
        ComparisonOperator::LessThanOrEqualToThreshold => "less than or equal to",
        _ => "outside the band of",
    }
}

/// `91.0 (04/12/26 02:03:00)`: the value as Java prints a double, the time as AWS does.
fn point(p: &Period, v: f64) -> String {
    let format = time::macros::format_description!("[day]/[month]/[year repr:last_two] [hour]:[minute]:[second]");
    format!("{} ({})", java_double(v), time_of(p.timestamp_ms, format))
}

fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 { format!("{v:.1}") } else { format!("{v}") }
}

fn time_of(ms: i64, format: &[time::format_description::FormatItem<'_>]) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(format).unwrap_or_default()
}

/// `2026-12-04T02:03:00.000+0000`, StateReasonData's dates.
pub fn reason_date(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000");
    time_of(ms, format)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Evaluates `alarm` over `periods` (its evaluation range, oldest first), at `now_ms`,
/// with `stat` naming the statistic in StateReasonData.
pub fn evaluate(alarm: &AlarmRecord, periods: &[Period], stat: &str, now_ms: i64) -> Outcome {
    let n = alarm.evaluation_periods.max(1) as usize;
    let m = alarm.datapoints_to_alarm().max(1) as usize;
    let threshold = alarm.threshold.unwrap_or(0.0);
    let op = alarm.comparison_operator;
    let treat = alarm.treat_missing_data;
    // The N most recent datapoints of the range, newest first as AWS lists them; when
    // there are fewer, the N most recent periods with their missing ones.
    let known: Vec<&Period> = periods.iter().rev().filter(|p| p.value.is_some()).take(n).collect();
    let window: Vec<&Period> = if known.len() == n { known } else { periods.iter().rev().take(n).collect() };
    let mut counted: Vec<(&Period, Option<f64>, bool)> = vec![];
    for &p in &window {
        match (p.value, treat) {
            (Some(v), _) => counted.push((p, Some(v), breaches(op, v, threshold))),
            (None, TreatMissingData::Breaching) => counted.push((p, None, true)),
            (None, TreatMissingData::NotBreaching) => counted.push((p, None, false)),
            (None, _) => {}
        }
    }
    let breaching: Vec<_> = counted.iter().filter(|c| c.2).collect();
    // recentDatapoints are oldest first (AWS's order); evaluatedDatapoints newest first.
    let recent: Vec<f64> = window.iter().rev().filter_map(|p| p.value).collect();
    let data = serde_json::json!({
        "version": "1.0",
        "queryDate": reason_date(now_ms),
        "startDate": window.last().map(|p| reason_date(p.timestamp_ms)),
        "statistic": stat,
        "period": alarm.period(),
        "recentDatapoints": recent,
        "threshold": threshold,
        "evaluatedDatapoints": window.iter().filter(|p| p.value.is_some()).map(|p| serde_json::json!({
            "timestamp": reason_date(p.timestamp_ms),
            "sampleCount": p.sample_count,
            "value": p.value,
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let listed = |items: &[&(&Period, Option<f64>, bool)]| -> String {
        items.iter().filter_map(|(p, v, _)| v.map(|v| point(p, v))).collect::<Vec<_>>().join(", ")
    };
    if breaching.len() >= m {
        let shown = breaching;
        let reason = if m == n {
            format!(
                "Threshold Crossed: {} [{}] {} {} the threshold ({}).",
                plural(shown.len(), "datapoint", "datapoints"),
                listed(&shown),
                if shown.len() == 1 { "was" } else { "were" },
                words(op),
                java_double(threshold)
            )
        } else {
            format!(
                "Threshold Crossed: {} out of the last {n} datapoints [{}] {} {} the threshold ({}) (minimum {} for OK -> ALARM transition).",
                shown.len(),
                listed(&shown),
                if shown.len() == 1 { "was" } else { "were" },
                words(op),
                java_double(threshold),
                plural(m, "datapoint", "datapoints")
            )
        };
        return Outcome { value: Some(StateValue::Alarm), reason, reason_data: data };
    }
    let not_breaching = counted.len() - breaching.len();
    if counted.is_empty() {
        let reason = format!("Insufficient Data: {} unknown.", plural(n, "datapoint was", "datapoints were"));
        let value = (treat != TreatMissingData::Ignore).then_some(StateValue::InsufficientData);
        return Outcome { value, reason, reason_data: data };
    }
    if not_breaching <= n - m {
        // Too few datapoints to rule ALARM out (the missing ones could breach): undecided.
        let reason = format!("Unchecked: {} of {n} datapoints known, too few to decide.", counted.len());
        return Outcome { value: None, reason, reason_data: data };
    }
    let all: Vec<_> = counted.iter().collect();
    let reason = format!(
        "Threshold Crossed: {} [{}] {} not {} the threshold ({}).",
        plural(counted.len(), "datapoint", "datapoints"),
        listed(&all),
        if counted.len() == 1 { "was" } else { "were" },
        words(op),
        java_double(threshold)
    );
    Outcome { value: Some(StateValue::Ok), reason, reason_data: data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::Scope;
    use crate::cloudwatch::PutMetricAlarmInput;
    use crate::cloudwatch::alarm::validate;

    fn alarm(n: i32, m: i32, treat: &str) -> AlarmRecord {
        let input: PutMetricAlarmInput = serde_json::from_value(serde_json::json!({
            "AlarmName": "a", "MetricName": "CPU", "Namespace": "App", "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": n, "DatapointsToAlarm": m, "Threshold": 70.0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": treat
        }))
        .unwrap();
        validate(&input, &Scope::new("us-east-1", "1"), 0).unwrap()
    }

    /// `"X0-"`: breaching (91), not breaching (10), missing; oldest first.
    fn periods(pattern: &str) -> Vec<Period> {
        let t0 = 1_796_090_580_000; // 2026-12-01T02:03:00Z
        pattern
            .chars()
            .enumerate()
            .map(|(i, c)| Period {
                timestamp_ms: t0 + 60_000 * i as i64,
                value: match c {
                    'X' => Some(91.0),
                    '0' => Some(10.0),
                    _ => None,
                },
                sample_count: 1.0,
            })
            .collect()
    }

    fn state(n: i32, m: i32, treat: &str, pattern: &str) -> Option<StateValue> {
        evaluate(&alarm(n, m, treat), &periods(pattern), "Average", 0).value
    }

    #[test]
    fn m_out_of_n_with_each_treatment_of_missing_data() {
        use StateValue::*;
        // (pattern, missing, ignore, breaching, notBreaching) for 3 of 3.
        let table = [
            ("000", Some(Ok), Some(Ok), Some(Ok), Some(Ok)),
            ("XXX", Some(Alarm), Some(Alarm), Some(Alarm), Some(Alarm)),
            ("0XX", Some(Ok), Some(Ok), Some(Ok), Some(Ok)),
            ("-XX", None, None, Some(Alarm), Some(Ok)),
            ("---", Some(InsufficientData), None, Some(Alarm), Some(Ok)),
            ("--0", Some(Ok), Some(Ok), Some(Ok), Some(Ok)),
        ];
        for (pattern, missing, ignore, breaching, not_breaching) in table {
            assert_eq!(state(3, 3, "missing", pattern), missing, "missing {pattern}");
            assert_eq!(state(3, 3, "ignore", pattern), ignore, "ignore {pattern}");
            assert_eq!(state(3, 3, "breaching", pattern), breaching, "breaching {pattern}");
            assert_eq!(state(3, 3, "notBreaching", pattern), not_breaching, "notBreaching {pattern}");
        }
        // 2 of 3; only the last 3 periods count.
        assert_eq!(state(3, 2, "missing", "X0X"), Some(Alarm));
        assert_eq!(state(3, 2, "missing", "XX00X"), Some(Ok));
        assert_eq!(state(3, 2, "breaching", "-0X"), Some(Alarm));
        // 1 of 2 known and breaching, 2 of 2 needed: undecided, not OK.
        assert_eq!(state(2, 2, "missing", "-X"), None);
        assert_eq!(state(2, 2, "missing", "-0"), Some(Ok));
    }

    #[test]
    fn the_most_recent_datapoints_of_the_range_are_evaluated_across_gaps() {
        use StateValue::*;
        assert_eq!(range_periods(15), 30);
        // 15 of 15: a late (newest) and a skipped period do not hold the alarm up.
        let low = "XXXXX0000000-000000000-";
        assert_eq!(state(15, 15, "missing", &low.replace('X', "0")), Some(Ok));
        let mut a = alarm(15, 15, "missing");
        a.comparison_operator = ComparisonOperator::LessThanThreshold;
        assert_eq!(evaluate(&a, &periods(low), "Average", 0).value, Some(Alarm), "15 known, all below");
        // Only 14 known: the 15 most recent periods with their missing ones decide (undecided here).
        assert_eq!(evaluate(&a, &periods("000000-00000000-"), "Average", 0).value, None);
        // Older breaching datapoints beyond the N most recent known ones do not count.
        assert_eq!(state(3, 3, "missing", "XXX-000"), Some(Ok));
        assert_eq!(state(3, 3, "missing", "0X0-XX"), Some(Ok));
        assert_eq!(state(3, 3, "missing", "00XX-X-"), Some(Alarm));
    }

    #[test]
    fn the_window_is_the_last_complete_periods() {
        assert_eq!(window(185_000, 60_000, 3), (0, 180_000));
        assert_eq!(window(180_000, 60_000, 1), (120_000, 180_000));
        assert_eq!(window(7_500, 2_000, 2), (2_000, 6_000));
    }

    #[test]
    fn reasons_are_in_aws_words() {
        let out = evaluate(&alarm(3, 3, "missing"), &periods("XXX"), "Average", 0);
        assert_eq!(
            out.reason,
            "Threshold Crossed: 3 datapoints [91.0 (01/12/26 02:05:00), 91.0 (01/12/26 02:04:00), 91.0 (01/12/26 02:03:00)] were greater than the threshold (70.0)."
        );
        let data: serde_json::Value = serde_json::from_str(&out.reason_data).unwrap();
        assert_eq!(data["recentDatapoints"], serde_json::json!([91.0, 91.0, 91.0]));
        assert_eq!(data["evaluatedDatapoints"][0]["timestamp"], "2026-12-01T02:05:00.000+0000");
        assert_eq!(data["threshold"], 70.0);
        let gap: serde_json::Value =
            serde_json::from_str(&evaluate(&alarm(3, 3, "missing"), &periods("X0-"), "Average", 0).reason_data)
                .unwrap();
        assert_eq!(gap["recentDatapoints"], serde_json::json!([91.0, 10.0]), "oldest first, as AWS lists them");
        assert_eq!(gap["startDate"], "2026-12-01T02:03:00.000+0000");
        let out = evaluate(&alarm(3, 1, "missing"), &periods("00X"), "Average", 0);
        assert_eq!(
            out.reason,
            "Threshold Crossed: 1 out of the last 3 datapoints [91.0 (01/12/26 02:05:00)] was greater than the threshold (70.0) (minimum 1 datapoint for OK -> ALARM transition)."
        );
        let out = evaluate(&alarm(3, 3, "missing"), &periods("0"), "Average", 0);
        assert_eq!(
            out.reason,
            "Threshold Crossed: 1 datapoint [10.0 (01/12/26 02:03:00)] was not greater than the threshold (70.0)."
        );
        let out = evaluate(&alarm(2, 2, "missing"), &periods("--"), "Average", 0);
        assert_eq!(out.reason, "Insufficient Data: 2 datapoints were unknown.");
    }
}
