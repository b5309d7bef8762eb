//! The service controller: keeps every service's tasks as `service_plan` decides. It
//! wakes on any change under `ecs/` (services, tasks, instances: a store watch) and on
//! a periodic tick, reads each service with its cluster's tasks and instances, and
//! commits the service's new state with compare-and-swap before acting on it, so a
//! plan made from a service that changed meanwhile is dropped and made again. Tasks are
//! started through the same placement path as RunTask and stopped as StopTask stops
//! them (stopCode ServiceSchedulerInitiated). Everything it needs is in the store, so
//! after a restart it carries on where it was.

use crate::service_plan::targets::{self, GroupFacts};
use crate::service_plan::{self, ElbHealth, Inputs, InstanceView, TaskView};
use berth_ecs::Ecs;
use berth_ecs::launch::ServiceTasks;
use berth_ecs::stop::request_stop;
use berth_model::Timestamp;
use berth_model::ecs::{SchedulingStrategy, TaskStopCode};
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::TargetGroupRecord;
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, ServiceRecord, ServiceTarget, TaskRecord};
use berth_model::service as rules;
use berth_store::documents::{self, decodable};
use berth_store::{Compare, Revision, Store, Txn};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How long changes are gathered after a wake-up before a pass (one pass then covers a
/// burst of task reports): at least this, and at least as long as the last pass took, so
/// that under a stream of changes the controller leaves half the time to the API.
const SETTLE: Duration = Duration::from_millis(20);

/// Runs forever: a pass over every service on each store change under `ecs/` and every
/// `tick`.
pub async fn run(ecs: Ecs, tick: Duration) {
    let wake = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(berth_store::notify_on_changes(ecs.store.clone(), "ecs/", wake.clone()));
    loop {
        let started = std::time::Instant::now();
        if let Err(e) = pass(&ecs).await {
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

/// One step for every service that is not INACTIVE.
pub async fn pass(ecs: &Ecs) -> Result<(), Failure> {
    let store = ecs.store();
    let (kvs, _) = store.range(keys::SERVICES).await?;
    let mut clusters: HashMap<String, ClusterView> = HashMap::new();
    // Target groups, read once per pass when a service has load balancers.
    let mut groups: Option<BTreeMap<String, GroupFacts>> = None;
    let no_groups = BTreeMap::new();
    for kv in kvs {
        let Some(rec) = decodable::<ServiceRecord>(&kv).map(|d| d.value) else { continue };
        if rec.service.status.as_deref() == Some(rules::INACTIVE) {
            continue;
        }
        let Some(cluster) = kv.key.strip_prefix(keys::SERVICES).and_then(|rest| rest.split('/').next()) else {
            continue;
        };
        if !clusters.contains_key(cluster) {
            clusters.insert(cluster.to_string(), observe(store, cluster).await?);
        }
        let view = &clusters[cluster];
        let group = rules::group(rec.service.service_name.as_deref().unwrap_or_default());
        let behind = rec.service.load_balancers.as_ref().is_some_and(|l| !l.is_empty());
        if behind && groups.is_none() {
            groups = Some(target_groups(store).await?);
        }
        let groups_now = groups.as_ref().unwrap_or(&no_groups);
        let mine: Vec<TaskView> = view
            .tasks
            .iter()
            .filter(|t| t.task.group.as_deref() == Some(&group))
            .map(|t| TaskView {
                elb: if behind {
                    targets::elb_health(rec.tracking.lb_targets.get(&t.id), groups_now)
                } else {
                    ElbHealth::NotBehind
                },
                ..t.clone()
            })
            .collect();
        let seen = Seen {
            tasks: &mine,
            instances: &view.instances,
            groups: groups_now,
            instance_targets: &view.instance_targets,
        };
        if let Err(e) = step(ecs, cluster, &kv.key, kv.mod_revision, &rec, seen).await {
            tracing::warn!(service = %kv.key, error = %e, "service step failed");
        }
    }
    Ok(())
}

/// What a pass knows of one cluster: its tasks, its instances, and the target id each
/// instance has in instance target groups (its ec2InstanceId, else its id).
struct ClusterView {
    tasks: Vec<TaskView>,
    instances: Vec<InstanceView>,
    instance_targets: BTreeMap<String, String>,
}

/// The cluster's tasks and instances.
async fn observe(store: &dyn Store, cluster: &str) -> Result<ClusterView, Failure> {
    let (task_kvs, _) = store.range(&keys::tasks_of(cluster)).await?;
    let tasks = task_kvs
        .iter()
        .filter_map(|kv| {
            let rec = decodable::<TaskRecord>(kv)?.value;
            let id = kv.key.rsplit('/').next()?.to_string();
            Some(TaskView {
                id,
                task: rec.task,
                instance_id: rec.placement.container_instance_id,
                elb: ElbHealth::NotBehind,
            })
        })
        .collect();
    let (instance_kvs, _) = store.range(&keys::instances_of(cluster)).await?;
    let mut instance_targets = BTreeMap::new();
    let instances = instance_kvs
        .iter()
        .filter_map(|kv| {
            let rec = decodable::<ContainerInstanceRecord>(kv)?.value;
            let id = kv.key.rsplit('/').next()?.to_string();
            let active = rec.container_instance.status.as_deref() == Some(ContainerInstanceRecord::ACTIVE);
            let target = rec.container_instance.ec2_instance_id.clone().filter(|e| !e.is_empty());
            instance_targets.insert(id.clone(), target.unwrap_or_else(|| id.clone()));
            Some(InstanceView { id, active })
        })
        .collect();
    Ok(ClusterView { tasks, instances, instance_targets })
}

/// Every target group: its type, deregistration delay and targets' health.
async fn target_groups(store: &dyn Store) -> Result<BTreeMap<String, GroupFacts>, Failure> {
    Ok(documents::list_decodable::<TargetGroupRecord>(store, keys::TARGET_GROUPS)
        .await?
        .into_iter()
        .map(|d| d.value)
        .map(|g| {
            let facts = GroupFacts {
                target_type: g.target_group.target_type.map_or("instance", |t| t.as_str()).to_string(),
                delay_secs: g.deregistration_delay(),
                states: g
                    .targets
                    .iter()
                    .map(|t| ((t.id.clone(), t.port), t.health.state.map_or("", |s| s.as_str()).to_string()))
                    .collect(),
            };
            (g.arn().to_string(), facts)
        })
        .collect())
}

/// Registers and deregisters targets in their groups' records (compare-and-swap per group).
async fn apply_targets(
    store: &dyn Store,
    register: &[ServiceTarget],
    deregister: &[ServiceTarget],
) -> Result<(), Failure> {
    let mut groups: Vec<&str> = register.iter().chain(deregister).map(|t| t.target_group_arn.as_str()).collect();
    groups.sort();
    groups.dedup();
    let of = |list: &[ServiceTarget], group: &str| -> Vec<(String, i32)> {
        list.iter().filter(|t| t.target_group_arn == group).map(|t| (t.id.clone(), t.port)).collect()
    };
    for group in groups {
        let Some(Resource::TargetGroup { name, .. }) = arn::parse(group) else { continue };
        let key = keys::target_group(&name);
        let (add, remove) = (of(register, group), of(deregister, group));
        for _ in 0..16 {
            let Some(kv) = store.get(&key).await? else { break };
            let Some(mut tg) = decodable::<TargetGroupRecord>(&kv).map(|d| d.value).filter(|g| g.arn() == group) else {
                break;
            };
            let now = Timestamp::now();
            tg.register(&add, now);
            tg.deregister(&remove, now);
            let txn =
                Txn::new().when(Compare::ModRevision(key.clone(), kv.mod_revision)).put(&key, documents::encode(&tg)?);
            if store_txn(store, txn).await? {
                break;
            }
        }
    }
    Ok(())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn new_deployment_id() -> String {
    rules::deployment_id(uuid::Uuid::new_v4().as_u64_pair().0)
}

/// What a step sees around a service: its tasks, the cluster's instances, and for its
/// load balancers the target groups and each instance's target id.
struct Seen<'a> {
    tasks: &'a [TaskView],
    instances: &'a [InstanceView],
    groups: &'a BTreeMap<String, GroupFacts>,
    instance_targets: &'a BTreeMap<String, String>,
}

/// Plans one service, registers and deregisters its tasks' targets, commits the plan's
/// record (only if the service is unchanged since it was read), then stops (the tasks
/// whose targets have drained) and starts what the plan says and records what starting did.
async fn step(
    ecs: &Ecs,
    cluster: &str,
    key: &str,
    mod_revision: Revision,
    rec: &ServiceRecord,
    seen: Seen<'_>,
) -> Result<(), Failure> {
    let (tasks, instances) = (seen.tasks, seen.instances);
    // A DAEMON service belongs on the ACTIVE instances its placement constraints admit.
    let daemon_instances;
    let instances = match (rec.service.scheduling_strategy, rec.service.deployments.iter().flatten().next()) {
        (Some(SchedulingStrategy::Daemon), Some(primary)) => {
            let eligible = ServiceTasks::of(cluster, &rec.service, primary).eligible(ecs).await?;
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
    let mut plan = plan;
    let now = Timestamp::now();
    let mut updated = plan.record.clone().unwrap_or_else(|| rec.clone());
    let stops = std::mem::take(&mut plan.stop);
    let (targets_plan, events) =
        targets::reconcile(&mut updated, tasks, stops, seen.groups, seen.instance_targets, now);
    for message in events {
        rules::push_event(updated.service.events.get_or_insert_with(Vec::new), message, now, new_id());
    }
    plan.stop = targets_plan.stop;
    if updated != *rec {
        plan.record = Some(updated);
    }
    apply_targets(ecs.store(), &targets_plan.register, &targets_plan.deregister).await?;
    let mut txn = Txn::new().when(Compare::ModRevision(key.to_string(), mod_revision));
    if let Some(updated) = &plan.record {
        txn = txn.put(key, documents::encode(updated)?);
    }
    if !store_txn(ecs.store(), txn).await? {
        return Ok(());
    }
    let rec = plan.record.as_ref().unwrap_or(rec);
    for (id, reason) in &plan.stop {
        request_stop(ecs, cluster, id, Some(reason), TaskStopCode::ServiceSchedulerInitiated).await?;
    }
    if plan.start == 0 && plan.start_on.is_empty() {
        return Ok(());
    }
    let Some(primary) = rec.service.deployments.iter().flatten().next() else { return Ok(()) };
    let launcher = ServiceTasks::of(cluster, &rec.service, primary);
    let started = if plan.start > 0 {
        launcher.start(ecs, plan.start).await?
    } else {
        launcher.start_on(ecs, &plan.start_on).await?
    };
    let ids: Vec<String> =
        started.tasks.iter().filter_map(|t| t.task_arn.as_deref()?.rsplit('/').next().map(String::from)).collect();
    let label = format!("service {}", rec.service.service_name.as_deref().unwrap_or_default());
    let unplaced = started.failures.first().map(|f| f.message(&label));
    record(ecs.store(), key, |current| {
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
        let Some(current) = decodable::<ServiceRecord>(&kv).map(|d| d.value) else { return Ok(()) };
        let Some(updated) = change(&current) else { return Ok(()) };
        let txn = Txn::new()
            .when(Compare::ModRevision(key.to_string(), kv.mod_revision))
            .put(key, documents::encode(&updated)?);
        if store_txn(store, txn).await? {
            return Ok(());
        }
    }
    Ok(())
}
