//! Launch templates: which version a `$Latest`, `$Default` or number names, what a
//! version's data says about a launch, and how RunInstances' own parameters override it.

use super::{LaunchTemplateRecord, LaunchTemplateVersion, Tag};
use serde_json::Value;

/// A version that does not exist or a version string that is no version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNotFound(pub String);

/// The version `spec` names: `$Latest`, `$Default`, a number, or (None) the default.
pub fn resolve<'a>(
    template: &'a LaunchTemplateRecord,
    spec: Option<&str>,
) -> Result<&'a LaunchTemplateVersion, VersionNotFound> {
    let number = match spec.unwrap_or("$Default") {
        "$Latest" => template.latest_version_number,
        "$Default" => template.default_version_number,
        text => text.parse::<i64>().map_err(|_| {
            VersionNotFound(format!(
                "The specified launch template version '{text}' is not valid. Specify a version number, $Latest or $Default."
            ))
        })?,
    };
    template.versions.iter().find(|v| v.version_number == number).ok_or_else(|| {
        VersionNotFound(format!(
            "Could not find launch template version {number} for launch template {}",
            template.launch_template_id
        ))
    })
}

/// An IAM instance profile named by ARN or by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileSpec {
    pub arn: Option<String>,
    pub name: Option<String>,
}

/// A member of template data by its botocore name or by the name the form carries it
/// under (lists are sent by their element's name: `SecurityGroupId.1`).
fn member<'a>(data: &'a Value, name: &str, wire: &str) -> Option<&'a Value> {
    data.get(name).or_else(|| data.get(wire))
}

/// What a launch takes from RunInstances' parameters or a template version's data.
/// Every member is optional: explicit parameters win over the template's, member by member.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchParams {
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub key_name: Option<String>,
    pub subnet_id: Option<String>,
    pub availability_zone: Option<String>,
    pub security_group_ids: Vec<String>,
    /// Security groups by name (in the default VPC, as EC2 reads `SecurityGroups`).
    pub security_group_names: Vec<String>,
    pub iam_instance_profile: Option<ProfileSpec>,
    /// base64, as the API carries it.
    pub user_data: Option<String>,
    /// The tags to put on the instances.
    pub tags: Vec<Tag>,
    pub disable_api_termination: Option<bool>,
    pub ebs_optimized: Option<bool>,
    pub monitoring: Option<bool>,
}

