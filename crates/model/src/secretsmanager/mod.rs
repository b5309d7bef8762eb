//! Secrets Manager: the shapes generated from botocore's `secretsmanager` model
//! (`crate::generated::secretsmanager`), names and ARNs with AWS's random suffix, the
//! stored record with its versions and staging labels, and the `valueFrom` references
//! ECS task definitions make to secrets and parameters.

pub mod keys;
pub mod names;
pub mod records;
pub mod value_from;

pub use crate::generated::secretsmanager::*;

pub const AWSCURRENT: &str = "AWSCURRENT";
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";

/// Why Secrets Manager refuses a request; `berth-api` picks the AWS code for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    #[error("Secrets Manager can't find the specified secret.")]
    NotFound,
    #[error("Secrets Manager can't find the specified secret value for {0}")]
    ValueNotFound(String),
    #[error("The operation failed because the secret {0} already exists.")]
    Exists(String),
    #[error("You can't modify an existing version, you can only create new versions.")]
    VersionExists,
    #[error("You can't perform this operation on the secret because it was marked for deletion.")]
    MarkedForDeletion,
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Validation(String),
}
