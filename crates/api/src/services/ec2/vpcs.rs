//! DescribeVpcs, CreateVpc, DeleteVpc, DescribeSubnets, CreateSubnet, DeleteSubnet.
//! A VPC's creation or deletion and a subnet's commit compare the VPC's revision, so
//! subnets are checked for overlap and VPCs for dependents against a settled view.

use super::{filters, out_tags, page, store, tags_for, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::{Ec2Error, default_vpc, ids, resolve};
use berth_model::ec2::cidr::Cidr;
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::shapes::{self, ResourceType};
use berth_model::ec2::{
    InstanceRecord, InstanceState, SecurityGroupRecord, SubnetRecord, VpcRecord, ids as prefix, zones,
};
use berth_model::keys;
use berth_store::documents::{self, Doc, encode};
use berth_store::{Compare, Txn};

fn vpc_shape(v: &VpcRecord) -> shapes::Vpc {
    shapes::Vpc {
        vpc_id: Some(v.vpc_id.clone()),
        owner_id: Some(v.owner_id.clone()),
        cidr_block: Some(v.cidr_block.clone()),
        state: Some(shapes::VpcState::Available),
        dhcp_options_id: Some(v.dhcp_options_id.clone()),
        instance_tenancy: Some(if v.instance_tenancy == "dedicated" {
            shapes::Tenancy::Dedicated
        } else {
            shapes::Tenancy::Default
        }),
        is_default: Some(v.is_default),
        cidr_block_association_set: Some(vec![shapes::VpcCidrBlockAssociation {
            association_id: Some(v.cidr_association_id.clone()),
            cidr_block: Some(v.cidr_block.clone()),
            cidr_block_state: Some(shapes::VpcCidrBlockState {
                state: Some(shapes::VpcCidrBlockStateCode::Associated),
                status_message: None,
            }),
        }]),
        tags: out_tags(&v.tags),
        ..Default::default()
    }
}

/// The filter names `vpc_field` reads.
const VPC_FILTERS: &[&str] = &[
    "vpc-id",
    "is-default",
    "isDefault",
    "cidr",
    "cidr-block",
    "cidrBlock",
    "cidr-block-association.cidr-block",
    "state",
    "owner-id",
    "dhcp-options-id",
];

fn vpc_field(v: &VpcRecord, name: &str) -> Option<Vec<String>> {
    let one = |s: &str| Some(vec![s.to_string()]);
    match name {
        "vpc-id" => one(&v.vpc_id),
        "is-default" | "isDefault" => one(&v.is_default.to_string()),
        "cidr" | "cidr-block" | "cidrBlock" | "cidr-block-association.cidr-block" => one(&v.cidr_block),
        "state" => one("available"),
        "owner-id" => one(&v.owner_id),
        "dhcp-options-id" => one(&v.dhcp_options_id),
        _ => None,
    }
}

pub async fn describe_vpcs(ctx: Ctx, req: shapes::DescribeVpcsRequest) -> Result<shapes::DescribeVpcsResult, AwsError> {
    let wanted = req.vpc_ids.unwrap_or_default();
    let filters = filters(req.filters, VPC_FILTERS)?;
    let mut out = Vec::new();
    for doc in documents::list::<VpcRecord>(store(&ctx), keys::EC2_VPCS).await? {
        let v = doc.value;
        if !wanted.is_empty() && !wanted.contains(&v.vpc_id) {
            continue;
        }
        if matches_all(&filters, &v, &v.tags, vpc_field).map_err(unknown_filter)? {
            out.push(v);
        }
    }
    if let Some(missing) = wanted.iter().find(|id| !out.iter().any(|v| &v.vpc_id == *id)) {
        return Err(Ec2Error::vpc_not_found(missing).into());
    }
    let (items, next_token) = page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeVpcsResult { vpcs: Some(items.iter().map(vpc_shape).collect()), next_token })
}

