//! PutParameter, DeleteParameter(s), DescribeParameters, GetParameterHistory.

use super::{arn, find, max_results, seal_context, value_of};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::ssm::filters::{self, Operation};
use berth_model::ssm::names::{self, Reference};
use berth_model::ssm::records::{ParameterRecord, ParameterVersion};
use berth_model::ssm::*;
use berth_store::documents::{self, Change, Doc};
use berth_store::{Compare, Txn};

pub async fn put(ctx: Ctx, req: PutParameterRequest) -> Result<PutParameterResult, AwsError> {
    if let Some(tags) = &req.tags {
        super::tags::check(tags, tags.len())?;
    }
    let sealer = ctx.api.keyring.sealer();
    let user = ctx.caller.arn.clone();
    documents::modify(ctx.store(), &keys::parameter(&req.name), |current: Option<ParameterRecord>| {
        let plan = rules::check_put(&req, current.as_ref())?;
        let mut record =
            current.unwrap_or_else(|| ParameterRecord { name: req.name.clone(), versions: vec![], tags: vec![] });
        if record.versions.is_empty() {
            record.tags = req.tags.clone().unwrap_or_default();
        }
        let version = record.next_version();
        record.push(ParameterVersion {
            version,
            kind: plan.kind,
            sealed_value: sealer.seal(&req.value, &seal_context(&req.name, version))?,
            key_id: plan.key_id,
            description: plan.description,
            allowed_pattern: plan.allowed_pattern,
            tier: plan.tier,
            data_type: plan.data_type,
            policies: req.policies.clone(),
            labels: vec![],
            last_modified_date: Timestamp::now(),
            last_modified_user: user.clone(),
        })?;
        Ok::<_, AwsError>((Change::Put(record), PutParameterResult { version: Some(version), tier: Some(plan.tier) }))
    })
    .await
}

pub async fn delete(ctx: Ctx, req: DeleteParameterRequest) -> Result<DeleteParameterResult, AwsError> {
    let reference = Reference::parse(ctx.scope(), &req.name)?;
    if !remove(&ctx, &reference.names).await? {
        return Err(SsmError::NotFound(reference.name().to_string()).into());
    }
    Ok(DeleteParameterResult {})
}

pub async fn delete_many(ctx: Ctx, req: DeleteParametersRequest) -> Result<DeleteParametersResult, AwsError> {
    if req.names.is_empty() || req.names.len() > 10 {
        return Err(SsmError::Validation("DeleteParameters takes 1 to 10 names.".into()).into());
    }
    let (mut deleted, mut invalid) = (vec![], vec![]);
    for name in req.names {
        let gone = match Reference::parse(ctx.scope(), &name) {
            Ok(r) => remove(&ctx, &r.names).await?,
            Err(_) => false,
        };
        if gone { deleted.push(name) } else { invalid.push(name) }
    }
    Ok(DeleteParametersResult { deleted_parameters: Some(deleted), invalid_parameters: Some(invalid) })
}

/// Deletes the parameter stored under one of `names`; false when there was none.
async fn remove(ctx: &Ctx, names: &[String]) -> Result<bool, AwsError> {
    for _ in 0..documents::MAX_ATTEMPTS {
        let Some(doc) = find(ctx, names).await? else { return Ok(false) };
        let key = keys::parameter(&doc.value.name);
        let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key);
        if ctx.store().txn(txn).await?.succeeded {
            return Ok(true);
        }
    }
    Err(berth_store::documents::DocumentError::Contended { key: names.join(",") }.into())
}

pub async fn describe(ctx: Ctx, req: DescribeParametersRequest) -> Result<DescribeParametersResult, AwsError> {
    let size = max_results(req.max_results, 50, 10)?;
    let mut given = filters::from_legacy(req.filters.as_deref().unwrap_or_default());
    given.extend(req.parameter_filters.iter().flatten().cloned());
    let checked = filters::check(Operation::DescribeParameters, &given)?;
    let after = token(req.next_token.as_deref())?;
    let (kvs, _) = ctx.store().range(keys::PARAMETERS).await?;
    let mut out = vec![];
    let mut next = None;
    for kv in kvs.iter().filter(|kv| keys::name_of(&kv.key).is_some_and(|n| after.is_none_or(|a| n > a))) {
        let Some(doc) = documents::decodable::<ParameterRecord>(kv) else { continue };
        if !checked.iter().all(|f| f.matches(&view(&doc.value))) {
            continue;
        }
        if out.len() == size {
            next = out.last().and_then(|m: &ParameterMetadata| m.name.clone());
            break;
        }
        out.extend(doc.value.metadata(arn(&ctx, &doc.value.name)));
    }
    Ok(DescribeParametersResult { parameters: Some(out), next_token: next })
}

pub async fn history(ctx: Ctx, req: GetParameterHistoryRequest) -> Result<GetParameterHistoryResult, AwsError> {
    let size = max_results(req.max_results, 50, 50)?;
    let reference = Reference::parse(ctx.scope(), &req.name)?;
    let Some(Doc { value: record, .. }) = find(&ctx, &reference.names).await? else {
        return Err(SsmError::NotFound(reference.name().to_string()).into());
    };
    let after: i64 = match req.next_token.as_deref() {
        None => 0,
        Some(t) => t.parse().map_err(|_| SsmError::InvalidNextToken)?,
    };
    let decrypt = req.with_decryption.unwrap_or(false);
    let rest: Vec<&ParameterVersion> = record.versions.iter().filter(|v| v.version > after).collect();
    let page = &rest[..rest.len().min(size)];
    let parameters = page
        .iter()
        .map(|v| Ok(v.history(&record.name, value_of(&ctx, &record.name, v, decrypt)?)))
        .collect::<Result<Vec<_>, AwsError>>()?;
    let next_token = (rest.len() > size).then(|| page.last().map(|v| v.version.to_string())).flatten();
    Ok(GetParameterHistoryResult { parameters: Some(parameters), next_token })
}

/// A NextToken is the last name of the previous page.
pub(super) fn token(given: Option<&str>) -> Result<Option<&str>, AwsError> {
    match given {
        Some(t) if names::validate(t).is_err() => Err(SsmError::InvalidNextToken.into()),
        other => Ok(other),
    }
}

/// What the filters look at of a stored parameter.
pub(super) fn view(record: &ParameterRecord) -> filters::View<'_> {
    let current = record.current();
    filters::View {
        name: &record.name,
        kind: current.map(|c| c.kind.as_str()).unwrap_or_default(),
        key_id: current.and_then(|c| c.key_id.as_deref()),
        tier: current.map(|c| c.tier.as_str()).unwrap_or_default(),
        data_type: current.map(|c| c.data_type.as_str()).unwrap_or_default(),
        labels: record.versions.iter().flat_map(|v| v.labels.iter().map(String::as_str)).collect(),
        tags: record.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect(),
    }
}
