//! DescribeScalingActivities: a group's activities (or every group's), newest first.

use super::page;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::*;

pub async fn describe(ctx: Ctx, input: DescribeScalingActivitiesType) -> Result<ActivitiesType, AwsError> {
    let groups = match &input.auto_scaling_group_name {
        Some(name) => ops::get_group(ctx.store(), arn::name_or_arn(name)).await?.into_iter().collect(),
        None => ops::list_groups(ctx.store()).await?,
    };
    let ids = input.activity_ids.unwrap_or_default();
    let mut all: Vec<Activity> = groups
        .into_iter()
        .flat_map(|g| g.activities)
        .filter(|a| ids.is_empty() || ids.contains(&a.activity_id))
        .collect();
    all.sort_by(|a, b| {
        b.start_time.as_secs_f64().total_cmp(&a.start_time.as_secs_f64()).then(a.activity_id.cmp(&b.activity_id))
    });
    let (activities, next_token) =
        page(all, |a| a.activity_id.clone(), input.next_token.as_deref(), input.max_records, 100, 100)?;
    Ok(ActivitiesType { activities, next_token })
}
