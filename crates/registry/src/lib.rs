//! berth's image registry: the OCI distribution API (`/v2/...`, see `http`) over a
//! content-addressed blob store on disk (`blobs`), with the repository metadata ECR
//! exposes (`meta`) in the Store, registry tokens (`tokens`) and lifecycle policies
//! (`lifecycle`). The ECR API in berth-api and the `/v2` endpoints share the
//! operations of `Registry`, so a push by docker and a PutImage follow the same rules.
#![forbid(unsafe_code)]

pub mod access;
pub mod blobs;
pub mod digest;
mod error;
pub mod http;
pub mod lifecycle;
pub mod manifest;
pub mod meta;
pub mod tokens;

use berth_model::Timestamp;
use berth_store::Store;
use blobs::BlobStore;
use digest::Digest;
use meta::ImageRecord;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokens::Tokens;

/// Manifests larger than this are refused (the distribution reference limit is 4 MiB).
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// Uploads untouched for this long are removed.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What the registry's operations fail with; berth-api maps these to AWS errors, the
/// `/v2` endpoints to distribution errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("The repository with name '{0}' does not exist in the registry")]
    RepositoryNotFound(String),
    #[error("The repository with name '{0}' already exists in the registry")]
    RepositoryAlreadyExists(String),
    #[error("The repository with name '{0}' cannot be deleted because it still contains images")]
    RepositoryNotEmpty(String),
    #[error("The image with {0} does not exist within the repository")]
    ImageNotFound(String),
    #[error(
        "The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable."
    )]
    TagAlreadyExists { tag: String, repository: String },
    #[error("Invalid image manifest: {0}")]
    ManifestInvalid(String),
    #[error("The manifest references blob {0}, which the registry does not have")]
    ManifestBlobUnknown(String),
    #[error("{0}")]
    DigestInvalid(String),
    #[error("{0}")]
    TagInvalid(String),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl From<berth_store::StoreError> for Error {
    fn from(e: berth_store::StoreError) -> Self {
        Error::Internal(format!("store: {e}"))
    }
}

/// A stored record that does not decode, or a write that lost every race, is an
/// internal failure, as a store failure is.
impl From<berth_store::documents::DocumentError> for Error {
    fn from(e: berth_store::documents::DocumentError) -> Self {
        match e {
            berth_store::documents::DocumentError::Store(e) => e.into(),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(format!("blob store: {e}"))
    }
}

pub struct Registry {
    pub blobs: BlobStore,
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    /// Who may pull and push; until one is set, every genuine token may do anything.
    gate: std::sync::OnceLock<Arc<dyn access::Gate>>,
}

impl Registry {
    /// Opens the registry under `<data_dir>/registry/`.
    pub fn open(data_dir: &Path, store: Arc<dyn Store>) -> std::io::Result<Arc<Self>> {
        let root = data_dir.join("registry");
        std::fs::create_dir_all(&root)?;
        let blobs = BlobStore::open(&root)?;
        let tokens = Tokens::load_or_create(&root.join("token.key"))?;
        Ok(Arc::new(Self { blobs, store, tokens, gate: std::sync::OnceLock::new() }))
    }

    /// Authorizes every `/v2` request on a repository with `gate` (set once, at start-up).
    pub fn guard(&self, gate: Arc<dyn access::Gate>) {
        let _ = self.gate.set(gate);
    }

    pub(crate) fn gate(&self) -> Option<&Arc<dyn access::Gate>> {
        self.gate.get()
    }

