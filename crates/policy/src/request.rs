//! What is being asked: who, which action, on which resource, and the request's context keys.

use std::collections::HashMap;

/// The kind of principal making a request, as policies tell them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A role session; `role_arn` is the role's own ARN (with its path), which a policy naming
    /// the role matches and which `aws:PrincipalArn` holds.
    AssumedRole { role_arn: String },
    /// An AWS service such as `ec2.amazonaws.com`, matched by `{"Service": ...}` principals.
    Service,
}

/// The authenticated caller. Built through the constructors so that its ARN, account and
/// kind always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    arn: String,
    account: String,
    kind: PrincipalKind,
}

impl Principal {
    /// `arn:aws:iam::ACCOUNT:root`.
    pub fn root(account: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_string(),
            kind: PrincipalKind::Root,
        }
    }

    /// `arn:aws:iam::ACCOUNT:user{path}{name}`; `path` is IAM's (`/` or `/a/b/`).
    pub fn user(account: &str, path: &str, name: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account}:user{path}{name}"),
            account: account.to_string(),
            kind: PrincipalKind::User,
        }
    }

    /// A session of role `path`+`role_name`:
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (the session ARN carries no path).
    pub fn assumed_role(account: &str, path: &str, role_name: &str, session: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session}"),
            account: account.to_string(),
            kind: PrincipalKind::AssumedRole { role_arn: format!("arn:aws:iam::{account}:role{path}{role_name}") },
        }
    }

    /// A service principal such as `ecs-tasks.amazonaws.com`; it belongs to no account.
    pub fn service(name: &str) -> Principal {
        Principal { arn: name.to_string(), account: String::new(), kind: PrincipalKind::Service }
    }

    /// The ARN AWS names in its messages (the service name for a service).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The 12-digit account id (empty for a service).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Which kind of principal this is.
    pub fn kind(&self) -> &PrincipalKind {
        &self.kind
    }

    /// `aws:PrincipalArn`: the role's ARN for a role session, else the caller's own.
    fn principal_arn(&self) -> &str {
        match &self.kind {
            PrincipalKind::AssumedRole { role_arn } => role_arn,
            _ => &self.arn,
        }
    }
}

/// One request to authorize: `action` like `ecs:CreateCluster` on one resource ARN (or `*` for
/// actions without one). A call touching several resources is authorized once per resource.
///
/// Context keys are case-insensitive, each with one value or several (`aws:TagKeys`). The
/// request fills in `aws:PrincipalArn`, `aws:PrincipalAccount` (not for services) and, for
/// users, `aws:username` from the principal; the caller adds the rest (`aws:SourceIp`,
/// `aws:CurrentTime`, `aws:PrincipalTag/...`, `ecs:cluster` ...). An empty list of values is the
/// same as an absent key.
#[derive(Debug, Clone)]
pub struct Request {
    principal: Principal,
    action: String,
    action_folded: String,
    resource: String,
    keys: HashMap<String, Vec<String>>,
}

impl Request {
    /// A request by `principal` for `action` (`service:Operation`) on `resource`, with the
    /// principal's own context keys set.
    pub fn new(principal: Principal, action: &str, resource: &str) -> Request {
        let mut request = Request {
            action: action.to_string(),
            action_folded: action.to_ascii_lowercase(),
            resource: resource.to_string(),
            keys: HashMap::new(),
            principal,
        };
        // A service acts for no account: AWS sets neither key for it.
        if request.principal.kind != PrincipalKind::Service {
            let arn = request.principal.principal_arn().to_string();
            let account = request.principal.account.clone();
            request = request.with("aws:PrincipalArn", arn).with("aws:PrincipalAccount", account);
        }
        if request.principal.kind == PrincipalKind::User {
            let name = request.principal.arn.rsplit('/').next().unwrap_or_default().to_string();
            request = request.with("aws:username", name);
        }
        request
    }

    /// Sets a single-valued context key (replacing any value it had).
    pub fn with(self, key: &str, value: impl Into<String>) -> Request {
        self.with_values(key, vec![value.into()])
    }

    /// Sets a multi-valued context key such as `aws:TagKeys`.
    pub fn with_values(mut self, key: &str, values: Vec<String>) -> Request {
        self.keys.insert(key.to_ascii_lowercase(), values);
        self
    }

    /// Who asks.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The action as given, e.g. `ecs:CreateService`.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource ARN, or `*`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The context keys set (names lowercased) with their values, in name order.
    pub fn keys(&self) -> Vec<(&str, &[String])> {
        let mut keys: Vec<(&str, &[String])> =
            self.keys.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        keys.sort_unstable_by_key(|(k, _)| *k);
        keys
    }

    pub(crate) fn action_folded(&self) -> &str {
        &self.action_folded
    }

    /// The values of a context key given lowercased; `None` when absent or empty.
    pub(crate) fn values(&self, key: &str) -> Option<&[String]> {
        self.keys.get(key).map(Vec::as_slice).filter(|values| !values.is_empty())
    }
}
