//! The OCI distribution API as docker and containerd speak it, under `/v2/`. Every
//! request needs `Authorization: Basic` with user `AWS` and a GetAuthorizationToken
//! password; without it the answer is 401 with the Basic challenge `docker login`
//! expects. Handlers are thin: they parse the path, call `Registry`/`BlobStore`/`meta`
//! and turn failures into distribution errors through `error.rs`.

use crate::digest::Digest;
use crate::error::{API_VERSION, API_VERSION_HEADER, RegistryError};
use crate::{MAX_MANIFEST, Registry, access, meta};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `/v2` routes, to be merged into the API server's router.
pub fn router(registry: Arc<Registry>) -> axum::Router {
    axum::Router::new()
        .route("/v2", any(handle))
        .route("/v2/", any(handle))
        .route("/v2/{*path}", any(handle))
        .with_state(registry)
}

type Result<T> = std::result::Result<T, RegistryError>;

/// What a `/v2/...` path names.
#[derive(Debug, PartialEq)]
enum Route<'a> {
    Base,
    Catalog,
    Tags(&'a str),
    Manifest(&'a str, &'a str),
    Blob(&'a str, &'a str),
    Uploads(&'a str),
    Upload(&'a str, &'a str),
}

impl Route<'_> {
    /// The kind of repository request, for its IAM action (`access::action`).
    fn kind(&self) -> Option<access::Kind> {
        Some(match self {
            Route::Base | Route::Catalog => return None,
            Route::Tags(_) => access::Kind::Tags,
            Route::Manifest(..) => access::Kind::Manifest,
            Route::Blob(..) => access::Kind::Blob,
            Route::Uploads(_) => access::Kind::Uploads,
            Route::Upload(..) => access::Kind::Upload,
        })
    }
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/v2")?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Some(Route::Base);
    }
    if rest == "_catalog" {
        return Some(Route::Catalog);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some(Route::Tags(name));
    }
    if let Some(i) = rest.rfind("/blobs/uploads") {
        let (name, tail) = (&rest[..i], &rest[i + "/blobs/uploads".len()..]);
        return match tail.trim_start_matches('/') {
            "" => Some(Route::Uploads(name)),
            id if !id.contains('/') => Some(Route::Upload(name, id)),
            _ => None,
        };
    }
    if let Some(i) = rest.rfind("/manifests/") {
        return Some(Route::Manifest(&rest[..i], &rest[i + "/manifests/".len()..]));
    }
    if let Some(i) = rest.rfind("/blobs/") {
        return Some(Route::Blob(&rest[..i], &rest[i + "/blobs/".len()..]));
    }
    None
}

