//! Amazon CloudWatch Logs (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`).
//!
//! Thin handlers over `berth_log_store::LogEngine`: decode, check names and limits, call the
//! engine on a blocking thread (its calls fsync), encode. The engine owns the groups,
//! streams, events and tags (see its crate docs for why they are not in the Store).

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_log_store::pattern::Pattern;
use berth_log_store::{EngineError, EventKey, FilterQuery, GetQuery, LogEngine, StreamToken};
use berth_model::arn::{Arn, Scope};
use berth_model::generated::logs::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const TARGET_PREFIX: &str = "Logs_20140328";

pub const SERVICE: Service = Service::json("logs", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[i32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// A response AWS defines without members: `{}`.
#[derive(Debug, Serialize)]
pub struct Empty {}

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "CreateLogGroup" => create_group,
        "DeleteLogGroup" => delete_group,
        "DescribeLogGroups" => describe_groups,
        "PutRetentionPolicy" => put_retention,
        "DeleteRetentionPolicy" => delete_retention,
        "CreateLogStream" => create_stream,
        "DeleteLogStream" => delete_stream,
        "DescribeLogStreams" => describe_streams,
        "PutLogEvents" => put_events,
        "GetLogEvents" => get_events,
        "FilterLogEvents" => filter_events,
        "TagResource" => tag_resource,
        "UntagResource" => untag_resource,
        "ListTagsForResource" => list_tags_for_resource,
        "TagLogGroup" => tag_group,
        "UntagLogGroup" => untag_group,
        "ListTagsLogGroup" => list_tags_group,
    })
}

fn engine(ctx: &Ctx) -> Result<Arc<LogEngine>, AwsError> {
    ctx.api.logs().cloned().ok_or_else(AwsError::logs_unavailable)
}

/// Runs an engine call on a blocking thread.
async fn blocking<T: Send + 'static>(
    ctx: &Ctx,
    f: impl FnOnce(&LogEngine) -> Result<T, EngineError> + Send + 'static,
) -> Result<T, AwsError> {
    let engine = engine(ctx)?;
    match tokio::task::spawn_blocking(move || f(&engine)).await {
        Ok(r) => r.map_err(to_aws),
        Err(e) => {
            tracing::error!(error = %e, "logs engine call panicked");
            Err(AwsError::internal("ServiceUnavailableException"))
        }
    }
}

fn to_aws(e: EngineError) -> AwsError {
    match e {
        EngineError::GroupExists | EngineError::StreamExists => AwsError::logs_already_exists(e.to_string()),
        EngineError::GroupNotFound | EngineError::StreamNotFound => AwsError::logs_not_found(e.to_string()),
        EngineError::Batch(b) => AwsError::logs_invalid_parameter(b.0),
        EngineError::Io(io) => {
            tracing::error!(error = %io, "log storage failure");
            AwsError::internal("ServiceUnavailableException")
        }
    }
}

// ---- names, ARNs, tokens: pure ----

/// Log group names: 1-512 of `[.-_/#A-Za-z0-9]`.
pub fn check_group_name(name: &str) -> Result<(), AwsError> {
    let ok = (1..=512).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
    if ok {
        Ok(())
    } else {
        Err(AwsError::logs_invalid_parameter(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

/// Log stream names: 1-512 characters, no `:` or `*`.
pub fn check_stream_name(name: &str) -> Result<(), AwsError> {
    let ok = (1..=512).contains(&name.len()) && !name.contains([':', '*']);
    if ok {
        Ok(())
    } else {
        Err(AwsError::logs_invalid_parameter(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )))
    }
}

fn group_arn(ctx: &Ctx, name: &str) -> String {
    format!("arn:aws:logs:{}:{}:log-group:{name}", ctx.scope().region, ctx.scope().account)
}

/// `logGroupName` or `logGroupIdentifier` (a name or an ARN).
fn group_from(ctx: &Ctx, name: Option<String>, identifier: Option<String>) -> Result<String, AwsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => {
            Err(AwsError::logs_invalid_parameter("LogGroup name and LogGroup ARN are mutually exclusive parameters."))
        }
        (Some(n), None) => Ok(n),
        (None, Some(id)) => Ok(group_of_arn(ctx.scope(), &id).unwrap_or(id)),
        (None, None) => Err(AwsError::logs_invalid_parameter("Either logGroupName or logGroupIdentifier is required.")),
    }
}

/// The group named by `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` of this scope.
pub fn group_of_arn(scope: &Scope, arn: &str) -> Option<String> {
    let name = scope.resolve(arn, "logs")?.resource.strip_prefix("log-group:")?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!name.is_empty() && !name.contains(':')).then(|| name.to_string())
}

