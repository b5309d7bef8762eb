//! What a group launches from and into, checked against EC2's records as Auto Scaling
//! checks them when a group is created or updated: the launch template (by id or name,
//! its version `$Latest`, `$Default` or a number), and the subnets of VPCZoneIdentifier
//! (which must exist, share one VPC, and fit the template's security groups) or the
//! zones given without subnets. Refusals are Auto Scaling's ValidationErrors.

use crate::Error;
use berth_ec2::resolve::{self, TemplateName};
use berth_ec2::{Ec2Error, TemplateSpec};
use berth_model::arn::Scope;
use berth_model::autoscaling::validate::subnet_list;
use berth_model::autoscaling::{AsgError, LaunchTemplateSpecification, MixedInstancesPolicy};
use berth_model::ec2::templates::LaunchParams;
use berth_model::ec2::zones;
use berth_store::Store;
use std::collections::BTreeMap;

const INVALID_TEMPLATE: &str = "You must use a valid fully-formed launch template.";

/// A launch template as the group keeps it: both its id and name filled in, the version
/// as given (`$Default` when none was), and what its version says of launches.
pub struct Template {
    pub spec: LaunchTemplateSpecification,
    pub params: LaunchParams,
}

/// The launch template a group names, directly or in its MixedInstancesPolicy.
pub fn named<'a>(
    launch_template: Option<&'a LaunchTemplateSpecification>,
    mixed: Option<&'a MixedInstancesPolicy>,
) -> Option<&'a LaunchTemplateSpecification> {
    launch_template.or_else(|| mixed?.launch_template.as_ref()?.launch_template_specification.as_ref())
}

/// Finds and checks the launch template `spec` names.
pub async fn template(store: &dyn Store, spec: &LaunchTemplateSpecification) -> Result<Template, Error> {
    let which = TemplateName { id: spec.launch_template_id.clone(), name: spec.launch_template_name.clone() };
    let doc = resolve::launch_template(store, &which).await.map_err(|e| match e {
        Ec2Error::Client { code, .. } if code.starts_with("InvalidLaunchTemplate") => {
            let named = match (&spec.launch_template_id, &spec.launch_template_name) {
                (Some(id), _) => format!("with template ID {id}"),
                (None, Some(name)) => format!("with template name {name}"),
                (None, None) => String::new(),
            };
            Error::from(AsgError::validation(format!(
                "{INVALID_TEMPLATE} The specified launch template, {named}, does not exist."
            )))
        }
        other => invalid(other),
    })?;
    let record = doc.value;
    let version = resolve::template_version(&record, spec.version.as_deref()).map_err(invalid)?;
    Ok(Template {
        spec: LaunchTemplateSpecification {
            launch_template_id: Some(record.launch_template_id.clone()),
            launch_template_name: Some(record.launch_template_name.clone()),
            version: Some(spec.version.clone().unwrap_or_else(|| "$Default".into())),
        },
        params: LaunchParams::from_template_data(&version.data),
    })
}

/// What EC2 launches for a group: the template (by id when known) at the group's version.
pub fn launch_spec(spec: &LaunchTemplateSpecification) -> TemplateSpec {
    let template = match &spec.launch_template_id {
        Some(id) => TemplateName { id: Some(id.clone()), name: None },
        None => TemplateName { id: None, name: spec.launch_template_name.clone() },
    };
    TemplateSpec { template, version: spec.version.clone() }
}

/// An EC2 refusal as the ValidationError Auto Scaling wraps it in.
fn invalid(e: Ec2Error) -> Error {
    match e {
        Ec2Error::Client { message, .. } => AsgError::validation(format!("{INVALID_TEMPLATE} {message}")).into(),
        Ec2Error::Document(d) => d.into(),
    }
}

/// Where a group launches: its subnets (in the order given), their zones, each subnet's zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub subnets: Vec<String>,
    pub zones: Vec<String>,
    pub subnet_zones: BTreeMap<String, String>,
}

/// Checks VPCZoneIdentifier (or the zones given without it) against EC2's subnets and the
/// template's security groups.
pub async fn network(
    store: &dyn Store,
    scope: &Scope,
    vpc_zone_identifier: Option<&str>,
    zones_given: Option<&[String]>,
    template: &LaunchParams,
) -> Result<Network, Error> {
    let subnets = vpc_zone_identifier.map(subnet_list).unwrap_or_default();
    let zones_given: Vec<String> = zones_given.unwrap_or_default().to_vec();
    if subnets.is_empty() {
        if zones_given.is_empty() {
            return Err(AsgError::validation("At least one Availability Zone or VPC Subnet is required.").into());
        }
        if let Some(bad) = zones_given.iter().find(|z| zones::zone(&scope.region, z).is_none()) {
            return Err(
                AsgError::validation(format!("The availability zone {bad} is not legal in {}.", scope.region)).into()
            );
        }
        berth_ec2::default_vpc::ensure(store, scope).await.map_err(invalid)?;
        let mut unique = Vec::new();
        for z in zones_given {
            if !unique.contains(&z) {
                unique.push(z);
            }
        }
        return Ok(Network { subnets: vec![], zones: unique, subnet_zones: BTreeMap::new() });
    }
    let mut net = Network::default();
    let mut vpc: Option<(String, String)> = None;
    for id in &subnets {
        let subnet = match resolve::subnet_by_id(store, id).await {
            Ok(s) => s.value,
            Err(Ec2Error::Client { .. }) => {
                return Err(AsgError::validation(format!("The subnet ID '{id}' does not exist")).into());
            }
            Err(Ec2Error::Document(d)) => return Err(d.into()),
        };
        match &vpc {
            Some((first_subnet, first_vpc)) if *first_vpc != subnet.vpc_id => {
                return Err(AsgError::validation(format!(
                    "The subnets {first_subnet} ({first_vpc}) and {id} ({}) are in different VPCs: a group's subnets must all be in one VPC.",
                    subnet.vpc_id
                ))
                .into());
            }
            Some(_) => {}
            None => vpc = Some((id.clone(), subnet.vpc_id.clone())),
        }
        resolve::launch_security_groups(
            store,
            &subnet.vpc_id,
            id,
            &template.security_group_ids,
            &template.security_group_names,
        )
        .await
        .map_err(invalid)?;
        if !net.zones.contains(&subnet.availability_zone) {
            net.zones.push(subnet.availability_zone.clone());
        }
        net.subnet_zones.insert(id.clone(), subnet.availability_zone);
    }
    if !zones_given.is_empty() && zones_given.iter().any(|z| !net.zones.contains(z)) {
        return Err(AsgError::validation(
            "The availability zones of the specified subnets and the Auto Scaling group do not match",
        )
        .into());
    }
    net.subnets = subnets;
    Ok(net)
}
