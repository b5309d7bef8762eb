//! Lifecycle policies (applied at once and after every push), their previews,
//! repository policies (stored and returned; berth does not evaluate them yet) and
//! resource tags.

use super::{checked_name, registry, repository};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::arn::Arn;
use berth_model::generated::ecr::*;
use berth_registry::lifecycle;
use berth_registry::meta;

fn invalid_policy(reason: &str) -> AwsError {
    AwsError::ecr_invalid_parameter(format!(
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: {reason}'"
    ))
}

pub async fn put_lifecycle(ctx: Ctx, req: PutLifecyclePolicyRequest) -> Result<PutLifecyclePolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    lifecycle::parse(&req.lifecycle_policy_text).map_err(|e| invalid_policy(&e))?;
    meta::modify_repository(ctx.store(), name, |r| {
        r.lifecycle_policy_text = Some(req.lifecycle_policy_text.clone());
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    registry(&ctx)?.apply_lifecycle(name).await.map_err(AwsError::ecr)?;
    Ok(PutLifecyclePolicyResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        lifecycle_policy_text: Some(req.lifecycle_policy_text),
    })
}

pub async fn get_lifecycle(ctx: Ctx, req: GetLifecyclePolicyRequest) -> Result<GetLifecyclePolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let record = repository(&ctx, name).await?;
    let text = record
        .lifecycle_policy_text
        .ok_or_else(|| AwsError::ecr_lifecycle_policy_not_found(name, &ctx.scope().account))?;
    Ok(GetLifecyclePolicyResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        lifecycle_policy_text: Some(text),
        last_evaluated_at: record.lifecycle_evaluated_at,
    })
}

pub async fn delete_lifecycle(
    ctx: Ctx,
    req: DeleteLifecyclePolicyRequest,
) -> Result<DeleteLifecyclePolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let account = ctx.scope().account.clone();
    // Without a policy the record is written back unchanged.
    let (record, text) = meta::modify_repository(ctx.store(), name, |r| Ok(r.lifecycle_policy_text.take()))
        .await
        .map_err(AwsError::ecr)?;
    let text = text.ok_or_else(|| AwsError::ecr_lifecycle_policy_not_found(name, &account))?;
    Ok(DeleteLifecyclePolicyResponse {
        registry_id: Some(account),
        repository_name: Some(name.to_string()),
        lifecycle_policy_text: Some(text),
        last_evaluated_at: record.lifecycle_evaluated_at,
    })
}

pub async fn start_preview(
    ctx: Ctx,
    req: StartLifecyclePolicyPreviewRequest,
) -> Result<StartLifecyclePolicyPreviewResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let account = ctx.scope().account.clone();
    let text = match req.lifecycle_policy_text {
        Some(t) => t,
        None => repository(&ctx, name)
            .await?
            .lifecycle_policy_text
            .ok_or_else(|| AwsError::ecr_lifecycle_policy_not_found(name, &account))?,
    };
    lifecycle::parse(&text).map_err(|e| invalid_policy(&e))?;
    meta::modify_repository(ctx.store(), name, |r| {
        r.lifecycle_preview_text = Some(text.clone());
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    Ok(StartLifecyclePolicyPreviewResponse {
        registry_id: Some(account),
        repository_name: Some(name.to_string()),
        lifecycle_policy_text: Some(text),
        status: Some(LifecyclePolicyPreviewStatus::InProgress),
    })
}

/// The preview is computed when asked, so it is always COMPLETE.
pub async fn get_preview(
    ctx: Ctx,
    req: GetLifecyclePolicyPreviewRequest,
) -> Result<GetLifecyclePolicyPreviewResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let record = repository(&ctx, name).await?;
    let text = record.lifecycle_preview_text.ok_or_else(|| AwsError::ecr_lifecycle_preview_not_found(name))?;
    let policy = lifecycle::parse(&text).map_err(|e| invalid_policy(&e))?;
    let images = meta::images(ctx.store(), name).await.map_err(AwsError::ecr)?;
    let expiring = lifecycle::evaluate(&policy, &images, Timestamp::now().0);
    let results: Vec<LifecyclePolicyPreviewResult> = expiring
        .iter()
        .map(|e| LifecyclePolicyPreviewResult {
            image_tags: Some(e.tags.clone()),
            image_digest: Some(e.digest.clone()),
            image_pushed_at: Some(e.pushed_at),
            action: Some(LifecyclePolicyRuleAction {
                r#type: Some(ImageActionType::Expire),
                target_storage_class: None,
            }),
            applied_rule_priority: Some(e.rule_priority as i32),
            storage_class: None,
        })
        .collect();
    Ok(GetLifecyclePolicyPreviewResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        lifecycle_policy_text: Some(text),
        status: Some(LifecyclePolicyPreviewStatus::Complete),
        next_token: None,
        summary: Some(LifecyclePolicyPreviewSummary {
            expiring_image_total_count: Some(results.len() as i32),
            transitioning_image_total_counts: None,
        }),
        preview_results: Some(results),
    })
}

