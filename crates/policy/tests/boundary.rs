//! Permissions boundaries: identity-based Allows count only where the boundary allows too, a
//! Deny in the boundary is explicit, and a resource-based Allow naming the principal itself is
//! not capped (AWS's "Evaluating effective permissions with boundaries").

use berth_policy::{Decision, Policy, PolicyKind, PolicyType, Principal, Request, evaluate, evaluate_bounded};

use Decision::{Allow, ExplicitDeny, ImplicitDeny};
use PolicyType::{IdentityBased as Id, PermissionsBoundary as Pb, ResourceBased as Res};

const ACCOUNT: &str = "123456789012";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const REPO: &str = "arn:aws:ecr:us-east-1:123456789012:repository/web";
const OTHER_REPO: &str = "arn:aws:ecr:us-east-1:210987654321:repository/web";
const ROLE: &str = "arn:aws:iam::123456789012:role/app";

fn policy(statements: &str, kind: PolicyKind) -> Policy {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#);
    Policy::parse(&doc, kind).unwrap_or_else(|e| panic!("{statements}: {e}"))
}

fn identity(statements: &str) -> Policy {
    policy(statements, PolicyKind::Identity)
}

fn bob() -> Principal {
    Principal::user(ACCOUNT, "/", "bob")
}

struct Case {
    name: &'static str,
    action: &'static str,
    resource: &'static str,
    identity: &'static [&'static str],
    boundary: Option<&'static str>,
    resource_policy: Option<(PolicyKind, &'static str)>,
    expect: Decision,
}

const ALLOW_ALL: &str = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;
const ALLOW_ECS: &str = r#"{"Effect":"Allow","Action":"ecs:*","Resource":"*"}"#;
const DESCRIBE_ONLY: &str = r#"{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}"#;
const ALLOW_ECR: &str = r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#;

const CASES: &[Case] = &[
    Case {
        name: "no boundary: the identity policies alone decide",
        action: "ecs:CreateCluster",
        resource: CLUSTER,
        identity: &[ALLOW_ECS],
        boundary: None,
        resource_policy: None,
        expect: Allow,
    },
    Case {
        name: "both allow: allowed",
        action: "ecs:DescribeClusters",
        resource: CLUSTER,
        identity: &[ALLOW_ECS],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: None,
        expect: Allow,
    },
    Case {
        name: "identity allows, the boundary does not: the boundary's implicit deny",
        action: "ecs:CreateCluster",
        resource: CLUSTER,
        identity: &[ALLOW_ECS],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: None,
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "the boundary allows, no identity policy does: identity's implicit deny",
        action: "ecs:CreateCluster",
        resource: CLUSTER,
        identity: &[DESCRIBE_ONLY],
        boundary: Some(ALLOW_ALL),
        resource_policy: None,
        expect: ImplicitDeny(Id),
    },
    Case {
        name: "a boundary grants nothing by itself",
        action: "ecs:ListClusters",
        resource: "*",
        identity: &[],
        boundary: Some(ALLOW_ALL),
        resource_policy: None,
        expect: ImplicitDeny(Id),
    },
    Case {
        name: "a Deny in the boundary is explicit",
        action: "ecs:DeleteCluster",
        resource: CLUSTER,
        identity: &[ALLOW_ALL],
        boundary: Some(
            r#"[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}]"#,
        ),
        resource_policy: None,
        expect: ExplicitDeny(Pb),
    },
    Case {
        name: "an identity Deny is named before the boundary's",
        action: "ecs:DeleteCluster",
        resource: CLUSTER,
        identity: &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"ecs:DeleteCluster","Resource":"*"}"#],
        boundary: Some(r#"{"Effect":"Deny","Action":"ecs:*","Resource":"*"}"#),
        resource_policy: None,
        expect: ExplicitDeny(Id),
    },
    Case {
        name: "the boundary's resource matters",
        action: "ecs:DeleteCluster",
        resource: "arn:aws:ecs:us-east-1:123456789012:cluster/prod-b",
        identity: &[ALLOW_ECS],
        boundary: Some(r#"{"Effect":"Allow","Action":"ecs:*","Resource":"arn:aws:ecs:*:*:cluster/prod"}"#),
        resource_policy: None,
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "the boundary's NotAction",
        action: "iam:CreateUser",
        resource: "arn:aws:iam::123456789012:user/eve",
        identity: &[ALLOW_ALL],
        boundary: Some(r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#),
        resource_policy: None,
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "a boundary whose policy is gone allows nothing",
        action: "ecs:ListClusters",
        resource: "*",
        identity: &[ALLOW_ALL],
        boundary: Some("[]"),
        resource_policy: None,
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "a same-account resource policy naming the user is not capped",
        action: "ecr:BatchGetImage",
        resource: REPO,
        identity: &[],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"ecr:BatchGetImage"}"#,
        )),
        expect: Allow,
    },
    Case {
        name: "a same-account resource policy naming only the account leaves it to the capped identity policies",
        action: "ecr:BatchGetImage",
        resource: REPO,
        identity: &[ALLOW_ECR],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:BatchGetImage"}"#,
        )),
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "a resource-based Deny still wins over an uncapped resource Allow",
        action: "ecr:BatchGetImage",
        resource: REPO,
        identity: &[ALLOW_ECR],
        boundary: Some(ALLOW_ECR),
        resource_policy: Some((
            PolicyKind::Resource,
            r#"{"Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}"#,
        )),
        expect: ExplicitDeny(Res),
    },
    Case {
        name: "across accounts the capped identity side must allow too",
        action: "ecr:BatchGetImage",
        resource: OTHER_REPO,
        identity: &[ALLOW_ECR],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: Some((
            PolicyKind::Resource,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"ecr:BatchGetImage"}"#,
        )),
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "a trust policy naming the account needs the capped sts:AssumeRole",
        action: "sts:AssumeRole",
        resource: ROLE,
        identity: &[ALLOW_ALL],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}"#,
        )),
        expect: ImplicitDeny(Pb),
    },
    Case {
        name: "a trust policy naming the user directly is enough",
        action: "sts:AssumeRole",
        resource: ROLE,
        identity: &[],
        boundary: Some(DESCRIBE_ONLY),
        resource_policy: Some((
            PolicyKind::Trust,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}"#,
        )),
        expect: Allow,
    },
];