fn page_limit(limit: Option<i32>, default: usize, max: usize) -> Result<usize, AwsError> {
    match limit {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(AwsError::logs_invalid_parameter(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))),
    }
}

fn bad_token() -> AwsError {
    AwsError::logs_invalid_parameter("The specified nextToken is invalid.")
}

/// Offset tokens for the Describe operations: `o/<offset>`.
fn offset_from(token: Option<&str>) -> Result<usize, AwsError> {
    match token {
        None => Ok(0),
        Some(t) => t.strip_prefix("o/").and_then(|n| n.parse().ok()).ok_or_else(bad_token),
    }
}

fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let end = offset + page.len();
    (page, (end < total).then(|| format!("o/{end}")))
}

// ---- groups ----

async fn create_group(ctx: Ctx, req: CreateLogGroupRequest) -> Result<Empty, AwsError> {
    check_group_name(&req.log_group_name)?;
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let now = berth_log_store::now_ms();
    blocking(&ctx, move |e| e.create_group(&req.log_group_name, now, tags)).await?;
    Ok(Empty {})
}

async fn delete_group(ctx: Ctx, req: DeleteLogGroupRequest) -> Result<Empty, AwsError> {
    blocking(&ctx, move |e| e.delete_group(&req.log_group_name)).await?;
    Ok(Empty {})
}

async fn describe_groups(ctx: Ctx, req: DescribeLogGroupsRequest) -> Result<DescribeLogGroupsResponse, AwsError> {
    let limit = page_limit(req.limit, 50, 50)?;
    let offset = offset_from(req.next_token.as_deref())?;
    if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
        return Err(AwsError::logs_invalid_parameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let prefix = req.log_group_name_prefix.clone().unwrap_or_default();
    let pattern = req.log_group_name_pattern.clone();
    let groups = blocking(&ctx, move |e| Ok(e.groups(&prefix))).await?;
    let groups: Vec<_> = groups
        .into_iter()
        .filter(|g| pattern.as_ref().is_none_or(|p| g.name.to_lowercase().contains(&p.to_lowercase())))
        .filter(|g| req.log_group_identifiers.as_ref().is_none_or(|ids| ids.contains(&g.name)))
        .collect();
    let (groups, next_token) = page(groups, offset, limit);
    let log_groups = groups
        .into_iter()
        .map(|g| {
            let arn = group_arn(&ctx, &g.name);
            LogGroup {
                arn: Some(format!("{arn}:*")),
                log_group_arn: Some(arn),
                log_group_name: Some(g.name),
                creation_time: Some(g.creation_time),
                retention_in_days: g.retention_in_days,
                metric_filter_count: Some(0),
                stored_bytes: Some(g.stored_bytes as i64),
                log_group_class: Some(LogGroupClass::Standard),
                deletion_protection_enabled: Some(false),
                ..Default::default()
            }
        })
        .collect();
    Ok(DescribeLogGroupsResponse { log_groups: Some(log_groups), next_token })
}

async fn put_retention(ctx: Ctx, req: PutRetentionPolicyRequest) -> Result<Empty, AwsError> {
    if !RETENTION_DAYS.contains(&req.retention_in_days) {
        return Err(AwsError::logs_invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}",
            req.retention_in_days
        )));
    }
    let days = req.retention_in_days;
    blocking(&ctx, move |e| {
        e.set_retention(&req.log_group_name, Some(days))?;
        e.apply_retention(berth_log_store::now_ms()).map(|_| ())
    })
    .await?;
    Ok(Empty {})
}

