use std::fmt;

/// The coarse class of a [`Sigv4Error`], for choosing the AWS error code.
///
/// | kind | JSON protocol `__type` | query protocol `Code` |
/// | --- | --- | --- |
/// | `Missing` | `MissingAuthenticationTokenException` | `MissingAuthenticationToken` |
/// | `Malformed` | `IncompleteSignatureException` | `IncompleteSignature` |
/// | `Expired` | `InvalidSignatureException` | `SignatureDoesNotMatch` |
/// | `SignatureMismatch` | `InvalidSignatureException` | `SignatureDoesNotMatch` |
///
/// `Expired` is separate from `SignatureMismatch` so that a server can log clock problems apart from
/// bad secrets, even though AWS reports both with the same codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The request carries no SigV4 authentication at all.
    Missing,
    /// Authentication is present but unusable: bad syntax, missing parts, unsupported options.
    Malformed,
    /// The request is signed for a time outside the accepted window.
    Expired,
    /// The signature (or something it covers, such as the credential scope or the body) does not check out.
    SignatureMismatch,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Missing => "missing",
            Kind::Malformed => "malformed",
            Kind::Expired => "expired",
            Kind::SignatureMismatch => "signature mismatch",
        })
    }
}

/// Why a request failed SigV4 parsing or verification.
///
/// `Display` gives a message meant for the client (worded like AWS's where AWS has a well-known one);
/// [`Sigv4Error::kind`] gives the class to map to an error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sigv4Error {
    /// No `Authorization` header and no `X-Amz-Algorithm` / `X-Amz-Credential` / `X-Amz-Signature`
    /// query parameter.
    #[error("Missing Authentication Token")]
    MissingAuthentication,

    /// The `Authorization` header (or the request around it) cannot be used; the message says why.
    #[error("{0}")]
    MalformedAuthorization(String),

    /// The presigned-URL query parameters cannot be used; the message says why.
    #[error("{0}")]
    MalformedQuery(String),

    /// The `Credential` value is not `<key id>/<yyyymmdd>/<region>/<service>/aws4_request`.
    #[error("{0}")]
    MalformedCredential(String),

    /// An algorithm other than `AWS4-HMAC-SHA256` (for example SigV4a or a non-AWS scheme).
    #[error(
        "Unsupported AWS 'algorithm': '{0}'. Sign the request with AWS Signature Version 4 \
         (AWS4-HMAC-SHA256)."
    )]
    UnsupportedAlgorithm(String),

    /// `host` is not among the signed headers.
    #[error("'Host' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,

    /// A header listed in `SignedHeaders` is not in the request.
    #[error(
        "The header '{0}' is listed in SignedHeaders but is not present in the request. Send every \
         signed header, and make sure no proxy strips it."
    )]
    SignedHeaderMissing(String),

    /// Neither `X-Amz-Date` nor `Date` is present (header form).
    #[error("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")]
    MissingDate,

    /// The request date is not `yyyymmddThhmmssZ` (or, for the `Date` header, an HTTP date).
    #[error(
        "Invalid request date '{0}': X-Amz-Date must be in the ISO 8601 basic format \
         yyyymmddThhmmssZ, for example 20150830T123600Z."
    )]
    MalformedDate(String),

    /// Header form: the request time is more than 15 minutes in the past.
    #[error("Signature expired: {request_time} is now earlier than {earliest} ({now} - 15 min.)")]
    SignatureExpired { request_time: String, earliest: String, now: String },

    /// The request time is more than 15 minutes in the future.
    #[error("Signature not yet current: {request_time} is still later than {latest} ({now} + 15 min.)")]
    SignatureNotYetCurrent { request_time: String, latest: String, now: String },

    /// Presigned form: `X-Amz-Date` + `X-Amz-Expires` is in the past.
    #[error("Request has expired")]
    RequestExpired { expired_at: String, now: String },

    /// `X-Amz-Expires` is not an integer in `1..=604800`.
    #[error("{0}")]
    InvalidExpires(String),

    /// The credential scope's date is not the date part of the request time.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '{scope_date}' != '{request_date}', from '{request_time}'."
    )]
    CredentialDateMismatch { scope_date: String, request_date: String, request_time: String },

    /// The credential scope does not end with `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{0}'.")]
    InvalidTerminator(String),

    /// `x-amz-content-sha256` holds something this verifier does not accept (streaming payloads, or
    /// `UNSIGNED-PAYLOAD` outside a presigned URL).
    #[error("{0}")]
    UnsupportedContentSha256(String),

    /// `x-amz-content-sha256` does not match the body received.
    #[error(
        "The provided 'x-amz-content-sha256' header does not match what was computed: the body \
         received is not the body that was signed."
    )]
    ContentSha256Mismatch,

    /// The credential scope names another service than the one that handles the request.
    #[error("Credential should be scoped to correct service: '{expected}'.")]
    WrongService { expected: String },

    /// The credential scope names a region the request is not served in.
    #[error("Credential should be scoped to a valid region, not '{region}'.")]
    WrongRegion { region: String },

    /// Headers that decide what the request does are present but not signed (a comma-separated
    /// list of their lowercase names).
    #[error(
        "There were headers present in the request which were not signed: {0}. Include every \
         x-amz-* header, X-Amz-Target and Content-Type in SignedHeaders, as the AWS SDKs do."
    )]
    HeadersNotSigned(String),

    /// A presigned URL where the operation, method or body does not allow one; the message says why.
    #[error("{0}")]
    PresignNotAllowed(String),

    /// The signature computed with the given secret differs from the one in the request.
    ///
    /// The canonical request and string to sign are kept for server-side debugging logs; neither
    /// contains secret material.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your \
         AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureMismatch { canonical_request: String, string_to_sign: String },
}

