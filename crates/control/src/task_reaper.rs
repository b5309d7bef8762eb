//! Forgets stopped tasks once they have been stopped for long enough. ECS shows a
//! stopped task for about an hour; after that it is gone from DescribeTasks and
//! ListTasks. Without this, every poll, list and count would read an ever-growing set.

use berth_model::Timestamp;
use berth_model::keys;
use berth_model::records::TaskRecord;
use berth_store::documents;
use berth_store::{Compare, Revision, Store, StoreError, Txn};
use std::time::Duration;

/// How long a stopped task stays visible, as on ECS.
pub const RETENTION: Duration = Duration::from_secs(3600);

/// The stored tasks, with their keys and the revisions they were read at.
pub struct StoredTask {
    pub key: String,
    pub mod_revision: Revision,
    pub record: TaskRecord,
}

/// The tasks stopped before `now - retention`.
pub fn expired(tasks: &[StoredTask], now: Timestamp, retention: Duration) -> Vec<&StoredTask> {
    let cutoff = now.as_secs_f64() - retention.as_secs_f64();
    tasks
        .iter()
        .filter(|t| {
            let task = &t.record.task;
            task.last_status.as_deref() == Some("STOPPED")
                && task.stopped_at.is_some_and(|at| at.as_secs_f64() < cutoff)
        })
        .collect()
}

/// Deletes every expired task, each only if it has not changed since it was read.
/// Returns how many were deleted.
pub async fn sweep(store: &dyn Store, now: Timestamp, retention: Duration) -> Result<usize, StoreError> {
    let (kvs, _) = store.range(keys::TASKS).await?;
    let tasks: Vec<StoredTask> = kvs
        .into_iter()
        .filter_map(|kv| {
            let doc = documents::decodable::<TaskRecord>(&kv)?;
            Some(StoredTask { key: kv.key, mod_revision: doc.mod_revision, record: doc.value })
        })
        .collect();
    let mut deleted = 0;
    for task in expired(&tasks, now, retention) {
        let txn = Txn::new().when(Compare::ModRevision(task.key.clone(), task.mod_revision)).delete(task.key.clone());
        if store.txn(txn).await?.succeeded {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Sweeps every `interval`, forever. Errors are logged and the next sweep tries again.
pub async fn run(store: std::sync::Arc<dyn Store>, retention: Duration, interval: Duration) {
    loop {
        match sweep(store.as_ref(), Timestamp::now(), retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "forgot tasks stopped over {} s ago", retention.as_secs()),
            Err(e) => tracing::warn!(error = %e, "sweeping stopped tasks failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::MemoryStore;

    fn record(last_status: &str, stopped_at: Option<f64>) -> Vec<u8> {
        let mut task = serde_json::json!({"lastStatus": last_status, "taskArn": "arn"});
        if let Some(at) = stopped_at {
            task["stoppedAt"] = at.into();
        }
        let record = serde_json::json!({
            "task": task,
            "placement": {"containerInstanceId": "i", "reserved": {"cpu": 0, "memory": 0}},
        });
        serde_json::to_vec(&record).unwrap()
    }

    #[tokio::test]
    async fn forgets_only_tasks_stopped_before_the_retention() {
        let store = MemoryStore::new();
        let now = 1_800_000_000.0;
        let txn = Txn::new()
            .put(keys::task("c", "old"), record("STOPPED", Some(now - 3601.0)))
            .put(keys::task("c", "recent"), record("STOPPED", Some(now - 60.0)))
            .put(keys::task("c", "running"), record("RUNNING", None))
            .put(keys::task("c", "stopping"), record("STOPPING", None))
            .put(keys::task("c", "garbage"), b"not json".to_vec());
        store.txn(txn).await.unwrap();
        let deleted = sweep(&store, Timestamp(now), RETENTION).await.unwrap();
        assert_eq!(deleted, 1);
        let (left, _) = store.range(keys::TASKS).await.unwrap();
        let left: Vec<&str> = left.iter().map(|kv| kv.key.rsplit('/').next().unwrap()).collect();
        assert_eq!(left, vec!["garbage", "recent", "running", "stopping"]);
        assert_eq!(sweep(&store, Timestamp(now), RETENTION).await.unwrap(), 0, "idempotent");
    }
}
