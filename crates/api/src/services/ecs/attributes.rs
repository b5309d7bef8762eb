//! Custom attributes on container instances: PutAttributes, DeleteAttributes, ListAttributes.
//!
//! Attributes live in the instance's record (`containerInstance.attributes`, beside the
//! ones its agent registered), so placement and the cluster query language see them.

use super::{clusters, paging};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::{load, names};
use berth_model::ecs::*;
use berth_model::records::ContainerInstanceRecord;
use berth_model::{attributes, keys};
use berth_store::documents::{self, Change};
use std::collections::BTreeMap;

pub async fn put(ctx: Ctx, req: PutAttributesRequest) -> Result<PutAttributesResponse, AwsError> {
    edit(&ctx, req.cluster.as_deref(), &req.attributes, |list, attrs| {
        attributes::put(list, attrs).map_err(AwsError::ecs_attribute_limit_exceeded)?;
        Ok(true)
    })
    .await?;
    Ok(PutAttributesResponse { attributes: Some(req.attributes) })
}

pub async fn delete(ctx: Ctx, req: DeleteAttributesRequest) -> Result<DeleteAttributesResponse, AwsError> {
    edit(&ctx, req.cluster.as_deref(), &req.attributes, |list, attrs| {
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        let before = list.len();
        attributes::delete(list, &names);
        Ok(list.len() != before)
    })
    .await?;
    Ok(DeleteAttributesResponse { attributes: Some(req.attributes) })
}

/// Applies `change` to the attribute list of every instance the attributes target (all
/// checked to exist first), one compare-and-swap per instance; `change` says whether it
/// changed the list.
async fn edit(
    ctx: &Ctx,
    cluster: Option<&str>,
    given: &[Attribute],
    change: impl Fn(&mut Vec<Attribute>, &[Attribute]) -> Result<bool, AwsError>,
) -> Result<(), AwsError> {
    let cluster = names::cluster_name(ctx.scope(), cluster)?;
    clusters::active(ctx, &cluster).await?;
    for (id, attrs) in &targets(ctx, &cluster, given).await? {
        documents::modify(
            ctx.store(),
            &keys::instance(&cluster, id),
            |current: Option<ContainerInstanceRecord>| -> Result<_, AwsError> {
                let mut rec = current.filter(|r| !r.is_inactive()).ok_or_else(|| target_not_found(id))?;
                if !change(rec.container_instance.attributes.get_or_insert_with(Vec::new), attrs)? {
                    return Ok((Change::Keep, ()));
                }
                rec.bump();
                Ok((Change::Put(rec), ()))
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn list(ctx: Ctx, req: ListAttributesRequest) -> Result<ListAttributesResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    if req.attribute_value.is_some() && req.attribute_name.is_none() {
        return Err(AwsError::ecs_invalid_parameter("attributeValue can only be used together with attributeName."));
    }
    let mut found = vec![];
    for doc in load::instances(ctx.ecs(), &cluster).await? {
        let rec = doc.value;
        if rec.is_inactive() {
            continue;
        }
        let arn = rec.container_instance.container_instance_arn.clone().unwrap_or_default();
        for a in rec.container_instance.attributes.unwrap_or_default() {
            if req.attribute_name.as_ref().is_some_and(|n| *n != a.name)
                || req.attribute_value.as_ref().is_some_and(|v| a.value.as_ref() != Some(v))
            {
                continue;
            }
            found.push(Attribute {
                target_type: Some(TargetType::ContainerInstance),
                target_id: Some(arn.clone()),
                ..a
            });
        }
    }
    let key = |a: &Attribute| format!("{}\n{}", a.target_id.as_deref().unwrap_or_default(), a.name);
    let page = paging::paginate(found, key, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListAttributesResponse { attributes: Some(page.items), next_token: page.next_token })
}

/// Validates the attributes and groups them by the instance id they target; every
/// target must exist before anything is written.
async fn targets(ctx: &Ctx, cluster: &str, given: &[Attribute]) -> Result<BTreeMap<String, Vec<Attribute>>, AwsError> {
    if given.is_empty() || given.len() > attributes::MAX_PER_CALL {
        return Err(AwsError::ecs_invalid_parameter(format!(
            "Name 1 to {} attributes per call.",
            attributes::MAX_PER_CALL
        )));
    }
    let mut out: BTreeMap<String, Vec<Attribute>> = BTreeMap::new();
    for a in given {
        attributes::validate(a).map_err(AwsError::ecs_invalid_parameter)?;
        let target = a.target_id.as_deref().ok_or_else(|| {
            AwsError::ecs_invalid_parameter(format!(
                "Attribute '{}' has no targetId: name the container instance (its id or ARN).",
                a.name
            ))
        })?;
        let doc = load::instance(ctx.ecs(), cluster, target).await?.filter(|d| !d.value.is_inactive());
        let Some(doc) = doc else { return Err(target_not_found(target)) };
        out.entry(doc.value.id()).or_default().push(attributes::stored(a));
    }
    Ok(out)
}

fn target_not_found(target: &str) -> AwsError {
    AwsError::ecs_target_not_found(format!("Could not find the container instance '{target}' in the cluster."))
}
