//! What EC2 offers rather than stores: DescribeImages (the ECS-optimized AMIs of
//! `berth_model::amis`, which SSM's public parameters name), DescribeInstanceTypes (the
//! table of `berth_model::ec2::instance_types`), DescribeAvailabilityZones,
//! DescribeRegions (the one served) and DescribeAccountAttributes.

use super::{filters, page, unknown_filter};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ec2::Ec2Error;
use berth_model::amis::{AMIS, Ami};
use berth_model::ec2::filters::matches_all;
use berth_model::ec2::instance_types::{INSTANCE_TYPES, InstanceType};
use berth_model::ec2::{ids, shapes, zones};

fn architecture(arch: &str) -> shapes::ArchitectureValues {
    if arch == "arm64" { shapes::ArchitectureValues::Arm64 } else { shapes::ArchitectureValues::X8664 }
}

fn image_shape(a: &Ami) -> shapes::Image {
    shapes::Image {
        image_id: Some(a.id.to_string()),
        name: Some(a.name.to_string()),
        description: Some(a.description.to_string()),
        architecture: Some(architecture(a.architecture)),
        creation_date: Some(a.creation_date.to_string()),
        image_location: Some(format!("amazon/{}", a.name)),
        image_owner_alias: Some("amazon".into()),
        owner_id: Some("591542846629".into()),
        public: Some(true),
        state: Some(shapes::ImageState::Available),
        image_type: Some(shapes::ImageTypeValues::Machine),
        root_device_type: Some(shapes::DeviceType::Ebs),
        root_device_name: Some("/dev/xvda".into()),
        virtualization_type: Some(shapes::VirtualizationType::Hvm),
        hypervisor: Some(shapes::HypervisorType::Xen),
        ena_support: Some(true),
        platform_details: Some("Linux/UNIX".into()),
        usage_operation: Some("RunInstances".into()),
        public_ssm_parameter_name: Some(format!("/aws/service/ecs/optimized-ami/{}/recommended/image_id", a.path)),
        tags: None,
        ..Default::default()
    }
}

/// The filter names `image_field` reads.
const IMAGE_FILTERS: &[&str] = &[
    "image-id",
    "name",
    "description",
    "architecture",
    "owner-alias",
    "owner-id",
    "state",
    "image-type",
    "is-public",
    "root-device-type",
    "virtualization-type",
    "platform-details",
];

fn image_field(a: &Ami, name: &str) -> Option<Vec<String>> {
    let one = |v: &str| Some(vec![v.to_string()]);
    match name {
        "image-id" => one(a.id),
        "name" => one(a.name),
        "description" => one(a.description),
        "architecture" => one(a.architecture),
        "owner-alias" => one("amazon"),
        "owner-id" => one("591542846629"),
        "state" => one("available"),
        "image-type" => one("machine"),
        "is-public" => one("true"),
        "root-device-type" => one("ebs"),
        "virtualization-type" => one("hvm"),
        "platform-details" => one("Linux/UNIX"),
        _ => None,
    }
}

pub async fn describe_images(
    ctx: Ctx,
    req: shapes::DescribeImagesRequest,
) -> Result<shapes::DescribeImagesResult, AwsError> {
    let wanted = req.image_ids.unwrap_or_default();
    for id in &wanted {
        if !ids::well_formed("ami", id) {
            return Err(Ec2Error::malformed("InvalidAMIID.Malformed", id).into());
        }
    }
    if let Some(missing) = wanted.iter().find(|id| !AMIS.iter().any(|a| a.id == id.as_str())) {
        return Err(Ec2Error::image_not_found(missing).into());
    }
    // berth's images are Amazon's; an Owners list without `amazon` (or the account that
    // publishes them) has none, and `self` owns nothing.
    let owners = req.owners.unwrap_or_default();
    let amazon = owners.is_empty() || owners.iter().any(|o| o == "amazon" || o == "591542846629");
    let filters = filters(req.filters, IMAGE_FILTERS)?;
    let mut out = Vec::new();
    for a in AMIS.iter().filter(|_| amazon) {
        if (wanted.is_empty() || wanted.iter().any(|w| w == a.id))
            && matches_all(&filters, a, &[], image_field).map_err(unknown_filter)?
        {
            out.push(image_shape(a));
        }
    }
    let _ = &ctx;
    let (images, next_token) = page(out, req.max_results, req.next_token.as_deref(), 1000)?;
    Ok(shapes::DescribeImagesResult { images: Some(images), next_token })
}

