//! HTTP/1.x as the proxy needs it (pure): how a request's or a response's body is framed
//! (where it ends is `body`'s), which headers belong to one connection only, and the heads
//! the proxy writes: the request passed to a target, the response passed back, and its
//! own responses. Heads are parsed with httparse; bodies are relayed as they arrived, so
//! only their framing is read here, never their content.

use httparse::Header;
use std::net::IpAddr;

/// The largest request or response head accepted (ALB's limit on a request's headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a head may have.
pub const MAX_HEADERS: usize = 128;

/// A message the proxy cannot read (a target's response head, a chunked body): the
/// connection it came on cannot be read further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`, ended by the zero-size chunk and its trailers.
    Chunked,
    /// A response whose body ends when the target closes the connection.
    UntilClose,
}

/// Why a request cannot be passed on; each is answered with its status and the
/// connection closed, since where the next request starts is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// 400: a malformed head, or a body framing that could be read two ways
    /// (both Content-Length and Transfer-Encoding, differing lengths, ...).
    BadRequest(&'static str),
    /// 431: the head is larger than `MAX_HEAD` or has more than `MAX_HEADERS` lines.
    HeadTooLarge,
    /// 501: a transfer coding other than chunked last.
    NotImplemented(&'static str),
    /// 408: the client began a request and sent no more of it for the idle timeout.
    Timeout,
}

impl Reject {
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Self::BadRequest(_) => (400, "Bad Request"),
            Self::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Self::NotImplemented(_) => (501, "Not Implemented"),
            Self::Timeout => (408, "Request Timeout"),
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::BadRequest(why) | Self::NotImplemented(why) => why,
            Self::HeadTooLarge => "the request head is too large",
            Self::Timeout => "the request did not arrive within the load balancer's idle timeout",
        }
    }
}

fn named<'h, 'b>(headers: &'h [Header<'b>], name: &'static str) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
}

/// The comma-separated elements of every `name` header, trimmed, empty ones left out.
pub fn tokens<'h, 'b>(headers: &'h [Header<'b>], name: &'static str) -> impl Iterator<Item = &'b [u8]> + 'h {
    named(headers, name).flat_map(|v| v.split(|b| *b == b',')).map(<[u8]>::trim_ascii).filter(|t| !t.is_empty())
}

fn has_token(headers: &[Header], name: &'static str, token: &str) -> bool {
    tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// Content-Length, when every value of every Content-Length header is the same number.
fn content_length(headers: &[Header]) -> Result<Option<u64>, Malformed> {
    let mut length = None;
    for value in named(headers, "content-length").flat_map(|v| v.split(|b| *b == b',')) {
        let value = value.trim_ascii();
        if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
            return Err(Malformed);
        }
        let n: u64 = std::str::from_utf8(value).map_err(|_| Malformed)?.parse().map_err(|_| Malformed)?;
        if length.is_some_and(|l| l != n) {
            return Err(Malformed);
        }
        length = Some(n);
    }
    Ok(length)
}

/// What the Transfer-Encoding headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codings {
    Absent,
    /// Present but naming no coding.
    Empty,
    /// Ending in chunked, named only there.
    ChunkedLast,
    Other,
}

fn codings(headers: &[Header]) -> Codings {
    if named(headers, "transfer-encoding").next().is_none() {
        return Codings::Absent;
    }
    let (mut chunked_at, mut count) = (None, 0);
    for (i, coding) in tokens(headers, "transfer-encoding").enumerate() {
        if coding.eq_ignore_ascii_case(b"chunked") {
            chunked_at = chunked_at.or(Some(i));
        }
        count = i + 1;
    }
    match count {
        0 => Codings::Empty,
        _ if chunked_at == Some(count - 1) => Codings::ChunkedLast,
        _ => Codings::Other,
    }
}

/// Whether `buf` holds the blank line that ends a head, looking only at what came
/// after `from` (the length last looked at). Parsing waits for it, so a head that
/// arrives a byte at a time is parsed once rather than once per byte.
pub fn head_ended(buf: &[u8], from: usize) -> bool {
    let start = from.saturating_sub(2).min(buf.len());
    buf[start..]
        .windows(2)
        .enumerate()
        .any(|(i, w)| w == b"\n\n" || (w == b"\r\n" && start + i >= 2 && buf[start + i - 1] == b'\n'))
}

