//! DescribeScalingActivities: what the scaler did (and, with IncludeNotScaledActivities,
//! what it decided not to do), newest first.

use super::page;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::application_autoscaling::*;

pub async fn describe(
    ctx: Ctx,
    req: DescribeScalingActivitiesRequest,
) -> Result<DescribeScalingActivitiesResponse, AwsError> {
    let with_not_scaled = req.include_not_scaled_activities.unwrap_or(false);
    let mut activities: Vec<ScalingActivity> = super::all(&ctx)
        .await?
        .into_iter()
        .filter(|r| req.resource_id.as_ref().is_none_or(|id| *id == r.target.resource_id))
        .filter(|r| req.scalable_dimension.is_none_or(|d| d == r.target.scalable_dimension))
        .filter(|r| req.service_namespace == r.target.service_namespace)
        .flat_map(|r| r.activities)
        .filter(|a| with_not_scaled || a.not_scaled_reasons.is_none())
        .collect();
    activities.sort_by(|a, b| b.start_time.as_secs_f64().total_cmp(&a.start_time.as_secs_f64()));
    let (items, next_token) = page(activities, req.max_results, req.next_token.as_deref())?;
    Ok(DescribeScalingActivitiesResponse { scaling_activities: Some(items), next_token })
}
