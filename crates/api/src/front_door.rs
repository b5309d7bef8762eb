//! The one HTTP entry point for AWS API calls: reads the body (bounded), recognises the
//! protocol, verifies the signature, routes to the service, and encodes the answer or
//! the error in the protocol the request came in.

use crate::auth::{self, Codes};
use crate::context::{Api, Ctx};
use crate::error::AwsError;
use crate::protocol::{json, query};
use crate::services;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use std::sync::Arc;

/// API request bodies larger than this are refused before they are parsed. The largest
/// legitimate ones (task definitions: 64 KiB, log batches: 1 MiB) fit.
pub const MAX_BODY: usize = 2 * 1024 * 1024;

#[derive(Clone, Copy)]
enum Protocol {
    Json,
    Query,
}

pub async fn handle(State(api): State<Arc<Api>>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let protocol = if target.is_some() { Protocol::Json } else { Protocol::Query };
    let result = async {
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| AwsError::body_too_large(MAX_BODY))?;
        let codes = match protocol {
            Protocol::Json => Codes::Json,
            Protocol::Query => Codes::Query,
        };
        let caller = auth::authenticate(&api, &parts, &body, codes).await?;
        let host = parts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let ctx = Ctx { caller, api, request_id: request_id.clone(), host };
        match target {
            Some(target) => match json::split_target(&target) {
                Some((prefix, op)) => services::call_json(ctx, prefix, op, &body).await,
                None => Err(AwsError::unknown_operation(&target)),
            },
            None => {
                // A presigned URL carries the whole request in its query string.
                let params = if parts.method == Method::GET {
                    query::Params::parse(parts.uri.query().unwrap_or("").as_bytes())
                } else {
                    query::Params::parse(&body)
                };
                match params.action() {
                    Some(_) => services::call_query(ctx, &params).await.map(String::into_bytes),
                    None => Err(AwsError::missing_action()),
                }
            }
        }
    }
    .await;

    match result {
        Ok(bytes) => {
            let content_type = match protocol {
                Protocol::Json => json::CONTENT_TYPE,
                Protocol::Query => query::CONTENT_TYPE,
            };
            respond(StatusCode::OK, content_type, bytes, &request_id)
        }
        Err(err) => error_response(protocol, &err, &request_id),
    }
}

fn error_response(protocol: Protocol, err: &AwsError, request_id: &str) -> Response {
    if err.status.is_server_error() {
        tracing::warn!(code = %err.code, request_id, "request failed: {}", err.message);
    } else {
        tracing::debug!(code = %err.code, request_id, "request refused: {}", err.message);
    }
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
