//! TagResource, UntagResource, ListTagsForResource on every ECS resource berth holds.

use super::clusters;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::names;
use berth_model::arn::{Arn, EcsResource};
use berth_model::ecs::*;
use berth_model::records::{ServiceRecord, TaskDefinitionRecord, TaskRecord};
use berth_model::{keys, tags};
use berth_store::documents::{self, Change};

pub async fn tag(ctx: Ctx, req: TagResourceRequest) -> Result<TagResourceResponse, AwsError> {
    tags::validate(&req.tags).map_err(AwsError::ecs_invalid_parameter)?;
    update(&ctx, &req.resource_arn, |current| tags::merge(current, &req.tags).map_err(AwsError::ecs_invalid_parameter))
        .await?;
    Ok(TagResourceResponse {})
}

pub async fn untag(ctx: Ctx, req: UntagResourceRequest) -> Result<UntagResourceResponse, AwsError> {
    update(&ctx, &req.resource_arn, |current| {
        Ok(current.iter().filter(|t| !req.tag_keys.iter().any(|k| t.key.as_deref() == Some(k))).cloned().collect())
    })
    .await?;
    Ok(UntagResourceResponse {})
}

pub async fn list(ctx: Ctx, req: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, AwsError> {
    // Reading through `update` with an identity change would write; read instead.
    let tags = match resource(&ctx, &req.resource_arn)? {
        EcsResource::Cluster(name) => clusters::active(&ctx, &name).await?.tags.unwrap_or_default(),
        EcsResource::TaskDefinition { family, revision } => {
            documents::get::<TaskDefinitionRecord>(ctx.store(), &keys::taskdef(&family, revision))
                .await?
                .ok_or_else(|| not_found(&req.resource_arn))?
                .value
                .tags
        }
        EcsResource::Service { cluster, name } => {
            documents::get::<ServiceRecord>(ctx.store(), &keys::service(&cluster, &name))
                .await?
                .ok_or_else(|| not_found(&req.resource_arn))?
                .value
                .service
                .tags
                .unwrap_or_default()
        }
        EcsResource::Task { cluster, id } => {
            let id = names::task_id(ctx.scope(), &cluster, &id).ok_or_else(|| not_found(&req.resource_arn))?;
            documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id))
                .await?
                .ok_or_else(|| not_found(&req.resource_arn))?
                .value
                .task
                .tags
                .unwrap_or_default()
        }
        _ => return Err(unsupported(&req.resource_arn)),
    };
    Ok(ListTagsForResourceResponse { tags: Some(tags) })
}

/// The ECS resource an ARN names, if it is one of this account's.
fn resource(ctx: &Ctx, arn: &str) -> Result<EcsResource, AwsError> {
    let parsed = match ctx.scope().ecs_resource(arn) {
        Some(parsed) => parsed,
        // An ECS ARN of another region, partition or account names nothing here.
        None if Arn::parse(arn).and_then(|a| a.ecs_resource()).is_some() => return Err(not_found(arn)),
        None => {
            return Err(AwsError::ecs_invalid_parameter(format!(
                "'{arn}' is not the ARN of an ECS resource in this account."
            )));
        }
    };
    match &parsed {
        EcsResource::Cluster(name) => {
            names::cluster_name(ctx.scope(), Some(name))?;
        }
        EcsResource::Service { cluster, name } => {
            names::cluster_name(ctx.scope(), Some(cluster))?;
            if !names::is_valid_name(name) {
                return Err(not_found(arn));
            }
        }
        EcsResource::Task { cluster, .. } => {
            names::cluster_name(ctx.scope(), Some(cluster))?;
        }
        _ => {}
    }
    Ok(parsed)
}

fn not_found(arn: &str) -> AwsError {
    AwsError::ecs_invalid_parameter(format!("The resource '{arn}' does not exist."))
}

fn unsupported(arn: &str) -> AwsError {
    AwsError::ecs_invalid_parameter(format!("The resource '{arn}' does not exist or cannot be tagged."))
}

/// Replaces the resource's tags with `f(current tags)`, with compare-and-swap.
async fn update(ctx: &Ctx, arn: &str, mut f: impl FnMut(&[Tag]) -> Result<Vec<Tag>, AwsError>) -> Result<(), AwsError> {
    match resource(ctx, arn)? {
        EcsResource::Cluster(name) => {
            documents::modify(ctx.store(), &keys::cluster(&name), |current: Option<Cluster>| match current {
                Some(mut c) if c.is_active() => {
                    c.tags = Some(f(c.tags.as_deref().unwrap_or_default())?);
                    Ok((Change::Put(c), ()))
                }
                _ => Err(AwsError::ecs_cluster_not_found()),
            })
            .await
        }
        EcsResource::TaskDefinition { family, revision } => {
            documents::modify(
                ctx.store(),
                &keys::taskdef(&family, revision),
                |current: Option<TaskDefinitionRecord>| {
                    let mut record = current.ok_or_else(|| not_found(arn))?;
                    record.tags = f(&record.tags)?;
                    Ok((Change::Put(record), ()))
                },
            )
            .await
        }
        EcsResource::Service { cluster, name } => {
            documents::modify(ctx.store(), &keys::service(&cluster, &name), |current: Option<ServiceRecord>| {
                let mut record = current.ok_or_else(|| not_found(arn))?;
                record.service.tags = Some(f(record.service.tags.as_deref().unwrap_or_default())?);
                Ok((Change::Put(record), ()))
            })
            .await
        }
        EcsResource::Task { cluster, id } => {
            let id = names::task_id(ctx.scope(), &cluster, &id).ok_or_else(|| not_found(arn))?;
            documents::modify(ctx.store(), &keys::task(&cluster, &id), |current: Option<TaskRecord>| {
                let mut record = current.ok_or_else(|| not_found(arn))?;
                record.task.tags = Some(f(record.task.tags.as_deref().unwrap_or_default())?);
                Ok((Change::Put(record), ()))
            })
            .await
        }
        _ => Err(unsupported(arn)),
    }
}
