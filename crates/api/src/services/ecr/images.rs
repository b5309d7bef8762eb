//! ListImages, DescribeImages, BatchGetImage, BatchDeleteImage and PutImage.

use super::{checked_name, registry, repository};
use crate::context::Ctx;
use crate::error::AwsError;
use crate::services::ecs::paging;
use berth_model::generated::ecr::*;
use berth_registry::digest::Digest;
use berth_registry::meta::{self, ImageView};

async fn views(ctx: &Ctx, name: &str) -> Result<Vec<ImageView>, AwsError> {
    repository(ctx, name).await?;
    meta::images(ctx.store(), name).await.map_err(AwsError::ecr)
}

fn keep(status: Option<TagStatus>, view: &ImageView) -> bool {
    match status {
        Some(TagStatus::Tagged) => !view.tags.is_empty(),
        Some(TagStatus::Untagged) => view.tags.is_empty(),
        Some(TagStatus::Any) | None => true,
    }
}

pub async fn list(ctx: Ctx, req: ListImagesRequest) -> Result<ListImagesResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let status = req.filter.and_then(|f| f.tag_status);
    let mut ids: Vec<ImageIdentifier> = Vec::new();
    for view in views(&ctx, name).await?.iter().filter(|v| keep(status, v)) {
        let digest = Some(view.image.digest.clone());
        if view.tags.is_empty() {
            ids.push(ImageIdentifier { image_digest: digest.clone(), image_tag: None });
        }
        for tag in &view.tags {
            ids.push(ImageIdentifier { image_digest: digest.clone(), image_tag: Some(tag.clone()) });
        }
    }
    let key = |i: &ImageIdentifier| {
        format!("{}/{}", i.image_digest.as_deref().unwrap_or(""), i.image_tag.as_deref().unwrap_or(""))
    };
    ids.sort_by_key(key);
    let page = paging::paginate(ids, key, false, req.next_token.as_deref(), req.max_results, 1000)?;
    Ok(ListImagesResponse { image_ids: Some(page.items), next_token: page.next_token })
}

fn detail(ctx: &Ctx, name: &str, view: &ImageView) -> ImageDetail {
    ImageDetail {
        registry_id: Some(ctx.scope().account.clone()),
        repository_name: Some(name.to_string()),
        image_digest: Some(view.image.digest.clone()),
        image_tags: (!view.tags.is_empty()).then(|| view.tags.clone()),
        image_size_in_bytes: Some(view.image.size as i64),
        image_pushed_at: Some(view.image.pushed_at),
        image_manifest_media_type: Some(view.image.media_type.clone()),
        artifact_media_type: view.image.artifact_media_type.clone(),
        last_recorded_pull_time: view.image.last_pull,
        image_status: Some(ImageStatus::Active),
        ..Default::default()
    }
}

/// The image an identifier names among `views`: by digest, by tag, or both (which must agree).
fn find<'a>(views: &'a [ImageView], id: &ImageIdentifier) -> Result<&'a ImageView, (ImageFailureCode, String)> {
    let by_digest = match id.image_digest.as_deref() {
        Some(d) if Digest::parse(d).is_none() => {
            return Err((
                ImageFailureCode::InvalidImageDigest,
                format!("Invalid request parameters: image digest '{d}' is not valid"),
            ));
        }
        Some(d) => Some(views.iter().find(|v| v.image.digest == d)),
        None => None,
    };
    let by_tag = id.image_tag.as_deref().map(|t| views.iter().find(|v| v.tags.iter().any(|x| x == t)));
    let found = match (by_digest, by_tag) {
        (None, None) => {
            return Err((
                ImageFailureCode::MissingDigestAndTag,
                "Invalid request parameters: both tag and digest cannot be null".into(),
            ));
        }
        (Some(Some(a)), Some(Some(b))) if a.image.digest != b.image.digest => {
            return Err((
                ImageFailureCode::ImageTagDoesNotMatchDigest,
                "Invalid request parameters: given tag and digest do not match".into(),
            ));
        }
        (Some(found), None) | (None, Some(found)) | (Some(found), Some(_)) => found,
    };
    found.ok_or((ImageFailureCode::ImageNotFound, "Requested image not found".into()))
}

fn failure(id: &ImageIdentifier, (code, reason): (ImageFailureCode, String)) -> ImageFailure {
    ImageFailure { image_id: Some(id.clone()), failure_code: Some(code), failure_reason: Some(reason) }
}

pub async fn describe(ctx: Ctx, req: DescribeImagesRequest) -> Result<DescribeImagesResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let all = views(&ctx, name).await?;
    let mut details: Vec<ImageDetail> = match &req.image_ids {
        Some(ids) => {
            let mut out: Vec<ImageDetail> = Vec::new();
            for id in ids {
                let view = find(&all, id).map_err(|(code, reason)| match code {
                    ImageFailureCode::ImageNotFound => AwsError::ecr(berth_registry::Error::ImageNotFound(format!(
                        "imageId {}",
                        id.image_digest.as_deref().or(id.image_tag.as_deref()).unwrap_or_default()
                    ))),
                    _ => AwsError::ecr_invalid_parameter(reason),
                })?;
                if !out.iter().any(|d| d.image_digest.as_deref() == Some(&view.image.digest)) {
                    out.push(detail(&ctx, name, view));
                }
            }
            out
        }
        None => {
            let status = req.filter.and_then(|f| f.tag_status);
            all.iter().filter(|v| keep(status, v)).map(|v| detail(&ctx, name, v)).collect()
        }
    };
    details.sort_by(|a, b| a.image_digest.cmp(&b.image_digest));
    let page = paging::paginate(
        details,
        |d| d.image_digest.clone().unwrap_or_default(),
        false,
        req.next_token.as_deref(),
        req.max_results,
        1000,
    )?;
    Ok(DescribeImagesResponse { image_details: Some(page.items), next_token: page.next_token })
}

