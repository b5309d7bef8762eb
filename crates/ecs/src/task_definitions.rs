//! Finding the task definition a caller names.

use crate::{Ecs, EcsError, names};
use berth_model::ecs::TaskDefinitionStatus;
use berth_model::records::TaskDefinitionRecord;
use berth_model::{keys, taskdef};
use berth_store::documents::{self, Doc};

/// The task definition a caller names: a given revision, or the family's latest ACTIVE one.
pub async fn find(ecs: &Ecs, given: &str) -> Result<Doc<TaskDefinitionRecord>, EcsError> {
    let wanted = names::task_definition(ecs.scope(), given)?;
    let found = match wanted.revision {
        Some(rev) => documents::get::<TaskDefinitionRecord>(ecs.store(), &keys::taskdef(&wanted.family, rev)).await?,
        None => documents::list::<TaskDefinitionRecord>(ecs.store(), &keys::taskdefs_of(&wanted.family))
            .await?
            .into_iter()
            .rev()
            .find(|d| d.value.task_definition.status == Some(TaskDefinitionStatus::Active)),
    };
    found.ok_or_else(|| EcsError::Client("Unable to describe task definition.".into()))
}

/// The task definition RunTask/StartTask/CreateService names, which must be ACTIVE (or, for an
/// existing service's tasks, `for_existing_service`, INACTIVE or DELETE_IN_PROGRESS too:
/// `berth_model::taskdef::startable`).
pub async fn runnable(ecs: &Ecs, given: &str, for_existing_service: bool) -> Result<TaskDefinitionRecord, EcsError> {
    names::task_definition(ecs.scope(), given)?;
    let doc = match find(ecs, given).await {
        Err(EcsError::Client(_)) => return Err(EcsError::Client("TaskDefinition not found.".into())),
        other => other?,
    };
    if !taskdef::startable(doc.value.task_definition.status, for_existing_service) {
        return Err(EcsError::InvalidParameter("TaskDefinition is inactive".into()));
    }
    Ok(doc.value)
}
