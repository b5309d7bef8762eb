//! The one place the registry's failures become distribution-spec errors:
//! `{"errors":[{"code","message","detail"}]}` with the spec's status for each code.

use crate::Error;
use crate::blobs::BlobError;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

pub const API_VERSION_HEADER: &str = "docker-distribution-api-version";
pub const API_VERSION: &str = "registry/2.0";

#[derive(Debug)]
pub struct RegistryError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The Basic-auth realm to challenge with (401 only).
    pub realm: Option<String>,
}

impl RegistryError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), realm: None }
    }

    pub fn unauthorized(realm: String) -> Self {
        Self { realm: Some(realm), ..Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required") }
    }

    /// The token's principal may not do this (its policies, or the repository's, say no).
    pub fn denied(message: String) -> Self {
        Self::new(StatusCode::FORBIDDEN, "DENIED", message)
    }

    pub fn name_invalid(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "NAME_INVALID", format!("invalid repository name {name:?}"))
    }

    pub fn name_unknown(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NAME_UNKNOWN", format!("repository {name} not known to registry"))
    }

    pub fn blob_unknown(digest: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", format!("blob {digest} unknown to registry"))
    }

    pub fn manifest_unknown(reference: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", format!("manifest {reference} unknown"))
    }

    pub fn digest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", message)
    }

    pub fn upload_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", message)
    }

    pub fn range_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID", message)
    }

    pub fn size_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID", message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such registry endpoint")
    }
}

impl From<Error> for RegistryError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            Error::RepositoryNotFound(_) => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
            Error::ImageNotFound(_) => (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"),
            Error::TagAlreadyExists { .. } | Error::TagInvalid(_) => (StatusCode::BAD_REQUEST, "TAG_INVALID"),
            Error::ManifestInvalid(_) => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            Error::ManifestBlobUnknown(_) => (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
            Error::DigestInvalid(_) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
            Error::RepositoryAlreadyExists(_) | Error::RepositoryNotEmpty(_) => (StatusCode::CONFLICT, "DENIED"),
            Error::Internal(_) => {
                tracing::error!(error = %e, "registry request failed");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN",
                    "internal error; the server log has details",
                );
            }
        };
        Self::new(status, code, message)
    }
}

impl From<BlobError> for RegistryError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::UploadUnknown => {
                Self::new(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", "upload unknown to registry")
            }
            BlobError::DigestMismatch { .. } => Self::digest_invalid(e.to_string()),
            BlobError::RangeInvalid { .. } => Self::range_invalid(e.to_string()),
            BlobError::Body(_) => Self::upload_invalid(e.to_string()),
            BlobError::Io(_) => Error::Internal(e.to_string()).into(),
        }
    }
}

impl From<std::io::Error> for RegistryError {
    fn from(e: std::io::Error) -> Self {
        Error::from(e).into()
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"errors": [{"code": self.code, "message": self.message, "detail": null}]});
        let mut resp = (self.status, Body::from(body.to_string())).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        headers.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
        if let Some(realm) = self.realm
            && let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\",service=\"ecr\""))
        {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}
