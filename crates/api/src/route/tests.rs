use super::*;
use crate::services::{self, ALL};

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

fn json(target: &str) -> Result<Route, AwsError> {
    Route::of(&parts("POST", "/", &[("X-Amz-Target", target)]), b"{}")
}

#[test]
fn json_requests_go_to_the_service_of_their_target_prefix() {
    for (target, signing_name, operation) in [
        ("AmazonEC2ContainerServiceV20141113.ListClusters", "ecs", "ListClusters"),
        ("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "ecr", "GetAuthorizationToken"),
        ("Logs_20140328.PutLogEvents", "logs", "PutLogEvents"),
        ("BerthAgent_V1.PollTasks", "ecs", "PollTasks"),
    ] {
        let route = json(target).unwrap();
        assert_eq!((route.service.signing_name, route.operation.as_str()), (signing_name, operation), "{target}");
        assert_eq!(route.protocol(), Protocol::Json);
        let expected = route.expected("eu-west-1");
        assert_eq!((expected.service, expected.region), (signing_name, "eu-west-1"));
        assert_eq!(expected.operation_headers, ["content-type", "x-amz-target"]);
        assert!(!expected.presignable, "{target}");
    }
}

#[test]
fn unroutable_json_targets_are_unknown_operations() {
    for target in ["NoSuchService_20990101.ListClusters", "ListClusters", ".ListClusters", "Logs_20140328.", ""] {
        let e = json(target).err().unwrap_or_else(|| panic!("{target:?} was routed"));
        assert_eq!(e.code, "UnknownOperationException", "{target:?}");
    }
    // A target that is not text is routed nowhere (and still answered as JSON).
    let mut p = parts("POST", "/", &[]);
    p.headers.insert("x-amz-target", http::HeaderValue::from_bytes(b"Logs_20140328.\xff").unwrap());
    assert_eq!(Protocol::of(&p.headers), Protocol::Json);
    assert_eq!(Route::of(&p, b"{}").err().unwrap().code, "UnknownOperationException");
}

#[test]
fn query_requests_go_to_the_service_of_their_version() {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let post = Route::of(&parts("POST", "/", &form), b"Action=DescribeLoadBalancers&Version=2015-12-01").unwrap();
    assert_eq!((post.service.signing_name, post.operation.as_str()), ("elasticloadbalancing", "DescribeLoadBalancers"));
    assert_eq!(post.protocol(), Protocol::Query);
    let expected = post.expected("us-east-1");
    assert_eq!(expected.operation_headers, ["content-type"]);
    assert!(expected.presignable);

    // A GET is read from its query string only (its body, if any, is not the form).
    let get = Route::of(
        &parts("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", &[]),
        b"Action=CreateLoadBalancer&Version=2015-12-01",
    )
    .unwrap();
    assert_eq!((get.service.signing_name, get.operation.as_str()), ("sts", "GetCallerIdentity"));
    assert_eq!(get.form().get("Version"), Some("2011-06-15"));
    assert!(get.expected("us-east-1").operation_headers.is_empty());
    // And a POST from its body only.
    let post = Route::of(&parts("POST", "/?Action=GetCallerIdentity&Version=2011-06-15", &[]), b"").err().unwrap();
    assert_eq!(post.code, "MissingAction");
}

#[test]
fn unroutable_query_requests_name_what_is_missing() {
    let missing = Route::of(&parts("POST", "/", &[]), b"Version=2011-06-15").err().unwrap();
    assert_eq!(missing.code, "MissingAction");
    for body in [&b"Action=GetCallerIdentity"[..], b"Action=GetCallerIdentity&Version=2099-01-01"] {
        assert_eq!(Route::of(&parts("POST", "/", &[]), body).err().unwrap().code, "InvalidAction");
    }
}

#[test]
fn a_global_service_is_signed_for_its_own_region() {
    const GLOBAL: Service =
        Service::query("iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/", |ctx, action, params| {
            Box::pin(services::sts::call(ctx, action, params))
        })
        .global("us-east-1");
    let route = Route::among(&[&GLOBAL], &parts("POST", "/", &[]), b"Action=ListUsers&Version=2010-05-08").unwrap();
    let expected = route.expected("eu-west-1");
    assert_eq!((expected.service, expected.region), ("iam", "us-east-1"));
}

#[test]
fn no_two_services_claim_the_same_name_on_the_wire() {
    let mut names: Vec<String> = ALL
        .iter()
        .map(|s| match s.wire {
            Wire::Json { target_prefix, .. } => format!("json {target_prefix}"),
            Wire::Query { version, .. } => format!("query {version}"),
            Wire::Ec2 { version, .. } => format!("query {version}"),
        })
        .collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "{names:?}");
}

#[test]
fn only_the_methods_aws_serves_reach_a_service() {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let body = b"Action=DeleteLoadBalancer&Version=2015-12-01&LoadBalancerArn=x";
    for method in ["DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"] {
        let e = Route::of(&parts(method, "/", &form), body).err().unwrap_or_else(|| panic!("{method} was routed"));
        assert_eq!((e.code.as_ref(), e.status.as_u16()), ("MethodNotAllowed", 405), "{method}");
    }
    let target = [("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")];
    assert_eq!(Route::of(&parts("GET", "/", &target), b"{}").err().unwrap().code, "MethodNotAllowed");
    assert!(Route::of(&parts("POST", "/", &form), body).is_ok());
}

#[test]
fn malformed_forms_are_refused_before_they_reach_a_service() {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for body in [
        &b"Action=DescribeLoadBalancers&Version=2015-12-01&Action=DeleteLoadBalancer"[..],
        b"Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.-1=a",
    ] {
        let e = Route::of(&parts("POST", "/", &form), body).err().unwrap();
        assert_eq!(e.code, "MalformedQueryString", "{}", String::from_utf8_lossy(body));
    }
}
