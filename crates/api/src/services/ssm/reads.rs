//! GetParameter, GetParameters, GetParametersByPath: stored parameters and the public
//! ones, values opened only `WithDecryption` for SecureStrings.

use super::parameters::{token, view};
use super::{max_results, public_parameter, resolve, stored_parameter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::ssm::filters::{self, Operation};
use berth_model::ssm::names::{self, Reference};
use berth_model::ssm::records::ParameterRecord;
use berth_model::ssm::*;
use berth_store::documents;

pub async fn get(ctx: Ctx, req: GetParameterRequest) -> Result<GetParameterResult, AwsError> {
    let reference = Reference::parse(ctx.scope(), &req.name)?;
    let parameter = resolve(&ctx, &reference, req.with_decryption.unwrap_or(false)).await?;
    Ok(GetParameterResult { parameter: Some(parameter) })
}

pub async fn get_many(ctx: Ctx, req: GetParametersRequest) -> Result<GetParametersResult, AwsError> {
    if req.names.is_empty() || req.names.len() > 10 {
        return Err(SsmError::Validation(format!(
            "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10 (it has {})",
            req.names.len()
        ))
        .into());
    }
    let decrypt = req.with_decryption.unwrap_or(false);
    let (mut found, mut invalid) = (vec![], vec![]);
    for name in &req.names {
        let answer = match Reference::parse(ctx.scope(), name) {
            Ok(reference) => resolve(&ctx, &reference, decrypt).await,
            Err(e) => Err(e.into()),
        };
        match answer {
            Ok(p) => found.push(p),
            // A name that is not there, or not a name at all, is listed, not an error.
            Err(e) if e.status.is_client_error() => invalid.push(name.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(GetParametersResult { parameters: Some(found), invalid_parameters: Some(invalid) })
}

/// How many stored keys GetParametersByPath reads at a time.
const STORE_PAGE: usize = 100;

pub async fn by_path(ctx: Ctx, req: GetParametersByPathRequest) -> Result<GetParametersByPathResult, AwsError> {
    let size = max_results(req.max_results, 10, 10)?;
    let path = req.path.trim_end_matches('/');
    if !req.path.starts_with('/') || (!path.is_empty() && names::validate(path).is_err()) {
        return Err(SsmError::Validation(format!(
            "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_. (given: {})",
            req.path
        ))
        .into());
    }
    let recursive = req.recursive.unwrap_or(false);
    let checked = filters::check(Operation::GetParametersByPath, req.parameter_filters.as_deref().unwrap_or_default())?;
    let after = token(req.next_token.as_deref())?;
    let decrypt = req.with_decryption.unwrap_or(false);
    let is_next = |name: &str| filters::under(name, &req.path, recursive) && after.is_none_or(|a| name > a);

    // Stored parameters in key (= name) order from the token on, filtered on the key before
    // anything is decoded, read a store page at a time until one more than a page has passed
    // the filters: the merge below takes no more than that.
    let prefix = keys::parameters_under(path);
    let mut after_key = after.map(keys::parameter);
    let mut candidates: Vec<ParameterRecord> = vec![];
    'pages: loop {
        let (kvs, _) = ctx.store().range_page(&prefix, after_key.as_deref(), STORE_PAGE).await?;
        let Some(last) = kvs.last() else { break };
        after_key = Some(last.key.clone());
        for kv in kvs.iter().filter(|kv| keys::name_of(&kv.key).is_some_and(is_next)) {
            let Some(doc) = documents::decodable::<ParameterRecord>(kv) else { continue };
            if checked.iter().all(|f| f.matches(&view(&doc.value))) {
                candidates.push(doc.value);
                if candidates.len() > size {
                    break 'pages;
                }
            }
        }
        if kvs.len() < STORE_PAGE {
            break;
        }
    }
    let mut stored = candidates.iter().peekable();
    let mut public = public::all().into_iter().filter(|p| is_next(&p.name)).peekable();
    let mut out: Vec<Parameter> = vec![];
    let mut next_token = None;
    loop {
        // Merge the two name-ordered sources.
        let take_public = match (stored.peek(), public.peek()) {
            (None, None) => break,
            (Some(record), Some(p)) => p.name < record.name,
            (None, Some(_)) => true,
            (Some(_), None) => false,
        };
        let parameter = if take_public {
            let Some(p) = public.next() else { break };
            if !checked.is_empty() {
                // Public parameters have no tags, labels or keys to filter on but their type.
                let v = filters::View {
                    name: &p.name,
                    kind: "String",
                    key_id: None,
                    tier: "Standard",
                    data_type: "text",
                    labels: vec![],
                    tags: vec![],
                };
                if !checked.iter().all(|f| f.matches(&v)) {
                    continue;
                }
            }
            public_parameter(&ctx, p, None)
        } else {
            let Some(record) = stored.next() else { break };
            stored_parameter(&ctx, record, None, decrypt)?
        };
        if out.len() == size {
            next_token = out.last().and_then(|p| p.name.clone());
            break;
        }
        out.push(parameter);
    }
    Ok(GetParametersByPathResult { parameters: Some(out), next_token })
}
