//! Service-linked roles: the role a service creates for itself, at
//! `/aws-service-role/<service>/`, trusting only that service, with its managed policy.

use super::IamError;

/// The role CreateServiceLinkedRole makes for a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRole {
    pub role_name: String,
    pub path: String,
    pub trust_policy: String,
    pub policy_arn: String,
    pub description: String,
}

/// The services berth makes service-linked roles for: (service, role name, policy, description).
const SERVICES: &[(&str, &str, &str, &str)] = &[
    (
        "ecs.amazonaws.com",
        "AWSServiceRoleForECS",
        super::managed::ECS_SERVICE_ROLE_POLICY,
        "Role to enable Amazon ECS to manage your cluster.",
    ),
    (
        "autoscaling.amazonaws.com",
        "AWSServiceRoleForAutoScaling",
        super::managed::AUTOSCALING_SERVICE_ROLE_POLICY,
        "Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling",
    ),
];

/// The role for `service` (with `suffix` appended to its name, `_suffix`, where given).
pub fn for_service(service: &str, suffix: Option<&str>) -> Result<LinkedRole, IamError> {
    let Some((service, name, policy, description)) = SERVICES.iter().find(|(s, ..)| *s == service) else {
        return Err(IamError::InvalidInput(format!(
            "Service role name for service {service} is not supported: berth makes service-linked roles for {}.",
            SERVICES.iter().map(|(s, ..)| *s).collect::<Vec<_>>().join(", ")
        )));
    };
    if suffix.is_some() {
        return Err(IamError::InvalidInput(format!("Custom suffix is not allowed for {service}.")));
    }
    Ok(LinkedRole {
        role_name: (*name).to_string(),
        path: format!("/aws-service-role/{service}/"),
        trust_policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        policy_arn: (*policy).to_string(),
        description: (*description).to_string(),
    })
}

/// IAM's answer when the service's role exists already.
pub fn name_taken(role_name: &str) -> IamError {
    IamError::InvalidInput(format!(
        "Service role name {role_name} has been taken in this account, please try a different suffix."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_gets_its_role_at_the_service_path() {
        let r = for_service("ecs.amazonaws.com", None).unwrap();
        assert_eq!(r.role_name, "AWSServiceRoleForECS");
        assert_eq!(r.path, "/aws-service-role/ecs.amazonaws.com/");
        super::super::document::check(&r.trust_policy, super::super::document::PolicyKind::Trust).unwrap();
        assert!(super::super::managed::find(&r.policy_arn).is_some());
        assert!(matches!(for_service("nope.amazonaws.com", None), Err(IamError::InvalidInput(_))));
        assert!(for_service("ecs.amazonaws.com", Some("x")).is_err());
        let asg = for_service("autoscaling.amazonaws.com", None).unwrap();
        assert_eq!(asg.path, "/aws-service-role/autoscaling.amazonaws.com/");
        assert!(super::super::managed::find(&asg.policy_arn).is_some());
    }
}
