//! What agents report of their tasks (ReportTaskState, SubmitTaskStateChange,
//! SubmitContainerStateChange), applied through the lifecycle state machine
//! (`berth_model::task_lifecycle`) with compare-and-swap.

use crate::{Ecs, EcsError};
use berth_model::agent_protocol::ReportTaskStateRequest;
use berth_model::ecs::Task;
use berth_model::records::{ContainerInstanceRecord, TaskRecord};
use berth_model::task_lifecycle;
use berth_model::{Timestamp, keys};
use berth_store::documents::{self, MAX_ATTEMPTS};
use berth_store::{Compare, Revision, Txn};

/// Applies what an agent observed to task `task_id` (the report is built from the
/// current task by `make`), with compare-and-swap; reaching STOPPED releases the task's
/// reservation on its instance in the same transaction. Returns the store revision
/// after the change (the current one when there was nothing to change).
pub async fn report(
    ecs: &Ecs,
    cluster: &str,
    task_id: &str,
    mut make: impl FnMut(&Task) -> ReportTaskStateRequest,
) -> Result<Revision, EcsError> {
    let store = ecs.store();
    let key = keys::task(cluster, task_id);
    for _ in 0..MAX_ATTEMPTS {
        let doc = documents::get::<TaskRecord>(store, &key).await?.ok_or(EcsError::TaskNotFound)?;
        let mut rec = doc.value;
        let report = make(&rec.task);
        let applied = task_lifecycle::apply_report(&mut rec.task, &report, Timestamp::now())?;
        if !applied.changed {
            return Ok(store.revision().await?);
        }
        let mut txn =
            Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).put(&key, documents::encode(&rec)?);
        if applied.stopped {
            let instance_key = keys::instance(cluster, &rec.placement.container_instance_id);
            if let Some(idoc) = documents::get::<ContainerInstanceRecord>(store, &instance_key).await? {
                let mut irec = idoc.value;
                if irec.reservations.remove(task_id).is_some() {
                    irec.bump();
                    txn = txn
                        .when(Compare::ModRevision(instance_key.clone(), idoc.mod_revision))
                        .put(instance_key, documents::encode(&irec)?);
                }
            }
        }
        let result = store.txn(txn).await?;
        if result.succeeded {
            return Ok(result.revision);
        }
    }
    Err(EcsError::Contended(key))
}
