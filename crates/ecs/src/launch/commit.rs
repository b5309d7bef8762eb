//! The commit of a launch: the placement decision is made against a fresh read of the
//! cluster, then every new task and the new reservation of each instance a task lands on
//! are written in one transaction, compared on those instances' `mod_revision`s.

use super::prepare::Launch;
use crate::{Ecs, EcsError, names, placement_view};
use berth_model::arn::EcsResource;
use berth_model::ecs::{Attribute, Failure, Task};
use berth_model::records::{ClientTokenRecord, ContainerInstanceRecord, Placement, TaskRecord};
use berth_model::task_lifecycle::{self, Provision};
use berth_model::{Timestamp, fargate, keys};
use berth_scheduler::{InstanceSnapshot, PlacementFailure};
use berth_store::documents::{self, Doc};
use berth_store::{Compare, Txn};
use std::collections::BTreeMap;

/// The seed of the random placement strategy (placement itself stays a pure function).
pub(super) fn random_seed() -> u64 {
    u64::from_str_radix(&names::new_id()[..16], 16).unwrap_or(0)
}

/// Shares the task's GPU ids out to its containers in definition order, as ECS shows
/// them (containers[].gpuIds); the agent hands them to the container.
pub(super) fn give_gpus(task: &mut Task, wanted: &[(String, u32)], ids: &[String]) {
    let mut ids = ids.iter();
    for (name, n) in wanted {
        let mine: Vec<String> = ids.by_ref().take(*n as usize).cloned().collect();
        if let Some(c) = task.containers.iter_mut().flatten().find(|c| c.name.as_deref() == Some(name.as_str())) {
            c.gpu_ids = Some(mine);
        }
    }
}

pub(super) fn failure(f: PlacementFailure) -> Failure {
    match f {
        PlacementFailure::Insufficient { instance_arn, shortfall } => {
            Failure { arn: Some(instance_arn), reason: Some(shortfall.reason().into()), detail: None }
        }
        PlacementFailure::NoActiveInstances => Failure {
            arn: None,
            reason: Some("No Container Instances were found in your cluster.".into()),
            detail: None,
        },
    }
}

/// Where a placement decision puts one task: on an instance (its index and the GPU ids
/// reserved there), or nowhere yet — a capacity provider's task that waits in
/// PROVISIONING for its group's capacity — and with which capacity provider (when none,
/// the launch's own).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Placed {
    pub(super) on: Option<(usize, Vec<String>)>,
    pub(super) provider: Option<String>,
}

impl Placed {
    pub(super) fn on(instance: usize, gpus: Vec<String>) -> Self {
        Placed { on: Some((instance, gpus)), provider: None }
    }
}

/// What a placement decision returns per task: where it goes, or a failure.
pub(super) type Decisions = Vec<Result<Placed, Failure>>;

/// Places the tasks `decide` chooses against a fresh read of the cluster's instances,
/// and commits them with the instances' new reservations in one transaction; on a
/// conflict it reads and decides again. With a client token, the first answer is
/// stored and returned to every retry.
pub(super) async fn commit(
    ecs: &Ecs,
    spec: &Launch,
    token_key: Option<&str>,
    mut decide: impl FnMut(&[Doc<ContainerInstanceRecord>], &mut [InstanceSnapshot]) -> Result<Decisions, EcsError>,
) -> Result<(Vec<Task>, Vec<Failure>), EcsError> {
    let store = ecs.store();
    if fargate::is_fargate(spec.launch_type) {
        ensure_fargate_pool(ecs, &spec.cluster).await?;
    }
    for _ in 0..documents::MAX_ATTEMPTS {
        if let Some(key) = token_key
            && let Some(earlier) = documents::get::<ClientTokenRecord>(store, key).await?
        {
            return answered(ecs, &spec.cluster, earlier.value).await;
        }
        let (records, mut snapshots) = placement_view::snapshots(ecs, &spec.cluster).await?;
        let decisions = decide(&records, &mut snapshots)?;

        let now = Timestamp::now();
        let mut txn = Txn::new();
        let mut touched: BTreeMap<usize, ContainerInstanceRecord> = BTreeMap::new();
        let (mut tasks, mut failures) = (vec![], vec![]);
        for decision in decisions {
            let placed = match decision {
                Ok(placed) => placed,
                Err(f) => {
                    if !failures.contains(&f) {
                        failures.push(f);
                    }
                    continue;
                }
            };
            let provider = placed.provider.or_else(|| spec.capacity_provider_name.clone());
            let id = names::new_id();
            let key = keys::task(&spec.cluster, &id);
            let record = match placed.on {
                Some((i, gpus)) => {
                    let mut reserved = spec.demand.resources.clone();
                    reserved.gpus = gpus.iter().cloned().collect();
                    let on = (&records[i].value, snapshots[i].arn.as_str());
                    let record = new_task(ecs, spec, &id, Some(on), &reserved, &gpus, provider, now);
                    touched
                        .entry(i)
                        .or_insert_with(|| records[i].value.clone())
                        .reservations
                        .insert(id.clone(), reserved);
                    record
                }
                // Waiting in PROVISIONING for its capacity provider's instances: on no
                // instance yet, and reserving nothing until it is placed.
                None => new_task(ecs, spec, &id, None, &spec.demand.resources, &[], provider, now),
            };
            txn = txn.when(Compare::ModRevision(key.clone(), 0)).put(key, documents::encode(&record)?);
            tasks.push(record.task);
        }
        for (i, mut rec) in touched {
            rec.bump();
            let key = keys::instance(&spec.cluster, &rec.id());
            txn =
                txn.when(Compare::ModRevision(key.clone(), records[i].mod_revision)).put(key, documents::encode(&rec)?);
        }
        if let Some(key) = token_key {
            let answer = ClientTokenRecord {
                task_arns: tasks.iter().filter_map(|t| t.task_arn.clone()).collect(),
                failures: failures.clone(),
            };
            txn = txn.when(Compare::ModRevision(key.to_string(), 0)).put(key, documents::encode(&answer)?);
        }
        if txn.success.is_empty() || store.txn(txn).await?.succeeded {
            return Ok((tasks, failures));
        }
    }
    Err(EcsError::Contended(format!("placing tasks in {}", spec.cluster)))
}

