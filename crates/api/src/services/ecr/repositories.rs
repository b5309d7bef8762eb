//! CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability,
//! PutImageScanningConfiguration and GetAuthorizationToken.

use super::{check_registry_id, checked_name, host, registry, repository_arn, shape};
use crate::context::Ctx;
use crate::error::AwsError;
use crate::services::ecs::paging;
use berth_model::Timestamp;
use berth_model::generated::ecr::*;
use berth_registry::meta::{self, RepositoryRecord};
use berth_registry::tokens::VALIDITY_SECS;

pub async fn create(ctx: Ctx, req: CreateRepositoryRequest) -> Result<CreateRepositoryResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let tags = req.tags.unwrap_or_default();
    super::policies::validate_tags(&tags)?;
    let record = RepositoryRecord {
        repository: Repository {
            repository_arn: Some(repository_arn(&ctx, name)),
            registry_id: Some(ctx.scope().account.clone()),
            repository_name: Some(name.to_string()),
            repository_uri: None,
            created_at: Some(Timestamp::now()),
            image_tag_mutability: Some(req.image_tag_mutability.unwrap_or(ImageTagMutability::Mutable)),
            image_tag_mutability_exclusion_filters: req.image_tag_mutability_exclusion_filters,
            image_scanning_configuration: Some(
                req.image_scanning_configuration.unwrap_or(ImageScanningConfiguration { scan_on_push: Some(false) }),
            ),
            encryption_configuration: Some(
                req.encryption_configuration
                    .unwrap_or(EncryptionConfiguration { encryption_type: EncryptionType::Aes256, kms_key: None }),
            ),
        },
        tags,
        policy_text: None,
        lifecycle_policy_text: None,
        lifecycle_evaluated_at: None,
        lifecycle_preview_text: None,
    };
    meta::create_repository(ctx.store(), &record).await.map_err(AwsError::ecr)?;
    Ok(CreateRepositoryResponse { repository: Some(shape(&ctx, &record)) })
}

pub async fn describe(ctx: Ctx, req: DescribeRepositoriesRequest) -> Result<DescribeRepositoriesResponse, AwsError> {
    check_registry_id(&ctx, req.registry_id.as_deref())?;
    let records = match &req.repository_names {
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                out.push(super::repository(&ctx, checked_name(&ctx, None, name)?).await?);
            }
            out
        }
        None => meta::repositories(ctx.store()).await.map_err(AwsError::ecr)?,
    };
    let mut repos: Vec<Repository> = records.iter().map(|r| shape(&ctx, r)).collect();
    repos.sort_by(|a, b| a.repository_name.cmp(&b.repository_name));
    let page = paging::paginate(
        repos,
        |r| r.repository_name.clone().unwrap_or_default(),
        false,
        req.next_token.as_deref(),
        req.max_results,
        1000,
    )?;
    Ok(DescribeRepositoriesResponse { repositories: Some(page.items), next_token: page.next_token })
}

pub async fn delete(ctx: Ctx, req: DeleteRepositoryRequest) -> Result<DeleteRepositoryResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let record = meta::delete_repository(ctx.store(), name, req.force.unwrap_or(false)).await.map_err(AwsError::ecr)?;
    Ok(DeleteRepositoryResponse { repository: Some(shape(&ctx, &record)) })
}

pub async fn put_tag_mutability(
    ctx: Ctx,
    req: PutImageTagMutabilityRequest,
) -> Result<PutImageTagMutabilityResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let (record, ()) = meta::modify_repository(ctx.store(), name, |r| {
        r.repository.image_tag_mutability = Some(req.image_tag_mutability);
        r.repository.image_tag_mutability_exclusion_filters = req.image_tag_mutability_exclusion_filters.clone();
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    Ok(PutImageTagMutabilityResponse {
        registry_id: record.repository.registry_id.clone(),
        repository_name: Some(name.to_string()),
        image_tag_mutability: record.repository.image_tag_mutability,
        image_tag_mutability_exclusion_filters: record.repository.image_tag_mutability_exclusion_filters,
    })
}

pub async fn put_scanning_configuration(
    ctx: Ctx,
    req: PutImageScanningConfigurationRequest,
) -> Result<PutImageScanningConfigurationResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let (record, ()) = meta::modify_repository(ctx.store(), name, |r| {
        r.repository.image_scanning_configuration = Some(req.image_scanning_configuration.clone());
        Ok(())
    })
    .await
    .map_err(AwsError::ecr)?;
    Ok(PutImageScanningConfigurationResponse {
        registry_id: record.repository.registry_id.clone(),
        repository_name: Some(name.to_string()),
        image_scanning_configuration: record.repository.image_scanning_configuration,
    })
}

/// A password for `docker login` (user `AWS`), valid for 12 hours; proxyEndpoint is
/// the registry as this request reached the server.
pub async fn get_authorization_token(
    ctx: Ctx,
    req: GetAuthorizationTokenRequest,
) -> Result<GetAuthorizationTokenResponse, AwsError> {
    for id in req.registry_ids.iter().flatten() {
        check_registry_id(&ctx, Some(id))?;
    }
    let registry = registry(&ctx)?;
    let now = Timestamp::now().0 as u64;
    let expiry = now + VALIDITY_SECS;
    let data = AuthorizationData {
        authorization_token: Some(registry.tokens.authorization_token(&ctx.caller.arn, expiry)),
        expires_at: Some(Timestamp(expiry as f64)),
        proxy_endpoint: Some(format!("http://{}", host(&ctx))),
    };
    Ok(GetAuthorizationTokenResponse { authorization_data: Some(vec![data]) })
}
