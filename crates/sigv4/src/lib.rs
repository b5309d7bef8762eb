#![forbid(unsafe_code)]
//! AWS Signature Version 4 verification for the JSON and query protocols (every service but S3),
//! in the header form (`Authorization: AWS4-HMAC-SHA256 ...`) and the presigned-URL form
//! (`X-Amz-Algorithm=...` query parameters). No I/O and no HTTP framework types.
//!
//! A server verifies a request in three steps, looking up the secret before the last:
//!
//! ```
//! # use berth_sigv4::{Expected, Request, binding, parse, verify};
//! # fn secret_for(_: &str) -> Option<String> { None }
//! # let headers = [("Host", "127.0.0.1:4566")];
//! let req = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
//! // What the server decided the request does (service, region, the headers that chose it).
//! let expected = Expected {
//!     service: "ecs",
//!     region: "us-east-1",
//!     operation_headers: &["content-type", "x-amz-target"],
//!     presignable: false,
//! };
//! match parse(&req) {
//!     Ok(parsed) => {
//!         // The signature must cover what the server is about to do ...
//!         if binding::check(&req, &parsed, &expected).is_ok() {
//!             // ... and be the key holder's.
//!             if let Some(secret) = secret_for(&parsed.credential().access_key_id) {
//!                 let _ = verify(&req, &parsed, &secret, time::OffsetDateTime::now_utc());
//!             }
//!         }
//!     }
//!     Err(e) => { let _ = e.kind(); /* map to an AWS error code */ }
//! }
//! ```
//!
//! Canonicalization follows the AWS SigV4 test suite and what botocore and the AWS SDKs sign:
//! the path is normalized and encoded once more (so `%20` on the wire is signed as `%2520`), the
//! query is decoded and re-encoded, header values are trimmed. S3's single-encoded, unnormalized
//! paths and its streaming payloads are not supported.

pub mod authorization;
pub mod binding;
mod canonical;
mod date;
mod error;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

pub use authorization::{ALGORITHM, Credential};
pub use binding::Expected;
pub use error::{Kind, Sigv4Error};

use canonical::Headers;
use error::excerpt;

/// How far the request time may be from the server's clock (both ways).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// The longest lifetime a presigned URL may ask for with `X-Amz-Expires` (one week).
pub const MAX_PRESIGNED_EXPIRES: u32 = 604_800;

const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A received HTTP request, as plain data.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as received, still percent-encoded as on the wire.
    pub path: &'a str,
    /// The raw query string without `?`; may be empty.
    pub query: &'a str,
    /// Headers as received: names in any case, a name may repeat. For HTTP/2, pass the
    /// `:authority` as a `host` header, since SigV4 always signs `host`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `Authorization: AWS4-HMAC-SHA256 ...`
    Header,
    /// `X-Amz-*` query parameters. Without `X-Amz-Expires` the URL is held to the same ±15 minutes
    /// as the header form.
    Presigned { expires: Option<u32> },
}

/// The authentication fields of a request, checked for syntax but not yet for the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    credential: Credential,
    signed_headers: Vec<String>,
    signature: [u8; 32],
    /// The request time as it goes into the string to sign.
    amz_date: String,
    time: OffsetDateTime,
    form: Form,
}

impl Parsed {
    /// Who signed the request, to look up the secret access key.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn into_credential(self) -> Credential {
        self.credential
    }

    /// The signed header names: lowercase, sorted, always including `host`.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// The time the request claims to have been signed at.
    pub fn request_time(&self) -> OffsetDateTime {
        self.time
    }

    pub fn form(&self) -> Form {
        self.form
    }
}

/// Reads the SigV4 fields of a request, from the `Authorization` header or from presigned-URL
/// query parameters, and checks everything that does not need the secret or the clock.
pub fn parse(req: &Request<'_>) -> Result<Parsed, Sigv4Error> {
    let headers = Headers::new(req.headers);
    for name in ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
        if headers.all(name).len() > 1 {
            return Err(duplicate_header(name));
        }
    }
    let presigned = PresignedParams::from_query(req.query)?;
    match (headers.all("authorization"), presigned) {
        ([], None) => Err(Sigv4Error::MissingAuthentication),
        ([_], Some(_)) => Err(Sigv4Error::MalformedAuthorization(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature \
             query string parameter or the Authorization header should be specified"
                .to_owned(),
        )),
        ([value], None) => parse_header_form(value, &headers),
        ([], Some(params)) => parse_presigned_form(params, &headers),
        _ => Err(duplicate_header("authorization")),
    }
}

