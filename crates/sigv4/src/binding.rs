//! What a signature must cover besides itself: a signature that checks out only proves that the
//! key holder signed *something*; these rules make sure it is the request the server is about to
//! act on.
//!
//! The server first decides what a request does (which service, which operation, which region it
//! serves it in), then calls [`check`] with that decision as an [`Expected`]:
//!
//! - the credential scope names the service and region the server will handle the request as
//!   (its date is checked against the request time by [`crate::parse`] already);
//! - every header that decides what the request does is signed: each `x-amz-*` header present and
//!   the [`Expected::operation_headers`] (`X-Amz-Target`, `Content-Type`), and none of those
//!   appears twice;
//! - a presigned URL is honoured only where the server says it may be (query-protocol reads),
//!   only as a GET, and never with a body, which a presigned signature need not cover.

use crate::canonical::Headers;
use crate::{Form, Parsed, Request, Sigv4Error};

/// What the server will do with a request, which its signature must be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    /// AWS's signing name of the service that handles the request (`ecs`, `elasticloadbalancing`).
    pub service: &'a str,
    /// The region the credential scope must name: the server's, or a global service's (`iam`:
    /// `us-east-1`).
    pub region: &'a str,
    /// Lowercase names of headers the server reads to choose the operation or decode its input:
    /// each must be signed when present, and sent at most once.
    pub operation_headers: &'a [&'a str],
    /// Whether the operation may arrive as a presigned URL.
    pub presignable: bool,
}

/// Checks that `parsed` (from `req`) is bound to what `expected` says the request does.
///
/// Run it before [`crate::verify`]: it needs no secret, and a request refused here would be
/// refused whatever its signature.
pub fn check(req: &Request<'_>, parsed: &Parsed, expected: &Expected<'_>) -> Result<(), Sigv4Error> {
    let cred = parsed.credential();
    if cred.service != expected.service {
        return Err(Sigv4Error::WrongService { expected: expected.service.to_owned() });
    }
    if cred.region != expected.region {
        return Err(Sigv4Error::WrongRegion { region: crate::error::excerpt(&cred.region) });
    }

    let headers = Headers::new(req.headers);
    for name in expected.operation_headers {
        if headers.all(name).len() > 1 {
            return Err(Sigv4Error::MalformedAuthorization(format!(
                "The '{name}' header appears more than once; send it once"
            )));
        }
    }
    let signed = |name: &str| parsed.signed_headers().binary_search_by(|s| s.as_str().cmp(name)).is_ok();
    let unsigned: Vec<&str> =
        headers.names().filter(|name| must_be_signed(name, parsed.form(), expected) && !signed(name)).collect();
    if !unsigned.is_empty() {
        return Err(Sigv4Error::HeadersNotSigned(crate::error::excerpt(&unsigned.join(", "))));
    }

    if let Form::Presigned { .. } = parsed.form() {
        if !expected.presignable {
            return Err(Sigv4Error::PresignNotAllowed(
                "Presigned URLs are accepted only for query-protocol operations (such as STS \
                 GetCallerIdentity); sign this request with the Authorization header instead."
                    .to_owned(),
            ));
        }
        if req.method != "GET" {
            return Err(Sigv4Error::PresignNotAllowed(format!(
                "A presigned URL must be requested with GET, not {}.",
                crate::error::excerpt(req.method)
            )));
        }
        if !req.body.is_empty() {
            return Err(Sigv4Error::PresignNotAllowed(
                "A presigned URL request must not carry a body: its signature does not cover one.".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Whether the (lowercase) header `name` must be among the signed headers when present.
///
/// Two `x-amz-*` headers are covered without being listed: in the header form the string to sign
/// holds `X-Amz-Date`'s value itself, and `X-Amz-Content-Sha256` is the payload hash of the
/// canonical request in either form.
fn must_be_signed(name: &str, form: Form, expected: &Expected<'_>) -> bool {
    let covered_anyway = name == "x-amz-content-sha256" || (name == "x-amz-date" && form == Form::Header);
    (name.starts_with("x-amz-") && !covered_anyway) || expected.operation_headers.contains(&name)
}

#[cfg(test)]
mod tests;
