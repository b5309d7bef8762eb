//! Parsers for the pieces of SigV4 that arrive as text: the `Authorization` header, the credential
//! scope, the signed-header list and the signature.
//!
//! They are public so that they can be fuzzed on their own; [`crate::parse`] is the usual entry
//! point. Every function here is linear in its input, never panics, and quotes at most a short
//! excerpt of the input in its error messages.

use std::fmt;

use crate::error::{Sigv4Error, excerpt};

/// The only algorithm this crate verifies.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The last element of every SigV4 credential scope.
pub const TERMINATOR: &str = "aws4_request";

/// Who signed the request and for what: the credential scope, plus the session token if one was sent.
///
/// The server looks up the secret by `access_key_id` (and checks `session_token` if it issues
/// temporary credentials), and should check that `region` and `service` are ones it serves.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    /// `yyyymmdd`, always equal to the date part of the request time once [`crate::parse`] succeeded.
    pub date: String,
    pub region: String,
    pub service: String,
    /// `X-Amz-Security-Token` (header or query parameter), if present.
    pub session_token: Option<String>,
}

impl Credential {
    /// The credential scope as it appears in the string to sign: `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/{TERMINATOR}", self.date, self.region, self.service)
    }
}

// Session tokens are bearer secrets, so keep them out of logs that print a Credential.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub credential: Credential,
    /// Lowercase, sorted, without duplicates, always containing `host`.
    pub signed_headers: Vec<String>,
    pub signature: [u8; 32],
}

/// Parses the value of an `Authorization` header.
///
/// Accepts `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` with the three
/// components in any order, separated by `,` and optional spaces. Rejects other algorithms,
/// missing, empty, duplicated or unknown components.
pub fn parse_authorization_header(value: &str) -> Result<AuthorizationHeader, Sigv4Error> {
    let value = value.trim_matches(is_ows);
    if value.is_empty() {
        return Err(Sigv4Error::MalformedAuthorization(
            "Authorization header is empty; expected 'AWS4-HMAC-SHA256 Credential=..., \
             SignedHeaders=..., Signature=...'"
                .to_owned(),
        ));
    }
    let (algorithm, rest) = match value.find(is_ows) {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    if algorithm != ALGORITHM {
        return Err(Sigv4Error::UnsupportedAlgorithm(excerpt(algorithm)));
    }
    let rest = rest.trim_matches(is_ows);

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if !rest.is_empty() {
        for part in rest.split(',') {
            let part = part.trim_matches(is_ows);
            if part.is_empty() {
                return Err(malformed("Authorization header has an empty component (check the ',' separators)", value));
            }
            let Some((key, val)) = part.split_once('=') else {
                return Err(Sigv4Error::MalformedAuthorization(format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                    excerpt(part),
                    excerpt(value)
                )));
            };
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => {
                    return Err(malformed(
                        &format!(
                            "Authorization header has an unknown component '{}'; expected only \
                             Credential, SignedHeaders and Signature",
                            excerpt(key)
                        ),
                        value,
                    ));
                }
            };
            if slot.is_some() {
                return Err(malformed(&format!("Authorization header has more than one '{key}' component"), value));
            }
            if val.is_empty() {
                return Err(malformed(&format!("Authorization header has an empty '{key}' component"), value));
            }
            *slot = Some(val);
        }
    }

    // AWS lists every missing component at once, so the client can fix them in one go.
    let mut missing = String::new();
    for (name, v) in [
        ("Credential", credential.is_none()),
        ("Signature", signature.is_none()),
        ("SignedHeaders", signed_headers.is_none()),
    ] {
        if v {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) = (credential, signed_headers, signature) else {
        return Err(Sigv4Error::MalformedAuthorization(format!("{missing}Authorization={}", excerpt(value))));
    };

    Ok(AuthorizationHeader {
        credential: parse_credential(credential)?,
        signed_headers: parse_signed_headers(signed_headers)?,
        signature: parse_signature(signature)?,
    })
}