/// A request body's framing (RFC 9112 §6.3) for a request of HTTP/1.`minor`. Anything
/// a target might read differently from the proxy (the ground of request smuggling) is
/// rejected rather than repaired; the framing passed on is written anew
/// (`write_request_head`), never the client's lines.
pub fn request_framing(minor: u8, headers: &[Header]) -> Result<Framing, Reject> {
    let length =
        content_length(headers).map_err(|Malformed| Reject::BadRequest("the Content-Length header is not valid"))?;
    match codings(headers) {
        Codings::Absent => Ok(length.map_or(Framing::Empty, Framing::Length)),
        _ if length.is_some() => {
            Err(Reject::BadRequest("a request may not have both Content-Length and Transfer-Encoding"))
        }
        _ if minor == 0 => Err(Reject::BadRequest("an HTTP/1.0 request may not have Transfer-Encoding")),
        Codings::Empty => Err(Reject::BadRequest("the Transfer-Encoding header names no coding")),
        Codings::ChunkedLast => Ok(Framing::Chunked),
        Codings::Other => Err(Reject::NotImplemented("only the chunked transfer coding, last, is supported")),
    }
}

/// The Host header of a request of HTTP/1.`minor`: there must be one in HTTP/1.1 and
/// never more than one, or a target might see another host than the rules did.
pub fn request_host<'b>(minor: u8, headers: &[Header<'b>]) -> Result<Option<&'b [u8]>, Reject> {
    let mut hosts = named(headers, "host");
    match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => Err(Reject::BadRequest("a request may have only one Host header")),
        (None, _) if minor == 1 => Err(Reject::BadRequest("an HTTP/1.1 request must have a Host header")),
        (host, _) => Ok(host),
    }
}

/// A response body's framing, which also depends on the request's method and the status.
pub fn response_framing(status: u16, to_head: bool, headers: &[Header]) -> Result<Framing, Malformed> {
    if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    match codings(headers) {
        Codings::ChunkedLast => Ok(Framing::Chunked),
        Codings::Empty | Codings::Other => Ok(Framing::UntilClose),
        Codings::Absent => Ok(content_length(headers)?.map_or(Framing::UntilClose, Framing::Length)),
    }
}

/// Whether the sender of a message with this minor version and headers keeps its
/// connection open afterwards: HTTP/1.1 unless it says close, HTTP/1.0 only if it says
/// keep-alive.
pub fn keeps_alive(minor_version: u8, headers: &[Header]) -> bool {
    if minor_version == 0 {
        has_token(headers, "connection", "keep-alive") && !has_token(headers, "connection", "close")
    } else {
        !has_token(headers, "connection", "close")
    }
}

/// Whether a request asks to switch to WebSocket: an HTTP/1.1 GET with Upgrade naming
/// websocket and Connection naming Upgrade. No other protocol is switched to, so no
/// client can tunnel past the listener's rules (h2c smuggling).
pub fn wants_websocket(method: &str, minor: u8, headers: &[Header]) -> bool {
    method == "GET" && minor == 1 && switches_to_websocket(headers) && has_token(headers, "connection", "upgrade")
}

/// Whether a message's Upgrade header names websocket.
pub fn switches_to_websocket(headers: &[Header]) -> bool {
    has_token(headers, "upgrade", "websocket")
}

