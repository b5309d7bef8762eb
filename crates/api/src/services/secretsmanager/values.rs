//! GetSecretValue and PutSecretValue.

use super::{edit, find, given_value, seal_context, version_id};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::secretsmanager::records::{SecretRecord, SecretVersion};
use berth_model::secretsmanager::*;

pub async fn get(ctx: Ctx, req: GetSecretValueRequest) -> Result<GetSecretValueResponse, AwsError> {
    let record = find(&ctx, &req.secret_id).await?.value;
    let (version, value) = open(&ctx, &record, req.version_id.as_deref(), req.version_stage.as_deref())?;
    let (secret_string, secret_binary) = if version.binary { (None, Some(value)) } else { (Some(value), None) };
    Ok(GetSecretValueResponse {
        arn: Some(record.arn.clone()),
        name: Some(record.name.clone()),
        version_id: Some(version.version_id.clone()),
        secret_binary,
        secret_string,
        version_stages: Some(version.stages.clone()),
        created_date: Some(version.created_date),
    })
}

/// For the agent: the text of the version of secret `id` that `version_id` and/or
/// `stage` select (AWSCURRENT by default). A binary secret is its base64 text.
pub(crate) async fn current_text(
    ctx: &Ctx,
    id: &str,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<String, AwsError> {
    let record = find(ctx, id).await?.value;
    Ok(open(ctx, &record, version_id, stage)?.1)
}

fn open<'a>(
    ctx: &Ctx,
    record: &'a SecretRecord,
    version_id: Option<&str>,
    stage: Option<&str>,
) -> Result<(&'a SecretVersion, String), AwsError> {
    if record.is_deleted() {
        return Err(SmError::MarkedForDeletion.into());
    }
    let version = record.select(version_id, stage)?;
    let value = ctx.api.keyring.sealer().open(&version.sealed, &seal_context(&record.arn, &version.version_id))?;
    Ok((version, value))
}

pub async fn put(ctx: Ctx, req: PutSecretValueRequest) -> Result<PutSecretValueResponse, AwsError> {
    let Some(value) = given_value(req.secret_string.as_ref(), req.secret_binary.as_ref())? else {
        return Err(SmError::InvalidRequest("You must provide either SecretString or SecretBinary.".into()).into());
    };
    let id = version_id(req.client_request_token.as_deref())?;
    let stages = req.version_stages.clone().unwrap_or_default();
    let ctx2 = ctx.clone();
    edit(&ctx, &req.secret_id, false, |record| {
        add_version(&ctx2, record, &id, &value, stages.clone())?;
        let version = record.version(&id).map(|v| v.stages.clone()).unwrap_or_default();
        Ok(PutSecretValueResponse {
            arn: Some(record.arn.clone()),
            name: Some(record.name.clone()),
            version_id: Some(id.clone()),
            version_stages: Some(version),
        })
    })
    .await
}

/// Adds version `id` holding `value` to `record` (sealed), moving the staging labels.
/// The same token with the same value again changes nothing (a retried request); with
/// another value it is refused.
pub(super) fn add_version(
    ctx: &Ctx,
    record: &mut SecretRecord,
    id: &str,
    value: &(String, bool),
    stages: Vec<String>,
) -> Result<(), AwsError> {
    let sealer = ctx.api.keyring.sealer();
    let context = seal_context(&record.arn, id);
    if let Some(existing) = record.version(id) {
        if sealer.open(&existing.sealed, &context)? == value.0 && existing.binary == value.1 {
            return Ok(());
        }
        return Err(SmError::VersionExists.into());
    }
    record.add_version(SecretVersion {
        version_id: id.to_string(),
        sealed: sealer.seal(&value.0, &context)?,
        binary: value.1,
        stages,
        created_date: Timestamp::now(),
    })?;
    Ok(())
}
