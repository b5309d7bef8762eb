//! The three attacks of issue 16 with real signatures (the `aws-sigv4` crate's): each request's
//! signature verifies, and `binding::check` is what refuses it.

mod support;

use std::time::Duration;

use berth_sigv4::{Expected, Kind, Sigv4Error};
use support::{SECRET, Spec, suite_now};

const URL: &str = "http://127.0.0.1:4566/";
const LIST: &str = "AmazonEC2ContainerServiceV20141113.ListClusters";
const CREATE: &str = "AmazonEC2ContainerServiceV20141113.CreateCluster";
const JSON: &str = "application/x-amz-json-1.1";

const ECS: Expected<'static> = Expected {
    service: "ecs",
    region: "us-east-1",
    operation_headers: &["content-type", "x-amz-target"],
    presignable: false,
};
const STS_GET: Expected<'static> =
    Expected { service: "sts", region: "us-east-1", operation_headers: &[], presignable: true };

fn ecs_post(target: &'static str) -> Spec<'static> {
    Spec::new("POST", URL)
        .header("content-type", JSON)
        .header("x-amz-target", target)
        .body(b"{}")
        .scope("us-east-1", "ecs")
}

#[test]
fn sdk_signed_requests_pass_every_step() {
    ecs_post(LIST).sign().check_bound(&ECS, suite_now()).unwrap();
    let presigned = Spec {
        presign: Some(Duration::from_secs(300)),
        ..Spec::new("GET", "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15")
            .scope("us-east-1", "sts")
    };
    presigned.sign().check_bound(&STS_GET, suite_now()).unwrap();
}

#[test]
fn attack_1_a_target_left_out_of_the_signature() {
    let spec = Spec { unsigned: vec!["x-amz-target"], ..ecs_post(LIST) };
    let mut signed = spec.sign();
    signed.check(SECRET, suite_now()).expect("the signature itself is valid");
    assert_eq!(signed.check_bound(&ECS, suite_now()), Err(Sigv4Error::HeadersNotSigned("x-amz-target".into())));
    // Repointed at another operation, the signature still verifies: only the binding refuses it.
    signed.set_header("x-amz-target", "AmazonEC2ContainerServiceV20141113.ListTaskDefinitions");
    signed.check(SECRET, suite_now()).unwrap();
    assert_eq!(signed.check_bound(&ECS, suite_now()).unwrap_err().kind(), Kind::Malformed);
}

#[test]
fn attack_2_a_scope_for_another_service_or_region() {
    for (region, service, want) in [
        ("us-east-1", "sts", Sigv4Error::WrongService { expected: "ecs".into() }),
        ("eu-west-9", "ecs", Sigv4Error::WrongRegion { region: "eu-west-9".into() }),
    ] {
        let signed = ecs_post(LIST).scope(region, service).sign();
        signed.check(SECRET, suite_now()).expect("the signature itself is valid");
        let e = signed.check_bound(&ECS, suite_now()).unwrap_err();
        assert_eq!(e, want);
        assert_eq!(e.kind(), Kind::SignatureMismatch);
    }
}

#[test]
fn attack_3_a_presigned_identity_url_resent_as_a_write() {
    let spec = Spec {
        presign: Some(Duration::from_secs(300)),
        unsigned_payload: true,
        ..Spec::new("GET", "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15")
            .scope("us-east-1", "sts")
    };
    let mut signed = spec.sign();
    signed.check_bound(&STS_GET, suite_now()).expect("as issued, the URL is good for STS");
    signed.add_header("X-Amz-Target", CREATE);
    signed.add_header("Content-Type", JSON);
    signed.body = br#"{"clusterName": "pwned"}"#.to_vec();
    signed.check(SECRET, suite_now()).expect("UNSIGNED-PAYLOAD: the signature covers neither body nor target");
    // Routed as the ECS write it now looks like, the scope does not fit ...
    assert_eq!(signed.check_bound(&ECS, suite_now()), Err(Sigv4Error::WrongService { expected: "ecs".into() }));
    // ... and routed as STS, neither do the extra header and the body.
    assert_eq!(signed.check_bound(&STS_GET, suite_now()), Err(Sigv4Error::HeadersNotSigned("x-amz-target".into())));
    signed.remove_header("X-Amz-Target");
    let e = signed.check_bound(&STS_GET, suite_now()).unwrap_err();
    assert!(matches!(e, Sigv4Error::PresignNotAllowed(_)), "{e:?}");
}
