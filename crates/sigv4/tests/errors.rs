//! Whole-request error cases: which error, which kind, which message.

mod support;

use berth_sigv4::{Form, Kind, Parsed, Request, Sigv4Error, parse, verify};
use support::{SECRET, suite_now};

const VANILLA_SIG: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const CRED: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

fn vanilla_auth() -> String {
    format!("AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;x-amz-date, Signature={VANILLA_SIG}")
}

fn req<'a>(headers: &'a [(&'a str, &'a str)], query: &'a str) -> Request<'a> {
    Request { method: "GET", path: "/", query, headers, body: b"" }
}

fn parse_err(headers: &[(&str, &str)], query: &str) -> Sigv4Error {
    parse(&req(headers, query)).expect_err("parse should fail")
}

fn check(headers: &[(&str, &str)], query: &str) -> Result<Parsed, Sigv4Error> {
    let r = req(headers, query);
    let p = parse(&r)?;
    verify(&r, &p, SECRET, suite_now())?;
    Ok(p)
}

#[test]
fn vanilla_passes() {
    let auth = vanilla_auth();
    let h = [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z"), ("authorization", auth.as_str())];
    assert_eq!(check(&h, "").unwrap().form(), Form::Header);
}

#[test]
fn missing_authentication() {
    for (h, q) in [
        (&[("Host", "example.amazonaws.com")][..], ""),
        (&[][..], ""),
        (&[("Host", "h"), ("X-Amz-Date", "20150830T123600Z")][..], "X-Amz-Date=20150830T123600Z&a=b"),
        (&[("Host", "h")][..], "X-Amz-SignedHeaders=host&X-Amz-Expires=60"),
    ] {
        let e = parse_err(h, q);
        assert_eq!(e, Sigv4Error::MissingAuthentication);
        assert_eq!(e.kind(), Kind::Missing);
        assert_eq!(e.to_string(), "Missing Authentication Token");
    }
}

#[test]
fn duplicated_request_headers() {
    let auth = vanilla_auth();
    for dup in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"] {
        let mut h = vec![
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", auth.as_str()),
            ("X-Amz-Security-Token", "t"),
            ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ];
        let value = h.iter().find(|(n, _)| *n == dup).unwrap().1;
        h.push((dup, value));
        let e = parse_err(&h, "");
        assert_eq!(e.kind(), Kind::Malformed, "{dup}");
        assert!(e.to_string().contains("appears more than once"), "{dup}: {e}");
        assert!(e.to_string().contains(&dup.to_ascii_lowercase()), "{dup}: {e}");
    }
    // Two Date headers matter only when Date is the request time.
    let h = [
        ("Host", "example.amazonaws.com"),
        ("Date", "20150830T123600Z"),
        ("date", "20150830T123600Z"),
        ("Authorization", auth.as_str()),
    ];
    assert!(parse_err(&h, "").to_string().contains("'date' header appears more than once"));
    // A repeated signed header is signed as its values joined by ',', so one copy fails.
    let auth =
        format!("AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;my-header;x-amz-date, Signature={VANILLA_SIG}");
    let h = [
        ("Host", "example.amazonaws.com"),
        ("My-Header", "a"),
        ("my-header", "b"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", auth.as_str()),
    ];
    match check(&h, "") {
        Err(Sigv4Error::SignatureMismatch { canonical_request, .. }) => {
            assert!(canonical_request.contains("\nmy-header:a,b\n"), "{canonical_request}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn header_and_query_auth_together() {
    let auth = vanilla_auth();
    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    let e = parse_err(&h, "X-Amz-Algorithm=AWS4-HMAC-SHA256");
    assert_eq!(e.kind(), Kind::Malformed);
    assert!(e.to_string().starts_with("Only one auth mechanism allowed"), "{e}");
}

#[test]
fn dates() {
    let auth = vanilla_auth();
    let e = parse_err(&[("Host", "example.amazonaws.com"), ("Authorization", &auth)], "");
    assert_eq!(e, Sigv4Error::MissingDate);
    assert_eq!(e.to_string(), "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    assert_eq!(e.kind(), Kind::Malformed);

    for bad in ["2015-08-30T12:36:00Z", "20150830T123600", "", "Sun, 30 Aug 2015 12:36:00 GMT"] {
        let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", bad), ("Authorization", &auth)];
        let e = parse_err(&h, "");
        assert!(matches!(e, Sigv4Error::MalformedDate(_)), "{bad}: {e:?}");
        assert_eq!(e.kind(), Kind::Malformed);
    }
    let h = [("Host", "example.amazonaws.com"), ("Date", "yesterday"), ("Authorization", &auth)];
    assert_eq!(parse_err(&h, ""), Sigv4Error::MalformedDate("yesterday".into()));

    // X-Amz-Date wins over Date.
    let h = [
        ("Host", "example.amazonaws.com"),
        ("Date", "Mon, 31 Aug 2015 00:00:00 GMT"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", &auth),
    ];
    check(&h, "").unwrap();

    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150831T000000Z"), ("Authorization", &auth)];
    let e = parse_err(&h, "");
    assert_eq!(
        e.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20150830' != '20150831', from '20150831T000000Z'."
    );
    assert_eq!(e.kind(), Kind::SignatureMismatch);
}

/// Older clients sign the HTTP `Date` header instead of sending X-Amz-Date; the expected signature
/// is computed here from a hand-written canonical request with the oracle's primitives.
#[test]
fn date_header_in_http_form() {
    use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
    use sha2::{Digest, Sha256};
    let sha256_hex_string = |b: &[u8]| hex::encode(Sha256::digest(b));
    let date = "Sun, 30 Aug 2015 12:36:00 GMT";
    let canonical =
        format!("GET\n/\n\ndate:{date}\nhost:example.amazonaws.com\n\ndate;host\n{}", sha256_hex_string(b""));
    let sts = format!(
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
        sha256_hex_string(canonical.as_bytes())
    );
    let key = generate_signing_key(SECRET, support::suite_time(), "us-east-1", "service");
    let sig = calculate_signature(key, sts.as_bytes());
    let auth = format!("AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=date;host, Signature={sig}");
    let h = [("Host", "example.amazonaws.com"), ("Date", date), ("Authorization", &auth)];
    let p = check(&h, "").unwrap();
    assert_eq!(p.request_time(), suite_now());
}

#[test]
fn signed_headers_must_be_present_and_include_host() {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;x-amz-date;x-amz-target, Signature={VANILLA_SIG}"
    );
    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    let e = parse_err(&h, "");
    assert_eq!(e, Sigv4Error::SignedHeaderMissing("x-amz-target".into()));
    assert_eq!(e.kind(), Kind::Malformed);
    assert!(e.to_string().contains("'x-amz-target'"));

    let h = [("X-Amz-Date", "20150830T123600Z"), ("Authorization", &vanilla_auth())];
    assert_eq!(parse_err(&h, ""), Sigv4Error::SignedHeaderMissing("host".into()));

    let auth = format!("AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=x-amz-date, Signature={VANILLA_SIG}");
    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    let e = parse_err(&h, "");
    assert_eq!(e, Sigv4Error::HostNotSigned);
    assert_eq!(e.to_string(), "'Host' must be a 'SignedHeader' in the AWS Authorization.");
}

#[test]
fn signature_mismatch_explains_itself() {
    let auth = vanilla_auth().replace("5fa00", "5fa01");
    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    let e = check(&h, "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details."
    );
    assert_eq!(e.kind(), Kind::SignatureMismatch);
    let Sigv4Error::SignatureMismatch { canonical_request, string_to_sign } = e else { panic!() };
    assert_eq!(
        canonical_request,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
}

#[test]
fn content_sha256_header() {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={VANILLA_SIG}"
    );
    for (value, kind, msg) in [
        ("UNSIGNED-PAYLOAD", Kind::Malformed, "only accepted in presigned URLs"),
        ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Kind::Malformed, "streaming payloads"),
        ("abc", Kind::Malformed, "must be the hex SHA-256"),
        ("0000000000000000000000000000000000000000000000000000000000000000", Kind::SignatureMismatch, "does not match"),
    ] {
        let h = [
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("X-Amz-Content-Sha256", value),
            ("Authorization", auth.as_str()),
        ];
        let e = check(&h, "").unwrap_err();
        assert_eq!(e.kind(), kind, "{value}: {e:?}");
        assert!(e.to_string().contains(msg), "{value}: {e}");
    }
    // The right hash in uppercase gets past the body check to the signature check.
    let h = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("X-Amz-Content-Sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
        ("Authorization", auth.as_str()),
    ];
    match check(&h, "").unwrap_err() {
        Sigv4Error::SignatureMismatch { canonical_request, .. } => assert!(
            canonical_request.ends_with("\nE3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
            "{canonical_request}"
        ),
        e => panic!("{e:?}"),
    }
}

const PRESIGN_BASE: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
    &X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request\
    &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host\
    &X-Amz-Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

#[test]
fn presigned_parameter_errors() {
    let h = [("Host", "example.amazonaws.com")];
    let p = parse(&req(&h, PRESIGN_BASE)).unwrap();
    assert_eq!(p.form(), Form::Presigned { expires: None });
    assert_eq!(p.credential().region, "us-east-1");

    let e = parse_err(&h, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z");
    assert_eq!(
        e.to_string(),
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
         parameters must include 'X-Amz-Signature'. AWS query-string parameters must include \
         'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
    assert_eq!(e.kind(), Kind::Malformed);

    let e = parse_err(&h, &PRESIGN_BASE.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"));
    assert!(matches!(e, Sigv4Error::UnsupportedAlgorithm(ref a) if a == "AWS4-HMAC-SHA1"), "{e:?}");

    for (expires, want) in [
        ("0", "between 1 and 604800"),
        ("604801", "between 1 and 604800"),
        ("abc", "should be a number"),
        ("", "should be a number"),
        ("-5", "should be a number"),
    ] {
        let e = parse_err(&h, &format!("{PRESIGN_BASE}&X-Amz-Expires={expires}"));
        assert!(matches!(e, Sigv4Error::InvalidExpires(_)), "{expires}: {e:?}");
        assert!(e.to_string().contains(want), "{expires}: {e}");
        assert_eq!(e.kind(), Kind::Malformed);
    }

    let e = parse_err(&h, &format!("{PRESIGN_BASE}&X-Amz-Signature=00"));
    assert_eq!(e, Sigv4Error::MalformedQuery("The query parameter 'X-Amz-Signature' appears more than once".into()));

    let e = parse_err(&h, &PRESIGN_BASE.replace("AKIDEXAMPLE%2F", "AKID%FF%2F"));
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");

    let e = parse_err(&h, &PRESIGN_BASE.replace("%2Faws4_request", "%2Faws4_reqest"));
    assert_eq!(e, Sigv4Error::InvalidTerminator("aws4_reqest".into()));

    let e = parse_err(&h, &PRESIGN_BASE.replace("T123600Z", "T12:36Z"));
    assert!(matches!(e, Sigv4Error::MalformedDate(_)), "{e:?}");

    let e = parse_err(&h, &PRESIGN_BASE.replace("SignedHeaders=host", "SignedHeaders=x-amz-date"));
    assert_eq!(e, Sigv4Error::HostNotSigned);

    let e = parse_err(&[], PRESIGN_BASE);
    assert_eq!(e, Sigv4Error::SignedHeaderMissing("host".into()));
}

#[test]
fn unsupported_algorithm_in_header() {
    for auth in [
        "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host, Signature=00",
        "Bearer eyJhbGciOi",
    ] {
        let h = [("Host", "h"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth)];
        let e = parse_err(&h, "");
        assert!(matches!(e, Sigv4Error::UnsupportedAlgorithm(_)), "{auth}: {e:?}");
        assert_eq!(e.kind(), Kind::Malformed);
    }
}

#[test]
fn huge_inputs_are_handled_quickly() {
    let start = std::time::Instant::now();
    // A 100 KB Authorization header that is well formed except for its size.
    let names: Vec<String> = (0..12_000).map(|i| format!("x-h{i:05}")).collect();
    let mut signed: Vec<&str> = names.iter().map(String::as_str).collect();
    signed.push("host");
    signed.sort_unstable();
    let auth =
        format!("AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders={}, Signature={VANILLA_SIG}", signed.join(";"));
    assert!(auth.len() > 100_000);
    let h = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    let e = parse_err(&h, "");
    assert_eq!(e, Sigv4Error::SignedHeaderMissing("x-h00000".into()));

    // The same names all present: verification runs and fails on the signature.
    let mut h: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    h.push(("Host", "example.amazonaws.com"));
    h.push(("X-Amz-Date", "20150830T123600Z"));
    h.push(("Authorization", auth.as_str()));
    assert_eq!(check(&h, "").unwrap_err().kind(), Kind::SignatureMismatch);

    // 100 KB of garbage in each place, with short messages.
    let garbage = "Credential=x/".repeat(8_000);
    let auth = format!("AWS4-HMAC-SHA256 {garbage}");
    let h = [("Host", "h"), ("X-Amz-Date", "20150830T123600Z"), ("Authorization", auth.as_str())];
    assert!(parse_err(&h, "").to_string().len() < 1_000);
    let query = format!("{PRESIGN_BASE}&{}", "a=%E1%88%B4&".repeat(10_000));
    let h = [("Host", "example.amazonaws.com")];
    let r = req(&h, &query);
    let p = parse(&r).unwrap();
    assert_eq!(verify(&r, &p, SECRET, suite_now()).unwrap_err().kind(), Kind::SignatureMismatch);
    let query = format!("X-Amz-Credential={}", "%2F".repeat(40_000));
    assert!(parse_err(&h, &query).to_string().len() < 1_500);

    assert!(start.elapsed() < std::time::Duration::from_secs(10), "{:?}", start.elapsed());
}

#[test]
fn never_panics_on_odd_inputs() {
    let odd = [
        "",
        "%",
        "%%",
        "%E1%88",
        "ሴ",
        "=",
        "&&&",
        "X-Amz-Algorithm",
        "X-Amz-Algorithm=&X-Amz-Credential=&X-Amz-Signature=",
        "/../../..",
        "\u{0}",
        "AWS4-HMAC-SHA256 ሴ=ሴ, ,=,",
        "AWS4-HMAC-SHA256 Credential=ሴ/ሴ/ሴ/ሴ/ሴ, SignedHeaders=ሴ, Signature=ሴ",
    ];
    for a in odd {
        for b in odd {
            let h = [("Host", "h"), ("X-Amz-Date", b), ("Authorization", a)];
            let r = Request { method: a, path: b, query: a, headers: &h, body: a.as_bytes() };
            if let Ok(p) = parse(&r) {
                let _ = verify(&r, &p, b, suite_now());
            }
            let r = Request { headers: &[("Host", "h")], ..r };
            if let Ok(p) = parse(&r) {
                let _ = verify(&r, &p, b, suite_now());
            }
        }
    }
}
