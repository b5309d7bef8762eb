//! PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics.

use super::{Ctx, blocking, metrics, ms, now_ms, page};
use crate::error::AwsError;
use berth_cloudwatch::query::{self, metric_id, stat_of};
use berth_metric_store::{Datum, ListFilter, Value};
use berth_model::cloudwatch::queries::{self, Checked};
use berth_model::cloudwatch::{
    CwError, Datapoint, Dimension, GetMetricDataInput, GetMetricDataOutput, GetMetricStatisticsInput,
    GetMetricStatisticsOutput, ListMetricsInput, ListMetricsOutput, MessageData, Metric, MetricDataResult,
    PutMetricDataInput, RecentlyActive, ScanBy, StatusCode, put_data, statistics,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// PutMetricData has no output members.
#[derive(serde::Serialize)]
pub struct Empty {}

pub async fn put(ctx: Ctx, input: PutMetricDataInput) -> Result<Empty, AwsError> {
    let now = now_ms();
    put_data::check(&input, now)?;
    let batch: Vec<Datum> = input
        .metric_data
        .unwrap_or_default()
        .into_iter()
        .map(|d| Datum {
            id: metric_id(&input.namespace, &d.metric_name, d.dimensions.as_deref().unwrap_or_default()),
            timestamp_ms: d.timestamp.map_or(now, ms),
            value: match (d.value, d.statistic_values, d.values) {
                (Some(v), _, _) => Value::Single(v),
                (_, Some(s), _) => Value::Stats { sum: s.sum, min: s.minimum, max: s.maximum, count: s.sample_count },
                (_, _, values) => {
                    Value::Values { values: values.unwrap_or_default(), counts: d.counts.unwrap_or_default() }
                }
            },
            unit: d.unit.map(|u| u.as_str().to_string()),
            storage_resolution: d.storage_resolution.map_or(60, |r| r as u32),
        })
        .collect();
    let store = metrics(&ctx)?;
    blocking(move || store.put(&batch)).await??;
    Ok(Empty {})
}

pub async fn statistics(ctx: Ctx, input: GetMetricStatisticsInput) -> Result<GetMetricStatisticsOutput, AwsError> {
    let stats = statistics::check(&input)?;
    let id = metric_id(&input.namespace, &input.metric_name, input.dimensions.as_deref().unwrap_or_default());
    let unit = input.unit.map(|u| u.as_str().to_string());
    let (start, end) = (ms(input.start_time), ms(input.end_time));
    let period = Duration::from_secs(input.period as u64);
    let store = metrics(&ctx)?;
    let buckets = blocking(move || store.query(&id, unit.as_deref(), start, end, period)).await?;
    let datapoints = buckets
        .iter()
        .map(|b| {
            let mut d = Datapoint {
                timestamp: Some(berth_model::Timestamp(b.timestamp_ms as f64 / 1000.0)),
                unit: Some(unit_of(b.unit.as_deref())),
                ..Default::default()
            };
            let mut extended = BTreeMap::new();
            for (name, stat) in &stats {
                let v = stat_of(b, *stat);
                match name.as_str() {
                    "SampleCount" => d.sample_count = v,
                    "Average" => d.average = v,
                    "Sum" => d.sum = v,
                    "Minimum" => d.minimum = v,
                    "Maximum" => d.maximum = v,
                    _ => {
                        if let Some(v) = v {
                            extended.insert(name.clone(), v);
                        }
                    }
                }
            }
            if !extended.is_empty() {
                d.extended_statistics = Some(extended);
            }
            d
        })
        .collect();
    Ok(GetMetricStatisticsOutput { label: Some(input.metric_name), datapoints: Some(datapoints) })
}

fn unit_of(unit: Option<&str>) -> berth_model::cloudwatch::StandardUnit {
    use berth_model::cloudwatch::StandardUnit;
    StandardUnit::ALL.iter().copied().find(|u| Some(u.as_str()) == unit).unwrap_or(StandardUnit::None)
}

/// The most datapoints GetMetricData returns in one answer (AWS: 100,800).
const MAX_DATAPOINTS: usize = 100_800;

pub async fn get_data(ctx: Ctx, input: GetMetricDataInput) -> Result<GetMetricDataOutput, AwsError> {
    let checked = queries::check(&input.metric_data_queries)?;
    let (start, end) = (ms(input.start_time), ms(input.end_time));
    if start >= end {
        return Err(CwError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        )
        .into());
    }
    let max = match input.max_datapoints {
        Some(n) if n <= 0 => {
            return Err(
                CwError::InvalidParameterValue("The parameter MaxDatapoints must be greater than 0.".into()).into()
            );
        }
        Some(n) => (n as usize).min(MAX_DATAPOINTS),
        None => MAX_DATAPOINTS,
    };
    let skip = match &input.next_token {
        None => 0,
        Some(t) => t.strip_prefix("cw1-").and_then(|n| n.parse::<usize>().ok()).ok_or_else(|| {
            CwError::InvalidNextToken(
                "The NextToken is not valid: pass the NextToken of the previous response unchanged.".into(),
            )
        })?,
    };
    let ascending = input.scan_by == Some(ScanBy::TimestampAscending);
    let store = metrics(&ctx)?;
    let queries = input.metric_data_queries.clone();
    let results = blocking(move || {
        let checked: Vec<Checked> = checked;
        query::run(&store, &queries, &checked, start, end, &|p| Duration::from_secs(p.max(1) as u64))
    })
    .await?;
    // All returned series' points in scan order, paged by a position across them.
    let mut out = vec![];
    let mut position = 0usize;
    let mut next_token = None;
    for (q, result) in input.metric_data_queries.iter().zip(results) {
        if !q.return_data.unwrap_or(true) {
            continue;
        }
        let label = q
            .label
            .clone()
            .or_else(|| q.metric_stat.as_ref().and_then(|s| s.metric.metric_name.clone()))
            .unwrap_or_else(|| q.id.clone());
        let mut r = MetricDataResult { id: Some(q.id.clone()), label: Some(label), ..Default::default() };
        match result {
            Err(message) => {
                r.status_code = Some(StatusCode::InternalError);
                r.messages = Some(vec![MessageData { code: Some("InternalError".into()), value: Some(message) }]);
                r.timestamps = Some(vec![]);
                r.values = Some(vec![]);
            }
            Ok(series) => {
                let mut points: Vec<(i64, f64)> = series.into_iter().collect();
                if !ascending {
                    points.reverse();
                }
                let (mut ts, mut vs) = (vec![], vec![]);
                let mut complete = true;
                for (t, v) in points {
                    if position >= skip {
                        if position - skip >= max {
                            complete = false;
                            next_token.get_or_insert_with(|| format!("cw1-{position}"));
                            position += 1;
                            continue;
                        }
                        ts.push(berth_model::Timestamp(t as f64 / 1000.0));
                        vs.push(v);
                    }
                    position += 1;
                }
                r.status_code = Some(if complete { StatusCode::Complete } else { StatusCode::PartialData });
                r.timestamps = Some(ts);
                r.values = Some(vs);
            }
        }
        out.push(r);
    }
    Ok(GetMetricDataOutput { metric_data_results: Some(out), next_token, messages: Some(vec![]) })
}

