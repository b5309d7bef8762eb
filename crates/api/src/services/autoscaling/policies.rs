//! Scaling policies: PutScalingPolicy, DescribePolicies, DeletePolicy and
//! DescribeAdjustmentTypes. Stored and shown (berth-autoscaling's `policies`); berth
//! does not run them against CloudWatch alarms.

use super::page;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::{groups as ops, policies as domain};
use berth_model::autoscaling::validate::ADJUSTMENT_TYPES;
use berth_model::autoscaling::*;
use serde::de::IgnoredAny;

pub async fn put(ctx: Ctx, input: PutScalingPolicyType) -> Result<PolicyARNType, AwsError> {
    Ok(domain::put_scaling_policy(ctx.store(), ctx.scope(), &input).await?)
}

pub async fn describe(ctx: Ctx, input: DescribePoliciesType) -> Result<PoliciesType, AwsError> {
    let groups = match &input.auto_scaling_group_name {
        Some(name) => {
            let name = arn::name_or_arn(name);
            vec![ops::get_group(ctx.store(), name).await?.ok_or_else(|| AsgError::group_not_found(name))?]
        }
        None => ops::list_groups(ctx.store()).await?,
    };
    let names = input.policy_names.unwrap_or_default();
    let types = input.policy_types.unwrap_or_default();
    let all: Vec<ScalingPolicy> = groups
        .into_iter()
        .flat_map(|g| g.policies)
        .filter(|p| {
            names.is_empty()
                || names.iter().any(|n| p.policy_name.as_ref() == Some(n) || p.policy_arn.as_ref() == Some(n))
        })
        .filter(|p| types.is_empty() || p.policy_type.as_ref().is_some_and(|t| types.contains(t)))
        .collect();
    let (policies, next_token) = page(
        all,
        |p| p.policy_arn.clone().unwrap_or_default(),
        input.next_token.as_deref(),
        input.max_records,
        50,
        100,
    )?;
    Ok(PoliciesType { scaling_policies: Some(policies), next_token })
}

pub async fn delete(ctx: Ctx, input: DeletePolicyType) -> Result<(), AwsError> {
    domain::delete_policy(ctx.store(), input.auto_scaling_group_name.as_deref(), &input.policy_name).await?;
    Ok(())
}

pub async fn adjustment_types(_ctx: Ctx, _input: IgnoredAny) -> Result<DescribeAdjustmentTypesAnswer, AwsError> {
    Ok(DescribeAdjustmentTypesAnswer {
        adjustment_types: Some(
            ADJUSTMENT_TYPES.iter().map(|t| AdjustmentType { adjustment_type: Some(t.to_string()) }).collect(),
        ),
    })
}