async fn handle(State(registry): State<Arc<Registry>>, req: Request) -> Response {
    let mut resp = match serve(&registry, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    resp.headers_mut().insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    resp
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn query(req: &Request) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    Some((k.to_string(), percent_decode(v)?))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn reply(status: StatusCode, headers: &[(&str, String)], body: Body) -> Response {
    let mut resp = (status, body).into_response();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (header::HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

async fn serve(registry: &Registry, req: Request) -> Result<Response> {
    let host = header(req.headers(), header::HOST).unwrap_or("localhost").to_string();
    let Some(principal) =
        header(req.headers(), header::AUTHORIZATION).and_then(|h| registry.tokens.verify_basic(h, now_secs()))
    else {
        return Err(RegistryError::unauthorized(format!("http://{host}/")));
    };
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let store = registry.store.as_ref();
    let Some(route) = route(&path) else { return Err(RegistryError::not_found()) };
    let name = match &route {
        Route::Base | Route::Catalog => None,
        Route::Tags(n) | Route::Manifest(n, _) | Route::Blob(n, _) | Route::Uploads(n) | Route::Upload(n, _) => {
            Some(*n)
        }
    };
    if let Some(name) = name {
        if !meta::valid_repository_name(name) {
            return Err(RegistryError::name_invalid(name));
        }
        let repository = match meta::repository(store, name).await {
            Ok(repository) => repository,
            Err(crate::Error::RepositoryNotFound(_)) => return Err(RegistryError::name_unknown(name)),
            Err(e) => return Err(e.into()),
        };
        let action = route.kind().and_then(|kind| access::action(kind, &method));
        if let (Some(gate), Some(action)) = (registry.gate(), action) {
            let question = access::Question {
                principal: &principal,
                action,
                repository: name,
                policy: repository.policy_text.as_deref(),
            };
            gate.allows(question).await.map_err(RegistryError::denied)?;
        }
    }
    match (route, method) {
        (Route::Base, Method::GET | Method::HEAD) => {
            Ok(reply(StatusCode::OK, &[("content-type", "application/json".into())], Body::from("{}")))
        }
        (Route::Catalog, Method::GET) => {
            let names: Vec<String> = meta::repositories(store).await?.iter().map(|r| r.name().to_string()).collect();
            let body = serde_json::json!({ "repositories": names }).to_string();
            Ok(reply(StatusCode::OK, &[("content-type", "application/json".into())], Body::from(body)))
        }
        (Route::Tags(name), Method::GET) => tags_list(registry, name, &query(&req)).await,
        (Route::Blob(name, digest), m @ (Method::GET | Method::HEAD)) => get_blob(registry, name, digest, m).await,
        (Route::Blob(..), Method::DELETE) => Err(RegistryError::unsupported("blobs are deleted with their images")),
        (Route::Uploads(name), Method::POST) => start_upload(registry, name, req).await,
        (Route::Upload(name, id), Method::PATCH) => patch_upload(registry, name, id, req).await,
        (Route::Upload(name, id), Method::PUT) => put_upload(registry, name, id, req).await,
        (Route::Upload(name, id), Method::GET) => {
            let len = registry.blobs.upload_len(id, name).await?;
            Ok(upload_reply(StatusCode::NO_CONTENT, name, id, len))
        }
        (Route::Upload(name, id), Method::DELETE) => {
            registry.blobs.cancel(id, name).await?;
            Ok(reply(StatusCode::NO_CONTENT, &[], Body::empty()))
        }
        (Route::Manifest(name, reference), m @ (Method::GET | Method::HEAD)) => {
            get_manifest(registry, name, reference, m).await
        }
        (Route::Manifest(name, reference), Method::PUT) => put_manifest(registry, name, reference, req).await,
        (Route::Manifest(name, reference), Method::DELETE) => {
            let Some(digest) = Digest::parse(reference) else {
                return Err(RegistryError::unsupported("manifests are deleted by digest"));
            };
            meta::delete_image(store, name, digest.as_str()).await.map_err(|e| match e {
                crate::Error::ImageNotFound(_) => RegistryError::manifest_unknown(reference),
                e => e.into(),
            })?;
            Ok(reply(StatusCode::ACCEPTED, &[], Body::empty()))
        }
        _ => Err(RegistryError::unsupported("method not allowed on this endpoint")),
    }
}

async fn tags_list(registry: &Registry, name: &str, q: &HashMap<String, String>) -> Result<Response> {
    let mut tags: Vec<String> =
        meta::images(registry.store.as_ref(), name).await?.into_iter().flat_map(|v| v.tags).collect();
    tags.sort();
    if let Some(last) = q.get("last") {
        tags.retain(|t| t > last);
    }
    let mut headers = vec![("content-type", "application/json".to_string())];
    if let Some(n) = q.get("n").and_then(|n| n.parse::<usize>().ok())
        && tags.len() > n
    {
        tags.truncate(n);
        if let Some(last) = tags.last() {
            headers.push(("link", format!("</v2/{name}/tags/list?n={n}&last={last}>; rel=\"next\"")));
        }
    }
    let body = serde_json::json!({ "name": name, "tags": tags }).to_string();
    Ok(reply(StatusCode::OK, &headers, Body::from(body)))
}

async fn get_blob(registry: &Registry, name: &str, digest: &str, method: Method) -> Result<Response> {
    let _ = name;
    let d = Digest::parse(digest).ok_or_else(|| RegistryError::digest_invalid(format!("invalid digest {digest:?}")))?;
    let Some((file, len)) = registry.blobs.open_blob(&d).await? else {
        return Err(RegistryError::blob_unknown(digest));
    };
    let headers = [
        ("content-type", "application/octet-stream".to_string()),
        ("content-length", len.to_string()),
        ("docker-content-digest", d.to_string()),
        ("etag", format!("\"{d}\"")),
    ];
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024))
    };
    Ok(reply(StatusCode::OK, &headers, body))
}

fn upload_reply(status: StatusCode, name: &str, id: &str, len: u64) -> Response {
    reply(
        status,
        &[
            ("location", format!("/v2/{name}/blobs/uploads/{id}")),
            ("range", format!("0-{}", len.saturating_sub(1))),
            ("docker-upload-uuid", id.to_string()),
            ("content-length", "0".into()),
        ],
        Body::empty(),
    )
}

fn blob_created(name: &str, digest: &Digest) -> Response {
    reply(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{name}/blobs/{digest}")),
            ("docker-content-digest", digest.to_string()),
            ("content-length", "0".into()),
        ],
        Body::empty(),
    )
}

fn parse_digest(q: &HashMap<String, String>) -> Result<Option<Digest>> {
    match q.get("digest") {
        None => Ok(None),
        Some(d) => {
            Digest::parse(d).map(Some).ok_or_else(|| RegistryError::digest_invalid(format!("invalid digest {d:?}")))
        }
    }
}

async fn start_upload(registry: &Registry, name: &str, req: Request) -> Result<Response> {
    let q = query(&req);
    if let (Some(mount), Some(from)) = (q.get("mount"), q.get("from")) {
        let digest = Digest::parse(mount).ok_or_else(|| RegistryError::digest_invalid("invalid mount digest"))?;
        let from_exists =
            meta::valid_repository_name(from) && meta::repository(registry.store.as_ref(), from).await.is_ok();
        if from_exists && registry.blobs.size(&digest).await?.is_some() {
            return Ok(blob_created(name, &digest));
        }
    }
    let digest = parse_digest(&q)?;
    let id = registry.blobs.start_upload(name).await?;
    match digest {
        // Monolithic upload: the whole blob in this request.
        Some(digest) => {
            if let Err(e) = registry.blobs.append(&id, name, None, req.into_body().into_data_stream()).await {
                let _ = registry.blobs.cancel(&id, name).await;
                return Err(e.into());
            }
            registry.blobs.finish(&id, name, &digest).await?;
            Ok(blob_created(name, &digest))
        }
        None => Ok(upload_reply(StatusCode::ACCEPTED, name, &id, 0)),
    }
}

