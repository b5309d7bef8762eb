//! Cost of one evaluation: a user with 10 attached policies of 20 statements each (actions,
//! resources with wildcards and variables, conditions), one request that no statement denies
//! and the last statement allows, so every statement is looked at. The request's action
//! matches every statement, so each one's resource patterns are tried too.

use berth_policy::{Policy, PolicyKind, Principal, Request, evaluate};
use criterion::{Criterion, criterion_group, criterion_main};

fn statement(policy: usize, index: usize) -> String {
    match index % 4 {
        0 => format!(
            r#"{{"Sid":"S{index}","Effect":"Allow","Action":["ecr:Get*","ecs:*"],"Resource":"arn:aws:ecs:*:*:cluster/team{policy}-*"}}"#
        ),
        1 => format!(
            r#"{{"Sid":"S{index}","Effect":"Deny","Action":"ecs:*","Resource":"arn:aws:ecs:us-east-1:123456789012:cluster/prod{index}","Condition":{{"StringNotEquals":{{"aws:PrincipalTag/team":"ops{policy}"}}}}}}"#
        ),
        2 => format!(
            r#"{{"Sid":"S{index}","Effect":"Allow","Action":"ecs:Create*","Resource":"arn:aws:logs:*:*:log-group:/berth/${{aws:username}}/{policy}/*"}}"#
        ),
        _ => format!(
            r#"{{"Sid":"S{index}","Effect":"Allow","NotAction":["iam:*","sts:*"],"Resource":"arn:aws:s3:::bucket{policy}/*","Condition":{{"IpAddress":{{"aws:SourceIp":"10.{policy}.0.0/16"}},"Bool":{{"aws:SecureTransport":"true"}}}}}}"#
        ),
    }
}

fn policies() -> Vec<Policy> {
    (0..10)
        .map(|policy| {
            let mut statements: Vec<String> = (0..19).map(|index| statement(policy, index)).collect();
            let last = if policy == 9 {
                r#"{"Sid":"Last","Effect":"Allow","Action":"ecs:CreateService","Resource":"arn:aws:ecs:*:123456789012:cluster/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}"#
            } else {
                r#"{"Sid":"Last","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}"#
            };
            statements.push(last.to_string());
            let json = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
            Policy::parse(&json, PolicyKind::Identity).unwrap_or_else(|e| panic!("benchmark policy refused: {e}"))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policies = policies();
    let attached: Vec<&Policy> = policies.iter().collect();
    let request = Request::new(
        Principal::user("123456789012", "/", "bob"),
        "ecs:CreateService",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    )
    .with("aws:RequestedRegion", "us-east-1")
    .with("aws:SourceIp", "192.0.2.10")
    .with("aws:SecureTransport", "true")
    .with("aws:PrincipalTag/team", "ops1");
    assert!(evaluate(&request, &attached, None).is_allowed());
    c.bench_function("evaluate: 10 policies x 20 statements", |b| {
        b.iter(|| evaluate(std::hint::black_box(&request), &attached, None))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
