//! Turning what a caller names (a name or an ARN) into the names keys are made of.

use crate::EcsError;
use berth_model::arn::{Arn, EcsResource, Scope};

/// Cluster names and task definition families: 1–255 letters, digits, `-` and `_`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=255).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A cluster given by name or ARN (absent: `default`, as ECS does). Only checks the form;
/// whether it exists is the caller's question.
pub fn cluster_name(scope: &Scope, given: Option<&str>) -> Result<String, EcsError> {
    let given = given.unwrap_or("default");
    let name = if given.starts_with("arn:") {
        let parsed = Arn::parse(given).and_then(|a| a.ecs_resource());
        match (scope.ecs_resource(given), parsed) {
            (Some(EcsResource::Cluster(name)), _) => name,
            // A cluster ARN of another region, partition or account: no such cluster here.
            (None, Some(EcsResource::Cluster(_))) => return Err(EcsError::ClusterNotFound),
            _ => {
                return Err(EcsError::InvalidParameter(format!(
                    "'{given}' is not a cluster ARN of this account \
                     (arn:aws:ecs:{}:{}:cluster/NAME).",
                    scope.region, scope.account
                )));
            }
        }
    } else {
        given.to_string()
    };
    if !is_valid_name(&name) {
        return Err(EcsError::InvalidParameter(format!(
            "Cluster name '{name}' is invalid: use 1 to 255 letters, numbers, hyphens and underscores."
        )));
    }
    Ok(name)
}

/// A task definition as `family`, `family:revision` or its full ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionRef {
    pub family: String,
    pub revision: Option<i32>,
}

pub fn task_definition(scope: &Scope, given: &str) -> Result<TaskDefinitionRef, EcsError> {
    let invalid = || {
        EcsError::Client(format!(
            "Invalid task definition '{given}': use FAMILY, FAMILY:REVISION or \
             arn:aws:ecs:{}:{}:task-definition/FAMILY:REVISION.",
            scope.region, scope.account
        ))
    };
    let spec = if given.starts_with("arn:") {
        let arn = scope.resolve(given, "ecs");
        arn.and_then(|a| a.resource.strip_prefix("task-definition/")).ok_or_else(invalid)?
    } else {
        given
    };
    let (family, revision) = match spec.rsplit_once(':') {
        Some((family, rev)) => {
            let rev: i32 = rev.parse().ok().filter(|r| *r > 0).ok_or_else(invalid)?;
            (family, Some(rev))
        }
        None => (spec, None),
    };
    if !is_valid_name(family) {
        return Err(invalid());
    }
    Ok(TaskDefinitionRef { family: family.to_string(), revision })
}

/// A container instance named by its id or ARN (the cluster-qualified form, or the
/// older `container-instance/ID`), as the id its key is made of. None when it cannot be
/// one of `cluster`'s: malformed, or another cluster's, region's, partition's or account's ARN.
pub fn instance_id(scope: &Scope, cluster: &str, given: &str) -> Option<String> {
    object_id(scope, cluster, given, "container-instance")
}

/// A task named by its id or ARN, as `instance_id` does for instances.
pub fn task_id(scope: &Scope, cluster: &str, given: &str) -> Option<String> {
    object_id(scope, cluster, given, "task")
}

fn object_id(scope: &Scope, cluster: &str, given: &str, kind: &str) -> Option<String> {
    let id = if given.starts_with("arn:") {
        let arn = scope.resolve(given, "ecs")?;
        let rest = arn.resource.strip_prefix(kind)?.strip_prefix('/')?;
        match rest.split_once('/') {
            Some((c, id)) if c == cluster => id,
            Some(_) => return None,
            None => rest,
        }
    } else {
        given
    };
    is_valid_id(id).then(|| id.to_string())
}

/// Ids berth hands out are 32 hex digits; anything of letters, digits and `-` is looked up.
fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The ARN a Describe* failure reports for something asked for but not found.
pub fn missing_arn(scope: &Scope, given: &str, resource: impl FnOnce(String) -> EcsResource) -> String {
    if given.starts_with("arn:") { given.to_string() } else { scope.ecs(&resource(given.to_string())) }
}

/// A fresh object id as ECS writes them: 32 lowercase hex digits.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_ecs_charset() {
        assert!(is_valid_name("web-app_1"));
        assert!(is_valid_name(&"a".repeat(255)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name(&"a".repeat(256)));
        for bad in ["a/b", "a b", "a:b", "ü", "a.b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
