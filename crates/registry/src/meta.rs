//! Repository metadata in the Store: repositories, images (manifests) and tags. Blobs
//! are on disk; these records say which images a repository has and what its tags
//! point at. Every change is one compare-and-swap transaction.
//!
//! | key | value |
//! | --- | --- |
//! | `ecr/repositories/{name}` | `RepositoryRecord` |
//! | `ecr/images/{name}/{digest}` | `ImageRecord` |
//! | `ecr/image-tags/{name}/{tag}` | `TagRecord` |

use crate::Error;
use berth_model::generated::ecr::{ImageTagMutability, Repository, Tag};
use berth_model::{Timestamp, keys};
use berth_store::documents::{self, Change, Doc, DocumentError, MAX_ATTEMPTS, decode, encode};
use berth_store::{Compare, Store, Txn};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryRecord {
    /// The API shape, without `repositoryUri` (it depends on the host clients use).
    pub repository: Repository,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_evaluated_at: Option<Timestamp>,
    /// The policy of the last StartLifecyclePolicyPreview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_preview_text: Option<String>,
}

impl RepositoryRecord {
    pub fn name(&self) -> &str {
        self.repository.repository_name.as_deref().unwrap_or_default()
    }

    pub fn immutable(&self) -> bool {
        matches!(self.repository.image_tag_mutability, Some(ImageTagMutability::Immutable))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub digest: String,
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_media_type: Option<String>,
    pub size: u64,
    pub pushed_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pull: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagRecord {
    pub digest: String,
}

/// An image with the tags that point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageView {
    pub image: ImageRecord,
    pub tags: Vec<String>,
}

/// A change that lost the compare-and-swap race every time. The multi-key changes below
/// run their own loops (`documents::modify` changes one key), bounded the same way.
fn gave_up(key: String) -> Error {
    DocumentError::Contended { key }.into()
}

pub async fn repository(store: &dyn Store, name: &str) -> Result<RepositoryRecord, Error> {
    match documents::get(store, &keys::ecr_repository(name)).await? {
        Some(doc) => Ok(doc.value),
        None => Err(Error::RepositoryNotFound(name.to_string())),
    }
}

pub async fn repositories(store: &dyn Store) -> Result<Vec<RepositoryRecord>, Error> {
    let docs = documents::list(store, keys::ECR_REPOSITORIES).await?;
    Ok(docs.into_iter().map(|doc| doc.value).collect())
}

pub async fn create_repository(store: &dyn Store, record: &RepositoryRecord) -> Result<(), Error> {
    let key = keys::ecr_repository(record.name());
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), 0)).put(key, encode(record)?);
    if store.txn(txn).await?.succeeded { Ok(()) } else { Err(Error::RepositoryAlreadyExists(record.name().into())) }
}

/// Changes a repository's record with compare-and-swap; `change` may refuse.
pub async fn modify_repository<R>(
    store: &dyn Store,
    name: &str,
    mut change: impl FnMut(&mut RepositoryRecord) -> Result<R, Error>,
) -> Result<(RepositoryRecord, R), Error> {
    documents::modify(store, &keys::ecr_repository(name), |current: Option<RepositoryRecord>| {
        let mut record = current.ok_or_else(|| Error::RepositoryNotFound(name.to_string()))?;
        let result = change(&mut record)?;
        Ok((Change::Put(record.clone()), (record, result)))
    })
    .await
}

/// Deletes a repository; with images only when `force`, and then its images too.
pub async fn delete_repository(store: &dyn Store, name: &str, force: bool) -> Result<RepositoryRecord, Error> {
    let key = keys::ecr_repository(name);
    for _ in 0..MAX_ATTEMPTS {
        let Some(Doc { value: record, mod_revision: rev }) = documents::get::<RepositoryRecord>(store, &key).await?
        else {
            return Err(Error::RepositoryNotFound(name.to_string()));
        };
        let (images, _) = store.range(&keys::ecr_images_of(name)).await?;
        let (tags, _) = store.range(&keys::ecr_tags_of(name)).await?;
        if !images.is_empty() && !force {
            return Err(Error::RepositoryNotEmpty(name.to_string()));
        }
        let mut txn = Txn::new().when(Compare::ModRevision(key.clone(), rev)).delete(key.clone());
        for kv in images.iter().chain(&tags) {
            txn = txn.when(Compare::ModRevision(kv.key.clone(), kv.mod_revision)).delete(kv.key.clone());
        }
        if store.txn(txn).await?.succeeded {
            return Ok(record);
        }
    }
    Err(gave_up(key))
}

