//! The listeners' HTTP/1.1 proxy. A client connection's requests are read one after
//! another (pipelined ones too), each routed by the listener's rules and answered with a
//! fixed response, a redirect, or forwarded to a target over a pooled keep-alive
//! connection with X-Forwarded-* headers. Heads are parsed in place and passed on with
//! only the hop-by-hop headers changed; bodies are relayed as they arrive, by their
//! framing (`http1`). 502 when the target fails, 504 when it does not answer within the
//! idle timeout, 503 when the group has no target to send to.

use crate::balance::{self, Candidate};
use crate::http1::{self, After, Body, Forwarded, Framing, Reject};
use crate::routing::{self, RequestView};
use crate::snapshot::{GroupView, Snapshot, TargetView};
use berth_model::elbv2::Action;
use bytes::{Buf, BytesMut};
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// ALB's default idle timeout, for a connection to a listener that is gone.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle connection to a target is kept for reuse, and how many per target.
const POOL_IDLE: Duration = Duration::from_secs(30);
const POOL_PER_TARGET: usize = 256;
const BUFFER: usize = 16 * 1024;

/// What every listener shares: the current snapshot, the idle connections to targets,
/// and the balancer's counters (which outlive any one snapshot).
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    pool: Pool,
    counters: Mutex<Counters>,
    rolls: AtomicU64,
}

/// Round robin's turn per target group, requests in flight per target address.
#[derive(Default)]
struct Counters {
    turns: HashMap<String, Arc<AtomicUsize>>,
    in_flight: HashMap<SocketAddr, Arc<AtomicUsize>>,
}

impl Shared {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            pool: Pool::default(),
            counters: Mutex::default(),
            rolls: AtomicU64::new(0),
        })
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Serves `snapshot` from now on, its groups and targets keeping their counters;
    /// idle connections to targets no longer in it are closed.
    pub fn set_snapshot(&self, mut snapshot: Snapshot) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let Counters { turns, in_flight } = &mut *counters;
        let addrs: HashSet<SocketAddr> =
            snapshot.groups.values().flat_map(|g| g.targets.iter().map(|t| t.addr)).collect();
        turns.retain(|arn, _| snapshot.groups.contains_key(arn));
        in_flight.retain(|addr, _| addrs.contains(addr));
        self.pool.retain(&addrs);
        for group in snapshot.groups.values_mut() {
            group.turn = turns.entry(group.arn.clone()).or_default().clone();
            for target in &mut group.targets {
                target.in_flight = in_flight.entry(target.addr).or_default().clone();
            }
        }
        drop(counters);
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }
}

/// Idle keep-alive connections to targets; the most recently used goes out first.
#[derive(Default)]
struct Pool(Mutex<HashMap<SocketAddr, Vec<(TcpStream, Instant)>>>);

