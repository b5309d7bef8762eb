//! Amazon ECR (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`)
//! over berth's registry (crate berth-registry), which also serves `/v2` to docker.
//! One file per concern: `repositories.rs` (repositories, tag mutability, scanning,
//! GetAuthorizationToken), `images.rs`, `policies.rs` (lifecycle and repository
//! policies, resource tags), `layers.rs` (the API-level layer upload path).

pub(crate) mod access;
mod images;
mod layers;
mod policies;
mod repositories;

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::route::Service;
use berth_model::generated::ecr::Repository;
use berth_registry::Registry;
use berth_registry::meta::{self, RepositoryRecord};
use std::sync::Arc;

pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921";

/// The ECR API signs as `ecr` (the registry's `/v2` takes GetAuthorizationToken's password instead).
pub const SERVICE: Service = Service::json("ecr", TARGET_PREFIX, |ctx, op, body| Box::pin(call(ctx, op, body)));

pub async fn call(ctx: Ctx, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    dispatch!(json(ctx, op, body) else AwsError::unknown_operation(&format!("{TARGET_PREFIX}.{op}")); {
        "CreateRepository" => repositories::create,
        "DescribeRepositories" => repositories::describe,
        "DeleteRepository" => repositories::delete,
        "PutImageTagMutability" => repositories::put_tag_mutability,
        "PutImageScanningConfiguration" => repositories::put_scanning_configuration,
        "GetAuthorizationToken" => repositories::get_authorization_token,
        "ListImages" => images::list,
        "DescribeImages" => images::describe,
        "BatchGetImage" => images::batch_get,
        "BatchDeleteImage" => images::batch_delete,
        "PutImage" => images::put,
        "PutLifecyclePolicy" => policies::put_lifecycle,
        "GetLifecyclePolicy" => policies::get_lifecycle,
        "DeleteLifecyclePolicy" => policies::delete_lifecycle,
        "StartLifecyclePolicyPreview" => policies::start_preview,
        "GetLifecyclePolicyPreview" => policies::get_preview,
        "SetRepositoryPolicy" => policies::set_repository_policy,
        "GetRepositoryPolicy" => policies::get_repository_policy,
        "DeleteRepositoryPolicy" => policies::delete_repository_policy,
        "TagResource" => policies::tag,
        "UntagResource" => policies::untag,
        "ListTagsForResource" => policies::list_tags,
        "GetDownloadUrlForLayer" => layers::download_url,
        "BatchCheckLayerAvailability" => layers::check_availability,
        "InitiateLayerUpload" => layers::initiate,
        "UploadLayerPart" => layers::upload_part,
        "CompleteLayerUpload" => layers::complete,
    })
}

fn registry(ctx: &Ctx) -> Result<Arc<Registry>, AwsError> {
    ctx.api.registry().cloned().ok_or_else(|| {
        tracing::error!("an ECR request reached a server without a registry");
        AwsError::internal("ServerException")
    })
}

/// `registryId`, when given, must be this account's: berth serves one registry.
fn check_registry_id(ctx: &Ctx, registry_id: Option<&str>) -> Result<(), AwsError> {
    match registry_id {
        Some(id) if id != ctx.scope().account => Err(AwsError::ecr_invalid_parameter(format!(
            "Invalid parameter at 'registryId' failed to satisfy constraint: the registry '{id}' is not this account's"
        ))),
        _ => Ok(()),
    }
}

/// Checks `registryId` and the repository name's form.
fn checked_name<'a>(ctx: &Ctx, registry_id: Option<&str>, name: &'a str) -> Result<&'a str, AwsError> {
    check_registry_id(ctx, registry_id)?;
    if !meta::valid_repository_name(name) {
        return Err(AwsError::ecr_invalid_parameter(format!(
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression \
             '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' and be 2 to 256 characters long' \
             (got '{name}')"
        )));
    }
    Ok(name)
}

/// The repository record, or RepositoryNotFoundException.
async fn repository(ctx: &Ctx, name: &str) -> Result<RepositoryRecord, AwsError> {
    meta::repository(ctx.store(), name).await.map_err(AwsError::ecr)
}

/// Where clients reach the registry: the Host they sent this request to.
fn host(ctx: &Ctx) -> String {
    ctx.host.clone().unwrap_or_else(|| "127.0.0.1:4566".to_string())
}

pub fn repository_arn(ctx: &Ctx, name: &str) -> String {
    format!("arn:aws:ecr:{}:{}:repository/{name}", ctx.scope().region, ctx.scope().account)
}

/// The API shape of a stored repository, with the URI docker pushes to.
fn shape(ctx: &Ctx, record: &RepositoryRecord) -> Repository {
    let mut repo = record.repository.clone();
    repo.repository_uri = Some(format!("{}/{}", host(ctx), record.name()));
    repo
}
