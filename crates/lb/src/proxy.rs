//! The listeners' HTTP/1.1 proxy. A client connection's requests are read one after
//! another (pipelined ones too), each routed by the listener's rules and answered with a
//! fixed response, a redirect, or forwarded to a target over a pooled keep-alive
//! connection with X-Forwarded-* headers. Heads are parsed in place and passed on with
//! only the hop-by-hop headers changed; bodies are relayed as they arrive, by their
//! framing (`http1`). 502 when the target fails, 504 when it does not answer within the
//! idle timeout, 503 when the group has no target to send to.

use crate::answers;
use crate::balance::{self, Candidate};
use crate::body::Body;
use crate::http1::{self, After, Forwarded, Framing, Outgoing, Reject, Xff};
use crate::metrics;
use crate::pool::Pool;
use crate::relay::{self, Heard, Sending};
use crate::routing::{self, RequestView};
use crate::snapshot::{GroupView, Snapshot, TargetView};
use berth_model::elbv2::{Action, ActionTypeEnum};
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
const BUFFER: usize = 16 * 1024;

/// What every listener shares: the current snapshot, the idle connections to targets,
/// and the balancer's counters (which outlive any one snapshot).
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    pool: Pool,
    counters: Mutex<Counters>,
    rolls: AtomicU64,
}

/// Round robin's turn per target group, requests in flight per target address, the
/// metrics' counters per target group and load balancer (`metrics`), by ARN.
#[derive(Default)]
struct Counters {
    turns: HashMap<String, Arc<AtomicUsize>>,
    in_flight: HashMap<SocketAddr, Arc<AtomicUsize>>,
    groups: HashMap<String, Arc<metrics::Counters>>,
    balancers: HashMap<String, Arc<metrics::Counters>>,
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
        let Counters { turns, in_flight, groups, balancers } = &mut *counters;
        let addrs: HashSet<SocketAddr> =
            snapshot.groups.values().flat_map(|g| g.targets.iter().map(|t| t.addr)).collect();
        turns.retain(|arn, _| snapshot.groups.contains_key(arn));
        // Kept for groups and balancers that are gone too: the publisher takes and drops them.
        for listener in snapshot.listeners.values_mut() {
            listener.counters = balancers.entry(listener.load_balancer.clone()).or_default().clone();
        }
        in_flight.retain(|addr, _| addrs.contains(addr));
        self.pool.retain(&addrs);
        for group in snapshot.groups.values_mut() {
            group.turn = turns.entry(group.arn.clone()).or_default().clone();
            group.counters = groups.entry(group.arn.clone()).or_default().clone();
            for target in &mut group.targets {
                target.in_flight = in_flight.entry(target.addr).or_default().clone();
            }
        }
        drop(counters);
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }
}