/// A VPC's block: a network address, /16 to /28.
fn vpc_block(text: &str) -> Result<Cidr, AwsError> {
    let cidr = Cidr::parse(text).ok_or_else(|| {
        AwsError::ec2(
            "InvalidParameterValue",
            format!("Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."),
        )
    })?;
    if !(16..=28).contains(&cidr.prefix) {
        return Err(AwsError::ec2("InvalidVpc.Range", format!("The CIDR '{text}' is invalid.")));
    }
    Ok(cidr)
}

pub async fn create_vpc(ctx: Ctx, req: shapes::CreateVpcRequest) -> Result<shapes::CreateVpcResult, AwsError> {
    let text = req.cidr_block.as_deref().ok_or_else(|| Ec2Error::missing_parameter("CidrBlock"))?;
    let cidr = vpc_block(text)?;
    let tags = tags_for(&req.tag_specifications, ResourceType::Vpc);
    resolve::tags(&tags)?;
    let mut vpc = default_vpc::new_vpc(&ctx.api.scope, &cidr.to_string(), false);
    vpc.tags = tags;
    if req.instance_tenancy == Some(shapes::Tenancy::Dedicated) {
        vpc.instance_tenancy = "dedicated".into();
    }
    let group = default_vpc::default_security_group(&vpc.vpc_id, &ctx.api.scope.account);
    let txn = Txn::new()
        .when(Compare::ModRevision(keys::ec2_vpc(&vpc.vpc_id), 0))
        .put(keys::ec2_vpc(&vpc.vpc_id), encode(&vpc)?)
        .put(keys::ec2_security_group(&group.group_id), encode(&group)?)
        .put(keys::ec2_security_group_name(&vpc.vpc_id, &group.group_name), encode(&group.group_id)?);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(AwsError::internal("InternalError"));
    }
    Ok(shapes::CreateVpcResult { vpc: Some(vpc_shape(&vpc)) })
}

async fn vpc(ctx: &Ctx, id: &str) -> Result<Doc<VpcRecord>, AwsError> {
    if !prefix::well_formed(prefix::VPC, id) {
        return Err(Ec2Error::malformed("InvalidVpcID.Malformed", id).into());
    }
    documents::get(store(ctx), &keys::ec2_vpc(id)).await?.ok_or_else(|| Ec2Error::vpc_not_found(id).into())
}

pub async fn delete_vpc(ctx: Ctx, req: shapes::DeleteVpcRequest) -> Result<serde_json::Value, AwsError> {
    let doc = vpc(&ctx, &req.vpc_id).await?;
    let id = &req.vpc_id;
    let subnets = documents::list::<SubnetRecord>(store(&ctx), keys::EC2_SUBNETS).await?;
    let groups = documents::list::<SecurityGroupRecord>(store(&ctx), keys::EC2_SECURITY_GROUPS).await?;
    let in_use = subnets.iter().any(|s| &s.value.vpc_id == id)
        || groups.iter().any(|g| &g.value.vpc_id == id && g.value.group_name != "default");
    if in_use {
        return Err(
            Ec2Error::dependency_violation(format!("The vpc '{id}' has dependencies and cannot be deleted.")).into()
        );
    }
    let mut txn = Txn::new().when(Compare::ModRevision(keys::ec2_vpc(id), doc.mod_revision)).delete(keys::ec2_vpc(id));
    for g in groups.iter().filter(|g| &g.value.vpc_id == id) {
        txn = txn
            .when(Compare::ModRevision(keys::ec2_security_group(&g.value.group_id), g.mod_revision))
            .delete(keys::ec2_security_group(&g.value.group_id))
            .delete(keys::ec2_security_group_name(id, &g.value.group_name));
    }
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::dependency_violation(format!(
            "The vpc '{id}' changed while it was being deleted; try again."
        ))
        .into());
    }
    Ok(super::returned())
}