fn duplicate_header(name: &str) -> Sigv4Error {
    Sigv4Error::MalformedAuthorization(format!("The '{name}' header appears more than once; send it once"))
}

fn parse_header_form(value: &str, headers: &Headers<'_>) -> Result<Parsed, Sigv4Error> {
    let auth = authorization::parse_authorization_header(value)?;
    let time = match (headers.all("x-amz-date"), headers.all("date")) {
        ([v], _) => date::parse_amz_date(v).ok_or_else(|| Sigv4Error::MalformedDate(excerpt(v)))?,
        ([], [v]) => date::parse_http_date(v).ok_or_else(|| Sigv4Error::MalformedDate(excerpt(v)))?,
        ([], []) => return Err(Sigv4Error::MissingDate),
        _ => {
            return Err(Sigv4Error::MalformedAuthorization(
                "The 'date' header appears more than once; send it once, or send X-Amz-Date".to_owned(),
            ));
        }
    };
    let mut credential = auth.credential;
    credential.session_token = headers.all("x-amz-security-token").first().map(|t| (*t).to_owned());
    finish(credential, auth.signed_headers, auth.signature, time, Form::Header, headers)
}

fn parse_presigned_form(p: PresignedParams, headers: &Headers<'_>) -> Result<Parsed, Sigv4Error> {
    let mut missing = String::new();
    for (name, absent) in [
        ("X-Amz-Algorithm", p.algorithm.is_none()),
        ("X-Amz-Credential", p.credential.is_none()),
        ("X-Amz-Signature", p.signature.is_none()),
        ("X-Amz-Date", p.date.is_none()),
        ("X-Amz-SignedHeaders", p.signed_headers.is_none()),
    ] {
        if absent {
            missing.push_str(&format!("AWS query-string parameters must include '{name}'. "));
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(date), Some(signed_headers)) =
        (p.algorithm, p.credential, p.signature, p.date, p.signed_headers)
    else {
        return Err(Sigv4Error::MalformedQuery(format!("{missing}Re-examine the query-string parameters.")));
    };
    if algorithm != ALGORITHM {
        return Err(Sigv4Error::UnsupportedAlgorithm(excerpt(&algorithm)));
    }
    let mut credential = authorization::parse_credential(&credential)?;
    credential.session_token = p.security_token;
    let signed_headers = authorization::parse_signed_headers(&signed_headers)?;
    let signature = authorization::parse_signature(&signature)?;
    let time = date::parse_amz_date(&date).ok_or_else(|| Sigv4Error::MalformedDate(excerpt(&date)))?;
    let expires = p.expires.as_deref().map(parse_expires).transpose()?;
    finish(credential, signed_headers, signature, time, Form::Presigned { expires }, headers)
}

fn parse_expires(v: &str) -> Result<u32, Sigv4Error> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Sigv4Error::InvalidExpires(format!(
            "X-Amz-Expires should be a number of seconds, got '{}'",
            excerpt(v)
        )));
    }
    match v.parse::<u32>() {
        Ok(n @ 1..=MAX_PRESIGNED_EXPIRES) => Ok(n),
        _ => Err(Sigv4Error::InvalidExpires(format!(
            "X-Amz-Expires must be between 1 and {MAX_PRESIGNED_EXPIRES} seconds (one week), got '{}'",
            excerpt(v)
        ))),
    }
}

/// The checks both forms share once their fields are extracted.
fn finish(
    credential: Credential,
    signed_headers: Vec<String>,
    signature: [u8; 32],
    time: OffsetDateTime,
    form: Form,
    headers: &Headers<'_>,
) -> Result<Parsed, Sigv4Error> {
    let amz_date = date::format_amz_date(time);
    let request_date = amz_date.get(..8).unwrap_or_default();
    if credential.date != request_date {
        return Err(Sigv4Error::CredentialDateMismatch {
            scope_date: credential.date,
            request_date: request_date.to_owned(),
            request_time: amz_date,
        });
    }
    if let Some(absent) = signed_headers.iter().find(|n| headers.all(n).is_empty()) {
        return Err(Sigv4Error::SignedHeaderMissing(absent.clone()));
    }
    Ok(Parsed { credential, signed_headers, signature, amz_date, time, form })
}

