//! The AWS managed policies berth knows (`arn:aws:iam::aws:policy/...`), kept as data in
//! `managed/*.json` (name, path, id, description, default version, dates, document).
//! They are served by GetPolicy, ListPolicies and GetPolicyVersion without being stored;
//! nobody can change or delete them.

use super::{Policy, PolicyVersion, arn, document};
use crate::Timestamp;
use serde::Deserialize;
use std::sync::OnceLock;

const FILES: &[(&str, &str)] = &[
    ("AdministratorAccess", include_str!("managed/AdministratorAccess.json")),
    ("ReadOnlyAccess", include_str!("managed/ReadOnlyAccess.json")),
    ("AmazonECSTaskExecutionRolePolicy", include_str!("managed/AmazonECSTaskExecutionRolePolicy.json")),
    ("AmazonEC2ContainerServiceforEC2Role", include_str!("managed/AmazonEC2ContainerServiceforEC2Role.json")),
    ("AmazonECS_FullAccess", include_str!("managed/AmazonECS_FullAccess.json")),
    ("AmazonEC2ContainerRegistryReadOnly", include_str!("managed/AmazonEC2ContainerRegistryReadOnly.json")),
    ("AmazonEC2ContainerRegistryPowerUser", include_str!("managed/AmazonEC2ContainerRegistryPowerUser.json")),
    ("AmazonEC2ContainerRegistryFullAccess", include_str!("managed/AmazonEC2ContainerRegistryFullAccess.json")),
    ("CloudWatchLogsFullAccess", include_str!("managed/CloudWatchLogsFullAccess.json")),
    ("AmazonSSMReadOnlyAccess", include_str!("managed/AmazonSSMReadOnlyAccess.json")),
    ("AmazonECSServiceRolePolicy", include_str!("managed/AmazonECSServiceRolePolicy.json")),
    ("AutoScalingServiceRolePolicy", include_str!("managed/AutoScalingServiceRolePolicy.json")),
];

/// The managed policy that CreateServiceLinkedRole attaches to ECS's service-linked role.
pub const ECS_SERVICE_ROLE_POLICY: &str = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy";

/// The managed policy of Auto Scaling's service-linked role.
pub const AUTOSCALING_SERVICE_ROLE_POLICY: &str =
    "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy";

/// One AWS managed policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AwsPolicy {
    #[serde(rename = "PolicyName")]
    pub name: String,
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "PolicyId")]
    pub id: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "DefaultVersionId")]
    pub default_version_id: String,
    #[serde(rename = "CreateDate", with = "crate::timestamp::iso8601")]
    pub create_date: Timestamp,
    #[serde(rename = "UpdateDate", with = "crate::timestamp::iso8601")]
    pub update_date: Timestamp,
    /// False for service-linked role policies, which only their service attaches.
    #[serde(rename = "IsAttachable")]
    pub is_attachable: bool,
    #[serde(rename = "Document")]
    pub document: serde_json::Value,
}

impl AwsPolicy {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:policy{}{}", arn::AWS_ACCOUNT, self.path, self.name)
    }

    /// The policy as GetPolicy and ListPolicies answer it.
    pub fn shape(&self, attachment_count: i32) -> Policy {
        Policy {
            policy_name: Some(self.name.clone()),
            policy_id: Some(self.id.clone()),
            arn: Some(self.arn()),
            path: Some(self.path.clone()),
            default_version_id: Some(self.default_version_id.clone()),
            attachment_count: Some(attachment_count),
            permissions_boundary_usage_count: Some(0),
            is_attachable: Some(self.is_attachable),
            description: Some(self.description.clone()),
            create_date: Some(self.create_date),
            update_date: Some(self.update_date),
            tags: None,
        }
    }

    /// Its one version berth serves, the default (document URL-encoded, as IAM answers).
    pub fn version(&self) -> PolicyVersion {
        PolicyVersion {
            document: Some(document::url_encode(&self.document.to_string())),
            version_id: Some(self.default_version_id.clone()),
            is_default_version: Some(true),
            create_date: Some(self.update_date),
        }
    }
}

/// Every AWS managed policy berth knows, in name order.
pub fn all() -> &'static [AwsPolicy] {
    static ALL: OnceLock<Vec<AwsPolicy>> = OnceLock::new();
    ALL.get_or_init(|| {
        // The files are part of the build and checked by the tests below; one that does
        // not parse is left out rather than taking the server down.
        let mut all: Vec<AwsPolicy> = FILES.iter().filter_map(|(_, json)| serde_json::from_str(json).ok()).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    })
}

/// The AWS managed policy with ARN `policy_arn`.
pub fn find(policy_arn: &str) -> Option<&'static AwsPolicy> {
    all().iter().find(|p| p.arn() == policy_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_is_a_valid_identity_policy() {
        for (name, json) in FILES {
            let p: AwsPolicy = serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
            document::check(&p.document.to_string(), document::PolicyKind::Identity).unwrap();
            assert!(p.id.starts_with("ANPA"));
        }
        assert_eq!(all().len(), FILES.len());
    }

    #[test]
    fn finds_policies_by_arn() {
        let p = find("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role").unwrap();
        assert!(p.document.to_string().contains("ecs:RegisterContainerInstance"));
        assert!(find("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy").is_some());
        assert!(find("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(!find(ECS_SERVICE_ROLE_POLICY).unwrap().is_attachable);
        assert!(find("arn:aws:iam::aws:policy/Nope").is_none());
    }
}
