//! TagResource and UntagResource (a secret's tags are also in DescribeSecret).

use super::edit;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::secretsmanager::*;

const MAX_TAGS: usize = 50;

pub async fn tag(ctx: Ctx, req: TagResourceRequest) -> Result<(), AwsError> {
    check(&req.tags, 0)?;
    edit(&ctx, &req.secret_id, false, |record| super::secrets::tag(record, &req.tags)).await
}

pub async fn untag(ctx: Ctx, req: UntagResourceRequest) -> Result<(), AwsError> {
    edit(&ctx, &req.secret_id, false, |record| {
        record.tags.retain(|t| !t.key.as_ref().is_some_and(|k| req.tag_keys.contains(k)));
        Ok(())
    })
    .await
}

/// AWS's tag rules (`berth_model::tags`), and at most 50 tags on the secret (`total`).
pub(super) fn check(tags: &[Tag], total: usize) -> Result<(), AwsError> {
    berth_model::tags::check(
        tags.iter().map(|t| (t.key.as_deref().unwrap_or_default(), t.value.as_deref().unwrap_or_default())),
    )
    .map_err(|e| SmError::InvalidParameter(e.to_string()))?;
    if total > MAX_TAGS {
        return Err(SmError::InvalidParameter(format!("A secret can have at most {MAX_TAGS} tags.")).into());
    }
    Ok(())
}