/// Whether a request asks for `100 Continue` before sending its body.
pub fn expects_continue(headers: &[Header]) -> bool {
    named(headers, "expect").any(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
}

/// Headers that describe one connection rather than the message, never passed on: the
/// fixed ones and those the Connection header names (except the ones that frame the body).
/// `nominated`: whether Connection names any header at all (`nominates`), found once
/// per head, so the usual head (`Connection: keep-alive` or none) is not scanned again
/// for each of its headers.
fn hop_by_hop(name: &str, headers: &[Header], nominated: bool) -> bool {
    const FRAMING: [&str; 3] = ["content-length", "transfer-encoding", "host"];
    CONNECTION_ONLY.iter().any(|h| name.eq_ignore_ascii_case(h))
        || (nominated
            && !FRAMING.iter().any(|h| name.eq_ignore_ascii_case(h))
            && tokens(headers, "connection").any(|t| t.eq_ignore_ascii_case(name.as_bytes())))
}

const CONNECTION_ONLY: [&str; 5] = ["connection", "keep-alive", "proxy-connection", "te", "upgrade"];

/// Whether the Connection header names a header (beyond its options close,
/// keep-alive and upgrade, the header names of which are hop-by-hop anyway).
fn nominates(headers: &[Header]) -> bool {
    tokens(headers, "connection")
        .any(|t| !["close", "keep-alive", "upgrade"].iter().any(|o| t.eq_ignore_ascii_case(o.as_bytes())))
}

/// Whether a status is an interim response's (1xx), which a final one follows; 101
/// Switching Protocols is final.
pub fn interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

fn header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A request's target less the scheme and authority of an absolute-form target
/// (`http://host/path?q` → `/path?q`), and that authority.
pub fn split_target(target: &str) -> (&str, Option<&str>) {
    let scheme = ["http://", "https://"]
        .into_iter()
        .find(|s| target.get(..s.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(s)));
    let Some(rest) = scheme.map(|s| &target[s.len()..]) else {
        return (target, None);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    (&rest[end..], Some(&rest[..end]))
}

/// What the proxy does with a request's X-Forwarded-For: the load balancer's
/// `routing.http.xff_header_processing.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Xff {
    /// The client's address is appended (ALB's default).
    #[default]
    Append,
    /// Passed on as the client sent it, or not at all.
    Preserve,
    Remove,
}

impl Xff {
    pub fn from_attribute(mode: &str) -> Self {
        match mode {
            "preserve" => Self::Preserve,
            "remove" => Self::Remove,
            _ => Self::Append,
        }
    }
}

/// Where the proxy is, for the X-Forwarded-* headers it adds, and the load balancer's
/// settings for the headers it passes on.
#[derive(Debug, Clone, Copy)]
pub struct Forwarded {
    pub client: IpAddr,
    pub listener_port: u16,
    pub xff: Xff,
    /// `routing.http.drop_invalid_header_fields.enabled`: header names other than
    /// letters, digits and hyphens (`X_Forwarded_For`, which some servers read as
    /// X-Forwarded-For) are not passed on.
    pub drop_invalid_headers: bool,
}

/// Whether a header name is one ALB counts as valid: `[-A-Za-z0-9]+`.
fn valid_name(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// What becomes of a connection after a response, as its Connection header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    KeepAlive,
    Close,
    /// Both sides switch to the protocol the Upgrade header names; the proxy then
    /// relays bytes both ways until either side closes.
    Upgrade,
}

impl After {
    fn connection_line(self) -> &'static [u8] {
        match self {
            Self::KeepAlive => b"Connection: keep-alive\r\n",
            Self::Close => b"Connection: close\r\n",
            Self::Upgrade => b"Connection: Upgrade\r\n",
        }
    }

    /// Whether the header `name` passes: hop-by-hop headers do not, except Upgrade
    /// when upgrading.
    fn passes(self, name: &str, headers: &[Header], nominated: bool) -> bool {
        !hop_by_hop(name, headers, nominated) || (self == Self::Upgrade && name.eq_ignore_ascii_case("upgrade"))
    }
}

/// A request as it is passed to a target.
pub struct Outgoing<'a, 'b> {
    pub method: &'a str,
    /// The request target in origin-form, or `*`.
    pub origin: &'a str,
    pub headers: &'a [Header<'b>],
    /// The host to name: the authority of an absolute-form target, else the client's
    /// Host, else (HTTP/1.0 without one) the target's address.
    pub host: &'a [u8],
    pub framing: Framing,
    /// `Upgrade` for a WebSocket request, which keeps its Upgrade header; else `KeepAlive`.
    pub after: After,
}