/// Every image of a repository with its tags, oldest push first.
pub async fn images(store: &dyn Store, repository: &str) -> Result<Vec<ImageView>, Error> {
    let (tag_kvs, _) = store.range(&keys::ecr_tags_of(repository)).await?;
    let (image_kvs, _) = store.range(&keys::ecr_images_of(repository)).await?;
    let prefix = keys::ecr_tags_of(repository);
    let mut tags: Vec<(String, String)> = Vec::new();
    for kv in &tag_kvs {
        let t: TagRecord = decode(&kv.key, &kv.value)?;
        tags.push((t.digest, kv.key[prefix.len()..].to_string()));
    }
    let mut out = Vec::new();
    for kv in &image_kvs {
        let image: ImageRecord = decode(&kv.key, &kv.value)?;
        let mine = tags.iter().filter(|(d, _)| *d == image.digest).map(|(_, t)| t.clone()).collect();
        out.push(ImageView { image, tags: mine });
    }
    out.sort_by(|a, b| {
        a.image.pushed_at.0.total_cmp(&b.image.pushed_at.0).then_with(|| a.image.digest.cmp(&b.image.digest))
    });
    Ok(out)
}

/// The image a tag or digest names.
pub async fn resolve(store: &dyn Store, repository: &str, reference: &str) -> Result<Option<ImageRecord>, Error> {
    let digest = if reference.contains(':') {
        reference.to_string()
    } else {
        match documents::get::<TagRecord>(store, &keys::ecr_tag(repository, reference)).await? {
            Some(tag) => tag.value.digest,
            None => return Ok(None),
        }
    };
    Ok(documents::get(store, &keys::ecr_image(repository, &digest)).await?.map(|image| image.value))
}

/// Whether a tag follows the distribution spec's grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`
/// (which docker enforces too): 1–128 characters, not starting with `.` or `-`.
pub fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Whether a repository name is what ECR accepts: 2–256 characters, `/`-separated
/// components of lowercase letters and digits joined by single `.`, `_` or `-`.
pub fn valid_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
                && !b.windows(2).any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
        })
}

/// Records an image (keeping the first push's record when it exists) and points `tag`
/// at it. An IMMUTABLE repository refuses to move an existing tag to another image.
pub async fn put_image(
    store: &dyn Store,
    repository: &str,
    image: ImageRecord,
    tag: Option<&str>,
) -> Result<ImageRecord, Error> {
    let repo_key = keys::ecr_repository(repository);
    let image_key = keys::ecr_image(repository, &image.digest);
    for _ in 0..MAX_ATTEMPTS {
        let Some(repo) = documents::get::<RepositoryRecord>(store, &repo_key).await? else {
            return Err(Error::RepositoryNotFound(repository.to_string()));
        };
        let existing = documents::get::<ImageRecord>(store, &image_key).await?;
        let mut txn = Txn::new().when(Compare::ModRevision(repo_key.clone(), repo.mod_revision));
        let stored = match existing {
            Some(record) => {
                txn = txn.when(Compare::ModRevision(image_key.clone(), record.mod_revision));
                record.value
            }
            None => {
                txn = txn.when(Compare::ModRevision(image_key.clone(), 0)).put(image_key.clone(), encode(&image)?);
                image.clone()
            }
        };
        if let Some(tag) = tag {
            let tag_key = keys::ecr_tag(repository, tag);
            let current = documents::get::<TagRecord>(store, &tag_key).await?;
            match &current {
                Some(t) if t.value.digest == image.digest => {}
                Some(_) if repo.value.immutable() => {
                    return Err(Error::TagAlreadyExists { tag: tag.to_string(), repository: repository.to_string() });
                }
                _ => {
                    txn = txn.put(tag_key.clone(), encode(&TagRecord { digest: image.digest.clone() })?);
                }
            }
            txn = txn.when(Compare::ModRevision(tag_key, current.map_or(0, |t| t.mod_revision)));
        }
        if store.txn(txn).await?.succeeded {
            return Ok(stored);
        }
    }
    Err(gave_up(image_key))
}

/// Deletes an image and every tag pointing at it. Returns the tags removed, or
/// ImageNotFound.
pub async fn delete_image(store: &dyn Store, repository: &str, digest: &str) -> Result<Vec<String>, Error> {
    let image_key = keys::ecr_image(repository, digest);
    for _ in 0..MAX_ATTEMPTS {
        let Some(kv) = store.get(&image_key).await? else {
            return Err(Error::ImageNotFound(format!("imageDigest={digest}")));
        };
        let prefix = keys::ecr_tags_of(repository);
        let (tag_kvs, _) = store.range(&prefix).await?;
        let mut txn =
            Txn::new().when(Compare::ModRevision(image_key.clone(), kv.mod_revision)).delete(image_key.clone());
        let mut removed = Vec::new();
        for t in &tag_kvs {
            let record: TagRecord = decode(&t.key, &t.value)?;
            if record.digest == digest {
                removed.push(t.key[prefix.len()..].to_string());
                txn = txn.when(Compare::ModRevision(t.key.clone(), t.mod_revision)).delete(t.key.clone());
            }
        }
        if store.txn(txn).await?.succeeded {
            return Ok(removed);
        }
    }
    Err(gave_up(image_key))
}

