//! EC2's IAM table (actions `ec2:...`), resources as the Service Authorization Reference
//! names them: `instance/ID`, `security-group/ID`, `vpc/ID`, `subnet/ID`,
//! `launch-template/ID`, `key-pair/NAME`, `image/ID` (images have no account); a Create on
//! `TYPE/*`; Describe* on `*`. RunInstances asks for the instance, the image, and the
//! subnet, groups and template it names. The input is the form as a tree, lists resolved.

use crate::authorize::{Ask, strings, text};
use crate::protocol::ec2::lists;
use berth_model::arn::Scope;
use berth_model::ec2::ids;
use serde_json::Value;

fn ec2(scope: &Scope, resource: &str) -> String {
    crate::authorize::arn(scope, "ec2", resource)
}

/// The ARN of the resource an id names, by its prefix.
fn arn_of(scope: &Scope, id: &str) -> String {
    let kind = [
        (ids::INSTANCE, "instance"),
        (ids::VPC, "vpc"),
        (ids::SUBNET, "subnet"),
        (ids::SECURITY_GROUP, "security-group"),
        (ids::LAUNCH_TEMPLATE, "launch-template"),
        (ids::KEY_PAIR, "key-pair"),
    ]
    .iter()
    .find(|(prefix, _)| ids::well_formed(prefix, id))
    .map_or("*", |(_, kind)| kind);
    if id.starts_with("ami-") {
        return format!("arn:aws:ec2:{}::image/{id}", scope.region);
    }
    ec2(scope, &format!("{kind}/{id}"))
}

/// The TagSpecifications' tags, as `aws:RequestTag` reads them (`[{Key, Value}]`).
fn spec_tags(input: &Value) -> Option<Value> {
    let tags: Vec<Value> = input
        .get("TagSpecification")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| s.get("Tag").and_then(Value::as_array).cloned().unwrap_or_default())
        .collect();
    (!tags.is_empty()).then_some(Value::Array(tags))
}

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let input = &lists(input.clone());
    let tags = spec_tags(input);
    let on_id = |member: &str, kind: &str| match text(input, member) {
        Some(id) => Ask::on(ec2(scope, &format!("{kind}/{id}"))),
        None => Ask::on(ec2(scope, &format!("{kind}/*"))),
    };
    match op {
        "RunInstances" => {
            let mut resources = vec![ec2(scope, "instance/*")];
            resources.extend(text(input, "ImageId").map(|id| arn_of(scope, id)));
            resources.extend(text(input, "SubnetId").map(|id| arn_of(scope, id)));
            resources.extend(strings(input.get("SecurityGroupId")).iter().map(|id| arn_of(scope, id)));
            let template = input.get("LaunchTemplate");
            resources.extend(template.and_then(|t| text(t, "LaunchTemplateId")).map(|id| arn_of(scope, id)));
            Ask::each(resources).request_tags(tags.as_ref())
        }
        "TerminateInstances" | "StopInstances" | "StartInstances" => {
            Ask::each(strings(input.get("InstanceId")).iter().map(|id| arn_of(scope, id)))
        }
        "CreateVpc" => Ask::on(ec2(scope, "vpc/*")).request_tags(tags.as_ref()),
        "DeleteVpc" => on_id("VpcId", "vpc"),
        "CreateSubnet" => {
            let mut resources = vec![ec2(scope, "subnet/*")];
            resources.extend(text(input, "VpcId").map(|id| arn_of(scope, id)));
            Ask::each(resources).request_tags(tags.as_ref())
        }
        "DeleteSubnet" => on_id("SubnetId", "subnet"),
        "CreateSecurityGroup" => {
            let mut resources = vec![ec2(scope, "security-group/*")];
            resources.extend(text(input, "VpcId").map(|id| arn_of(scope, id)));
            Ask::each(resources).request_tags(tags.as_ref())
        }
        "DeleteSecurityGroup"
        | "AuthorizeSecurityGroupIngress"
        | "AuthorizeSecurityGroupEgress"
        | "RevokeSecurityGroupIngress"
        | "RevokeSecurityGroupEgress" => on_id("GroupId", "security-group"),
        "CreateLaunchTemplate" => Ask::on(ec2(scope, "launch-template/*")).request_tags(tags.as_ref()),
        "CreateLaunchTemplateVersion" | "ModifyLaunchTemplate" | "DeleteLaunchTemplate" => {
            on_id("LaunchTemplateId", "launch-template")
        }
        "CreateKeyPair" | "ImportKeyPair" | "DeleteKeyPair" => on_id("KeyName", "key-pair").request_tags(tags.as_ref()),
        "CreateTags" => Ask::each(strings(input.get("ResourceId")).iter().map(|id| arn_of(scope, id)))
            .request_tags(input.get("Tag")),
        "DeleteTags" => {
            let keys: Vec<Value> = input
                .get("Tag")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("Key").cloned())
                .collect();
            Ask::each(strings(input.get("ResourceId")).iter().map(|id| arn_of(scope, id)))
                .tag_keys(Some(&Value::Array(keys)))
        }
        // Describe*.
        _ => Ask::any(),
    }
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
        let p = "arn:aws:ec2:us-east-1:123456789012:";
        assert_eq!(
            resources("Action=TerminateInstances&InstanceId.1=i-0123456789abcdef0&InstanceId.2=i-1234abcd"),
            [format!("{p}instance/i-0123456789abcdef0"), format!("{p}instance/i-1234abcd")]
        );
        assert_eq!(
            resources("Action=RunInstances&ImageId=ami-0a3c14e1ddbe7f23c&SecurityGroupId.1=sg-0123456789abcdef0"),
            [
                format!("{p}instance/*"),
                "arn:aws:ec2:us-east-1::image/ami-0a3c14e1ddbe7f23c".to_string(),
                format!("{p}security-group/sg-0123456789abcdef0")
            ]
        );
        assert_eq!(
            resources("Action=AuthorizeSecurityGroupIngress&GroupId=sg-1234abcd"),
            [format!("{p}security-group/sg-1234abcd")]
        );
        assert_eq!(resources("Action=DescribeInstances"), ["*"]);
    }

    #[test]
    fn creates_carry_request_tags() {
        let t = query_targets(
            asks,
            "Action=CreateVpc&CidrBlock=10.0.0.0/16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=env&TagSpecification.1.Tag.1.Value=prod",
        );
        assert!(t[0].keys.contains(&("aws:RequestTag/env".into(), vec!["prod".into()])));
    }
}