fn subnet_shape(ctx: &Ctx, s: &SubnetRecord) -> shapes::Subnet {
    shapes::Subnet {
        subnet_id: Some(s.subnet_id.clone()),
        subnet_arn: Some(s.arn(&ctx.api.scope.region)),
        vpc_id: Some(s.vpc_id.clone()),
        owner_id: Some(s.owner_id.clone()),
        cidr_block: Some(s.cidr_block.clone()),
        availability_zone: Some(s.availability_zone.clone()),
        availability_zone_id: Some(s.availability_zone_id.clone()),
        available_ip_address_count: Some(s.available_ip_address_count() as i32),
        default_for_az: Some(s.default_for_az),
        map_public_ip_on_launch: Some(s.map_public_ip_on_launch),
        map_customer_owned_ip_on_launch: Some(false),
        assign_ipv6_address_on_creation: Some(false),
        ipv6_native: Some(false),
        enable_dns64: Some(false),
        state: Some(shapes::SubnetState::Available),
        tags: out_tags(&s.tags),
        ..Default::default()
    }
}

/// The filter names `subnet_field` reads.
const SUBNET_FILTERS: &[&str] = &[
    "subnet-id",
    "subnetId",
    "vpc-id",
    "vpcId",
    "default-for-az",
    "defaultForAz",
    "availability-zone",
    "availabilityZone",
    "availability-zone-id",
    "availabilityZoneId",
    "cidr-block",
    "cidrBlock",
    "cidr",
    "map-public-ip-on-launch",
    "state",
    "owner-id",
    "available-ip-address-count",
];

fn subnet_field(s: &SubnetRecord, name: &str) -> Option<Vec<String>> {
    let one = |v: &str| Some(vec![v.to_string()]);
    match name {
        "subnet-id" | "subnetId" => one(&s.subnet_id),
        "vpc-id" | "vpcId" => one(&s.vpc_id),
        "default-for-az" | "defaultForAz" => one(&s.default_for_az.to_string()),
        "availability-zone" | "availabilityZone" => one(&s.availability_zone),
        "availability-zone-id" | "availabilityZoneId" => one(&s.availability_zone_id),
        "cidr-block" | "cidrBlock" | "cidr" => one(&s.cidr_block),
        "map-public-ip-on-launch" => one(&s.map_public_ip_on_launch.to_string()),
        "state" => one("available"),
        "owner-id" => one(&s.owner_id),
        "available-ip-address-count" => one(&s.available_ip_address_count().to_string()),
        _ => None,
    }
}

pub async fn describe_subnets(
    ctx: Ctx,
    req: shapes::DescribeSubnetsRequest,
) -> Result<shapes::DescribeSubnetsResult, AwsError> {
    let wanted = req.subnet_ids.unwrap_or_default();
    for id in &wanted {
        if !prefix::well_formed(prefix::SUBNET, id) {
            return Err(Ec2Error::malformed("InvalidSubnetID.Malformed", id).into());
        }
    }
    let filters = filters(req.filters, SUBNET_FILTERS)?;
    let mut out = Vec::new();
    for doc in documents::list::<SubnetRecord>(store(&ctx), keys::EC2_SUBNETS).await? {
        let s = doc.value;
        if !wanted.is_empty() && !wanted.contains(&s.subnet_id) {
            continue;
        }
        if matches_all(&filters, &s, &s.tags, subnet_field).map_err(unknown_filter)? {
            out.push(s);
        }
    }
    if let Some(missing) = wanted.iter().find(|id| !out.iter().any(|s| &s.subnet_id == *id)) {
        return Err(Ec2Error::subnet_not_found(missing).into());
    }
    out.sort_by(|a, b| {
        (&a.vpc_id, &a.availability_zone, &a.cidr_block).cmp(&(&b.vpc_id, &b.availability_zone, &b.cidr_block))
    });
    let (items, next_token) = page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeSubnetsResult {
        subnets: Some(items.iter().map(|s| subnet_shape(&ctx, s)).collect()),
        next_token,
    })
}