/// Parses `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`.
///
/// The returned credential has no session token; that comes from elsewhere in the request.
pub fn parse_credential(value: &str) -> Result<Credential, Sigv4Error> {
    let parts: Vec<&str> = value.splitn(6, '/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(Sigv4Error::MalformedCredential(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{}'",
            excerpt(value)
        )));
    };
    if access_key_id.is_empty() || !access_key_id.bytes().all(is_visible_ascii) {
        return Err(Sigv4Error::MalformedCredential(format!(
            "Credential has an invalid access key ID '{}'",
            excerpt(access_key_id)
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Sigv4Error::MalformedCredential(format!(
            "Credential scope date '{}' is not in the form yyyymmdd",
            excerpt(date)
        )));
    }
    for (what, v) in [("region", region), ("service", service)] {
        if v.is_empty() || !v.bytes().all(is_visible_ascii) {
            return Err(Sigv4Error::MalformedCredential(format!(
                "Credential should be scoped to a valid {what}, not '{}'.",
                excerpt(v)
            )));
        }
    }
    if terminator != TERMINATOR {
        return Err(Sigv4Error::InvalidTerminator(excerpt(terminator)));
    }
    Ok(Credential {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        session_token: None,
    })
}

/// Parses `content-type;host;x-amz-date`: lowercase header names, sorted, no duplicates, with `host`.
///
/// Sorting is required rather than repaired because the client signed the list exactly as sent;
/// a client that did not sort it computed a canonical request we cannot reproduce.
pub fn parse_signed_headers(value: &str) -> Result<Vec<String>, Sigv4Error> {
    let mut out: Vec<String> = Vec::new();
    for name in value.split(';') {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(Sigv4Error::MalformedAuthorization(format!(
                "SignedHeaders contains an invalid header name '{}'; it must be a ';'-separated \
                 list of header names, e.g. content-type;host;x-amz-date",
                excerpt(name)
            )));
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Sigv4Error::MalformedAuthorization(format!(
                "SignedHeaders must list lowercase header names, got '{}'",
                excerpt(name)
            )));
        }
        if let Some(prev) = out.last()
            && prev.as_str() >= name
        {
            return Err(Sigv4Error::MalformedAuthorization(format!(
                "SignedHeaders must be sorted and without duplicates, got '{}' after '{}'",
                excerpt(name),
                excerpt(prev)
            )));
        }
        out.push(name.to_owned());
    }
    if out.binary_search_by(|n| n.as_str().cmp("host")).is_err() {
        return Err(Sigv4Error::HostNotSigned);
    }
    Ok(out)
}

/// Parses the 64 hex digits of a signature.
pub fn parse_signature(value: &str) -> Result<[u8; 32], Sigv4Error> {
    let mut out = [0u8; 32];
    if value.len() != 64 || hex::decode_to_slice(value, &mut out).is_err() {
        return Err(Sigv4Error::MalformedAuthorization(format!(
            "Signature must be 64 hexadecimal characters (a hex-encoded HMAC-SHA256), got '{}'",
            excerpt(value)
        )));
    }
    Ok(out)
}

