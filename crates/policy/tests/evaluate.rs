//! The evaluator's case table: policies, one request, the expected decision. Includes AWS's
//! documented evaluation examples (explicit deny over allow, NotAction / NotResource, IfExists,
//! ForAllValues over an empty set, Null, policy variables, cross-account resource policies).

use berth_policy::{Decision, Policy, PolicyKind, PolicyType, Principal, Request, evaluate};

use Decision::{Allow, ExplicitDeny, ImplicitDeny};
use PolicyType::{IdentityBased as Id, ResourceBased as Res};

const ACCOUNT: &str = "123456789012";
const OTHER: &str = "210987654321";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const ROLE: &str = "arn:aws:iam::123456789012:role/app";

#[derive(Clone, Copy)]
enum Who {
    /// `bob` in ACCOUNT.
    Bob,
    /// `carol` in OTHER.
    Carol,
    Root,
    /// A session `s1` of role `app` (path `/`) in ACCOUNT.
    Session,
    /// A session `s1` of role `ci/deployer` (path `/ci/`) in OTHER.
    OtherSession,
    Ec2,
}

impl Who {
    fn principal(self) -> Principal {
        match self {
            Who::Bob => Principal::user(ACCOUNT, "/", "bob"),
            Who::Carol => Principal::user(OTHER, "/", "carol"),
            Who::Root => Principal::root(ACCOUNT),
            Who::Session => Principal::assumed_role(ACCOUNT, "/", "app", "s1"),
            Who::OtherSession => Principal::assumed_role(OTHER, "/ci/", "deployer", "s1"),
            Who::Ec2 => Principal::service("ec2.amazonaws.com"),
        }
    }
}

struct Case {
    name: &'static str,
    who: Who,
    action: &'static str,
    resource: &'static str,
    /// Statements of identity-based policies, one policy per entry (a JSON array or object).
    identity: &'static [&'static str],
    /// Statements of the resource's policy (kind Resource) or a role's trust policy (Trust).
    resource_policy: Option<(PolicyKind, &'static str)>,
    keys: &'static [(&'static str, &'static [&'static str])],
    expect: Decision,
}

const ALLOW_ECS: &str = r#"{"Effect":"Allow","Action":"ecs:*","Resource":"*"}"#;

fn document(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#)
}

fn run(case: &Case) -> Result<(), String> {
    let parse = |statements: &str, kind| {
        Policy::parse(&document(statements), kind).map_err(|e| format!("{}: policy refused: {e}", case.name))
    };
    let identity = case.identity.iter().map(|s| parse(s, PolicyKind::Identity)).collect::<Result<Vec<_>, _>>()?;
    let resource = case.resource_policy.map(|(kind, s)| parse(s, kind)).transpose()?;
    let mut request = Request::new(case.who.principal(), case.action, case.resource);
    for (key, values) in case.keys {
        request = request.with_values(key, values.iter().map(|v| v.to_string()).collect());
    }
    let identity: Vec<&Policy> = identity.iter().collect();
    let got = evaluate(&request, &identity, resource.as_ref());
    if got == case.expect { Ok(()) } else { Err(format!("{}: expected {:?}, got {got:?}", case.name, case.expect)) }
}

