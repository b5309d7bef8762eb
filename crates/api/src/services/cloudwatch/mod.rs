//! CloudWatch metrics and alarms (`monitoring`), on two wires with one operation table:
//! JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, what boto3 and the aws
//! CLI send, with `x-amzn-query-mode: true`: errors carry the query code in
//! `x-amzn-query-error`) and the query protocol older SDKs send (`Action=<Op>&Version=
//! 2010-08-01`, answered in XML, errors as `<ErrorResponse>`; `protocol::query`).
//! Datapoints go to `berth-metric-store` (on blocking threads: a put waits for its
//! fsync); alarms to the store through `berth-cloudwatch`. The rules are
//! `berth_model::cloudwatch`'s.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::query::Params;
use crate::protocol::{json, query};
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
pub const VERSION: &str = "2010-08-01";
pub const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

pub const SERVICE: Service = Service::json("monitoring", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

/// The same operations on the query wire.
pub const QUERY_SERVICE: Service =
    Service::query("monitoring", VERSION, XMLNS, |ctx, action, params| Box::pin(call_query(ctx, action, params)));

/// An operation's input as its wire carries it.
#[derive(Clone, Copy)]
enum Input<'a> {
    Json(&'a [u8]),
    Query(&'a Params),
}

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    operate(ctx, op, Input::Json(body)).await
}

/// The result XML of `action` (the dispatcher wraps it in `<ActionResponse>`).
pub async fn call_query(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    let xml = operate(ctx, action, Input::Query(params)).await?;
    String::from_utf8(xml).map_err(|_| AwsError::internal("InternalServiceError"))
}

async fn operate(ctx: Ctx, op: &str, input: Input<'_>) -> Result<Vec<u8>, AwsError> {
    match op {
        "PutMetricData" => run(ctx, input, data::put).await,
        "GetMetricStatistics" => run(ctx, input, data::statistics).await,
        "GetMetricData" => run(ctx, input, data::get_data).await,
        "ListMetrics" => run(ctx, input, data::list).await,
        "PutMetricAlarm" => run(ctx, input, alarms::put).await,
        "DescribeAlarms" => run(ctx, input, alarms::describe).await,
        "DescribeAlarmsForMetric" => run(ctx, input, alarms::for_metric).await,
        "DeleteAlarms" => run(ctx, input, alarms::delete).await,
        "SetAlarmState" => run(ctx, input, alarms::set_state).await,
        "EnableAlarmActions" => run(ctx, input, alarms::enable_actions).await,
        "DisableAlarmActions" => run(ctx, input, alarms::disable_actions).await,
        "DescribeAlarmHistory" => run(ctx, input, history::describe).await,
        "TagResource" => run(ctx, input, tags::tag).await,
        "UntagResource" => run(ctx, input, tags::untag).await,
        "ListTagsForResource" => run(ctx, input, tags::list).await,
        _ => Err(AwsError::invalid_action(op)),
    }
}

/// Decodes the input with CloudWatch's codes (a missing member is MissingParameter, a
/// member of the wrong type or an unknown enum value InvalidParameterValue), runs the
/// handler and encodes its output in the request's wire.
async fn run<I, O, F, Fut>(ctx: Ctx, input: Input<'_>, handler: F) -> Result<Vec<u8>, AwsError>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(Ctx, I) -> Fut,
    Fut: Future<Output = Result<O, AwsError>>,
{
    match input {
        Input::Json(body) => {
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
        Input::Query(params) => {
            let input = query::decode::<I>(params).map_err(|mut e| {
                e.code = if e.message.starts_with("The parameter ") && e.message.contains(" is required") {
                    "MissingParameter".into()
                } else {
                    "InvalidParameterValue".into()
                };
                e
            })?;
            Ok(query::encode(&handler(ctx, input).await?)?.into_bytes())
        }
    }
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
