//! TagResource, UntagResource, ListTagsForResource on a scalable target's ARN (the only
//! taggable resource of Application Auto Scaling), and the tag rules RegisterScalableTarget
//! shares.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::application_autoscaling::records::TargetRecord;
use berth_model::application_autoscaling::*;
use berth_store::documents::{self, Change};
use std::collections::BTreeMap;

/// At most 50 tags on the target (with `adding` more), and AWS's tag rules (`berth_model::tags`).
pub(super) fn check(tags: Option<&BTreeMap<String, String>>, adding: usize) -> Result<(), AwsError> {
    let Some(tags) = tags else { return Ok(()) };
    if tags.len() + adding > 50 {
        return Err(AasError::TooManyTags("A scalable target can have at most 50 tags.".into()).into());
    }
    berth_model::tags::check(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AasError::Validation(e.to_string()).into())
}

/// The key of the target whose ARN is `arn`.
async fn key_of(ctx: &Ctx, arn: &str) -> Result<String, AwsError> {
    let found = super::all(ctx).await?.into_iter().find(|r| r.target.scalable_target_arn.as_deref() == Some(arn));
    match found {
        Some(r) => Ok(super::key(&r.target.resource_id)),
        None => Err(AasError::ResourceNotFound(format!("No scalable target found for ARN {arn}")).into()),
    }
}

pub async fn tag(ctx: Ctx, req: TagResourceRequest) -> Result<TagResourceResponse, AwsError> {
    check(Some(&req.tags), 0)?;
    let key = key_of(&ctx, &req.resource_arn).await?;
    documents::modify(ctx.store(), &key, |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| {
            AasError::ResourceNotFound(format!("No scalable target found for ARN {}", req.resource_arn))
        })?;
        rec.tags.extend(req.tags.clone());
        check(Some(&rec.tags), 0)?;
        Ok::<_, AwsError>((Change::Put(rec), ()))
    })
    .await?;
    Ok(TagResourceResponse {})
}

pub async fn untag(ctx: Ctx, req: UntagResourceRequest) -> Result<UntagResourceResponse, AwsError> {
    let key = key_of(&ctx, &req.resource_arn).await?;
    documents::modify(ctx.store(), &key, |current: Option<TargetRecord>| {
        let mut rec = current.ok_or_else(|| {
            AasError::ResourceNotFound(format!("No scalable target found for ARN {}", req.resource_arn))
        })?;
        for k in &req.tag_keys {
            rec.tags.remove(k);
        }
        Ok::<_, AwsError>((Change::Put(rec), ()))
    })
    .await?;
    Ok(UntagResourceResponse {})
}

pub async fn list(ctx: Ctx, req: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, AwsError> {
    let key = key_of(&ctx, &req.resource_arn).await?;
    let rec = documents::get::<TargetRecord>(ctx.store(), &key).await?;
    Ok(ListTagsForResourceResponse { tags: Some(rec.map(|d| d.value.tags).unwrap_or_default()) })
}