impl Pool {
    fn take(&self, addr: SocketAddr) -> Option<TcpStream> {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let conns = idle.get_mut(&addr)?;
        while let Some((stream, since)) = conns.pop() {
            // A target that closed an idle connection made it readable: reading gives EOF.
            let open = matches!(stream.try_read(&mut [0; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
            if open && since.elapsed() < POOL_IDLE {
                return Some(stream);
            }
        }
        None
    }

    fn put(&self, addr: SocketAddr, stream: TcpStream) {
        let now = Instant::now();
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let conns = idle.entry(addr).or_default();
        // Oldest first: those idle too long are a prefix.
        let stale = conns.partition_point(|(_, since)| now.duration_since(*since) >= POOL_IDLE);
        conns.drain(..stale);
        if conns.len() < POOL_PER_TARGET {
            conns.push((stream, now));
        }
    }

    fn retain(&self, addrs: &HashSet<SocketAddr>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).retain(|addr, _| addrs.contains(addr));
    }
}

/// The target of `group` the next request goes to.
fn choose(group: &GroupView) -> Option<&TargetView> {
    let targets = &group.targets;
    let candidate = |i: usize| Candidate {
        healthy: targets[i].state == "healthy",
        draining: targets[i].draining,
        in_flight: targets[i].in_flight.load(Ordering::Relaxed),
    };
    let turn = group.turn.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    balance::pick(targets.len(), candidate, group.algorithm, turn).map(|i| &targets[i])
}

/// Counts a request in flight to a target until dropped (also when the client goes away
/// mid-request and its future is dropped).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(target: &TargetView) -> Self {
        target.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(target.in_flight.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What to do with one request, decided from its head.
struct Plan {
    head_len: usize,
    body: Framing,
    /// Whether the client keeps the connection open after this exchange.
    keep_alive: bool,
    http10: bool,
    to_head: bool,
    expect_continue: bool,
    /// A request to switch protocols (WebSocket) without a body.
    upgrade: bool,
    /// The listener's load balancer's idle timeout.
    idle: Duration,
    /// The target it is forwarded to (its head is in `to_target`), or None when the
    /// proxy answers itself (the whole response is in `to_client`).
    forward: Option<(SocketAddr, InFlight)>,
}

/// The listener a client connection came to, and the client's address.
struct Origin {
    shared: Arc<Shared>,
    local: SocketAddr,
    peer: SocketAddr,
}

/// One client connection and its buffers, reused from request to request.
struct Connection {
    at: Origin,
    client: TcpStream,
    /// How long the client may idle and a target take to answer before the client gets
    /// 504: the load balancer's idle_timeout.timeout_seconds, as of the last request.
    idle: Duration,
    /// Bytes read from the client not yet passed on.
    inbound: BytesMut,
    /// Bytes read from the target not yet passed on.
    from_target: BytesMut,
    to_target: Vec<u8>,
    to_client: Vec<u8>,
}

/// Serves one client connection of listener `local` until it closes, idles out or errs.
pub async fn serve(shared: Arc<Shared>, local: SocketAddr, peer: SocketAddr, client: TcpStream) {
    let _ = client.set_nodelay(true);
    let idle = shared.snapshot().listeners.get(&local).map_or(DEFAULT_IDLE, |l| l.idle_timeout);
    let mut conn = Connection {
        at: Origin { shared, local, peer },
        client,
        idle,
        inbound: BytesMut::with_capacity(BUFFER),
        from_target: BytesMut::with_capacity(BUFFER),
        to_target: Vec::with_capacity(BUFFER),
        to_client: Vec::with_capacity(BUFFER),
    };
    loop {
        match conn.exchange().await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                tracing::debug!(peer = %conn.at.peer, error = %e, "client connection ended");
                break;
            }
        }
    }
}

fn invalid(_: http1::Malformed) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "malformed chunked body")
}

/// Moves what of `from` belongs to `body` into `to`: as it came, or only the payload
/// when `decode` (a chunked body to an HTTP/1.0 client).
fn take_body(from: &mut BytesMut, to: &mut Vec<u8>, body: &mut Body, decode: bool) -> io::Result<()> {
    let n = if decode {
        body.advance(from, &mut |payload| to.extend_from_slice(payload)).map_err(invalid)?
    } else {
        let n = body.advance(from, &mut |_| {}).map_err(invalid)?;
        to.extend_from_slice(&from[..n]);
        n
    };
    from.advance(n);
    Ok(())
}

/// How the target's response is passed on, decided from its head.
struct ResponsePlan {
    head_len: usize,
    /// An interim (1xx) response, not passed on: the proxy answered Expect itself.
    interim: bool,
    body: Framing,
    decode: bool,
    /// For the client's connection.
    after: After,
    target_keeps_alive: bool,
}

/// Reads the target's response head into `buf` (skipping interim responses) and writes
/// the head for the client into `out`. Err(true) when the target closed the connection
/// before sending anything.
async fn response_head(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    out: &mut Vec<u8>,
    plan: &Plan,
) -> Result<ResponsePlan, bool> {
    loop {
        if !buf.is_empty() {
            match response_plan(buf, out, plan) {
                Ok(Some(r)) if r.interim => {
                    buf.advance(r.head_len);
                    continue;
                }
                Ok(Some(r)) => return Ok(r),
                Ok(None) if buf.len() >= http1::MAX_HEAD => return Err(false),
                Ok(None) => {}
                Err(http1::Malformed) => return Err(false),
            }
        }
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) if buf.is_empty() => return Err(true),
            Ok(0) | Err(_) => return Err(false),
            Ok(_) => {}
        }
    }
}

