//! The one HTTP entry point for AWS API calls: reads the body (bounded), routes the request
//! (`route::Route`: which service and operation), verifies that its signature covers that
//! route, authorizes it against the caller's policies (`authorize`), runs it, and encodes the
//! answer or the error in the protocol the request came in.

use crate::auth;
use crate::authorize;
use crate::context::{Api, Ctx};
use crate::error::AwsError;
use crate::protocol::{ec2, json, query};
use crate::route::{Protocol, Route};
use crate::services;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use std::net::SocketAddr;
use std::sync::Arc;

/// API request bodies larger than this are refused before they are parsed. The largest
/// legitimate ones (task definitions: 64 KiB, log batches: 1 MiB) fit.
pub const MAX_BODY: usize = 2 * 1024 * 1024;

pub async fn handle(State(api): State<Arc<Api>>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    // The route's protocol is this one (Route::of reads it the same way); knowing it first
    // answers a request that cannot be routed in its own protocol.
    let protocol = Protocol::of(&parts.headers);
    // Once routed to EC2, errors are written as EC2 writes them.
    let mut ec2_wire = false;
    let json_content_type = json::content_type_for(&parts.headers);
    let query_compatible = json::query_compatible(&parts.headers);
    let result = async {
        let raw = axum::body::to_bytes(body, MAX_BODY).await.map_err(body_error)?;
        // The signature covers the bytes as sent; everything else reads them inflated (a
        // gzip'd query-protocol form names its Action only once inflated).
        let body = crate::protocol::encoding::decode(&parts.headers, raw.clone(), MAX_BODY)?;
        // Routing reads only public names (target prefixes, Actions, Versions), so it may come
        // before authentication, which needs the route to know what the signature must cover.
        let route = Route::of(&parts, &body)?;
        ec2_wire = route.service.wire.is_ec2();
        let caller = auth::authenticate(&api, &parts, &raw, &route).await?;
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        authorize::authorize(&api, &caller, &route, &body, peer).await?;
        let writes_iam = route.service.signing_name == "iam" && !route.operation.starts_with(['G', 'L']);
        let host = parts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let policies = api.policies.clone();
        let ctx = Ctx { caller, api, request_id: request_id.clone(), host };
        let answer = services::call(ctx, &route, &body).await;
        // The caller's next request must see an IAM change; the store watch may lag.
        if writes_iam {
            policies.invalidate();
        }
        answer
    }
    .await;

    match result {
        Ok(bytes) => {
            let content_type = match protocol {
                Protocol::Json => json_content_type,
                Protocol::Query => query::CONTENT_TYPE,
            };
            respond(StatusCode::OK, content_type, bytes, &request_id)
        }
        Err(err) if ec2_wire => {
            log_error(&err, &request_id);
            respond(err.status, query::CONTENT_TYPE, ec2::encode_error(&err, &request_id).into_bytes(), &request_id)
        }
        Err(err) => {
            let mut resp = error_response(protocol, &err, &request_id);
            if protocol == Protocol::Json {
                resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(json_content_type));
                // awsQueryCompatible services (CloudWatch): clients read the query code here.
                if query_compatible && let Ok(v) = HeaderValue::from_str(&json::query_error(&err)) {
                    resp.headers_mut().insert("x-amzn-query-error", v);
                }
            }
            resp
        }
    }
}

/// Why a body could not be read: over the limit (413), or not a well-formed body at all
/// (a malformed chunk size, a body that stopped arriving: 400).
fn body_error(e: axum::Error) -> AwsError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return AwsError::body_too_large(MAX_BODY);
        }
        source = err.source();
    }
    AwsError::serialization(format!("The request body could not be read: {e}"))
}

fn log_error(err: &AwsError, request_id: &str) {
    if err.status.is_server_error() {
        tracing::warn!(code = %err.code, request_id, "request failed: {}", err.message);
    } else {
        tracing::debug!(code = %err.code, request_id, "request refused: {}", err.message);
    }
}

fn error_response(protocol: Protocol, err: &AwsError, request_id: &str) -> Response {
    log_error(err, request_id);
    match protocol {
        Protocol::Json => respond(err.status, json::CONTENT_TYPE, json::encode_error(err), request_id),
        Protocol::Query => {
            respond(err.status, query::CONTENT_TYPE, query::encode_error(err, request_id).into_bytes(), request_id)
        }
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>, request_id: &str) -> Response {
    let mut resp = (status, Body::from(body)).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    resp
}
