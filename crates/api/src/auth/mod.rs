//! Authentication: every API request carries an AWS Signature Version 4, verified
//! against berth's own access keys before any handler runs. The result is the `Caller`
//! every handler is given (and IAM policies will be evaluated against).

pub mod keyring;
pub mod sealer;

use crate::context::{Api, Caller};
use crate::error::AwsError;
use berth_sigv4::{Kind, Sigv4Error};
use http::StatusCode;

/// Which family of error codes a failure is reported in: JSON services and query
/// services name the same failures differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    Json,
    Query,
}

/// Verifies the request's signature and returns who sent it.
pub async fn authenticate(
    api: &Api,
    parts: &http::request::Parts,
    body: &[u8],
    codes: Codes,
) -> Result<Caller, AwsError> {
    let headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).collect();
    let request = berth_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let parsed = berth_sigv4::parse(&request).map_err(|e| signature_error(&e, codes))?;
    let credential = parsed.credential();
    // berth issues no temporary credentials yet, so no session token can be valid.
    if credential.session_token.is_some() {
        return Err(unrecognized(codes));
    }
    let key = api
        .keyring
        .lookup(api.store.as_ref(), &credential.access_key_id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "access key lookup failed");
            AwsError::internal("InternalFailure")
        })?
        .ok_or_else(|| unrecognized(codes))?;
    berth_sigv4::verify(&request, &parsed, &key.secret, time::OffsetDateTime::now_utc())
        .map_err(|e| signature_error(&e, codes))?;
    Ok(Caller {
        account: key.record.account.clone(),
        arn: key.record.arn.clone(),
        user_id: key.record.user_id.clone(),
        access_key_id: Some(key.record.access_key_id.clone()),
    })
}

fn unrecognized(codes: Codes) -> AwsError {
    let message = "The security token included in the request is invalid.";
    match codes {
        Codes::Json => AwsError::new(StatusCode::BAD_REQUEST, "UnrecognizedClientException", message),
        Codes::Query => AwsError::new(StatusCode::FORBIDDEN, "InvalidClientTokenId", message),
    }
}

fn signature_error(e: &Sigv4Error, codes: Codes) -> AwsError {
    let message = e.to_string();
    let (status, code) = match (e.kind(), codes) {
        (Kind::Missing, Codes::Json) => (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException"),
        (Kind::Missing, Codes::Query) => (StatusCode::FORBIDDEN, "MissingAuthenticationToken"),
        (Kind::Malformed, Codes::Json) => (StatusCode::BAD_REQUEST, "IncompleteSignatureException"),
        (Kind::Malformed, Codes::Query) => (StatusCode::BAD_REQUEST, "IncompleteSignature"),
        (Kind::Expired | Kind::SignatureMismatch, Codes::Json) => (StatusCode::FORBIDDEN, "InvalidSignatureException"),
        (Kind::Expired | Kind::SignatureMismatch, Codes::Query) => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
    };
    AwsError::new(status, code, message)
}