fn response_plan(input: &[u8], out: &mut Vec<u8>, plan: &Plan) -> Result<Option<ResponsePlan>, http1::Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; http1::MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(http1::Malformed),
    };
    let status = resp.code.unwrap_or_default();
    let headers: &[httparse::Header] = resp.headers;
    let switching = status == 101;
    if switching && !plan.upgrade {
        return Err(http1::Malformed); // a switch nobody asked for
    }
    let interim = (100..200).contains(&status) && !switching;
    let body = http1::response_framing(status, plan.to_head, headers)?;
    let decode = plan.http10 && body == Framing::Chunked;
    let after = if switching {
        After::Upgrade
    } else if !plan.keep_alive || body == Framing::UntilClose || decode {
        After::Close
    } else {
        After::KeepAlive
    };
    if !interim {
        http1::write_response_head(out, (status, resp.reason.unwrap_or_default()), headers, decode, after);
    }
    let target_keeps_alive = !switching && http1::keeps_alive(resp.version.unwrap_or(1), headers);
    Ok(Some(ResponsePlan { head_len, interim, body, decode, after, target_keeps_alive }))
}

impl Connection {
    /// One request and its response; whether the connection stays open for another.
    async fn exchange(&mut self) -> io::Result<bool> {
        let mut looked_at = 0;
        let plan = loop {
            if http1::head_ended(&self.inbound, looked_at) {
                self.to_target.clear();
                self.to_client.clear();
                let snapshot = self.at.shared.snapshot();
                match plan(&self.inbound, &self.at, &snapshot, &mut self.to_target, &mut self.to_client) {
                    Ok(Some(plan)) => {
                        self.idle = plan.idle;
                        break plan;
                    }
                    Ok(None) => {}
                    Err(reject) => return self.reject(reject).await,
                }
            }
            if self.inbound.len() >= http1::MAX_HEAD {
                return self.reject(Reject::HeadTooLarge).await;
            }
            looked_at = self.inbound.len();
            match timeout(self.idle, self.client.read_buf(&mut self.inbound)).await {
                Ok(Ok(0)) | Err(_) => return Ok(false),
                Ok(result) => result?,
            };
        };
        match plan.forward {
            Some((addr, _)) => self.forward(&plan, addr).await,
            None => {
                self.client.write_all(&self.to_client).await?;
                self.inbound.advance(plan.head_len);
                Ok(plan.keep_alive)
            }
        }
    }

    async fn reject(&mut self, reject: Reject) -> io::Result<bool> {
        self.to_client.clear();
        own_response(&mut self.to_client, reject.status(), &[], reject.reason().as_bytes(), true, false);
        self.client.write_all(&self.to_client).await?;
        Ok(false)
    }

    /// Answers an error status when forwarding failed; the connection stays open only if
    /// the whole request was read.
    async fn fail(&mut self, plan: &Plan, status: (u16, &str), whole: bool) -> io::Result<bool> {
        let close = !(plan.keep_alive && whole);
        self.to_client.clear();
        error_page(&mut self.to_client, status, close, plan.to_head);
        self.client.write_all(&self.to_client).await?;
        Ok(!close)
    }

