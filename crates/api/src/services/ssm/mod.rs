//! SSM Parameter Store (JSON 1.1, `X-Amz-Target: AmazonSSM.<Op>`): parameters with
//! versions, labels and tags in the store (`berth_model::ssm::keys`), values sealed at
//! rest, and AWS's public ECS AMI parameters answered read-only from
//! `berth_model::ssm::public`. One file per concern; the rules are the model's.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_model::ssm::names::{self, Reference};
use berth_model::ssm::public::PublicParameter;
use berth_model::ssm::records::{ParameterRecord, ParameterVersion};
use berth_model::ssm::{Parameter, ParameterType, SsmError, keys};
use berth_store::documents::{self, Doc};

pub(crate) mod access;
mod labels;
mod parameters;
mod reads;
mod tags;

pub const TARGET_PREFIX: &str = "AmazonSSM";

pub const SERVICE: Service = Service::json("ssm", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "PutParameter" => parameters::put,
        "DeleteParameter" => parameters::delete,
        "DeleteParameters" => parameters::delete_many,
        "DescribeParameters" => parameters::describe,
        "GetParameterHistory" => parameters::history,
        "GetParameter" => reads::get,
        "GetParameters" => reads::get_many,
        "GetParametersByPath" => reads::by_path,
        "LabelParameterVersion" => labels::label,
        "UnlabelParameterVersion" => labels::unlabel,
        "AddTagsToResource" => tags::add,
        "ListTagsForResource" => tags::list,
        "RemoveTagsFromResource" => tags::remove,
    })
}

/// What a version's value is sealed to: a sealed value moved to another parameter or
/// version does not open.
fn seal_context(name: &str, version: i64) -> String {
    format!("ssm:{name}:{version}")
}

/// The stored parameter a reference names (an ARN may mean `x` or `/x`).
async fn find(ctx: &Ctx, names: &[String]) -> Result<Option<Doc<ParameterRecord>>, AwsError> {
    for name in names {
        if let Some(doc) = documents::get::<ParameterRecord>(ctx.store(), &keys::parameter(name)).await? {
            return Ok(Some(doc));
        }
    }
    Ok(None)
}

/// A parameter as GetParameter* answer it, resolved for `reference`: a public one, or
/// the selected version of a stored one, its value opened when it may be shown.
pub(crate) async fn resolve(ctx: &Ctx, reference: &Reference, decrypt: bool) -> Result<Parameter, AwsError> {
    if let Some(public) = reference.names.iter().find_map(|n| berth_model::ssm::public::get(n)) {
        return match &reference.selector {
            None | Some(names::Selector::Version(1)) => Ok(public_parameter(ctx, public, reference.selector.as_ref())),
            Some(names::Selector::Version(v)) => {
                Err(SsmError::VersionNotFound { name: public.name, version: v.to_string() }.into())
            }
            Some(names::Selector::Label(_)) => Err(SsmError::NotFound(reference.name().to_string()).into()),
        };
    }
    let Some(doc) = find(ctx, &reference.names).await? else {
        return Err(SsmError::NotFound(reference.name().to_string()).into());
    };
    stored_parameter(ctx, &doc.value, reference.selector.as_ref(), decrypt)
}

/// The selected version of a stored parameter, as GetParameter* answer it.
fn stored_parameter(
    ctx: &Ctx,
    record: &ParameterRecord,
    selector: Option<&names::Selector>,
    decrypt: bool,
) -> Result<Parameter, AwsError> {
    let version = record.select(selector)?;
    Ok(Parameter {
        name: Some(record.name.clone()),
        r#type: Some(version.kind),
        value: Some(value_of(ctx, &record.name, version, decrypt)?),
        version: Some(version.version),
        selector: selector.map(names::Selector::text),
        source_result: None,
        last_modified_date: Some(version.last_modified_date),
        arn: Some(arn(ctx, &record.name)),
        data_type: Some(version.data_type.clone()),
    })
}

/// A version's value as the caller may see it: opened, except a SecureString read
/// without decryption, which shows its ciphertext (as AWS shows KMS's).
fn value_of(ctx: &Ctx, name: &str, version: &ParameterVersion, decrypt: bool) -> Result<String, AwsError> {
    if version.kind == ParameterType::SecureString && !decrypt {
        return Ok(version.sealed_value.clone());
    }
    Ok(ctx.api.keyring.sealer().open(&version.sealed_value, &seal_context(name, version.version))?)
}

fn public_parameter(ctx: &Ctx, p: PublicParameter, selector: Option<&names::Selector>) -> Parameter {
    Parameter {
        arn: Some(arn(ctx, &p.name)),
        name: Some(p.name),
        r#type: Some(ParameterType::String),
        value: Some(p.value),
        version: Some(1),
        selector: selector.map(names::Selector::text),
        source_result: None,
        last_modified_date: Some(p.last_modified),
        data_type: Some(berth_model::ssm::rules::TEXT.to_string()),
    }
}

fn arn(ctx: &Ctx, name: &str) -> String {
    names::arn(&ctx.scope().region, &ctx.scope().account, name)
}

/// MaxResults within `1..=max`, `default` when absent.
fn max_results(given: Option<i32>, max: i32, default: i32) -> Result<usize, AwsError> {
    match given {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(SsmError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))
        .into()),
    }
}