/// Marks `cluster` as one that runs Fargate tasks, so that every host starts its Fargate
/// pool agent there (the first Fargate tasks wait in PROVISIONING until one registers).
async fn ensure_fargate_pool(ecs: &Ecs, cluster: &str) -> Result<(), EcsError> {
    let key = berth_model::fleet::keys::fargate_cluster(cluster);
    if ecs.store().get(&key).await?.is_none() {
        let mark = Txn::new().when(Compare::ModRevision(key.clone(), 0)).put(key, documents::encode(&cluster)?);
        // Lost to a concurrent launch: the mark is there either way.
        ecs.store().txn(mark).await?;
    }
    Ok(())
}

/// A new task of the launch `spec`, placed `on` an instance (its record and ARN) or
/// waiting for capacity (`None`: no container instance, lastStatus PROVISIONING).
#[allow(clippy::too_many_arguments)]
pub(super) fn new_task(
    ecs: &Ecs,
    spec: &Launch,
    id: &str,
    on: Option<(&ContainerInstanceRecord, &str)>,
    reserved: &berth_model::demand::Resources,
    gpus: &[String],
    capacity_provider_name: Option<String>,
    now: Timestamp,
) -> TaskRecord {
    let task_arn = ecs.scope().ecs(&EcsResource::Task { cluster: spec.cluster.clone(), id: id.to_string() });
    let mut task = task_lifecycle::provision(
        Provision {
            task_arn,
            cluster_arn: spec.cluster_arn.clone(),
            container_instance_arn: on.map(|(_, arn)| arn.to_string()).unwrap_or_default(),
            task_definition: &spec.td,
            overrides: spec.overrides.as_ref(),
            reserved,
            group: spec.demand.group.clone(),
            started_by: spec.started_by.clone(),
            launch_type: spec.launch_type,
            capacity_provider_name,
            platform_version: spec.platform_version.clone(),
            tags: spec.tags.clone(),
            availability_zone: on.and_then(|(i, _)| i.attribute("ecs.availability-zone")).map(Into::into),
            attributes: on
                .and_then(|(i, _)| i.attribute("ecs.cpu-architecture"))
                .map(|v| Attribute {
                    name: "ecs.cpu-architecture".into(),
                    value: Some(v.into()),
                    target_type: None,
                    target_id: None,
                })
                .into_iter()
                .collect(),
            awsvpc: spec.network_configuration.as_ref().and_then(|n| n.awsvpc_configuration.as_ref()),
            enable_execute_command: spec.enable_execute_command,
            created_at: now,
        },
        names::new_id,
    );
    // Waiting for capacity, or on Fargate (whose pool agents ECS does not show).
    if on.is_none() || fargate::is_fargate(spec.launch_type) {
        task.container_instance_arn = None;
    }
    give_gpus(&mut task, &spec.gpus, gpus);
    TaskRecord {
        task,
        placement: Placement {
            container_instance_id: on.map(|(i, _)| i.id()).unwrap_or_default(),
            reserved: reserved.clone(),
        },
        placement_constraints: spec.placement_constraints.clone(),
        placement_strategy: spec.placement_strategy.clone(),
        network_configuration: spec.network_configuration.clone(),
    }
}

/// The answer stored for a client token, with the tasks as they are now.
async fn answered(ecs: &Ecs, cluster: &str, earlier: ClientTokenRecord) -> Result<(Vec<Task>, Vec<Failure>), EcsError> {
    let mut tasks = vec![];
    for arn in &earlier.task_arns {
        let Some(id) = names::task_id(ecs.scope(), cluster, arn) else { continue };
        if let Some(doc) = documents::get::<TaskRecord>(ecs.store(), &keys::task(cluster, &id)).await? {
            tasks.push(doc.value.task);
        }
    }
    Ok((tasks, earlier.failures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::ecs::Container;

    #[test]
    fn gpu_ids_are_shared_out_in_container_order() {
        let container = |n: &str| Container { name: Some(n.into()), ..Default::default() };
        let mut task =
            Task { containers: Some(vec![container("a"), container("b"), container("c")]), ..Default::default() };
        let ids = ["g0".to_string(), "g1".into(), "g2".into()];
        give_gpus(&mut task, &[("a".into(), 2), ("c".into(), 1)], &ids);
        let got: Vec<Option<Vec<String>>> = task.containers.unwrap().into_iter().map(|c| c.gpu_ids).collect();
        assert_eq!(got, [Some(vec!["g0".into(), "g1".into()]), None, Some(vec!["g2".into()])]);
    }

    #[test]
    fn placement_failures_carry_ecs_reasons() {
        let f = failure(PlacementFailure::Insufficient {
            instance_arn: "arn:i".into(),
            shortfall: berth_scheduler::Shortfall::Ports,
        });
        assert_eq!((f.arn.as_deref(), f.reason.as_deref()), (Some("arn:i"), Some("RESOURCE:PORTS")));
    }
}