/// `Content-Range: <start>-<end>`: where the chunk begins.
fn chunk_start(headers: &HeaderMap) -> Result<Option<u64>> {
    let Some(range) = header(headers, header::CONTENT_RANGE) else { return Ok(None) };
    let range = range.trim_start_matches("bytes ").trim_start_matches("bytes=");
    let start = range.split('-').next().and_then(|s| s.trim().parse().ok());
    start.map(Some).ok_or_else(|| RegistryError::range_invalid(format!("invalid Content-Range {range:?}")))
}

async fn patch_upload(registry: &Registry, name: &str, id: &str, req: Request) -> Result<Response> {
    let start = chunk_start(req.headers())?;
    let len = registry.blobs.append(id, name, start, req.into_body().into_data_stream()).await?;
    Ok(upload_reply(StatusCode::ACCEPTED, name, id, len))
}

async fn put_upload(registry: &Registry, name: &str, id: &str, req: Request) -> Result<Response> {
    let q = query(&req);
    let Some(digest) = parse_digest(&q)? else {
        return Err(RegistryError::digest_invalid("the upload's final PUT needs ?digest="));
    };
    let start = chunk_start(req.headers())?;
    registry.blobs.append(id, name, start, req.into_body().into_data_stream()).await?;
    registry.blobs.finish(id, name, &digest).await?;
    Ok(blob_created(name, &digest))
}

async fn get_manifest(registry: &Registry, name: &str, reference: &str, method: Method) -> Result<Response> {
    let store = registry.store.as_ref();
    let Some(image) = meta::resolve(store, name, reference).await? else {
        return Err(RegistryError::manifest_unknown(reference));
    };
    let digest = Digest::parse(&image.digest).ok_or_else(|| RegistryError::manifest_unknown(reference))?;
    let Some(bytes) = registry.blobs.read(&digest).await? else {
        tracing::error!(repository = name, %digest, "an image's manifest blob is missing");
        return Err(RegistryError::manifest_unknown(reference));
    };
    let headers = [
        ("content-type", image.media_type.clone()),
        ("content-length", bytes.len().to_string()),
        ("docker-content-digest", digest.to_string()),
        ("etag", format!("\"{digest}\"")),
    ];
    if method == Method::HEAD {
        return Ok(reply(StatusCode::OK, &headers, Body::empty()));
    }
    meta::record_pull(store, name, digest.as_str()).await;
    Ok(reply(StatusCode::OK, &headers, Body::from(bytes)))
}

async fn put_manifest(registry: &Registry, name: &str, reference: &str, req: Request) -> Result<Response> {
    let content_type = header(req.headers(), header::CONTENT_TYPE).map(str::to_owned);
    let body = axum::body::to_bytes(req.into_body(), MAX_MANIFEST)
        .await
        .map_err(|_| RegistryError::size_invalid(format!("manifests are limited to {MAX_MANIFEST} bytes")))?;
    let (tag, expected) = match Digest::parse(reference) {
        Some(d) => (None, Some(d)),
        None if reference.contains(':') => {
            return Err(RegistryError::digest_invalid(format!("invalid digest {reference:?}")));
        }
        None => (Some(reference), None),
    };
    let (digest, _) = registry.put_manifest(name, &body, content_type.as_deref(), tag, expected.as_ref()).await?;
    Ok(reply(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{name}/manifests/{digest}")),
            ("docker-content-digest", digest.to_string()),
            ("content-length", "0".into()),
        ],
        Body::empty(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_names_with_slashes() {
        assert_eq!(route("/v2/"), Some(Route::Base));
        assert_eq!(route("/v2"), Some(Route::Base));
        assert_eq!(route("/v2/a/b/tags/list"), Some(Route::Tags("a/b")));
        assert_eq!(route("/v2/a/b/manifests/latest"), Some(Route::Manifest("a/b", "latest")));
        assert_eq!(route("/v2/a/blobs/sha256:00"), Some(Route::Blob("a", "sha256:00")));
        assert_eq!(route("/v2/a/blobs/uploads/"), Some(Route::Uploads("a")));
        assert_eq!(route("/v2/a/blobs/uploads/u-1"), Some(Route::Upload("a", "u-1")));
        assert_eq!(route("/v2/blobs/x/blobs/uploads"), Some(Route::Uploads("blobs/x")));
        assert_eq!(route("/v3/a"), None);
        assert_eq!(route("/v2/a/blobs/uploads/x/y"), None);
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(percent_decode("sha256%3Aab").as_deref(), Some("sha256:ab"));
        assert_eq!(percent_decode("%zz"), None);
    }
}
