//! StopTask (and a service stopping its tasks): asking a task to stop.

use crate::{Ecs, EcsError};
use berth_model::ecs::{Task, TaskStopCode};
use berth_model::records::TaskRecord;
use berth_model::task_lifecycle;
use berth_model::{Timestamp, keys};
use berth_store::documents::{self, Change};

/// Asks task `id` to stop (its desiredStatus becomes STOPPED; the agent does the rest),
/// with compare-and-swap. Asking twice changes nothing.
pub async fn request_stop(
    ecs: &Ecs,
    cluster: &str,
    id: &str,
    reason: Option<&str>,
    code: TaskStopCode,
) -> Result<Task, EcsError> {
    documents::modify(ecs.store(), &keys::task(cluster, id), |current: Option<TaskRecord>| {
        let mut rec = current.ok_or(EcsError::TaskNotFound)?;
        let changed = task_lifecycle::request_stop(&mut rec.task, reason, code, Timestamp::now());
        let task = rec.task.clone();
        Ok((if changed { Change::Put(rec) } else { Change::Keep }, task))
    })
    .await
}
