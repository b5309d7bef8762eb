//! The content-addressed blob store on disk:
//!
//! ```text
//! <root>/blobs/sha256/<hex>   a complete blob, named by its verified digest
//! <root>/uploads/<id>         an upload in progress (never visible as a blob)
//! <root>/uploads/tmp-<id>     a small blob being written whole (manifests)
//! ```
//!
//! Bytes are hashed while they stream to the upload file, never held whole in memory.
//! A finished upload is flushed, fsynced, checked against the digest the client named
//! and only then renamed into `blobs/` (and the directory fsynced), so an interrupted
//! or wrong upload leaves no blob behind. Uploads nobody finishes are removed by
//! `clean_abandoned`.

use crate::digest::Digest;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

/// Write buffer of an upload: large enough that a 100 MB layer is a few hundred writes.
const WRITE_BUFFER: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("upload unknown")]
    UploadUnknown,
    #[error("the content does not match digest {expected} (it is {actual})")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("the chunk starts at byte {start} but the upload has {have} bytes")]
    RangeInvalid { start: u64, have: u64 },
    #[error("reading the request body: {0}")]
    Body(String),
    #[error("blob store i/o: {0}")]
    Io(#[from] io::Error),
}

/// An upload's running state: its hash so far and its length.
struct Upload {
    repository: String,
    hasher: Sha256,
    len: u64,
}

pub struct BlobStore {
    root: PathBuf,
    // std Mutex: held only to look up or insert an upload's own lock.
    uploads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Upload>>>>,
}

