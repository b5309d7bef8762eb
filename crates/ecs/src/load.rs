//! A cluster's stored instances and tasks, as the store has them.

use crate::{Ecs, EcsError, names};
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, TaskRecord};
use berth_store::documents::{self, Doc};

/// Every instance record of the cluster (any status), in id order.
pub async fn instances(ecs: &Ecs, cluster: &str) -> Result<Vec<Doc<ContainerInstanceRecord>>, EcsError> {
    Ok(documents::list(ecs.store(), &keys::instances_of(cluster)).await?)
}

/// The instance a caller names by id or ARN, if the cluster has it (any status).
pub async fn instance(ecs: &Ecs, cluster: &str, given: &str) -> Result<Option<Doc<ContainerInstanceRecord>>, EcsError> {
    match names::instance_id(ecs.scope(), cluster, given) {
        Some(id) => Ok(documents::get(ecs.store(), &keys::instance(cluster, &id)).await?),
        None => Ok(None),
    }
}

/// Every task record of the cluster, STOPPED ones included, in id order.
pub async fn tasks(ecs: &Ecs, cluster: &str) -> Result<Vec<Doc<TaskRecord>>, EcsError> {
    Ok(documents::list(ecs.store(), &keys::tasks_of(cluster)).await?)
}
