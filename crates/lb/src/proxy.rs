//! The listeners' HTTP service: route a request by the listener's rules, then answer a
//! fixed response, a redirect, or forward it to a target over a pooled keep-alive
//! connection with X-Forwarded-* headers. 502 when the target fails, 504 when it takes
//! longer than the idle timeout, 503 when the group has no target to send to.

use crate::balance::{self, Candidate};
use crate::routing::{self, RequestView};
use crate::snapshot::{GroupView, Snapshot};
use berth_model::elbv2::Action;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

pub type Body = BoxBody<Bytes, hyper::Error>;

/// How long a target may take to answer before the client gets 504 (ALB's default idle timeout).
const TARGET_TIMEOUT: Duration = Duration::from_secs(60);

/// What every listener shares: the current snapshot, the connection pool to targets,
/// and the balancer's counters.
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    client: Client<HttpConnector, Incoming>,
    in_flight: Mutex<HashMap<SocketAddr, usize>>,
    turns: Mutex<HashMap<String, usize>>,
    rolls: AtomicU64,
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
            in_flight: Mutex::default(),
            turns: Mutex::default(),
            rolls: AtomicU64::new(0),
        })
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set_snapshot(&self, snapshot: Snapshot) {
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }

    /// The target of `group` the next request goes to.
    fn choose(&self, group: &GroupView) -> Option<SocketAddr> {
        let candidates: Vec<Candidate> = {
            let in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            group
                .targets
                .iter()
                .map(|t| Candidate {
                    healthy: t.state == "healthy",
                    draining: t.draining,
                    in_flight: in_flight.get(&t.addr).copied().unwrap_or(0),
                })
                .collect()
        };
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
            // get_mut first: the group's ARN is cloned once, not on every request.
            match turns.get_mut(&group.arn) {
                Some(turn) => {
                    *turn = turn.wrapping_add(1);
                    *turn
                }
                None => {
                    turns.insert(group.arn.clone(), 1);
                    1
                }
            }
        };
        balance::pick(&candidates, group.algorithm, turn).map(|i| group.targets[i].addr)
    }

    fn count(&self, addr: SocketAddr, delta: isize) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        let n = in_flight.entry(addr).or_insert(0);
        *n = n.saturating_add_signed(delta);
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
    let host_header = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
    let host = host_header.rsplit_once(':').map_or(host_header.as_str(), |(h, _)| h);
    let view = RequestView {
        method: req.method().as_str(),
        path: req.uri().path(),
        query: req.uri().query().unwrap_or_default(),
        host,
        headers: req.headers(),
        source: peer.ip(),
    };
    let Some(action) = routing::select(&listener.rules, &listener.default_actions, &view).first() else {
        return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE));
    };
    let response = match action.kind.as_str() {
        "fixed-response" => fixed(action),
        "redirect" => redirect(action, host, local.port(), &req),
        _ => forward(&shared, &snapshot, action, local, peer, req).await,
    };
    Ok(response)
}

fn fixed(action: &Action) -> Response<Body> {
    let Some(c) = &action.fixed_response_config else { return error_page(StatusCode::SERVICE_UNAVAILABLE) };
    let status = c.status_code.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    full(status, c.content_type.as_deref().unwrap_or("text/plain"), c.message_body.clone().unwrap_or_default())
}

/// A redirect's Location, with ALB's `#{protocol}`, `#{host}`, `#{port}`, `#{path}` and
/// `#{query}` placeholders filled from the request.
fn redirect(action: &Action, host: &str, port: u16, req: &Request<Incoming>) -> Response<Body> {
    let Some(c) = &action.redirect_config else { return error_page(StatusCode::SERVICE_UNAVAILABLE) };
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

async fn forward(
    shared: &Arc<Shared>,
    snapshot: &Snapshot,
    action: &Action,
    local: SocketAddr,
    peer: SocketAddr,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let weights = routing::weights(action);
    let roll = shared.rolls.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let Some(group) = routing::pick_weighted(&weights, roll).and_then(|arn| snapshot.groups.get(arn)) else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let Some(target) = shared.choose(group) else {
        return error_page(StatusCode::SERVICE_UNAVAILABLE);
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("http://{target}{path}").parse() else {
        return error_page(StatusCode::BAD_REQUEST);
    };
    *req.uri_mut() = uri;
    let headers = req.headers_mut();
    for hop in ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"] {
        headers.remove(hop);
    }
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prior) => format!("{prior}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    for (name, value) in [
        ("x-forwarded-for", forwarded_for),
        ("x-forwarded-proto", "http".into()),
        ("x-forwarded-port", local.port().to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    shared.count(target, 1);
    let answer = tokio::time::timeout(TARGET_TIMEOUT, shared.client.request(req)).await;
    shared.count(target, -1);
    match answer {
        Ok(Ok(resp)) => resp.map(BodyExt::boxed),
        Ok(Err(e)) => {
            tracing::debug!(%target, error = %e, "target failed");
            error_page(StatusCode::BAD_GATEWAY)
        }
        Err(_) => error_page(StatusCode::GATEWAY_TIMEOUT),
    }
}