/// Removes a tag; when it was the image's last tag the image goes too (as ECR's
/// BatchDeleteImage by tag). Returns the digest the tag pointed at.
pub async fn delete_tag(store: &dyn Store, repository: &str, tag: &str) -> Result<String, Error> {
    let tag_key = keys::ecr_tag(repository, tag);
    for _ in 0..MAX_ATTEMPTS {
        let Some(Doc { value: record, mod_revision: rev }) = documents::get::<TagRecord>(store, &tag_key).await? else {
            return Err(Error::ImageNotFound(format!("imageTag={tag}")));
        };
        let view = images(store, repository).await?;
        let others =
            view.iter().find(|v| v.image.digest == record.digest).map_or(0, |v| v.tags.len().saturating_sub(1));
        let mut txn = Txn::new().when(Compare::ModRevision(tag_key.clone(), rev)).delete(tag_key.clone());
        if others == 0 {
            txn = txn.delete(keys::ecr_image(repository, &record.digest));
        }
        if store.txn(txn).await?.succeeded {
            return Ok(record.digest);
        }
    }
    Err(gave_up(tag_key))
}

/// Notes a pull of an image (DescribeImages' lastRecordedPullTime). Best effort.
pub async fn record_pull(store: &dyn Store, repository: &str, digest: &str) {
    let key = keys::ecr_image(repository, digest);
    let Ok(Some(Doc { value: mut image, mod_revision: rev })) = documents::get::<ImageRecord>(store, &key).await else {
        return;
    };
    image.last_pull = Some(Timestamp::now());
    if let Ok(bytes) = encode(&image) {
        let _ = store.txn(Txn::new().when(Compare::ModRevision(key.clone(), rev)).put(key, bytes)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    fn repo(name: &str, immutable: bool) -> RepositoryRecord {
        RepositoryRecord {
            repository: Repository {
                repository_name: Some(name.into()),
                image_tag_mutability: Some(if immutable {
                    ImageTagMutability::Immutable
                } else {
                    ImageTagMutability::Mutable
                }),
                ..Default::default()
            },
            tags: vec![],
            policy_text: None,
            lifecycle_policy_text: None,
            lifecycle_evaluated_at: None,
            lifecycle_preview_text: None,
        }
    }

    fn image(d: &str, at: f64) -> ImageRecord {
        ImageRecord {
            digest: d.into(),
            media_type: "m".into(),
            artifact_media_type: None,
            size: 1,
            pushed_at: Timestamp(at),
            last_pull: None,
        }
    }

    #[tokio::test]
    async fn tags_move_unless_immutable() {
        let store = MemoryStore::new();
        create_repository(&store, &repo("a/b", false)).await.unwrap();
        create_repository(&store, &repo("i", true)).await.unwrap();
        assert!(matches!(create_repository(&store, &repo("i", true)).await, Err(Error::RepositoryAlreadyExists(_))));
        for name in ["a/b", "i"] {
            put_image(&store, name, image("sha256:1", 1.0), Some("v1")).await.unwrap();
            put_image(&store, name, image("sha256:1", 5.0), Some("v1")).await.unwrap();
        }
        put_image(&store, "a/b", image("sha256:2", 2.0), Some("v1")).await.unwrap();
        assert!(matches!(
            put_image(&store, "i", image("sha256:2", 2.0), Some("v1")).await,
            Err(Error::TagAlreadyExists { .. })
        ));
        let views = images(&store, "a/b").await.unwrap();
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].image.pushed_at, Timestamp(1.0), "the first push is kept");
        assert!(views[0].tags.is_empty());
        assert_eq!(views[1].tags, vec!["v1"]);
        assert_eq!(resolve(&store, "a/b", "v1").await.unwrap().unwrap().digest, "sha256:2");
        assert!(resolve(&store, "a", "v1").await.unwrap().is_none());

        assert!(matches!(delete_repository(&store, "a/b", false).await, Err(Error::RepositoryNotEmpty(_))));
        assert_eq!(delete_tag(&store, "a/b", "v1").await.unwrap(), "sha256:2");
        assert_eq!(images(&store, "a/b").await.unwrap().len(), 1, "the untagged image went with its last tag");
        assert_eq!(delete_image(&store, "a/b", "sha256:1").await.unwrap(), Vec::<String>::new());
        delete_repository(&store, "a/b", false).await.unwrap();
        delete_repository(&store, "i", true).await.unwrap();
        assert!(store.range("ecr/").await.unwrap().0.is_empty());
    }

    #[test]
    fn tag_rules() {
        assert!(valid_tag("v1.0_rc-2"));
        assert!(!valid_tag(""));
        assert!(!valid_tag("-x"));
        assert!(!valid_tag("a:b"));
        assert!(valid_tag(&"a".repeat(128)));
        assert!(!valid_tag(&"a".repeat(129)));
        assert!(valid_repository_name("team/app-1.x_y"));
        for bad in ["a", "App", "a//b", "a/", "-a", "a--b", "a..b/c", "a/_b"] {
            assert!(!valid_repository_name(bad), "{bad}");
        }
    }
}
