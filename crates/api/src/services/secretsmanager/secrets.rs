//! CreateSecret, UpdateSecret, DescribeSecret, ListSecrets, DeleteSecret, RestoreSecret.

use super::values::add_version;
use super::{edit, find, given_value, version_id};
use crate::auth::sealer::random_bytes;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::secretsmanager::names;
use berth_model::secretsmanager::records::{SecretRecord, merge_tags};
use berth_model::secretsmanager::*;
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};

const DAY: f64 = 86400.0;

pub async fn create(ctx: Ctx, req: CreateSecretRequest) -> Result<CreateSecretResponse, AwsError> {
    names::validate(&req.name)?;
    let value = given_value(req.secret_string.as_ref(), req.secret_binary.as_ref())?;
    let id = version_id(req.client_request_token.as_deref())?;
    let tags = req.tags.clone().unwrap_or_default();
    super::tags::check(&tags, tags.len())?;
    let scope = ctx.scope();
    let arn = names::arn(&scope.region, &scope.account, &req.name, &names::suffix(&random_bytes(names::SUFFIX_LEN)?));
    let now = Timestamp::now();
    documents::modify(ctx.store(), &keys::secret(&req.name), |current: Option<SecretRecord>| {
        match current {
            Some(existing) if existing.is_purged(now) => {}
            Some(existing) if existing.is_deleted() => {
                return Err(SmError::InvalidRequest(
                    "You can't create this secret because a secret with this name is already scheduled for deletion."
                        .into(),
                )
                .into());
            }
            Some(_) => return Err(SmError::Exists(req.name.clone()).into()),
            None => {}
        }
        let mut record = SecretRecord {
            name: req.name.clone(),
            arn: arn.clone(),
            description: req.description.clone(),
            kms_key_id: req.kms_key_id.clone(),
            tags: tags.clone(),
            created_date: now,
            last_changed_date: now,
            deletion_date: None,
            versions: vec![],
        };
        let version = match &value {
            Some(v) => {
                add_version(&ctx, &mut record, &id, v, vec![])?;
                Some(id.clone())
            }
            None => None,
        };
        let out = CreateSecretResponse {
            arn: Some(arn.clone()),
            name: Some(req.name.clone()),
            version_id: version,
            replication_status: None,
        };
        Ok::<_, AwsError>((Change::Put(record), out))
    })
    .await
}

pub async fn update(ctx: Ctx, req: UpdateSecretRequest) -> Result<UpdateSecretResponse, AwsError> {
    let value = given_value(req.secret_string.as_ref(), req.secret_binary.as_ref())?;
    let id = version_id(req.client_request_token.as_deref())?;
    let ctx2 = ctx.clone();
    edit(&ctx, &req.secret_id, false, |record| {
        if let Some(d) = &req.description {
            record.description = Some(d.clone());
        }
        if let Some(k) = &req.kms_key_id {
            record.kms_key_id = Some(k.clone());
        }
        record.last_changed_date = Timestamp::now();
        let version = match &value {
            Some(v) => {
                add_version(&ctx2, record, &id, v, vec![])?;
                Some(id.clone())
            }
            None => None,
        };
        Ok(UpdateSecretResponse { arn: Some(record.arn.clone()), name: Some(record.name.clone()), version_id: version })
    })
    .await
}

pub async fn describe(ctx: Ctx, req: DescribeSecretRequest) -> Result<DescribeSecretResponse, AwsError> {
    Ok(find(&ctx, &req.secret_id).await?.value.describe())
}

pub async fn list(ctx: Ctx, req: ListSecretsRequest) -> Result<ListSecretsResponse, AwsError> {
    let size = match req.max_results {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(SmError::InvalidParameter(format!("MaxResults must be between 1 and 100, not {n}.")).into());
        }
    };
    let start: usize = match req.next_token.as_deref() {
        None => 0,
        Some(t) => t.parse().map_err(|_| AwsError::secretsmanager_invalid_next_token())?,
    };
    let now = Timestamp::now();
    let with_deleted = req.include_planned_deletion.unwrap_or(false);
    let filters = req.filters.clone().unwrap_or_default();
    let mut secrets: Vec<SecretRecord> = documents::list::<SecretRecord>(ctx.store(), keys::SECRETS)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|s| !s.is_purged(now) && (with_deleted || !s.is_deleted()) && s.matches(&filters))
        .collect();
    let by_date = |s: &SecretRecord| match req.sort_by {
        Some(SortByType::LastChangedDate) => s.last_changed_date.as_secs_f64(),
        _ => s.created_date.as_secs_f64(),
    };
    match req.sort_by {
        Some(SortByType::Name) => secrets.sort_by(|a, b| a.name.cmp(&b.name)),
        _ => secrets.sort_by(|a, b| by_date(a).total_cmp(&by_date(b)).then_with(|| a.name.cmp(&b.name))),
    }
    if req.sort_order != Some(SortOrderType::Asc) && req.sort_by.is_some() {
        secrets.reverse();
    }
    if start > secrets.len() {
        return Err(AwsError::secretsmanager_invalid_next_token());
    }
    let end = (start + size).min(secrets.len());
    let page = secrets[start..end].iter().map(SecretRecord::list_entry).collect();
    Ok(ListSecretsResponse { secret_list: Some(page), next_token: (end < secrets.len()).then(|| end.to_string()) })
}

pub async fn delete(ctx: Ctx, req: DeleteSecretRequest) -> Result<DeleteSecretResponse, AwsError> {
    let force = req.force_delete_without_recovery.unwrap_or(false);
    if force && req.recovery_window_in_days.is_some() {
        return Err(SmError::InvalidParameter(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.".into(),
        )
        .into());
    }
    let days = req.recovery_window_in_days.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(SmError::InvalidParameter(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into(),
        )
        .into());
    }
    let now = Timestamp::now();
    if force {
        let doc = find(&ctx, &req.secret_id).await?;
        let key = keys::secret(&doc.value.name);
        let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key);
        if !ctx.store().txn(txn).await?.succeeded {
            return Err(
                SmError::InvalidRequest("The secret changed while it was being deleted; try again.".into()).into()
            );
        }
        return Ok(DeleteSecretResponse {
            arn: Some(doc.value.arn),
            name: Some(doc.value.name),
            deletion_date: Some(now),
        });
    }
    edit(&ctx, &req.secret_id, false, |record| {
        let at = Timestamp(now.as_secs_f64() + days as f64 * DAY);
        record.deletion_date = Some(at);
        Ok(DeleteSecretResponse {
            arn: Some(record.arn.clone()),
            name: Some(record.name.clone()),
            deletion_date: Some(at),
        })
    })
    .await
}

pub async fn restore(ctx: Ctx, req: RestoreSecretRequest) -> Result<RestoreSecretResponse, AwsError> {
    edit(&ctx, &req.secret_id, true, |record| {
        record.deletion_date = None;
        Ok(RestoreSecretResponse { arn: Some(record.arn.clone()), name: Some(record.name.clone()) })
    })
    .await
}

/// TagResource's merge, shared with CreateSecret's check.
pub(super) fn tag(record: &mut SecretRecord, tags: &[Tag]) -> Result<(), AwsError> {
    merge_tags(&mut record.tags, tags);
    super::tags::check(tags, record.tags.len())
}
