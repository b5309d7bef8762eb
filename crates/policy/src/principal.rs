//! The Principal / NotPrincipal element of trust and resource-based policies, and whom it names.

use serde_json::Value;

use crate::MalformedPolicy;
use crate::request::{Principal, PrincipalKind};

/// Who a Principal element names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PrincipalSet {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Everyone,
    Named {
        /// Account ids, `arn:aws:iam::ACCOUNT:root`, user / role / role-session ARNs.
        aws: Vec<String>,
        /// Service principals such as `ec2.amazonaws.com`.
        service: Vec<String>,
        /// Identity providers and canonical users are accepted as AWS does; berth has no
        /// federated or S3 canonical principals, so they never match a request.
        other: Vec<String>,
    },
}

/// How a request's principal is named by a policy, which decides whether a resource-based
/// Allow is enough on its own (see `evaluate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Naming {
    None,
    /// Through its account (an account id or `arn:aws:iam::ACCOUNT:root`): the account's own
    /// identity-based policies must allow the request too.
    Account,
    /// By its own ARN, its role's ARN, as a service, or by `*`.
    Direct,
}

impl PrincipalSet {
    pub(crate) fn parse(value: &Value) -> Result<PrincipalSet, MalformedPolicy> {
        let invalid = |quoted: String| MalformedPolicy::InvalidPrincipal(quoted);
        let entries = match value {
            Value::String(s) if s == "*" => return Ok(PrincipalSet::Everyone),
            Value::Object(entries) => entries,
            other => return Err(invalid(other.to_string())),
        };
        let (mut aws, mut service, mut other) = (Vec::new(), Vec::new(), Vec::new());
        for (kind, names) in entries {
            let names = string_list(names).ok_or_else(|| invalid(format!("\"{kind}\":{names}")))?;
            let target = match kind.as_str() {
                "AWS" => &mut aws,
                "Service" => &mut service,
                "Federated" | "CanonicalUser" => &mut other,
                _ => return Err(invalid(format!("\"{kind}\":{}", Value::from(names)))),
            };
            for name in names {
                let valid = match kind.as_str() {
                    "AWS" => valid_aws_principal(&name),
                    _ => !name.is_empty() && !name.contains(char::is_whitespace),
                };
                if !valid {
                    return Err(invalid(format!("\"{kind}\":\"{name}\"")));
                }
                target.push(name);
            }
        }
        if aws.iter().any(|name| name == "*") {
            return Ok(PrincipalSet::Everyone);
        }
        if aws.is_empty() && service.is_empty() && other.is_empty() {
            return Err(MalformedPolicy::NoPrincipals);
        }
        Ok(PrincipalSet::Named { aws, service, other })
    }

    pub(crate) fn naming(&self, principal: &Principal) -> Naming {
        let PrincipalSet::Named { aws, service, .. } = self else {
            return Naming::Direct;
        };
        if principal.kind() == &PrincipalKind::Service {
            return if service.iter().any(|name| name == principal.arn()) { Naming::Direct } else { Naming::None };
        }
        let mut naming = Naming::None;
        for name in aws {
            let is_role = matches!(principal.kind(), PrincipalKind::AssumedRole { role_arn } if role_arn == name);
            let this = if name == principal.arn() || is_role {
                Naming::Direct
            } else if account_of(name) == Some(principal.account()) {
                // Naming the account names its root user itself.
                if principal.kind() == &PrincipalKind::Root { Naming::Direct } else { Naming::Account }
            } else {
                Naming::None
            };
            naming = naming.max(this);
        }
        naming
    }
}

/// The account a name delegates to: a bare account id or `arn:aws:iam::ACCOUNT:root`.
fn account_of(name: &str) -> Option<&str> {
    if is_account_id(name) {
        return Some(name);
    }
    let rest = name.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let account = rest.strip_prefix("iam::")?.strip_suffix(":root")?;
    is_account_id(account).then_some(account)
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `*`, an account id, or an IAM / STS principal ARN of an account.
fn valid_aws_principal(name: &str) -> bool {
    if name == "*" || account_of(name).is_some() {
        return true;
    }
    let mut parts = name.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let kinds: &[&str] = match service {
        "iam" => &["user/", "role/"],
        "sts" => &["assumed-role/", "federated-user/"],
        _ => return false,
    };
    is_account_id(account) && kinds.iter().any(|kind| resource.len() > kind.len() && resource.starts_with(kind))
}

/// A string or an array of strings (AWS allows either almost everywhere).
pub(crate) fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items.iter().map(|item| item.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}
