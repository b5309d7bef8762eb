//! The API-level layer path (what `aws ecr` and SDK-based pushers use instead of
//! `/v2`): uploads go through the same blob store, so a layer uploaded here is one
//! docker can pull, and the reverse.

use super::{checked_name, host, registry, repository};
use crate::context::Ctx;
use crate::error::AwsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berth_model::generated::ecr::*;
use berth_registry::blobs::BlobError;
use berth_registry::digest::Digest;

/// Parts must fit the API's 2 MiB body limit once base64-encoded.
const PART_SIZE: i64 = 1024 * 1024;

const LAYER_MEDIA_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

fn blob_error(e: BlobError, upload_id: &str) -> AwsError {
    match e {
        BlobError::UploadUnknown => AwsError::ecr_upload_not_found(upload_id),
        BlobError::DigestMismatch { .. } => AwsError::ecr_invalid_layer(e.to_string()),
        BlobError::RangeInvalid { .. } | BlobError::Body(_) => AwsError::ecr_invalid_layer_part(e.to_string()),
        BlobError::Io(e) => AwsError::ecr(e.into()),
    }
}

pub async fn download_url(
    ctx: Ctx,
    req: GetDownloadUrlForLayerRequest,
) -> Result<GetDownloadUrlForLayerResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let digest = Digest::parse(&req.layer_digest)
        .ok_or_else(|| AwsError::ecr_invalid_parameter(format!("Invalid layer digest '{}'", req.layer_digest)))?;
    let size = registry(&ctx)?.blobs.size(&digest).await.map_err(|e| AwsError::ecr(e.into()))?;
    if size.is_none() {
        return Err(AwsError::ecr_layers_not_found(format!("The layer {digest} does not exist in the repository")));
    }
    // The registry URL itself: it needs the same Basic credentials as docker's pulls.
    Ok(GetDownloadUrlForLayerResponse {
        download_url: Some(format!("http://{}/v2/{name}/blobs/{digest}", host(&ctx))),
        layer_digest: Some(digest.to_string()),
    })
}

pub async fn check_availability(
    ctx: Ctx,
    req: BatchCheckLayerAvailabilityRequest,
) -> Result<BatchCheckLayerAvailabilityResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let registry = registry(&ctx)?;
    let (mut layers, mut failures) = (Vec::new(), Vec::new());
    for d in &req.layer_digests {
        let Some(digest) = Digest::parse(d) else {
            failures.push(LayerFailure {
                layer_digest: Some(d.clone()),
                failure_code: Some(LayerFailureCode::InvalidLayerDigest),
                failure_reason: Some("Invalid layer digest".into()),
            });
            continue;
        };
        match registry.blobs.size(&digest).await.map_err(|e| AwsError::ecr(e.into()))? {
            Some(size) => layers.push(Layer {
                layer_digest: Some(d.clone()),
                layer_availability: Some(LayerAvailability::Available),
                layer_size: Some(size as i64),
                media_type: Some(LAYER_MEDIA_TYPE.into()),
            }),
            None => failures.push(LayerFailure {
                layer_digest: Some(d.clone()),
                failure_code: Some(LayerFailureCode::MissingLayerDigest),
                failure_reason: Some("Requested layer is not available".into()),
            }),
        }
    }
    Ok(BatchCheckLayerAvailabilityResponse { layers: Some(layers), failures: Some(failures) })
}

pub async fn initiate(ctx: Ctx, req: InitiateLayerUploadRequest) -> Result<InitiateLayerUploadResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let id = registry(&ctx)?.blobs.start_upload(name).await.map_err(|e| blob_error(e, ""))?;
    Ok(InitiateLayerUploadResponse { upload_id: Some(id), part_size: Some(PART_SIZE) })
}

pub async fn upload_part(ctx: Ctx, req: UploadLayerPartRequest) -> Result<UploadLayerPartResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let bytes = STANDARD
        .decode(&req.layer_part_blob)
        .map_err(|_| AwsError::ecr_invalid_layer_part("layerPartBlob is not valid base64"))?;
    if req.part_first_byte < 0 || req.part_last_byte != req.part_first_byte + bytes.len() as i64 - 1 {
        return Err(AwsError::ecr_invalid_layer_part(format!(
            "The part is {} bytes, which does not match bytes {}-{}",
            bytes.len(),
            req.part_first_byte,
            req.part_last_byte
        )));
    }
    let len = registry(&ctx)?
        .blobs
        .append_bytes(&req.upload_id, name, Some(req.part_first_byte as u64), bytes.into())
        .await
        .map_err(|e| blob_error(e, &req.upload_id))?;
    Ok(UploadLayerPartResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        upload_id: Some(req.upload_id),
        last_byte_received: Some(len as i64 - 1),
    })
}

pub async fn complete(ctx: Ctx, req: CompleteLayerUploadRequest) -> Result<CompleteLayerUploadResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let [digest] = req.layer_digests.as_slice() else {
        return Err(AwsError::ecr_invalid_parameter("CompleteLayerUpload takes exactly one layer digest"));
    };
    let digest =
        Digest::parse(digest).ok_or_else(|| AwsError::ecr_invalid_layer(format!("Invalid layer digest '{digest}'")))?;
    let registry = registry(&ctx)?;
    if registry.blobs.size(&digest).await.map_err(|e| AwsError::ecr(e.into()))?.is_some() {
        let _ = registry.blobs.cancel(&req.upload_id, name).await;
        return Err(AwsError::ecr_layer_already_exists(digest.as_str()));
    }
    registry.blobs.finish(&req.upload_id, name, &digest).await.map_err(|e| blob_error(e, &req.upload_id))?;
    Ok(CompleteLayerUploadResponse {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        upload_id: Some(req.upload_id),
        layer_digest: Some(digest.to_string()),
    })
}