    async fn forward(&mut self, plan: &Plan, addr: SocketAddr) -> io::Result<bool> {
        let mut body = Body::new(plan.body);
        self.inbound.advance(plan.head_len);
        take_body(&mut self.inbound, &mut self.to_target, &mut body, false)?;
        let whole = body.is_done();
        let mut attempt = 0;
        let (mut target, response) = loop {
            attempt += 1;
            // A pooled connection the target closed meanwhile fails without an answer;
            // the request is then sent again on a new one, if it is all at hand.
            let pooled = if attempt == 1 { self.at.shared.pool.take(addr) } else { None };
            let reused = pooled.is_some();
            let mut target = match pooled {
                Some(stream) => stream,
                None => match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(target = %addr, error = %e, "target refused");
                        return self.fail(plan, (502, "Bad Gateway"), whole).await;
                    }
                    Err(_) => return self.fail(plan, (504, "Gateway Timeout"), whole).await,
                },
            };
            let _ = target.set_nodelay(true);
            if target.write_all(&self.to_target).await.is_err() {
                if reused && whole {
                    continue;
                }
                return self.fail(plan, (502, "Bad Gateway"), whole).await;
            }
            if !whole {
                if plan.expect_continue {
                    self.client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
                }
                while !body.is_done() {
                    match timeout(self.idle, self.client.read_buf(&mut self.inbound)).await {
                        Ok(Ok(0)) | Err(_) => return Ok(false),
                        Ok(result) => result?,
                    };
                    self.to_target.clear();
                    take_body(&mut self.inbound, &mut self.to_target, &mut body, false)?;
                    if target.write_all(&self.to_target).await.is_err() {
                        return self.fail(plan, (502, "Bad Gateway"), body.is_done()).await;
                    }
                }
            }
            self.from_target.clear();
            self.to_client.clear();
            let head = response_head(&mut target, &mut self.from_target, &mut self.to_client, plan);
            match timeout(self.idle, head).await {
                Ok(Ok(response)) => break (target, response),
                Ok(Err(true)) if reused && whole => continue,
                Ok(Err(_)) => {
                    tracing::debug!(target = %addr, "target closed or answered malformed");
                    return self.fail(plan, (502, "Bad Gateway"), true).await;
                }
                Err(_) => return self.fail(plan, (504, "Gateway Timeout"), true).await,
            }
        };
        self.from_target.advance(response.head_len);
        if response.after == After::Upgrade {
            return self.relay_switched(target).await;
        }
        let mut body = Body::new(response.body);
        take_body(&mut self.from_target, &mut self.to_client, &mut body, response.decode)?;
        self.client.write_all(&self.to_client).await?;
        while !body.is_done() {
            self.from_target.clear();
            match timeout(self.idle, target.read_buf(&mut self.from_target)).await {
                // The end of a body that lasts until close, or one cut short: either way the
                // client's connection closes too, which tells it the body ended.
                Ok(Ok(0) | Err(_)) | Err(_) => return Ok(false),
                Ok(Ok(_)) => {}
            }
            self.to_client.clear();
            take_body(&mut self.from_target, &mut self.to_client, &mut body, response.decode)?;
            self.client.write_all(&self.to_client).await?;
        }
        if response.target_keeps_alive && self.from_target.is_empty() {
            self.at.shared.pool.put(addr, target);
        }
        Ok(response.after == After::KeepAlive)
    }

    /// After a target switched protocols: what either side sent early, then bytes both
    /// ways until one side closes. The client's connection ends with it.
    async fn relay_switched(&mut self, mut target: TcpStream) -> io::Result<bool> {
        self.to_client.extend_from_slice(&self.from_target);
        self.client.write_all(&self.to_client).await?;
        target.write_all(&self.inbound).await?;
        tokio::io::copy_bidirectional(&mut self.client, &mut target).await?;
        Ok(false)
    }
}

/// Decides what to do with the request at the start of `input`, writing the head to
/// forward or the whole response into `conn`'s buffers. None while the head is incomplete.
fn plan(
    input: &[u8],
    at: &Origin,
    snapshot: &Snapshot,
    to_target: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<Option<Plan>, Reject> {
    let mut headers = [httparse::EMPTY_HEADER; http1::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(input) {
        Ok(httparse::Status::Complete(n)) if n > http1::MAX_HEAD => return Err(Reject::HeadTooLarge),
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Reject::HeadTooLarge),
        Err(_) => return Err(Reject::BadRequest("the request head is malformed")),
    };
    let (method, target, version) = (req.method.unwrap_or_default(), req.path.unwrap_or_default(), req.version);
    let headers: &[httparse::Header] = req.headers;
    if method == "CONNECT" {
        return Err(Reject::BadRequest("CONNECT is not supported"));
    }
    let body = http1::request_framing(headers)?;
    let (origin, authority) = http1::split_target(target);
    let host_header = headers.iter().find(|h| h.name.eq_ignore_ascii_case("host")).map(|h| h.value);
    let host = host_header.and_then(|h| std::str::from_utf8(h).ok()).or(authority).unwrap_or_default();
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    let view = RequestView { method, path, query, host: without_port(host), headers, source: at.peer.ip() };
    let mut plan = Plan {
        head_len,
        body,
        keep_alive: http1::keeps_alive(version.unwrap_or(1), headers),
        http10: version == Some(0),
        to_head: method == "HEAD",
        expect_continue: http1::expects_continue(headers),
        upgrade: body == Framing::Empty && http1::wants_upgrade(headers),
        idle: DEFAULT_IDLE,
        forward: None,
    };
    // Answering without reading a body leaves the connection unusable after it.
    let close = !plan.keep_alive || body != Framing::Empty;
    let listener = snapshot.listeners.get(&at.local);
    plan.idle = listener.map_or(DEFAULT_IDLE, |l| l.idle_timeout);
    let action = listener.and_then(|l| routing::select(&l.rules, &l.default_actions, &view).first());
    match action.map(|a| (a, a.kind.as_str())) {
        Some((action, "fixed-response")) => fixed(out, action, close, plan.to_head),
        Some((action, "redirect")) => redirect(out, action, &view, at.local.port(), close, plan.to_head),
        Some((action, _)) => match target_for(&at.shared, snapshot, action) {
            Some(target) => {
                let fwd = Forwarded { client: at.peer.ip(), listener_port: at.local.port() };
                let after = if plan.upgrade { After::Upgrade } else { After::KeepAlive };
                http1::write_request_head(to_target, (method, origin), headers, &target.addr, fwd, after);
                plan.forward = Some((target.addr, InFlight::start(target)));
            }
            None => error_page(out, (503, "Service Unavailable"), close, plan.to_head),
        },
        None => error_page(out, (503, "Service Unavailable"), close, plan.to_head),
    }
    if plan.forward.is_none() {
        plan.keep_alive &= !close;
    }
    Ok(Some(plan))
}

/// The target a forward action sends the next request to: a group by weight, then a
/// target of it by the group's algorithm.
fn target_for<'s>(shared: &Shared, snapshot: &'s Snapshot, action: &Action) -> Option<&'s TargetView> {
    let roll = shared.rolls.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    routing::target_group(action, roll).and_then(|arn| snapshot.groups.get(arn)).and_then(choose)
}

