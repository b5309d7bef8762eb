//! HTTP/1.x as the proxy needs it (pure): how a request's or a response's body is framed,
//! where a chunked body ends, which headers belong to one connection only, and the heads
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
}

impl Reject {
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Self::BadRequest(_) => (400, "Bad Request"),
            Self::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Self::NotImplemented(_) => (501, "Not Implemented"),
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::BadRequest(why) | Self::NotImplemented(why) => why,
            Self::HeadTooLarge => "the request head is too large",
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

/// Whether the transfer codings end in chunked (and name it only there); None without
/// a Transfer-Encoding header.
fn chunked_last(headers: &[Header]) -> Option<bool> {
    let mut codings = tokens(headers, "transfer-encoding").peekable();
    codings.peek()?;
    let (mut chunked_at, mut count) = (None, 0);
    for (i, coding) in codings.enumerate() {
        if coding.eq_ignore_ascii_case(b"chunked") {
            chunked_at = chunked_at.or(Some(i));
        }
        count = i + 1;
    }
    Some(chunked_at == Some(count - 1))
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

/// A request body's framing (RFC 9112 §6.3). Anything a target might read differently
/// from the proxy (the ground of request smuggling) is rejected rather than repaired.
pub fn request_framing(headers: &[Header]) -> Result<Framing, Reject> {
    let length =
        content_length(headers).map_err(|Malformed| Reject::BadRequest("the Content-Length header is not valid"))?;
    match chunked_last(headers) {
        Some(_) if length.is_some() => {
            Err(Reject::BadRequest("a request may not have both Content-Length and Transfer-Encoding"))
        }
        Some(true) => Ok(Framing::Chunked),
        Some(false) => Err(Reject::NotImplemented("only the chunked transfer coding, last, is supported")),
        None => Ok(length.map_or(Framing::Empty, Framing::Length)),
    }
}

/// A response body's framing, which also depends on the request's method and the status.
pub fn response_framing(status: u16, to_head: bool, headers: &[Header]) -> Result<Framing, Malformed> {
    if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    match chunked_last(headers) {
        Some(true) => Ok(Framing::Chunked),
        Some(false) => Ok(Framing::UntilClose),
        None => Ok(content_length(headers)?.map_or(Framing::UntilClose, Framing::Length)),
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

/// Whether a request asks to switch protocols (WebSocket): an Upgrade header, and
/// Connection naming it.
pub fn wants_upgrade(headers: &[Header]) -> bool {
    named(headers, "upgrade").next().is_some() && has_token(headers, "connection", "upgrade")
}

/// Whether a request asks for `100 Continue` before sending its body.
pub fn expects_continue(headers: &[Header]) -> bool {
    named(headers, "expect").any(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
}

/// Headers that describe one connection rather than the message, never passed on: the
/// fixed ones and those the Connection header names (except the ones that frame the body).
fn hop_by_hop(name: &str, headers: &[Header]) -> bool {
    const FIXED: [&str; 5] = ["connection", "keep-alive", "proxy-connection", "te", "upgrade"];
    const FRAMING: [&str; 3] = ["content-length", "transfer-encoding", "host"];
    FIXED.iter().any(|h| name.eq_ignore_ascii_case(h))
        || (!FRAMING.iter().any(|h| name.eq_ignore_ascii_case(h))
            && tokens(headers, "connection").any(|t| t.eq_ignore_ascii_case(name.as_bytes())))
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
    let Some(rest) = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) else {
        return (target, None);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    (&rest[end..], Some(&rest[..end]))
}

/// Where the proxy is, for the X-Forwarded-* headers it adds.
#[derive(Debug, Clone, Copy)]
pub struct Forwarded {
    pub client: IpAddr,
    pub listener_port: u16,
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
    fn passes(self, name: &str, headers: &[Header]) -> bool {
        !hop_by_hop(name, headers) || (self == Self::Upgrade && name.eq_ignore_ascii_case("upgrade"))
    }
}

/// The head passed to a target: the request line in origin-form as HTTP/1.1, the
/// client's headers less the hop-by-hop ones and Expect (the proxy answers that itself),
/// X-Forwarded-For with the client appended, X-Forwarded-Proto and -Port replaced, and a
/// Host when the client sent none. `after` is `Upgrade` for a request to switch
/// protocols, which keeps its Upgrade header; `KeepAlive` otherwise.
pub fn write_request_head(
    out: &mut Vec<u8>,
    (method, origin): (&str, &str),
    headers: &[Header],
    default_host: &dyn std::fmt::Display,
    fwd: Forwarded,
    after: After,
) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    if !origin.starts_with('/') && origin != "*" {
        out.push(b'/');
    }
    out.extend_from_slice(origin.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut has_host = false;
    for h in headers {
        const REPLACED: [&str; 4] = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "expect"];
        if REPLACED.iter().any(|r| h.name.eq_ignore_ascii_case(r)) || !after.passes(h.name, headers) {
            continue;
        }
        has_host |= h.name.eq_ignore_ascii_case("host");
        header(out, h.name, h.value);
    }
    if !has_host {
        out.extend_from_slice(format!("Host: {default_host}\r\n").as_bytes());
    }
    out.extend_from_slice(b"X-Forwarded-For: ");
    for prior in named(headers, "x-forwarded-for") {
        out.extend_from_slice(prior.trim_ascii());
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(
        format!("{}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: {}\r\n", fwd.client, fwd.listener_port).as_bytes(),
    );
    if after == After::Upgrade {
        out.extend_from_slice(after.connection_line());
    }
    out.extend_from_slice(b"\r\n");
}

/// The head passed back to the client: the target's status and headers less the
/// hop-by-hop ones, as HTTP/1.1, saying what becomes of the connection. With
/// `dechunk` (an HTTP/1.0 client, a chunked body) the body is sent decoded, so
/// Transfer-Encoding is left out (and the connection closes after it).
pub fn write_response_head(
    out: &mut Vec<u8>,
    (status, reason): (u16, &str),
    headers: &[Header],
    dechunk: bool,
    after: After,
) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    for h in headers {
        if !after.passes(h.name, headers) || (dechunk && h.name.eq_ignore_ascii_case("transfer-encoding")) {
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

/// Where a chunked body's reader is (RFC 9112 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Hex digits of a chunk size (`digits` so far).
    Size {
        size: u64,
        digits: u8,
    },
    /// Spaces after the size, before an extension or the line's end.
    SizeSpace {
        size: u64,
    },
    /// A chunk extension, up to the line's end.
    Extension {
        size: u64,
    },
    /// The LF after a size line's CR.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// The start of a line after the last chunk: a trailer field or the final CRLF.
    TrailerStart,
    Trailer,
    TrailerLf,
    FinalLf,
    Done,
}

/// The body still to come of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    left: Remaining,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remaining {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

impl Body {
    pub fn new(framing: Framing) -> Self {
        let left = match framing {
            Framing::Empty => Remaining::Length(0),
            Framing::Length(n) => Remaining::Length(n),
            Framing::Chunked => Remaining::Chunked(Chunk::Size { size: 0, digits: 0 }),
            Framing::UntilClose => Remaining::UntilClose,
        };
        Self { left }
    }

    /// Whether all of the body has been seen (never, for one that ends at close).
    pub fn is_done(&self) -> bool {
        matches!(self.left, Remaining::Length(0) | Remaining::Chunked(Chunk::Done))
    }

    /// How many bytes at the start of `input` belong to the body; the payload among
    /// them (a chunked body's chunk data) goes to `payload` in order.
    pub fn advance(&mut self, input: &[u8], payload: &mut dyn FnMut(&[u8])) -> Result<usize, Malformed> {
        match &mut self.left {
            Remaining::Length(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(input.len());
                payload(&input[..n]);
                *left -= n as u64;
                Ok(n)
            }
            Remaining::UntilClose => {
                payload(input);
                Ok(input.len())
            }
            Remaining::Chunked(state) => advance_chunked(state, input, payload),
        }
    }
}

fn advance_chunked(state: &mut Chunk, input: &[u8], payload: &mut dyn FnMut(&[u8])) -> Result<usize, Malformed> {
    let mut at = 0;
    while at < input.len() && *state != Chunk::Done {
        if let Chunk::Data { left } = *state {
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - at);
            payload(&input[at..at + n]);
            at += n;
            *state = if left == n as u64 { Chunk::DataCr } else { Chunk::Data { left: left - n as u64 } };
            continue;
        }
        let b = input[at];
        at += 1;
        *state = match (*state, b) {
            (Chunk::Size { size, digits }, _) if b.is_ascii_hexdigit() => {
                let digit = u64::from((b as char).to_digit(16).unwrap_or(0) as u8);
                if digits >= 15 {
                    return Err(Malformed);
                }
                Chunk::Size { size: size * 16 + digit, digits: digits + 1 }
            }
            (Chunk::Size { digits: 0, .. }, _) => return Err(Malformed),
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b' ' | b'\t') => Chunk::SizeSpace { size },
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size }, b';') => Chunk::Extension { size },
            (Chunk::Size { size, .. } | Chunk::SizeSpace { size } | Chunk::Extension { size }, b'\r') => {
                Chunk::SizeLf { size }
            }
            (Chunk::Extension { size }, b) if b != b'\n' => Chunk::Extension { size },
            (Chunk::SizeLf { size: 0 }, b'\n') => Chunk::TrailerStart,
            (Chunk::SizeLf { size }, b'\n') => Chunk::Data { left: size },
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::Size { size: 0, digits: 0 },
            (Chunk::TrailerStart, b'\r') => Chunk::FinalLf,
            (Chunk::TrailerStart | Chunk::Trailer, b) if b != b'\n' && b != b'\r' => Chunk::Trailer,
            (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
            (Chunk::TrailerLf, b'\n') => Chunk::TrailerStart,
            (Chunk::FinalLf, b'\n') => Chunk::Done,
            _ => return Err(Malformed),
        };
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<Header<'a>> {
        pairs.iter().map(|(name, value)| Header { name, value: value.as_bytes() }).collect()
    }

    #[test]
    fn request_bodies_are_framed_one_way_only() {
        assert_eq!(request_framing(&h(&[])), Ok(Framing::Empty));
        assert_eq!(request_framing(&h(&[("Content-Length", "10")])), Ok(Framing::Length(10)));
        assert_eq!(request_framing(&h(&[("content-length", "10, 10")])), Ok(Framing::Length(10)));
        assert_eq!(request_framing(&h(&[("Transfer-Encoding", "chunked")])), Ok(Framing::Chunked));
        assert_eq!(
            request_framing(&h(&[("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "Chunked")])),
            Ok(Framing::Chunked)
        );
        for bad in [
            vec![("Content-Length", "10, 11")],
            vec![("Content-Length", "10"), ("Content-Length", "11")],
            vec![("Content-Length", "+5")],
            vec![("Content-Length", "-1")],
            vec![("Content-Length", "")],
            vec![("Content-Length", "99999999999999999999999")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        ] {
            assert!(matches!(request_framing(&h(&bad)), Err(Reject::BadRequest(_))), "{bad:?}");
        }
        for unsupported in ["gzip", "chunked, gzip", "chunked, chunked"] {
            let headers = h(&[("Transfer-Encoding", unsupported)]);
            assert!(matches!(request_framing(&headers), Err(Reject::NotImplemented(_))), "{unsupported}");
        }
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
        assert_eq!(split_target("*"), ("*", None));
    }

    fn request_head(origin: &str, headers: &[(&str, &str)]) -> String {
        let mut out = Vec::new();
        let fwd = Forwarded { client: "10.0.0.9".parse().unwrap(), listener_port: 80 };
        write_request_head(&mut out, ("POST", origin), &h(headers), &"10.1.1.1:8080", fwd, After::KeepAlive);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_forwarded_request_head_loses_hop_by_hop_headers_and_gains_x_forwarded() {
        let head = request_head(
            "/p?q=1",
            &[
                ("Host", "shop.example.com"),
                ("Connection", "keep-alive, X-Secret"),
                ("Keep-Alive", "timeout=5"),
                ("X-Secret", "s"),
                ("Transfer-Encoding", "chunked"),
                ("Expect", "100-continue"),
                ("X-Forwarded-For", "1.2.3.4"),
                ("X-Forwarded-Proto", "https"),
                ("Accept", "*/*"),
            ],
        );
        assert_eq!(
            head,
            "POST /p?q=1 HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked\r\nAccept: */*\r\n\
             X-Forwarded-For: 1.2.3.4, 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n\r\n"
        );
    }

    #[test]
    fn a_request_without_host_or_path_gets_the_targets() {
        let head = request_head("?q", &[("Connection", "content-length"), ("Content-Length", "0")]);
        assert_eq!(
            head,
            "POST /?q HTTP/1.1\r\nContent-Length: 0\r\nHost: 10.1.1.1:8080\r\n\
             X-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n\r\n"
        );
    }

    #[test]
    fn the_response_head_says_whether_the_connection_stays() {
        let headers = h(&[("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("ETag", "\"1\"")]);
        let mut out = Vec::new();
        write_response_head(&mut out, (200, "OK"), &headers, false, After::KeepAlive);
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: \"1\"\r\nConnection: keep-alive\r\n\r\n"
        );
        out.clear();
        write_response_head(&mut out, (404, "Not Found"), &headers, true, After::Close);
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
        let headers =
            h(&[("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k")]);
        assert!(wants_upgrade(&headers));
        assert!(!wants_upgrade(&headers[2..]), "Upgrade without Connection naming it");
        let mut out = Vec::new();
        let fwd = Forwarded { client: "10.0.0.9".parse().unwrap(), listener_port: 80 };
        write_request_head(&mut out, ("GET", "/ws"), &headers, &"t", fwd, After::Upgrade);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nX-Forwarded-For: 10.0.0.9\r\n\
             X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nConnection: Upgrade\r\n\r\n"
        );
        let mut out = Vec::new();
        write_response_head(&mut out, (101, "Switching Protocols"), &headers[1..3], false, After::Upgrade);
        assert_eq!(out, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    }

    /// Feeds `input` to a body in pieces of `step` bytes: (bytes consumed, payload, done).
    fn feed(framing: Framing, input: &[u8], step: usize) -> Result<(usize, Vec<u8>, bool), Malformed> {
        let mut body = Body::new(framing);
        let (mut used, mut payload) = (0, Vec::new());
        for piece in input.chunks(step) {
            let n = body.advance(piece, &mut |p| payload.extend_from_slice(p))?;
            used += n;
            if n < piece.len() {
                break;
            }
        }
        Ok((used, payload, body.is_done()))
    }

    #[test]
    fn a_body_of_known_length_ends_where_the_next_message_starts() {
        for step in [1, 3, 100] {
            assert_eq!(feed(Framing::Length(5), b"helloGET /", step), Ok((5, b"hello".to_vec(), true)));
            assert_eq!(feed(Framing::Length(5), b"hel", step), Ok((3, b"hel".to_vec(), false)));
        }
        assert_eq!(feed(Framing::Empty, b"GET /", 1), Ok((0, vec![], true)));
        assert_eq!(feed(Framing::UntilClose, b"all of it", 4), Ok((9, b"all of it".to_vec(), false)));
    }

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk_and_trailers_in_any_pieces() {
        let body = b"5;name=value\r\nhello\r\nA \r\n, chunked!\r\n0\r\nX-Checksum: 1\r\n\r\n";
        let mut input = body.to_vec();
        input.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        for step in [1, 2, 7, 1000] {
            assert_eq!(feed(Framing::Chunked, &input, step), Ok((body.len(), b"hello, chunked!".to_vec(), true)));
        }
        assert_eq!(feed(Framing::Chunked, b"0\r\n\r\n", 1), Ok((5, vec![], true)));
        assert_eq!(feed(Framing::Chunked, b"5\r\nhel", 2), Ok((6, b"hel".to_vec(), false)));
    }

    #[test]
    fn a_malformed_chunked_body_is_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n",
            b"5\r\nhelloXX",
            b"5\r\nhello\r\r",
            b"1234567890abcdef0\r\n",
            b"5 x\r\n",
            b"0\r\nX: 1\n",
        ] {
            assert_eq!(feed(Framing::Chunked, bad, 1), Err(Malformed), "{}", String::from_utf8_lossy(bad));
        }
    }
}
