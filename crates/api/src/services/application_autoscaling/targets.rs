//! RegisterScalableTarget (a new target or an update of one), DeregisterScalableTarget
//! (its policies and their alarms go with it), DescribeScalableTargets.

use super::{alarms, check_service, find, key, new_uuid, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::application_autoscaling::records::{Cooldown, TargetRecord};
use berth_model::application_autoscaling::resource::{self, service_linked_role_arn};
use berth_model::application_autoscaling::*;
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};

pub async fn register(
    ctx: Ctx,
    req: RegisterScalableTargetRequest,
) -> Result<RegisterScalableTargetResponse, AwsError> {
    let service = rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    if let Some(arn) = &req.role_arn {
        rules::check_role_arn(arn)?;
    }
    super::tags::check(req.tags.as_ref(), 0)?;
    check_service(&ctx, &service).await?;
    let scope = ctx.scope().clone();
    let target_id = new_uuid().replace('-', "");
    let stored = documents::modify(ctx.store(), &key(&req.resource_id), |current: Option<TargetRecord>| {
        let bounds = current.as_ref().map(|c| (c.target.min_capacity, c.target.max_capacity));
        let (min, max) = rules::capacities(req.min_capacity, req.max_capacity, bounds)?;
        let mut rec = current.unwrap_or_else(|| TargetRecord {
            target: ScalableTarget {
                service_namespace: ServiceNamespace::Ecs,
                resource_id: req.resource_id.clone(),
                scalable_dimension: req.scalable_dimension,
                min_capacity: min,
                max_capacity: max,
                predicted_capacity: None,
                role_arn: service_linked_role_arn(&scope),
                creation_time: Timestamp::now(),
                suspended_state: None,
                scalable_target_arn: Some(resource::target_arn(&scope, &target_id)),
            },
            tags: Default::default(),
            policies: vec![],
            scheduled: vec![],
            activities: vec![],
            cooldown: Cooldown::default(),
            bounds_changed: None,
        });
        if bounds != Some((min, max)) {
            rec.bounds_changed =
                Some(format!("minimum capacity was set to {min} and maximum capacity was set to {max}"));
        }
        rec.target.min_capacity = min;
        rec.target.max_capacity = max;
        if let Some(arn) = &req.role_arn {
            rec.target.role_arn = arn.clone();
        }
        rec.target.suspended_state =
            Some(rules::suspended(req.suspended_state.as_ref(), rec.target.suspended_state.as_ref()));
        if let Some(tags) = &req.tags {
            rec.tags.extend(tags.clone());
            super::tags::check(Some(&rec.tags), 0)?;
        }
        let arn = rec.target.scalable_target_arn.clone();
        Ok::<_, AwsError>((Change::Put(rec), arn))
    })
    .await?;
    Ok(RegisterScalableTargetResponse { scalable_target_arn: stored })
}

pub async fn deregister(
    ctx: Ctx,
    req: DeregisterScalableTargetRequest,
) -> Result<DeregisterScalableTargetResponse, AwsError> {
    rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    let key = key(&req.resource_id);
    let doc = find(&ctx, &req.resource_id).await?;
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key);
    if !ctx.store().txn(txn).await?.succeeded {
        return Err(AasError::ConcurrentUpdate(
            "The scalable target changed while it was being deregistered; try again.".into(),
        )
        .into());
    }
    let names: Vec<String> = doc
        .value
        .policies
        .iter()
        .flat_map(|p| p.policy.alarms.iter().flatten().map(|a| a.alarm_name.clone()))
        .collect();
    alarms::delete(&ctx, &names).await?;
    Ok(DeregisterScalableTargetResponse {})
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeScalableTargetsRequest,
) -> Result<DescribeScalableTargetsResponse, AwsError> {
    let wanted = |t: &ScalableTarget| {
        t.service_namespace == req.service_namespace
            && req.scalable_dimension.is_none_or(|d| d == t.scalable_dimension)
            && req.resource_ids.as_ref().is_none_or(|ids| ids.is_empty() || ids.contains(&t.resource_id))
    };
    let targets: Vec<ScalableTarget> =
        super::all(&ctx).await?.into_iter().map(|r| r.target).filter(|t| wanted(t)).collect();
    let (items, next_token) = page(targets, req.max_results, req.next_token.as_deref())?;
    Ok(DescribeScalableTargetsResponse { scalable_targets: Some(items), next_token })
}
