//! DeregisterContainerInstance: an instance leaves the cluster (INACTIVE), refused while
//! it runs tasks unless forced; forced, its tasks are orphaned.

use crate::{Ecs, EcsError, load};
use berth_model::agent_protocol::ReportTaskStateRequest;
use berth_model::ecs::TaskStopCode;
use berth_model::records::ContainerInstanceRecord;
use berth_model::task_lifecycle::{self, TaskStatus};
use berth_model::{Timestamp, keys};
use berth_store::documents::{self, Doc};
use berth_store::{Compare, Txn};

/// The stop reason of tasks orphaned by a forced deregistration.
const DEREGISTERED_REASON: &str = "Container instance deregistered";

/// Makes instance `id` INACTIVE, with its reservations cleared, in one transaction with
/// the STOPPED records of its not-yet-STOPPED tasks (only when `force`: ECS no longer
/// accounts for them, and the agent of an INACTIVE instance gets no tasks to run).
/// Compared on every record it read, retried on conflict. An INACTIVE instance is
/// answered as it is.
pub async fn deregister(ecs: &Ecs, cluster: &str, id: &str, force: bool) -> Result<ContainerInstanceRecord, EcsError> {
    let key = keys::instance(cluster, id);
    for _ in 0..documents::MAX_ATTEMPTS {
        let Doc { value: mut rec, mod_revision } =
            documents::get::<ContainerInstanceRecord>(ecs.store(), &key).await?.ok_or(EcsError::InstanceNotFound)?;
        if rec.is_inactive() {
            return Ok(rec);
        }
        let live: Vec<_> = load::tasks(ecs, cluster)
            .await?
            .into_iter()
            .filter(|t| {
                t.value.placement.container_instance_id == id && TaskStatus::of(&t.value.task) != TaskStatus::Stopped
            })
            .collect();
        if !live.is_empty() && !force {
            return Err(EcsError::InvalidParameter("Found running tasks on the instance.".into()));
        }
        let now = Timestamp::now();
        let stopped = ReportTaskStateRequest { last_status: TaskStatus::Stopped.as_str().into(), ..Default::default() };
        let mut txn = Txn::new();
        for Doc { value: mut task_rec, mod_revision } in live {
            let task_id = task_rec.task.task_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default();
            let task_key = keys::task(cluster, task_id);
            task_lifecycle::request_stop(
                &mut task_rec.task,
                Some(DEREGISTERED_REASON),
                TaskStopCode::UserInitiated,
                now,
            );
            task_lifecycle::apply_report(&mut task_rec.task, &stopped, now)?;
            txn = txn
                .when(Compare::ModRevision(task_key.clone(), mod_revision))
                .put(task_key, documents::encode(&task_rec)?);
        }
        rec.reservations.clear();
        rec.container_instance.status = Some(ContainerInstanceRecord::INACTIVE.into());
        rec.bump();
        txn = txn.when(Compare::ModRevision(key.clone(), mod_revision)).put(key.clone(), documents::encode(&rec)?);
        if ecs.store().txn(txn).await?.succeeded {
            ecs.heartbeats.forget(rec.container_instance.container_instance_arn.as_deref().unwrap_or_default());
            return Ok(rec);
        }
    }
    Err(EcsError::Contended(key))
}
