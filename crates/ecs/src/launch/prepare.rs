//! Everything the tasks of one launch are made of: the task definition, checked against
//! what the call asks for (berth-model's launch rules), and the demand placement works with.

use crate::{Ecs, EcsError, task_definitions};
use berth_model::arn::EcsResource;
use berth_model::demand;
use berth_model::ecs::{
    LaunchType, NetworkConfiguration, PlacementConstraint, PlacementStrategy, PropagateTags, Tag, TaskDefinition,
    TaskOverride,
};
use berth_model::{launch, tags};
use berth_scheduler::Demand;

/// The members RunTask and StartTask share (and a service's tasks).
pub(crate) struct Common<'a> {
    pub(crate) task_definition: &'a str,
    /// A service keeps running (and scaling) its deployments' task definitions after they
    /// are deregistered, as ECS does; RunTask and StartTask need an ACTIVE one.
    pub(crate) inactive_definition_ok: bool,
    pub(crate) overrides: Option<TaskOverride>,
    pub(crate) group: Option<String>,
    pub(crate) started_by: Option<String>,
    pub(crate) tags: Option<Vec<Tag>>,
    pub(crate) network_configuration: Option<NetworkConfiguration>,
    pub(crate) enable_ecs_managed_tags: Option<bool>,
    pub(crate) propagate_tags: Option<PropagateTags>,
    pub(crate) enable_execute_command: Option<bool>,
}

/// Everything the tasks of one call are made of, validated.
pub(crate) struct Launch {
    pub(crate) cluster: String,
    pub(crate) cluster_arn: String,
    pub(crate) td: TaskDefinition,
    pub(crate) overrides: Option<TaskOverride>,
    pub(crate) demand: Demand,
    /// GPUs per container (by name, definition order): how a task's GPU ids are shared out.
    pub(crate) gpus: Vec<(String, u32)>,
    pub(crate) started_by: Option<String>,
    pub(crate) launch_type: Option<LaunchType>,
    pub(crate) capacity_provider_name: Option<String>,
    pub(crate) platform_version: Option<String>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) network_configuration: Option<NetworkConfiguration>,
    pub(crate) placement_constraints: Vec<PlacementConstraint>,
    pub(crate) placement_strategy: Vec<PlacementStrategy>,
    pub(crate) enable_execute_command: bool,
}

pub(crate) async fn prepare(
    ecs: &Ecs,
    cluster: &str,
    c: Common<'_>,
    launch_type: Option<LaunchType>,
) -> Result<Launch, EcsError> {
    let record = task_definitions::runnable(ecs, c.task_definition, c.inactive_definition_ok).await?;
    let td = record.task_definition;
    demand::validate_overrides(&td, c.overrides.as_ref())?;

    launch::check_network(&td, c.network_configuration.as_ref())?;
    launch::check_launch_type(&td, launch_type)?;
    let family = td.family.clone().unwrap_or_default();
    let group = c.group.unwrap_or_else(|| format!("family:{family}"));
    launch::check_group(&group)?;
    if let Some(by) = &c.started_by {
        launch::check_started_by(by)?;
    }

    let given_tags = c.tags.unwrap_or_default();
    tags::validate(&given_tags).map_err(EcsError::InvalidParameter)?;
    let mut task_tags = match c.propagate_tags {
        Some(PropagateTags::TaskDefinition) => {
            tags::merge(&record.tags, &given_tags).map_err(EcsError::InvalidParameter)?
        }
        Some(PropagateTags::Service) => {
            return Err(EcsError::InvalidParameter(
                "propagateTags SERVICE is only valid for tasks a service starts; use TASK_DEFINITION or NONE.".into(),
            ));
        }
        _ => given_tags,
    };
    if c.enable_ecs_managed_tags == Some(true) {
        task_tags.push(Tag { key: Some("aws:ecs:clusterName".into()), value: Some(cluster.to_string()) });
    }

    demand::validate_gpus(&td, c.overrides.as_ref())?;
    let resources = demand::demand(&td, c.overrides.as_ref());
    let gpus = demand::gpus(&td, c.overrides.as_ref());
    Ok(Launch {
        cluster: cluster.to_string(),
        cluster_arn: ecs.scope().ecs(&EcsResource::Cluster(cluster.to_string())),
        overrides: c.overrides,
        demand: Demand { resources, group, gpus: gpus.iter().map(|(_, n)| n).sum() },
        gpus,
        started_by: c.started_by,
        launch_type,
        capacity_provider_name: None,
        platform_version: None,
        tags: task_tags,
        network_configuration: c.network_configuration,
        placement_constraints: vec![],
        placement_strategy: vec![],
        enable_execute_command: c.enable_execute_command.unwrap_or(false),
        td,
    })
}
