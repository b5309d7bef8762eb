//! The alarm evaluator: every 10 seconds of metric time (so a Period of 10 s or more is
//! evaluated as soon as it completes), each alarm is evaluated over its most recent
//! complete periods and its state stored when it changes (`berth_cloudwatch::evaluation`).
//! Each pass reads the alarms afresh, so a restart resumes where the store is. Hourly it
//! also forgets history items older than AWS's 30 days.

use berth_cloudwatch::evaluation::evaluate_alarm;
use berth_cloudwatch::{AlarmsError, list_alarms};
use berth_metric_store::MetricStore;
use berth_model::cloudwatch::keys;
use berth_model::metric_clock::MetricClock;
use berth_store::{Store, StoreError, Txn};
use std::sync::Arc;
use std::time::Duration;

/// How long history items are kept, as on AWS.
pub const HISTORY_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;

pub async fn run(store: Arc<dyn Store>, metrics: Arc<MetricStore>, clock: MetricClock) {
    let mut tick = tokio::time::interval(clock.real(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_prune = None::<tokio::time::Instant>;
    loop {
        tick.tick().await;
        if let Err(e) = pass(store.as_ref(), &metrics, clock, berth_metric_store::now_ms()).await {
            tracing::warn!(error = %e, "evaluating alarms failed; retrying on the next tick");
        }
        if last_prune.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            last_prune = Some(tokio::time::Instant::now());
            match prune_history(store.as_ref(), berth_metric_store::now_ms() - HISTORY_RETENTION_MS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(items = n, "alarm history pruned"),
                Err(e) => tracing::warn!(error = %e, "pruning alarm history failed"),
            }
        }
    }
}

/// Evaluates every alarm once; one alarm's failure does not stop the others.
pub async fn pass(
    store: &dyn Store,
    metrics: &MetricStore,
    clock: MetricClock,
    now_ms: i64,
) -> Result<(), AlarmsError> {
    for alarm in list_alarms(store).await? {
        // The metric store's reads are in memory: cheap enough for the async thread.
        if let Err(e) = evaluate_alarm(store, metrics, &alarm, clock, now_ms).await {
            tracing::warn!(alarm = %alarm.name, error = %e, "evaluating an alarm failed");
        }
    }
    Ok(())
}

/// Deletes history items recorded before `cutoff_ms` (their keys sort by time).
pub async fn prune_history(store: &dyn Store, cutoff_ms: i64) -> Result<usize, StoreError> {
    let bound = keys::history(cutoff_ms, "");
    let (kvs, _) = store.range(keys::HISTORY).await?;
    let old: Vec<String> = kvs.into_iter().map(|kv| kv.key).take_while(|k| k.as_str() < bound.as_str()).collect();
    for chunk in old.chunks(100) {
        let txn = chunk.iter().fold(Txn::new(), |t, k| t.delete(k.clone()));
        store.txn(txn).await?;
    }
    Ok(old.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    #[tokio::test]
    async fn history_older_than_the_cutoff_is_forgotten() {
        let store = MemoryStore::new();
        for ts in [1_000, 2_000, 3_000] {
            store.txn(Txn::new().put(keys::history(ts, "abc"), b"{}".to_vec())).await.unwrap();
        }
        assert_eq!(prune_history(&store, 2_500).await.unwrap(), 2);
        let (left, _) = store.range(keys::HISTORY).await.unwrap();
        assert_eq!(left.len(), 1);
    }
}
