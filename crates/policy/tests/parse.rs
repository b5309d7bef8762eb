//! The parser's case table: documents of each kind, and the reason IAM gives for each it refuses.

use berth_policy::{Policy, PolicyKind};

use PolicyKind::{Identity, Resource, Trust};

const NO_PRINCIPALS: &str = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: \
                             The passed in policy has a statement with no principals!";

/// `None`: the document is valid; `Some(reason)`: refused with that MalformedPolicyDocument reason.
const CASES: &[(&str, PolicyKind, &str, Option<&str>)] = &[
    (
        "identity, one statement as an object",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}"#,
        None,
    ),
    (
        "identity, statements as an array, lists everywhere",
        Identity,
        r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A1","Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":["arn:aws:ecs:*:*:cluster/*","*"]},{"Sid":"D2","Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/x"}]}"#,
        None,
    ),
    (
        "seed 000's trust policy, version 2008-10-17",
        Trust,
        r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" }, "Action": "sts:AssumeRole"}]}"#,
        None,
    ),
    (
        "trust policy naming an account, a role, a session and a service",
        Trust,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:role/a/b","arn:aws:sts::123456789012:assumed-role/b/s"],"Service":["ecs-tasks.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        None,
    ),
    (
        "trust policy with Principal *",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}}"#,
        None,
    ),
    (
        "version absent (2008-10-17 semantics)",
        Identity,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        None,
    ),
    (
        "resource policy without Resource (an ECR repository policy)",
        Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
        None,
    ),
    (
        "every condition operator family, qualifiers and value types",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{
            "StringEqualsIfExists":{"ecs:cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/a"},
            "ForAllValues:StringLike":{"aws:TagKeys":["env","team*"]},
            "ForAnyValue:StringNotEqualsIgnoreCase":{"aws:TagKeys":"x"},
            "NumericLessThanEquals":{"aws:EpochTime":1900000000},
            "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},
            "Bool":{"aws:SecureTransport":true},
            "BinaryEquals":{"aws:x":"QmluYXJ5"},
            "IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
            "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"},
            "Null":{"aws:RequestTag/env":"false"}}}}"#,
        None,
    ),
    ("not JSON", Identity, r#"{"Version":"2012-10-17","Statement":"#, Some("Syntax errors in policy.")),
    ("a JSON array", Identity, r#"[]"#, Some("Syntax errors in policy.")),
    (
        "statement not an object",
        Identity,
        r#"{"Version":"2012-10-17","Statement":["x"]}"#,
        Some("Syntax errors in policy."),
    ),
    (
        "Action of the wrong type",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":{"a":1},"Resource":"*"}}"#,
        Some("Syntax errors in policy."),
    ),
    (
        "Action and NotAction together",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","NotAction":"iam:*","Resource":"*"}}"#,
        Some("Syntax errors in policy."),
    ),
    (
        "condition value an object",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":"b"}}}}}"#,
        Some("Syntax errors in policy."),
    ),
    (
        "unknown top-level field",
        Identity,
        r#"{"Version":"2012-10-17","Foo":1,"Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}"#,
        Some("Unknown field Foo"),
    ),
    (
        "unknown statement field (Resources)",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resources":"*"}}"#,
        Some("Unknown field Resources"),
    ),
    (
        "Effect missing",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Action":"ecs:*","Resource":"*"}}"#,
        Some("Missing required field Effect"),
    ),
    (
        "Effect lowercase",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"ecs:*","Resource":"*"}}"#,
        Some("The policy failed legacy parsing"),
    ),
    (
        "unknown Version",
        Identity,
        r#"{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*"}}"#,
        Some("The policy failed legacy parsing"),
    ),
    ("Statement missing", Identity, r#"{"Version":"2012-10-17"}"#, Some("Missing required field Statement")),
    (
        "identity policy with a Principal",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"ecs:*","Resource":"*"}}"#,
        Some("Policy document should not specify a principal."),
    ),
    (
        "identity policy with a NotPrincipal",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"ecs:*","Resource":"*"}}"#,
        Some("Policy document should not specify a principal."),
    ),
    (
        "trust policy without a Principal",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
        Some(NO_PRINCIPALS),
    ),
    (
        "trust policy naming nobody",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}}"#,
        Some(NO_PRINCIPALS),
    ),
    (
        "resource policy without a Principal",
        Resource,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*"}}"#,
        Some("Missing required field Principal"),
    ),
    (
        "trust policy with a Resource",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
        Some("Has prohibited field Resource"),
    ),
    (
        "trust policy granting a non-STS action",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"ecs:*"}}"#,
        Some("AssumeRole policy may only specify STS AssumeRole actions."),
    ),
    (
        "Action missing",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#,
        Some("Policy statement must contain actions."),
    ),
    (
        "Action an empty list",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
        Some("Policy statement must contain actions."),
    ),
    (
        "Resource missing in an identity policy",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*"}}"#,
        Some("Policy statement must contain resources."),
    ),
    (
        "action without a vendor",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"CreateCluster","Resource":"*"}}"#,
        Some("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ),
    (
        "condition key without a vendor",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringEquals":{"username":"bob"}}}}"#,
        Some("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ),
    (
        "resource not an ARN",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"my-cluster"}}"#,
        Some("Resource my-cluster must be in ARN format or \"*\"."),
    ),
    (
        "AWS principal that is no account or ARN",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}}"#,
        Some("Invalid principal in policy: \"AWS\":\"bob\""),
    ),
    (
        "AWS principal ARN of another service",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:ecs:us-east-1:123456789012:cluster/a"},"Action":"sts:AssumeRole"}}"#,
        Some("Invalid principal in policy: \"AWS\":\"arn:aws:ecs:us-east-1:123456789012:cluster/a\""),
    ),
    (
        "unknown principal type",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Users":"bob"},"Action":"sts:AssumeRole"}}"#,
        Some("Invalid principal in policy: \"Users\":[\"bob\"]"),
    ),
    (
        "Principal a bare string other than *",
        Trust,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"ec2.amazonaws.com","Action":"sts:AssumeRole"}}"#,
        Some("Invalid principal in policy: \"ec2.amazonaws.com\""),
    ),
    (
        "unknown condition operator",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"bob"}}}}"#,
        Some("Invalid Condition type : StringEqualz"),
    ),
    (
        "Null with IfExists",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}"#,
        Some("Invalid Condition type : NullIfExists"),
    ),
    (
        "Sid with a dash",
        Identity,
        r#"{"Version":"2012-10-17","Statement":{"Sid":"a-b","Effect":"Allow","Action":"ecs:*","Resource":"*"}}"#,
        Some(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ),
    ),
    (
        "duplicate Sids",
        Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"ecs:*","Resource":"*"}]}"#,
        Some("Statement IDs (SID) in a single policy must be unique."),
    ),
];

#[test]
fn parse_cases() {
    let mut failures = Vec::new();
    for (name, kind, json, expected) in CASES {
        let got = Policy::parse(json, *kind).err().map(|e| e.to_string());
        if got.as_deref() != *expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

/// Every truncation of the valid documents above, and each with one byte replaced by a character
/// that matters to the grammar, parses or is refused: never a panic. Whatever parses evaluates.
#[test]
fn mangled_documents_never_panic() {
    use berth_policy::{Principal, Request, evaluate};
    let request = Request::new(Principal::user("123456789012", "/", "bob"), "ecs:CreateCluster", "*")
        .with("aws:SourceIp", "10.0.0.1")
        .with("aws:CurrentTime", "2026-12-03T14:00:00Z");
    let mut parsed = 0;
    for (_, kind, json, expected) in CASES {
        if expected.is_some() {
            continue;
        }
        let mut mutants: Vec<String> = (0..json.len()).filter_map(|end| json.get(..end)).map(str::to_string).collect();
        for at in 0..json.len() {
            for replacement in ["\"", "*", "$", "{", "}", "]", ":", "é"] {
                if let (Some(head), Some(tail)) = (json.get(..at), json.get(at + 1..)) {
                    mutants.push(format!("{head}{replacement}{tail}"));
                }
            }
        }
        for mutant in &mutants {
            if let Ok(policy) = Policy::parse(mutant, *kind) {
                parsed += 1;
                let _ = evaluate(&request, &[], Some(&policy));
                let _ = evaluate(&request, &[&policy], None);
            }
        }
    }
    assert!(parsed > 0, "some mutants are still valid documents");
}
