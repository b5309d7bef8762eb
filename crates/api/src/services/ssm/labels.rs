//! LabelParameterVersion and UnlabelParameterVersion.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::ssm::names::Reference;
use berth_model::ssm::records::ParameterRecord;
use berth_model::ssm::*;
use berth_store::documents::{self, Change};

pub async fn label(ctx: Ctx, req: LabelParameterVersionRequest) -> Result<LabelParameterVersionResult, AwsError> {
    check_count(&req.labels)?;
    edit(&ctx, &req.name, |record| {
        let version = match req.parameter_version {
            Some(v) => v,
            None => record.current().map_or(0, |c| c.version),
        };
        let invalid = record.label(version, &req.labels)?;
        Ok(LabelParameterVersionResult { invalid_labels: Some(invalid), parameter_version: Some(version) })
    })
    .await
}

pub async fn unlabel(ctx: Ctx, req: UnlabelParameterVersionRequest) -> Result<UnlabelParameterVersionResult, AwsError> {
    check_count(&req.labels)?;
    edit(&ctx, &req.name, |record| {
        let (removed, invalid) = record.unlabel(req.parameter_version, &req.labels)?;
        Ok(UnlabelParameterVersionResult { removed_labels: Some(removed), invalid_labels: Some(invalid) })
    })
    .await
}

fn check_count(labels: &[String]) -> Result<(), AwsError> {
    if labels.is_empty() || labels.len() > 10 {
        return Err(SsmError::Validation("Labels takes 1 to 10 labels.".into()).into());
    }
    Ok(())
}

/// Applies `change` to the stored parameter `name` (a name or ARN) with compare-and-swap.
pub(super) async fn edit<R>(
    ctx: &Ctx,
    name: &str,
    mut change: impl FnMut(&mut ParameterRecord) -> Result<R, SsmError>,
) -> Result<R, AwsError> {
    let reference = Reference::parse(ctx.scope(), name)?;
    let Some(doc) = super::find(ctx, &reference.names).await? else {
        return Err(SsmError::NotFound(reference.name().to_string()).into());
    };
    let key = keys::parameter(&doc.value.name);
    documents::modify(ctx.store(), &key, |current: Option<ParameterRecord>| {
        let mut record = current.ok_or_else(|| SsmError::NotFound(reference.name().to_string()))?;
        let result = change(&mut record)?;
        Ok::<_, AwsError>((Change::Put(record), result))
    })
    .await
}
