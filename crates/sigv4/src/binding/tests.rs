//! Each rule over hand-built requests. Signatures are placeholders: `check` never looks at them
//! (tests/binding.rs runs the same attacks with real signatures).

use super::*;
use crate::{Kind, parse};

const SIG: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const DATE: &str = "20150830T123600Z";
const ECS_TARGET: &str = "AmazonEC2ContainerServiceV20141113.ListClusters";
const JSON_HEADERS: &[&str] = &["content-type", "x-amz-target"];
const FORM_HEADERS: &[&str] = &["content-type"];

const ECS: Expected<'static> =
    Expected { service: "ecs", region: "us-east-1", operation_headers: JSON_HEADERS, presignable: false };
const STS_GET: Expected<'static> =
    Expected { service: "sts", region: "us-east-1", operation_headers: &[], presignable: true };
const STS_POST: Expected<'static> =
    Expected { service: "sts", region: "us-east-1", operation_headers: FORM_HEADERS, presignable: true };

fn authorization(scope: &str, signed_headers: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}/aws4_request, SignedHeaders={signed_headers}, Signature={SIG}"
    )
}

/// Parses the request and checks it against `expected`.
fn bind(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    expected: &Expected<'_>,
) -> Result<(), Sigv4Error> {
    let req = Request { method, path: "/", query, headers, body };
    let parsed = parse(&req)?;
    check(&req, &parsed, expected)
}

/// A JSON-protocol POST as botocore signs it, with `signed_headers` and the scope `scope`.
fn json_post(
    scope: &str,
    signed_headers: &str,
    extra: &[(&'static str, &'static str)],
    expected: &Expected<'_>,
) -> Result<(), Sigv4Error> {
    let auth = authorization(scope, signed_headers);
    let mut headers = vec![
        ("Host", "127.0.0.1:4566"),
        ("X-Amz-Date", DATE),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", ECS_TARGET),
        ("Authorization", auth.as_str()),
    ];
    headers.extend_from_slice(extra);
    bind("POST", "", &headers, b"{}", expected)
}

const BOTOCORE_SIGNED: &str = "content-type;host;x-amz-date;x-amz-target";

fn presigned_query(scope: &str, signed_headers: &str) -> String {
    let credential = format!("AKIDEXAMPLE%2F{}%2Faws4_request", scope.replace('/', "%2F"));
    format!(
        "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}\
         &X-Amz-Date={DATE}&X-Amz-Expires=300&X-Amz-SignedHeaders={signed_headers}&X-Amz-Signature={SIG}"
    )
}

#[test]
fn what_botocore_signs_is_bound() {
    json_post("20150830/us-east-1/ecs", BOTOCORE_SIGNED, &[], &ECS).unwrap();
    // The SDKs' own headers, signed too.
    json_post(
        "20150830/us-east-1/ecs",
        "amz-sdk-invocation-id;content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
        &[("amz-sdk-invocation-id", "1"), ("X-Amz-Security-Token", "t")],
        &ECS,
    )
    .unwrap();
    // Headers that do not choose the operation need not be signed.
    json_post("20150830/us-east-1/ecs", BOTOCORE_SIGNED, &[("User-Agent", "x"), ("X-Amzn-Trace-Id", "y")], &ECS)
        .unwrap();
}

#[test]
fn attack_1_an_unsigned_x_amz_target_is_refused() {
    // Signed as host;x-amz-date only: the target could be changed to any operation after signing.
    let e = json_post("20150830/us-east-1/ecs", "content-type;host;x-amz-date", &[], &ECS).unwrap_err();
    assert_eq!(e, Sigv4Error::HeadersNotSigned("x-amz-target".into()));
    assert_eq!(e.kind(), Kind::Malformed);
    assert!(
        e.to_string().starts_with("There were headers present in the request which were not signed: x-amz-target.")
    );
    let e = json_post("20150830/us-east-1/ecs", "host;x-amz-date", &[], &ECS).unwrap_err();
    assert_eq!(e, Sigv4Error::HeadersNotSigned("content-type, x-amz-target".into()));
}

#[test]
fn every_x_amz_header_must_be_signed() {
    for (name, lower) in [
        ("X-Amz-Security-Token", "x-amz-security-token"),
        ("x-amz-user-agent", "x-amz-user-agent"),
        ("X-AMZ-ANYTHING", "x-amz-anything"),
    ] {
        let e = json_post("20150830/us-east-1/ecs", BOTOCORE_SIGNED, &[(name, "v")], &ECS).unwrap_err();
        assert_eq!(e, Sigv4Error::HeadersNotSigned(lower.into()), "{name}");
    }
}

