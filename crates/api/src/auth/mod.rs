//! Authentication: every API request carries an AWS Signature Version 4, verified
//! against berth's own access keys before any handler runs. The result is the `Caller`
//! every handler is given (and IAM policies will be evaluated against).

pub mod keyring;
pub mod sealer;
pub mod sessions;

use crate::context::{Api, Caller};
use crate::error::AwsError;
use crate::route::{Protocol, Route};
use berth_sigv4::{Kind, Sigv4Error};
use http::StatusCode;
use sessions::SessionLookup;

/// Verifies that the request is signed by one of berth's access keys and that the signature
/// covers what `route` says the request does, and returns who sent it.
pub async fn authenticate(
    api: &Api,
    parts: &http::request::Parts,
    body: &[u8],
    route: &Route,
) -> Result<Caller, AwsError> {
    let protocol = route.protocol();
    // Every header is passed on, even one whose value is not text: the binding rules must see
    // every name (such a value is signed, and compared, as its lossy text).
    let headers: Vec<(&str, std::borrow::Cow<'_, str>)> =
        parts.headers.iter().map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes()))).collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_ref())).collect();
    let request = berth_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let parsed = berth_sigv4::parse(&request).map_err(|e| signature_error(&e, protocol))?;
    berth_sigv4::binding::check(&request, &parsed, &route.expected(&api.scope.region))
        .map_err(|e| signature_error(&e, protocol))?;
    let credential = parsed.credential();
    let (secret, caller, long_term) = match credential.session_token.as_deref() {
        Some(token) => {
            let (secret, caller) = temporary_key(api, &credential.access_key_id, token, protocol).await?;
            (secret, caller, None)
        }
        None => {
            let key = api
                .keyring
                .lookup(api.store.as_ref(), &credential.access_key_id)
                .await
                .map_err(lookup_failed)?
                .ok_or_else(|| unrecognized(protocol))?;
            let caller = Caller {
                account: key.record.account.clone(),
                arn: key.record.arn.clone(),
                user_id: key.record.user_id.clone(),
                access_key_id: Some(key.record.access_key_id.clone()),
            };
            (key.secret, caller, Some(key.record))
        }
    };
    berth_sigv4::verify(&request, &parsed, &secret, time::OffsetDateTime::now_utc())
        .map_err(|e| signature_error(&e, protocol))?;
    if let Some(record) = long_term {
        let region = route.service.global_region.unwrap_or(&api.scope.region);
        api.keyring.note_use(api.store.as_ref(), &record, route.service.signing_name, region).await;
    }
    Ok(caller)
}

/// The secret and identity of temporary credentials presented with their session token.
async fn temporary_key(api: &Api, id: &str, token: &str, protocol: Protocol) -> Result<(String, Caller), AwsError> {
    match api.keyring.lookup_session(api.store.as_ref(), id, token).await.map_err(lookup_failed)? {
        SessionLookup::Valid { record, secret } => Ok((
            secret,
            Caller {
                account: record.account,
                arn: record.arn,
                user_id: record.user_id,
                access_key_id: Some(record.access_key_id),
            },
        )),
        SessionLookup::Expired => Err(AwsError::expired_token(protocol == Protocol::Json)),
        SessionLookup::Unknown => Err(unrecognized(protocol)),
    }
}

pub(crate) fn lookup_failed(e: keyring::KeyringError) -> AwsError {
    tracing::error!(error = %e, "access key lookup failed");
    AwsError::internal("InternalFailure")
}

fn unrecognized(protocol: Protocol) -> AwsError {
    let message = "The security token included in the request is invalid.";
    match protocol {
        Protocol::Json => AwsError::new(StatusCode::BAD_REQUEST, "UnrecognizedClientException", message),
        Protocol::Query => AwsError::new(StatusCode::FORBIDDEN, "InvalidClientTokenId", message),
    }
}

fn signature_error(e: &Sigv4Error, protocol: Protocol) -> AwsError {
    let message = e.to_string();
    let (status, code) = match (e.kind(), protocol) {
        (Kind::Missing, Protocol::Json) => (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException"),
        (Kind::Missing, Protocol::Query) => (StatusCode::FORBIDDEN, "MissingAuthenticationToken"),
        (Kind::Malformed, Protocol::Json) => (StatusCode::BAD_REQUEST, "IncompleteSignatureException"),
        (Kind::Malformed, Protocol::Query) => (StatusCode::BAD_REQUEST, "IncompleteSignature"),
        (Kind::Expired | Kind::SignatureMismatch, Protocol::Json) => {
            (StatusCode::FORBIDDEN, "InvalidSignatureException")
        }
        (Kind::Expired | Kind::SignatureMismatch, Protocol::Query) => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
    };
    AwsError::new(status, code, message)
}