/// The head passed to a target: the request line as HTTP/1.1, Host, the client's
/// headers less the hop-by-hop ones, Expect (the proxy answers that itself) and the
/// framing ones (written anew from `framing`, so the target reads the body exactly as
/// the proxy does), X-Forwarded-For as `fwd.xff` says, X-Forwarded-Proto and -Port
/// replaced.
pub fn write_request_head(out: &mut Vec<u8>, req: &Outgoing, fwd: Forwarded) {
    out.extend_from_slice(req.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.origin.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    header(out, "Host", req.host);
    let nominated = nominates(req.headers);
    for h in req.headers {
        const REPLACED: [&str; 7] = [
            "host",
            "content-length",
            "transfer-encoding",
            "x-forwarded-for",
            "x-forwarded-proto",
            "x-forwarded-port",
            "expect",
        ];
        if REPLACED.iter().any(|r| h.name.eq_ignore_ascii_case(r))
            || !req.after.passes(h.name, req.headers, nominated)
            || (fwd.drop_invalid_headers && !valid_name(h.name))
        {
            continue;
        }
        header(out, h.name, h.value);
    }
    match req.framing {
        Framing::Length(n) => out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()),
        Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Empty | Framing::UntilClose => {}
    }
    let mut prior = named(req.headers, "x-forwarded-for").map(<[u8]>::trim_ascii).peekable();
    match fwd.xff {
        Xff::Append => {
            out.extend_from_slice(b"X-Forwarded-For: ");
            for p in prior {
                out.extend_from_slice(p);
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(format!("{}\r\n", fwd.client).as_bytes());
        }
        Xff::Preserve if prior.peek().is_some() => {
            out.extend_from_slice(b"X-Forwarded-For: ");
            while let Some(p) = prior.next() {
                out.extend_from_slice(p);
                out.extend_from_slice(if prior.peek().is_some() { b", " } else { b"\r\n" });
            }
        }
        Xff::Preserve | Xff::Remove => {}
    }
    out.extend_from_slice(format!("X-Forwarded-Proto: http\r\nX-Forwarded-Port: {}\r\n", fwd.listener_port).as_bytes());
    if req.after == After::Upgrade {
        out.extend_from_slice(After::Upgrade.connection_line());
    }
    out.extend_from_slice(b"\r\n");
}

/// The head passed back to the client: the target's status and headers less the
/// hop-by-hop ones, as HTTP/1.1, saying what becomes of the connection. A chunked body
/// loses any Content-Length beside it; with `dechunk` (an HTTP/1.0 client) it is sent
/// decoded, so Transfer-Encoding is left out too (and the connection closes after it).
pub fn write_response_head(
    out: &mut Vec<u8>,
    (status, reason): (u16, &str),
    headers: &[Header],
    body: Framing,
    dechunk: bool,
    after: After,
) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    let nominated = nominates(headers);
    for h in headers {
        let dropped = (body == Framing::Chunked && h.name.eq_ignore_ascii_case("content-length"))
            || (dechunk && h.name.eq_ignore_ascii_case("transfer-encoding"));
        if dropped || !after.passes(h.name, headers, nominated) {
            continue;
        }
        header(out, h.name, h.value);
    }
    out.extend_from_slice(after.connection_line());
    out.extend_from_slice(b"\r\n");
}