#[test]
fn x_amz_date_and_content_sha256_are_covered_without_being_listed() {
    // Header form: the string to sign holds X-Amz-Date; the payload hash is X-Amz-Content-Sha256.
    let body_hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    let auth = authorization("20150830/us-east-1/ecs", "content-type;host;x-amz-target");
    let headers = [
        ("Host", "h"),
        ("X-Amz-Date", DATE),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", ECS_TARGET),
        ("X-Amz-Content-Sha256", body_hash),
        ("Authorization", auth.as_str()),
    ];
    bind("POST", "", &headers, b"{}", &ECS).unwrap();
    // Presigned: the date comes from the query, so an X-Amz-Date header is not covered.
    let query = presigned_query("20150830/us-east-1/sts", "host");
    let e = bind("GET", &query, &[("Host", "h"), ("X-Amz-Date", DATE)], b"", &STS_GET).unwrap_err();
    assert_eq!(e, Sigv4Error::HeadersNotSigned("x-amz-date".into()));
    bind("GET", &query, &[("Host", "h"), ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")], b"", &STS_GET).unwrap();
}

#[test]
fn operation_headers_must_be_signed_and_single() {
    // A query POST's Content-Type says how its body is read.
    let auth = authorization("20150830/us-east-1/sts", "host;x-amz-date");
    let form = [
        ("Host", "h"),
        ("X-Amz-Date", DATE),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Authorization", auth.as_str()),
    ];
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    assert_eq!(
        bind("POST", "", &form, body, &STS_POST).unwrap_err(),
        Sigv4Error::HeadersNotSigned("content-type".into())
    );
    // Absent, it need not be signed.
    bind("POST", "", &[form[0], form[1], form[3]], body, &STS_POST).unwrap();

    let twice =
        json_post("20150830/us-east-1/ecs", BOTOCORE_SIGNED, &[("x-amz-target", ECS_TARGET)], &ECS).unwrap_err();
    assert_eq!(twice.kind(), Kind::Malformed);
    assert!(twice.to_string().contains("'x-amz-target' header appears more than once"), "{twice}");
}

#[test]
fn attack_2_the_scope_must_name_the_service_and_region() {
    let e = json_post("20150830/us-east-1/sts", BOTOCORE_SIGNED, &[], &ECS).unwrap_err();
    assert_eq!(e.to_string(), "Credential should be scoped to correct service: 'ecs'.");
    assert_eq!(e.kind(), Kind::SignatureMismatch);
    let e = json_post("20150830/eu-west-9/ecs", BOTOCORE_SIGNED, &[], &ECS).unwrap_err();
    assert_eq!(e.to_string(), "Credential should be scoped to a valid region, not 'eu-west-9'.");
    assert_eq!(e.kind(), Kind::SignatureMismatch);
    // Names are exact: no case folding, no prefixes.
    for scope in
        ["20150830/us-east-1/ECS", "20150830/us-east-1/ecs2", "20150830/US-EAST-1/ecs", "20150830/us-east-1a/ecs"]
    {
        assert_eq!(
            json_post(scope, BOTOCORE_SIGNED, &[], &ECS).unwrap_err().kind(),
            Kind::SignatureMismatch,
            "{scope}"
        );
    }
    // A global service is signed for its own region whatever the server's.
    let iam = Expected { service: "iam", region: "us-east-1", operation_headers: FORM_HEADERS, presignable: true };
    let e = json_post("20150830/eu-west-1/iam", BOTOCORE_SIGNED, &[], &iam).unwrap_err();
    assert_eq!(e, Sigv4Error::WrongRegion { region: "eu-west-1".into() });
}

#[test]
fn the_scope_date_must_be_the_request_date() {
    let e = json_post("20150831/us-east-1/ecs", BOTOCORE_SIGNED, &[], &ECS).unwrap_err();
    assert!(matches!(e, Sigv4Error::CredentialDateMismatch { .. }), "{e:?}");
    assert_eq!(e.kind(), Kind::SignatureMismatch);
}

#[test]
fn a_presigned_query_get_is_honoured() {
    let query = presigned_query("20150830/us-east-1/sts", "host");
    bind("GET", &query, &[("Host", "h")], b"", &STS_GET).unwrap();
}

#[test]
fn attack_3_a_presigned_url_cannot_become_another_request() {
    // A presigned STS URL (UNSIGNED-PAYLOAD) sent again with an X-Amz-Target and a JSON body, which
    // the server would route to ECS.
    let query = format!("{}&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD", presigned_query("20150830/us-east-1/sts", "host"));
    let target = "AmazonEC2ContainerServiceV20141113.CreateCluster";
    let headers = [("Host", "h"), ("X-Amz-Target", target), ("Content-Type", "application/x-amz-json-1.1")];
    let body = br#"{"clusterName": "pwned"}"#;
    let e = bind("GET", &query, &headers, body, &ECS).unwrap_err();
    assert_eq!(e, Sigv4Error::WrongService { expected: "ecs".into() });

    // Presigned for ECS itself: the target is not covered.
    let ecs_query = presigned_query("20150830/us-east-1/ecs", "host");
    let e = bind("GET", &ecs_query, &headers, body, &ECS).unwrap_err();
    assert_eq!(e, Sigv4Error::HeadersNotSigned("content-type, x-amz-target".into()));

    // Even covered, a JSON operation is never honoured presigned.
    let covered = presigned_query("20150830/us-east-1/ecs", "content-type;host;x-amz-target");
    let e = bind("GET", &covered, &headers, body, &ECS).unwrap_err();
    assert!(matches!(e, Sigv4Error::PresignNotAllowed(_)), "{e:?}");
    assert_eq!(e.kind(), Kind::Malformed);

    // A query-protocol URL with a body, or not a GET, is refused too.
    let e = bind("GET", &query, &[("Host", "h")], body, &STS_GET).unwrap_err();
    assert!(e.to_string().contains("must not carry a body"), "{e}");
    let e = bind("POST", &query, &[("Host", "h")], b"", &STS_GET).unwrap_err();
    assert!(e.to_string().contains("must be requested with GET"), "{e}");
}

#[test]
fn messages_quote_client_input_briefly() {
    let long = "r".repeat(5000);
    let e = json_post(&format!("20150830/{long}/ecs"), BOTOCORE_SIGNED, &[], &ECS).unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
}