/// The `X-Amz-*` query parameters of a presigned URL, decoded.
#[derive(Default)]
struct PresignedParams {
    algorithm: Option<String>,
    credential: Option<String>,
    date: Option<String>,
    expires: Option<String>,
    signed_headers: Option<String>,
    signature: Option<String>,
    security_token: Option<String>,
}

impl PresignedParams {
    /// `None` when the query carries none of the parameters that mark a presigned URL.
    fn from_query(query: &str) -> Result<Option<Self>, Sigv4Error> {
        let mut p = PresignedParams::default();
        for (name, value) in canonical::query_pairs(query) {
            let slot = match name.as_slice() {
                b"X-Amz-Algorithm" => &mut p.algorithm,
                b"X-Amz-Credential" => &mut p.credential,
                b"X-Amz-Date" => &mut p.date,
                b"X-Amz-Expires" => &mut p.expires,
                b"X-Amz-SignedHeaders" => &mut p.signed_headers,
                b"X-Amz-Signature" => &mut p.signature,
                b"X-Amz-Security-Token" => &mut p.security_token,
                _ => continue,
            };
            let name = String::from_utf8_lossy(&name);
            if slot.is_some() {
                return Err(Sigv4Error::MalformedQuery(format!("The query parameter '{name}' appears more than once")));
            }
            let value = String::from_utf8(value).map_err(|_| {
                Sigv4Error::MalformedQuery(format!(
                    "The query parameter '{name}' is not valid UTF-8 once percent-decoded"
                ))
            })?;
            *slot = Some(value);
        }
        let marked = p.algorithm.is_some() || p.credential.is_some() || p.signature.is_some();
        Ok(marked.then_some(p))
    }
}

/// Checks the request time and the signature against `secret_access_key`.
///
/// `req` must be the request `parsed` came from. The time is checked first, so a stale request
/// reports `Expired` whatever its signature.
pub fn verify(
    req: &Request<'_>,
    parsed: &Parsed,
    secret_access_key: &str,
    now: OffsetDateTime,
) -> Result<(), Sigv4Error> {
    check_time(parsed, now)?;

    let headers = Headers::new(req.headers);
    let presigned = matches!(parsed.form, Form::Presigned { .. });
    let body_hash = hex::encode(Sha256::digest(req.body));
    let payload_hashes = payload_hashes(&headers, &body_hash, presigned)?;

    let mut canonical = String::with_capacity(256 + req.path.len() + req.query.len());
    canonical.push_str(req.method);
    canonical.push('\n');
    canonical.push_str(&canonical::canonical_uri(req.path));
    canonical.push('\n');
    let skip = presigned.then_some("X-Amz-Signature");
    canonical.push_str(&canonical::canonical_query(req.query, skip));
    canonical.push('\n');
    for name in &parsed.signed_headers {
        let values = headers.all(name);
        if values.is_empty() {
            return Err(Sigv4Error::SignedHeaderMissing(name.clone()));
        }
        canonical.push_str(name);
        canonical.push(':');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                canonical.push(',');
            }
            canonical::push_canonical_value(&mut canonical, value);
        }
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&parsed.signed_headers.join(";"));
    canonical.push('\n');
    let prefix_len = canonical.len();

    let cred = &parsed.credential;
    let key = signing_key(secret_access_key, &cred.date, &cred.region, &cred.service);
    let scope = cred.scope();
    let mut first_attempt = None;
    for payload_hash in payload_hashes {
        canonical.truncate(prefix_len);
        canonical.push_str(payload_hash);
        let string_to_sign =
            format!("{ALGORITHM}\n{}\n{scope}\n{}", parsed.amz_date, hex::encode(Sha256::digest(canonical.as_bytes())));
        let signature = hmac(&key, string_to_sign.as_bytes());
        if bool::from(signature.ct_eq(&parsed.signature)) {
            return Ok(());
        }
        first_attempt.get_or_insert_with(|| (canonical.clone(), string_to_sign));
    }
    let (canonical_request, string_to_sign) = first_attempt.unwrap_or_default();
    Err(Sigv4Error::SignatureMismatch { canonical_request, string_to_sign })
}