impl BlobStore {
    /// Opens (creating) the store under `root`; half-written small blobs of a previous
    /// run are removed.
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("blobs").join("sha256"))?;
        std::fs::create_dir_all(root.join("uploads"))?;
        for entry in std::fs::read_dir(root.join("uploads"))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("tmp-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self { root: root.to_path_buf(), uploads: Mutex::new(HashMap::new()) })
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join("sha256").join(digest.hex())
    }

    fn upload_path(&self, id: &str) -> PathBuf {
        self.root.join("uploads").join(id)
    }

    /// The blob's size, or None when it is not stored.
    pub async fn size(&self, digest: &Digest) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(digest)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens a stored blob for reading.
    pub async fn open_blob(&self, digest: &Digest) -> io::Result<Option<(tokio::fs::File, u64)>> {
        match tokio::fs::File::open(self.path(digest)).await {
            Ok(f) => {
                let len = f.metadata().await?.len();
                Ok(Some((f, len)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads a small blob (a manifest) whole.
    pub async fn read(&self, digest: &Digest) -> io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(digest)).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Begins an upload for `repository` and returns its id.
    pub async fn start_upload(&self, repository: &str) -> Result<String, BlobError> {
        let id = uuid::Uuid::new_v4().to_string();
        tokio::fs::File::create(self.upload_path(&id)).await?;
        let upload = Upload { repository: repository.to_string(), hasher: Sha256::new(), len: 0 };
        self.lock().insert(id.clone(), Arc::new(tokio::sync::Mutex::new(upload)));
        Ok(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<Upload>>>> {
        self.uploads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The upload's state; after a restart it is rebuilt by hashing the file so far.
    async fn upload(&self, id: &str, repository: &str) -> Result<Arc<tokio::sync::Mutex<Upload>>, BlobError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(BlobError::UploadUnknown);
        }
        let known = self.lock().get(id).cloned();
        if let Some(u) = known {
            return if u.lock().await.repository == repository { Ok(u) } else { Err(BlobError::UploadUnknown) };
        }
        let mut file = match tokio::fs::File::open(self.upload_path(id)).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::UploadUnknown),
            Err(e) => return Err(e.into()),
        };
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            len += n as u64;
        }
        let upload = Arc::new(tokio::sync::Mutex::new(Upload { repository: repository.to_string(), hasher, len }));
        Ok(self.lock().entry(id.to_string()).or_insert(upload).clone())
    }

    /// How many bytes the upload holds.
    pub async fn upload_len(&self, id: &str, repository: &str) -> Result<u64, BlobError> {
        Ok(self.upload(id, repository).await?.lock().await.len)
    }

    /// Appends a body to the upload, hashing as it streams; `start`, when the client
    /// said where its chunk begins, must be the upload's current length. Returns the
    /// new length. A body that fails midway leaves the upload at its old length.
    pub async fn append<S, E>(
        &self,
        id: &str,
        repository: &str,
        start: Option<u64>,
        mut body: S,
    ) -> Result<u64, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.upload(id, repository).await?;
        let mut upload = upload.lock().await;
        if let Some(start) = start
            && start != upload.len
        {
            return Err(BlobError::RangeInvalid { start, have: upload.len });
        }
        let file = tokio::fs::OpenOptions::new().append(true).open(self.upload_path(id)).await?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = upload.hasher.clone();
        let mut len = upload.len;
        let result: Result<(), BlobError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
                hasher.update(&chunk);
                out.write_all(&chunk).await?;
                len += chunk.len() as u64;
            }
            out.flush().await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                upload.hasher = hasher;
                upload.len = len;
                Ok(len)
            }
            Err(e) => {
                // Cut the file back to what the state says, so a retry can continue.
                let file = out.into_inner();
                let _ = file.set_len(upload.len).await;
                Err(e)
            }
        }
    }

    /// `append` with a body already in memory (the ECR API's UploadLayerPart).
    pub async fn append_bytes(
        &self,
        id: &str,
        repository: &str,
        start: Option<u64>,
        bytes: Bytes,
    ) -> Result<u64, BlobError> {
        self.append(id, repository, start, futures::stream::iter([Ok::<_, std::convert::Infallible>(bytes)])).await
    }

    /// Completes the upload as the blob `expected`: verified, fsynced, renamed into
    /// place. A mismatch removes the upload. Returns the blob's size.
    pub async fn finish(&self, id: &str, repository: &str, expected: &Digest) -> Result<u64, BlobError> {
        let upload = self.upload(id, repository).await?;
        let state = upload.lock().await;
        let actual = Digest::from_hasher(state.hasher.clone());
        let path = self.upload_path(id);
        let result = if &actual != expected {
            let _ = tokio::fs::remove_file(&path).await;
            Err(BlobError::DigestMismatch { expected: expected.clone(), actual })
        } else {
            self.commit(&path, expected).await.map(|()| state.len)
        };
        self.lock().remove(id);
        result
    }

    /// Abandons an upload.
    pub async fn cancel(&self, id: &str, repository: &str) -> Result<(), BlobError> {
        let upload = self.upload(id, repository).await?;
        let _held = upload.lock().await;
        let _ = tokio::fs::remove_file(self.upload_path(id)).await;
        self.lock().remove(id);
        Ok(())
    }

    /// Stores small content whole (a manifest) and returns its digest.
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Digest, BlobError> {
        let digest = Digest::of(bytes);
        if self.size(&digest).await?.is_some() {
            return Ok(digest);
        }
        let tmp = self.root.join("uploads").join(format!("tmp-{}", uuid::Uuid::new_v4()));
        tokio::fs::write(&tmp, bytes).await?;
        self.commit(&tmp, &digest).await?;
        Ok(digest)
    }

    /// fsync the file, rename it to the blob's name, fsync the directory.
    async fn commit(&self, tmp: &Path, digest: &Digest) -> Result<(), BlobError> {
        let tmp = tmp.to_path_buf();
        let dest = self.path(digest);
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let result = (|| {
                std::fs::File::open(&tmp)?.sync_all()?;
                std::fs::rename(&tmp, &dest)?;
                std::fs::File::open(dest.parent().unwrap_or(Path::new(".")))?.sync_all()
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))??;
        Ok(())
    }

    /// Removes uploads untouched for longer than `max_age`. Returns how many.
    pub async fn clean_abandoned(&self, max_age: Duration) -> io::Result<usize> {
        let mut removed = 0;
        let mut dir = tokio::fs::read_dir(self.root.join("uploads")).await?;
        let now = SystemTime::now();
        while let Some(entry) = dir.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            if now.duration_since(modified).unwrap_or_default() < max_age {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let _ = tokio::fs::remove_file(entry.path()).await;
            self.lock().remove(&name);
            removed += 1;
        }
        Ok(removed)
    }

    /// Files in `uploads/` (tests use it to check that nothing is left behind).
    pub fn pending_uploads(&self) -> usize {
        std::fs::read_dir(self.root.join("uploads")).map(|d| d.count()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn chunked_upload_becomes_a_verified_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let id = store.start_upload("app").await.unwrap();
        assert_eq!(store.append(&id, "app", Some(0), body(&[b"hel", b"lo "])).await.unwrap(), 6);
        assert!(matches!(
            store.append(&id, "app", Some(3), body(&[b"x"])).await,
            Err(BlobError::RangeInvalid { start: 3, have: 6 })
        ));
        assert!(matches!(store.upload_len(&id, "other").await, Err(BlobError::UploadUnknown)));
        assert_eq!(store.append(&id, "app", None, body(&[b"world"])).await.unwrap(), 11);
        let digest = Digest::of(b"hello world");
        assert_eq!(store.finish(&id, "app", &digest).await.unwrap(), 11);
        assert_eq!(store.read(&digest).await.unwrap().unwrap(), b"hello world");
        assert_eq!(store.size(&digest).await.unwrap(), Some(11));
        assert_eq!(store.pending_uploads(), 0);
    }

    #[tokio::test]
    async fn wrong_digest_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let id = store.start_upload("app").await.unwrap();
        store.append(&id, "app", None, body(&[b"abc"])).await.unwrap();
        let wrong = Digest::of(b"abd");
        assert!(matches!(store.finish(&id, "app", &wrong).await, Err(BlobError::DigestMismatch { .. })));
        assert_eq!(store.size(&wrong).await.unwrap(), None);
        assert_eq!(store.size(&Digest::of(b"abc")).await.unwrap(), None);
        assert_eq!(store.pending_uploads(), 0);
        assert!(matches!(store.upload_len(&id, "app").await, Err(BlobError::UploadUnknown)));
    }

    #[tokio::test]
    async fn failed_body_keeps_the_upload_at_its_old_length() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let id = store.start_upload("app").await.unwrap();
        store.append(&id, "app", None, body(&[b"abc"])).await.unwrap();
        let failing = futures::stream::iter(vec![Ok(Bytes::from_static(b"def")), Err("connection reset".to_string())]);
        assert!(matches!(store.append(&id, "app", None, failing).await, Err(BlobError::Body(_))));
        assert_eq!(store.upload_len(&id, "app").await.unwrap(), 3);
        store.append(&id, "app", None, body(&[b"de"])).await.unwrap();
        store.finish(&id, "app", &Digest::of(b"abcde")).await.unwrap();
    }

    #[tokio::test]
    async fn uploads_survive_a_restart_and_abandoned_ones_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = BlobStore::open(dir.path()).unwrap();
            let id = store.start_upload("app").await.unwrap();
            store.append(&id, "app", None, body(&[b"part one,"])).await.unwrap();
            id
        };
        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.upload_len(&id, "app").await.unwrap(), 9);
        store.append(&id, "app", Some(9), body(&[b" two"])).await.unwrap();
        store.finish(&id, "app", &Digest::of(b"part one, two")).await.unwrap();

        let stale = store.start_upload("app").await.unwrap();
        assert_eq!(store.clean_abandoned(Duration::from_secs(3600)).await.unwrap(), 0);
        assert_eq!(store.clean_abandoned(Duration::ZERO).await.unwrap(), 1);
        assert!(matches!(store.upload_len(&stale, "app").await, Err(BlobError::UploadUnknown)));
    }

    #[tokio::test]
    async fn put_bytes_is_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let d = store.put_bytes(b"{}").await.unwrap();
        assert_eq!(d, Digest::of(b"{}"));
        assert_eq!(store.put_bytes(b"{}").await.unwrap(), d);
        assert_eq!(store.read(&d).await.unwrap().unwrap(), b"{}");
        assert_eq!(store.pending_uploads(), 0);
    }
}
