//! IAM's IAM table: an operation is on the entity it names (`UserName`, `GroupName`,
//! `RoleName`, `InstanceProfileName`, `PolicyArn`, in that order: AttachUserPolicy is on the
//! user, with the policy as `iam:PolicyARN`), else on `*` (ListUsers, ListPolicies). A Create
//! names the path it is given; other operations know only the name, so their ARN is written
//! with the root path `/` (a policy naming `user/dev/bob` does not match them).

use crate::authorize::{Ask, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let account = &scope.account;
    let path = text(input, "Path").filter(|_| op.starts_with("Create")).unwrap_or("/");
    let entity = |kind: &str, name: &str| format!("arn:aws:iam::{account}:{kind}{path}{name}");
    let ask = if let Some(user) = text(input, "UserName") {
        Ask::on(entity("user", user))
    } else if let Some(group) = text(input, "GroupName") {
        Ask::on(entity("group", group))
    } else if let Some(role) = text(input, "RoleName") {
        Ask::on(entity("role", role))
    } else if let Some(profile) = text(input, "InstanceProfileName") {
        Ask::on(entity("instance-profile", profile))
    } else if op == "CreatePolicy" {
        Ask::on(entity("policy", text(input, "PolicyName").unwrap_or_default()))
    } else if let Some(source) = text(input, "PolicySourceArn") {
        Ask::on(source)
    } else if let Some(policy) = text(input, "PolicyArn") {
        return Ask::on(policy);
    } else {
        Ask::any()
    };
    let ask = match text(input, "PolicyArn") {
        Some(policy) => ask.key("iam:PolicyARN", policy),
        None => ask,
    };
    let ask = match text(input, "PermissionsBoundary") {
        Some(boundary) => ask.key("iam:PermissionsBoundary", boundary),
        None => ask,
    };
    if op.starts_with("Untag") { ask.tag_keys(input.get("TagKeys")) } else { ask.request_tags(input.get("Tags")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::Target;
    use crate::authorize::testing::query_targets;

    fn targets(form: &str) -> Vec<Target> {
        query_targets(asks, form)
    }

    fn resource(form: &str) -> String {
        targets(form).remove(0).resource
    }

    #[test]
    fn entities_by_name() {
        assert_eq!(resource("Action=CreateUser&UserName=bob&Path=/dev/"), "arn:aws:iam::123456789012:user/dev/bob");
        assert_eq!(resource("Action=PutUserPolicy&UserName=bob"), "arn:aws:iam::123456789012:user/bob");
        assert_eq!(resource("Action=DeleteGroup&GroupName=ops"), "arn:aws:iam::123456789012:group/ops");
        assert_eq!(resource("Action=GetRole&RoleName=r"), "arn:aws:iam::123456789012:role/r");
        assert_eq!(
            resource("Action=GetInstanceProfile&InstanceProfileName=p"),
            "arn:aws:iam::123456789012:instance-profile/p"
        );
        assert_eq!(resource("Action=CreatePolicy&PolicyName=p&Path=/x/"), "arn:aws:iam::123456789012:policy/x/p");
        assert_eq!(resource("Action=GetPolicy&PolicyArn=arn:aws:iam::aws:policy/A"), "arn:aws:iam::aws:policy/A");
        assert_eq!(resource("Action=ListUsers"), "*");
    }

    #[test]
    fn attaching_names_the_policy_as_a_condition_key() {
        let t = targets("Action=AttachRolePolicy&RoleName=r&PolicyArn=arn:aws:iam::aws:policy/A");
        assert_eq!(t[0].resource, "arn:aws:iam::123456789012:role/r");
        assert_eq!(t[0].keys, vec![("iam:PolicyARN".to_string(), vec!["arn:aws:iam::aws:policy/A".to_string()])]);
    }

    #[test]
    fn a_boundary_is_named_as_a_condition_key() {
        let boundary = "arn:aws:iam::123456789012:policy/cap";
        for form in [
            format!("Action=CreateUser&UserName=bob&PermissionsBoundary={boundary}"),
            format!("Action=PutRolePermissionsBoundary&RoleName=r&PermissionsBoundary={boundary}"),
        ] {
            let t = targets(&form);
            assert_eq!(t[0].keys, vec![("iam:PermissionsBoundary".to_string(), vec![boundary.to_string()])]);
        }
        assert!(targets("Action=DeleteUserPermissionsBoundary&UserName=bob")[0].keys.is_empty());
    }

    #[test]
    fn tags_and_tag_keys() {
        let t = targets("Action=TagUser&UserName=bob&Tags.member.1.Key=team&Tags.member.1.Value=a");
        assert!(t[0].keys.contains(&("aws:RequestTag/team".into(), vec!["a".into()])));
        let t = targets("Action=UntagUser&UserName=bob&TagKeys.member.1=team");
        assert_eq!(t[0].keys, vec![("aws:TagKeys".to_string(), vec!["team".to_string()])]);
    }
}
