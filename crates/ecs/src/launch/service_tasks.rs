//! The tasks a service starts: the service controller's placement path, the same
//! preparation and commit as RunTask's.

use super::capacity;
use super::commit::{Placed, commit, failure, random_seed};
use super::prepare::{Common, Launch, prepare};
use crate::{Ecs, EcsError, load, placement_view};
use berth_model::capacity_provider::split;
use berth_model::ecs::{
    CapacityProviderStrategyItem, Deployment, LaunchType, NetworkConfiguration, PlacementConstraint, PlacementStrategy,
    PropagateTags, Service, Tag, Task, TaskDefinition,
};
use berth_model::launch;
use berth_model::task_lifecycle::TaskStatus;
use berth_scheduler::{PlacementFailure, Policy};
use std::collections::BTreeMap;

/// What a service's tasks are started with: one deployment's task definition and the
/// service's launch settings. CreateService/UpdateService check it (`check`) with the
/// same rules RunTask applies; the service controller starts tasks with it through the
/// same placement and commit path as RunTask.
#[derive(Debug, Clone)]
pub struct ServiceTasks {
    pub cluster: String,
    pub service_name: String,
    pub task_definition: String,
    /// The deployment id: the tasks' startedBy.
    pub deployment_id: String,
    pub launch_type: Option<LaunchType>,
    /// The service's capacity provider strategy (empty: none): over Auto Scaling group
    /// providers, or over FARGATE and FARGATE_SPOT (launchType FARGATE: FARGATE alone).
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    pub platform_version: Option<String>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub placement_constraints: Vec<PlacementConstraint>,
    pub placement_strategy: Vec<PlacementStrategy>,
    /// The service's tags (given to the tasks with propagateTags SERVICE).
    pub tags: Vec<Tag>,
    pub propagate_tags: Option<PropagateTags>,
    pub enable_ecs_managed_tags: bool,
    pub enable_execute_command: bool,
}

/// What starting a service's tasks did: the tasks committed, and why the others could
/// not be placed.
#[derive(Debug, Default)]
pub struct Started {
    pub tasks: Vec<Task>,
    pub failures: Vec<PlacementFailure>,
}

impl ServiceTasks {
    /// The launch settings of `service` for its deployment `deployment`.
    pub fn of(cluster: &str, service: &Service, deployment: &Deployment) -> Self {
        ServiceTasks {
            cluster: cluster.to_string(),
            service_name: service.service_name.clone().unwrap_or_default(),
            task_definition: deployment.task_definition.clone().unwrap_or_default(),
            deployment_id: deployment.id.clone().unwrap_or_default(),
            launch_type: service.launch_type.or_else(|| {
                let strategy = service.capacity_provider_strategy.as_ref().filter(|s| !s.is_empty())?;
                let fargate =
                    strategy.iter().all(|i| berth_model::capacity_provider::is_built_in(&i.capacity_provider));
                Some(if fargate { LaunchType::Fargate } else { LaunchType::Ec2 })
            }),
            capacity_provider_strategy: match service.capacity_provider_strategy.as_deref() {
                Some(s) if !s.is_empty() => s.to_vec(),
                _ if service.launch_type == Some(LaunchType::Fargate) => {
                    launch::launch_type(Some(LaunchType::Fargate), &[], &[], &[])
                        .map(|c| c.strategy)
                        .unwrap_or_default()
                }
                _ => vec![],
            },
            platform_version: service.platform_version.clone(),
            network_configuration: service.network_configuration.clone(),
            placement_constraints: service.placement_constraints.clone().unwrap_or_default(),
            placement_strategy: service.placement_strategy.clone().unwrap_or_default(),
            tags: service.tags.clone().unwrap_or_default(),
            propagate_tags: service.propagate_tags,
            enable_ecs_managed_tags: service.enable_ecs_managed_tags.unwrap_or(false),
            enable_execute_command: service.enable_execute_command.unwrap_or(false),
        }
    }

    async fn prepare(&self, ecs: &Ecs) -> Result<(Launch, Policy), EcsError> {
        let (tags, propagate) = match self.propagate_tags {
            Some(PropagateTags::Service) => (Some(self.tags.clone()), None),
            other => (None, other),
        };
        let mut spec = prepare(
            ecs,
            &self.cluster,
            Common {
                task_definition: &self.task_definition,
                inactive_definition_ok: true,
                overrides: None,
                group: Some(berth_model::service::group(&self.service_name)),
                started_by: Some(self.deployment_id.clone()),
                tags,
                network_configuration: self.network_configuration.clone(),
                enable_ecs_managed_tags: Some(self.enable_ecs_managed_tags),
                propagate_tags: propagate,
                enable_execute_command: Some(self.enable_execute_command),
            },
            self.launch_type,
        )
        .await?;
        spec.platform_version = launch::platform_version(self.launch_type, self.platform_version.clone());
        if self.enable_ecs_managed_tags {
            spec.tags.push(Tag { key: Some("aws:ecs:serviceName".into()), value: Some(self.service_name.clone()) });
        }
        let policy = Policy::from_ecs(
            &self.placement_strategy,
            &self.placement_constraints,
            spec.td.placement_constraints.as_deref().unwrap_or_default(),
        )
        .map_err(EcsError::InvalidParameter)?;
        spec.placement_constraints = self.placement_constraints.clone();
        spec.placement_strategy = self.placement_strategy.clone();
        Ok((spec, policy))
    }

