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

/// Keys of 1 to 128 characters, values of at most 256, at most 50 tags (`total`).
pub(super) fn check(tags: &[Tag], total: usize) -> Result<(), AwsError> {
    let bad = |t: &Tag| {
        let key = t.key.as_deref().unwrap_or_default();
        key.is_empty() || key.len() > 128 || t.value.as_deref().unwrap_or_default().len() > 256
    };
    if let Some(t) = tags.iter().find(|t| bad(t)) {
        return Err(SmError::InvalidParameter(format!(
            "The tag {:?} is not valid: keys have 1 to 128 characters, values at most 256.",
            t.key.as_deref().unwrap_or_default()
        ))
        .into());
    }
    if total > MAX_TAGS {
        return Err(SmError::InvalidParameter(format!("A secret can have at most {MAX_TAGS} tags.")).into());
    }
    Ok(())
}
