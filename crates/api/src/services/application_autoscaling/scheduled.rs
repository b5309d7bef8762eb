//! PutScheduledAction (a new action or an update of one), DescribeScheduledActions,
//! DeleteScheduledAction. The scaler runs them at their times.

use super::{find, key, new_uuid, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::application_autoscaling::records::{ScheduledRecord, TargetRecord};
use berth_model::application_autoscaling::resource::scheduled_action_arn;
use berth_model::application_autoscaling::*;
use berth_store::documents::{self, Change};

pub async fn put(ctx: Ctx, req: PutScheduledActionRequest) -> Result<PutScheduledActionResponse, AwsError> {
    rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    rules::check_scheduled(&req)?;
    zone::load(req.timezone.as_deref())?;
    let target = find(&ctx, &req.resource_id).await?.value;
    let existing = target.scheduled.iter().find(|s| s.action.scheduled_action_name == req.scheduled_action_name);
    let schedule = match (&req.schedule, existing) {
        (Some(s), _) => s.clone(),
        (None, Some(e)) => e.action.schedule.clone(),
        (None, None) => {
            return Err(AasError::Validation("Schedule is required for a new scheduled action".into()).into());
        }
    };
    schedule::parse(&schedule)?;
    if existing.is_none() && target.scheduled.len() >= 200 {
        return Err(AasError::LimitExceeded("A scalable target can have at most 200 scheduled actions.".into()).into());
    }
    let arn = existing.map(|e| e.action.scheduled_action_arn.clone()).unwrap_or_else(|| {
        scheduled_action_arn(ctx.scope(), &new_uuid(), &req.resource_id, &req.scheduled_action_name)
    });
    let action = ScheduledAction {
        scheduled_action_name: req.scheduled_action_name.clone(),
        scheduled_action_arn: arn,
        service_namespace: ServiceNamespace::Ecs,
        schedule,
        timezone: req.timezone.clone().or_else(|| existing.and_then(|e| e.action.timezone.clone())),
        resource_id: req.resource_id.clone(),
        scalable_dimension: Some(req.scalable_dimension),
        start_time: req.start_time.or_else(|| existing.and_then(|e| e.action.start_time)),
        end_time: req.end_time.or_else(|| existing.and_then(|e| e.action.end_time)),
        scalable_target_action: req
            .scalable_target_action
            .clone()
            .or_else(|| existing.and_then(|e| e.action.scalable_target_action.clone())),
        creation_time: Timestamp::now(),
    };
    documents::modify(ctx.store(), &key(&req.resource_id), |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| AasError::no_target(&req.resource_id))?;
        let record = ScheduledRecord { action: action.clone(), last_run: None };
        match rec.scheduled.iter_mut().find(|s| s.action.scheduled_action_name == req.scheduled_action_name) {
            Some(s) => *s = record,
            None => rec.scheduled.push(record),
        }
        Ok::<_, AwsError>((Change::Put(rec), ()))
    })
    .await?;
    Ok(PutScheduledActionResponse {})
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeScheduledActionsRequest,
) -> Result<DescribeScheduledActionsResponse, AwsError> {
    let names = req.scheduled_action_names.clone().unwrap_or_default();
    let actions: Vec<ScheduledAction> = super::all(&ctx)
        .await?
        .into_iter()
        .filter(|r| req.resource_id.as_ref().is_none_or(|id| *id == r.target.resource_id))
        .filter(|r| req.scalable_dimension.is_none_or(|d| d == r.target.scalable_dimension))
        .filter(|r| req.service_namespace == r.target.service_namespace)
        .flat_map(|r| r.scheduled.into_iter().map(|s| s.action))
        .filter(|a| names.is_empty() || names.contains(&a.scheduled_action_name))
        .collect();
    let (items, next_token) = page(actions, req.max_results, req.next_token.as_deref())?;
    Ok(DescribeScheduledActionsResponse { scheduled_actions: Some(items), next_token })
}

pub async fn delete(ctx: Ctx, req: DeleteScheduledActionRequest) -> Result<DeleteScheduledActionResponse, AwsError> {
    rules::check_resource(req.service_namespace, &req.resource_id, req.scalable_dimension)?;
    documents::modify(ctx.store(), &key(&req.resource_id), |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| AasError::no_target(&req.resource_id))?;
        let before = rec.scheduled.len();
        rec.scheduled.retain(|s| s.action.scheduled_action_name != req.scheduled_action_name);
        if rec.scheduled.len() == before {
            return Err(AwsError::from(AasError::ObjectNotFound(format!(
                "No scheduled action found for service namespace: ecs, resource ID: {}, scalable dimension: ecs:service:DesiredCount, scheduled action name: {}",
                req.resource_id, req.scheduled_action_name
            ))));
        }
        Ok((Change::Put(rec), ()))
    })
    .await?;
    Ok(DeleteScheduledActionResponse {})
}
