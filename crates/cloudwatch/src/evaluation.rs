//! Evaluating one alarm against the metric store: its most recent periods' datapoints
//! (in the metric clock's time), the pure rule (`berth_model::cloudwatch::evaluate`),
//! and the state change with its history when the state value changes.

use crate::alarms::{AlarmsError, set_state};
use crate::query::{self, metric_id, stat_of};
use berth_metric_store::MetricStore;
use berth_model::cloudwatch::alarm::{AlarmMetric, AlarmRecord, AlarmStat, AlarmState};
use berth_model::cloudwatch::evaluate::{self, Outcome, Period};
use berth_model::cloudwatch::queries;
use berth_model::cloudwatch::statistics::Stat;
use berth_model::metric_clock::MetricClock;
use berth_store::Store;
use std::time::Duration;

/// The periods of the alarm's evaluation range at `now_ms`, oldest first, and the
/// statistic's name.
pub fn periods(metrics: &MetricStore, alarm: &AlarmRecord, clock: MetricClock, now_ms: i64) -> (Vec<Period>, String) {
    let period_ms = clock.real_ms(i64::from(alarm.period()));
    let range = evaluate::range_periods(alarm.evaluation_periods);
    let (start, end) = evaluate::window(now_ms, period_ms, range);
    let grid = |value_at: &dyn Fn(i64) -> (Option<f64>, f64)| -> Vec<Period> {
        (0..range)
            .map(|i| {
                let t = start + period_ms * i64::from(i);
                let (value, sample_count) = value_at(t);
                Period { timestamp_ms: t, value, sample_count }
            })
            .collect()
    };
    match &alarm.metric {
        AlarmMetric::Single(m) => {
            let (stat, name) = match &m.stat {
                AlarmStat::Statistic(s) => (Stat::of(*s), s.as_str().to_string()),
                AlarmStat::Extended(p) => (Stat::parse(p).unwrap_or(Stat::Average), p.clone()),
            };
            let id = metric_id(&m.namespace, &m.metric_name, &m.dimensions);
            let unit = m.unit.map(|u| u.as_str());
            let buckets = metrics.query(&id, unit, start, end, Duration::from_millis(period_ms as u64));
            let periods = grid(&|t| match buckets.iter().find(|b| b.timestamp_ms == t) {
                Some(b) => (stat_of(b, stat), b.count),
                None => (None, 0.0),
            });
            (periods, name)
        }
        AlarmMetric::Math(qs) => {
            let series = queries::check(qs)
                .ok()
                .and_then(|checked| {
                    let results = query::run(metrics, qs, &checked, start, end, &|p| clock.real(i64::from(p)));
                    let returned = qs.iter().position(|q| q.return_data.unwrap_or(true))?;
                    results.into_iter().nth(returned)?.ok()
                })
                .unwrap_or_default();
            // A math result's timestamps are its own queries' periods; take each
            // evaluated period's latest point.
            let periods = grid(&|t| match series.range(t..t + period_ms).next_back() {
                Some((_, v)) => (Some(*v), 1.0),
                None => (None, 0.0),
            });
            (periods, "Maths".to_string())
        }
    }
}

/// Evaluates `alarm` at `now_ms` and stores the new state if its value changed.
/// Returns the outcome (for logs and tests).
pub async fn evaluate_alarm(
    store: &dyn Store,
    metrics: &MetricStore,
    alarm: &AlarmRecord,
    clock: MetricClock,
    now_ms: i64,
) -> Result<Outcome, AlarmsError> {
    let (periods, stat) = periods(metrics, alarm, clock, now_ms);
    let outcome = evaluate::evaluate(alarm, &periods, &stat, now_ms);
    if let Some(value) = outcome.value
        && value != alarm.state.value
    {
        let state = AlarmState {
            value,
            reason: outcome.reason.clone(),
            reason_data: Some(outcome.reason_data.clone()),
            updated_ms: now_ms,
            transitioned_ms: now_ms,
        };
        set_state(store, &alarm.name, state).await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::{get_alarm, put_alarm};
    use berth_metric_store::{Datum, Value};
    use berth_model::arn::Scope;
    use berth_model::cloudwatch::alarm::validate;
    use berth_model::cloudwatch::{PutMetricAlarmInput, StateValue};
    use berth_store::MemoryStore;

    #[tokio::test]
    async fn an_alarm_goes_to_alarm_and_back_to_ok_on_the_fast_clock() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = MetricStore::open(dir.path()).unwrap();
        let store = MemoryStore::new();
        let clock = MetricClock::new(2).unwrap(); // Period 60 = 2 s
        let input: PutMetricAlarmInput = serde_json::from_value(serde_json::json!({
            "AlarmName": "high", "Namespace": "App", "MetricName": "load", "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": 2, "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold"
        }))
        .unwrap();
        let t0 = 1_800_000_000_000; // a multiple of 2 s
        let alarm = put_alarm(&store, validate(&input, &Scope::new("us-east-1", "1"), t0).unwrap()).await.unwrap();
        let put = |ts: i64, v: f64| {
            let id = metric_id("App", "load", &[]);
            metrics
                .put(&[Datum { id, timestamp_ms: ts, value: Value::Single(v), unit: None, storage_resolution: 1 }])
                .unwrap();
        };
        put(t0, 90.0);
        put(t0 + 1_000, 70.0);
        put(t0 + 2_000, 80.0);
        let out = evaluate_alarm(&store, &metrics, &alarm, clock, t0 + 4_100).await.unwrap();
        assert_eq!(out.value, Some(StateValue::Alarm), "{}", out.reason);
        assert!(out.reason.starts_with("Threshold Crossed: 2 datapoints [80.0 ("), "{}", out.reason);
        let alarm = get_alarm(&store, "high").await.unwrap().unwrap();
        assert_eq!(alarm.state.value, StateValue::Alarm);
        put(t0 + 4_000, 10.0);
        put(t0 + 6_000, 10.0);
        evaluate_alarm(&store, &metrics, &alarm, clock, t0 + 8_000).await.unwrap();
        assert_eq!(get_alarm(&store, "high").await.unwrap().unwrap().state.value, StateValue::Ok);
    }
}