impl Sigv4Error {
    /// The class of this error, for choosing an AWS error code.
    pub fn kind(&self) -> Kind {
        match self {
            Sigv4Error::MissingAuthentication => Kind::Missing,
            Sigv4Error::MalformedAuthorization(_)
            | Sigv4Error::MalformedQuery(_)
            | Sigv4Error::MalformedCredential(_)
            | Sigv4Error::UnsupportedAlgorithm(_)
            | Sigv4Error::HostNotSigned
            | Sigv4Error::SignedHeaderMissing(_)
            | Sigv4Error::MissingDate
            | Sigv4Error::MalformedDate(_)
            | Sigv4Error::InvalidExpires(_)
            | Sigv4Error::UnsupportedContentSha256(_)
            | Sigv4Error::HeadersNotSigned(_)
            | Sigv4Error::PresignNotAllowed(_) => Kind::Malformed,
            Sigv4Error::SignatureExpired { .. }
            | Sigv4Error::SignatureNotYetCurrent { .. }
            | Sigv4Error::RequestExpired { .. } => Kind::Expired,
            // AWS answers scope problems with the signature codes, not IncompleteSignature.
            Sigv4Error::CredentialDateMismatch { .. }
            | Sigv4Error::InvalidTerminator(_)
            | Sigv4Error::WrongService { .. }
            | Sigv4Error::WrongRegion { .. }
            | Sigv4Error::ContentSha256Mismatch
            | Sigv4Error::SignatureMismatch { .. } => Kind::SignatureMismatch,
        }
    }
}

/// Quotes client input in an error message without letting a huge header make a huge message.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX_CHARS: usize = 200;
    match s.char_indices().nth(MAX_CHARS) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}...", &s[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        let long = "ሴ".repeat(500);
        let e = excerpt(&long);
        assert!(e.ends_with("..."));
        assert_eq!(e.chars().count(), 203);
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn skew_messages_match_aws_wording() {
        let e = Sigv4Error::SignatureExpired {
            request_time: "20240101T000000Z".into(),
            earliest: "20240101T001500Z".into(),
            now: "20240101T003000Z".into(),
        };
        assert_eq!(
            e.to_string(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z \
             (20240101T003000Z - 15 min.)"
        );
        assert_eq!(e.kind(), Kind::Expired);
    }
}
