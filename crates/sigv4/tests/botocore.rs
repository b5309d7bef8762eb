//! Requests signed by botocore (what the aws CLI and boto3 send), verified at the current time.
//! Skipped when python3 or botocore is not installed.

use std::process::Command;

use berth_sigv4::{Expected, Form, Kind, Request, binding, parse, verify};
use time::OffsetDateTime;

const SECRET: &str = "botocore/Secret+Key/EXAMPLE";

const SCRIPT: &str = r#"
import json
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

creds = Credentials("AKIDBOTOCORE", "botocore/Secret+Key/EXAMPLE")
temp = Credentials("ASIABOTOCORE", "botocore/Secret+Key/EXAMPLE", "FQoGZXIvYXdzEXAMPLE//token+/=")
base = "http://127.0.0.1:4566/"
out = []

def add(name, auth, **kw):
    req = AWSRequest(**kw)
    auth.add_auth(req)
    p = req.prepare()
    body = p.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    out.append({
        "name": name,
        "method": p.method,
        "url": p.url,
        "headers": [[k, v] for k, v in p.headers.items()],
        "body": body.hex(),
    })

add("ecs ListClusters", SigV4Auth(creds, "ecs", "us-east-1"),
    method="POST", url=base, data=b"{}",
    headers={"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"})
add("ecs RunTask with session token", SigV4Auth(temp, "ecs", "eu-west-1"),
    method="POST", url=base,
    data=json.dumps({"cluster": "default", "taskDefinition": "web:1", "count": 2}).encode(),
    headers={"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RunTask"})
add("sts GetCallerIdentity", SigV4Auth(creds, "sts", "us-east-1"),
    method="POST", url=base, data=b"Action=GetCallerIdentity&Version=2011-06-15",
    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
add("sts with session token", SigV4Auth(temp, "sts", "us-east-1"),
    method="POST", url=base, data=b"Action=GetCallerIdentity&Version=2011-06-15",
    headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
add("query params", SigV4Auth(creds, "monitoring", "us-west-2"),
    method="GET", url=base,
    params=[("Action", "ListMetrics"), ("Namespace", "a b+c"), ("Dim", "\u00e9=\u20ac&x"),
            ("Dim", ""), ("tilde", "~-._")])
add("encoded path", SigV4Auth(creds, "ecr", "us-east-1"),
    method="GET", url="http://127.0.0.1:4566/v2/my%20repo/./tags/list")
add("sts presigned", SigV4QueryAuth(creds, "sts", "us-east-1", expires=300),
    method="GET", url=base + "?Action=GetCallerIdentity&Version=2011-06-15")
add("sts presigned with session token", SigV4QueryAuth(temp, "sts", "us-east-1", expires=60),
    method="GET", url=base + "?Action=GetCallerIdentity&Version=2011-06-15")
print(json.dumps(out))
"#;

struct Captured {
    name: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn botocore_requests() -> Option<Vec<Captured>> {
    let probe = Command::new("python3").args(["-c", "import botocore"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: python3 with botocore is not available");
        return None;
    }
    let out = Command::new("python3").args(["-c", SCRIPT]).output().expect("run python3");
    assert!(out.status.success(), "botocore script failed: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("script output is JSON");
    let mut captured = Vec::new();
    for r in json.as_array().unwrap() {
        let url = r["url"].as_str().unwrap();
        let rest = url.strip_prefix("http://127.0.0.1:4566").unwrap();
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut headers: Vec<(String, String)> = r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
            .collect();
        // botocore signs the URL's host; urllib3 sends it as the Host header.
        headers.push(("Host".into(), "127.0.0.1:4566".into()));
        captured.push(Captured {
            name: r["name"].as_str().unwrap().into(),
            method: r["method"].as_str().unwrap().into(),
            path: path.into(),
            query: query.into(),
            headers,
            body: hex::decode(r["body"].as_str().unwrap()).unwrap(),
        });
    }
    Some(captured)
}

#[test]
fn botocore_signed_requests_verify() {
    let Some(requests) = botocore_requests() else {
        return;
    };
    assert_eq!(requests.len(), 8);
    let now = OffsetDateTime::now_utc();
    for c in &requests {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let req = Request { method: &c.method, path: &c.path, query: &c.query, headers: &headers, body: &c.body };
        let parsed = parse(&req).unwrap_or_else(|e| panic!("{}: {e:?}", c.name));
        let cred = parsed.credential();
        assert!(cred.access_key_id.ends_with("BOTOCORE"), "{}", c.name);
        assert_eq!(cred.session_token.is_some(), c.name.contains("session token"), "{}", c.name);
        assert_eq!(matches!(parsed.form(), Form::Presigned { .. }), c.name.contains("presigned"), "{}", c.name);
        // botocore signs every header a server reads to choose the operation.
        let json = c.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"));
        let expected = Expected {
            service: &cred.service,
            region: &cred.region,
            operation_headers: if json { &["content-type", "x-amz-target"] } else { &["content-type"] },
            presignable: !json,
        };
        binding::check(&req, &parsed, &expected).unwrap_or_else(|e| panic!("{}: {e:?}", c.name));
        verify(&req, &parsed, SECRET, now).unwrap_or_else(|e| panic!("{}: {e:?}\nquery: {}", c.name, c.query));
        assert_eq!(verify(&req, &parsed, "wrong", now).unwrap_err().kind(), Kind::SignatureMismatch, "{}", c.name);
        let mut body = c.body.clone();
        body.push(b' ');
        let tampered = Request { body: &body, ..req };
        assert_eq!(verify(&tampered, &parsed, SECRET, now).unwrap_err().kind(), Kind::SignatureMismatch, "{}", c.name);
        let later = now + time::Duration::hours(2);
        assert_eq!(verify(&req, &parsed, SECRET, later).unwrap_err().kind(), Kind::Expired, "{}", c.name);
    }
}