async fn delete_retention(ctx: Ctx, req: DeleteRetentionPolicyRequest) -> Result<Empty, AwsError> {
    blocking(&ctx, move |e| e.set_retention(&req.log_group_name, None)).await?;
    Ok(Empty {})
}

// ---- streams ----

async fn create_stream(ctx: Ctx, req: CreateLogStreamRequest) -> Result<Empty, AwsError> {
    check_stream_name(&req.log_stream_name)?;
    let now = berth_log_store::now_ms();
    blocking(&ctx, move |e| e.create_stream(&req.log_group_name, &req.log_stream_name, now)).await?;
    Ok(Empty {})
}

async fn delete_stream(ctx: Ctx, req: DeleteLogStreamRequest) -> Result<Empty, AwsError> {
    blocking(&ctx, move |e| e.delete_stream(&req.log_group_name, &req.log_stream_name)).await?;
    Ok(Empty {})
}

async fn describe_streams(ctx: Ctx, req: DescribeLogStreamsRequest) -> Result<DescribeLogStreamsResponse, AwsError> {
    let group = group_from(&ctx, req.log_group_name, req.log_group_identifier)?;
    let limit = page_limit(req.limit, 50, 50)?;
    let offset = offset_from(req.next_token.as_deref())?;
    let by_time = req.order_by == Some(OrderBy::LastEventTime);
    if by_time && req.log_stream_name_prefix.is_some() {
        return Err(AwsError::logs_invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix."));
    }
    let prefix = req.log_stream_name_prefix.unwrap_or_default();
    let g = group.clone();
    let mut streams = blocking(&ctx, move |e| e.streams(&g, &prefix)).await?;
    if by_time {
        streams.sort_by(|a, b| a.last_event_timestamp.cmp(&b.last_event_timestamp).then_with(|| a.name.cmp(&b.name)));
    }
    if req.descending == Some(true) {
        streams.reverse();
    }
    let (streams, next_token) = page(streams, offset, limit);
    let arn = group_arn(&ctx, &group);
    let log_streams = streams
        .into_iter()
        .map(|s| LogStream {
            arn: Some(format!("{arn}:log-stream:{}", s.name)),
            log_stream_name: Some(s.name),
            creation_time: Some(s.creation_time),
            first_event_timestamp: s.first_event_timestamp,
            last_event_timestamp: s.last_event_timestamp,
            last_ingestion_time: s.last_ingestion_time,
            stored_bytes: Some(s.stored_bytes as i64),
            ..Default::default()
        })
        .collect();
    Ok(DescribeLogStreamsResponse { log_streams: Some(log_streams), next_token })
}

// ---- events ----

async fn put_events(ctx: Ctx, req: PutLogEventsRequest) -> Result<PutLogEventsResponse, AwsError> {
    let now = berth_log_store::now_ms();
    let verdict = blocking(&ctx, move |e| {
        let events: Vec<(i64, &str)> = req.log_events.iter().map(|ev| (ev.timestamp, ev.message.as_str())).collect();
        e.put(&req.log_group_name, &req.log_stream_name, &events, now)
    })
    .await?;
    let rejected = verdict.any_rejected().then(|| RejectedLogEventsInfo {
        too_new_log_event_start_index: verdict.too_new_start.map(|i| i as i32),
        too_old_log_event_end_index: verdict.too_old_end.map(|i| i as i32),
        expired_log_event_end_index: verdict.expired_end.map(|i| i as i32),
    });
    Ok(PutLogEventsResponse {
        // Sequence tokens are no longer required by AWS; one is still handed back.
        next_sequence_token: Some(format!("{:056}", now)),
        rejected_log_events_info: rejected,
        rejected_entity_info: None,
    })
}

/// The most an events response carries (AWS: 1 MB).
const MAX_RESPONSE_BYTES: usize = 1_048_576;

async fn get_events(ctx: Ctx, req: GetLogEventsRequest) -> Result<GetLogEventsResponse, AwsError> {
    let group = group_from(&ctx, req.log_group_name, req.log_group_identifier)?;
    let limit = page_limit(req.limit, 10_000, 10_000)?;
    let token = match req.next_token.as_deref() {
        None => None,
        Some(t) => Some(StreamToken::parse(t).ok_or_else(bad_token)?),
    };
    let query = GetQuery {
        start_time: req.start_time,
        end_time: req.end_time,
        start_from_head: req.start_from_head.unwrap_or(false),
        token,
        limit,
        max_bytes: MAX_RESPONSE_BYTES,
    };
    let stream = req.log_stream_name;
    let r = blocking(&ctx, move |e| e.get(&group, &stream, &query)).await?;
    Ok(GetLogEventsResponse {
        events: Some(
            r.events
                .into_iter()
                .map(|e| OutputLogEvent {
                    timestamp: Some(e.timestamp),
                    message: Some(e.message),
                    ingestion_time: Some(e.ingestion_time),
                })
                .collect(),
        ),
        next_forward_token: Some(r.forward.encode()),
        next_backward_token: Some(r.backward.encode()),
    })
}

async fn filter_events(ctx: Ctx, req: FilterLogEventsRequest) -> Result<FilterLogEventsResponse, AwsError> {
    let group = group_from(&ctx, req.log_group_name, req.log_group_identifier)?;
    if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
        return Err(AwsError::logs_invalid_parameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
        ));
    }
    let limit = page_limit(req.limit, 10_000, 10_000)?;
    let pattern = Pattern::parse(req.filter_pattern.as_deref().unwrap_or(""))
        .map_err(|e| AwsError::logs_invalid_parameter(e.to_string()))?;
    let after = match req.next_token.as_deref() {
        None => None,
        Some(t) => Some(EventKey::parse_token(t).ok_or_else(bad_token)?),
    };
    if let (Some(s), Some(e)) = (req.start_time, req.end_time)
        && e < s
    {
        return Err(AwsError::logs_invalid_parameter("endTime must not be before startTime."));
    }
    let query = FilterQuery {
        stream_names: req.log_stream_names,
        stream_prefix: req.log_stream_name_prefix,
        start_time: req.start_time,
        end_time: req.end_time,
        pattern,
        after,
        limit,
        max_bytes: MAX_RESPONSE_BYTES,
        now: berth_log_store::now_ms(),
    };
    let r = blocking(&ctx, move |e| e.filter(&group, &query)).await?;
    Ok(FilterLogEventsResponse {
        events: Some(
            r.events
                .into_iter()
                .map(|e| FilteredLogEvent {
                    log_stream_name: Some(e.stream),
                    timestamp: Some(e.timestamp),
                    message: Some(e.message),
                    ingestion_time: Some(e.ingestion_time),
                    event_id: Some(e.event_id),
                })
                .collect(),
        ),
        searched_log_streams: Some(
            r.searched_streams
                .into_iter()
                .map(|s| SearchedLogStream { log_stream_name: Some(s), searched_completely: Some(r.next.is_none()) })
                .collect(),
        ),
        next_token: r.next.map(|k| k.token()),
    })
}

