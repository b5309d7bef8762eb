//! PutScalingPolicy (target tracking with the two alarms it keeps, or step scaling acting
//! from the user's alarms), DescribeScalingPolicies, DeleteScalingPolicy (its alarms go
//! with it).

use super::{alarms, find, key, new_uuid, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::application_autoscaling::alarms::{self as specs, Side};
use berth_model::application_autoscaling::records::{PolicyRecord, TargetRecord};
use berth_model::application_autoscaling::resource::policy_arn;
use berth_model::application_autoscaling::*;
use berth_store::documents::{self, Change};

pub async fn put(ctx: Ctx, req: PutScalingPolicyRequest) -> Result<PutScalingPolicyResponse, AwsError> {
    rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    let kind = rules::check_policy(&req)?;
    let target = find(&ctx, &req.resource_id).await?.value;
    let existing = target.policy(&req.policy_name);
    let arn = match existing {
        Some(p) => p.policy.policy_arn.clone(),
        None => policy_arn(ctx.scope(), &new_uuid(), &req.resource_id, &req.policy_name),
    };
    if existing.is_none() && target.policies.len() >= 50 {
        return Err(AasError::LimitExceeded("A scalable target can have at most 50 scaling policies.".into()).into());
    }
    // Target tracking keeps its alarms' names across updates (AWS updates them in place).
    let kept = |side: Side| {
        existing.and_then(|p| {
            p.policy.alarms.iter().flatten().find(|a| specs::side_of(&a.alarm_name) == Some(side)).and_then(|a| {
                let tag = if side == Side::High { "-AlarmHigh-" } else { "-AlarmLow-" };
                a.alarm_name.rsplit_once(tag).map(|(_, uuid)| uuid.to_string())
            })
        })
    };
    let wanted = match (&req.target_tracking_scaling_policy_configuration, kind) {
        (Some(config), PolicyType::TargetTrackingScaling) => {
            let high = kept(Side::High).unwrap_or_else(new_uuid);
            let low = kept(Side::Low).unwrap_or_else(new_uuid);
            specs::for_policy(&req.resource_id, &arn, config, (&high, &low))?.into_iter().map(|(_, s)| s).collect()
        }
        _ => vec![],
    };
    let created = alarms::put(&ctx, &wanted).await?;
    let stale: Vec<String> = existing
        .iter()
        .flat_map(|p| p.policy.alarms.iter().flatten())
        .filter(|a| !created.iter().any(|c| c.alarm_name == a.alarm_name))
        .map(|a| a.alarm_name.clone())
        .collect();
    let policy = ScalingPolicy {
        policy_arn: arn.clone(),
        policy_name: req.policy_name.clone(),
        service_namespace: ServiceNamespace::Ecs,
        resource_id: req.resource_id.clone(),
        scalable_dimension: req.scalable_dimension,
        policy_type: kind,
        step_scaling_policy_configuration: req
            .step_scaling_policy_configuration
            .clone()
            .filter(|_| kind == PolicyType::StepScaling),
        target_tracking_scaling_policy_configuration: req
            .target_tracking_scaling_policy_configuration
            .clone()
            .filter(|_| kind == PolicyType::TargetTrackingScaling),
        predictive_scaling_policy_configuration: None,
        alarms: (!created.is_empty()).then(|| created.clone()),
        creation_time: existing.map(|p| p.policy.creation_time).unwrap_or_else(Timestamp::now),
    };
    let committed = documents::modify(ctx.store(), &key(&req.resource_id), |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| AasError::no_target(&req.resource_id))?;
        let record = PolicyRecord { policy: policy.clone(), last_action: None };
        match rec.policies.iter_mut().find(|p| p.policy.policy_name == req.policy_name) {
            Some(p) => *p = record,
            None => rec.policies.push(record),
        }
        Ok::<_, AwsError>((Change::Put(rec), ()))
    })
    .await;
    if let Err(e) = committed {
        let names: Vec<String> = created.iter().map(|a| a.alarm_name.clone()).collect();
        alarms::delete(&ctx, &names).await?;
        return Err(e);
    }
    alarms::delete(&ctx, &stale).await?;
    Ok(PutScalingPolicyResponse { policy_arn: arn, alarms: Some(created) })
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeScalingPoliciesRequest,
) -> Result<DescribeScalingPoliciesResponse, AwsError> {
    let names = req.policy_names.clone().unwrap_or_default();
    let policies: Vec<ScalingPolicy> = super::all(&ctx)
        .await?
        .into_iter()
        .filter(|r| req.resource_id.as_ref().is_none_or(|id| *id == r.target.resource_id))
        .filter(|r| req.scalable_dimension.is_none_or(|d| d == r.target.scalable_dimension))
        .filter(|r| req.service_namespace == r.target.service_namespace)
        .flat_map(|r| r.policies.into_iter().map(|p| p.policy))
        .filter(|p| names.is_empty() || names.contains(&p.policy_name))
        .collect();
    let (items, next_token) = page(policies, req.max_results, req.next_token.as_deref())?;
    Ok(DescribeScalingPoliciesResponse { scaling_policies: Some(items), next_token })
}

pub async fn delete(ctx: Ctx, req: DeleteScalingPolicyRequest) -> Result<DeleteScalingPolicyResponse, AwsError> {
    rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    let removed = documents::modify(ctx.store(), &key(&req.resource_id), |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| AasError::no_target(&req.resource_id))?;
        let Some(at) = rec.policies.iter().position(|p| p.policy.policy_name == req.policy_name) else {
            return Err(AwsError::from(AasError::ObjectNotFound(format!(
                "No scaling policy found for service namespace: ecs, resource ID: {}, scalable dimension: ecs:service:DesiredCount, policy name: {}",
                req.resource_id, req.policy_name
            ))));
        };
        let policy = rec.policies.remove(at);
        Ok((Change::Put(rec), policy))
    })
    .await?;
    let names: Vec<String> = removed.policy.alarms.iter().flatten().map(|a| a.alarm_name.clone()).collect();
    alarms::delete(&ctx, &names).await?;
    Ok(DeleteScalingPolicyResponse {})
}
