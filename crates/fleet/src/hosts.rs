//! What hosts ask of the server (the host protocol's operations, below berth-api's
//! handlers): register, heartbeat, read their assignments, report an instance's state.

use crate::{FleetError, drain};
use berth_ecs::Ecs;
use berth_model::ec2::instance_types;
use berth_model::ec2::{InstanceRecord, InstanceState};
use berth_model::fleet::{
    self, HostAssignment, HostRecord, RegisterHostRequest, ReportInstanceStateRequest, keys as fleet_keys,
};
use berth_model::keys;
use berth_store::documents::{self, Change};
use berth_store::{Revision, Store};

/// A heartbeat is written to the host's record at most this often (a poll is one).
pub const HEARTBEAT_WRITE_MS: i64 = 10_000;

/// RegisterHost: the host's record, created or updated (same id: same host).
pub async fn register(store: &dyn Store, req: RegisterHostRequest, now_ms: i64) -> Result<HostRecord, FleetError> {
    if req.host_id.is_empty()
        || req.host_id.len() > 64
        || !req.host_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(FleetError::Invalid(format!(
            "hostId '{}' must be 1 to 64 letters, digits or hyphens.",
            req.host_id
        )));
    }
    documents::modify(store, &fleet_keys::host(&req.host_id), |current: Option<HostRecord>| {
        let host = HostRecord {
            host_id: req.host_id.clone(),
            name: req.name.clone(),
            capacity: req.capacity,
            real_gpus: req.real_gpus,
            registered_at: current.as_ref().map_or(now_ms, |h| h.registered_at),
            last_heartbeat: now_ms,
        };
        Ok::<_, FleetError>((Change::Put(host.clone()), host))
    })
    .await
}

/// A host's poll: its record's heartbeat is refreshed (written when older than
/// `HEARTBEAT_WRITE_MS`). An unknown host must register first.
pub async fn heartbeat(store: &dyn Store, host_id: &str, now_ms: i64) -> Result<HostRecord, FleetError> {
    documents::modify(store, &fleet_keys::host(host_id), |current: Option<HostRecord>| {
        let mut host = current.ok_or_else(|| FleetError::UnknownHost(host_id.to_string()))?;
        if now_ms - host.last_heartbeat < HEARTBEAT_WRITE_MS {
            return Ok((Change::Keep, host));
        }
        host.last_heartbeat = now_ms;
        Ok((Change::Put(host.clone()), host))
    })
    .await
}

/// The instances on `host_id` (all but terminated ones: a stopped instance keeps its
/// state on the host for when it starts again), with the store revision read before them.
pub async fn assignments(ecs: &Ecs, host_id: &str) -> Result<(Revision, Vec<HostAssignment>), FleetError> {
    let store = ecs.store();
    let revision = store.revision().await?;
    let mine: Vec<InstanceRecord> = documents::list_decodable::<InstanceRecord>(store, keys::EC2_INSTANCES)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|i| i.host.as_deref() == Some(host_id))
        .filter(|i| i.state != InstanceState::Terminated)
        .collect();
    let leaving = mine.iter().any(|i| matches!(i.state, InstanceState::Stopping | InstanceState::ShuttingDown));
    let mut registered = if leaving { drain::by_ec2_instance(ecs).await? } else { Default::default() };
    let out = mine
        .into_iter()
        .map(|i| {
            let released = match i.state {
                InstanceState::Stopping | InstanceState::ShuttingDown => {
                    drain::released(&i, &registered.remove(&i.instance_id).unwrap_or_default())
                }
                _ => false,
            };
            assignment(i, released)
        })
        .collect();
    Ok((revision, out))
}

fn assignment(i: InstanceRecord, released: bool) -> HostAssignment {
    let capacity = instance_types::lookup(&i.instance_type).map(fleet::capacity_of).unwrap_or_default();
    HostAssignment {
        instance_id: i.instance_id,
        state: i.state.name().to_string(),
        instance_type: i.instance_type,
        image_id: i.image_id,
        availability_zone: i.availability_zone,
        private_ip_address: Some(i.private_ip_address).filter(|ip| !ip.is_empty()),
        user_data: i.user_data,
        iam_instance_profile_arn: i.iam_instance_profile_arn,
        capacity,
        architecture: i.architecture,
        released,
    }
}

/// The ACTIVE clusters that run Fargate tasks (every host runs a pool agent in each).
pub async fn fargate_clusters(store: &dyn Store) -> Result<Vec<String>, FleetError> {
    let marks = documents::list_decodable::<String>(store, fleet_keys::FARGATE_CLUSTERS).await?;
    let mut out = vec![];
    for cluster in marks.into_iter().map(|d| d.value) {
        let rec = documents::get::<berth_model::ecs::Cluster>(store, &keys::cluster(&cluster)).await?;
        if rec.is_some_and(|c| c.value.is_active()) {
            out.push(cluster);
        }
    }
    Ok(out)
}

/// The instance `instance_id` if `host_id` runs it (and it is not terminated).
pub async fn instance_of(store: &dyn Store, host_id: &str, instance_id: &str) -> Result<InstanceRecord, FleetError> {
    documents::get::<InstanceRecord>(store, &keys::ec2_instance(instance_id))
        .await?
        .map(|d| d.value)
        .filter(|i| i.host.as_deref() == Some(host_id) && i.state != InstanceState::Terminated)
        .ok_or_else(|| FleetError::NotOnHost { instance_id: instance_id.into(), host_id: host_id.into() })
}

/// ReportInstanceState: the host started the instance's agent (`running`), or ended it
/// (`stopped`, `terminated`). Reports that change nothing are accepted as such.
pub async fn report(store: &dyn Store, req: &ReportInstanceStateRequest, now_ms: i64) -> Result<(), FleetError> {
    let reported = InstanceState::from_name(&req.state)
        .filter(|s| matches!(s, InstanceState::Running | InstanceState::Stopped | InstanceState::Terminated))
        .ok_or_else(|| FleetError::Invalid(format!("state '{}' must be running, stopped or terminated.", req.state)))?;
    let current = instance_of(store, &req.host_id, &req.instance_id).await?;
    let Some(next) = fleet::reported(current.state, reported) else { return Ok(()) };
    if next == InstanceState::Terminated {
        berth_ec2::mark_terminated(store, &req.instance_id).await?;
        return Ok(());
    }
    documents::modify(store, &keys::ec2_instance(&req.instance_id), |rec: Option<InstanceRecord>| {
        let Some(mut rec) = rec.filter(|r| r.host.as_deref() == Some(req.host_id.as_str())) else {
            return Ok((Change::Keep, ()));
        };
        if fleet::reported(rec.state, reported) != Some(next) {
            return Ok::<_, FleetError>((Change::Keep, ()));
        }
        rec.state = next;
        rec.state_changed_at = now_ms;
        rec.status_ok = next == InstanceState::Running;
        if next == InstanceState::Running {
            rec.state_reason = None;
        }
        Ok((Change::Put(rec), ()))
    })
    .await
}
