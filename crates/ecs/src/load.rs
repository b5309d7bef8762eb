//! A cluster's stored instances and tasks, as the store has them.

use crate::{Ecs, EcsError, names};
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, TaskRecord};
use berth_store::documents::{self, Doc};

/// Every instance record of the cluster (any status) that ECS shows, in id order.
pub async fn instances(ecs: &Ecs, cluster: &str) -> Result<Vec<Doc<ContainerInstanceRecord>>, EcsError> {
    let mut all = all_instances(ecs, cluster).await?;
    all.retain(|d| !berth_model::fargate::is_pool(&d.value));
    Ok(all)
}

/// The cluster's instances with the hosts' Fargate pool agents, which `instances` (what
/// ECS shows) leaves out: placement and the agents' own calls see them.
pub async fn all_instances(ecs: &Ecs, cluster: &str) -> Result<Vec<Doc<ContainerInstanceRecord>>, EcsError> {
    Ok(documents::list(ecs.store(), &keys::instances_of(cluster)).await?)
}

/// The instance a caller names by id or ARN, if the cluster has it (any status).
pub async fn instance(ecs: &Ecs, cluster: &str, given: &str) -> Result<Option<Doc<ContainerInstanceRecord>>, EcsError> {
    match names::instance_id(ecs.scope(), cluster, given) {
        Some(id) => Ok(documents::get::<ContainerInstanceRecord>(ecs.store(), &keys::instance(cluster, &id))
            .await?
            .filter(|d| !berth_model::fargate::is_pool(&d.value))),
        None => Ok(None),
    }
}

/// Every task record of the cluster, STOPPED ones included, in id order.
pub async fn tasks(ecs: &Ecs, cluster: &str) -> Result<Vec<Doc<TaskRecord>>, EcsError> {
    Ok(documents::list(ecs.store(), &keys::tasks_of(cluster)).await?)
}
