//! `verify` against requests signed by the `aws-sigv4` crate: it must accept them as signed and
//! reject them once anything the signature covers changes.

mod support;

use std::time::Duration;

use berth_sigv4::{Form, Kind, Sigv4Error};
use support::{SECRET, Signed, Spec, suite_now};
use time::OffsetDateTime;

const ECS_TARGET: &str = "AmazonEC2ContainerServiceV20141113.ListClusters";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJIMEYCIQ+token/with+slashes==";

fn requests() -> Vec<(&'static str, Signed)> {
    let ecs = Spec::new("POST", "http://127.0.0.1:4566/")
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", ECS_TARGET)
        .header("User-Agent", "aws-cli/2.15.0 Python/3.11.6 md/command#ecs.list-clusters")
        .body(br#"{"maxResults": 10}"#)
        .scope("us-east-1", "ecs");
    let sts = Spec::new("POST", "https://sts.amazonaws.com/")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(b"Action=GetCallerIdentity&Version=2011-06-15")
        .scope("us-east-1", "sts");
    let elb = Spec::new("POST", "http://localhost:4566/")
        .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(b"Action=CreateTargetGroup&Name=web%20tg&Tags.member.1.Key=a%2Bb&Tags.member.1.Value=")
        .scope("eu-west-3", "elasticloadbalancing");
    let get = |url: &'static str| Spec::new("GET", url).scope("us-west-2", "monitoring");

    let mut out = vec![
        ("ecs json", ecs.sign()),
        ("ecs json with session token", Spec { session_token: Some(TOKEN), ..ecs.clone() }.sign()),
        ("sts query form", sts.sign()),
        ("sts query form with session token", Spec { session_token: Some(TOKEN), ..sts.clone() }.sign()),
        ("elbv2 query form", elb.sign()),
        ("signed x-amz-content-sha256", Spec { content_sha256_header: true, ..ecs.clone() }.sign()),
        ("repeated header", ecs.clone().header("X-Custom", "one").header("x-custom", "  two   words ").sign()),
        ("empty body", Spec::new("POST", "http://127.0.0.1:4566/").scope("us-east-1", "ecs").sign()),
        ("binary body", ecs.clone().body(&[0, 159, 146, 150, 255, b'\n', b'\r']).sign()),
    ];
    for url in [
        "http://127.0.0.1:4566/?a=1&b=two%20words",
        "http://127.0.0.1:4566/?q=a+b&r=%2B&s=1+%2B+1",
        "http://127.0.0.1:4566/?eq=a%3Db&amp=%26&hash=%23",
        "http://127.0.0.1:4566/?u=%E1%88%B4&%C3%A9=%c3%a9&e=%E2%82%AC",
        "http://127.0.0.1:4566/?k=2&k=1&k=&k=10&j",
        "http://127.0.0.1:4566/?empty=&=novalue&x=",
        "http://127.0.0.1:4566/?%41%42=%7e&reserved=!*'();:@$,/?",
        "http://127.0.0.1:4566/?Action=DescribeAlarms&AlarmNames.member.1=cpu%20high&Version=2010-08-01",
        "http://127.0.0.1:4566/a/b/../c/./d//e/",
        "http://127.0.0.1:4566/path%20with%20spaces/%E1%88%B4/x:y@z",
        "http://127.0.0.1:4566/v2/repo/name/blobs/uploads/?digest=sha256%3Aabc",
        "https://monitoring.us-west-2.amazonaws.com:443/?Action=ListMetrics",
        "http://[::1]:4566/?ipv6=yes",
    ] {
        out.push((url, get(url).sign()));
    }
    out
}

fn presigned_requests() -> Vec<(&'static str, Signed)> {
    let sts = Spec {
        presign: Some(Duration::from_secs(300)),
        ..Spec::new("GET", "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15")
            .scope("us-east-1", "sts")
    };
    vec![
        ("presigned, body hash", sts.clone().sign()),
        ("presigned, UNSIGNED-PAYLOAD", Spec { unsigned_payload: true, ..sts.clone() }.sign()),
        ("presigned with session token", Spec { session_token: Some(TOKEN), ..sts.clone() }.sign()),
        ("presigned with extra signed header", sts.clone().header("X-Custom", "v").sign()),
        (
            "presigned, tricky query, one week",
            Spec {
                presign: Some(Duration::from_secs(604_800)),
                ..Spec::new("GET", "http://127.0.0.1:4566/x/?q=a+b&k=2&k=1&u=%E1%88%B4&e=").scope("us-east-1", "sts")
            }
            .sign(),
        ),
    ]
}

fn mismatch(r: Result<(), Sigv4Error>, what: &str) {
    match r {
        Err(e) if e.kind() == Kind::SignatureMismatch => {}
        other => panic!("{what}: expected a signature mismatch, got {other:?}"),
    }
}

fn shift_date(d: &str, secs: i64) -> String {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(d, fmt).unwrap().assume_utc() + time::Duration::seconds(secs);
    t.format(fmt).unwrap()
}

/// Checks acceptance, then that every change to a covered part of the request is caught.
fn accepts_and_detects_tampering(name: &str, s: &Signed, now: OffsetDateTime) {
    s.check(SECRET, now).unwrap_or_else(|e| panic!("{name}: rejected: {e:?}\n{s:#?}"));
    let parsed = s.parsed().unwrap();
    let presigned = matches!(parsed.form(), Form::Presigned { .. });

    mismatch(s.check("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", now), &format!("{name}: secret"));

    let mut t = s.clone();
    match t.body.last_mut() {
        Some(b) => *b ^= 1,
        None => t.body.push(b' '),
    }
    if presigned && s.header("x-amz-content-sha256").is_none() {
        // A presigned URL may be signed with UNSIGNED-PAYLOAD; only a body-hash signature binds the body.
        if t.check(SECRET, now).is_ok() {
            assert!(name.contains("UNSIGNED-PAYLOAD"), "{name}: body change accepted");
        }
    } else {
        mismatch(t.check(SECRET, now), &format!("{name}: body"));
    }

    for header in parsed.signed_headers() {
        let mut t = s.clone();
        let old = t.header(header).unwrap().to_owned();
        let new = if header == "x-amz-date" {
            shift_date(&old, 1)
        } else if header == "x-amz-content-sha256" {
            "0".repeat(64)
        } else {
            format!("{old}x")
        };
        t.set_header(header, &new);
        match t.check(SECRET, now) {
            Err(e) if e.kind() == Kind::SignatureMismatch => {}
            other => panic!("{name}: changed {header} gave {other:?}"),
        }
    }

    let mut t = s.clone();
    t.method = if t.method == "GET" { "HEAD".into() } else { "PUT".into() };
    mismatch(t.check(SECRET, now), &format!("{name}: method"));

    let mut t = s.clone();
    t.path = format!("{}x", t.path);
    mismatch(t.check(SECRET, now), &format!("{name}: path"));

    let mut t = s.clone();
    t.query = if t.query.is_empty() { "extra=1".into() } else { format!("{}&extra=1", t.query) };
    mismatch(t.check(SECRET, now), &format!("{name}: query"));

    if presigned {
        let date = parsed.request_time();
        let old = berth_sigv4_date(date);
        let mut t = s.clone();
        t.query = t.query.replace(&format!("X-Amz-Date={old}"), &format!("X-Amz-Date={}", shift_date(&old, 1)));
        assert_ne!(t.query, s.query);
        mismatch(t.check(SECRET, now), &format!("{name}: X-Amz-Date"));

        let mut t = s.clone();
        t.query = t.query.replacen("X-Amz-Expires=", "X-Amz-Expires=1", 1);
        assert!(t.check(SECRET, now).is_err(), "{name}: X-Amz-Expires change accepted");
    }

    // Headers outside SignedHeaders are not covered and may be added by proxies.
    let mut t = s.clone();
    t.add_header("X-Forwarded-For", "10.0.0.1");
    t.add_header("Accept-Encoding", "identity");
    t.check(SECRET, now).unwrap_or_else(|e| panic!("{name}: unsigned header rejected: {e:?}"));
}

fn berth_sigv4_date(t: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(fmt).unwrap()
}

#[test]
fn header_form_requests() {
    for (name, s) in requests() {
        assert!(s.header("authorization").is_some(), "{name}");
        accepts_and_detects_tampering(name, &s, suite_now());
    }
}

#[test]
fn presigned_requests_accept_and_detect_tampering() {
    for (name, s) in presigned_requests() {
        assert!(s.query.contains("X-Amz-Signature="), "{name}");
        assert!(s.header("authorization").is_none(), "{name}");
        accepts_and_detects_tampering(name, &s, suite_now());
    }
}

#[test]
fn session_token_is_reported() {
    for (name, s) in requests().into_iter().chain(presigned_requests()) {
        let parsed = s.parsed().unwrap();
        let want = name.contains("session token").then_some(TOKEN);
        assert_eq!(parsed.credential().session_token.as_deref(), want, "{name}");
    }
}

#[test]
fn credential_fields_are_reported() {
    let s = Spec::new("POST", "http://127.0.0.1:4566/")
        .scope("ap-southeast-2", "application-autoscaling")
        .sign_with("AKIAIOSFODNN7EXAMPLE", "s3cr3t");
    let p = s.parsed().unwrap();
    let c = p.credential();
    assert_eq!(c.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(c.date, "20150830");
    assert_eq!(c.region, "ap-southeast-2");
    assert_eq!(c.service, "application-autoscaling");
    assert_eq!(p.form(), Form::Header);
    assert_eq!(p.request_time(), suite_now());
    s.check("s3cr3t", suite_now()).unwrap();
    mismatch(s.check(SECRET, suite_now()), "other secret");
}

#[test]
fn presigned_window() {
    let s = &presigned_requests()[0].1;
    let t = suite_now();
    assert_eq!(s.parsed().unwrap().form(), Form::Presigned { expires: Some(300) });
    s.check(SECRET, t + time::Duration::seconds(300)).unwrap();
    s.check(SECRET, t - time::Duration::minutes(15)).unwrap();
    let e = s.check(SECRET, t + time::Duration::seconds(301)).unwrap_err();
    assert_eq!(e.to_string(), "Request has expired");
    assert_eq!(e.kind(), Kind::Expired);
    assert_eq!(e, Sigv4Error::RequestExpired { expired_at: "20150830T124100Z".into(), now: "20150830T124101Z".into() });
    let e = s.check(SECRET, t - time::Duration::minutes(15) - time::Duration::seconds(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
         (20150830T122059Z + 15 min.)"
    );
    // A presigned URL outlives the header form's 15 minutes.
    let week = &presigned_requests()[4].1;
    week.check(SECRET, t + time::Duration::days(7)).unwrap();
    assert_eq!(
        week.check(SECRET, t + time::Duration::days(7) + time::Duration::seconds(1)).unwrap_err().kind(),
        Kind::Expired
    );
}

#[test]
fn header_form_skew() {
    let s = &requests()[0].1;
    let t = suite_now();
    s.check(SECRET, t + time::Duration::minutes(15)).unwrap();
    s.check(SECRET, t - time::Duration::minutes(15)).unwrap();
    let e = s.check(SECRET, t + time::Duration::minutes(15) + time::Duration::seconds(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
         (20150830T125101Z - 15 min.)"
    );
    assert_eq!(e.kind(), Kind::Expired);
    let e = s.check(SECRET, t - time::Duration::hours(1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T115100Z \
         (20150830T113600Z + 15 min.)"
    );
    assert_eq!(e.kind(), Kind::Expired);
}

/// A small deterministic generator, so failures reproduce without a property-testing dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn random_queries_and_paths() {
    const QUERY_TOKENS: &[&str] = &[
        "a",
        "B",
        "z9",
        "&",
        "&",
        "=",
        "=",
        "+",
        "%20",
        "%2B",
        "%3D",
        "%26",
        "%25",
        "%E2%82%AC",
        "%c3%a9",
        "%41",
        "%7E",
        "~",
        "-",
        ".",
        "_",
        "!",
        "*",
        "'",
        "(",
        ")",
        ":",
        "@",
        ",",
        ";",
        "$",
        "/",
        "?",
        "X-Amz-Date",
        "Action",
    ];
    const PATH_SEGMENTS: &[&str] = &[
        "a",
        "B",
        ".",
        "..",
        "",
        "%20",
        "%2F",
        "x:y",
        "@",
        "!",
        "$",
        "~",
        "%E1%88%B4",
        "seg%41",
        "(",
        ")",
        "*",
        "+",
        ",",
        ";",
        "=",
        "%25",
        "-_.",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..300 {
        let mut path = String::new();
        for _ in 0..rng.next() % 6 {
            path.push('/');
            path.push_str(rng.pick(PATH_SEGMENTS));
        }
        if path.is_empty() || rng.next().is_multiple_of(4) {
            path.push('/');
        }
        let mut query = String::new();
        for _ in 0..rng.next() % 12 {
            query.push_str(rng.pick(QUERY_TOKENS));
        }
        let url = if query.is_empty() {
            format!("http://127.0.0.1:4566{path}")
        } else {
            format!("http://127.0.0.1:4566{path}?{query}")
        };
        let url: &'static str = Box::leak(url.into_boxed_str());
        let method = ["GET", "POST", "DELETE"][i % 3];
        let mut spec = Spec::new(method, url).body(b"payload").scope("us-east-1", "ecs");
        // A presigned URL that already carries X-Amz-Date is rightly rejected as ambiguous.
        if i % 5 == 0 && !query.contains("X-Amz-") {
            spec.presign = Some(Duration::from_secs(60));
        }
        let s = spec.sign();
        s.check(SECRET, suite_now()).unwrap_or_else(|e| panic!("#{i} {url}: {e:?}"));
        mismatch(s.check("other", suite_now()), url);
    }
}
