//! Requests from the public AWS SigV4 test suite (AKIDEXAMPLE, 20150830T123600Z, us-east-1,
//! service "service") and the AWS documentation's IAM example. Each expected signature is checked
//! three ways: the published value, the `aws-sigv4` crate's output, and `verify` accepting it.

mod support;

use berth_sigv4::{Kind, Request, parse, verify};
use support::{SECRET, Spec, suite_now};

struct Vector {
    name: &'static str,
    spec: Spec<'static>,
    /// The path as the suite's raw request line has it, when it differs from the URL's.
    raw_path: Option<&'static str>,
    signed_headers: &'static str,
    signature: &'static str,
}

fn vectors() -> Vec<Vector> {
    vec![
        Vector {
            name: "get-vanilla",
            spec: Spec::new("GET", "https://example.amazonaws.com/"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-vanilla-query-order-key-case",
            spec: Spec::new("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        },
        Vector {
            name: "get-vanilla-empty-query-key",
            spec: Spec::new("GET", "https://example.amazonaws.com/?Param1=value1"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        },
        Vector {
            name: "post-vanilla",
            spec: Spec::new("POST", "https://example.amazonaws.com/"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        },
        Vector {
            name: "post-x-www-form-urlencoded",
            spec: Spec::new("POST", "https://example.amazonaws.com/")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(b"Param1=value1"),
            raw_path: None,
            signed_headers: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        },
        Vector {
            name: "post-x-www-form-urlencoded-parameters",
            spec: Spec::new("POST", "https://example.amazonaws.com/")
                .header("Content-Type", "application/x-www-form-urlencoded; charset=utf8")
                .body(b"Param1=value1"),
            raw_path: None,
            signed_headers: "content-type;host;x-amz-date",
            signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
        },
        Vector {
            name: "get-header-value-trim",
            spec: Spec::new("GET", "https://example.amazonaws.com/")
                .header("My-Header1", "value1")
                .header("My-Header2", "\"a   b   c\""),
            raw_path: None,
            signed_headers: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        },
        Vector {
            name: "post-header-key-sort",
            spec: Spec::new("POST", "https://example.amazonaws.com/").header("My-Header1", "value1"),
            raw_path: None,
            signed_headers: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        },
        Vector {
            name: "post-header-value-case",
            spec: Spec::new("POST", "https://example.amazonaws.com/").header("My-Header1", "VALUE1"),
            raw_path: None,
            signed_headers: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        },
        Vector {
            name: "get-vanilla-query-unreserved",
            spec: Spec::new(
                "GET",
                "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            ),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            spec: Spec::new("GET", "https://example.amazonaws.com/?%E1%88%B4=bar"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "get-unreserved",
            spec: Spec::new(
                "GET",
                "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            ),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        },
        // normalize-path cases: the suite's raw paths, signed as their normalized form.
        Vector {
            name: "get-relative",
            spec: Spec::new("GET", "https://example.amazonaws.com/example/.."),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-relative-relative",
            spec: Spec::new("GET", "https://example.amazonaws.com/example1/example2/../.."),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slash-dot-slash",
            spec: Spec::new("GET", "https://example.amazonaws.com/./"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slash",
            spec: Spec::new("GET", "https://example.amazonaws.com//"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slash-pointless-dot",
            spec: Spec::new("GET", "https://example.amazonaws.com/./example"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        },
        Vector {
            name: "get-slashes",
            spec: Spec::new("GET", "https://example.amazonaws.com//example//"),
            raw_path: None,
            signed_headers: "host;x-amz-date",
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        },
        Vector {
            name: "get-space",
            spec: Spec { single_encode: true, ..Spec::new("GET", "https://example.amazonaws.com/example%20space/") },
            raw_path: Some("/example space/"),
            signed_headers: "host;x-amz-date",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        },
        Vector {
            name: "get-utf8",
            spec: Spec { single_encode: true, ..Spec::new("GET", "https://example.amazonaws.com/%E1%88%B4") },
            raw_path: Some("/ሴ"),
            signed_headers: "host;x-amz-date",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        },
        // The IAM ListUsers example of the AWS General Reference's SigV4 pages.
        Vector {
            name: "iam-list-users",
            spec: Spec::new("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
                .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
                .scope("us-east-1", "iam"),
            raw_path: None,
            signed_headers: "content-type;host;x-amz-date",
            signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        },
    ]
}

#[test]
fn published_vectors_agree_with_the_oracle_and_verify() {
    for v in vectors() {
        let mut signed = v.spec.sign();
        assert_eq!(signed.signature, v.signature, "{}: oracle disagrees with the published signature", v.name);
        let scope_service = v.spec.service;
        let expected_auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/{scope_service}/aws4_request, \
             SignedHeaders={}, Signature={}",
            v.signed_headers, v.signature
        );
        assert_eq!(signed.header("authorization"), Some(expected_auth.as_str()), "{}", v.name);
        if let Some(raw) = v.raw_path {
            signed.path = raw.into();
        }
        signed.check(SECRET, suite_now()).unwrap_or_else(|e| panic!("{}: {e:?}", v.name));
        assert_eq!(signed.check("wrong", suite_now()).unwrap_err().kind(), Kind::SignatureMismatch, "{}", v.name);
    }
}

/// The suite's get-vanilla request typed in by hand, independent of the oracle's request building.
#[test]
fn get_vanilla_by_hand() {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth)];
    let req = Request { method: "GET", path: "/", query: "", headers: &headers, body: b"" };
    let parsed = parse(&req).unwrap();
    assert_eq!(parsed.credential().access_key_id, "AKIDEXAMPLE");
    assert_eq!(parsed.signed_headers(), ["host", "x-amz-date"]);
    verify(&req, &parsed, SECRET, suite_now()).unwrap();

    // The suite's get-header-value-trim request, raw header spacing included.
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                SignedHeaders=host;my-header1;my-header2;x-amz-date, \
                Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736";
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("My-Header1", " value1"),
        ("My-Header2", " \"a   b   c\""),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", auth),
    ];
    let req = Request { headers: &headers, ..req };
    verify(&req, &parse(&req).unwrap(), SECRET, suite_now()).unwrap();
}
