//! A group's instances: DescribeAutoScalingInstances, TerminateInstanceInAutoScalingGroup,
//! SetInstanceProtection and SetInstanceHealth.

use super::page;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::*;

pub async fn describe(ctx: Ctx, input: DescribeAutoScalingInstancesType) -> Result<AutoScalingInstancesType, AwsError> {
    let wanted = input.instance_ids.unwrap_or_default();
    let mut all: Vec<AutoScalingInstanceDetails> = ops::list_groups(ctx.store())
        .await?
        .iter()
        .flat_map(|g| g.instances.iter().map(|i| i.details(&g.name)).collect::<Vec<_>>())
        .filter(|i| wanted.is_empty() || wanted.contains(&i.instance_id))
        .collect();
    all.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let (instances, next_token) =
        page(all, |i| i.instance_id.clone(), input.next_token.as_deref(), input.max_records, 50, 50)?;
    Ok(AutoScalingInstancesType { auto_scaling_instances: Some(instances), next_token })
}

pub async fn terminate(ctx: Ctx, input: TerminateInstanceInAutoScalingGroupType) -> Result<ActivityType, AwsError> {
    let ids: Vec<String> =
        input.instance_id.iter().cloned().chain(input.instance_ids.clone().unwrap_or_default()).collect();
    if ids.is_empty() {
        return Err(AsgError::validation("The parameter InstanceId is required").into());
    }
    let mut activities = Vec::new();
    for id in &ids {
        if let Some(group) = &input.auto_scaling_group_name {
            let group = arn::name_or_arn(group);
            let g = ops::get_group(ctx.store(), group).await?.ok_or_else(|| AsgError::group_not_found(group))?;
            if g.instance(id).is_none() {
                return Err(AsgError::instance_not_in_group(id, group).into());
            }
        }
        let activity_id = uuid::Uuid::new_v4().to_string();
        activities.push(
            ops::terminate_instance(ctx.store(), id, input.should_decrement_desired_capacity, activity_id).await?,
        );
    }
    Ok(ActivityType { activity: activities.first().cloned(), activities: (ids.len() > 1).then_some(activities) })
}

pub async fn set_protection(
    ctx: Ctx,
    input: SetInstanceProtectionQuery,
) -> Result<SetInstanceProtectionAnswer, AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name);
    ops::set_instance_protection(ctx.store(), name, &input.instance_ids, input.protected_from_scale_in).await?;
    Ok(SetInstanceProtectionAnswer {})
}

pub async fn set_health(ctx: Ctx, input: SetInstanceHealthQuery) -> Result<(), AwsError> {
    let respect = input.should_respect_grace_period.unwrap_or(true);
    ops::set_instance_health(ctx.store(), &input.instance_id, &input.health_status, respect).await?;
    Ok(())
}
