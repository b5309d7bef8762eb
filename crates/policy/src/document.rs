//! Policy documents: the JSON grammar IAM accepts, checked the way IAM checks it, with the
//! reason it gives when it refuses one.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::MalformedPolicy;
use crate::condition::{self, Condition};
use crate::pattern::Pattern;
use crate::principal::{PrincipalSet, string_list};

/// Where a document is used, which decides what its statements must and must not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user, group or role (inline or managed): no Principal, Resource required.
    Identity,
    /// A role's AssumeRolePolicyDocument: Principal required, no Resource, only sts:AssumeRole*
    /// actions (and sts:TagSession / sts:SetSourceIdentity / sts:SetContext).
    Trust,
    /// Attached to a resource (an ECR repository policy): Principal required; without a Resource
    /// element a statement applies to the resource it is attached to.
    Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// A list of patterns that a value must match (Action, Resource) or must not (NotAction,
/// NotResource).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Patterns {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrincipalBlock {
    pub(crate) negated: bool,
    pub(crate) set: PrincipalSet,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) effect: Effect,
    /// Lowercased: actions match case-insensitively.
    pub(crate) actions: Patterns,
    /// `None` in trust and resource policies without a Resource element: the statement is
    /// about the resource the policy is attached to.
    pub(crate) resources: Option<Patterns>,
    pub(crate) principal: Option<PrincipalBlock>,
    pub(crate) conditions: Vec<Condition>,
}

/// A parsed, valid policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    pub(crate) statements: Vec<Statement>,
}

const STATEMENT_FIELDS: &[&str] =
    &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

/// The actions a trust policy may grant.
const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

impl Policy {
    /// An identity-based policy without statements: it allows nothing (what a permissions
    /// boundary whose document is gone is taken to be).
    pub fn empty() -> Policy {
        Policy { kind: PolicyKind::Identity, statements: vec![] }
    }

    /// Parses `json` as a document of `kind`, or says why IAM would refuse it.
    ///
    /// Version may be `2012-10-17` or `2008-10-17` (the default when absent, under which
    /// `${...}` is plain text rather than a policy variable). Size limits are not checked here.
    pub fn parse(json: &str, kind: PolicyKind) -> Result<Policy, MalformedPolicy> {
        let Ok(Value::Object(document)) = serde_json::from_str::<Value>(json) else {
            return Err(MalformedPolicy::Syntax);
        };
        for field in document.keys() {
            if !["Version", "Id", "Statement"].contains(&field.as_str()) {
                return Err(MalformedPolicy::UnknownField(field.clone()));
            }
        }
        let variables = match document.get("Version") {
            None => false,
            Some(Value::String(v)) if v == "2008-10-17" => false,
            Some(Value::String(v)) if v == "2012-10-17" => true,
            Some(_) => return Err(MalformedPolicy::LegacyParsing),
        };
        if document.get("Id").is_some_and(|id| !id.is_string()) {
            return Err(MalformedPolicy::Syntax);
        }
        let statements = match document.get("Statement") {
            None => return Err(MalformedPolicy::MissingField("Statement")),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        let mut sids = HashSet::new();
        let statements = statements
            .into_iter()
            .map(|statement| {
                let Value::Object(statement) = statement else {
                    return Err(MalformedPolicy::Syntax);
                };
                if let Some(sid) = sid(statement)?
                    && !sids.insert(sid)
                {
                    return Err(MalformedPolicy::DuplicateSid);
                }
                parse_statement(statement, kind, variables)
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy { kind, statements })
    }
}

fn sid(statement: &Map<String, Value>) -> Result<Option<&str>, MalformedPolicy> {
    match statement.get("Sid") {
        None => Ok(None),
        Some(Value::String(sid)) if sid.bytes().all(|b| b.is_ascii_alphanumeric()) => Ok(Some(sid)),
        Some(Value::String(_)) => Err(MalformedPolicy::InvalidSid),
        Some(_) => Err(MalformedPolicy::Syntax),
    }
}

fn parse_statement(
    statement: &Map<String, Value>,
    kind: PolicyKind,
    variables: bool,
) -> Result<Statement, MalformedPolicy> {
    for field in statement.keys() {
        if !STATEMENT_FIELDS.contains(&field.as_str()) {
            return Err(MalformedPolicy::UnknownField(field.clone()));
        }
    }
    let effect = match statement.get("Effect") {
        None => return Err(MalformedPolicy::MissingField("Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(_) => return Err(MalformedPolicy::LegacyParsing),
    };

    let principal = match pair(statement, "Principal", "NotPrincipal")? {
        None => None,
        Some(_) if kind == PolicyKind::Identity => return Err(MalformedPolicy::PrincipalNotAllowed),
        Some((negated, value)) => Some(PrincipalBlock { negated, set: PrincipalSet::parse(value)? }),
    };
    match (&principal, kind) {
        (None, PolicyKind::Trust) => return Err(MalformedPolicy::NoPrincipals),
        (None, PolicyKind::Resource) => return Err(MalformedPolicy::MissingField("Principal")),
        _ => {}
    }

    let Some((negated, actions)) = pair(statement, "Action", "NotAction")? else {
        return Err(MalformedPolicy::MissingActions);
    };
    let actions = string_list(actions).ok_or(MalformedPolicy::Syntax)?;
    if actions.is_empty() {
        return Err(MalformedPolicy::MissingActions);
    }
    if actions.iter().any(|action| action != "*" && !action.contains(':')) {
        return Err(MalformedPolicy::MissingVendor);
    }
    if kind == PolicyKind::Trust && !actions.iter().all(|a| is_trust_action(a)) {
        return Err(MalformedPolicy::TrustPolicyAction);
    }
    let actions = Patterns { negated, patterns: actions.iter().map(|a| Pattern::compile(a, false, true)).collect() };

    let resources = match pair(statement, "Resource", "NotResource")? {
        Some(_) if kind == PolicyKind::Trust => {
            return Err(MalformedPolicy::ProhibitedField("Resource"));
        }
        None if kind == PolicyKind::Identity => return Err(MalformedPolicy::MissingResources),
        None => None,
        Some((negated, resources)) => {
            let resources = string_list(resources).ok_or(MalformedPolicy::Syntax)?;
            if resources.is_empty() {
                return Err(MalformedPolicy::MissingResources);
            }
            if let Some(bad) = resources.iter().find(|r| *r != "*" && !r.starts_with("arn:")) {
                return Err(MalformedPolicy::ResourceNotArn(bad.clone()));
            }
            Some(Patterns {
                negated,
                patterns: resources.iter().map(|r| Pattern::compile(r, variables, false)).collect(),
            })
        }
    };

    let conditions = match statement.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, variables)?,
    };
    Ok(Statement { effect, actions, resources, principal, conditions })
}

/// The element `positive` or its `Not` form, as (negated, value); both at once is a syntax error.
fn pair<'a>(
    statement: &'a Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, MalformedPolicy> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(_), Some(_)) => Err(MalformedPolicy::Syntax),
        (Some(value), None) => Ok(Some((false, value))),
        (None, Some(value)) => Ok(Some((true, value))),
        (None, None) => Ok(None),
    }
}

/// A trust policy's action: one of TRUST_ACTIONS, or a wildcard that only matches those.
fn is_trust_action(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    let pattern = Pattern::compile(&action, false, true);
    action.starts_with("sts:") && TRUST_ACTIONS.iter().any(|allowed| pattern.matches_plain(allowed))
}
