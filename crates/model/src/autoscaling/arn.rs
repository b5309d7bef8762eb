//! Auto Scaling's ARNs: a group is
//! `arn:aws:autoscaling:REGION:ACCOUNT:autoScalingGroup:UUID:autoScalingGroupName/NAME`, a
//! scaling policy `...:scalingPolicy:UUID:autoScalingGroupName/NAME:policyName/POLICY`, a
//! lifecycle hook is named by its group and hook names only.

use crate::arn::Scope;

pub fn group(scope: &Scope, uuid: &str, name: &str) -> String {
    format!(
        "arn:aws:autoscaling:{}:{}:autoScalingGroup:{uuid}:autoScalingGroupName/{name}",
        scope.region, scope.account
    )
}

pub fn policy(scope: &Scope, uuid: &str, group: &str, policy: &str) -> String {
    format!(
        "arn:aws:autoscaling:{}:{}:scalingPolicy:{uuid}:autoScalingGroupName/{group}:policyName/{policy}",
        scope.region, scope.account
    )
}

/// The group name a group ARN carries (None when `text` is not a group ARN).
pub fn group_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("arn:aws:autoscaling:")?;
    let (_, resource) = rest.split_once(":autoScalingGroup:")?;
    let (_uuid, name) = resource.split_once(":autoScalingGroupName/")?;
    (!name.is_empty()).then_some(name)
}

/// A group named by its name or by its ARN (as PolicyName and several other members
/// allow): the name.
pub fn name_or_arn(text: &str) -> &str {
    group_name(text).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_arns_carry_their_name() {
        let scope = Scope::new("us-east-1", "123456789012");
        let arn = group(&scope, "0f1e", "my-asg");
        assert_eq!(arn, "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0f1e:autoScalingGroupName/my-asg");
        assert_eq!(group_name(&arn), Some("my-asg"));
        assert_eq!(name_or_arn(&arn), "my-asg");
        assert_eq!(name_or_arn("my-asg"), "my-asg");
        assert_eq!(group_name("arn:aws:ecs:us-east-1:1:cluster/x"), None);
        assert_eq!(
            policy(&scope, "ab", "g", "p"),
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:ab:autoScalingGroupName/g:policyName/p"
        );
    }
}
