//! CloudWatch metrics and alarms (`monitoring`): JSON 1.0 (`X-Amz-Target:
//! GraniteServiceVersion20100801.<Op>`, what boto3 and the aws CLI send, with
//! `x-amzn-query-mode: true`: errors carry the query code in `x-amzn-query-error`).
//! Datapoints go to `berth-metric-store` (on blocking threads: a put waits for its
//! fsync); alarms to the store through `berth-cloudwatch`. The rules are
//! `berth_model::cloudwatch`'s.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::json;
use crate::route::Service;
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use std::sync::Arc;

pub(crate) mod access;
mod alarms;
mod data;
mod history;
mod tags;

pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";

pub const SERVICE: Service = Service::json("monitoring", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    match op {
        "PutMetricData" => run(ctx, body, data::put).await,
        "GetMetricStatistics" => run(ctx, body, data::statistics).await,
        "GetMetricData" => run(ctx, body, data::get_data).await,
        "ListMetrics" => run(ctx, body, data::list).await,
        "PutMetricAlarm" => run(ctx, body, alarms::put).await,
        "DescribeAlarms" => run(ctx, body, alarms::describe).await,
        "DescribeAlarmsForMetric" => run(ctx, body, alarms::for_metric).await,
        "DeleteAlarms" => run(ctx, body, alarms::delete).await,
        "SetAlarmState" => run(ctx, body, alarms::set_state).await,
        "EnableAlarmActions" => run(ctx, body, alarms::enable_actions).await,
        "DisableAlarmActions" => run(ctx, body, alarms::disable_actions).await,
        "DescribeAlarmHistory" => run(ctx, body, history::describe).await,
        "TagResource" => run(ctx, body, tags::tag).await,
        "UntagResource" => run(ctx, body, tags::untag).await,
        "ListTagsForResource" => run(ctx, body, tags::list).await,
        _ => Err(AwsError::invalid_action(op)),
    }
}

/// Decodes the input with CloudWatch's codes (a missing member is MissingParameter, a
/// member of the wrong type or an unknown enum value InvalidParameterValue), runs the
/// handler and encodes its output.
async fn run<I, O, F, Fut>(ctx: Ctx, body: &[u8], handler: F) -> Result<Vec<u8>, AwsError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Ctx, I) -> Fut,
    Fut: Future<Output = Result<O, AwsError>>,
{
    let input = json::decode::<I>(body).map_err(|mut e| {
        match e.code.as_ref() {
            "InvalidParameterException" if e.message.starts_with("The required parameter") => {
                e.code = "MissingParameter".into();
            }
            "InvalidParameterException" => e.code = "InvalidParameterValue".into(),
            "SerializationException" if !e.message.starts_with("The request body is not valid JSON") => {
                e.code = "InvalidParameterValue".into();
            }
            _ => {}
        }
        e
    })?;
    json::encode(&handler(ctx, input).await?)
}

/// The metric store, which the server opens at start-up.
fn metrics(ctx: &Ctx) -> Result<Arc<berth_metric_store::MetricStore>, AwsError> {
    ctx.api.metrics().cloned().ok_or_else(|| {
        tracing::error!("the CloudWatch API was called before the metric store was opened");
        AwsError::internal("InternalServiceError")
    })
}

/// Runs blocking metric-store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AwsError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "metric store work panicked");
        AwsError::internal("InternalServiceError")
    })
}

fn now_ms() -> i64 {
    berth_metric_store::now_ms()
}

fn ms(t: berth_model::Timestamp) -> i64 {
    (t.as_secs_f64() * 1000.0).round() as i64
}

/// Paging over a sorted list: NextToken is the index of the next item (opaque to clients).
fn page<T: Clone>(items: &[T], token: Option<&str>, limit: usize) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match token {
        None => 0,
        Some(t) => {
            t.strip_prefix("cw1-").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n <= items.len()).ok_or_else(
                || {
                    berth_model::cloudwatch::CwError::InvalidNextToken(
                        "The NextToken is not valid: pass the NextToken of the previous response unchanged.".into(),
                    )
                },
            )?
        }
    };
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| format!("cw1-{end}"));
    Ok((items[start..end].to_vec(), next))
}