// ---- tags ----

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
    berth_model::tags::check(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AwsError::logs_invalid_parameter(e.to_string()))
}

fn arn_group(ctx: &Ctx, arn: &str) -> Result<String, AwsError> {
    if let Some(group) = group_of_arn(ctx.scope(), arn) {
        return Ok(group);
    }
    match Arn::parse(arn) {
        // A log group ARN of another region, partition or account: no such group here.
        Some(a) if a.service == "logs" && a.resource.starts_with("log-group:") => {
            Err(AwsError::logs_not_found("The specified log group does not exist."))
        }
        _ => Err(AwsError::logs_invalid_parameter(format!("Invalid resourceArn: '{arn}'."))),
    }
}

async fn tag_resource(ctx: Ctx, req: TagResourceRequest) -> Result<Empty, AwsError> {
    let group = arn_group(&ctx, &req.resource_arn)?;
    tag_group(ctx, TagLogGroupRequest { log_group_name: group, tags: req.tags }).await
}

async fn untag_resource(ctx: Ctx, req: UntagResourceRequest) -> Result<Empty, AwsError> {
    let group = arn_group(&ctx, &req.resource_arn)?;
    untag_group(ctx, UntagLogGroupRequest { log_group_name: group, tags: req.tag_keys }).await
}

async fn list_tags_for_resource(
    ctx: Ctx,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, AwsError> {
    let group = arn_group(&ctx, &req.resource_arn)?;
    let tags = blocking(&ctx, move |e| e.tags(&group)).await?;
    Ok(ListTagsForResourceResponse { tags: Some(tags) })
}

async fn tag_group(ctx: Ctx, req: TagLogGroupRequest) -> Result<Empty, AwsError> {
    check_tags(&req.tags)?;
    blocking(&ctx, move |e| {
        let mut all = e.tags(&req.log_group_name)?;
        all.extend(req.tags.clone());
        if all.len() > 50 {
            return Err(EngineError::Batch(berth_log_store::BatchError("A resource can have at most 50 tags.".into())));
        }
        e.tag(&req.log_group_name, req.tags)
    })
    .await?;
    Ok(Empty {})
}

async fn untag_group(ctx: Ctx, req: UntagLogGroupRequest) -> Result<Empty, AwsError> {
    blocking(&ctx, move |e| e.untag(&req.log_group_name, &req.tags)).await?;
    Ok(Empty {})
}

async fn list_tags_group(ctx: Ctx, req: ListTagsLogGroupRequest) -> Result<ListTagsLogGroupResponse, AwsError> {
    let tags = blocking(&ctx, move |e| e.tags(&req.log_group_name)).await?;
    Ok(ListTagsLogGroupResponse { tags: Some(tags) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_group_name("/ecs/web-app_1.#x").is_ok());
        assert!(check_group_name("").is_err());
        assert!(check_group_name("bad name").is_err());
        assert!(check_group_name(&"a".repeat(513)).is_err());
        assert!(check_stream_name("ecs/web/0123").is_ok());
        assert!(check_stream_name("a:b").is_err());
        assert!(check_stream_name("a*").is_err());
    }

    #[test]
    fn arns_name_groups() {
        let scope = Scope::new("us-east-1", "000000000000");
        let group = |arn| group_of_arn(&scope, arn);
        assert_eq!(group("arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app:*").as_deref(), Some("/ecs/app"));
        assert_eq!(group("arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app").as_deref(), Some("/ecs/app"));
        assert_eq!(group("arn:aws:logs:eu-west-1:000000000000:log-group:/ecs/app"), None);
        assert_eq!(group("arn:aws-cn:logs:us-east-1:000000000000:log-group:/ecs/app"), None);
        assert_eq!(group("arn:aws:ecs:us-east-1:000000000000:cluster/x"), None);
        assert_eq!(group("/ecs/app"), None);
    }

    #[test]
    fn offset_pages_end_without_a_token() {
        let (p, t) = page((0..5).collect::<Vec<_>>(), 0, 2);
        assert_eq!((p, t.as_deref()), (vec![0, 1], Some("o/2")));
        let (p, t) = page((0..5).collect::<Vec<_>>(), 4, 2);
        assert_eq!((p, t), (vec![4], None));
        assert!(offset_from(Some("zzz")).is_err());
        assert_eq!(offset_from(Some("o/7")).unwrap(), 7);
    }

    #[test]
    fn limits() {
        assert_eq!(page_limit(None, 50, 50).unwrap(), 50);
        assert!(page_limit(Some(0), 50, 50).is_err());
        assert!(page_limit(Some(51), 50, 50).is_err());
    }
}
