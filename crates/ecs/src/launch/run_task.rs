//! RunTask (placed by berth-scheduler's strategies and constraints) and StartTask (on the
//! instances the caller names).

use super::capacity;
use super::commit::{Placed, commit, failure, random_seed};
use super::prepare::{Common, prepare};
use crate::{Ecs, EcsError, names};
use berth_model::arn::EcsResource;
use berth_model::capacity_provider::split;
use berth_model::ecs::{Cluster, Failure, LaunchType, RunTaskRequest, StartTaskRequest, Task};
use berth_model::records::ContainerInstanceRecord;
use berth_model::{keys, launch};
use berth_scheduler::{PlacementFailure, Policy};
use berth_store::documents;
use std::collections::BTreeMap;

/// The members RunTask and StartTask share (their requests are distinct shapes with the
/// same members), as `prepare` takes them.
macro_rules! common {
    ($req:ident) => {
        Common {
            task_definition: &$req.task_definition,
            inactive_definition_ok: false,
            overrides: $req.overrides,
            group: $req.group,
            started_by: $req.started_by,
            tags: $req.tags,
            network_configuration: $req.network_configuration,
            enable_ecs_managed_tags: $req.enable_ecs_managed_tags,
            propagate_tags: $req.propagate_tags,
            enable_execute_command: $req.enable_execute_command,
        }
    };
}

/// Places and commits RunTask's `count` tasks in `cluster` (an ACTIVE one). With a
/// clientToken, a retry answers what the first call did.
pub async fn run(ecs: &Ecs, cluster: &str, req: RunTaskRequest) -> Result<(Vec<Task>, Vec<Failure>), EcsError> {
    let count = req.count.unwrap_or(1);
    launch::check_count(count)?;
    if let Some(token) = &req.client_token {
        launch::check_client_token(token, 64)?;
    }
    let constraints = req.placement_constraints.clone().unwrap_or_default();
    let strategy = req.placement_strategy.clone().unwrap_or_default();
    // Malformed strategies and constraints are refused before anything is looked up.
    Policy::from_ecs(&strategy, &constraints, &[]).map_err(EcsError::InvalidParameter)?;
    let cluster_rec = documents::get::<Cluster>(ecs.store(), &keys::cluster(cluster)).await?.map(|d| d.value);
    let capacity = launch::launch_type(
        req.launch_type,
        req.capacity_provider_strategy.as_deref().unwrap_or_default(),
        cluster_rec.as_ref().and_then(|c| c.default_capacity_provider_strategy.as_deref()).unwrap_or_default(),
        cluster_rec.as_ref().and_then(|c| c.capacity_providers.as_deref()).unwrap_or_default(),
    )?;
    let launch_type = capacity.launch_type;
    let mut spec = prepare(ecs, cluster, common!(req), launch_type).await?;
    spec.capacity_provider_name = capacity.capacity_provider;
    let providers = split::assign(&capacity.strategy, &BTreeMap::new(), count as usize);
    let members = capacity::members(ecs, cluster, &capacity.strategy).await?;
    // The task definition's own constraints apply to every task of it.
    let mut policy =
        Policy::from_ecs(&strategy, &constraints, spec.td.placement_constraints.as_deref().unwrap_or_default())
            .map_err(EcsError::InvalidParameter)?;
    policy.seed = random_seed();
    spec.placement_constraints = constraints;
    spec.placement_strategy = strategy;
    spec.platform_version = launch::platform_version(launch_type, req.platform_version);
    let token_key = req.client_token.as_deref().map(|t| keys::client_token(cluster, t));
    let demands = vec![spec.demand.clone(); count as usize];
    commit(ecs, &spec, token_key.as_deref(), |_, snapshots| {
        if !providers.is_empty() {
            return Ok(capacity::place(snapshots, &spec.demand, &policy, &providers, &members));
        }
        capacity::ec2_only(snapshots);
        let placed = berth_scheduler::place_in(snapshots, &demands, &policy);
        if placed.iter().any(|r| r == &Err(PlacementFailure::NoActiveInstances)) {
            return Err(EcsError::NoContainerInstances);
        }
        Ok(placed.into_iter().map(|r| r.map(|p| Placed::on(p.instance, p.gpus)).map_err(failure)).collect())
    })
    .await
}

/// Commits StartTask's task on each instance it names that the task fits; the others
/// are failures (MISSING, INACTIVE, or the resource short).
pub async fn start(ecs: &Ecs, cluster: &str, req: StartTaskRequest) -> Result<(Vec<Task>, Vec<Failure>), EcsError> {
    launch::check_instance_count(req.container_instances.len())?;
    let spec = prepare(ecs, cluster, common!(req), Some(LaunchType::Ec2)).await?;
    let wanted: Vec<(String, Option<String>)> = req
        .container_instances
        .iter()
        .map(|given| (given.clone(), names::instance_id(ecs.scope(), cluster, given)))
        .collect();
    commit(ecs, &spec, None, |records, snapshots| {
        Ok(wanted
            .iter()
            .map(|(given, id)| {
                let missing = || Failure {
                    arn: Some(names::missing_arn(ecs.scope(), given, |id| EcsResource::ContainerInstance {
                        cluster: cluster.to_string(),
                        id,
                    })),
                    reason: Some("MISSING".into()),
                    detail: None,
                };
                let i =
                    id.as_ref().and_then(|id| records.iter().position(|r| &r.value.id() == id)).ok_or_else(missing)?;
                if records[i].value.is_inactive() {
                    return Err(Failure {
                        arn: Some(snapshots[i].arn.clone()),
                        reason: Some(ContainerInstanceRecord::INACTIVE.into()),
                        detail: None,
                    });
                }
                let gpus = berth_scheduler::place_on(&mut snapshots[i], &spec.demand).map_err(|shortfall| Failure {
                    arn: Some(snapshots[i].arn.clone()),
                    reason: Some(shortfall.reason().into()),
                    detail: None,
                })?;
                Ok(Placed::on(i, gpus))
            })
            .collect())
    })
    .await
}