pub async fn set_repository_policy(
    ctx: Ctx,
    req: SetRepositoryPolicyRequest,
) -> Result<SetRepositoryPolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let valid = serde_json::from_str::<serde_json::Value>(&req.policy_text).is_ok_and(|v| v.is_object());
    if !valid {
        return Err(AwsError::ecr_invalid_parameter(
            "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
        ));
    }
    meta::modify_repository(ctx.store(), name, |r| {
        r.policy_text = Some(req.policy_text.clone());
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    Ok(SetRepositoryPolicyResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        policy_text: Some(req.policy_text),
    })
}

pub async fn get_repository_policy(
    ctx: Ctx,
    req: GetRepositoryPolicyRequest,
) -> Result<GetRepositoryPolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let text = repository(&ctx, name)
        .await?
        .policy_text
        .ok_or_else(|| AwsError::ecr_repository_policy_not_found(name, &ctx.scope().account))?;
    Ok(GetRepositoryPolicyResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        policy_text: Some(text),
    })
}

pub async fn delete_repository_policy(
    ctx: Ctx,
    req: DeleteRepositoryPolicyRequest,
) -> Result<DeleteRepositoryPolicyResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let account = ctx.scope().account.clone();
    let (_, text) =
        meta::modify_repository(ctx.store(), name, |r| Ok(r.policy_text.take())).await.map_err(AwsError::ecr)?;
    let text = text.ok_or_else(|| AwsError::ecr_repository_policy_not_found(name, &account))?;
    Ok(DeleteRepositoryPolicyResponse {
        registry_id: Some(account),
        repository_name: Some(name.to_string()),
        policy_text: Some(text),
    })
}

/// AWS's tag rules (`berth_model::tags`), refused as ECR's InvalidTagParameterException.
pub fn validate_tags(tags: &[Tag]) -> Result<(), AwsError> {
    berth_model::tags::check(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))
        .map_err(|e| AwsError::ecr_invalid_tag_parameter(e.to_string()))
}

/// The repository an ECR ARN of this account names.
fn repository_of(ctx: &Ctx, arn: &str) -> Result<String, AwsError> {
    let repository = |a: Arn<'_>| a.resource.strip_prefix("repository/").map(str::to_owned);
    if let Some(elsewhere) = Arn::parse(arn).filter(|a| a.service == "ecr").and_then(repository)
        && ctx.scope().resolve(arn, "ecr").is_none()
    {
        // Another region's, partition's or account's repository: none such here.
        return Err(AwsError::ecr(berth_registry::Error::RepositoryNotFound(elsewhere)));
    }
    let name = ctx
        .scope()
        .resolve(arn, "ecr")
        .and_then(repository)
        .ok_or_else(|| {
            AwsError::ecr_invalid_parameter(format!(
                "Invalid parameter at 'resourceArn' failed to satisfy constraint: '{arn}' is not an ECR repository ARN of this account"
            ))
        })?;
    checked_name(ctx, None, &name)?;
    Ok(name)
}

pub async fn tag(ctx: Ctx, req: TagResourceRequest) -> Result<TagResourceResponse, AwsError> {
    let name = repository_of(&ctx, &req.resource_arn)?;
    validate_tags(&req.tags)?;
    let (_, fits) = meta::modify_repository(ctx.store(), &name, |r| {
        let mut merged = r.tags.clone();
        for t in &req.tags {
            merged.retain(|x| x.key != t.key);
            merged.push(t.clone());
        }
        // Over the limit the record is written back unchanged.
        let fits = merged.len() <= 50;
        if fits {
            r.tags = merged;
        }
        Ok(fits)
    })
    .await
    .map_err(AwsError::ecr)?;
    if !fits {
        return Err(AwsError::ecr_invalid_tag_parameter("A resource can have at most 50 tags."));
    }
    Ok(TagResourceResponse {})
}

pub async fn untag(ctx: Ctx, req: UntagResourceRequest) -> Result<UntagResourceResponse, AwsError> {
    let name = repository_of(&ctx, &req.resource_arn)?;
    meta::modify_repository(ctx.store(), &name, |r| {
        r.tags.retain(|t| !req.tag_keys.contains(&t.key));
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    Ok(UntagResourceResponse {})
}

pub async fn list_tags(ctx: Ctx, req: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, AwsError> {
    let name = repository_of(&ctx, &req.resource_arn)?;
    Ok(ListTagsForResourceResponse { tags: Some(repository(&ctx, &name).await?.tags) })
}
