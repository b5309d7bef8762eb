//! The `aws-sigv4` crate as an independent signer to check `verify` against.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use berth_sigv4::{Request, parse, verify};
use time::OffsetDateTime;

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 20150830T123600Z, the time of the AWS SigV4 test suite.
pub const SUITE_TIME: i64 = 1_440_938_160;

pub fn suite_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(SUITE_TIME as u64)
}

pub fn suite_now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(SUITE_TIME).unwrap()
}

/// What to sign and how.
#[derive(Clone)]
pub struct Spec<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    pub session_token: Option<&'a str>,
    /// Presign with this lifetime instead of signing headers.
    pub presign: Option<Duration>,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body hash.
    pub unsigned_payload: bool,
    /// Add a signed `x-amz-content-sha256` header.
    pub content_sha256_header: bool,
    /// Encode the path once (only to reproduce suite vectors whose raw path has spaces or UTF-8).
    pub single_encode: bool,
    /// Headers sent but left out of the signature (besides the signer's defaults).
    pub unsigned: Vec<&'static str>,
}

impl<'a> Spec<'a> {
    pub fn new(method: &'a str, url: &'a str) -> Self {
        Spec {
            method,
            url,
            headers: Vec::new(),
            body: b"",
            region: "us-east-1",
            service: "service",
            time: suite_time(),
            session_token: None,
            presign: None,
            unsigned_payload: false,
            content_sha256_header: false,
            single_encode: false,
            unsigned: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    pub fn scope(mut self, region: &'a str, service: &'a str) -> Self {
        self.region = region;
        self.service = service;
        self
    }

    /// Signs with the `aws-sigv4` crate and returns the request as it would go on the wire.
    pub fn sign(&self) -> Signed {
        self.sign_with(AKID, SECRET)
    }

    pub fn sign_with(&self, akid: &str, secret: &str) -> Signed {
        let identity: Identity =
            Credentials::new(akid, secret, self.session_token.map(str::to_owned), None, "test").into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = self.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        if self.content_sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        if self.single_encode {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
        }
        if let Some(excluded) = settings.excluded_headers.as_mut() {
            excluded.extend(self.unsigned.iter().map(|h| std::borrow::Cow::Borrowed(*h)));
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let body = if self.unsigned_payload { SignableBody::UnsignedPayload } else { SignableBody::Bytes(self.body) };
        let signable = SignableRequest::new(self.method, self.url, self.headers.iter().copied(), body).unwrap();
        let (instructions, signature) = sign(signable, &params).unwrap().into_parts();

        let mut builder = http::Request::builder().method(self.method).uri(self.url);
        for (name, value) in &self.headers {
            builder = builder.header(*name, *value);
        }
        let mut req = builder.body(self.body.to_vec()).unwrap();
        instructions.apply_to_request_http1x(&mut req);

        let uri = req.uri().clone();
        let mut headers: Vec<(String, String)> = Vec::new();
        // The signer signs the host it derives from the URL; the HTTP client sends it as Host.
        if !req.headers().contains_key("host") {
            headers.push(("Host".into(), host_of(&uri)));
        }
        for (name, value) in req.headers() {
            headers.push((name.as_str().into(), value.to_str().unwrap().into()));
        }
        Signed {
            method: self.method.into(),
            path: uri.path().into(),
            query: uri.query().unwrap_or("").into(),
            headers,
            body: self.body.to_vec(),
            signature,
        }
    }
}

fn host_of(uri: &http::Uri) -> String {
    let default_port =
        matches!((uri.scheme_str(), uri.port_u16()), (Some("http"), Some(80)) | (Some("https"), Some(443)));
    if default_port { uri.host().unwrap().into() } else { uri.authority().unwrap().as_str().into() }
}

/// A signed request, owned so tests can tamper with it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The signature the oracle computed.
    pub signature: String,
}

impl Signed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        let h = self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no header {name}"));
        h.1 = value.into();
    }

    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers.push((name.into(), value.into()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Runs `parse`, `binding::check` against `expected`, then `verify` at `now`.
    pub fn check_bound(
        &self,
        expected: &berth_sigv4::Expected<'_>,
        now: OffsetDateTime,
    ) -> Result<(), berth_sigv4::Sigv4Error> {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let req =
            Request { method: &self.method, path: &self.path, query: &self.query, headers: &headers, body: &self.body };
        let parsed = parse(&req)?;
        berth_sigv4::binding::check(&req, &parsed, expected)?;
        verify(&req, &parsed, SECRET, now)
    }

    /// Runs `parse` then `verify` with `secret` at `now`.
    pub fn check(&self, secret: &str, now: OffsetDateTime) -> Result<(), berth_sigv4::Sigv4Error> {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let req =
            Request { method: &self.method, path: &self.path, query: &self.query, headers: &headers, body: &self.body };
        let parsed = parse(&req)?;
        verify(&req, &parsed, secret, now)
    }

    pub fn parsed(&self) -> Result<berth_sigv4::Parsed, berth_sigv4::Sigv4Error> {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        parse(&Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }
}