fn type_shape(t: &InstanceType) -> shapes::InstanceTypeInfo {
    let gpu_info = t.gpus.map(|g| shapes::GpuInfo {
        gpus: Some(vec![shapes::GpuDeviceInfo {
            name: Some(g.name.to_string()),
            manufacturer: Some(g.manufacturer.to_string()),
            count: Some(g.count as i32),
            memory_info: Some(shapes::GpuDeviceMemoryInfo { size_in_mi_b: Some(g.memory_mib as i32) }),
            ..Default::default()
        }]),
        total_gpu_memory_in_mi_b: Some((g.memory_mib * u64::from(g.count)) as i32),
    });
    let arch =
        if t.architecture == "arm64" { shapes::ArchitectureType::Arm64 } else { shapes::ArchitectureType::X8664 };
    shapes::InstanceTypeInfo {
        instance_type: Some(t.name.to_string()),
        current_generation: Some(t.name != "m1.small"),
        free_tier_eligible: Some(t.name == "t3.micro"),
        supported_usage_classes: Some(vec![shapes::UsageClassType::OnDemand, shapes::UsageClassType::Spot]),
        supported_root_device_types: Some(vec![shapes::RootDeviceType::Ebs]),
        supported_virtualization_types: Some(vec![shapes::VirtualizationType::Hvm]),
        bare_metal: Some(t.name.ends_with(".metal")),
        hypervisor: Some(shapes::InstanceTypeHypervisor::Nitro),
        processor_info: Some(shapes::ProcessorInfo { supported_architectures: Some(vec![arch]), ..Default::default() }),
        v_cpu_info: Some(shapes::VCpuInfo {
            default_v_cpus: Some(t.vcpus as i32),
            default_cores: Some(t.default_cores() as i32),
            default_threads_per_core: Some(t.threads_per_core() as i32),
            ..Default::default()
        }),
        memory_info: Some(shapes::MemoryInfo { size_in_mi_b: Some(t.memory_mib as i64) }),
        instance_storage_supported: Some(false),
        network_info: Some(shapes::NetworkInfo {
            network_performance: Some(t.network_performance.to_string()),
            ..Default::default()
        }),
        gpu_info,
        burstable_performance_supported: Some(t.burstable),
        ..Default::default()
    }
}

/// The filter names `type_field` reads.
const TYPE_FILTERS: &[&str] = &[
    "instance-type",
    "vcpu-info.default-vcpus",
    "memory-info.size-in-mib",
    "processor-info.supported-architecture",
    "current-generation",
    "burstable-performance-supported",
    "gpu-info.gpus.manufacturer",
    "gpu-info.gpus.name",
    "gpu-info.gpus.count",
    "network-info.network-performance",
];

fn type_field(t: &&InstanceType, name: &str) -> Option<Vec<String>> {
    let one = |v: String| Some(vec![v]);
    match name {
        "instance-type" => one(t.name.to_string()),
        "vcpu-info.default-vcpus" => one(t.vcpus.to_string()),
        "memory-info.size-in-mib" => one(t.memory_mib.to_string()),
        "processor-info.supported-architecture" => one(t.architecture.to_string()),
        "current-generation" => one((t.name != "m1.small").to_string()),
        "burstable-performance-supported" => one(t.burstable.to_string()),
        "gpu-info.gpus.manufacturer" => Some(t.gpus.iter().map(|g| g.manufacturer.to_string()).collect()),
        "gpu-info.gpus.name" => Some(t.gpus.iter().map(|g| g.name.to_string()).collect()),
        "gpu-info.gpus.count" => Some(t.gpus.iter().map(|g| g.count.to_string()).collect()),
        "network-info.network-performance" => one(t.network_performance.to_string()),
        _ => None,
    }
}

pub async fn describe_instance_types(
    _ctx: Ctx,
    req: shapes::DescribeInstanceTypesRequest,
) -> Result<shapes::DescribeInstanceTypesResult, AwsError> {
    let wanted = req.instance_types.unwrap_or_default();
    let unknown: Vec<&str> =
        wanted.iter().filter(|w| !INSTANCE_TYPES.iter().any(|t| t.name == w.as_str())).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(AwsError::ec2(
            "InvalidInstanceType",
            format!("The following supplied instance types do not exist: [{}]", unknown.join(", ")),
        ));
    }
    let filters = filters(req.filters, TYPE_FILTERS)?;
    let mut out = Vec::new();
    for t in INSTANCE_TYPES {
        if (wanted.is_empty() || wanted.iter().any(|w| w == t.name))
            && matches_all(&filters, &t, &[], type_field).map_err(unknown_filter)?
        {
            out.push(type_shape(t));
        }
    }
    let (types, next_token) = page(out, req.max_results, req.next_token.as_deref(), 100)?;
    Ok(shapes::DescribeInstanceTypesResult { instance_types: Some(types), next_token })
}

