//! IAM's refusals, each with the message IAM answers; `berth-api` picks the AWS error
//! code and status for each variant in one place.

/// The kinds of entity IAM names in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    User,
    Group,
    Role,
    Policy,
    InstanceProfile,
}

impl Entity {
    /// The word IAM's messages use for the entity.
    pub fn word(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Role => "role",
            Entity::Policy => "policy",
            Entity::InstanceProfile => "instance profile",
        }
    }

    /// The word capitalized, as a message begins with it.
    pub fn title(self) -> &'static str {
        match self {
            Entity::User => "User",
            Entity::Group => "Group",
            Entity::Role => "Role",
            Entity::Policy => "Policy",
            Entity::InstanceProfile => "Instance Profile",
        }
    }

    /// The prefix of the entity's unique id, as AWS writes it.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Entity::User => "AIDA",
            Entity::Group => "AGPA",
            Entity::Role => "AROA",
            Entity::Policy => "ANPA",
            Entity::InstanceProfile => "AIPA",
        }
    }

    /// The resource type in the entity's ARN (`arn:aws:iam::ACCOUNT:role/...`).
    pub fn arn_type(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Role => "role",
            Entity::Policy => "policy",
            Entity::InstanceProfile => "instance-profile",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    /// A member that breaks the model's constraints (length, pattern, range).
    #[error("{0}")]
    Validation(String),
    /// An AWS managed policy or a service-linked role, which callers may not change.
    #[error("{0}")]
    Unmodifiable(String),
    /// A policy only its service may attach (a service-linked role's).
    #[error("{0}")]
    NotAttachable(String),
}

impl IamError {
    /// `The role with name X cannot be found.` (and so for users and groups).
    pub fn no_such(entity: Entity, name: &str) -> Self {
        match entity {
            Entity::InstanceProfile => IamError::NoSuchEntity(format!("Instance Profile {name} cannot be found.")),
            Entity::Policy => IamError::NoSuchEntity(format!("Policy {name} was not found.")),
            _ => IamError::NoSuchEntity(format!("The {} with name {name} cannot be found.", entity.word())),
        }
    }

    /// `Role with name X already exists.` (and so for users and groups).
    pub fn already_exists(entity: Entity, name: &str) -> Self {
        match entity {
            Entity::InstanceProfile => {
                IamError::EntityAlreadyExists(format!("Instance Profile {name} already exists."))
            }
            Entity::Policy => IamError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )),
            _ => IamError::EntityAlreadyExists(format!("{} with name {name} already exists.", entity.title())),
        }
    }

    /// An inline policy the user, group or role does not have.
    pub fn no_such_inline(entity: Entity, policy_name: &str) -> Self {
        IamError::NoSuchEntity(format!("The {} policy with name {policy_name} cannot be found.", entity.word()))
    }

    pub fn delete_conflict(what: &str) -> Self {
        IamError::DeleteConflict(format!("Cannot delete entity, must {what} first."))
    }

    /// `Cannot exceed quota for NAME: N`, as IAM words every quota.
    pub fn quota(name: &str, limit: usize) -> Self {
        IamError::LimitExceeded(format!("Cannot exceed quota for {name}: {limit}"))
    }

    /// The one-line form of the model's constraint failures:
    /// `1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: ...`.
    pub fn constraint(value: &str, member: &str, constraint: &str) -> Self {
        IamError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }
}
