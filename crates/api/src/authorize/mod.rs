//! Authorization: after a request is authenticated and routed, and before its handler runs,
//! one pure evaluator (`berth_policy::evaluate`) decides it against the caller's policies.
//!
//! - Who: the principal is derived from the caller's ARN ([`identity::Identity`]); the root
//!   user is not subject to policies and is never evaluated.
//! - What: the route's service table ([`Asks`], beside each service's dispatch table) names the
//!   action (`prefix:Operation`), the resources (one evaluation per resource; all must be
//!   allowed) and the condition keys the request carries (`aws:RequestTag/...`, `ecs:cluster`).
//!   An operation a table does not name, or a service without a table, asks for its action on `*`.
//! - With which policies: the caller's identity-based policies ([`policies`], cached).
//! - The answer: AWS's AccessDenied message, as `AccessDeniedException` (JSON, 400) or
//!   `AccessDenied` (query, 403).

mod ask;
pub mod identity;
mod policies;
pub mod registry;

#[cfg(test)]
pub use ask::testing;
pub use ask::{Ask, Asks, Target, arn, name_of, strings, text};
pub use policies::PolicyCache;

use crate::context::{Api, Caller};
use crate::error::AwsError;
use crate::route::{Protocol, Route};
use berth_model::authorization_message;
use berth_policy::{Decision, Policy, Request, evaluate_bounded};
use identity::Identity;
use policies::Loaded;
use serde_json::Value;
use std::net::IpAddr;
use time::OffsetDateTime;

/// What the request says about itself beyond its input: where it came from, which region.
#[derive(Debug, Clone)]
pub struct Facts {
    pub source_ip: Option<IpAddr>,
    pub region: String,
    pub now: OffsetDateTime,
}

/// Refuses the request unless the caller may do what `route` says with `body`.
pub async fn authorize(
    api: &Api,
    caller: &Caller,
    route: &Route,
    body: &[u8],
    source_ip: Option<IpAddr>,
) -> Result<(), AwsError> {
    let protocol = route.protocol();
    let identity = Identity::of(&caller.arn).ok_or_else(|| unknown_principal(caller, protocol))?;
    if matches!(identity, Identity::Root { .. }) {
        return Ok(());
    }
    let input = match protocol {
        // A body that is not JSON is refused by the handler's decoder; it asks for `*` here.
        Protocol::Json => serde_json::from_slice(body).unwrap_or(Value::Null),
        Protocol::Query => route.form().tree(),
    };
    let ask = match route.service.asks {
        Some(asks) => asks(&api.scope, &route.operation, &input),
        None => Ask::any(),
    };
    let Ask::Targets(mut targets) = ask else { return Ok(()) };
    let loaded = api.policies.get(&api.store, &caller.arn, &identity).await?;
    if loaded.reads_resource_tags {
        resource_tags(api, &mut targets).await?;
    }
    let region = route.service.global_region.unwrap_or(&api.scope.region).to_string();
    let facts = Facts { source_ip, region, now: OffsetDateTime::now_utc() };
    let action = format!("{}:{}", route.service.signing_name, route.operation);
    let Some((request, decision)) = first_denial(&loaded, &action, &targets, &facts, None) else { return Ok(()) };
    let message = decision.denial_message(&request).unwrap_or_default();
    if route.service.signing_name == "ec2" {
        return Err(AwsError::access_denied(protocol, encoded_denial(api, &message, &request, decision)));
    }
    Err(AwsError::access_denied(protocol, message))
}

/// EC2's form of a denial: with the request sealed as an encoded authorization failure
/// message, which STS DecodeAuthorizationMessage opens.
fn encoded_denial(api: &Api, message: &str, request: &Request, decision: Decision) -> String {
    let decoded = authorization_message::decoded(request, decision);
    match api.keyring.sealer().seal(&decoded, authorization_message::SEAL_CONTEXT) {
        Ok(encoded) => authorization_message::ec2_message(message, &encoded),
        Err(e) => {
            tracing::error!(error = %e, "cannot seal an authorization failure message");
            message.to_string()
        }
    }
}

