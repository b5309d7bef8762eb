//! The service controller: keeps every service's tasks as `service_plan` decides. It
//! wakes on any change under `ecs/` (services, tasks, instances: a store watch) and on
//! a periodic tick, reads each service with its cluster's tasks and instances, and
//! commits the service's new state with compare-and-swap before acting on it, so a
//! plan made from a service that changed meanwhile is dropped and made again. Tasks are
//! started through the same placement path as RunTask and stopped as StopTask stops
//! them (stopCode ServiceSchedulerInitiated). Everything it needs is in the store, so
//! after a restart it carries on where it was.

use crate::service_plan::{self, Inputs, InstanceView, TaskView};
use berth_api::service_tasks::{ServiceTasks, request_stop};
use berth_api::{Api, Ctx};
use berth_model::Timestamp;
use berth_model::ecs::{SchedulingStrategy, TaskStopCode};
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, ServiceRecord, TaskRecord};
use berth_model::service as rules;
use berth_store::{Compare, KeyValue, Revision, Store, Txn};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long changes are gathered after a wake-up before a pass (one pass then covers a
/// burst of task reports): at least this, and at least as long as the last pass took, so
/// that under a stream of changes the controller leaves half the time to the API.
const SETTLE: Duration = Duration::from_millis(20);

/// Runs forever: a pass over every service on each store change under `ecs/` and every
/// `tick`.
pub async fn run(api: Arc<Api>, tick: Duration) {
    let ctx = Ctx::system(api.clone());
    let wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(berth_store::notify_on_changes(api.store.clone(), "ecs/", wake.clone()));
    loop {
        let started = std::time::Instant::now();
        if let Err(e) = pass(&ctx).await {
            tracing::warn!(error = %e, "service controller pass failed");
        }
        let settle = SETTLE.max(started.elapsed());
        tokio::select! {
            _ = wake.notified() => tokio::time::sleep(settle).await,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn decode<T: serde::de::DeserializeOwned>(kv: &KeyValue) -> Option<T> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| tracing::error!(key = %kv.key, error = %e, "stored document does not decode; left alone"))
        .ok()
}

/// One step for every service that is not INACTIVE.
pub async fn pass(ctx: &Ctx) -> Result<(), Failure> {
    let store = ctx.store();
    let (kvs, _) = store.range(keys::SERVICES).await?;
    let mut clusters: HashMap<String, (Vec<TaskView>, Vec<InstanceView>)> = HashMap::new();
    for kv in kvs {
        let Some(rec) = decode::<ServiceRecord>(&kv) else { continue };
        if rec.service.status.as_deref() == Some(rules::INACTIVE) {
            continue;
        }
        let Some(cluster) = kv.key.strip_prefix(keys::SERVICES).and_then(|rest| rest.split('/').next()) else {
            continue;
        };
        if !clusters.contains_key(cluster) {
            clusters.insert(cluster.to_string(), observe(store, cluster).await?);
        }
        let (tasks, instances) = &clusters[cluster];
        let group = rules::group(rec.service.service_name.as_deref().unwrap_or_default());
        let mine: Vec<TaskView> = tasks.iter().filter(|t| t.task.group.as_deref() == Some(&group)).cloned().collect();
        if let Err(e) = step(ctx, cluster, &kv.key, kv.mod_revision, &rec, &mine, instances).await {
            tracing::warn!(service = %kv.key, error = %e, "service step failed");
        }
    }
    Ok(())
}

/// The cluster's tasks and instances.
async fn observe(store: &dyn Store, cluster: &str) -> Result<(Vec<TaskView>, Vec<InstanceView>), Failure> {
    let (task_kvs, _) = store.range(&keys::tasks_of(cluster)).await?;
    let tasks = task_kvs
        .iter()
        .filter_map(|kv| {
            let rec = decode::<TaskRecord>(kv)?;
            let id = kv.key.rsplit('/').next()?.to_string();
            Some(TaskView { id, task: rec.task, instance_id: rec.placement.container_instance_id })
        })
        .collect();
    let (instance_kvs, _) = store.range(&keys::instances_of(cluster)).await?;
    let instances = instance_kvs
        .iter()
        .filter_map(|kv| {
            let rec = decode::<ContainerInstanceRecord>(kv)?;
            let id = kv.key.rsplit('/').next()?.to_string();
            let active = rec.container_instance.status.as_deref() == Some("ACTIVE");
            Some(InstanceView { id, active })
        })
        .collect();
    Ok((tasks, instances))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn new_deployment_id() -> String {
    rules::deployment_id(uuid::Uuid::new_v4().as_u64_pair().0)
}

/// Plans one service, commits the plan's record (only if the service is unchanged since
/// it was read), then stops and starts what the plan says and records what starting did.
async fn step(
    ctx: &Ctx,
    cluster: &str,
    key: &str,
    mod_revision: Revision,
    rec: &ServiceRecord,
    tasks: &[TaskView],
    instances: &[InstanceView],
) -> Result<(), Failure> {
    // A DAEMON service belongs on the ACTIVE instances its placement constraints admit.
    let daemon_instances;
    let instances = match (rec.service.scheduling_strategy, rec.service.deployments.iter().flatten().next()) {
        (Some(SchedulingStrategy::Daemon), Some(primary)) => {
            let eligible = ServiceTasks::of(cluster, &rec.service, primary).eligible(ctx).await?;
            daemon_instances = instances
                .iter()
                .map(|i| InstanceView { id: i.id.clone(), active: eligible.contains(&i.id) })
                .collect::<Vec<_>>();
            &daemon_instances
        }
        _ => instances,
    };
    let plan = service_plan::plan(
        rec,
        Inputs {
            tasks,
            instances,
            now: Timestamp::now(),
            new_id: &mut new_id,
            new_deployment_id: &mut new_deployment_id,
        },
    );
    let mut txn = Txn::new().when(Compare::ModRevision(key.to_string(), mod_revision));
    if let Some(updated) = &plan.record {
        txn = txn.put(key, serde_json::to_vec(updated)?);
    }
    if !store_txn(ctx.store(), txn).await? {
        return Ok(());
    }
    let rec = plan.record.as_ref().unwrap_or(rec);
    for (id, reason) in &plan.stop {
        request_stop(ctx, cluster, id, Some(reason), TaskStopCode::ServiceSchedulerInitiated).await?;
    }
    if plan.start == 0 && plan.start_on.is_empty() {
        return Ok(());
    }
    let Some(primary) = rec.service.deployments.iter().flatten().next() else { return Ok(()) };
    let launcher = ServiceTasks::of(cluster, &rec.service, primary);
    let started = if plan.start > 0 {
        launcher.start(ctx, plan.start).await?
    } else {
        launcher.start_on(ctx, &plan.start_on).await?
    };
    let ids: Vec<String> =
        started.tasks.iter().filter_map(|t| t.task_arn.as_deref()?.rsplit('/').next().map(String::from)).collect();
    let label = format!("service {}", rec.service.service_name.as_deref().unwrap_or_default());
    let unplaced = started.failures.first().map(|f| f.message(&label));
    record(ctx.store(), key, |current| {
        service_plan::started(current, &ids, unplaced.clone(), Timestamp::now(), &mut new_id)
    })
    .await
}

async fn store_txn(store: &dyn Store, txn: Txn) -> Result<bool, Failure> {
    Ok(store.txn(txn).await?.succeeded)
}

/// Applies `change` to the stored service with compare-and-swap, retrying on conflicts.
async fn record(
    store: &dyn Store,
    key: &str,
    mut change: impl FnMut(&ServiceRecord) -> Option<ServiceRecord>,
) -> Result<(), Failure> {
    for _ in 0..16 {
        let Some(kv) = store.get(key).await? else { return Ok(()) };
        let Some(current) = decode::<ServiceRecord>(&kv) else { return Ok(()) };
        let Some(updated) = change(&current) else { return Ok(()) };
        let txn = Txn::new()
            .when(Compare::ModRevision(key.to_string(), kv.mod_revision))
            .put(key, serde_json::to_vec(&updated)?);
        if store_txn(store, txn).await? {
            return Ok(());
        }
    }
    Ok(())
}
