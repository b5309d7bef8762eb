//! Active health checks: each target of a group in use is checked every interval with
//! `GET path` (a timeout, the matcher's codes); results feed `health::observe`, and a
//! change of state is written to the target group record with compare-and-swap, where
//! DescribeTargetHealth and the service controller read it.

use crate::health::{self, Outcome, Streak};
use crate::snapshot::{HealthCheck, Snapshot};
use berth_model::elbv2::TargetHealth;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::TargetGroupRecord;
use berth_model::keys;
use berth_store::Store;
use berth_store::documents::{self, Change, DocumentError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One target of one group.
type TargetKey = (String, String, i32);

#[derive(Default)]
pub struct Checker {
    streaks: HashMap<TargetKey, (Streak, Instant)>,
}

/// One check: the status line of `GET path` within the timeout.
pub async fn probe(addr: SocketAddr, check: &HealthCheck) -> Outcome {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n",
            check.path
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 32];
        let n = stream.read(&mut head).await.ok()?;
        let line = std::str::from_utf8(&head[..n]).ok()?;
        line.strip_prefix("HTTP/1.")?.get(2..5)?.parse::<u16>().ok()
    };
    match tokio::time::timeout(check.timeout, attempt).await {
        Err(_) => Outcome::Timeout,
        Ok(None) => Outcome::Failed,
        Ok(Some(code)) if health::code_passes(code, &check.matcher) => Outcome::Passed,
        Ok(Some(code)) => Outcome::CodeMismatch(code),
    }
}

impl Checker {
    /// Checks every target that is due, concurrently; returns the state changes.
    pub async fn pass(&mut self, snapshot: &Snapshot) -> Vec<(String, String, i32, TargetHealth)> {
        let now = Instant::now();
        let mut due = Vec::new();
        for g in snapshot.groups.values().filter(|g| g.in_use && g.check.enabled) {
            for t in g.targets.iter().filter(|t| !t.draining) {
                let key = (g.arn.clone(), t.id.clone(), t.port);
                let last = self.streaks.get(&key).map(|(_, at)| *at);
                if last.is_none_or(|at| now.duration_since(at) >= g.check.interval) {
                    let addr = SocketAddr::new(t.addr.ip(), g.check.port.unwrap_or(t.addr.port()));
                    due.push((key, t.state.clone(), addr, g.check.clone()));
                }
            }
        }
        for (key, ..) in &due {
            let streak = self.streaks.get(key).map(|(s, _)| *s).unwrap_or_default();
            self.streaks.insert(key.clone(), (streak, now));
        }
        let probes = due.into_iter().map(|(key, state, addr, check)| async move {
            let outcome = probe(addr, &check).await;
            (key, state, outcome, check)
        });
        let results = futures_join(probes).await;
        let mut changes = Vec::new();
        for (key, state, outcome, check) in results {
            let streak = self.streaks.get(&key).map(|(s, _)| *s).unwrap_or_default();
            let (streak, change) =
                health::observe(&state, streak, &outcome, check.healthy_threshold, check.unhealthy_threshold);
            self.streaks.insert(key.clone(), (streak, now));
            if let Some(h) = change {
                changes.push((key.0, key.1, key.2, h));
            }
        }
        // Forget targets that are gone.
        self.streaks.retain(|(g, id, port), _| {
            snapshot.groups.get(g).is_some_and(|g| g.targets.iter().any(|t| &t.id == id && t.port == *port))
        });
        changes
    }
}

/// Runs every future to completion, concurrently.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

/// Writes a target's new health into its group's record with compare-and-swap (nothing
/// when the group or the target is gone, or the target is draining meanwhile).
pub async fn record(store: &Arc<dyn Store>, group_arn: &str, id: &str, port: i32, health: TargetHealth) {
    let Some(Resource::TargetGroup { name, .. }) = arn::parse(group_arn) else { return };
    let written = documents::modify(store.as_ref(), &keys::target_group(&name), |current| {
        let Some(mut tg) = current.filter(|g: &TargetGroupRecord| g.arn() == group_arn) else {
            return Ok::<_, DocumentError>((Change::Keep, ()));
        };
        let Some(t) = tg.targets.iter_mut().find(|t| t.is(id, port) && t.draining_until.is_none()) else {
            return Ok((Change::Keep, ()));
        };
        t.health = health.clone();
        Ok((Change::Put(tg), ()))
    })
    .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record target health");
    }
}