/// A whole response of the proxy's own (fixed-response, redirect, error pages).
pub fn write_response(
    out: &mut Vec<u8>,
    (status, reason): (u16, &str),
    extra: &[(&str, &str)],
    body: &[u8],
    close: bool,
) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\nServer: awselb/2.0\r\n").as_bytes());
    for (name, value) in extra {
        header(out, name, value.as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(if close { After::Close } else { After::KeepAlive }.connection_line());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<Header<'a>> {
        pairs.iter().map(|(name, value)| Header { name, value: value.as_bytes() }).collect()
    }

    #[test]
    fn request_bodies_are_framed_one_way_only() {
        let framing = |headers: &[(&str, &str)]| request_framing(1, &h(headers));
        assert_eq!(framing(&[]), Ok(Framing::Empty));
        assert_eq!(framing(&[("Content-Length", "10")]), Ok(Framing::Length(10)));
        assert_eq!(framing(&[("content-length", "10, 10")]), Ok(Framing::Length(10)));
        assert_eq!(framing(&[("Transfer-Encoding", "chunked")]), Ok(Framing::Chunked));
        assert_eq!(framing(&[("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "Chunked")]), Ok(Framing::Chunked));
        let chunked_in_1_0 = request_framing(0, &h(&[("Transfer-Encoding", "chunked")]));
        assert!(matches!(chunked_in_1_0, Err(Reject::BadRequest(_))));
        for bad in [
            vec![("Content-Length", "10, 11")],
            vec![("Content-Length", "10"), ("Content-Length", "11")],
            vec![("Content-Length", "+5")],
            vec![("Content-Length", "-1")],
            vec![("Content-Length", "")],
            vec![("Content-Length", "99999999999999999999999")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "")],
            vec![("Transfer-Encoding", "")],
            vec![("Transfer-Encoding", " , ")],
        ] {
            assert!(matches!(framing(&bad), Err(Reject::BadRequest(_))), "{bad:?}");
        }
        for unsupported in ["gzip", "chunked, gzip", "chunked, chunked"] {
            assert!(matches!(framing(&[("Transfer-Encoding", unsupported)]), Err(Reject::NotImplemented(_))));
        }
    }

    #[test]
    fn a_request_names_one_host_and_must_in_http_1_1() {
        assert_eq!(request_host(1, &h(&[("Host", "a")])), Ok(Some(&b"a"[..])));
        assert_eq!(request_host(0, &h(&[])), Ok(None));
        assert!(matches!(request_host(1, &h(&[])), Err(Reject::BadRequest(_))));
        assert!(matches!(request_host(0, &h(&[("Host", "a"), ("host", "b")])), Err(Reject::BadRequest(_))));
    }

    #[test]
    fn response_bodies_depend_on_the_request_and_the_status() {
        let length = h(&[("Content-Length", "5")]);
        assert_eq!(response_framing(200, false, &length), Ok(Framing::Length(5)));
        assert_eq!(response_framing(200, true, &length), Ok(Framing::Empty));
        assert_eq!(response_framing(204, false, &h(&[])), Ok(Framing::Empty));
        assert_eq!(response_framing(304, false, &length), Ok(Framing::Empty));
        assert_eq!(response_framing(200, false, &h(&[])), Ok(Framing::UntilClose));
        let both = h(&[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]);
        assert_eq!(response_framing(200, false, &both), Ok(Framing::Chunked));
        assert_eq!(response_framing(200, false, &h(&[("Transfer-Encoding", "gzip")])), Ok(Framing::UntilClose));
        assert_eq!(response_framing(200, false, &h(&[("Transfer-Encoding", "")])), Ok(Framing::UntilClose));
        assert_eq!(response_framing(200, false, &h(&[("Content-Length", "x")])), Err(Malformed));
    }

    #[test]
    fn connections_persist_by_version_and_connection_header() {
        assert!(keeps_alive(1, &h(&[])));
        assert!(!keeps_alive(1, &h(&[("Connection", "Upgrade, Close")])));
        assert!(!keeps_alive(0, &h(&[])));
        assert!(keeps_alive(0, &h(&[("Connection", "Keep-Alive")])));
        assert!(expects_continue(&h(&[("Expect", "100-Continue")])));
        assert!(!expects_continue(&h(&[])));
    }

    #[test]
    fn a_head_ends_at_its_blank_line_wherever_the_reads_split_it() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for split in 0..head.len() {
            let ended = head_ended(&head[..split], 0) || (1..=split).any(|from| head_ended(&head[..split], from));
            assert!(!ended, "not before the end: {split}");
            assert!(head_ended(head, split), "seen after a read ending at {split}");
        }
        assert!(head_ended(b"GET / HTTP/1.0\n\n", 15));
        assert!(!head_ended(b"GET / HTTP/1.1\r\nA: b\r\n", 0));
    }

    #[test]
    fn absolute_targets_become_origin_form() {
        assert_eq!(split_target("/a?b=1"), ("/a?b=1", None));
        assert_eq!(split_target("http://example.com/a?b"), ("/a?b", Some("example.com")));
        assert_eq!(split_target("http://example.com:8080?q"), ("?q", Some("example.com:8080")));
        assert_eq!(split_target("http://example.com"), ("", Some("example.com")));
        assert_eq!(split_target("HTTP://Example.com/a"), ("/a", Some("Example.com")));
        assert_eq!(split_target("*"), ("*", None));
        assert_eq!(split_target("admin/users"), ("admin/users", None));
    }

    fn request_head(headers: &[(&str, &str)], framing: Framing, after: After) -> String {
        request_head_with(headers, framing, after, Xff::Append, false)
    }

    fn request_head_with(headers: &[(&str, &str)], framing: Framing, after: After, xff: Xff, drop: bool) -> String {
        let mut out = Vec::new();
        let client = "10.0.0.9".parse().unwrap();
        let fwd = Forwarded { client, listener_port: 80, xff, drop_invalid_headers: drop };
        let headers = h(headers);
        let req = Outgoing { method: "POST", origin: "/p?q=1", headers: &headers, host: b"shop", framing, after };
        write_request_head(&mut out, &req, fwd);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_forwarded_request_head_loses_hop_by_hop_headers_and_gains_x_forwarded() {
        let head = request_head(
            &[
                ("Host", "shop.example.com"),
                ("Connection", "keep-alive, X-Secret"),
                ("Keep-Alive", "timeout=5"),
                ("X-Secret", "s"),
                ("Transfer-Encoding", "chunked,"),
                ("Expect", "100-continue"),
                ("X-Forwarded-For", "1.2.3.4"),
                ("X-Forwarded-Proto", "https"),
                ("Accept", "*/*"),
                ("Upgrade", "websocket"),
            ],
            Framing::Chunked,
            After::KeepAlive,
        );
        assert_eq!(
            head,
            "POST /p?q=1 HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\n\
             X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n\r\n"
        );
    }

    #[test]
    fn the_load_balancers_attributes_decide_x_forwarded_for_and_invalid_names() {
        let headers = [("X-Forwarded-For", "1.2.3.4"), ("x-forwarded-for", "5.6.7.8"), ("X_Secret", "s"), ("A-1", "a")];
        let tail = "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n\r\n";
        let with = |xff, drop| request_head_with(&headers, Framing::Empty, After::KeepAlive, xff, drop);
        let start = "POST /p?q=1 HTTP/1.1\r\nHost: shop\r\n";
        assert_eq!(
            with(Xff::Append, false),
            format!("{start}X_Secret: s\r\nA-1: a\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8, 10.0.0.9\r\n{tail}")
        );
        assert_eq!(with(Xff::Preserve, true), format!("{start}A-1: a\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n{tail}"));
        assert_eq!(with(Xff::Remove, true), format!("{start}A-1: a\r\n{tail}"));
        let none = request_head_with(&[], Framing::Empty, After::KeepAlive, Xff::Preserve, false);
        assert_eq!(none, format!("{start}{tail}"));
    }

    #[test]
    fn the_framing_passed_on_is_the_proxys_own() {
        let head = request_head(
            &[("Connection", "content-length"), ("Content-Length", "5, 5"), ("content-length", "5")],
            Framing::Length(5),
            After::KeepAlive,
        );
        assert_eq!(
            head,
            "POST /p?q=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\n\
             X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n\r\n"
        );
    }

    #[test]
    fn the_response_head_says_whether_the_connection_stays() {
        let headers = h(&[("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("ETag", "\"1\"")]);
        let mut out = Vec::new();
        write_response_head(&mut out, (200, "OK"), &headers, Framing::Chunked, false, After::KeepAlive);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: \"1\"\r\nConnection: keep-alive\r\n\r\n"
        );
        out.clear();
        let with_length = [&headers[..], &h(&[("Content-Length", "10")])].concat();
        write_response_head(&mut out, (404, "Not Found"), &with_length, Framing::Chunked, true, After::Close);
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\nETag: \"1\"\r\nConnection: close\r\n\r\n");
        out.clear();
        write_response(&mut out, (503, "Service Unavailable"), &[("Content-Type", "text/plain")], b"no", true);
        assert_eq!(
            out,
            b"HTTP/1.1 503 Service Unavailable\r\nServer: awselb/2.0\r\nContent-Type: text/plain\r\n\
              Content-Length: 2\r\nConnection: close\r\n\r\nno"
        );
    }

    #[test]
    fn an_upgrade_keeps_its_upgrade_header_both_ways() {
        let pairs = [("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k")];
        let headers = h(&pairs);
        assert!(wants_websocket("GET", 1, &headers));
        assert!(!wants_websocket("GET", 1, &headers[2..]), "Upgrade without Connection naming it");
        assert!(!wants_websocket("POST", 1, &headers));
        assert!(!wants_websocket("GET", 0, &headers));
        let h2c = h(&[("Connection", "Upgrade"), ("Upgrade", "h2c")]);
        assert!(!wants_websocket("GET", 1, &h2c), "no protocol but WebSocket");
        let head = request_head(&pairs[1..], Framing::Empty, After::Upgrade);
        assert_eq!(
            head,
            "POST /p?q=1 HTTP/1.1\r\nHost: shop\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nX-Forwarded-For: 10.0.0.9\r\n\
             X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nConnection: Upgrade\r\n\r\n"
        );
        let mut out = Vec::new();
        write_response_head(
            &mut out,
            (101, "Switching Protocols"),
            &headers[1..3],
            Framing::Empty,
            false,
            After::Upgrade,
        );
        assert_eq!(out, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    }
}
