//! Operations asked from inside the server on behalf of a person who signed in (the web
//! console): the same routing, authorization (`authorize`: the caller's IAM policies) and
//! handlers as a signed HTTP request, without the signature, which the sign-in replaced.

use crate::authorize;
use crate::context::{Api, Caller, Ctx};
use crate::error::AwsError;
use crate::route::{Protocol, Route};
use crate::services;
use http::StatusCode;
use std::net::IpAddr;
use std::sync::Arc;

/// Runs the AWS JSON operation `target` (`AmazonEC2ContainerServiceV20141113.UpdateService`)
/// with the JSON `body` as `caller`, asked from `peer`: the operation's JSON answer, or the
/// error an HTTP client would have been given.
pub async fn call_json(
    api: &Arc<Api>,
    caller: &Caller,
    target: &str,
    body: &[u8],
    peer: Option<IpAddr>,
) -> Result<Vec<u8>, AwsError> {
    let (parts, ()) = http::Request::post("/")
        .header("x-amz-target", target)
        .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
        .body(())
        .map_err(|_| AwsError::unknown_operation(target))?
        .into_parts();
    let route = Route::of(&parts, body)?;
    if route.protocol() != Protocol::Json {
        return Err(AwsError::unknown_operation(target));
    }
    authorize::authorize(api, caller, &route, body, peer).await?;
    let ctx =
        Ctx { api: api.clone(), caller: caller.clone(), request_id: uuid::Uuid::new_v4().to_string(), host: None };
    services::call(ctx, &route, body).await
}

/// Who holds the long-term access key `access_key_id` with `secret`: the caller a person
/// signs in as. A wrong, unknown or inactive key is refused alike, saying nothing of which.
pub async fn sign_in(api: &Api, access_key_id: &str, secret: &str) -> Result<Caller, AwsError> {
    let refused = || AwsError::new(StatusCode::FORBIDDEN, "InvalidClientTokenId", "The access key or secret is wrong.");
    let key = api
        .keyring
        .lookup(api.store.as_ref(), access_key_id)
        .await
        .map_err(crate::auth::lookup_failed)?
        .ok_or_else(refused)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(key.secret.as_bytes(), secret.as_bytes())) {
        return Err(refused());
    }
    Ok(Caller {
        account: key.record.account,
        arn: key.record.arn,
        user_id: key.record.user_id,
        access_key_id: Some(key.record.access_key_id),
    })
}