pub async fn create_subnet(ctx: Ctx, req: shapes::CreateSubnetRequest) -> Result<shapes::CreateSubnetResult, AwsError> {
    let vpc_doc = vpc(&ctx, &req.vpc_id).await?;
    let text = req.cidr_block.as_deref().ok_or_else(|| Ec2Error::missing_parameter("CidrBlock"))?;
    let cidr = Cidr::parse(text).ok_or_else(|| {
        AwsError::ec2(
            "InvalidParameterValue",
            format!("Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."),
        )
    })?;
    let vpc_block = Cidr::parse(&vpc_doc.value.cidr_block).ok_or_else(|| AwsError::internal("InternalError"))?;
    if !vpc_block.covers(&cidr) || !(16..=28).contains(&cidr.prefix) {
        return Err(AwsError::ec2("InvalidSubnet.Range", format!("The CIDR '{text}' is invalid.")));
    }
    let region = &ctx.api.scope.region;
    let zone = match (&req.availability_zone, &req.availability_zone_id) {
        (Some(name), _) => zones::zone(region, name),
        (None, Some(id)) => zones::zones(region).into_iter().find(|z| &z.id == id),
        (None, None) => zones::zones(region).into_iter().next(),
    }
    .ok_or_else(|| {
        let given = req.availability_zone.clone().or(req.availability_zone_id.clone()).unwrap_or_default();
        AwsError::ec2("InvalidParameterValue", format!("Value ({given}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.", zones::zones(region).iter().map(|z| z.name.as_str()).collect::<Vec<_>>().join(", ")))
    })?;
    let existing = documents::list::<SubnetRecord>(store(&ctx), keys::EC2_SUBNETS).await?;
    let conflict = existing
        .iter()
        .filter(|s| s.value.vpc_id == req.vpc_id)
        .any(|s| Cidr::parse(&s.value.cidr_block).is_some_and(|c| c.overlaps(&cidr)));
    if conflict {
        return Err(AwsError::ec2(
            "InvalidSubnet.Conflict",
            format!("The CIDR '{text}' conflicts with another subnet"),
        ));
    }
    let tags = tags_for(&req.tag_specifications, ResourceType::Subnet);
    resolve::tags(&tags)?;
    let subnet = SubnetRecord {
        subnet_id: ids::new(prefix::SUBNET),
        vpc_id: req.vpc_id.clone(),
        owner_id: ctx.api.scope.account.clone(),
        cidr_block: cidr.to_string(),
        availability_zone: zone.name,
        availability_zone_id: zone.id,
        default_for_az: false,
        map_public_ip_on_launch: false,
        allocated_ips: vec![],
        tags,
    };
    // Rewriting the VPC serializes subnet creation within it (the overlap check above holds).
    let vpc_key = keys::ec2_vpc(&req.vpc_id);
    let txn = Txn::new()
        .when(Compare::ModRevision(vpc_key.clone(), vpc_doc.mod_revision))
        .put(vpc_key, encode(&vpc_doc.value)?)
        .put(keys::ec2_subnet(&subnet.subnet_id), encode(&subnet)?);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(AwsError::ec2(
            "InvalidSubnet.Conflict",
            format!("The VPC {} changed while the subnet was created; try again.", req.vpc_id),
        ));
    }
    Ok(shapes::CreateSubnetResult { subnet: Some(subnet_shape(&ctx, &subnet)) })
}

pub async fn delete_subnet(ctx: Ctx, req: shapes::DeleteSubnetRequest) -> Result<serde_json::Value, AwsError> {
    let doc = resolve::subnet_by_id(store(&ctx), &req.subnet_id).await?;
    let instances = documents::list::<InstanceRecord>(store(&ctx), keys::EC2_INSTANCES).await?;
    if instances.iter().any(|i| i.value.subnet_id == req.subnet_id && i.value.state != InstanceState::Terminated)
        || !doc.value.allocated_ips.is_empty()
    {
        return Err(Ec2Error::dependency_violation(format!(
            "The subnet '{}' has dependencies and cannot be deleted.",
            req.subnet_id
        ))
        .into());
    }
    let key = keys::ec2_subnet(&req.subnet_id);
    let txn = Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).delete(key);
    if !store(&ctx).txn(txn).await?.succeeded {
        return Err(Ec2Error::dependency_violation(format!(
            "The subnet '{}' has dependencies and cannot be deleted.",
            req.subnet_id
        ))
        .into());
    }
    Ok(super::returned())
}
