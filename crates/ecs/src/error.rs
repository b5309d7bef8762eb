//! What ECS's domain operations refuse or fail with. berth-api turns each into an AWS
//! error (code, status, message) in `api/src/error.rs`, nowhere else.

use berth_store::StoreError;
use berth_store::documents::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum EcsError {
    /// The request breaks a rule (InvalidParameterException with this message).
    #[error("{0}")]
    InvalidParameter(String),
    /// ECS's ClientException with this message (task definitions named badly or missing).
    #[error("{0}")]
    Client(String),
    /// A cluster ARN of another region, partition or account.
    #[error("Cluster not found.")]
    ClusterNotFound,
    /// A task id or ARN the cluster does not have.
    #[error("The referenced task was not found.")]
    TaskNotFound,
    /// A container instance id or ARN the cluster does not have.
    #[error("The referenced container instance was not found.")]
    InstanceNotFound,
    /// RunTask in a cluster without an ACTIVE container instance.
    #[error("No Container Instances were found in your cluster.")]
    NoContainerInstances,
    /// A commit lost every compare-and-swap race (a server fault).
    #[error("gave up on {0} after conflicting writes")]
    Contended(String),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl From<StoreError> for EcsError {
    fn from(e: StoreError) -> Self {
        EcsError::Document(e.into())
    }
}

impl From<berth_model::launch::Invalid> for EcsError {
    fn from(e: berth_model::launch::Invalid) -> Self {
        EcsError::InvalidParameter(e.0)
    }
}

impl From<berth_model::task_lifecycle::InvalidTransition> for EcsError {
    fn from(e: berth_model::task_lifecycle::InvalidTransition) -> Self {
        EcsError::InvalidParameter(e.0)
    }
}

impl From<berth_model::demand::InvalidOverride> for EcsError {
    fn from(e: berth_model::demand::InvalidOverride) -> Self {
        EcsError::InvalidParameter(e.0)
    }
}
