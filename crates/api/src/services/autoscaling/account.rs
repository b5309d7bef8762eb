//! The account's side: DescribeAccountLimits (Auto Scaling's default quotas and the
//! groups there are), DescribeLaunchConfigurations (berth has none: launch templates
//! only) and DescribeTerminationPolicyTypes.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::validate::TERMINATION_POLICIES;
use berth_model::autoscaling::*;
use serde::de::IgnoredAny;

/// Auto Scaling's default quotas per region.
const MAX_GROUPS: i32 = 500;
const MAX_LAUNCH_CONFIGURATIONS: i32 = 200;

pub async fn limits(ctx: Ctx, _input: IgnoredAny) -> Result<DescribeAccountLimitsAnswer, AwsError> {
    let groups = ops::list_groups(ctx.store()).await?.len();
    Ok(DescribeAccountLimitsAnswer {
        max_number_of_auto_scaling_groups: Some(MAX_GROUPS),
        max_number_of_launch_configurations: Some(MAX_LAUNCH_CONFIGURATIONS),
        number_of_auto_scaling_groups: Some(i32::try_from(groups).unwrap_or(i32::MAX)),
        number_of_launch_configurations: Some(0),
    })
}

pub async fn launch_configurations(
    _ctx: Ctx,
    _input: LaunchConfigurationNamesType,
) -> Result<LaunchConfigurationsType, AwsError> {
    Ok(LaunchConfigurationsType { launch_configurations: vec![], next_token: None })
}

pub async fn termination_policy_types(
    _ctx: Ctx,
    _input: IgnoredAny,
) -> Result<DescribeTerminationPolicyTypesAnswer, AwsError> {
    Ok(DescribeTerminationPolicyTypesAnswer {
        termination_policy_types: Some(TERMINATION_POLICIES.iter().map(|p| p.to_string()).collect()),
    })
}