pub async fn batch_get(ctx: Ctx, req: BatchGetImageRequest) -> Result<BatchGetImageResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let registry = registry(&ctx)?;
    let all = views(&ctx, name).await?;
    let (mut images, mut failures) = (Vec::new(), Vec::new());
    for id in &req.image_ids {
        let view = match find(&all, id) {
            Ok(v) => v,
            Err(f) => {
                failures.push(failure(id, f));
                continue;
            }
        };
        if let Some(accepted) = &req.accepted_media_types
            && !accepted.contains(&view.image.media_type)
        {
            failures
                .push(failure(id, (ImageFailureCode::InvalidImageDigest, "Unsupported manifest media type".into())));
            continue;
        }
        let digest = Digest::parse(&view.image.digest).ok_or_else(|| AwsError::internal("ServerException"))?;
        let bytes = registry.blobs.read(&digest).await.map_err(|e| AwsError::ecr(e.into()))?;
        let Some(bytes) = bytes else {
            failures.push(failure(id, (ImageFailureCode::ImageNotFound, "Requested image not found".into())));
            continue;
        };
        images.push(Image {
            registry_id: Some(ctx.scope().account.clone()),
            repository_name: Some(name.to_string()),
            image_id: Some(ImageIdentifier {
                image_digest: Some(view.image.digest.clone()),
                image_tag: id.image_tag.clone(),
            }),
            image_manifest: Some(String::from_utf8_lossy(&bytes).into_owned()),
            image_manifest_media_type: Some(view.image.media_type.clone()),
        });
    }
    Ok(BatchGetImageResponse { images: Some(images), failures: Some(failures) })
}

pub async fn batch_delete(ctx: Ctx, req: BatchDeleteImageRequest) -> Result<BatchDeleteImageResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    repository(&ctx, name).await?;
    let (mut deleted, mut failures) = (Vec::new(), Vec::new());
    for id in &req.image_ids {
        let all = meta::images(ctx.store(), name).await.map_err(AwsError::ecr)?;
        let view = match find(&all, id) {
            Ok(v) => v.clone(),
            Err(f) => {
                failures.push(failure(id, f));
                continue;
            }
        };
        let result = match (&id.image_digest, &id.image_tag) {
            (None, Some(tag)) => meta::delete_tag(ctx.store(), name, tag)
                .await
                .map(|digest| vec![ImageIdentifier { image_digest: Some(digest), image_tag: Some(tag.clone()) }]),
            _ => meta::delete_image(ctx.store(), name, &view.image.digest).await.map(|tags| {
                if tags.is_empty() {
                    vec![ImageIdentifier { image_digest: Some(view.image.digest.clone()), image_tag: None }]
                } else {
                    tags.into_iter()
                        .map(|t| ImageIdentifier { image_digest: Some(view.image.digest.clone()), image_tag: Some(t) })
                        .collect()
                }
            }),
        };
        match result {
            Ok(ids) => deleted.extend(ids),
            Err(berth_registry::Error::ImageNotFound(_)) => {
                failures.push(failure(id, (ImageFailureCode::ImageNotFound, "Requested image not found".into())));
            }
            Err(e) => return Err(AwsError::ecr(e)),
        }
    }
    Ok(BatchDeleteImageResponse { image_ids: Some(deleted), failures: Some(failures) })
}

pub async fn put(ctx: Ctx, req: PutImageRequest) -> Result<PutImageResponse, AwsError> {
    let name = checked_name(&ctx, req.registry_id.as_deref(), &req.repository_name)?;
    let registry = registry(&ctx)?;
    let expected = match req.image_digest.as_deref() {
        Some(d) => Some(Digest::parse(d).ok_or_else(|| {
            AwsError::ecr_invalid_parameter(format!("Invalid parameter at 'imageDigest': '{d}' is not a sha256 digest"))
        })?),
        None => None,
    };
    let bytes = req.image_manifest.as_bytes();
    let digest = Digest::of(bytes);
    let existing = match req.image_tag.as_deref() {
        Some(tag) => meta::resolve(ctx.store(), name, tag).await,
        None => meta::resolve(ctx.store(), name, digest.as_str()).await,
    }
    .map_err(AwsError::ecr)?;
    if existing.is_some_and(|i| i.digest == digest.as_str()) {
        return Err(AwsError::ecr_image_already_exists(&format!(
            "Image with digest '{digest}' and tag '{}' already exists in the repository with name '{name}' in registry with id '{}'",
            req.image_tag.as_deref().unwrap_or("null"),
            ctx.scope().account
        )));
    }
    let (digest, _) = registry
        .put_manifest(
            name,
            bytes,
            req.image_manifest_media_type.as_deref(),
            req.image_tag.as_deref(),
            expected.as_ref(),
        )
        .await
        .map_err(AwsError::ecr)?;
    Ok(PutImageResponse {
        image: Some(Image {
            registry_id: Some(ctx.scope().account.clone()),
            repository_name: Some(name.to_string()),
            image_id: Some(ImageIdentifier {
                image_digest: Some(digest.to_string()),
                image_tag: req.image_tag.clone(),
            }),
            image_manifest: Some(req.image_manifest),
            image_manifest_media_type: req.image_manifest_media_type,
        }),
    })
}
