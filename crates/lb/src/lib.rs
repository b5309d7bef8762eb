//! berth's load balancer data plane (ELBv2's application load balancers), run by
//! `berth server` / `berth up`. A control loop reads the elbv2 state from the store on
//! every change under `elbv2/` (and every second), binds a socket for each listener on
//! its load balancer's loopback address (its DNSName) and closes those of deleted
//! listeners, and runs the health checks. `proxy` serves the listeners' connections.
//! The decisions are pure: `http1` (HTTP/1.x framing and heads), `body` (where a body
//! ends), `routing` (rules, weights), `balance` (which target), `health` (state
//! transitions).
#![forbid(unsafe_code)]

mod answers;
pub mod balance;
pub mod body;
pub mod checker;
pub mod health;
pub mod http1;
pub mod metrics;
mod pool;
pub mod proxy;
mod relay;
pub mod routing;
pub mod snapshot;

use berth_store::Store;
use proxy::Shared;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Runs forever: reconciles the bound listeners with the store and checks targets.
/// Listeners bind their load balancer's own loopback address, or `listen_on` when it is
/// given (a real interface, to serve other machines; listener ports must then differ
/// across load balancers, since they share that address). With `metrics`, every metric
/// minute (its length) the counters' datapoints are published (`metrics`).
pub async fn run(store: Arc<dyn Store>, listen_on: Option<IpAddr>, metrics: Option<(Duration, metrics::Publish)>) {
    let shared = Shared::new();
    if let Some((minute, publish)) = metrics {
        tokio::spawn(metrics::run(shared.clone(), minute, publish));
    }
    let wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(berth_store::notify_on_changes(store.clone(), "elbv2/", wake.clone()));
    let mut bound: HashMap<SocketAddr, JoinHandle<()>> = HashMap::new();
    let mut checker = checker::Checker::default();
    let mut instances = snapshot::InstanceAddresses::default();
    let mut checks: Option<JoinHandle<checker::Checker>> = None;
    loop {
        match snapshot::load(store.as_ref(), &mut instances).await {
            Ok(snap) => {
                shared.set_snapshot(snap);
                let snap = shared.snapshot();
                bound.retain(|addr, task| {
                    let keep = snap.listeners.contains_key(addr);
                    if !keep {
                        task.abort();
                        tracing::info!(%addr, "listener closed");
                    }
                    keep
                });
                for addr in snap.listeners.keys() {
                    if !bound.contains_key(addr) {
                        let at = listen_on.map_or(*addr, |ip| SocketAddr::new(ip, addr.port()));
                        match tokio::net::TcpListener::bind(at).await {
                            Ok(socket) => {
                                tracing::info!(%addr, %at, "listener bound");
                                bound.insert(*addr, tokio::spawn(serve(socket, *addr, shared.clone())));
                            }
                            Err(e) => tracing::warn!(%addr, %at, error = %e, "cannot bind listener; retrying"),
                        }
                    }
                }
                // One health check pass at a time, beside the loop.
                if checks.as_ref().is_none_or(JoinHandle::is_finished) {
                    if let Some(done) = checks.take() {
                        checker = done.await.unwrap_or_default();
                    }
                    let (store, snap) = (store.clone(), snap.clone());
                    let mut mine = std::mem::take(&mut checker);
                    checks = Some(tokio::spawn(async move {
                        for (group, id, port, health) in mine.pass(&snap).await {
                            checker::record(&store, &group, &id, port, health).await;
                        }
                        mine
                    }));
                }
            }
            Err(e) => tracing::warn!(error = %e, "load balancer state unreadable"),
        }
        tokio::select! {
            _ = wake.notified() => tokio::time::sleep(Duration::from_millis(20)).await,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Accepts connections on one listener; each is served by `proxy::serve`.
async fn serve(socket: tokio::net::TcpListener, local: SocketAddr, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match socket.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to be freed.
                tracing::warn!(%local, error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        tokio::spawn(proxy::serve(shared.clone(), local, peer, stream));
    }
}
