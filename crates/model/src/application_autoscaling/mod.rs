//! Application Auto Scaling for ECS services: the shapes generated from botocore's
//! `application-autoscaling` model, the stored scalable target (with its policies,
//! scheduled actions and activities), the rules AWS checks, the alarms a target tracking
//! policy creates, and the pure decisions of the scaler (target tracking, step
//! adjustments, schedules).

pub mod alarms;
pub mod keys;
pub mod plan;
pub mod records;
pub mod resource;
pub mod rules;
pub mod schedule;
pub mod step;
pub mod tracking;
pub mod zone;

pub use crate::generated::application_autoscaling::*;

/// Why Application Auto Scaling refuses a request; `berth-api` gives each its AWS code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AasError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ObjectNotFound(String),
    #[error("{0}")]
    ConcurrentUpdate(String),
    #[error("{0}")]
    FailedResourceAccess(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("Invalid NextToken: pass the NextToken of the previous response unchanged.")]
    InvalidNextToken,
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    TooManyTags(String),
}

impl AasError {
    /// AWS's answer for a scalable target that is not registered.
    pub fn no_target(resource_id: &str) -> Self {
        AasError::ObjectNotFound(format!(
            "No scalable target registered for service namespace: ecs, resource ID: {resource_id}, scalable dimension: ecs:service:DesiredCount"
        ))
    }
}
