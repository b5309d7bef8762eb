//! What a request does, decided in one place: which service handles it, which operation, in
//! which protocol, and so which signing name and region its credential scope must name. The
//! verifier (`auth`) and the dispatcher (`services::call`) both read the [`Route`], so a
//! request cannot be verified as one thing and run as another.
//!
//! Each service module describes itself with one [`Service`] (`ecs::SERVICE`, ...), listed in
//! `services::ALL`; adding a service is its descriptor and one line there.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::json;
use crate::protocol::query::Params;
use std::future::Future;
use std::pin::Pin;

/// A service's answer to one operation, boxed so that every service's `call` has one type.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, AwsError>> + Send + 'a>>;

/// How a JSON service runs `operation` on its input: the output JSON.
pub type JsonCall = for<'a> fn(Ctx, &'a str, &'a [u8]) -> Answer<'a, Vec<u8>>;

/// How a query service runs `action` on its form: the result XML, wrapped by the dispatcher.
pub type QueryCall = for<'a> fn(Ctx, &'a str, &'a Params) -> Answer<'a, String>;

/// One AWS service as berth serves it.
pub struct Service {
    /// AWS's SigV4 signing name, which the credential scope must name (`elasticloadbalancing`).
    pub signing_name: &'static str,
    /// A global service's one signing region (IAM: `us-east-1`); `None` for the region berth serves.
    pub global_region: Option<&'static str>,
    pub wire: Wire,
    /// What each operation asks IAM for (`authorize::Asks`, a table beside the service's
    /// dispatch table); a service without one asks `signing_name:Operation` on `*`.
    pub asks: Option<crate::authorize::Asks>,
}

/// How requests name the service and its operations, and the function that runs them.
pub enum Wire {
    /// AWS JSON: `X-Amz-Target: <target_prefix>.<Operation>`.
    Json { target_prefix: &'static str, call: JsonCall },
    /// The query protocol: a form with `Action=<Operation>&Version=<version>`.
    Query { version: &'static str, xmlns: &'static str, call: QueryCall },
    /// EC2's query protocol: the same form (lists flattened), answered without a Result
    /// wrapper and with EC2's own error document (`protocol::ec2`).
    Ec2 { version: &'static str, xmlns: &'static str, call: QueryCall },
}

impl Wire {
    /// Whether answers and errors are written in EC2's form (`protocol::ec2`).
    pub fn is_ec2(&self) -> bool {
        matches!(self, Wire::Ec2 { .. })
    }
}

impl Service {
    pub const fn json(signing_name: &'static str, target_prefix: &'static str, call: JsonCall) -> Self {
        Service { signing_name, global_region: None, wire: Wire::Json { target_prefix, call }, asks: None }
    }

    pub const fn query(
        signing_name: &'static str,
        version: &'static str,
        xmlns: &'static str,
        call: QueryCall,
    ) -> Self {
        Service { signing_name, global_region: None, wire: Wire::Query { version, xmlns, call }, asks: None }
    }

    pub const fn ec2(signing_name: &'static str, version: &'static str, xmlns: &'static str, call: QueryCall) -> Self {
        Service { signing_name, global_region: None, wire: Wire::Ec2 { version, xmlns, call }, asks: None }
    }

    /// A global service, signed for `region` whatever region berth serves (IAM: `us-east-1`).
    pub const fn global(self, region: &'static str) -> Self {
        Service { global_region: Some(region), ..self }
    }

    /// The service's IAM table: which action, resources and condition keys each operation asks for.
    pub const fn authorized_by(self, asks: crate::authorize::Asks) -> Self {
        Service { asks: Some(asks), ..self }
    }

    pub fn protocol(&self) -> Protocol {
        match self.wire {
            Wire::Json { .. } => Protocol::Json,
            Wire::Query { .. } | Wire::Ec2 { .. } => Protocol::Query,
        }
    }
}

/// The family of the wire format, known from the headers alone, so that even a request that
/// cannot be routed is answered in its own protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
}

