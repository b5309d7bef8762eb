//! Secrets Manager (JSON 1.1, `X-Amz-Target: secretsmanager.<Op>`): secrets with
//! versions and staging labels in the store (`berth_model::secretsmanager::keys`),
//! values sealed at rest and never in DescribeSecret or ListSecrets. The rules are the
//! model's (`berth_model::secretsmanager`).

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_model::Timestamp;
use berth_model::secretsmanager::names::SecretId;
use berth_model::secretsmanager::records::SecretRecord;
use berth_model::secretsmanager::{SmError, keys};
use berth_store::documents::{self, Change, Doc};

pub(crate) mod access;
mod secrets;
mod tags;
mod values;

pub(crate) use values::current_text;

pub const TARGET_PREFIX: &str = "secretsmanager";

pub const SERVICE: Service =
    Service::json("secretsmanager", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "CreateSecret" => secrets::create,
        "UpdateSecret" => secrets::update,
        "DescribeSecret" => secrets::describe,
        "ListSecrets" => secrets::list,
        "DeleteSecret" => secrets::delete,
        "RestoreSecret" => secrets::restore,
        "GetSecretValue" => values::get,
        "PutSecretValue" => values::put,
        "TagResource" => tags::tag,
        "UntagResource" => tags::untag,
    })
}

/// What a version's value is sealed to: the secret's ARN and the version id.
fn seal_context(arn: &str, version_id: &str) -> String {
    format!("secretsmanager:{arn}:{version_id}")
}

/// The secret `id` names (name, full or partial ARN), whether or not it is scheduled
/// for deletion; one past its recovery window does not exist any more.
async fn find(ctx: &Ctx, id: &str) -> Result<Doc<SecretRecord>, AwsError> {
    let elsewhere = id.starts_with("arn:") && ctx.scope().resolve(id, "secretsmanager").is_none();
    let id = SecretId::parse(id)?;
    if elsewhere {
        return Err(SmError::NotFound.into());
    }
    for name in id.candidates() {
        let Some(doc) = documents::get::<SecretRecord>(ctx.store(), &keys::secret(name)).await? else { continue };
        if id.is(&doc.value.name, &doc.value.arn) && !doc.value.is_purged(Timestamp::now()) {
            return Ok(doc);
        }
    }
    Err(SmError::NotFound.into())
}

/// Applies `change` to the secret `id` names with compare-and-swap; a secret scheduled
/// for deletion is refused unless `deleted_ok`.
async fn edit<R>(
    ctx: &Ctx,
    id: &str,
    deleted_ok: bool,
    mut change: impl FnMut(&mut SecretRecord) -> Result<R, AwsError>,
) -> Result<R, AwsError> {
    let found = find(ctx, id).await?;
    let arn = found.value.arn.clone();
    documents::modify(ctx.store(), &keys::secret(&found.value.name), |current: Option<SecretRecord>| {
        let mut record = current.filter(|r| r.arn == arn).ok_or(SmError::NotFound)?;
        if record.is_deleted() && !deleted_ok {
            return Err(SmError::MarkedForDeletion.into());
        }
        let result = change(&mut record)?;
        Ok((Change::Put(record), result))
    })
    .await
}

/// A ClientRequestToken (the new version's id): 32 to 64 characters; a UUID when absent.
fn version_id(token: Option<&str>) -> Result<String, AwsError> {
    match token {
        None => Ok(uuid::Uuid::new_v4().to_string()),
        Some(t) if (32..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_graphic()) => Ok(t.to_string()),
        Some(_) => {
            Err(SmError::InvalidParameter("ClientRequestToken must be 32 to 64 printable characters.".into()).into())
        }
    }
}

/// The value a request gives: SecretString or SecretBinary (base64), not both;
/// `(text, binary)`.
fn given_value(string: Option<&String>, binary: Option<&String>) -> Result<Option<(String, bool)>, AwsError> {
    const MAX: usize = 65536;
    match (string, binary) {
        (Some(_), Some(_)) => Err(SmError::InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the same secret.".into(),
        )
        .into()),
        (Some(s), None) | (None, Some(s)) if s.len() > MAX => Err(SmError::Validation(format!(
            "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to {MAX}"
        ))
        .into()),
        (Some(s), None) => Ok(Some((s.clone(), false))),
        (None, Some(b)) => Ok(Some((b.clone(), true))),
        (None, None) => Ok(None),
    }
}
