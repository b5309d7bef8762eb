//! Amazon EC2 (ec2 protocol, Version 2016-11-15): VPCs, subnets, security groups, launch
//! templates, key pairs, the image and instance type catalogs, instances and tags, kept
//! in the store (keys in `berth_model::keys`). The instance operations are berth-ec2's;
//! each handler is `async fn(Ctx, <Op>Request) -> Result<<Op>Result, AwsError>` with the
//! shapes generated from botocore's model, read from the form and written as XML by
//! `protocol::ec2`. The default VPC is made on the first EC2 call.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::protocol::query::Params;
use crate::route::Service;
use berth_model::Timestamp;
use berth_model::ec2::filters::Filter;
use berth_model::ec2::{Tag, shapes};
use berth_store::Store;

pub(crate) mod access;
mod catalog;
mod instances;
mod key_pairs;
mod launch_templates;
mod security_groups;
mod tags;
mod vpcs;

pub const VERSION: &str = "2016-11-15";
pub const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

pub const SERVICE: Service =
    Service::ec2("ec2", VERSION, XMLNS, |ctx, action, params| Box::pin(call(ctx, action, params)));

/// The response XML (inside `<ActionResponse>`) of `action`.
pub async fn call(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    berth_ec2::default_vpc::ensure(store(&ctx), &ctx.api.scope).await?;
    dispatch!(ec2(ctx, action, params) else AwsError::ec2("InvalidAction", format!("The action {action} is not valid for this web service.")); {
        "DescribeVpcs" => vpcs::describe_vpcs,
        "CreateVpc" => vpcs::create_vpc,
        "DeleteVpc" => vpcs::delete_vpc,
        "DescribeSubnets" => vpcs::describe_subnets,
        "CreateSubnet" => vpcs::create_subnet,
        "DeleteSubnet" => vpcs::delete_subnet,
        "CreateSecurityGroup" => security_groups::create,
        "DeleteSecurityGroup" => security_groups::delete,
        "DescribeSecurityGroups" => security_groups::describe,
        "AuthorizeSecurityGroupIngress" => security_groups::authorize_ingress,
        "AuthorizeSecurityGroupEgress" => security_groups::authorize_egress,
        "RevokeSecurityGroupIngress" => security_groups::revoke_ingress,
        "RevokeSecurityGroupEgress" => security_groups::revoke_egress,
        "DescribeSecurityGroupRules" => security_groups::describe_rules,
        "CreateLaunchTemplate" => launch_templates::create,
        "CreateLaunchTemplateVersion" => launch_templates::create_version,
        "DescribeLaunchTemplates" => launch_templates::describe,
        "DescribeLaunchTemplateVersions" => launch_templates::describe_versions,
        "ModifyLaunchTemplate" => launch_templates::modify,
        "DeleteLaunchTemplate" => launch_templates::delete,
        "CreateKeyPair" => key_pairs::create,
        "ImportKeyPair" => key_pairs::import,
        "DeleteKeyPair" => key_pairs::delete,
        "DescribeKeyPairs" => key_pairs::describe,
        "DescribeImages" => catalog::describe_images,
        "DescribeInstanceTypes" => catalog::describe_instance_types,
        "DescribeAvailabilityZones" => catalog::describe_availability_zones,
        "DescribeRegions" => catalog::describe_regions,
        "DescribeAccountAttributes" => catalog::describe_account_attributes,
        "RunInstances" => instances::run,
        "TerminateInstances" => instances::terminate,
        "StopInstances" => instances::stop,
        "StartInstances" => instances::start,
        "DescribeInstances" => instances::describe,
        "DescribeInstanceStatus" => instances::describe_status,
        "CreateTags" => tags::create,
        "DeleteTags" => tags::delete,
        "DescribeTags" => tags::describe,
    })
}

fn store(ctx: &Ctx) -> &dyn Store {
    ctx.api.store.as_ref()
}

/// The request's filters in berth-model's form, refused up front (InvalidParameterValue) when one
/// names none of the `known` filters of the resource kind (nor a tag filter).
fn filters(given: Option<Vec<shapes::Filter>>, known: &[&str]) -> Result<Vec<Filter>, AwsError> {
    let filters: Vec<Filter> = given
        .unwrap_or_default()
        .into_iter()
        .map(|f| Filter { name: f.name.unwrap_or_default(), values: f.values.unwrap_or_default() })
        .collect();
    berth_model::ec2::filters::check_names(&filters, known).map_err(unknown_filter)?;
    Ok(filters)
}

/// The tags a TagSpecifications list puts on resources of `resource_type`.
fn tags_for(specs: &Option<Vec<shapes::TagSpecification>>, resource_type: shapes::ResourceType) -> Vec<Tag> {
    specs
        .iter()
        .flatten()
        .filter(|s| s.resource_type == Some(resource_type))
        .flat_map(|s| s.tags.iter().flatten())
        .map(|t| Tag { key: t.key.clone().unwrap_or_default(), value: t.value.clone().unwrap_or_default() })
        .collect()
}

/// Tags as the shapes carry them (an empty list is written, as EC2 does for tagSet).
fn out_tags(tags: &[Tag]) -> Option<Vec<shapes::Tag>> {
    if tags.is_empty() {
        return None;
    }
    Some(tags.iter().map(|t| shapes::Tag { key: Some(t.key.clone()), value: Some(t.value.clone()) }).collect())
}

fn in_tags(tags: Vec<shapes::Tag>) -> Vec<Tag> {
    tags.into_iter().map(|t| Tag { key: t.key.unwrap_or_default(), value: t.value.unwrap_or_default() }).collect()
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp(ms as f64 / 1000.0)
}

/// `MaxResults` / `NextToken` paging over items already in order: the token is the
/// index of the next item.
fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
    max: i32,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|i| *i <= items.len())
            .ok_or_else(|| AwsError::ec2("InvalidNextToken", format!("The token '{t}' is invalid.")))?,
    };
    let size = match max_results {
        None => usize::MAX,
        Some(n) if (5..=max).contains(&n) => n as usize,
        Some(n) => {
            return Err(AwsError::ec2(
                "InvalidParameterValue",
                format!("Value ( {n} ) for parameter maxResults is invalid. Parameter must be between 5 and {max}."),
            ));
        }
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > size).then(|| (start + size).to_string());
    Ok((rest.into_iter().take(size).collect(), next))
}

/// EC2's filter refusal in its code.
fn unknown_filter(e: berth_model::ec2::filters::UnknownFilter) -> AwsError {
    AwsError::ec2("InvalidParameterValue", e.to_string())
}

/// `<return>true</return>`: what EC2 answers operations that have no output shape.
fn returned() -> serde_json::Value {
    serde_json::json!({"return": true})
}