fn check_time(parsed: &Parsed, now: OffsetDateTime) -> Result<(), Sigv4Error> {
    // Saturating arithmetic: the request time comes from the client and may be year 9999.
    let t = parsed.time;
    let latest = now.saturating_add(MAX_CLOCK_SKEW);
    if t > latest {
        return Err(Sigv4Error::SignatureNotYetCurrent {
            request_time: parsed.amz_date.clone(),
            latest: date::format_amz_date(latest),
            now: date::format_amz_date(now),
        });
    }
    match parsed.form {
        Form::Presigned { expires: Some(expires) } => {
            let expired_at = t.saturating_add(Duration::seconds(i64::from(expires)));
            if now > expired_at {
                return Err(Sigv4Error::RequestExpired {
                    expired_at: date::format_amz_date(expired_at),
                    now: date::format_amz_date(now),
                });
            }
        }
        Form::Header | Form::Presigned { expires: None } => {
            let earliest = now.saturating_sub(MAX_CLOCK_SKEW);
            if t < earliest {
                return Err(Sigv4Error::SignatureExpired {
                    request_time: parsed.amz_date.clone(),
                    earliest: date::format_amz_date(earliest),
                    now: date::format_amz_date(now),
                });
            }
        }
    }
    Ok(())
}

/// The payload hashes the client may have signed, most likely first.
///
/// Presigned URLs are signed with `UNSIGNED-PAYLOAD` by S3-style signers but with the hash of the
/// (usually empty) body by botocore's and the Go SDK's generic presigners; both are accepted, as
/// the signature covers the choice either way.
fn payload_hashes<'h>(headers: &Headers<'h>, body_hash: &'h str, presigned: bool) -> Result<Vec<&'h str>, Sigv4Error> {
    let declared = match headers.all("x-amz-content-sha256") {
        [] => None,
        [v] => Some(v.trim_matches(|c| c == ' ' || c == '\t')),
        _ => {
            return Err(Sigv4Error::MalformedAuthorization(
                "The 'x-amz-content-sha256' header appears more than once; send it once".to_owned(),
            ));
        }
    };
    match declared {
        None if presigned => Ok(vec![body_hash, UNSIGNED_PAYLOAD]),
        None => Ok(vec![body_hash]),
        Some(UNSIGNED_PAYLOAD) if presigned => Ok(vec![UNSIGNED_PAYLOAD]),
        Some(UNSIGNED_PAYLOAD) => Err(Sigv4Error::UnsupportedContentSha256(
            "x-amz-content-sha256: UNSIGNED-PAYLOAD is only accepted in presigned URLs; sign the \
             body's SHA-256 instead"
                .to_owned(),
        )),
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            if v.eq_ignore_ascii_case(body_hash) {
                // The client signed the header's spelling, which may be uppercase.
                Ok(vec![v])
            } else {
                Err(Sigv4Error::ContentSha256Mismatch)
            }
        }
        Some(v) => Err(Sigv4Error::UnsupportedContentSha256(format!(
            "x-amz-content-sha256 must be the hex SHA-256 of the body, got '{}'; streaming \
             payloads are not supported",
            excerpt(v)
        ))),
    }
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, authorization::TERMINATOR.as_bytes())
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_matches_the_aws_documentation() {
        // From the AWS "Examples of how to derive a signing key for Signature Version 4" page.
        let key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(hex::encode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let far = date::parse_amz_date("99991231T235959Z").unwrap();
        let parsed = Parsed {
            credential: authorization::parse_credential("AKID/99991231/r/s/aws4_request").unwrap(),
            signed_headers: vec!["host".into()],
            signature: [0; 32],
            amz_date: "99991231T235959Z".into(),
            time: far,
            form: Form::Presigned { expires: Some(MAX_PRESIGNED_EXPIRES) },
        };
        check_time(&parsed, far).unwrap();
        assert_eq!(check_time(&parsed, OffsetDateTime::UNIX_EPOCH).unwrap_err().kind(), Kind::Expired);
        let parsed = Parsed { form: Form::Header, ..parsed };
        check_time(&parsed, far).unwrap();
        let early = date::parse_amz_date("00000101T000000Z").unwrap();
        let parsed = Parsed { time: early, amz_date: "00000101T000000Z".into(), ..parsed };
        check_time(&parsed, early).unwrap();
        assert_eq!(check_time(&parsed, far).unwrap_err().kind(), Kind::Expired);
    }

    #[test]
    fn expires_range() {
        assert_eq!(parse_expires("1"), Ok(1));
        assert_eq!(parse_expires("604800"), Ok(604_800));
        for bad in ["0", "604801", "99999999999999999999", "-1", "+5", " 5", "", "1e3", "ሴ"] {
            let e = parse_expires(bad).expect_err(bad);
            assert!(matches!(e, Sigv4Error::InvalidExpires(_)), "{bad}");
            assert_eq!(e.kind(), Kind::Malformed);
        }
    }
}