/// May `principal` (a caller's ARN: root, a user or a role session) do `action` on
/// `resource`, with `resource_policy` if the resource has one? For decisions outside an API
/// request: registry pulls and pushes, an execution role reading a secret. `Err` is AWS's message.
pub async fn may(
    api: &Api,
    principal: &str,
    action: &str,
    resource: &str,
    resource_policy: Option<&Policy>,
) -> Result<(), String> {
    let identity = Identity::of(principal)
        .ok_or_else(|| format!("User: {principal} is not authorized to perform: {action} on resource: {resource}"))?;
    if matches!(identity, Identity::Root { .. }) {
        return Ok(());
    }
    let loaded = api.policies.get(&api.store, principal, &identity).await.map_err(|e| e.message)?;
    let facts = Facts { source_ip: None, region: api.scope.region.clone(), now: OffsetDateTime::now_utc() };
    check(&loaded, action, &[Target::on(resource)], &facts, resource_policy)
}

/// Adds `aws:ResourceTag/...` to the targets that are ECS clusters of this account (the
/// resources whose tags are one read away; other resources' tags are not looked up).
async fn resource_tags(api: &Api, targets: &mut [Target]) -> Result<(), AwsError> {
    let prefix = arn(&api.scope, "ecs", "cluster/");
    for target in targets {
        let Some(name) = target.resource.strip_prefix(&prefix) else { continue };
        let key = berth_model::keys::cluster(name);
        let Some(cluster) = berth_store::documents::get::<berth_model::ecs::Cluster>(api.store.as_ref(), &key).await?
        else {
            continue;
        };
        for tag in cluster.value.tags.into_iter().flatten() {
            if let (Some(k), Some(v)) = (tag.key, tag.value) {
                target.keys.push((format!("aws:ResourceTag/{k}"), vec![v]));
            }
        }
    }
    Ok(())
}

/// Evaluates each target (its own action, or `action`) against the loaded policies and
/// `resource_policy`; the first denial's message, or Ok.
pub fn check(
    loaded: &Loaded,
    action: &str,
    targets: &[Target],
    facts: &Facts,
    resource_policy: Option<&Policy>,
) -> Result<(), String> {
    match first_denial(loaded, action, targets, facts, resource_policy) {
        Some((request, decision)) => Err(decision.denial_message(&request).unwrap_or_default()),
        None => Ok(()),
    }
}

/// The first target refused, as the evaluator saw it, with its decision; `None` when all are allowed.
fn first_denial(
    loaded: &Loaded,
    action: &str,
    targets: &[Target],
    facts: &Facts,
    resource_policy: Option<&Policy>,
) -> Option<(Request, Decision)> {
    let policies: Vec<&Policy> = loaded.policies.iter().collect();
    targets.iter().find_map(|target| {
        let request = request(loaded, target.action.unwrap_or(action), target, facts);
        let decision = evaluate_bounded(&request, &policies, loaded.boundary.as_ref(), resource_policy);
        (!decision.is_allowed()).then_some((request, decision))
    })
}

/// The request as the evaluator sees it, with the global condition keys.
pub fn request(loaded: &Loaded, action: &str, target: &Target, facts: &Facts) -> Request {
    let now = facts.now.replace_nanosecond(0).unwrap_or(facts.now);
    let mut request = Request::new(loaded.principal.clone(), action, &target.resource)
        .with("aws:userid", loaded.user_id.clone())
        .with("aws:RequestedRegion", facts.region.clone())
        .with("aws:CurrentTime", now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
        .with("aws:EpochTime", now.unix_timestamp().to_string())
        .with("aws:SecureTransport", "false");
    if let Some(ip) = facts.source_ip {
        request = request.with("aws:SourceIp", ip.to_string());
    }
    for tag in &loaded.tags {
        request = request.with(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
    }
    for (key, values) in &target.keys {
        request = request.with_values(key, values.clone());
    }
    request
}

/// An ARN no berth credential can have (a key record written by hand): refused, not evaluated.
fn unknown_principal(caller: &Caller, protocol: Protocol) -> AwsError {
    tracing::warn!(arn = caller.arn, "a credential acts as an ARN that is no IAM principal");
    AwsError::access_denied(protocol, format!("User: {} is not authorized to perform this operation", caller.arn))
}

#[cfg(test)]
mod tests;
