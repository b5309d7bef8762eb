//! The listeners' HTTP service: route a request by the listener's rules, then answer a
//! fixed response, a redirect, or forward it to a target over a pooled keep-alive
//! connection with X-Forwarded-* headers. 502 when the target fails, 504 when it takes
//! longer than the idle timeout, 503 when the group has no target to send to.

use crate::balance::{self, Candidate};
use crate::routing::{self, RequestView};
use crate::snapshot::{GroupView, Snapshot, TargetView};
use berth_model::elbv2::Action;
use bytes::Bytes;
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

pub type Body = BoxBody<Bytes, hyper::Error>;

/// How long a target may take to answer before the client gets 504 (ALB's default idle timeout).
const TARGET_TIMEOUT: Duration = Duration::from_secs(60);

/// What every listener shares: the current snapshot, the connection pool to targets,
/// and the balancer's counters (which outlive any one snapshot).
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    client: Client<HttpConnector, Incoming>,
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
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Arc::new(Self {
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            client,
            counters: Mutex::default(),
            rolls: AtomicU64::new(0),
        })
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Serves `snapshot` from now on, its groups and targets keeping their counters.
    pub fn set_snapshot(&self, mut snapshot: Snapshot) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let Counters { turns, in_flight } = &mut *counters;
        let addrs: HashSet<SocketAddr> =
            snapshot.groups.values().flat_map(|g| g.targets.iter().map(|t| t.addr)).collect();
        turns.retain(|arn, _| snapshot.groups.contains_key(arn));
        in_flight.retain(|addr, _| addrs.contains(addr));
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

pub fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn error_page(status: StatusCode) -> Response<Body> {
    let text = format!("{} {}\n", status.as_u16(), status.canonical_reason().unwrap_or_default());
    full(status, "text/plain; charset=utf-8", text)
}

/// Serves one request that arrived at listener `local` from `peer`.
pub async fn handle(
    shared: Arc<Shared>,
    local: SocketAddr,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let snapshot = shared.snapshot();
    let Some(listener) = snapshot.listeners.get(&local) else {
        return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE));
    };
    let view = RequestView {
        method: req.method().as_str(),
        path: req.uri().path(),
        query: req.uri().query().unwrap_or_default(),
        host: host(&req),
        headers: req.headers(),
        source: peer.ip(),
    };
    let Some(action) = routing::select(&listener.rules, &listener.default_actions, &view).first() else {
        return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE));
    };
    let response = match action.kind.as_str() {
        "fixed-response" => fixed(action),
        "redirect" => redirect(action, local.port(), &req),
        _ => forward(&shared, &snapshot, action, local, peer, req).await,
    };
    Ok(response)
}

/// The Host header without its port.
fn host(req: &Request<Incoming>) -> &str {
    let header = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    header.rsplit_once(':').map_or(header, |(h, _)| h)
}

fn fixed(action: &Action) -> Response<Body> {
    let Some(c) = &action.fixed_response_config else { return error_page(StatusCode::SERVICE_UNAVAILABLE) };
    let status = c.status_code.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    full(status, c.content_type.as_deref().unwrap_or("text/plain"), c.message_body.clone().unwrap_or_default())
}

/// A redirect's Location, with ALB's `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and
/// `#{query}` placeholders filled from the request.
fn redirect(action: &Action, port: u16, req: &Request<Incoming>) -> Response<Body> {
    let Some(c) = &action.redirect_config else { return error_page(StatusCode::SERVICE_UNAVAILABLE) };
    let host = host(req);
    let fill = |template: &Option<String>, default: &str| {
        template
            .as_deref()
            .unwrap_or(default)
            .replace("#{protocol}", "http")
            .replace("#{host}", host)
            .replace("#{port}", &port.to_string())
            .replace("#{path}", req.uri().path().trim_start_matches('/'))
            .replace("#{query}", req.uri().query().unwrap_or_default())
    };
    let protocol = fill(&c.protocol, "#{protocol}").to_lowercase();
    let location_port = fill(&c.port, "#{port}");
    let query = fill(&c.query, "#{query}");
    let mut location =
        format!("{protocol}://{}:{location_port}{}", fill(&c.host, "#{host}"), fill(&c.path, "/#{path}"));
    if !query.is_empty() {
        location = format!("{location}?{query}");
    }
    let status = if c.status_code == "HTTP_301" { StatusCode::MOVED_PERMANENTLY } else { StatusCode::FOUND };
    let mut r = full(status, "text/plain", "");
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Headers that belong to one connection, not to the request: not passed on.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

async fn forward(
    shared: &Arc<Shared>,
    snapshot: &Snapshot,
    action: &Action,
    local: SocketAddr,
    peer: SocketAddr,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let roll = shared.rolls.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let Some(group) = routing::target_group(action, roll).and_then(|arn| snapshot.groups.get(arn)) else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let Some(target) = choose(group) else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let mut uri = std::mem::take(req.uri_mut()).into_parts();
    uri.scheme = Some(Scheme::HTTP);
    uri.authority = Some(target.authority.clone());
    uri.path_and_query = uri.path_and_query.or(Some(PathAndQuery::from_static("/")));
    let Ok(uri) = Uri::from_parts(uri) else {
        return error_page(StatusCode::BAD_REQUEST);
    };
    *req.uri_mut() = uri;
    let headers = req.headers_mut();
    for hop in HOP_BY_HOP {
        headers.remove(hop);
    }
    let forwarded_for = match headers.get(X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(prior) => HeaderValue::from_str(&format!("{prior}, {}", peer.ip())),
        None => HeaderValue::from_str(&peer.ip().to_string()),
    };
    if let Ok(v) = forwarded_for {
        headers.insert(X_FORWARDED_FOR, v);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    headers.insert(X_FORWARDED_PORT, HeaderValue::from(local.port()));
    let in_flight = InFlight::start(target);
    let answer = tokio::time::timeout(TARGET_TIMEOUT, shared.client.request(req)).await;
    drop(in_flight);
    match answer {
        Ok(Ok(resp)) => resp.map(BodyExt::boxed),
        Ok(Err(e)) => {
            tracing::debug!(target = %target.addr, error = %e, "target failed");
            error_page(StatusCode::BAD_GATEWAY)
        }
        Err(_) => error_page(StatusCode::GATEWAY_TIMEOUT),
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