    /// Whether tasks could be started with these settings (the task definition exists and
    /// is ACTIVE, the network configuration fits its network mode...): CreateService's and
    /// UpdateService's checks. Returns the task definition.
    pub async fn check(&self, ecs: &Ecs) -> Result<TaskDefinition, EcsError> {
        Ok(self.prepare(ecs).await?.0.td)
    }

    /// Places and commits `count` tasks (REPLICA), as RunTask does. With a capacity
    /// provider strategy, the service's live tasks count in the split, and tasks that do
    /// not fit their provider's instances wait in PROVISIONING.
    pub async fn start(&self, ecs: &Ecs, count: usize) -> Result<Started, EcsError> {
        let (spec, mut policy) = self.prepare(ecs).await?;
        policy.seed = random_seed();
        let demands = vec![spec.demand.clone(); count];
        let mut why = vec![];
        let (providers, members) = if self.capacity_provider_strategy.is_empty() {
            (vec![], capacity::Members::new())
        } else {
            let group = berth_model::service::group(&self.service_name);
            let mut existing: BTreeMap<String, u32> = BTreeMap::new();
            for t in load::tasks(ecs, &self.cluster).await? {
                let task = &t.value.task;
                // Tasks being stopped (an interrupted spot task) are what is replaced: not counted.
                if task.group.as_deref() == Some(group.as_str())
                    && TaskStatus::of(task) != TaskStatus::Stopped
                    && task.desired_status.as_deref() != Some("STOPPED")
                    && let Some(p) = &task.capacity_provider_name
                {
                    *existing.entry(p.clone()).or_default() += 1;
                }
            }
            let providers = split::assign(&self.capacity_provider_strategy, &existing, count);
            (providers, capacity::members(ecs, &self.cluster, &self.capacity_provider_strategy).await?)
        };
        let (tasks, _) = commit(ecs, &spec, None, |_, snapshots| {
            why.clear();
            if !providers.is_empty() {
                return Ok(capacity::place(snapshots, &spec.demand, &policy, &providers, &members));
            }
            capacity::ec2_only(snapshots);
            Ok(berth_scheduler::place_in(snapshots, &demands, &policy)
                .into_iter()
                .map(|r| {
                    r.map(|p| Placed::on(p.instance, p.gpus)).map_err(|f| {
                        why.push(f.clone());
                        failure(f)
                    })
                })
                .collect())
        })
        .await?;
        Ok(Started { tasks, failures: why })
    }

    /// The ids of the cluster's ACTIVE instances that satisfy the service's placement
    /// constraints (and its task definition's): where a DAEMON service runs a task.
    pub async fn eligible(&self, ecs: &Ecs) -> Result<Vec<String>, EcsError> {
        let (_, policy) = self.prepare(ecs).await?;
        let (records, mut snapshots) = placement_view::snapshots(ecs, &self.cluster).await?;
        capacity::ec2_only(&mut snapshots);
        Ok(records
            .iter()
            .zip(&snapshots)
            .filter(|(_, s)| s.active && policy.admits(s))
            .map(|(r, _)| r.value.id())
            .collect())
    }

    /// Starts one task on each of the instances `instance_ids` that it fits (DAEMON).
    pub async fn start_on(&self, ecs: &Ecs, instance_ids: &[String]) -> Result<Started, EcsError> {
        let (spec, _) = self.prepare(ecs).await?;
        let mut why = vec![];
        let (tasks, _) = commit(ecs, &spec, None, |records, snapshots| {
            why.clear();
            Ok(instance_ids
                .iter()
                .filter_map(|id| records.iter().position(|r| &r.value.id() == id))
                .map(|i| {
                    berth_scheduler::place_on(&mut snapshots[i], &spec.demand).map(|gpus| Placed::on(i, gpus)).map_err(
                        |shortfall| {
                            let f =
                                PlacementFailure::Insufficient { instance_arn: snapshots[i].arn.clone(), shortfall };
                            why.push(f.clone());
                            failure(f)
                        },
                    )
                })
                .collect())
        })
        .await?;
        Ok(Started { tasks, failures: why })
    }
}
