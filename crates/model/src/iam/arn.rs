//! IAM ARNs: `arn:aws:iam::ACCOUNT:TYPE` + path + name (`arn:aws:iam::123456789012:role/ecsInstanceRole`),
//! and the AWS managed policies' `arn:aws:iam::aws:policy/...`.

use super::Entity;

/// The account AWS managed policies belong to in their ARNs.
pub const AWS_ACCOUNT: &str = "aws";

pub fn of(account: &str, entity: Entity, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{}{path}{name}", entity.arn_type())
}

/// A managed policy ARN taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyArn<'a> {
    pub account: &'a str,
    pub path: &'a str,
    pub name: &'a str,
}

impl PolicyArn<'_> {
    pub fn is_aws_managed(&self) -> bool {
        self.account == AWS_ACCOUNT
    }
}

/// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`, or None when it is not a policy ARN.
pub fn parse_policy(arn: &str) -> Option<PolicyArn<'_>> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("policy")?;
    if !path_and_name.starts_with('/') {
        return None;
    }
    let cut = path_and_name.rfind('/')? + 1;
    let (path, name) = path_and_name.split_at(cut);
    (!account.is_empty() && !name.is_empty()).then_some(PolicyArn { account, path, name })
}

/// The name at the end of an IAM ARN (a policy's name, as AttachedPolicy shows it).
pub fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_parses_policy_arns() {
        assert_eq!(of("123456789012", Entity::Role, "/", "r"), "arn:aws:iam::123456789012:role/r");
        assert_eq!(of("1", Entity::InstanceProfile, "/a/", "p"), "arn:aws:iam::1:instance-profile/a/p");
        let p = parse_policy("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role").unwrap();
        assert_eq!((p.account, p.path, p.name), ("aws", "/service-role/", "AmazonEC2ContainerServiceforEC2Role"));
        assert!(p.is_aws_managed());
        let p = parse_policy("arn:aws:iam::123456789012:policy/mine").unwrap();
        assert_eq!((p.account, p.path, p.name), ("123456789012", "/", "mine"));
        for bad in ["", "arn:aws:iam::1:role/x", "arn:aws:iam::1:policy/", "arn:aws:iam:::policy/x", "nope"] {
            assert!(parse_policy(bad).is_none(), "{bad}");
        }
        assert_eq!(name_of("arn:aws:iam::aws:policy/a/b"), "b");
    }
}
