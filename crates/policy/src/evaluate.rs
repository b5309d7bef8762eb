//! Policy evaluation for one request, in AWS's order: an explicit Deny in any applicable policy
//! wins; then an Allow; else the request is implicitly denied.
//!
//! Within one account an Allow in identity-based policies suffices, and so does a
//! resource-based Allow that names the principal itself (its ARN, its role, a service, `*`).
//! A resource-based Allow that names only the principal's account delegates to that account's
//! identity-based policies, which must allow too; across accounts both sides must allow. A
//! role's trust policy is the exception: sts:AssumeRole needs it to name the caller (or its
//! account, and then an identity-based Allow too) even within the account.
//!
//! A permissions boundary (a managed policy set on the user or role) caps what the
//! identity-based policies grant: they allow only what the boundary allows too, and a Deny in
//! the boundary is an explicit deny. As in AWS, a resource-based Allow that names the user or
//! role session itself is not capped by the boundary (only an explicit Deny in it applies);
//! berth treats one naming the session's role the same way (AWS caps that one).

use crate::document::{Effect, Patterns, Policy, PolicyKind, Statement};
use crate::principal::Naming;
use crate::request::{PrincipalKind, Request};

/// The two places a policy that decided a request can come from, as AWS's messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    /// A user's, group's or role's own policies.
    IdentityBased,
    /// The resource's policy, or the role's trust policy for sts:AssumeRole.
    ResourceBased,
    /// The user's or role's permissions boundary.
    PermissionsBoundary,
}

/// The outcome of [`evaluate`]. A denial says which kind of policy denied (explicit) or failed
/// to allow (implicit), for [`Decision::denial_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A Deny statement of this kind of policy applied.
    ExplicitDeny(PolicyType),
    /// Nothing allowed; this kind of policy is the one whose Allow was missing.
    ImplicitDeny(PolicyType),
}

impl Decision {
    /// Whether the request may go ahead.
    pub fn is_allowed(&self) -> bool {
        *self == Decision::Allow
    }

    /// AWS's AccessDenied message for a denial, `None` for an Allow: `User: ARN is not
    /// authorized to perform: ACTION on resource: ARN because no identity-based policy allows
    /// the ACTION action` (or `with an explicit deny in an identity-based policy`, ...).
    pub fn denial_message(&self, request: &Request) -> Option<String> {
        let (action, resource) = (request.action(), request.resource());
        let reason = match self {
            Decision::Allow => return None,
            Decision::ExplicitDeny(PolicyType::IdentityBased) => {
                "with an explicit deny in an identity-based policy".to_string()
            }
            Decision::ExplicitDeny(PolicyType::ResourceBased) => {
                "with an explicit deny in a resource-based policy".to_string()
            }
            Decision::ImplicitDeny(PolicyType::IdentityBased) => {
                format!("because no identity-based policy allows the {action} action")
            }
            Decision::ImplicitDeny(PolicyType::ResourceBased) => {
                format!("because no resource-based policy allows the {action} action")
            }
            Decision::ExplicitDeny(PolicyType::PermissionsBoundary) => {
                "with an explicit deny in a permissions boundary".to_string()
            }
            Decision::ImplicitDeny(PolicyType::PermissionsBoundary) => {
                format!("because no permissions boundary allows the {action} action")
            }
        };
        Some(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {reason}",
            request.principal().arn()
        ))
    }
}

/// Decides `request` against the caller's identity-based policies and, when the resource has
/// one, its resource-based policy (a role's trust policy for sts:AssumeRole).
pub fn evaluate(request: &Request, identity: &[&Policy], resource: Option<&Policy>) -> Decision {
    evaluate_bounded(request, identity, None, resource)
}

/// [`evaluate`] for a principal with a permissions boundary (`None`: none set).
pub fn evaluate_bounded(
    request: &Request,
    identity: &[&Policy],
    boundary: Option<&Policy>,
    resource: Option<&Policy>,
) -> Decision {
    let Some(mut identity_allows) = allows(identity, request) else {
        return Decision::ExplicitDeny(PolicyType::IdentityBased);
    };
    // Whether the boundary lets identity-based Allows through (no boundary: all of them).
    let bounded = match boundary.map(|b| allows(&[b], request)) {
        None => false,
        Some(None) => return Decision::ExplicitDeny(PolicyType::PermissionsBoundary),
        Some(Some(allowed)) => !allowed,
    };
    let capped = identity_allows && bounded;
    identity_allows &= !bounded;
    let implicit = if capped { PolicyType::PermissionsBoundary } else { PolicyType::IdentityBased };
    let Some(resource_policy) = resource else {
        return if identity_allows { Decision::Allow } else { Decision::ImplicitDeny(implicit) };
    };
    let mut resource_allows = Naming::None;
    for statement in &resource_policy.statements {
        let naming = principal_naming(statement, request);
        if naming == Naming::None || !applies(statement, request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return Decision::ExplicitDeny(PolicyType::ResourceBased),
            Effect::Allow => resource_allows = resource_allows.max(naming),
        }
    }
    // A service acts for no account; AWS trusts it by name alone.
    let same_account = request.principal().kind() == &PrincipalKind::Service
        || resource_account(request.resource()).is_none_or(|account| account == request.principal().account());
    let allowed = match (resource_policy.kind, same_account) {
        // A role's trust policy is always required: naming the caller suffices, naming its
        // account leaves it to the caller's identity-based policies.
        (PolicyKind::Trust, true) => {
            resource_allows == Naming::Direct || (resource_allows == Naming::Account && identity_allows)
        }
        (_, true) => identity_allows || resource_allows == Naming::Direct,
        (_, false) => identity_allows && resource_allows != Naming::None,
    };
    if allowed {
        Decision::Allow
    } else if resource_allows == Naming::None && (resource_policy.kind == PolicyKind::Trust || !same_account) {
        Decision::ImplicitDeny(PolicyType::ResourceBased)
    } else {
        Decision::ImplicitDeny(implicit)
    }
}

/// Whether some statement of `policies` allows `request`; `None` when one denies it.
fn allows(policies: &[&Policy], request: &Request) -> Option<bool> {
    let mut allowed = false;
    for statement in policies.iter().flat_map(|policy| &policy.statements) {
        if applies(statement, request) {
            match statement.effect {
                Effect::Deny => return None,
                Effect::Allow => allowed = true,
            }
        }
    }
    Some(allowed)
}

/// Whether a statement's action, resource and conditions all match (its principal aside).
fn applies(statement: &Statement, request: &Request) -> bool {
    matches(&statement.actions, request, request.action_folded())
        && statement.resources.as_ref().is_none_or(|resources| matches(resources, request, request.resource()))
        && statement.conditions.iter().all(|condition| condition.holds(request))
}

fn matches(patterns: &Patterns, request: &Request, subject: &str) -> bool {
    patterns.negated != patterns.patterns.iter().any(|p| p.matches(request, subject))
}

fn principal_naming(statement: &Statement, request: &Request) -> Naming {
    let Some(block) = &statement.principal else {
        return Naming::None;
    };
    let naming = block.set.naming(request.principal());
    match (block.negated, naming) {
        (false, naming) => naming,
        // NotPrincipal: everyone it does not name, as directly as "*" would.
        (true, Naming::None) => Naming::Direct,
        (true, _) => Naming::None,
    }
}

/// The account field of an ARN; `None` for `*`, an ARN without one, or AWS-owned (`aws`).
fn resource_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty() && *account != "aws")
}
