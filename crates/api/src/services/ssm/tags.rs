//! AddTagsToResource, ListTagsForResource, RemoveTagsFromResource on parameters (the
//! only resource type berth has of SSM's).

use super::labels::edit;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::ssm::names::{self, Reference};
use berth_model::ssm::*;

const MAX_TAGS: usize = 50;

pub async fn add(ctx: Ctx, req: AddTagsToResourceRequest) -> Result<AddTagsToResourceResult, AwsError> {
    let name = parameter_of(req.resource_type, &req.resource_id)?;
    edit(&ctx, &name, |record| {
        for t in &req.tags {
            match record.tags.iter_mut().find(|o| o.key == t.key) {
                Some(o) => o.value = t.value.clone(),
                None => record.tags.push(t.clone()),
            }
        }
        check(&req.tags, record.tags.len())
    })
    .await
    .map_err(not_found_as_resource(&req.resource_id))?;
    Ok(AddTagsToResourceResult {})
}

pub async fn list(ctx: Ctx, req: ListTagsForResourceRequest) -> Result<ListTagsForResourceResult, AwsError> {
    let name = parameter_of(req.resource_type, &req.resource_id)?;
    let reference = Reference::parse(ctx.scope(), &name)?;
    let Some(doc) = super::find(&ctx, &reference.names).await? else {
        return Err(SsmError::InvalidResourceId(req.resource_id).into());
    };
    Ok(ListTagsForResourceResult { tag_list: Some(doc.value.tags) })
}

pub async fn remove(ctx: Ctx, req: RemoveTagsFromResourceRequest) -> Result<RemoveTagsFromResourceResult, AwsError> {
    let name = parameter_of(req.resource_type, &req.resource_id)?;
    edit(&ctx, &name, |record| {
        record.tags.retain(|t| !req.tag_keys.contains(&t.key));
        Ok(())
    })
    .await
    .map_err(not_found_as_resource(&req.resource_id))?;
    Ok(RemoveTagsFromResourceResult {})
}

/// The parameter a tagging request names; other resource types are refused.
fn parameter_of(kind: ResourceTypeForTagging, id: &str) -> Result<String, AwsError> {
    if kind != ResourceTypeForTagging::Parameter {
        return Err(SsmError::InvalidResourceType(format!(
            "The resource type {kind} is not supported here: berth tags parameters only."
        ))
        .into());
    }
    if names::is_public(id) {
        return Err(SsmError::InvalidResourceId(id.to_string()).into());
    }
    Ok(id.to_string())
}

/// A parameter the tagging operations do not find is an InvalidResourceId to them.
fn not_found_as_resource(id: &str) -> impl Fn(AwsError) -> AwsError + '_ {
    move |e| if e.code == "ParameterNotFound" { SsmError::InvalidResourceId(id.to_string()).into() } else { e }
}

/// AWS's tag rules (`berth_model::tags`), and at most 50 tags on the parameter (`total`).
pub(super) fn check(tags: &[Tag], total: usize) -> Result<(), SsmError> {
    berth_model::tags::check(tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))).map_err(|e| match e {
        berth_model::tags::TagError::TooMany(n) => SsmError::TooManyTags(n),
        e => SsmError::Validation(e.to_string()),
    })?;
    if total > MAX_TAGS {
        return Err(SsmError::TooManyTags(total));
    }
    Ok(())
}
