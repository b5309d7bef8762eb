//! Auto Scaling's IAM table (actions `autoscaling:...`): an operation naming a group is on
//! the group's ARN with its uuid a `*` (`...:autoScalingGroup:*:autoScalingGroupName/NAME`),
//! as the Service Authorization Reference writes it; a Create carries its request tags;
//! Describe* and the account's operations are on `*`. Also the service-linked role a
//! group acts as, created on the first group.

use crate::authorize::{Ask, text};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::arn::Scope;
use berth_model::autoscaling::arn::name_or_arn;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let group = |name: &str| {
        format!(
            "arn:aws:autoscaling:{}:{}:autoScalingGroup:*:autoScalingGroupName/{}",
            scope.region,
            scope.account,
            name_or_arn(name)
        )
    };
    if op.starts_with("Describe") {
        return Ask::any();
    }
    if matches!(op, "CreateOrUpdateTags" | "DeleteTags") {
        let names: Vec<String> = input
            .get("Tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(|t| text(t, "ResourceId")).map(group).collect())
            .unwrap_or_default();
        return Ask::each(names);
    }
    match text(input, "AutoScalingGroupName") {
        Some(name) if op == "CreateAutoScalingGroup" => Ask::on(group(name)).request_tags(input.get("Tags")),
        Some(name) => Ask::on(group(name)),
        // TerminateInstanceInAutoScalingGroup and SetInstanceHealth name only an instance.
        None => Ask::any(),
    }
}

/// Auto Scaling's service-linked role (`AWSServiceRoleForAutoScaling`), created if absent.
pub(super) async fn ensure_linked_role(ctx: &Ctx) -> Result<String, AwsError> {
    crate::services::iam::ensure_service_linked(ctx, super::groups::LINKED_ROLE_SERVICE).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::testing::{query_targets, resources as of};

    fn resources(form: &str) -> Vec<String> {
        of(query_targets(asks, form))
    }

    #[test]
    fn groups_are_named_by_their_arn() {
        let arn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web";
        assert_eq!(resources("Action=CreateAutoScalingGroup&AutoScalingGroupName=web&MinSize=1&MaxSize=2"), [arn]);
        assert_eq!(resources("Action=SetDesiredCapacity&AutoScalingGroupName=web&DesiredCapacity=1"), [arn]);
        assert_eq!(resources("Action=CreateOrUpdateTags&Tags.member.1.ResourceId=web&Tags.member.1.Key=k"), [arn]);
        assert_eq!(resources("Action=DescribeAutoScalingGroups"), ["*"]);
    }
}