/// A Host header's host, without its port (`[::1]:80` → `[::1]`).
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !port.contains(']') => h,
        _ => host,
    }
}

/// A response of the proxy's own, its body left out when answering HEAD.
fn own_response(
    out: &mut Vec<u8>,
    status: (u16, &str),
    extra: &[(&str, &str)],
    body: &[u8],
    close: bool,
    to_head: bool,
) {
    http1::write_response(out, status, extra, body, close);
    if to_head {
        out.truncate(out.len() - body.len());
    }
}

fn error_page(out: &mut Vec<u8>, status: (u16, &str), close: bool, to_head: bool) {
    let text = format!("{} {}\n", status.0, status.1);
    own_response(out, status, &[("Content-Type", "text/plain; charset=utf-8")], text.as_bytes(), close, to_head);
}

fn fixed(out: &mut Vec<u8>, action: &Action, close: bool, to_head: bool) {
    let Some(c) = &action.fixed_response_config else {
        return error_page(out, (503, "Service Unavailable"), close, to_head);
    };
    let status = c.status_code.parse().ok().filter(|s| (200..600).contains(s)).unwrap_or(200);
    let content_type = c.content_type.as_deref().unwrap_or("text/plain");
    let body = c.message_body.as_deref().unwrap_or_default();
    own_response(out, (status, reason(status)), &[("Content-Type", content_type)], body.as_bytes(), close, to_head);
}

/// The standard reason phrase of a status ALB's fixed responses and redirects use.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// A redirect's Location, with ALB's `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and
/// `#{query}` placeholders filled from the request.
fn redirect(out: &mut Vec<u8>, action: &Action, req: &RequestView, port: u16, close: bool, to_head: bool) {
    let Some(c) = &action.redirect_config else {
        return error_page(out, (503, "Service Unavailable"), close, to_head);
    };
    let fill = |template: &Option<String>, default: &str| {
        template
            .as_deref()
            .unwrap_or(default)
            .replace("#{protocol}", "http")
            .replace("#{host}", req.host)
            .replace("#{port}", &port.to_string())
            .replace("#{path}", req.path.trim_start_matches('/'))
            .replace("#{query}", req.query)
    };
    let protocol = fill(&c.protocol, "#{protocol}").to_lowercase();
    let location_port = fill(&c.port, "#{port}");
    let query = fill(&c.query, "#{query}");
    let mut location =
        format!("{protocol}://{}:{location_port}{}", fill(&c.host, "#{host}"), fill(&c.path, "/#{path}"));
    if !query.is_empty() {
        location = format!("{location}?{query}");
    }
    let status = if c.status_code == "HTTP_301" { 301 } else { 302 };
    let extra = [("Location", location.as_str()), ("Content-Type", "text/plain")];
    own_response(out, (status, reason(status)), &extra, b"", close, to_head);
}
