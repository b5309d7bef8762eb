//! Elastic Load Balancing v2's IAM table (actions `elasticloadbalancing:...`): an operation
//! on a load balancer, target group, listener or rule is on its ARN, a Create on the ARN the
//! new one will have (its id a `*`), listener and rule creation on their parent; Describe*
//! and the account's limits on `*`. The input is the query form as a tree.

use crate::authorize::{Ask, arn, strings, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let tags = input.get("Tags");
    match op {
        "CreateLoadBalancer" => {
            let kind = if text(input, "Type") == Some("network") { "net" } else { "app" };
            let name = text(input, "Name").unwrap_or_default();
            Ask::on(arn(scope, "elasticloadbalancing", &format!("loadbalancer/{kind}/{name}/*"))).request_tags(tags)
        }
        "CreateTargetGroup" => {
            let name = text(input, "Name").unwrap_or_default();
            Ask::on(arn(scope, "elasticloadbalancing", &format!("targetgroup/{name}/*"))).request_tags(tags)
        }
        "CreateListener" => named(input, "LoadBalancerArn").request_tags(tags),
        "CreateRule" => named(input, "ListenerArn").request_tags(tags),
        "AddTags" => Ask::each(strings(input.get("ResourceArns"))).request_tags(tags),
        "RemoveTags" => Ask::each(strings(input.get("ResourceArns"))).tag_keys(input.get("TagKeys")),
        "DeleteLoadBalancer" | "ModifyLoadBalancerAttributes" => named(input, "LoadBalancerArn"),
        "ModifyTargetGroup"
        | "DeleteTargetGroup"
        | "ModifyTargetGroupAttributes"
        | "RegisterTargets"
        | "DeregisterTargets" => named(input, "TargetGroupArn"),
        "ModifyListener" | "DeleteListener" => named(input, "ListenerArn"),
        "ModifyRule" | "DeleteRule" => named(input, "RuleArn"),
        // Describe*, SetRulePriorities, DescribeAccountLimits.
        _ => Ask::any(),
    }
}

fn named(input: &Value, member: &str) -> Ask {
    Ask::each(text(input, member).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::testing::{query_targets, resources as of};

    fn resources(form: &str) -> Vec<String> {
        of(query_targets(asks, form))
    }

    #[test]
    fn resources_from_the_form() {
        assert_eq!(
            resources("Action=CreateLoadBalancer&Name=web"),
            ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/*"]
        );
        assert_eq!(
            resources("Action=CreateTargetGroup&Name=tg"),
            ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/*"]
        );
        assert_eq!(resources("Action=DeleteTargetGroup&TargetGroupArn=arn%3Ax"), ["arn:x"]);
        assert_eq!(
            resources("Action=AddTags&ResourceArns.member.1=arn%3Aa&ResourceArns.member.2=arn%3Ab"),
            ["arn:a", "arn:b"]
        );
        assert_eq!(resources("Action=DescribeLoadBalancers"), ["*"]);
    }

    #[test]
    fn create_carries_request_tags() {
        let t = query_targets(asks, "Action=CreateTargetGroup&Name=tg&Tags.member.1.Key=env&Tags.member.1.Value=prod");
        assert!(t[0].keys.contains(&("aws:RequestTag/env".into(), vec!["prod".into()])));
    }
}
