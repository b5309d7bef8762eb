//! Auto Scaling's refusals, each with the message Auto Scaling answers; `berth-api`
//! chooses the AWS error code and HTTP status of each variant in one place.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsgError {
    /// `ValidationError`: bad input, or a group, instance or hook that does not exist.
    #[error("{0}")]
    Validation(String),
    /// `AlreadyExists`: a group (or hook) by that name exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// `ResourceInUse`: e.g. deleting a group that still has instances.
    #[error("{0}")]
    ResourceInUse(String),
    /// `ScalingActivityInProgress`: the group is busy (being deleted, or in its cooldown).
    #[error("{0}")]
    ScalingActivityInProgress(String),
    /// `LimitExceeded`: a quota of the account (groups, hooks, policies, tags).
    #[error("{0}")]
    LimitExceeded(String),
    /// `InvalidNextToken`: a NextToken this server did not hand out.
    #[error("{0}")]
    InvalidNextToken(String),
}

impl AsgError {
    pub fn validation(message: impl Into<String>) -> Self {
        AsgError::Validation(message.into())
    }

    /// The group `name` does not exist (or is gone).
    pub fn group_not_found(name: &str) -> Self {
        AsgError::Validation(format!("AutoScalingGroup name not found - AutoScalingGroup '{name}' not found"))
    }

    pub fn group_exists(name: &str) -> Self {
        AsgError::AlreadyExists(format!(
            "AutoScalingGroup by this name already exists - A group with the name {name} already exists"
        ))
    }

    /// The group is being deleted: nothing else may change it.
    pub fn being_deleted(name: &str) -> Self {
        AsgError::ScalingActivityInProgress(format!(
            "The Auto Scaling group {name} is being deleted (Delete in progress): it can no longer be changed."
        ))
    }

    pub fn instance_not_in_group(instance_id: &str, group: &str) -> Self {
        AsgError::Validation(format!("The instance {instance_id} is not part of Auto Scaling group {group}."))
    }

    pub fn instance_not_found(instance_id: &str) -> Self {
        AsgError::Validation(format!(
            "Instance Id not found - No managed instance found for instance ID: {instance_id}"
        ))
    }

    pub fn invalid_next_token() -> Self {
        AsgError::InvalidNextToken(
            "The NextToken is not valid: pass the previous response's NextToken unchanged.".into(),
        )
    }
}