    /// Now and every hour: removes abandoned uploads, and runs every lifecycle policy
    /// (so `sinceImagePushed` rules expire images that age without new pushes).
    pub fn spawn_janitor(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(registry) = me.upgrade() else { return };
                match registry.blobs.clean_abandoned(ABANDONED_AFTER).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "removed abandoned registry uploads"),
                    Err(e) => tracing::warn!(error = %e, "cleaning registry uploads failed"),
                }
                match meta::repositories(registry.store.as_ref()).await {
                    Ok(repos) => {
                        for repo in repos.iter().filter(|r| r.lifecycle_policy_text.is_some()) {
                            if let Err(e) = registry.apply_lifecycle(repo.name()).await {
                                tracing::warn!(repository = repo.name(), error = %e, "applying the lifecycle policy failed");
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "listing repositories for lifecycle policies failed"),
                }
                drop(registry);
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        });
    }

    /// Stores a manifest as the exact bytes given and records it as an image of
    /// `repository`, tagged `tag`. `expected` is the digest the client named, if any;
    /// `media_type` what it declared. Every blob (or child manifest) it references must
    /// already be there. The repository's lifecycle policy runs afterwards.
    pub async fn put_manifest(
        &self,
        repository: &str,
        bytes: &[u8],
        media_type: Option<&str>,
        tag: Option<&str>,
        expected: Option<&Digest>,
    ) -> Result<(Digest, ImageRecord), Error> {
        meta::repository(self.store.as_ref(), repository).await?;
        if let Some(tag) = tag
            && !meta::valid_tag(tag)
        {
            return Err(Error::TagInvalid(format!("invalid tag {tag:?}")));
        }
        let digest = Digest::of(bytes);
        if let Some(expected) = expected
            && expected != &digest
        {
            return Err(Error::DigestInvalid(format!("the manifest's digest is {digest}, not {expected}")));
        }
        let parsed = manifest::parse(bytes, media_type).map_err(Error::ManifestInvalid)?;
        let mut stored = Vec::with_capacity(parsed.blobs.len());
        for (blob, _) in &parsed.blobs {
            stored.push(self.blobs.size(blob).await?);
        }
        // The config is read only when every blob is there (so it is small: its descriptor's size).
        let config = match parsed.blobs.first() {
            Some((config, _)) if parsed.has_image_config() && stored.iter().all(Option::is_some) => {
                self.blobs.read(config).await?
            }
            _ => None,
        };
        parsed.check_blobs(&stored, config.as_deref()).map_err(|e| match e {
            manifest::Inconsistent::BlobUnknown(d) => Error::ManifestBlobUnknown(d.to_string()),
            manifest::Inconsistent::Invalid(m) => Error::ManifestInvalid(m),
        })?;
        for child in &parsed.manifests {
            if meta::resolve(self.store.as_ref(), repository, child.as_str()).await?.is_none() {
                return Err(Error::ManifestBlobUnknown(child.to_string()));
            }
        }
        self.blobs.put_bytes(bytes).await.map_err(|e| Error::Internal(e.to_string()))?;
        let record = ImageRecord {
            digest: digest.to_string(),
            media_type: parsed.media_type.clone(),
            artifact_media_type: parsed.artifact_media_type.clone(),
            size: parsed.size(bytes.len()),
            pushed_at: Timestamp::now(),
            last_pull: None,
        };
        let stored = meta::put_image(self.store.as_ref(), repository, record, tag).await?;
        if let Err(e) = self.apply_lifecycle(repository).await {
            tracing::warn!(repository, error = %e, "applying the lifecycle policy failed");
        }
        Ok((digest, stored))
    }

    /// Runs the repository's lifecycle policy (if any) and deletes what it expires.
    pub async fn apply_lifecycle(&self, repository: &str) -> Result<Vec<lifecycle::Expiry>, Error> {
        let repo = meta::repository(self.store.as_ref(), repository).await?;
        let Some(text) = repo.lifecycle_policy_text.as_deref() else { return Ok(vec![]) };
        let policy = lifecycle::parse(text).map_err(Error::Internal)?;
        let images = meta::images(self.store.as_ref(), repository).await?;
        let expired = lifecycle::evaluate(&policy, &images, Timestamp::now().0);
        for e in &expired {
            match meta::delete_image(self.store.as_ref(), repository, &e.digest).await {
                Ok(_) | Err(Error::ImageNotFound(_)) => {}
                Err(err) => return Err(err),
            }
            tracing::info!(repository, digest = %e.digest, rule = e.rule_priority, "lifecycle policy expired an image");
        }
        let now = Timestamp::now();
        meta::modify_repository(self.store.as_ref(), repository, |r| {
            r.lifecycle_evaluated_at = Some(now);
            Ok(())
        })
        .await?;
        Ok(expired)
    }
}
