//! What a launch names, checked and looked up as EC2 does, each refusal in EC2's code:
//! the image, the instance type, the subnet (or a default one), the security groups
//! (by id or by name, in the subnet's VPC), the key pair, the IAM instance profile, the
//! user data, and the launch template version.

use crate::Ec2Error;
use base64::Engine;
use berth_model::amis::{AMIS, Ami};
use berth_model::arn::Scope;
use berth_model::ec2::instance_types::{self, InstanceType};
use berth_model::ec2::templates::{self, ProfileSpec};
use berth_model::ec2::{
    KeyPairRecord, LaunchTemplateRecord, LaunchTemplateVersion, SecurityGroupRecord, SubnetRecord, Tag, ids, zones,
};
use berth_model::iam::records::InstanceProfileRecord;
use berth_model::keys;
use berth_store::Store;
use berth_store::documents::{self, Doc};

/// User data may be at most 16 KiB (before base64).
pub const MAX_USER_DATA_BYTES: usize = 16 * 1024;

pub fn image(id: &str) -> Result<&'static Ami, Ec2Error> {
    if !ids::well_formed("ami", id) {
        return Err(Ec2Error::malformed("InvalidAMIID.Malformed", id));
    }
    AMIS.iter().find(|a| a.id == id).ok_or_else(|| Ec2Error::image_not_found(id))
}

pub fn instance_type(name: &str) -> Result<&'static InstanceType, Ec2Error> {
    instance_types::lookup(name)
        .ok_or_else(|| Ec2Error::invalid_parameter_value(format!("Invalid value '{name}' for InstanceType.")))
}

/// The image and the type run the same architecture.
pub fn architectures_match(image: &Ami, kind: &InstanceType) -> Result<(), Ec2Error> {
    if image.architecture == kind.architecture {
        return Ok(());
    }
    Err(Ec2Error::invalid_parameter_value(format!(
        "The architecture '{}' of the specified instance type does not match the architecture '{}' of the specified AMI. \
         Specify an instance type and an AMI that have matching architectures, and try again.",
        kind.architecture, image.architecture
    )))
}

pub async fn subnet_by_id(store: &dyn Store, id: &str) -> Result<Doc<SubnetRecord>, Ec2Error> {
    if !ids::well_formed(ids::SUBNET, id) {
        return Err(Ec2Error::malformed("InvalidSubnetID.Malformed", id));
    }
    documents::get(store, &keys::ec2_subnet(id)).await?.ok_or_else(|| Ec2Error::subnet_not_found(id))
}

/// The subnet to launch in: the one named, else the default subnet of the zone named,
/// else the default subnet with the most free addresses.
pub async fn launch_subnet(
    store: &dyn Store,
    scope: &Scope,
    subnet_id: Option<&str>,
    zone: Option<&str>,
) -> Result<Doc<SubnetRecord>, Ec2Error> {
    if let Some(id) = subnet_id {
        let subnet = subnet_by_id(store, id).await?;
        if let Some(zone) = zone.filter(|z| *z != subnet.value.availability_zone) {
            return Err(Ec2Error::invalid_parameter_value(format!(
                "The subnet {id} is in {}, not in the availability zone {zone} the request names.",
                subnet.value.availability_zone
            )));
        }
        return Ok(subnet);
    }
    if let Some(zone) = zone
        && zones::zone(&scope.region, zone).is_none()
    {
        return Err(Ec2Error::invalid_parameter_value(format!("Invalid availability zone: [{zone}]")));
    }
    let defaults = crate::default_vpc::default_subnets(store, scope).await?;
    let chosen = defaults
        .into_iter()
        .filter(|s| zone.is_none_or(|z| s.availability_zone == z))
        .max_by_key(|s| (s.available_ip_address_count(), std::cmp::Reverse(s.availability_zone.clone())))
        .ok_or_else(Ec2Error::no_default_vpc)?;
    subnet_by_id(store, &chosen.subnet_id).await
}

pub async fn security_group(store: &dyn Store, id: &str) -> Result<Doc<SecurityGroupRecord>, Ec2Error> {
    if !ids::well_formed(ids::SECURITY_GROUP, id) {
        return Err(Ec2Error::malformed("InvalidGroupId.Malformed", id));
    }
    documents::get(store, &keys::ec2_security_group(id)).await?.ok_or_else(|| Ec2Error::group_not_found(id))
}

/// The id of the group named `name` in `vpc_id`.
pub async fn security_group_named(store: &dyn Store, vpc_id: &str, name: &str) -> Result<String, Ec2Error> {
    documents::get::<String>(store, &keys::ec2_security_group_name(vpc_id, name))
        .await?
        .map(|d| d.value)
        .ok_or_else(|| Ec2Error::group_name_not_found(name, vpc_id))
}