/// The filter names `zone_field` reads.
const ZONE_FILTERS: &[&str] = &["zone-name", "zone-id", "state", "zone-type"];

fn zone_field(z: &zones::Zone, name: &str) -> Option<Vec<String>> {
    match name {
        "zone-name" => Some(vec![z.name.clone()]),
        "zone-id" => Some(vec![z.id.clone()]),
        "state" => Some(vec!["available".into()]),
        "zone-type" => Some(vec!["availability-zone".into()]),
        _ => None,
    }
}

pub async fn describe_availability_zones(
    ctx: Ctx,
    req: shapes::DescribeAvailabilityZonesRequest,
) -> Result<shapes::DescribeAvailabilityZonesResult, AwsError> {
    let region = ctx.api.scope.region.clone();
    let names = req.zone_names.unwrap_or_default();
    let zone_ids = req.zone_ids.unwrap_or_default();
    let all = zones::zones(&region);
    if let Some(bad) = names.iter().find(|n| !all.iter().any(|z| &z.name == *n)) {
        return Err(AwsError::ec2("InvalidParameterValue", format!("Invalid availability zone: [{bad}]")));
    }
    let filters = filters(req.filters, ZONE_FILTERS)?;
    let mut out = Vec::new();
    for z in &all {
        if (!names.is_empty() && !names.contains(&z.name)) || (!zone_ids.is_empty() && !zone_ids.contains(&z.id)) {
            continue;
        }
        if matches_all(&filters, z, &[], zone_field).map_err(unknown_filter)? {
            out.push(shapes::AvailabilityZone {
                zone_name: Some(z.name.clone()),
                zone_id: Some(z.id.clone()),
                region_name: Some(region.clone()),
                group_name: Some(region.clone()),
                network_border_group: Some(region.clone()),
                zone_type: Some("availability-zone".into()),
                opt_in_status: Some(shapes::AvailabilityZoneOptInStatus::OptInNotRequired),
                state: Some(shapes::AvailabilityZoneState::Available),
                messages: Some(vec![]),
                ..Default::default()
            });
        }
    }
    Ok(shapes::DescribeAvailabilityZonesResult { availability_zones: Some(out) })
}

pub async fn describe_regions(
    ctx: Ctx,
    req: shapes::DescribeRegionsRequest,
) -> Result<shapes::DescribeRegionsResult, AwsError> {
    let region = ctx.api.scope.region.clone();
    let names = req.region_names.unwrap_or_default();
    if let Some(bad) = names.iter().find(|n| **n != region) {
        return Err(AwsError::ec2("InvalidParameterValue", format!("Invalid region: {bad} (berth serves {region})")));
    }
    let endpoint = ctx.host.clone().unwrap_or_else(|| format!("ec2.{region}.amazonaws.com"));
    Ok(shapes::DescribeRegionsResult {
        regions: Some(vec![shapes::Region {
            region_name: Some(region),
            endpoint: Some(endpoint),
            opt_in_status: Some("opt-in-not-required".into()),
            geography: None,
        }]),
    })
}

pub async fn describe_account_attributes(
    ctx: Ctx,
    req: shapes::DescribeAccountAttributesRequest,
) -> Result<shapes::DescribeAccountAttributesResult, AwsError> {
    let default_vpc = berth_ec2::default_vpc::ensure(ctx.api.store.as_ref(), &ctx.api.scope).await?;
    let all = [
        ("supported-platforms", vec!["VPC".to_string()]),
        ("default-vpc", vec![default_vpc]),
        ("max-instances", vec![berth_ec2::instances::MAX_COUNT.to_string()]),
        ("vpc-max-security-groups-per-interface", vec!["5".to_string()]),
        ("max-elastic-ips", vec!["5".to_string()]),
        ("vpc-max-elastic-ips", vec!["5".to_string()]),
    ];
    let names = req.attribute_names.unwrap_or_default();
    let attributes = all
        .into_iter()
        .filter(|(name, _)| names.is_empty() || names.iter().any(|n| n.as_str() == *name))
        .map(|(name, values)| shapes::AccountAttribute {
            attribute_name: Some(name.to_string()),
            attribute_values: Some(
                values.into_iter().map(|v| shapes::AccountAttributeValue { attribute_value: Some(v) }).collect(),
            ),
        })
        .collect();
    Ok(shapes::DescribeAccountAttributesResult { account_attributes: Some(attributes) })
}