impl Protocol {
    /// An `X-Amz-Target` header means AWS JSON; anything else is read as the query protocol.
    pub fn of(headers: &http::HeaderMap) -> Self {
        if headers.contains_key(TARGET) { Protocol::Json } else { Protocol::Query }
    }
}

const TARGET: &str = "x-amz-target";

/// The headers each protocol reads to choose the operation and decode its input, which the
/// signature must therefore cover (besides every `x-amz-*` header).
const JSON_OPERATION_HEADERS: &[&str] = &["content-type", TARGET];
const FORM_OPERATION_HEADERS: &[&str] = &["content-type"];

/// What one request does.
pub struct Route {
    pub service: &'static Service,
    /// The operation's wire name (`ListClusters`).
    pub operation: String,
    /// A query request's form (the query string of a GET, else the body); empty for JSON.
    form: Params,
    operation_headers: &'static [&'static str],
}

impl Route {
    /// Routes the request among every service berth serves.
    pub fn of(parts: &http::request::Parts, body: &[u8]) -> Result<Route, AwsError> {
        Self::among(crate::services::ALL, parts, body)
    }

    fn among(services: &[&'static Service], parts: &http::request::Parts, body: &[u8]) -> Result<Route, AwsError> {
        let protocol = Protocol::of(&parts.headers);
        // AWS runs JSON operations only on POST, query ones on POST or GET: a DELETE
        // carrying `Action=DeleteLoadBalancer` is not a request to delete anything.
        let method = &parts.method;
        if !(method == http::Method::POST || (method == http::Method::GET && protocol == Protocol::Query)) {
            return Err(AwsError::method_not_allowed(method.as_str()));
        }
        match protocol {
            Protocol::Json => {
                let raw = parts.headers.get(TARGET).map(|v| v.as_bytes()).unwrap_or_default();
                let unknown = || AwsError::unknown_operation(&String::from_utf8_lossy(raw));
                let target = std::str::from_utf8(raw).map_err(|_| unknown())?;
                let (prefix, op) = json::split_target(target).ok_or_else(unknown)?;
                let service = services
                    .iter()
                    .find(|s| matches!(s.wire, Wire::Json { target_prefix, .. } if target_prefix == prefix))
                    .ok_or_else(unknown)?;
                Ok(Route {
                    service,
                    operation: op.to_owned(),
                    form: Params::default(),
                    operation_headers: JSON_OPERATION_HEADERS,
                })
            }
            Protocol::Query => {
                // A GET (a presigned URL among them) carries its whole request in the query string.
                let (form, operation_headers) = if parts.method == http::Method::GET {
                    (Params::parse(parts.uri.query().unwrap_or("").as_bytes()), &[][..])
                } else {
                    (Params::parse(body), FORM_OPERATION_HEADERS)
                };
                let action = form.action().ok_or_else(AwsError::missing_action)?.to_owned();
                // Query services share action names (elbv2 and autoscaling both have
                // DescribeTags): the form's Version says which service is meant.
                let version = form.version();
                let service = services
                    .iter()
                    .find(|s| {
                        matches!(s.wire, Wire::Query { version: v, .. } | Wire::Ec2 { version: v, .. } if Some(v) == version)
                    })
                    .ok_or_else(|| AwsError::invalid_action(&action))?;
                form.check(service.wire.is_ec2())?;
                Ok(Route { service, operation: action, form, operation_headers })
            }
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.service.protocol()
    }

    /// The form of a query-protocol request.
    pub fn form(&self) -> &Params {
        &self.form
    }

    /// What the request's signature must be bound to, for a server serving `served_region`.
    /// Presigned URLs are honoured where AWS honours them: query-protocol operations.
    pub fn expected<'a>(&'a self, served_region: &'a str) -> berth_sigv4::Expected<'a> {
        berth_sigv4::Expected {
            service: self.service.signing_name,
            region: self.service.global_region.unwrap_or(served_region),
            operation_headers: self.operation_headers,
            presignable: self.protocol() == Protocol::Query,
        }
    }
}

#[cfg(test)]
mod tests;
