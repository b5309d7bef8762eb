//! Application Auto Scaling (JSON 1.1, `X-Amz-Target: AnyScaleFrontendService.<Op>`,
//! signing name `application-autoscaling`) for ECS services' desired count. Each
//! scalable target is one document (`berth_model::application_autoscaling::keys`) with
//! its policies, scheduled actions and activities; the scaler (berth-control's
//! `app_autoscaling`) acts on them. Target tracking policies keep their CloudWatch alarms
//! through `alarms`. The rules are the model's.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_model::application_autoscaling::records::TargetRecord;
use berth_model::application_autoscaling::resource::{DESIRED_COUNT, ServiceId};
use berth_model::application_autoscaling::{AasError, keys};
use berth_store::documents::{self, Doc};

pub(crate) mod access;
mod activities;
mod alarms;
mod policies;
mod scheduled;
mod tags;
mod targets;

pub const TARGET_PREFIX: &str = "AnyScaleFrontendService";

pub const SERVICE: Service =
    Service::json("application-autoscaling", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let answer = async {
        dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
            "RegisterScalableTarget" => targets::register,
            "DeregisterScalableTarget" => targets::deregister,
            "DescribeScalableTargets" => targets::describe,
            "PutScalingPolicy" => policies::put,
            "DescribeScalingPolicies" => policies::describe,
            "DeleteScalingPolicy" => policies::delete,
            "PutScheduledAction" => scheduled::put,
            "DescribeScheduledActions" => scheduled::describe,
            "DeleteScheduledAction" => scheduled::delete,
            "DescribeScalingActivities" => activities::describe,
            "TagResource" => tags::tag,
            "UntagResource" => tags::untag,
            "ListTagsForResource" => tags::list,
        })
    };
    answer.await.map_err(as_validation)
}

/// Application Auto Scaling answers input that does not fit the model (a wrong type, an
/// unknown enum value such as a PredefinedMetricType, a missing member) with
/// ValidationException, not with the JSON protocol's generic codes.
fn as_validation(e: AwsError) -> AwsError {
    match e.code.as_ref() {
        "SerializationException" | "InvalidParameterException" => AasError::Validation(e.message).into(),
        _ => e,
    }
}

/// The key of an ECS service's target.
fn key(resource_id: &str) -> String {
    keys::target("ecs", DESIRED_COUNT, resource_id)
}

/// The stored target of `resource_id`, or ObjectNotFoundException in AWS's words.
async fn find(ctx: &Ctx, resource_id: &str) -> Result<Doc<TargetRecord>, AwsError> {
    documents::get::<TargetRecord>(ctx.store(), &key(resource_id))
        .await?
        .ok_or_else(|| AasError::no_target(resource_id).into())
}

/// Every stored ECS target, in resource ID order.
async fn all(ctx: &Ctx) -> Result<Vec<TargetRecord>, AwsError> {
    let prefix = keys::target("ecs", DESIRED_COUNT, "");
    Ok(documents::list_decodable::<TargetRecord>(ctx.store(), &prefix).await?.into_iter().map(|d| d.value).collect())
}

/// The ECS service a target names must exist and be ACTIVE.
async fn check_service(ctx: &Ctx, service: &ServiceId) -> Result<(), AwsError> {
    let key = berth_model::keys::service(&service.cluster, &service.service);
    let found = documents::get::<berth_model::records::ServiceRecord>(ctx.store(), &key).await?;
    match found {
        Some(d) if d.value.service.status.as_deref() == Some(berth_model::service::ACTIVE) => Ok(()),
        _ => Err(AasError::Validation(format!("ECS service doesn't exist: {}", service.resource_id())).into()),
    }
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// One page of `items`: MaxResults within 1..=50 (50 when absent); the NextToken is the
/// offset of the next item.
fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let size = match max_results {
        None => 50,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(n) => {
            return Err(AasError::Validation(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"
            ))
            .into());
        }
    };
    let start = match next_token {
        None => 0,
        Some(t) => t.parse::<usize>().ok().filter(|s| *s <= items.len()).ok_or(AasError::InvalidNextToken)?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(size).collect(), next))
}
