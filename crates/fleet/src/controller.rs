//! The fleet controller: a level-triggered reconciler over the instances and hosts in the
//! store, woken by every change under `ec2/instances/` and `fleet/hosts/` and every
//! second. Each pass reads both, asks `plan` what to do, and applies it with
//! compare-and-swap (an instance that changed meanwhile is left to the next pass).
//! Nothing is kept in memory: a restarted server carries on.

use crate::plan::{Action, plan};
use crate::{FleetError, drain};
use berth_ecs::Ecs;
use berth_model::ec2::{InstanceRecord, InstanceState, StateReason};
use berth_model::fleet::{self, HostRecord, keys as fleet_keys};
use berth_model::keys;
use berth_store::documents::{self, Change};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often terminated records past their hour are looked for.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);

pub async fn run(ecs: Ecs, period: Duration) {
    let wake = Arc::new(Notify::new());
    for prefix in [keys::EC2_INSTANCES, fleet_keys::HOSTS] {
        tokio::spawn(berth_store::notify_on_changes(ecs.store.clone(), prefix, wake.clone()));
    }
    let mut last_expiry = tokio::time::Instant::now();
    loop {
        if let Err(e) = pass(&ecs, berth_ec2::now_ms()).await {
            tracing::warn!(error = %e, "fleet pass failed; retrying");
        }
        if last_expiry.elapsed() >= EXPIRY_EVERY {
            last_expiry = tokio::time::Instant::now();
            match berth_ec2::expire_terminated(ecs.store(), berth_ec2::now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(instances = n, "terminated instances expired"),
                Err(e) => tracing::warn!(error = %e, "expiring terminated instances failed"),
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

/// One reconciliation of every instance against the hosts.
pub async fn pass(ecs: &Ecs, now_ms: i64) -> Result<(), FleetError> {
    let store = ecs.store();
    let instances: Vec<InstanceRecord> =
        documents::list_decodable(store, keys::EC2_INSTANCES).await?.into_iter().map(|d| d.value).collect();
    let hosts: Vec<HostRecord> =
        documents::list_decodable(store, fleet_keys::HOSTS).await?.into_iter().map(|d| d.value).collect();
    let actions = plan(&instances, &hosts, now_ms);
    let needs_ecs = actions.iter().any(|a| matches!(a, Action::Drain { .. } | Action::Finish { .. }));
    let mut registered = if needs_ecs { drain::by_ec2_instance(ecs).await? } else { Default::default() };
    for action in actions {
        let result = match &action {
            Action::Assign { instance_id, host_id } => {
                update(store, instance_id, |i| {
                    (i.state == InstanceState::Pending && i.host.is_none()).then(|| i.host = Some(host_id.clone()))
                })
                .await
            }
            Action::Unassign { instance_id } => {
                update(store, instance_id, |i| (i.state == InstanceState::Pending).then(|| i.host = None)).await
            }
            Action::SetStatus { instance_id, ok } => {
                update(store, instance_id, |i| (i.status_ok != *ok).then(|| i.status_ok = *ok)).await
            }
            Action::InsufficientCapacity { instance_id } => insufficient_capacity(store, instance_id).await,
            Action::Drain { instance_id } => match instances.iter().find(|i| &i.instance_id == instance_id) {
                Some(i) => {
                    drain::drain(ecs, i, registered.get(instance_id).map_or(&[][..], Vec::as_slice), now_ms).await
                }
                None => Ok(()),
            },
            Action::Finish { instance_id, state } => {
                let mine = registered.remove(instance_id).unwrap_or_default();
                finish(ecs, instance_id, *state, &mine, now_ms).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(?action, error = %e, "fleet action failed");
        }
    }
    Ok(())
}

/// Changes instance `id` with `change` (None: nothing to change), compared on its revision.
async fn update(
    store: &dyn berth_store::Store,
    id: &str,
    mut change: impl FnMut(&mut InstanceRecord) -> Option<()>,
) -> Result<(), FleetError> {
    documents::modify(store, &keys::ec2_instance(id), |current: Option<InstanceRecord>| {
        let Some(mut rec) = current else { return Ok::<_, FleetError>((Change::Keep, ())) };
        Ok((if change(&mut rec).is_some() { Change::Put(rec) } else { Change::Keep }, ()))
    })
    .await
}

/// No host could take the instance: terminated with EC2's reason, its address freed.
async fn insufficient_capacity(store: &dyn berth_store::Store, id: &str) -> Result<(), FleetError> {
    let mut still_waiting = false;
    update(store, id, |i| {
        still_waiting = i.state == InstanceState::Pending && i.host.is_none();
        still_waiting.then(|| {
            i.state_reason = Some(StateReason {
                code: fleet::INSUFFICIENT_CAPACITY_CODE.into(),
                message: fleet::INSUFFICIENT_CAPACITY_MESSAGE.into(),
            });
            i.state_transition_reason = fleet::INSUFFICIENT_CAPACITY_MESSAGE.into();
        })
    })
    .await?;
    if still_waiting {
        tracing::info!(instance = id, "no host has room: terminated (InsufficientInstanceCapacity)");
        berth_ec2::mark_terminated(store, id).await?;
    }
    Ok(())
}

/// Stopping or shutting down without a live host: done now.
async fn finish(
    ecs: &Ecs,
    id: &str,
    state: InstanceState,
    registered: &[drain::Registered],
    now_ms: i64,
) -> Result<(), FleetError> {
    if state == InstanceState::Terminated {
        drain::deregister_all(ecs, registered).await?;
        berth_ec2::mark_terminated(ecs.store(), id).await?;
        return Ok(());
    }
    update(ecs.store(), id, |i| {
        (i.state == InstanceState::Stopping).then(|| {
            i.state = InstanceState::Stopped;
            i.state_changed_at = now_ms;
            i.status_ok = false;
        })
    })
    .await
}