fn malformed(what: &str, header: &str) -> Sigv4Error {
    Sigv4Error::MalformedAuthorization(format!("{what}. Authorization={}", excerpt(header)))
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_visible_ascii(b: u8) -> bool {
    b.is_ascii_graphic()
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    const SIG: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const CRED: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    fn header(parts: &str) -> String {
        format!("AWS4-HMAC-SHA256 {parts}")
    }

    fn good() -> String {
        header(&format!("Credential={CRED}, SignedHeaders=host;x-amz-date, Signature={SIG}"))
    }

    fn err(value: &str) -> Sigv4Error {
        parse_authorization_header(value).expect_err(value)
    }

    #[test]
    fn parses_botocore_style_header() {
        let a = parse_authorization_header(&good()).unwrap();
        assert_eq!(a.credential.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.credential.date, "20150830");
        assert_eq!(a.credential.region, "us-east-1");
        assert_eq!(a.credential.service, "service");
        assert_eq!(a.credential.session_token, None);
        assert_eq!(a.credential.scope(), "20150830/us-east-1/service/aws4_request");
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(hex::encode(a.signature), SIG);
    }

    #[test]
    fn accepts_any_order_and_spacing() {
        for v in [
            header(&format!("Signature={SIG},Credential={CRED},SignedHeaders=host;x-amz-date")),
            header(&format!("SignedHeaders=host;x-amz-date ,  Signature={SIG} ,Credential={CRED}")),
            format!(
                "  AWS4-HMAC-SHA256\t \tCredential={CRED},\tSignedHeaders=host;x-amz-date, Signature={}  ",
                SIG.to_uppercase()
            ),
        ] {
            let a = parse_authorization_header(&v).unwrap();
            assert_eq!(hex::encode(a.signature), SIG);
            assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        }
    }

    #[test]
    fn rejects_other_algorithms() {
        for v in ["", "  "] {
            assert!(err(v).to_string().contains("Authorization header is empty"));
        }
        for v in [
            "Basic dXNlcjpwYXNz",
            "Bearer abc",
            "AWS AKIDEXAMPLE:c2lnbmF0dXJl",
            "AWS4-HMAC-SHA512 Credential=a/b/c/d/aws4_request",
            "AWS4-ECDSA-P256-SHA256 Credential=a/20150830/service/aws4_request",
            "aws4-hmac-sha256 Credential=x",
            "AWS4-HMAC-SHA256Credential=x",
        ] {
            let e = err(v);
            assert!(matches!(e, Sigv4Error::UnsupportedAlgorithm(_)), "{v:?}: {e:?}");
            assert_eq!(e.kind(), Kind::Malformed);
        }
        let e = err("Basic dXNlcjpwYXNz");
        assert!(e.to_string().contains("'Basic'"), "{e}");
    }

    #[test]
    fn lists_every_missing_component() {
        let e = err(&header("SignedHeaders=host"));
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host"
            ),
            "{msg}"
        );
        assert_eq!(e.kind(), Kind::Malformed);

        let e = err("AWS4-HMAC-SHA256");
        let msg = e.to_string();
        for c in ["Credential", "Signature", "SignedHeaders"] {
            assert!(msg.contains(&format!("requires '{c}' parameter")), "{msg}");
        }

        for v in [
            header(&format!("Credential={CRED}, SignedHeaders=host")),
            header(&format!("Credential={CRED}, Signature={SIG}")),
            header(&format!("SignedHeaders=host, Signature={SIG}")),
        ] {
            assert!(matches!(err(&v), Sigv4Error::MalformedAuthorization(m) if m.contains("requires")), "{v}");
        }
    }

    #[test]
    fn rejects_duplicate_empty_unknown_and_bare_components() {
        let cases = [
            (
                header(&format!("Credential={CRED}, Credential={CRED}, SignedHeaders=host, Signature={SIG}")),
                "more than one 'Credential'",
            ),
            (
                header(&format!("Credential={CRED}, SignedHeaders=host, Signature={SIG}, Signature={SIG}")),
                "more than one 'Signature'",
            ),
            (header(&format!("Credential=, SignedHeaders=host, Signature={SIG}")), "empty 'Credential'"),
            (header(&format!("Credential={CRED}, SignedHeaders=host, Signature={SIG},")), "empty component"),
            (header(&format!("Credential={CRED},, SignedHeaders=host, Signature={SIG}")), "empty component"),
            (
                header(&format!("Credential={CRED}, SignedHeaders=host, Signature={SIG}, Foo=bar")),
                "unknown component 'Foo'",
            ),
            (
                header(&format!("credential={CRED}, SignedHeaders=host, Signature={SIG}")),
                "unknown component 'credential'",
            ),
            (
                header(&format!("Credential={CRED}, SignedHeaders host, Signature={SIG}")),
                "'SignedHeaders host' not a valid key=value pair (missing equal-sign)",
            ),
        ];
        for (v, want) in cases {
            let e = err(&v);
            assert_eq!(e.kind(), Kind::Malformed, "{v}");
            assert!(e.to_string().contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn rejects_bad_credentials() {
        for (cred, want) in [
            ("AKIDEXAMPLE", "exactly 5 slash-delimited elements"),
            ("AKIDEXAMPLE/20150830/us-east-1/service", "exactly 5 slash-delimited elements"),
            ("AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/extra", "exactly 5 slash-delimited elements"),
            ("/20150830/us-east-1/service/aws4_request", "access key ID"),
            ("AKID EXAMPLE/20150830/us-east-1/service/aws4_request", "access key ID"),
            ("AKIDEXAMPLE/2015-08-30/us-east-1/service/aws4_request", "yyyymmdd"),
            ("AKIDEXAMPLE/201508ሴ/us-east-1/service/aws4_request", "yyyymmdd"),
            ("AKIDEXAMPLE/20150830//service/aws4_request", "valid region"),
            ("AKIDEXAMPLE/20150830/us-east-1//aws4_request", "valid service"),
        ] {
            let e = parse_credential(cred).expect_err(cred);
            assert!(matches!(e, Sigv4Error::MalformedCredential(_)), "{cred}: {e:?}");
            assert!(e.to_string().contains(want), "{cred}: {e}");
            assert_eq!(e.kind(), Kind::Malformed);
        }
        let e = parse_credential("AKIDEXAMPLE/20150830/us-east-1/service/aws4_requesx").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesx'."
        );
        assert_eq!(e.kind(), Kind::SignatureMismatch);
    }

    #[test]
    fn rejects_bad_signed_headers() {
        for (v, want) in [
            ("x-amz-date", "'Host' must be a 'SignedHeader'"),
            ("content-type;x-amz-date", "'Host' must be a 'SignedHeader'"),
            ("host;;x-amz-date", "invalid header name ''"),
            ("host;", "invalid header name ''"),
            ("host; x-amz-date", "invalid header name ' x-amz-date'"),
            ("host;x-amz-date:", "invalid header name"),
            ("Host;x-amz-date", "lowercase"),
            ("x-amz-date;host", "sorted"),
            ("host;host", "sorted and without duplicates"),
        ] {
            let e = parse_signed_headers(v).expect_err(v);
            assert!(e.to_string().contains(want), "{v}: {e}");
            assert_eq!(e.kind(), Kind::Malformed);
        }
        assert_eq!(
            parse_signed_headers("content-type;host;x-amz-date;x-amz-target").unwrap(),
            ["content-type", "host", "x-amz-date", "x-amz-target"]
        );
    }

    #[test]
    fn rejects_bad_signatures() {
        for s in ["abc", &SIG[..63], &format!("{SIG}0"), &format!("{}g", &SIG[..63]), &format!("{}ሴ", &SIG[..61])] {
            let e = parse_signature(s).expect_err(s);
            assert!(e.to_string().contains("64 hexadecimal"), "{s}: {e}");
        }
    }

    #[test]
    fn truncated_headers_never_panic() {
        let full = good();
        for (i, _) in full.char_indices() {
            let _ = parse_authorization_header(&full[..i]);
        }
        let unicode = good().replace("us-east-1", "ሴሴ-east-ሴ");
        for (i, _) in unicode.char_indices() {
            let _ = parse_authorization_header(&unicode[..i]);
        }
    }

    #[test]
    fn huge_header_is_rejected_quickly_with_a_short_message() {
        let start = std::time::Instant::now();
        let many_headers = (0..25_000).map(|i| format!("h{i:06}")).collect::<Vec<_>>().join(";");
        let v = header(&format!("Credential={CRED}, SignedHeaders={many_headers}, Signature={SIG}"));
        assert!(v.len() > 100_000);
        // The names are sorted but "host" is absent.
        assert_eq!(err(&v), Sigv4Error::HostNotSigned);

        let garbage = header(&",".repeat(100_000));
        assert!(err(&garbage).to_string().len() < 1_000);
        let garbage = header(&"Credential=".repeat(10_000));
        assert!(err(&garbage).to_string().len() < 1_000);
        let garbage = "A".repeat(100_000);
        assert!(err(&garbage).to_string().len() < 1_000);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn debug_redacts_session_token() {
        let mut c = parse_credential(CRED).unwrap();
        c.session_token = Some("very-secret-token".into());
        let d = format!("{c:?}");
        assert!(!d.contains("very-secret-token"), "{d}");
        assert!(d.contains("<redacted>"), "{d}");
    }
}