impl LaunchParams {
    /// What a version's `RequestLaunchTemplateData` says (in botocore's member names or
    /// the form's: `SecurityGroupIds` or `SecurityGroupId`). Members
    /// that do not bear on a launch (block devices, metadata options, ...) are kept in the
    /// version and described, not read here.
    pub fn from_template_data(data: &Value) -> LaunchParams {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array).map(|a| a.iter().filter_map(text).collect()).unwrap_or_default()
        };
        let nic =
            member(data, "NetworkInterfaces", "NetworkInterface").and_then(Value::as_array).and_then(|a| a.first());
        let mut security_group_ids = strings(member(data, "SecurityGroupIds", "SecurityGroupId"));
        if security_group_ids.is_empty() {
            security_group_ids = strings(nic.and_then(|n| member(n, "Groups", "SecurityGroupId")));
        }
        let tags = member(data, "TagSpecifications", "TagSpecification")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|spec| spec.get("ResourceType").and_then(Value::as_str) == Some("instance"))
            .flat_map(|spec| member(spec, "Tags", "Tag").and_then(Value::as_array).cloned().unwrap_or_default())
            .filter_map(|t| {
                Some(Tag { key: text(t.get("Key")?)?, value: t.get("Value").and_then(text).unwrap_or_default() })
            })
            .collect();
        LaunchParams {
            image_id: data.get("ImageId").and_then(text),
            instance_type: data.get("InstanceType").and_then(text),
            key_name: data.get("KeyName").and_then(text),
            subnet_id: nic.and_then(|n| n.get("SubnetId")).and_then(text),
            availability_zone: data.get("Placement").and_then(|p| p.get("AvailabilityZone")).and_then(text),
            security_group_ids,
            security_group_names: strings(member(data, "SecurityGroups", "SecurityGroup")),
            iam_instance_profile: data
                .get("IamInstanceProfile")
                .map(|p| ProfileSpec { arn: p.get("Arn").and_then(text), name: p.get("Name").and_then(text) }),
            user_data: data.get("UserData").and_then(text),
            tags,
            disable_api_termination: data.get("DisableApiTermination").and_then(Value::as_bool),
            ebs_optimized: data.get("EbsOptimized").and_then(Value::as_bool),
            monitoring: data.get("Monitoring").and_then(|m| m.get("Enabled")).and_then(Value::as_bool),
        }
    }

    /// These parameters over a template's: each member set here wins; security groups
    /// given here replace the template's (ids and names together); tags are merged by
    /// key, these winning.
    pub fn over(self, template: LaunchParams) -> LaunchParams {
        let groups_given = !self.security_group_ids.is_empty() || !self.security_group_names.is_empty();
        let (security_group_ids, security_group_names) = if groups_given {
            (self.security_group_ids, self.security_group_names)
        } else {
            (template.security_group_ids, template.security_group_names)
        };
        let mut tags = template.tags;
        for tag in self.tags {
            tags.retain(|t| t.key != tag.key);
            tags.push(tag);
        }
        LaunchParams {
            image_id: self.image_id.or(template.image_id),
            instance_type: self.instance_type.or(template.instance_type),
            key_name: self.key_name.or(template.key_name),
            subnet_id: self.subnet_id.or(template.subnet_id),
            availability_zone: self.availability_zone.or(template.availability_zone),
            security_group_ids,
            security_group_names,
            iam_instance_profile: self.iam_instance_profile.or(template.iam_instance_profile),
            user_data: self.user_data.or(template.user_data),
            tags,
            disable_api_termination: self.disable_api_termination.or(template.disable_api_termination),
            ebs_optimized: self.ebs_optimized.or(template.ebs_optimized),
            monitoring: self.monitoring.or(template.monitoring),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> LaunchTemplateRecord {
        let version = |n| LaunchTemplateVersion {
            version_number: n,
            version_description: None,
            create_time: 0,
            created_by: "arn:aws:iam::1:root".into(),
            data: json!({"ImageId": format!("ami-{n}")}),
        };
        LaunchTemplateRecord {
            launch_template_id: "lt-0123456789abcdef0".into(),
            launch_template_name: "web".into(),
            create_time: 0,
            created_by: "arn:aws:iam::1:root".into(),
            default_version_number: 1,
            latest_version_number: 3,
            versions: vec![version(1), version(3)],
            tags: vec![],
        }
    }

    #[test]
    fn versions_resolve_by_alias_and_number() {
        let t = template();
        assert_eq!(resolve(&t, None).unwrap().version_number, 1);
        assert_eq!(resolve(&t, Some("$Default")).unwrap().version_number, 1);
        assert_eq!(resolve(&t, Some("$Latest")).unwrap().version_number, 3);
        assert_eq!(resolve(&t, Some("3")).unwrap().version_number, 3);
        assert!(resolve(&t, Some("2")).unwrap_err().0.contains("version 2"));
        assert!(resolve(&t, Some("latest")).is_err());
    }

    #[test]
    fn template_data_is_read_in_botocore_names() {
        let data = json!({
            "ImageId": "ami-1", "InstanceType": "g4dn.xlarge",
            "IamInstanceProfile": {"Name": "ecsInstanceRole"},
            "SecurityGroupIds": ["sg-1"], "UserData": "IyEvYmluL2Jhc2g=",
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "ml"}]},
                {"ResourceType": "volume", "Tags": [{"Key": "v", "Value": "x"}]}
            ],
            "Placement": {"AvailabilityZone": "us-east-1b"}
        });
        let p = LaunchParams::from_template_data(&data);
        assert_eq!(p.image_id.as_deref(), Some("ami-1"));
        assert_eq!(p.iam_instance_profile.unwrap().name.as_deref(), Some("ecsInstanceRole"));
        assert_eq!(p.security_group_ids, vec!["sg-1"]);
        assert_eq!(p.tags, vec![Tag { key: "team".into(), value: "ml".into() }]);
        assert_eq!(p.availability_zone.as_deref(), Some("us-east-1b"));
        let nic = LaunchParams::from_template_data(
            &json!({"NetworkInterfaces": [{"SubnetId": "subnet-1", "Groups": ["sg-2"]}]}),
        );
        assert_eq!((nic.subnet_id.as_deref(), nic.security_group_ids), (Some("subnet-1"), vec!["sg-2".to_string()]));
    }

    #[test]
    fn explicit_parameters_win_member_by_member() {
        let template = LaunchParams {
            image_id: Some("ami-t".into()),
            instance_type: Some("t3.micro".into()),
            security_group_ids: vec!["sg-t".into()],
            tags: vec![Tag { key: "a".into(), value: "t".into() }, Tag { key: "b".into(), value: "t".into() }],
            ..Default::default()
        };
        let explicit = LaunchParams {
            instance_type: Some("m5.large".into()),
            tags: vec![Tag { key: "b".into(), value: "e".into() }],
            ..Default::default()
        };
        let merged = explicit.over(template.clone());
        assert_eq!(merged.image_id.as_deref(), Some("ami-t"));
        assert_eq!(merged.instance_type.as_deref(), Some("m5.large"));
        assert_eq!(merged.security_group_ids, vec!["sg-t"]);
        assert_eq!(merged.tags.iter().map(|t| (&*t.key, &*t.value)).collect::<Vec<_>>(), vec![("a", "t"), ("b", "e")]);
        let named = LaunchParams { security_group_names: vec!["default".into()], ..Default::default() }.over(template);
        assert!(named.security_group_ids.is_empty(), "groups given replace the template's");
    }
}
