//! RegisterTaskDefinition: AWS's validation rules and the defaults AWS fills in.
//!
//! `validate` rejects what ECS rejects, with a ClientException message a person can act
//! on (AWS's own wording where it is known). `register` then builds the stored
//! `TaskDefinition` the way `aws ecs describe-task-definition` shows it: the request
//! copied through unchanged, plus the members ECS computes (ARN, revision, status,
//! compatibilities, requiresAttributes, ...) and the defaults it fills in.
//!
//! Pure: no I/O, no clock. The caller allocates the revision and the timestamp.
//!
//! - `resources`: task-level cpu/memory strings ("0.25 vCPU", "1 GB") and Fargate sizes.
//! - `validate`: the rules.
//! - `fargate`: Fargate task sizes and the members only an EC2 host can honour.
//! - `network`, `dependencies`: port mappings and links; dependsOn and its cycles.
//! - `defaults`: building the stored definition.

mod defaults;
mod dependencies;
mod fargate;
mod network;
pub(crate) mod resources;
mod validate;

#[cfg(test)]
mod tests;

use crate::Timestamp;
use crate::arn::Scope;
use crate::ecs::{RegisterTaskDefinitionRequest, TaskDefinition, TaskDefinitionStatus};

pub use resources::{normalize_cpu, normalize_memory};

/// A rule AWS enforces was broken; the message is what the API returns with ClientException.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTaskDefinition(pub String);

impl InvalidTaskDefinition {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        InvalidTaskDefinition(message.into())
    }
}

/// What the store decides about a registration: where it lives, its revision, when and by whom.
#[derive(Debug, Clone)]
pub struct Registration<'a> {
    pub scope: &'a Scope,
    pub revision: i32,
    pub registered_at: Timestamp,
    /// The principal ARN that registered it, as `registeredBy` shows it.
    pub registered_by: String,
}

/// Validates the request as ECS does and builds the stored TaskDefinition with the defaults AWS fills in.
pub fn register(
    req: &RegisterTaskDefinitionRequest,
    reg: &Registration,
) -> Result<TaskDefinition, InvalidTaskDefinition> {
    let checked = validate::check(req)?;
    Ok(defaults::build(req, reg, &checked))
}

/// Same validation without building (used before a revision number is allocated).
pub fn validate(req: &RegisterTaskDefinitionRequest) -> Result<(), InvalidTaskDefinition> {
    validate::check(req).map(|_| ())
}

/// Whether an essential container of `td` defines a health check: the task's health then
/// follows it, as the agent reports it, and services wait for HEALTHY.
pub fn has_health_checks(td: &TaskDefinition) -> bool {
    td.container_definitions.iter().flatten().any(|c| c.essential != Some(false) && c.health_check.is_some())
}

/// Whether tasks may start from a task definition in `status`. A new use (RunTask, StartTask,
/// CreateService, UpdateService naming it) needs an ACTIVE one; an existing service's tasks
/// (`for_existing_service`) also start from an INACTIVE or DELETE_IN_PROGRESS one, as on ECS,
/// where such a service "can still scale up or down by modifying the service's desired count".
pub fn startable(status: Option<TaskDefinitionStatus>, for_existing_service: bool) -> bool {
    match status {
        Some(TaskDefinitionStatus::Active) => true,
        Some(TaskDefinitionStatus::Inactive | TaskDefinitionStatus::DeleteInProgress) => for_existing_service,
        _ => false,
    }
}