/// The groups a launch into `vpc_id` attaches: those named by id (which must be in that
/// VPC) and by name, or the VPC's `default` group when none is named.
pub async fn launch_security_groups(
    store: &dyn Store,
    vpc_id: &str,
    subnet_id: &str,
    group_ids: &[String],
    group_names: &[String],
) -> Result<Vec<String>, Ec2Error> {
    let mut out = Vec::new();
    for id in group_ids {
        let group = security_group(store, id).await?;
        if group.value.vpc_id != vpc_id {
            return Err(Ec2Error::invalid_parameter(format!(
                "Security group {id} and subnet {subnet_id} belong to different networks."
            )));
        }
        out.push(id.clone());
    }
    for name in group_names {
        out.push(security_group_named(store, vpc_id, name).await?);
    }
    if out.is_empty() {
        out.push(security_group_named(store, vpc_id, "default").await?);
    }
    out.dedup();
    Ok(out)
}

pub async fn key_pair(store: &dyn Store, name: &str) -> Result<KeyPairRecord, Ec2Error> {
    documents::get(store, &keys::ec2_key_pair(name))
        .await?
        .map(|d| d.value)
        .ok_or_else(|| Ec2Error::key_pair_not_found(name))
}

/// An instance profile as a launch records it, and the role it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub arn: String,
    pub id: String,
    /// The name of the role the profile holds (what `iam:PassRole` is asked for).
    pub role: Option<String>,
}

/// The profile named by ARN or name, which must exist in this account.
pub async fn instance_profile(store: &dyn Store, scope: &Scope, spec: &ProfileSpec) -> Result<Profile, Ec2Error> {
    let (name, param, value) = match (&spec.arn, &spec.name) {
        (Some(_), Some(_)) => {
            return Err(Ec2Error::invalid_parameter_combination(
                "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'",
            ));
        }
        (Some(arn), None) => {
            let prefix = format!("arn:aws:iam::{}:instance-profile/", scope.account);
            let name = arn.strip_prefix(&prefix).and_then(|rest| rest.rsplit('/').next()).unwrap_or_default();
            (name.to_string(), "arn", arn.clone())
        }
        (None, Some(name)) => (name.clone(), "name", name.clone()),
        (None, None) => return Err(Ec2Error::missing_parameter("iamInstanceProfile.name or iamInstanceProfile.arn")),
    };
    let invalid = || {
        let what = if param == "arn" { "ARN" } else { "name" };
        Ec2Error::invalid_parameter_value(format!(
            "Value ({value}) for parameter iamInstanceProfile.{param} is invalid. Invalid IAM Instance Profile {what}"
        ))
    };
    if name.is_empty() {
        return Err(invalid());
    }
    let record = documents::get::<InstanceProfileRecord>(store, &berth_model::iam::keys::instance_profile(&name))
        .await?
        .ok_or_else(invalid)?
        .value;
    if param == "arn" && record.instance_profile.arn != value {
        return Err(invalid());
    }
    Ok(Profile { arn: record.instance_profile.arn, id: record.instance_profile.instance_profile_id, role: record.role })
}

/// The text of base64 user data.
pub fn user_data(encoded: &str) -> Result<String, Ec2Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Ec2Error::invalid_parameter_value("Invalid BASE64 encoding of user data."))?;
    if bytes.len() > MAX_USER_DATA_BYTES {
        return Err(Ec2Error::invalid_parameter_value(format!("User data is limited to {MAX_USER_DATA_BYTES} bytes")));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A launch template named by id or by name (exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateName {
    pub id: Option<String>,
    pub name: Option<String>,
}

pub async fn launch_template(store: &dyn Store, which: &TemplateName) -> Result<Doc<LaunchTemplateRecord>, Ec2Error> {
    let id = match (&which.id, &which.name) {
        (Some(_), Some(_)) => {
            return Err(Ec2Error::invalid_parameter_combination(
                "Both the launch template ID and name were specified. Specify one or the other.",
            ));
        }
        (Some(id), None) => {
            if !ids::well_formed(ids::LAUNCH_TEMPLATE, id) {
                return Err(Ec2Error::malformed("InvalidLaunchTemplateId.Malformed", id));
            }
            id.clone()
        }
        (None, Some(name)) => documents::get::<String>(store, &keys::ec2_launch_template_name(name))
            .await?
            .map(|d| d.value)
            .ok_or_else(|| Ec2Error::launch_template_name_not_found(name))?,
        (None, None) => {
            return Err(Ec2Error::missing_parameter("LaunchTemplateId or LaunchTemplateName"));
        }
    };
    documents::get(store, &keys::ec2_launch_template(&id))
        .await?
        .ok_or_else(|| Ec2Error::launch_template_id_not_found(&id))
}

/// The version of `template` that `version` names (None: the default).
pub fn template_version<'a>(
    template: &'a LaunchTemplateRecord,
    version: Option<&str>,
) -> Result<&'a LaunchTemplateVersion, Ec2Error> {
    Ok(templates::resolve(template, version)?)
}

/// AWS's tag rules (`berth_model::tags`), refused as EC2's InvalidParameterValue.
pub fn tags(tags: &[Tag]) -> Result<(), Ec2Error> {
    berth_model::tags::check(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))
        .map_err(|e| Ec2Error::invalid_parameter_value(e.to_string()))
}
