//! ECS's scalable resources (`service/CLUSTER/SERVICE`) and the ARNs Application Auto
//! Scaling writes for targets, policies and scheduled actions.

use super::AasError;
use crate::arn::Scope;

/// The one dimension berth scales.
pub const DESIRED_COUNT: &str = "ecs:service:DesiredCount";

/// The ECS service a resource ID names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceId {
    pub cluster: String,
    pub service: String,
}

impl ServiceId {
    /// `service/CLUSTER/SERVICE`, as AWS requires it for ECS.
    pub fn parse(resource_id: &str) -> Result<Self, AasError> {
        let mut parts = resource_id.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("service"), Some(c), Some(s), None) if !c.is_empty() && !s.is_empty() => {
                Ok(ServiceId { cluster: c.to_string(), service: s.to_string() })
            }
            _ => Err(AasError::Validation(format!(
                "Unsupported resource ID {resource_id}: an ECS service is named service/CLUSTER-NAME/SERVICE-NAME"
            ))),
        }
    }

    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.service)
    }
}

/// `arn:aws:application-autoscaling:REGION:ACCT:scalable-target/ID`.
pub fn target_arn(scope: &Scope, id: &str) -> String {
    format!("arn:aws:application-autoscaling:{}:{}:scalable-target/{id}", scope.region, scope.account)
}

/// `arn:aws:autoscaling:REGION:ACCT:scalingPolicy:UUID:resource/ecs/RESOURCE:policyName/NAME`.
pub fn policy_arn(scope: &Scope, uuid: &str, resource_id: &str, name: &str) -> String {
    format!(
        "arn:aws:autoscaling:{}:{}:scalingPolicy:{uuid}:resource/ecs/{resource_id}:policyName/{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:autoscaling:REGION:ACCT:scheduledAction:UUID:resource/ecs/RESOURCE:scheduledActionName/NAME`.
pub fn scheduled_action_arn(scope: &Scope, uuid: &str, resource_id: &str, name: &str) -> String {
    format!(
        "arn:aws:autoscaling:{}:{}:scheduledAction:{uuid}:resource/ecs/{resource_id}:scheduledActionName/{name}",
        scope.region, scope.account
    )
}

/// The service-linked role ECS targets scale with when RoleARN is not given.
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForApplicationAutoScaling_ECSService";
pub const SERVICE_LINKED_ROLE_PATH: &str = "/aws-service-role/ecs.application-autoscaling.amazonaws.com/";

pub fn service_linked_role_arn(scope: &Scope) -> String {
    format!("arn:aws:iam::{}:role{SERVICE_LINKED_ROLE_PATH}{SERVICE_LINKED_ROLE}", scope.account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_resource_ids() {
        let id = ServiceId::parse("service/default/web").unwrap();
        assert_eq!((id.cluster.as_str(), id.service.as_str()), ("default", "web"));
        assert_eq!(id.resource_id(), "service/default/web");
        for bad in ["service/default", "cluster/a/b", "service/a/b/c", "service//b", ""] {
            assert!(matches!(ServiceId::parse(bad), Err(AasError::Validation(_))), "{bad}");
        }
    }

    #[test]
    fn arns_as_aws_writes_them() {
        let scope = Scope::new("us-east-1", "123456789012");
        assert_eq!(
            policy_arn(&scope, "u-1", "service/c/s", "cpu70"),
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:u-1:resource/ecs/service/c/s:policyName/cpu70"
        );
        assert_eq!(
            service_linked_role_arn(&scope),
            "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
        );
    }
}
