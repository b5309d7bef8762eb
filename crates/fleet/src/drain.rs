//! An instance's container instances, and draining them when the instance stops or
//! shuts down: its tasks are stopped as ECS stops the tasks of an EC2 instance that goes
//! away, and, shutting down, the container instance is deregistered once they are.

use crate::FleetError;
use berth_ecs::Ecs;
use berth_model::ec2::InstanceRecord;
use berth_model::ec2::InstanceState;
use berth_model::ecs::TaskStopCode;
use berth_model::keys;
use berth_model::records::ContainerInstanceRecord;
use berth_store::documents::{self, Doc};
use std::collections::BTreeMap;

/// A shutting-down instance whose tasks have not all stopped by then is deregistered
/// anyway (forced: its tasks are orphaned, as ECS does for an instance that is gone).
pub const DRAIN_DEADLINE_MS: i64 = 120_000;

/// A container instance, with the cluster it is in.
pub struct Registered {
    pub cluster: String,
    pub doc: Doc<ContainerInstanceRecord>,
}

/// Every container instance by the EC2 instance id it registered with (any cluster).
pub async fn by_ec2_instance(ecs: &Ecs) -> Result<BTreeMap<String, Vec<Registered>>, FleetError> {
    let mut out: BTreeMap<String, Vec<Registered>> = BTreeMap::new();
    for kv in ecs.store().range(keys::INSTANCES).await?.0 {
        let Some(doc) = documents::decodable::<ContainerInstanceRecord>(&kv) else { continue };
        let Some(ec2) = doc.value.container_instance.ec2_instance_id.clone() else { continue };
        // ecs/instances/{cluster}/{id}
        let cluster = kv.key.trim_start_matches(keys::INSTANCES).split('/').next().unwrap_or_default().to_string();
        out.entry(ec2).or_default().push(Registered { cluster, doc });
    }
    Ok(out)
}

/// The stoppedReason of the tasks of an instance that stops or terminates (ECS's words).
pub fn stopped_reason(instance_id: &str, state: InstanceState) -> String {
    let what = if state == InstanceState::Stopping { "stopped" } else { "terminated" };
    format!("Host EC2 (instance {instance_id}) {what}.")
}

/// Whether the host may end the instance's agent: stopping, no task is left on its
/// container instances; shutting down, they are deregistered too.
pub fn released(instance: &InstanceRecord, registered: &[Registered]) -> bool {
    registered.iter().all(|r| match instance.state {
        InstanceState::ShuttingDown => r.doc.value.is_inactive(),
        _ => r.doc.value.is_inactive() || r.doc.value.reservations.is_empty(),
    })
}

/// One step of draining `instance` (stopping or shutting down): stop the tasks of its
/// container instances, deregister those without tasks when it shuts down (forced past
/// the deadline).
pub async fn drain(
    ecs: &Ecs,
    instance: &InstanceRecord,
    registered: &[Registered],
    now_ms: i64,
) -> Result<(), FleetError> {
    let terminating = instance.state == InstanceState::ShuttingDown;
    let reason = stopped_reason(&instance.instance_id, instance.state);
    for r in registered.iter().filter(|r| !r.doc.value.is_inactive()) {
        let rec = &r.doc.value;
        for task_id in rec.reservations.keys() {
            match berth_ecs::stop::request_stop(
                ecs,
                &r.cluster,
                task_id,
                Some(&reason),
                TaskStopCode::TerminationNotice,
            )
            .await
            {
                Ok(_) | Err(berth_ecs::EcsError::TaskNotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let overdue = now_ms - instance.state_changed_at >= DRAIN_DEADLINE_MS;
        if terminating && (rec.reservations.is_empty() || overdue) {
            match berth_ecs::deregister::deregister(ecs, &r.cluster, &rec.id(), overdue).await {
                Ok(_) => {
                    tracing::info!(instance = %instance.instance_id, container_instance = %rec.id(), "deregistered")
                }
                // A task not yet reported STOPPED: the next pass tries again.
                Err(berth_ecs::EcsError::InvalidParameter(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Deregisters (forced) the container instances of an instance that is gone without a
/// host to drain it.
pub async fn deregister_all(ecs: &Ecs, registered: &[Registered]) -> Result<(), FleetError> {
    for r in registered.iter().filter(|r| !r.doc.value.is_inactive()) {
        berth_ecs::deregister::deregister(ecs, &r.cluster, &r.doc.value.id(), true).await?;
    }
    Ok(())
}