#[test]
fn evaluation_cases() {
    let failures: Vec<String> = CASES.iter().filter_map(|case| run(case).err()).collect();
    assert!(CASES.len() >= 100, "the table has {} cases", CASES.len());
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

macro_rules! case {
    ($name:expr, $who:ident, $action:expr, $resource:expr, [$($identity:expr),* $(,)?], keys [$(($key:expr, [$($value:expr),*])),* $(,)?], $expect:expr) => {
        case!($name, $who, $action, $resource, [$($identity),*], None, [$(($key, [$($value),*])),*], $expect)
    };
    ($name:expr, $who:ident, $action:expr, $resource:expr, [$($identity:expr),* $(,)?], $expect:expr) => {
        case!($name, $who, $action, $resource, [$($identity),*], None, [], $expect)
    };
    ($name:expr, $who:ident, $action:expr, $resource:expr, [$($identity:expr),* $(,)?], $policy:expr, [$(($key:expr, [$($value:expr),*])),* $(,)?], $expect:expr) => {
        Case {
            name: $name,
            who: Who::$who,
            action: $action,
            resource: $resource,
            identity: &[$($identity),*],
            resource_policy: $policy,
            keys: &[$(($key, &[$($value),*])),*],
            expect: $expect,
        }
    };
}

/// An Allow of `ecs:*` on `*` under one condition operator: `when!("StringEquals", r#""aws:username":"bob""#)`.
macro_rules! when {
    ($operator:literal, $body:literal) => {
        concat!(
            r#"{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{""#,
            $operator,
            r#"":{"#,
            $body,
            "}}}"
        )
    };
}

const CASES: &[Case] = &[
    // --- Allow, implicit deny, explicit deny ---
    case!("no policies: implicit deny", Bob, "ecs:CreateCluster", "*", [], ImplicitDeny(Id)),
    case!("ecs:* allows CreateCluster", Bob, "ecs:CreateCluster", "*", [ALLOW_ECS], Allow),
    case!(
        "* allows anything",
        Bob,
        "iam:CreateUser",
        "*",
        [r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#],
        Allow
    ),
    case!("ecs:* does not allow iam", Bob, "iam:CreateUser", "*", [ALLOW_ECS], ImplicitDeny(Id)),
    case!(
        "explicit deny in the same policy wins",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [
            r#"[{"Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]"#
        ],
        ExplicitDeny(Id)
    ),
    case!(
        "explicit deny in another policy wins",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [ALLOW_ECS, r#"{"Effect":"Deny","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/prod"}"#],
        ExplicitDeny(Id)
    ),
    case!(
        "deny on one cluster leaves others allowed",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/dev",
        [ALLOW_ECS, r#"{"Effect":"Deny","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/prod"}"#],
        Allow
    ),
    case!(
        "deny alone is still a deny",
        Bob,
        "ecs:ListClusters",
        "*",
        [r#"{"Effect":"Deny","Action":"ecs:*","Resource":"*"}"#],
        ExplicitDeny(Id)
    ),
    case!(
        "deny of another action does not allow",
        Bob,
        "ecs:ListClusters",
        "*",
        [r#"{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    // --- Action matching ---
    case!(
        "Describe* allows DescribeClusters",
        Bob,
        "ecs:DescribeClusters",
        "*",
        [r#"{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}"#],
        Allow
    ),
    case!(
        "Describe* does not allow CreateCluster",
        Bob,
        "ecs:CreateCluster",
        "*",
        [r#"{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "actions are case-insensitive (policy)",
        Bob,
        "ecs:CreateCluster",
        "*",
        [r#"{"Effect":"Allow","Action":"ECS:createcluster","Resource":"*"}"#],
        Allow
    ),
    case!(
        "actions are case-insensitive (request)",
        Bob,
        "ECS:CREATECLUSTER",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:CreateCluster","Resource":"*"}"#],
        Allow
    ),
    case!(
        "? matches one character",
        Bob,
        "ecs:ListTasks",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:List?asks","Resource":"*"}"#],
        Allow
    ),
    case!(
        "? matches exactly one",
        Bob,
        "ecs:ListTTasks",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:List?asks","Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "*Cluster* in the middle",
        Bob,
        "ecs:DescribeClusters",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:*Cluster*","Resource":"*"}"#],
        Allow
    ),
    case!(
        "vendor must match",
        Bob,
        "ecr:CreateRepository",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:Create*","Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "exact action does not match a longer one",
        Bob,
        "ecs:CreateClusterX",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:CreateCluster","Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    // --- NotAction (AWS example: everything but IAM) ---
    case!(
        "Allow NotAction iam:* allows ecs",
        Bob,
        "ecs:CreateService",
        "*",
        [r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#],
        Allow
    ),
    case!(
        "Allow NotAction iam:* does not allow iam",
        Bob,
        "iam:CreateUser",
        "*",
        [r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "Deny NotAction list denies what is not listed",
        Bob,
        "ecs:DeleteCluster",
        "*",
        [ALLOW_ECS, r#"{"Effect":"Deny","NotAction":["ecs:Describe*","ecs:List*"],"Resource":"*"}"#],
        ExplicitDeny(Id)
    ),
    case!(
        "Deny NotAction list spares what is listed",
        Bob,
        "ecs:ListClusters",
        "*",
        [ALLOW_ECS, r#"{"Effect":"Deny","NotAction":["ecs:Describe*","ecs:List*"],"Resource":"*"}"#],
        Allow
    ),
    // --- Resource matching ---
    case!(
        "exact resource ARN",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}"#],
        Allow
    ),
    case!(
        "resources are case-sensitive",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/Prod"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "* in the region and account",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/*"}"#],
        Allow
    ),
    case!(
        "* crosses : and / in IAM resources",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*"}"#],
        Allow
    ),
    case!(
        "cluster/* does not match a service ARN",
        Bob,
        "ecs:UpdateService",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/*"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "service/prod/* matches the cluster's services",
        Bob,
        "ecs:UpdateService",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:service/prod/*"}"#],
        Allow
    ),
    case!(
        "? in a resource",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod1",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/prod?"}"#],
        Allow
    ),
    case!(
        "a resource ARN does not match *-less prefix",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/production",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "one of several resources",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [
            r#"{"Effect":"Allow","Action":"ecs:*","Resource":["arn:aws:ecs:*:*:cluster/dev","arn:aws:ecs:*:*:cluster/prod"]}"#
        ],
        Allow
    ),
    case!(
        "Resource * for an action without resources",
        Bob,
        "ecs:ListClusters",
        "*",
        [r#"{"Effect":"Allow","Action":"ecs:ListClusters","Resource":"arn:aws:ecs:*:*:cluster/*"}"#],
        ImplicitDeny(Id)
    ),
    // --- NotResource ---
    case!(
        "Allow NotResource allows other resources",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/dev",
        [r#"{"Effect":"Allow","Action":"ecs:*","NotResource":"arn:aws:ecs:*:*:cluster/prod"}"#],
        Allow
    ),
    case!(
        "Allow NotResource does not allow the named one",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [r#"{"Effect":"Allow","Action":"ecs:*","NotResource":"arn:aws:ecs:*:*:cluster/prod"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "Deny NotResource protects all but the named one",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/dev",
        [ALLOW_ECS, r#"{"Effect":"Deny","Action":"ecs:*","NotResource":["arn:aws:ecs:*:*:cluster/prod"]}"#],
        ExplicitDeny(Id)
    ),
    case!(
        "Deny NotResource spares the named one",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [ALLOW_ECS, r#"{"Effect":"Deny","Action":"ecs:*","NotResource":["arn:aws:ecs:*:*:cluster/prod"]}"#],
        Allow
    ),
    // --- Policy variables ---
    case!(
        "${aws:username} in a resource (own user)",
        Bob,
        "iam:CreateAccessKey",
        "arn:aws:iam::123456789012:user/bob",
        [r#"{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"}"#],
        Allow
    ),
    case!(
        "${aws:username} in a resource (another user)",
        Bob,
        "iam:CreateAccessKey",
        "arn:aws:iam::123456789012:user/alice",
        [r#"{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "${aws:username} absent for a role session: matches nothing",
        Session,
        "iam:CreateAccessKey",
        "arn:aws:iam::123456789012:user/app",
        [r#"{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "a variable with a default",
        Session,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/shared",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/${aws:username, 'shared'}"}"#],
        Allow
    ),
    case!(
        "a variable's value is literal, not a wildcard",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/team-x",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/${aws:PrincipalTag/team}"}"#],
        keys[("aws:PrincipalTag/team", ["team-*"])],
        ImplicitDeny(Id)
    ),
    case!(
        "${aws:PrincipalTag/team} in a resource",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/blue-1",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/${aws:PrincipalTag/team}-*"}"#],
        keys[("aws:PrincipalTag/team", ["blue"])],
        Allow
    ),
    case!(
        "${*} is a literal star",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/${*}"}"#],
        ImplicitDeny(Id)
    ),
    case!(
        "${*} matches a star",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/*",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/${*}"}"#],
        Allow
    ),
    case!(
        "${?} and ${$} are literals",
        Bob,
        "ecs:DeleteCluster",
        "arn:aws:ecs:us-east-1:123456789012:cluster/a?$",
        [r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/a${?}${$}"}"#],
        Allow
    ),
    case!(
        "variable keys are case-insensitive",
        Bob,
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/bob",
        [r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${AWS:UserName}"}"#],
        Allow
    ),
    case!(
        "variable in a condition value",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:PrincipalTag/owner":"${aws:username}""#)],
        keys[("aws:PrincipalTag/owner", ["bob"])],
        Allow
    ),
    // --- String conditions ---
    case!(
        "StringEquals matches",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/prod""#)],
        keys[("ecs:cluster", ["arn:aws:ecs:us-east-1:123456789012:cluster/prod"])],
        Allow
    ),
    case!(
        "StringEquals is case-sensitive",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":"US-EAST-1""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringEquals: any of several values",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":["eu-west-1","us-east-1"]"#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        Allow
    ),
    case!(
        "StringEquals: key absent fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":"us-east-1""#)],
        ImplicitDeny(Id)
    ),
    case!(
        "StringEquals: * is literal",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":"us-*""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "condition keys are case-insensitive",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""AWS:REQUESTEDREGION":"us-east-1""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        Allow
    ),
    case!(
        "StringNotEquals: other value holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotEquals", r#""aws:RequestedRegion":"eu-west-1""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        Allow
    ),
    case!(
        "StringNotEquals: same value fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotEquals", r#""aws:RequestedRegion":"us-east-1""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringNotEquals: key absent holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotEquals", r#""aws:RequestedRegion":"us-east-1""#)],
        Allow
    ),
    case!(
        "StringEqualsIgnoreCase",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEqualsIgnoreCase", r#""aws:PrincipalTag/team":"BLUE""#)],
        keys[("aws:PrincipalTag/team", ["Blue"])],
        Allow
    ),
    case!(
        "StringNotEqualsIgnoreCase fails on a case variant",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotEqualsIgnoreCase", r#""aws:PrincipalTag/team":"BLUE""#)],
        keys[("aws:PrincipalTag/team", ["blue"])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringLike with *",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringLike", r#""ecs:cluster":"arn:aws:ecs:*:*:cluster/prod*""#)],
        keys[("ecs:cluster", ["arn:aws:ecs:us-east-1:123456789012:cluster/prod-2"])],
        Allow
    ),
    case!(
        "StringLike with ?",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringLike", r#""aws:RequestedRegion":"us-????-1""#)],
        keys[("aws:RequestedRegion", ["us-west-1"])],
        Allow
    ),
    case!(
        "StringLike is case-sensitive",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringLike", r#""aws:RequestedRegion":"US-*""#)],
        keys[("aws:RequestedRegion", ["us-west-1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringNotLike: matching value fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotLike", r#""ecs:task-definition":"arn:aws:ecs:*:*:task-definition/admin*""#)],
        keys[("ecs:task-definition", ["arn:aws:ecs:us-east-1:123456789012:task-definition/admin-tools:3"])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringNotLike: key absent holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringNotLike", r#""ecs:task-definition":"arn:aws:ecs:*:*:task-definition/admin*""#)],
        Allow
    ),
    case!(
        "aws:username from the principal",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:username":"bob""#)],
        Allow
    ),
    case!(
        "aws:PrincipalArn of a session is its role's",
        Session,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:PrincipalArn":"arn:aws:iam::123456789012:role/app""#)],
        Allow
    ),
    case!(
        "aws:PrincipalAccount from the principal",
        Carol,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:PrincipalAccount":"210987654321""#)],
        Allow
    ),
    // --- Multiple keys and operators: AND ---
    case!(
        "two keys, both hold",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":"us-east-1","aws:username":"bob""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        Allow
    ),
    case!(
        "two keys, one fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEquals", r#""aws:RequestedRegion":"us-east-1","aws:username":"alice""#)],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "two operators, one fails",
        Bob,
        "ecs:RunTask",
        "*",
        [
            r#"{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"},"Bool":{"aws:SecureTransport":"true"}}}"#
        ],
        keys[("aws:SecureTransport", ["false"])],
        ImplicitDeny(Id)
    ),
    case!(
        "a condition on a Deny: deny only when it holds",
        Bob,
        "ecs:RunTask",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}"#
        ],
        keys[("aws:RequestedRegion", ["us-east-1"])],
        Allow
    ),
    case!(
        "region lock denies other regions",
        Bob,
        "ecs:RunTask",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}"#
        ],
        keys[("aws:RequestedRegion", ["eu-west-1"])],
        ExplicitDeny(Id)
    ),
    // --- IfExists ---
    case!(
        "StringEqualsIfExists: absent key holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEqualsIfExists", r#""ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/dev""#)],
        Allow
    ),
    case!(
        "StringEqualsIfExists: present key must match",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringEqualsIfExists", r#""ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/dev""#)],
        keys[("ecs:cluster", [CLUSTER])],
        ImplicitDeny(Id)
    ),
    case!(
        "StringLikeIfExists: present key matches",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("StringLikeIfExists", r#""ecs:cluster":"*/prod""#)],
        keys[("ecs:cluster", [CLUSTER])],
        Allow
    ),
    case!(
        "NumericLessThanIfExists: absent key holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericLessThanIfExists", r#""ecs:count":"5""#)],
        Allow
    ),
    // --- Null ---
    case!(
        "Null true: the key is absent",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("Null", r#""aws:RequestTag/env":"true""#)],
        Allow
    ),
    case!(
        "Null true: the key is present",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("Null", r#""aws:RequestTag/env":"true""#)],
        keys[("aws:RequestTag/env", ["prod"])],
        ImplicitDeny(Id)
    ),
    case!(
        "Null false: the key is present",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("Null", r#""aws:RequestTag/env":false"#)],
        keys[("aws:RequestTag/env", ["prod"])],
        Allow
    ),
    case!(
        "Null false: an empty value list is absent",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("Null", r#""aws:TagKeys":"false""#)],
        keys[("aws:TagKeys", [])],
        ImplicitDeny(Id)
    ),
    case!(
        "Deny unless the request is tagged (Null true on a Deny)",
        Bob,
        "ecs:CreateCluster",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"ecs:CreateCluster","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}"#
        ],
        ExplicitDeny(Id)
    ),
    // --- ForAnyValue / ForAllValues ---
    case!(
        "ForAllValues: every tag key allowed",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringEquals", r#""aws:TagKeys":["env","team"]"#)],
        keys[("aws:TagKeys", ["env", "team"])],
        Allow
    ),
    case!(
        "ForAllValues: one tag key not allowed",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringEquals", r#""aws:TagKeys":["env","team"]"#)],
        keys[("aws:TagKeys", ["env", "cost"])],
        ImplicitDeny(Id)
    ),
    case!(
        "ForAllValues with an empty set holds (AWS's warning)",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringEquals", r#""aws:TagKeys":["env","team"]"#)],
        keys[("aws:TagKeys", [])],
        Allow
    ),
    case!(
        "ForAllValues with the key absent holds",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringEquals", r#""aws:TagKeys":["env"]"#)],
        Allow
    ),
    case!(
        "ForAllValues plus Null false closes the empty-set hole",
        Bob,
        "ecs:TagResource",
        "*",
        [
            r#"{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]},"Null":{"aws:TagKeys":"false"}}}"#
        ],
        ImplicitDeny(Id)
    ),
    case!(
        "ForAnyValue: one value matches",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAnyValue:StringEquals", r#""aws:TagKeys":["env"]"#)],
        keys[("aws:TagKeys", ["cost", "env"])],
        Allow
    ),
    case!(
        "ForAnyValue: none matches",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAnyValue:StringEquals", r#""aws:TagKeys":["env"]"#)],
        keys[("aws:TagKeys", ["cost", "team"])],
        ImplicitDeny(Id)
    ),
    case!(
        "ForAnyValue with the key absent fails",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAnyValue:StringEquals", r#""aws:TagKeys":["env"]"#)],
        ImplicitDeny(Id)
    ),
    case!(
        "ForAnyValue:StringLike",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAnyValue:StringLike", r#""aws:TagKeys":["team*"]"#)],
        keys[("aws:TagKeys", ["cost", "team-name"])],
        Allow
    ),
    case!(
        "ForAllValues:StringNotEquals: no forbidden key",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringNotEquals", r#""aws:TagKeys":["owner"]"#)],
        keys[("aws:TagKeys", ["env", "team"])],
        Allow
    ),
    case!(
        "ForAllValues:StringNotEquals: a forbidden key",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAllValues:StringNotEquals", r#""aws:TagKeys":["owner"]"#)],
        keys[("aws:TagKeys", ["env", "owner"])],
        ImplicitDeny(Id)
    ),
    case!(
        "ForAnyValue:StringNotEquals: some key is not the named one",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("ForAnyValue:StringNotEquals", r#""aws:TagKeys":["owner"]"#)],
        keys[("aws:TagKeys", ["owner", "env"])],
        Allow
    ),
    case!(
        "plain StringEquals over a multi-valued key: any value",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("StringEquals", r#""aws:TagKeys":"env""#)],
        keys[("aws:TagKeys", ["cost", "env"])],
        Allow
    ),
    case!(
        "plain StringNotEquals over a multi-valued key: none may match",
        Bob,
        "ecs:TagResource",
        "*",
        [when!("StringNotEquals", r#""aws:TagKeys":"env""#)],
        keys[("aws:TagKeys", ["cost", "env"])],
        ImplicitDeny(Id)
    ),
    case!(
        "aws:RequestTag condition honoured",
        Bob,
        "ecs:CreateCluster",
        "*",
        [when!("StringEquals", r#""aws:RequestTag/env":"dev""#)],
        keys[("aws:RequestTag/env", ["dev"])],
        Allow
    ),
    case!(
        "aws:ResourceTag condition, other value",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [when!("StringEquals", r#""aws:ResourceTag/env":"dev""#)],
        keys[("aws:ResourceTag/env", ["prod"])],
        ImplicitDeny(Id)
    ),
    case!(
        "aws:ResourceTag equal to aws:PrincipalTag (ABAC)",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [when!("StringEquals", r#""aws:ResourceTag/team":"${aws:PrincipalTag/team}""#)],
        keys[("aws:ResourceTag/team", ["blue"]), ("aws:PrincipalTag/team", ["blue"])],
        Allow
    ),
    case!(
        "ABAC with the principal tag missing fails",
        Bob,
        "ecs:DeleteCluster",
        CLUSTER,
        [when!("StringEquals", r#""aws:ResourceTag/team":"${aws:PrincipalTag/team}""#)],
        keys[("aws:ResourceTag/team", ["blue"])],
        ImplicitDeny(Id)
    ),
    // --- Numeric ---
    case!(
        "NumericEquals",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericEquals", r#""ecs:count":"3""#)],
        keys[("ecs:count", ["3.0"])],
        Allow
    ),
    case!(
        "NumericNotEquals fails on the same number",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericNotEquals", r#""ecs:count":3"#)],
        keys[("ecs:count", ["3"])],
        ImplicitDeny(Id)
    ),
    case!(
        "NumericLessThan holds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericLessThan", r#""ecs:count":10"#)],
        keys[("ecs:count", ["9"])],
        Allow
    ),
    case!(
        "NumericLessThan fails on equal",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericLessThan", r#""ecs:count":10"#)],
        keys[("ecs:count", ["10"])],
        ImplicitDeny(Id)
    ),
    case!(
        "NumericLessThanEquals holds on equal",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericLessThanEquals", r#""ecs:count":10"#)],
        keys[("ecs:count", ["10"])],
        Allow
    ),
    case!(
        "NumericGreaterThan",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericGreaterThan", r#""aws:MultiFactorAuthAge":"3600""#)],
        keys[("aws:MultiFactorAuthAge", ["7200"])],
        Allow
    ),
    case!(
        "NumericGreaterThanEquals fails below",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericGreaterThanEquals", r#""ecs:count":"2""#)],
        keys[("ecs:count", ["1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "Numeric with a non-number request value fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("NumericEquals", r#""ecs:count":"3""#)],
        keys[("ecs:count", ["three"])],
        ImplicitDeny(Id)
    ),
    // --- Date ---
    case!(
        "DateLessThan holds before",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateLessThan", r#""aws:CurrentTime":"2027-01-01T00:00:00Z""#)],
        keys[("aws:CurrentTime", ["2026-12-03T14:00:00Z"])],
        Allow
    ),
    case!(
        "DateLessThan fails after",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateLessThan", r#""aws:CurrentTime":"2026-01-01""#)],
        keys[("aws:CurrentTime", ["2026-12-03T14:00:00Z"])],
        ImplicitDeny(Id)
    ),
    case!(
        "DateGreaterThan with an offset",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateGreaterThan", r#""aws:CurrentTime":"2026-12-03T15:30:00+02:00""#)],
        keys[("aws:CurrentTime", ["2026-12-03T14:00:00Z"])],
        Allow
    ),
    case!(
        "DateEquals across forms (epoch seconds)",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateEquals", r#""aws:CurrentTime":"1970-01-02T00:00:00Z""#)],
        keys[("aws:CurrentTime", ["86400"])],
        Allow
    ),
    case!(
        "DateNotEquals fails on the same instant",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateNotEquals", r#""aws:CurrentTime":"2000-03-01T00:00:00Z""#)],
        keys[("aws:CurrentTime", ["2000-02-29T23:00:00-01:00"])],
        ImplicitDeny(Id)
    ),
    case!(
        "DateLessThanEquals on aws:EpochTime",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateLessThanEquals", r#""aws:EpochTime":1800000000"#)],
        keys[("aws:EpochTime", ["1800000000"])],
        Allow
    ),
    case!(
        "DateGreaterThanEquals with fractional seconds",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateGreaterThanEquals", r#""aws:CurrentTime":"2026-12-03T14:00:00.500Z""#)],
        keys[("aws:CurrentTime", ["2026-12-03T14:00:00.250Z"])],
        ImplicitDeny(Id)
    ),
    case!(
        "Date with an unparsable request value fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("DateLessThan", r#""aws:CurrentTime":"2027-01-01""#)],
        keys[("aws:CurrentTime", ["yesterday"])],
        ImplicitDeny(Id)
    ),
    // --- Bool, Binary ---
    case!(
        "Bool true",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("Bool", r#""aws:SecureTransport":"true""#)],
        keys[("aws:SecureTransport", ["true"])],
        Allow
    ),
    case!(
        "Bool as a JSON boolean, case-insensitive",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("Bool", r#""aws:SecureTransport":false"#)],
        keys[("aws:SecureTransport", ["False"])],
        Allow
    ),
    case!(
        "Deny over plain HTTP",
        Bob,
        "ecs:RunTask",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#
        ],
        keys[("aws:SecureTransport", ["false"])],
        ExplicitDeny(Id)
    ),
    case!(
        "BinaryEquals",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("BinaryEquals", r#""ecs:blob":"QmluYXJ5VmFsdWU=""#)],
        keys[("ecs:blob", ["QmluYXJ5VmFsdWU="])],
        Allow
    ),
    // --- IP addresses ---
    case!(
        "IpAddress in a /8",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"10.0.0.0/8""#)],
        keys[("aws:SourceIp", ["10.20.30.40"])],
        Allow
    ),
    case!(
        "IpAddress outside a /24",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"192.0.2.0/24""#)],
        keys[("aws:SourceIp", ["192.0.3.1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "IpAddress a single address",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":["203.0.113.9"]"#)],
        keys[("aws:SourceIp", ["203.0.113.9"])],
        Allow
    ),
    case!(
        "IpAddress /32 boundary",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"203.0.113.9/32""#)],
        keys[("aws:SourceIp", ["203.0.113.10"])],
        ImplicitDeny(Id)
    ),
    case!(
        "IpAddress IPv6",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"2001:db8::/32""#)],
        keys[("aws:SourceIp", ["2001:db8:1234::1"])],
        Allow
    ),
    case!(
        "IpAddress: v4 never in a v6 range",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"::/0""#)],
        keys[("aws:SourceIp", ["127.0.0.1"])],
        ImplicitDeny(Id)
    ),
    case!(
        "IpAddress 0.0.0.0/0 matches every v4",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("IpAddress", r#""aws:SourceIp":"0.0.0.0/0""#)],
        keys[("aws:SourceIp", ["198.51.100.7"])],
        Allow
    ),
    case!(
        "NotIpAddress: Deny from outside the office",
        Bob,
        "ecs:RunTask",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}"#
        ],
        keys[("aws:SourceIp", ["198.51.100.7"])],
        ExplicitDeny(Id)
    ),
    case!(
        "NotIpAddress: inside the office",
        Bob,
        "ecs:RunTask",
        "*",
        [
            ALLOW_ECS,
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}"#
        ],
        keys[("aws:SourceIp", ["203.0.113.50"])],
        Allow
    ),
    // --- ARN operators ---
    case!(
        "ArnLike per part",
        Session,
        "ecs:RunTask",
        "*",
        [when!("ArnLike", r#""aws:PrincipalArn":"arn:aws:iam::*:role/app""#)],
        Allow
    ),
    case!(
        "ArnLike: * stays inside its part",
        Session,
        "ecs:RunTask",
        "*",
        [when!("ArnLike", r#""aws:PrincipalArn":"arn:aws:*:role/app""#)],
        ImplicitDeny(Id)
    ),
    case!(
        "ArnEquals behaves as ArnLike",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("ArnEquals", r#""ecs:cluster":"arn:aws:ecs:us-east-1:*:cluster/prod""#)],
        keys[("ecs:cluster", [CLUSTER])],
        Allow
    ),
    case!(
        "ArnNotLike fails on a match",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("ArnNotLike", r#""ecs:cluster":"arn:aws:ecs:*:*:cluster/prod""#)],
        keys[("ecs:cluster", [CLUSTER])],
        ImplicitDeny(Id)
    ),
    case!(
        "ArnNotEquals holds on another ARN",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("ArnNotEquals", r#""ecs:cluster":"arn:aws:ecs:*:*:cluster/dev""#)],
        keys[("ecs:cluster", [CLUSTER])],
        Allow
    ),
    case!(
        "ArnLike: not an ARN fails",
        Bob,
        "ecs:RunTask",
        "*",
        [when!("ArnLike", r#""ecs:cluster":"arn:aws:ecs:*:*:cluster/*""#)],
        keys[("ecs:cluster", ["prod"])],
        ImplicitDeny(Id)
    ),
    // --- Resource-based policies in one account ---
    case!(
        "resource policy naming the user suffices in its account",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"ecr:BatchGetImage"}"#
        )),
        [],
        Allow
    ),
    case!(
        "resource policy naming only the account needs an identity Allow",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((PolicyKind::Resource, r#"{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:*"}"#)),
        [],
        ImplicitDeny(Id)
    ),
    case!(
        "resource policy naming the account plus an identity Allow",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}"#
        )),
        [],
        Allow
    ),
    case!(
        "identity Allow suffices in the account whatever the resource policy",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"ecr:*"}"#
        )),
        [],
        Allow
    ),
    case!(
        "resource policy Deny wins over identity Allow",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((PolicyKind::Resource, r#"{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}"#)),
        [],
        ExplicitDeny(Res)
    ),
    case!(
        "resource policy Principal * allows in the account",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((PolicyKind::Resource, r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#)),
        [],
        Allow
    ),
    case!(
        "resource policy for another action does not allow",
        Bob,
        "ecr:PutImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((PolicyKind::Resource, r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#)),
        [],
        ImplicitDeny(Id)
    ),
    case!(
        "resource policy Deny for someone else does not apply",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"ecr:*"}"#
        )),
        [],
        Allow
    ),
    case!(
        "resource policy NotPrincipal Deny denies everyone else",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"ecr:*"}"#
        )),
        [],
        ExplicitDeny(Res)
    ),
    case!(
        "resource policy with a Resource element that does not match",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/api"}"#
        )),
        [],
        ImplicitDeny(Id)
    ),
    case!(
        "resource policy with a condition",
        Bob,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}"#
        )),
        [],
        Allow
    ),
    // --- Across accounts ---
    case!(
        "cross-account: resource policy alone is not enough",
        Carol,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:user/carol"},"Action":"ecr:*"}"#
        )),
        [],
        ImplicitDeny(Id)
    ),
    case!(
        "cross-account: identity Allow alone is not enough",
        Carol,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"ecr:*"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "cross-account: both sides allow",
        Carol,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#],
        Some((PolicyKind::Resource, r#"{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"ecr:*"}"#)),
        [],
        Allow
    ),
    case!(
        "cross-account: the other account's identity Deny wins",
        Carol,
        "ecr:BatchGetImage",
        "arn:aws:ecr:us-east-1:123456789012:repository/web",
        [
            r#"[{"Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}]"#
        ],
        Some((PolicyKind::Resource, r#"{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"ecr:*"}"#)),
        [],
        ExplicitDeny(Id)
    ),
    // --- Trust policies (sts:AssumeRole on the role) ---
    case!(
        "trust naming the user: AssumeRole allowed in the account",
        Bob,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        Allow
    ),
    case!(
        "trust naming someone else: an identity Allow is not enough",
        Bob,
        "sts:AssumeRole",
        ROLE,
        [r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "trust naming the account: the user needs sts:AssumeRole",
        Bob,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        ImplicitDeny(Id)
    ),
    case!(
        "trust naming the account: the root user may",
        Root,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((PolicyKind::Trust, r#"{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}"#)),
        [],
        Allow
    ),
    case!(
        "trust naming a service: the service may",
        Ec2,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        Allow
    ),
    case!(
        "trust naming another service",
        Ec2,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "trust naming a service does not admit users",
        Bob,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "trust naming a role admits its sessions",
        Session,
        "sts:AssumeRole",
        "arn:aws:iam::123456789012:role/other",
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        Allow
    ),
    case!(
        "trust naming the session ARN",
        Session,
        "sts:AssumeRole",
        "arn:aws:iam::123456789012:role/other",
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/app/s1"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        Allow
    ),
    case!(
        "trust naming a role with a path admits its cross-account sessions with identity Allow",
        OtherSession,
        "sts:AssumeRole",
        ROLE,
        [r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/app"}"#],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:role/ci/deployer"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        Allow
    ),
    case!(
        "trust naming the role without its path",
        OtherSession,
        "sts:AssumeRole",
        ROLE,
        [r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:role/deployer"},"Action":"sts:AssumeRole"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "trust with Principal * and an account condition",
        Carol,
        "sts:AssumeRole",
        ROLE,
        [r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
    case!(
        "trust policy in 2008-10-17 (seed 000)",
        Ec2,
        "sts:AssumeRole",
        "arn:aws:iam::123456789012:role/ecsInstanceRole",
        [],
        Some((
            PolicyKind::Trust,
            r#"[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]"#
        )),
        [],
        Allow
    ),
    case!(
        "trust with an sts:TagSession-only statement does not allow AssumeRole",
        Bob,
        "sts:AssumeRole",
        ROLE,
        [],
        Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:TagSession"}"#
        )),
        [],
        ImplicitDeny(Res)
    ),
];

#[test]
fn variables_are_plain_text_in_2008_documents() {
    let policy = Policy::parse(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}}"#,
        PolicyKind::Identity,
    );
    let policy = policy.expect("a valid 2008-10-17 document");
    let own = Request::new(Who::Bob.principal(), "iam:GetUser", "arn:aws:iam::123456789012:user/bob");
    assert_eq!(evaluate(&own, &[&policy], None), ImplicitDeny(Id));
    let literal = Request::new(Who::Bob.principal(), "iam:GetUser", "arn:aws:iam::123456789012:user/${aws:username}");
    assert_eq!(evaluate(&literal, &[&policy], None), Allow);
}

#[test]
fn denial_messages_are_aws_forms() {
    let request = Request::new(Who::Bob.principal(), "ecs:CreateService", CLUSTER);
    let cases = [
        (
            ImplicitDeny(Id),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateService on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod because no identity-based policy allows the \
             ecs:CreateService action",
        ),
        (
            ImplicitDeny(Res),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateService on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod because no resource-based policy allows the \
             ecs:CreateService action",
        ),
        (
            ExplicitDeny(Id),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateService on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod with an explicit deny in an identity-based policy",
        ),
        (
            ExplicitDeny(Res),
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateService on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod with an explicit deny in a resource-based policy",
        ),
    ];
    for (decision, message) in cases {
        assert!(!decision.is_allowed());
        assert_eq!(decision.denial_message(&request).as_deref(), Some(message));
    }
    assert!(Allow.is_allowed());
    assert_eq!(Allow.denial_message(&request), None);
    let session = Request::new(Who::Session.principal(), "ecs:ListClusters", "*");
    let message = ImplicitDeny(Id).denial_message(&session).unwrap_or_default();
    assert!(message.starts_with("User: arn:aws:sts::123456789012:assumed-role/app/s1 is not authorized"), "{message}");
}

/// AWS's managed AmazonECSTaskExecutionRolePolicy, attached to a task execution role.
const TASK_EXECUTION_ROLE_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                   "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*"
    }]
}"#;

#[test]
fn an_execution_role_can_pull_and_log_and_nothing_else() {
    let policy = Policy::parse(TASK_EXECUTION_ROLE_POLICY, PolicyKind::Identity).expect("AWS's own document");
    let role = || Principal::assumed_role(ACCOUNT, "/", "ecsTaskExecutionRole", "task-1");
    for action in ["ecr:BatchGetImage", "ecr:GetAuthorizationToken", "logs:PutLogEvents"] {
        let request = Request::new(role(), action, "arn:aws:ecr:us-east-1:123456789012:repository/web");
        assert_eq!(evaluate(&request, &[&policy], None), Allow, "{action}");
    }
    let request = Request::new(role(), "ecr:PutImage", "arn:aws:ecr:us-east-1:123456789012:repository/web");
    let decision = evaluate(&request, &[&policy], None);
    assert_eq!(
        decision.denial_message(&request).as_deref(),
        Some(
            "User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/task-1 is not authorized to perform: \
             ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/web because no identity-based \
             policy allows the ecr:PutImage action"
        )
    );
}

#[test]
fn principals_carry_their_arns_accounts_and_kinds() {
    use berth_policy::PrincipalKind;
    let cases = [
        (Principal::root(ACCOUNT), "arn:aws:iam::123456789012:root", ACCOUNT, PrincipalKind::Root),
        (
            Principal::user(ACCOUNT, "/dev/", "bob"),
            "arn:aws:iam::123456789012:user/dev/bob",
            ACCOUNT,
            PrincipalKind::User,
        ),
        (
            Principal::assumed_role(OTHER, "/ci/", "deployer", "s1"),
            "arn:aws:sts::210987654321:assumed-role/deployer/s1",
            OTHER,
            PrincipalKind::AssumedRole { role_arn: "arn:aws:iam::210987654321:role/ci/deployer".to_string() },
        ),
        (Principal::service("ecs-tasks.amazonaws.com"), "ecs-tasks.amazonaws.com", "", PrincipalKind::Service),
    ];
    for (principal, arn, account, kind) in cases {
        assert_eq!((principal.arn(), principal.account(), principal.kind()), (arn, account, &kind));
        let request = Request::new(principal.clone(), "ecs:ListClusters", "*");
        assert_eq!((request.principal(), request.action(), request.resource()), (&principal, "ecs:ListClusters", "*"));
    }
    // aws:username is a user's name without its path.
    let policy = Policy::parse(
        &document(r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"}}}"#),
        PolicyKind::Identity,
    )
    .expect("valid");
    let request = Request::new(Principal::user(ACCOUNT, "/dev/", "bob"), "iam:GetUser", "*");
    assert_eq!(evaluate(&request, &[&policy], None), Allow);
}
