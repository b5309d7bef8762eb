//! Running MetricDataQueries over the metric store: GetMetricData's and math alarms'.
//! Checking them (`berth_model::cloudwatch::queries::check`) comes first; the math is
//! `berth_model::cloudwatch::math`.

use berth_metric_store::{Bucket, MetricId, MetricStore};
use berth_model::cloudwatch::math::{self, Series, Value};
use berth_model::cloudwatch::queries::Checked;
use berth_model::cloudwatch::statistics::Stat;
use berth_model::cloudwatch::{Dimension, MetricDataQuery, MetricStat};
use std::collections::BTreeSet;
use std::time::Duration;

pub fn metric_id(namespace: &str, metric_name: &str, dimensions: &[Dimension]) -> MetricId {
    MetricId::new(namespace, metric_name, dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect())
}

pub fn stat_of(b: &Bucket, stat: Stat) -> Option<f64> {
    stat.value(b.sum, b.min, b.max, b.count, &b.values)
}

/// One MetricStat's series: its statistic per period with data.
fn stat_series(
    store: &MetricStore,
    s: &MetricStat,
    stat: Stat,
    start_ms: i64,
    end_ms: i64,
    period: Duration,
) -> Series {
    let m = &s.metric;
    let id = metric_id(
        m.namespace.as_deref().unwrap_or_default(),
        m.metric_name.as_deref().unwrap_or_default(),
        m.dimensions.as_deref().unwrap_or_default(),
    );
    let unit = s.unit.map(|u| u.as_str());
    store
        .query(&id, unit, start_ms, end_ms, period)
        .iter()
        .filter_map(|b| stat_of(b, stat).map(|v| (b.timestamp_ms, v)))
        .collect()
}

/// Every query's series (or why it has none), in the order given. `period` turns a
/// Period (seconds of metric time) into real time: 1:1 for GetMetricData, the metric
/// clock's for alarms.
pub fn run(
    store: &MetricStore,
    queries: &[MetricDataQuery],
    checked: &[Checked],
    start_ms: i64,
    end_ms: i64,
    period: &dyn Fn(i32) -> Duration,
) -> Vec<Result<Series, String>> {
    let stats: Vec<Option<Series>> = queries
        .iter()
        .zip(checked)
        .map(|(q, c)| match (c, &q.metric_stat) {
            (Checked::Stat(stat), Some(s)) => Some(stat_series(store, s, *stat, start_ms, end_ms, period(s.period))),
            _ => None,
        })
        .collect();
    let grid: BTreeSet<i64> = stats.iter().flatten().flat_map(|s| s.keys().copied()).collect();
    let all_stats: Vec<Series> = stats.iter().flatten().cloned().collect();
    (0..queries.len())
        .map(|i| match value_of(i, queries, checked, &stats, &all_stats, 0)? {
            Value::Series(s) => Ok(s),
            Value::Scalar(x) => Ok(grid.iter().map(|t| (*t, x)).collect()),
            Value::Array(_) => Err(format!("The expression {} returns more than one time series.", queries[i].id)),
        })
        .collect()
}

fn value_of(
    i: usize,
    queries: &[MetricDataQuery],
    checked: &[Checked],
    stats: &[Option<Series>],
    all_stats: &[Series],
    depth: usize,
) -> Result<Value, String> {
    if let Some(s) = &stats[i] {
        return Ok(Value::Series(s.clone()));
    }
    let Checked::Expression(expr) = &checked[i] else {
        return Err(format!("The query {} has no data.", queries[i].id));
    };
    if depth > queries.len() {
        return Err(format!("Error in expression {}: circular reference.", queries[i].id));
    }
    let mut resolve = |id: &str| match queries.iter().position(|q| q.id == id) {
        Some(j) => value_of(j, queries, checked, stats, all_stats, depth + 1),
        None => Err(format!("Unrecognized metric or expression id {id}.")),
    };
    math::eval(expr, &mut resolve, &|| all_stats.to_vec())
        .map_err(|e| format!("Error in expression {}: {e}", queries[i].id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_metric_store::{Datum, Value as V};
    use berth_model::cloudwatch::queries::check;

    #[test]
    fn stats_and_expressions_over_stored_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        let t0 = berth_metric_store::now_ms() / 60_000 * 60_000 - 600_000;
        let put = |name: &str, ts: i64, v: f64| Datum {
            id: metric_id("App", name, &[]),
            timestamp_ms: ts,
            value: V::Single(v),
            unit: None,
            storage_resolution: 60,
        };
        store
            .put(&[put("a", t0, 1.0), put("a", t0 + 1_000, 3.0), put("a", t0 + 60_000, 5.0), put("b", t0, 10.0)])
            .unwrap();
        let queries: Vec<MetricDataQuery> = serde_json::from_value(serde_json::json!([
            {"Id": "a", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "a"}, "Period": 60, "Stat": "Sum"}, "ReturnData": false},
            {"Id": "b", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "b"}, "Period": 60, "Stat": "Average"}},
            {"Id": "e", "Expression": "a + b"},
            {"Id": "s", "Expression": "SUM(a)"},
            {"Id": "x", "Expression": "METRICS()"}
        ]))
        .unwrap();
        let checked = check(&queries).unwrap();
        let out = run(&store, &queries, &checked, t0, t0 + 120_000, &|p| Duration::from_secs(p as u64));
        let series = |i: usize| out[i].clone().unwrap().into_iter().collect::<Vec<_>>();
        assert_eq!(series(0), [(t0, 4.0), (t0 + 60_000, 5.0)]);
        assert_eq!(series(2), [(t0, 14.0)]);
        assert_eq!(series(3), [(t0, 9.0), (t0 + 60_000, 9.0)]);
        assert!(out[4].as_ref().unwrap_err().contains("more than one"));
    }
}