/// ListMetrics pages by 500, as AWS does.
const LIST_PAGE: usize = 500;
const THREE_HOURS_MS: i64 = 3 * 3600 * 1000;

pub async fn list(ctx: Ctx, input: ListMetricsInput) -> Result<ListMetricsOutput, AwsError> {
    let dimensions = input.dimensions.unwrap_or_default();
    if dimensions.len() > 10 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection Dimensions must not have a size greater than 10; it has {}.",
            dimensions.len()
        ))
        .into());
    }
    let filter = ListFilter {
        namespace: input.namespace,
        metric_name: input.metric_name,
        dimensions: dimensions.into_iter().map(|d| (d.name, d.value)).collect(),
        active_since_ms: input.recently_active.map(|RecentlyActive::Pt3h| now_ms() - THREE_HOURS_MS),
    };
    let store = metrics(&ctx)?;
    let ids = blocking(move || store.list(&filter)).await?;
    let (ids, next_token) = page(&ids, input.next_token.as_deref(), LIST_PAGE)?;
    let metrics = ids
        .into_iter()
        .map(|id| Metric {
            namespace: Some(id.namespace),
            metric_name: Some(id.metric_name),
            dimensions: Some(id.dimensions.into_iter().map(|(name, value)| Dimension { name, value }).collect()),
        })
        .collect();
    Ok(ListMetricsOutput { metrics: Some(metrics), next_token, owning_accounts: None })
}