#[test]
fn boundary_cases() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| {
            let identity: Vec<Policy> = case.identity.iter().map(|s| identity(s)).collect();
            let identity: Vec<&Policy> = identity.iter().collect();
            let boundary = case.boundary.map(|s| if s == "[]" { Policy::empty() } else { self::identity(s) });
            let resource = case.resource_policy.map(|(kind, s)| policy(s, kind));
            let request = Request::new(bob(), case.action, case.resource);
            let got = evaluate_bounded(&request, &identity, boundary.as_ref(), resource.as_ref());
            (got != case.expect).then(|| format!("{}: expected {:?}, got {got:?}", case.name, case.expect))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn without_a_boundary_bounded_is_evaluate() {
    let identity = identity(DESCRIBE_ONLY);
    for action in ["ecs:DescribeClusters", "ecs:CreateCluster"] {
        let request = Request::new(bob(), action, CLUSTER);
        assert_eq!(evaluate_bounded(&request, &[&identity], None, None), evaluate(&request, &[&identity], None));
    }
}

#[test]
fn a_boundarys_conditions_are_evaluated() {
    let identity = identity(ALLOW_ECS);
    let boundary = self::identity(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}"#,
    );
    let at = |region: &str| Request::new(bob(), "ecs:CreateCluster", CLUSTER).with("aws:RequestedRegion", region);
    assert_eq!(evaluate_bounded(&at("us-east-1"), &[&identity], Some(&boundary), None), Allow);
    assert_eq!(evaluate_bounded(&at("eu-west-1"), &[&identity], Some(&boundary), None), ImplicitDeny(Pb));
}

#[test]
fn boundary_denial_messages_are_aws_forms() {
    let request = Request::new(bob(), "ecs:CreateCluster", CLUSTER);
    assert_eq!(
        ImplicitDeny(Pb).denial_message(&request).as_deref(),
        Some(
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateCluster on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod because no permissions boundary allows the \
             ecs:CreateCluster action"
        )
    );
    assert_eq!(
        ExplicitDeny(Pb).denial_message(&request).as_deref(),
        Some(
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecs:CreateCluster on resource: \
             arn:aws:ecs:us-east-1:123456789012:cluster/prod with an explicit deny in a permissions boundary"
        )
    );
}
