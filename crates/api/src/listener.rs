//! The API listener: accepts connections within limits and serves each over HTTP/1.1
//! with deadlines, so slow or idle clients cannot hold the server hostage.
//!
//! - a connection is admitted only under `max_connections` in all and
//!   `max_per_source` per source address; over either it is closed at once and a
//!   warning is logged (at most once a second, with the count shed since);
//! - a request's head must arrive within `header_timeout`, counted from when the
//!   connection starts waiting for it, so a kept-alive connection that stays idle
//!   that long is closed as well (hyper's header read timeout);
//! - a request body must keep arriving: each piece within `body_timeout` of the
//!   request's head or of the previous piece, else the body fails (the front door
//!   answers 400) and the connection closes.

use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The listener's limits (`berth server --header-timeout ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    pub max_per_source: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_per_source: DEFAULT_MAX_PER_SOURCE,
        }
    }
}

pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 20;
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 20;
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_MAX_PER_SOURCE: usize = 2048;

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets
/// open connections finish their requests (for at most `header_timeout`).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let gate = Arc::new(Gate::new(limits));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: let connections close.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(admitted) = Gate::admit(&gate, peer.ip()) else { continue };
        // Small request/response exchanges: do not wait to coalesce.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let mut req = req.map(|body| axum::body::Body::new(Paced::new(body, body_timeout)));
            // The peer's address is aws:SourceIp in IAM policies.
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(admitted);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.header_timeout, graceful.shutdown()).await.is_err() {
        tracing::info!("connections still open at shutdown were closed");
    }
    Ok(())
}

/// Counts open connections, in all and per source address.
struct Gate {
    limits: Limits,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
    shed_since_log: u64,
    last_log: Option<Instant>,
}

/// An admitted connection; dropping it frees its place.
struct Admitted {
    gate: Arc<Gate>,
    source: IpAddr,
}

impl Gate {
    fn new(limits: Limits) -> Self {
        Gate { limits, open: Mutex::new(Open::default()) }
    }

    fn admit(gate: &Arc<Gate>, source: IpAddr) -> Option<Admitted> {
        let mut open = gate.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_source = open.by_source.get(&source).copied().unwrap_or(0);
        if open.total >= gate.limits.max_connections || from_source >= gate.limits.max_per_source {
            open.shed_since_log += 1;
            let now = Instant::now();
            if open.last_log.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
                tracing::warn!(
                    %source,
                    open = open.total,
                    open_from_source = from_source,
                    max_connections = gate.limits.max_connections,
                    max_per_source = gate.limits.max_per_source,
                    shed = open.shed_since_log,
                    "connection limit reached: closing new connections"
                );
                open.shed_since_log = 0;
                open.last_log = Some(now);
            }
            return None;
        }
        open.total += 1;
        *open.by_source.entry(source).or_default() += 1;
        Some(Admitted { gate: gate.clone(), source })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.by_source.remove(&self.source);
            }
        }
    }
}

/// A request body whose pieces must each arrive within `timeout` of the previous one
/// (the first: of the request's head).
struct Paced<B> {
    inner: B,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<B> Paced<B> {
    fn new(inner: B, timeout: Duration) -> Self {
        Paced { inner, timeout, deadline: Box::pin(tokio::time::sleep(timeout)) }
    }
}

/// The error a body that stopped arriving fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body stopped arriving: no data for {0:?}")]
pub struct BodyTimeout(Duration);

impl<B> Body for Paced<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.timeout;
                this.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout(this.timeout).into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