impl Shared {
    /// Every target group's and load balancer's counters (by ARN), forgetting those no
    /// longer in the snapshot: the caller takes their last counts.
    pub fn metric_counters(&self) -> metrics::Registered {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let snapshot = self.snapshot();
        let Counters { groups, balancers, .. } = &mut *counters;
        let registered = metrics::Registered {
            groups: groups.iter().map(|(a, c)| (a.clone(), c.clone())).collect(),
            balancers: balancers.iter().map(|(a, c)| (a.clone(), c.clone())).collect(),
        };
        groups.retain(|arn, _| snapshot.groups.contains_key(arn));
        balancers.retain(|arn, _| snapshot.listeners.values().any(|l| &l.load_balancer == arn));
        registered
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
    /// Whether it may be sent again when a pooled connection fails before an answer:
    /// a method that is idempotent (RFC 9110 §9.2.2), a POST never is.
    idempotent: bool,
    /// Whether the proxy says `100 Continue` before the body comes (HTTP/1.1 only).
    expect_continue: bool,
    /// A request to switch to WebSocket (then it has no body).
    upgrade: bool,
    /// The listener's load balancer's idle timeout.
    idle: Duration,
    /// The target it is forwarded to (its head is in `to_target`), or None when the
    /// proxy answers itself (the whole response is in `to_client`).
    forward: Option<(SocketAddr, InFlight)>,
    /// The counters of the target group it is forwarded to.
    counted: Option<Arc<metrics::Counters>>,
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
    /// How long the client may idle (or take to send a head) and a target take to
    /// answer before the client gets 504: the load balancer's idle_timeout.timeout_seconds,
    /// as of the last request.
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
    relay::linger(conn.client, &mut conn.inbound).await;
}

/// How the target's response is passed on, decided from its head.
struct ResponsePlan {
    head_len: usize,
    status: u16,
    /// An interim (1xx) response, not passed on: the proxy answered Expect itself.
    interim: bool,
    body: Framing,
    decode: bool,
    /// For the client's connection.
    after: After,
    target_keeps_alive: bool,
}

/// Reads the target's response head into `buf` (skipping interim responses) and writes
/// the head for the client into `out`; `close` when the client's connection must close
/// after it. Err(true) when the target closed the connection before sending anything.
async fn response_head(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    out: &mut Vec<u8>,
    plan: &Plan,
    close: bool,
) -> Result<ResponsePlan, bool> {
    loop {
        if !buf.is_empty() {
            match response_plan(buf, out, plan, close) {
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

fn response_plan(
    input: &[u8],
    out: &mut Vec<u8>,
    plan: &Plan,
    close: bool,
) -> Result<Option<ResponsePlan>, http1::Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; http1::MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(http1::Malformed),
    };
    let status = resp.code.unwrap_or_default();
    if status < 100 {
        return Err(http1::Malformed);
    }
    let headers: &[httparse::Header] = resp.headers;
    let switching = status == 101;
    if switching && !(plan.upgrade && http1::switches_to_websocket(headers)) {
        return Err(http1::Malformed); // a switch nobody asked for, or to another protocol
    }
    let interim = http1::interim(status);
    let body = http1::response_framing(status, plan.to_head, headers)?;
    let decode = plan.http10 && body == Framing::Chunked;
    let after = if switching {
        After::Upgrade
    } else if close || !plan.keep_alive || body == Framing::UntilClose || decode {
        After::Close
    } else {
        After::KeepAlive
    };
    if !interim {
        http1::write_response_head(out, (status, resp.reason.unwrap_or_default()), headers, body, decode, after);
    }
    let target_keeps_alive = !switching && http1::keeps_alive(resp.version.unwrap_or(1), headers);
    Ok(Some(ResponsePlan { head_len, status, interim, body, decode, after, target_keeps_alive }))
}

/// How sending a request to a target went, before its answer.
enum Sent {
    Whole,
    /// The target refused the body (answered, or closed) before all of it was sent.
    Refused,
    /// The target read nothing for the idle timeout: 504.
    Stalled,
    /// The client's chunked body is malformed: 400.
    Malformed,
    /// The client sent none of the rest of its body for the idle timeout: 408.
    ClientTimedOut,
    /// The target answered 2xx before it had the whole body: both go on at once.
    Streaming,
}

impl Connection {
    /// One request and its response; whether the connection stays open for another.
    async fn exchange(&mut self) -> io::Result<bool> {
        // The next head must come, whole, within the idle timeout.
        let deadline = tokio::time::Instant::now() + self.idle;
        let mut looked_at: usize = 0;
        let plan = loop {
            // Empty lines before a request line are ignored (RFC 9112 §2.2), and dropped
            // here, or each would make the head look ended and be parsed again.
            let blank = self.inbound.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            self.inbound.advance(blank);
            looked_at = looked_at.saturating_sub(blank);
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
            match tokio::time::timeout_at(deadline, self.client.read_buf(&mut self.inbound)).await {
                Ok(Ok(0)) => return Ok(false),
                // An idle connection just closes; one that began a request hears why (ALB's 408).
                Err(_) if self.inbound.is_empty() => return Ok(false),
                Err(_) => return self.reject(Reject::Timeout).await,
                Ok(result) => result?,
            };
        };
        match plan.forward {
            Some((addr, _)) => self.forward(&plan, addr).await,
            None => {
                self.count_own(metrics::status_of(&self.to_client));
                relay::send(&mut self.client, &self.to_client, self.idle).await?;
                self.inbound.advance(plan.head_len);
                Ok(plan.keep_alive)
            }
        }
    }

    async fn reject(&mut self, reject: Reject) -> io::Result<bool> {
        self.count_own(reject.status().0);
        self.to_client.clear();
        answers::own_response(&mut self.to_client, reject.status(), &[], reject.reason().as_bytes(), true, false);
        relay::send(&mut self.client, &self.to_client, self.idle).await?;
        Ok(false)
    }

    /// Counts a response the load balancer made itself (`HTTPCode_ELB_*`); not on the hot path.
    fn count_own(&self, status: u16) {
        if let Some(listener) = self.at.shared.snapshot().listeners.get(&self.at.local) {
            listener.counters.answered(status, None);
        }
    }

    /// Answers an error status when forwarding failed; the connection stays open only if
    /// the whole request was read.
    async fn fail(&mut self, plan: &Plan, status: (u16, &str), whole: bool) -> io::Result<bool> {
        let close = !(plan.keep_alive && whole);
        self.count_own(status.0);
        self.to_client.clear();
        answers::error_page(&mut self.to_client, status, close, plan.to_head);
        relay::send(&mut self.client, &self.to_client, self.idle).await?;
        Ok(!close)
    }

    /// Sends the rest of the request body to `target` as it comes from the client,
    /// listening for the target's answer meanwhile.
    async fn send_body(&mut self, plan: &Plan, target: &TcpStream, body: &mut Body) -> io::Result<Sent> {
        if plan.expect_continue {
            relay::send(&mut self.client, b"HTTP/1.1 100 Continue\r\n\r\n", self.idle).await?;
        }
        while !body.is_done() {
            let listening = self.from_target.len() < relay::EARLY_ANSWER_CAP;
            tokio::select! {
                ready = target.readable(), if listening => {
                    match ready.map(|()| relay::hear(target, &mut self.from_target)) {
                        Ok(Heard::Nothing) => continue,
                        Ok(Heard::Answering) => return Ok(Sent::Streaming),
                        Ok(Heard::Refused) | Err(_) => return Ok(Sent::Refused),
                    }
                }
                read = relay::receive(&mut self.client, &mut self.inbound, self.idle) => match read {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(Sent::ClientTimedOut),
                    Err(e) => return Err(e),
                },
            }
            self.to_target.clear();
            if relay::take_body(&mut self.inbound, &mut self.to_target, body, false).is_err() {
                return Ok(Sent::Malformed);
            }
            match relay::send_or_answer(target, &self.to_target, &mut self.from_target, self.idle).await {
                Sending::Sent => {}
                Sending::Refused => return Ok(Sent::Refused),
                Sending::Stalled => return Ok(Sent::Stalled),
            }
            if !body.is_done() && relay::judge(&mut self.from_target) == Heard::Answering {
                return Ok(Sent::Streaming);
            }
        }
        Ok(Sent::Whole)
    }

    /// A target that answered (2xx) before it had the whole body: the rest of the body
    /// goes up while the answer comes down, each direction on its own, until both are
    /// done or nothing moved either way for the idle timeout. The client's connection
    /// goes on only if both ended in full; the target's, if also nothing is left over.
    async fn duplex(
        &mut self,
        (addr, mut target): (SocketAddr, TcpStream),
        response: ResponsePlan,
        mut request: Body,
    ) -> io::Result<bool> {
        let Connection { at, client, idle, inbound, from_target, to_target, to_client } = self;
        let mut answer = Body::new(response.body);
        relay::take_body(from_target, to_client, &mut answer, response.decode)?;
        let activity = relay::Activity::new();
        let (uploaded, answered) = {
            let (mut client_rx, mut client_tx) = client.split();
            let (mut target_rx, mut target_tx) = target.split();
            let up = async {
                while !request.is_done() {
                    if inbound.is_empty() && client_rx.read_buf(inbound).await? == 0 {
                        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
                    }
                    activity.touch();
                    to_target.clear();
                    relay::take_body(inbound, to_target, &mut request, false)?;
                    target_tx.write_all(to_target).await?;
                    activity.touch();
                }
                Ok(())
            };
            let down = async {
                client_tx.write_all(to_client).await?;
                while !answer.is_done() {
                    from_target.clear();
                    if target_rx.read_buf(from_target).await? == 0 {
                        return Ok(false); // until close, or cut short: the client's connection closes
                    }
                    activity.touch();
                    to_client.clear();
                    relay::take_body(from_target, to_client, &mut answer, response.decode)?;
                    client_tx.write_all(to_client).await?;
                    activity.touch();
                }
                Ok::<_, io::Error>(true)
            };
            let both = async {
                tokio::pin!(up, down);
                // Whichever ends first, the other is seen to its end, unless the first failed:
                // then the exchange is over (the target is dropped, which closes it).
                tokio::select! {
                    sent = &mut up => match sent {
                        Ok(()) => Ok((true, down.await?)),
                        Err(_) => Ok((false, false)),
                    },
                    answered = &mut down => match answered? {
                        true => Ok::<_, io::Error>((up.await.is_ok(), true)),
                        false => Ok((false, false)),
                    },
                }
            };
            tokio::select! {
                done = both => done?,
                () = activity.idle_for(*idle) => (false, false),
            }
        };
        let whole = uploaded && answered;
        if whole && response.target_keeps_alive && from_target.is_empty() {
            at.shared.pool.put(addr, target);
        }
        Ok(whole && response.after == After::KeepAlive)
    }

    async fn forward(&mut self, plan: &Plan, addr: SocketAddr) -> io::Result<bool> {
        let mut body = Body::new(plan.body);
        self.inbound.advance(plan.head_len);
        if relay::take_body(&mut self.inbound, &mut self.to_target, &mut body, false).is_err() {
            return self.fail(plan, (400, "Bad Request"), false).await;
        }
        let whole = body.is_done();
        let started = Instant::now();
        let mut attempt = 0;
        let (mut target, response, sent) = loop {
            attempt += 1;
            // A pooled connection the target closed meanwhile fails without an answer;
            // an idempotent request all at hand is then sent again on a new one.
            let pooled = if attempt == 1 { self.at.shared.pool.take(addr) } else { None };
            let may_retry = pooled.is_some() && whole && plan.idempotent;
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
            self.from_target.clear();
            // A target that fails while being sent to may have answered first: its answer
            // is read below, or else it gets 502 there.
            let sent = match relay::send(&mut target, &self.to_target, self.idle).await {
                Ok(()) if whole => Sent::Whole,
                Ok(()) => self.send_body(plan, &target, &mut body).await?,
                Err(_) if may_retry => continue,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => Sent::Stalled,
                Err(_) => Sent::Refused,
            };
            match sent {
                Sent::Stalled => return self.fail(plan, (504, "Gateway Timeout"), false).await,
                Sent::ClientTimedOut => return self.fail(plan, Reject::Timeout.status(), false).await,
                Sent::Malformed => return self.fail(plan, (400, "Bad Request"), false).await,
                Sent::Whole | Sent::Refused | Sent::Streaming => {}
            }
            // The rest of a body the target refused stays unread: the client's
            // connection closes after the answer (or after a failure).
            let unread = !body.is_done();
            let close = unread && !matches!(sent, Sent::Streaming);
            self.to_client.clear();
            let head = response_head(&mut target, &mut self.from_target, &mut self.to_client, plan, close);
            match timeout(self.idle, head).await {
                Ok(Ok(response)) => break (target, response, sent),
                Ok(Err(true)) if may_retry => continue,
                Ok(Err(_)) => {
                    tracing::debug!(target = %addr, "target closed or answered malformed");
                    return self.fail(plan, (502, "Bad Gateway"), !unread).await;
                }
                Err(_) => return self.fail(plan, (504, "Gateway Timeout"), !unread).await,
            }
        };
        if let Some(counters) = &plan.counted {
            counters.answered(response.status, Some(started.elapsed()));
        }
        self.from_target.advance(response.head_len);
        if response.after == After::Upgrade {
            self.to_client.extend_from_slice(&self.from_target);
            relay::send(&mut self.client, &self.to_client, self.idle).await?;
            relay::send(&mut target, &self.inbound, self.idle).await?;
            relay::tunnel(&mut self.client, &mut target, self.idle).await?;
            return Ok(false);
        }
        if matches!(sent, Sent::Streaming) {
            return self.duplex((addr, target), response, body).await;
        }
        let mut body = Body::new(response.body);
        if relay::take_body(&mut self.from_target, &mut self.to_client, &mut body, response.decode).is_err() {
            return self.fail(plan, (502, "Bad Gateway"), false).await;
        }
        relay::send(&mut self.client, &self.to_client, self.idle).await?;
        while !body.is_done() {
            self.from_target.clear();
            match relay::receive(&mut target, &mut self.from_target, self.idle).await {
                // The end of a body that lasts until close, or one cut short: either way the
                // client's connection closes too, which tells it the body ended.
                Ok(0) | Err(_) => return Ok(false),
                Ok(_) => {}
            }
            self.to_client.clear();
            relay::take_body(&mut self.from_target, &mut self.to_client, &mut body, response.decode)?;
            relay::send(&mut self.client, &self.to_client, self.idle).await?;
        }
        if response.target_keeps_alive && matches!(sent, Sent::Whole) && self.from_target.is_empty() {
            self.at.shared.pool.put(addr, target);
        }
        Ok(response.after == After::KeepAlive)
    }
}

/// Decides what to do with the request at the start of `input`, writing the head to
/// forward into `to_target` or the whole response into `out`. None while the head is
/// incomplete.
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
    let (method, target) = (req.method.unwrap_or_default(), req.path.unwrap_or_default());
    let minor = req.version.unwrap_or(1);
    let headers: &[httparse::Header] = req.headers;
    if method == "CONNECT" {
        return Err(Reject::BadRequest("CONNECT is not supported"));
    }
    let body = http1::request_framing(minor, headers)?;
    let host_header = http1::request_host(minor, headers)?;
    // The rules see exactly the path the target gets.
    let (rest, authority) = http1::split_target(target);
    let absolute;
    let origin = match (rest, authority) {
        (r, _) if r.starts_with('/') => r,
        ("*", None) if method == "OPTIONS" => rest,
        (r, Some(_)) => {
            absolute = format!("/{r}");
            absolute.as_str()
        }
        _ => return Err(Reject::BadRequest("the request target must be a path that starts with /")),
    };
    // An absolute-form target's authority is the host (RFC 9112 §3.2.2).
    let host = authority.map(str::as_bytes).or(host_header);
    let host_text = host.and_then(|h| std::str::from_utf8(h).ok()).unwrap_or_default();
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    let view = RequestView { method, path, query, host: without_port(host_text), headers, source: at.peer.ip() };
    let listener = snapshot.listeners.get(&at.local);
    let mut plan = Plan {
        head_len,
        body,
        keep_alive: http1::keeps_alive(minor, headers),
        http10: minor == 0,
        to_head: method == "HEAD",
        idempotent: matches!(method, "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE"),
        expect_continue: minor == 1 && http1::expects_continue(headers),
        upgrade: body == Framing::Empty && http1::wants_websocket(method, minor, headers),
        idle: listener.map_or(DEFAULT_IDLE, |l| l.idle_timeout),
        forward: None,
        counted: None,
    };
    // Answering without reading a body leaves the connection unusable after it.
    let close = !plan.keep_alive || !Body::new(body).is_done();
    let action = listener.and_then(|l| routing::select(&l.rules, &l.default_actions, &view).first());
    match action.map(|a| (a, a.r#type)) {
        Some((action, ActionTypeEnum::FixedResponse)) => answers::fixed(out, action, close, plan.to_head),
        Some((action, ActionTypeEnum::Redirect)) => {
            answers::redirect(out, action, &view, at.local.port(), close, plan.to_head)
        }
        Some((action, _)) => match target_for(&at.shared, snapshot, action) {
            Some((group, target)) => {
                group.counters.request();
                plan.counted = Some(group.counters.clone());
                let fallback_host;
                let host = match host {
                    Some(h) => h,
                    None => {
                        fallback_host = target.addr.to_string();
                        fallback_host.as_bytes()
                    }
                };
                let after = if plan.upgrade { After::Upgrade } else { After::KeepAlive };
                let outgoing = Outgoing { method, origin, headers, host, framing: body, after };
                let fwd = Forwarded {
                    client: at.peer.ip(),
                    listener_port: at.local.port(),
                    xff: listener.map_or_else(Xff::default, |l| l.xff),
                    drop_invalid_headers: listener.is_some_and(|l| l.drop_invalid_headers),
                };
                http1::write_request_head(to_target, &outgoing, fwd);
                plan.forward = Some((target.addr, InFlight::start(target)));
            }
            None => answers::error_page(out, (503, "Service Unavailable"), close, plan.to_head),
        },
        None => answers::error_page(out, (503, "Service Unavailable"), close, plan.to_head),
    }
    if plan.forward.is_none() {
        plan.keep_alive &= !close;
    }
    Ok(Some(plan))
}

/// The target a forward action sends the next request to: a group by weight, then a
/// target of it by the group's algorithm.
fn target_for<'s>(shared: &Shared, snapshot: &'s Snapshot, action: &Action) -> Option<(&'s GroupView, &'s TargetView)> {
    let roll = shared.rolls.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let group = routing::target_group(action, roll).and_then(|arn| snapshot.groups.get(arn))?;
    choose(group).map(|target| (group, target))
}

/// A Host header's host, without its port (`[::1]:80` → `[::1]`).
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !port.contains(']') => h,
        _ => host,
    }
}
