//! Groups: Create/Update/Delete/DescribeAutoScalingGroups and SetDesiredCapacity. What
//! a group launches from and into is checked against EC2's records first
//! (`berth_autoscaling::sources`); nothing is stored when anything is refused.

use super::{filters, page};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups::{self as ops, change_desired};
use berth_autoscaling::sources::{self, Network, Template};
use berth_model::Timestamp;
use berth_model::autoscaling::activity::DesiredChange;
use berth_model::autoscaling::validate::{self as rules};
use berth_model::autoscaling::*;

/// The service-linked role a group acts as (created on the first group).
pub(super) const LINKED_ROLE_SERVICE: &str = "autoscaling.amazonaws.com";

pub async fn create(ctx: Ctx, input: CreateAutoScalingGroupType) -> Result<(), AwsError> {
    let name = input.auto_scaling_group_name.clone();
    rules::name(&name, "autoScalingGroupName")?;
    let desired = input.desired_capacity.unwrap_or(input.min_size);
    rules::sizes(input.min_size, input.max_size, desired)?;
    let cooldown = input.default_cooldown.unwrap_or(300);
    rules::seconds(cooldown, "DefaultCooldown")?;
    let grace = input.health_check_grace_period.unwrap_or(0);
    rules::seconds(grace, "HealthCheckGracePeriod")?;
    let health_check_type = input.health_check_type.clone().unwrap_or_else(|| "EC2".into());
    rules::health_check_type(&health_check_type)?;
    let termination_policies =
        input.termination_policies.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| vec!["Default".into()]);
    rules::termination_policies(&termination_policies)?;
    let tags = rules::tags_for(&name, input.tags.as_deref().unwrap_or_default())?;
    let tags = rules::merge_tags(&[], tags)?;
    let Some(named) = sources::named(input.launch_template.as_ref(), input.mixed_instances_policy.as_ref()) else {
        return Err(no_launch_source(input.launch_configuration_name.as_deref(), input.instance_id.as_deref()));
    };
    let template = sources::template(ctx.store(), named).await?;
    let network = sources::network(
        ctx.store(),
        ctx.scope(),
        input.vpc_zone_identifier.as_deref(),
        input.availability_zones.as_deref(),
        &template.params,
    )
    .await?;
    let mut hooks = Vec::new();
    for spec in input.lifecycle_hook_specification_list.as_deref().unwrap_or_default() {
        hooks.push(rules::lifecycle_hook(&hook_input(&name, spec), None)?);
    }
    let service_linked_role_arn = match &input.service_linked_role_arn {
        Some(arn) => arn.clone(),
        None => super::access::ensure_linked_role(&ctx).await?,
    };
    let now = Timestamp::now();
    let uuid = uuid::Uuid::new_v4().to_string();
    let mut record = AutoScalingGroupRecord {
        name: name.clone(),
        arn: arn::group(ctx.scope(), &uuid, &name),
        launch_template: input.launch_template.as_ref().map(|_| template.spec.clone()),
        mixed_instances_policy: input.mixed_instances_policy.clone(),
        min_size: input.min_size,
        max_size: input.max_size,
        desired_capacity: 0,
        default_cooldown: cooldown,
        vpc_zone_identifier: network.subnets,
        availability_zones: network.zones,
        subnet_zones: network.subnet_zones,
        health_check_type,
        health_check_grace_period: grace,
        termination_policies,
        new_instances_protected_from_scale_in: input.new_instances_protected_from_scale_in.unwrap_or(false),
        capacity_rebalance: input.capacity_rebalance.unwrap_or(false),
        max_instance_lifetime: input.max_instance_lifetime,
        default_instance_warmup: input.default_instance_warmup,
        context: input.context.clone(),
        tags,
        instances: vec![],
        status: None,
        created_time: now,
        service_linked_role_arn,
        lifecycle_hooks: hooks,
        suspended_processes: vec![],
        policies: vec![],
        activities: vec![],
        desired_cause: None,
        last_scaled: None,
        launches: 0,
        launch_retry_after: None,
    };
    change_desired(&mut record, desired, DesiredChange::Created, now);
    ops::create_group(ctx.store(), &record).await?;
    Ok(())
}

/// The template the group's instances launch from: its own, or its MixedInstancesPolicy's.
pub(crate) fn launch_template_of(group: &AutoScalingGroupRecord) -> Option<&LaunchTemplateSpecification> {
    sources::named(group.launch_template.as_ref(), group.mixed_instances_policy.as_ref())
}

fn no_launch_source(launch_configuration: Option<&str>, instance_id: Option<&str>) -> AwsError {
    if let Some(lc) = launch_configuration {
        return AsgError::validation(format!(
            "Launch configuration name not found - Launch configuration {lc} not found (berth serves launch templates only)"
        ))
        .into();
    }
    if instance_id.is_some() {
        return AsgError::validation(
            "Creating a group from an InstanceId is not supported by berth: use a launch template.",
        )
        .into();
    }
    AsgError::validation(
        "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.",
    )
    .into()
}

fn hook_input(group: &str, spec: &LifecycleHookSpecification) -> PutLifecycleHookType {
    PutLifecycleHookType {
        lifecycle_hook_name: spec.lifecycle_hook_name.clone(),
        auto_scaling_group_name: group.to_string(),
        lifecycle_transition: Some(spec.lifecycle_transition.clone()),
        role_arn: spec.role_arn.clone(),
        notification_target_arn: spec.notification_target_arn.clone(),
        notification_metadata: spec.notification_metadata.clone(),
        heartbeat_timeout: spec.heartbeat_timeout,
        default_result: spec.default_result.clone(),
    }
}

pub async fn update(ctx: Ctx, input: UpdateAutoScalingGroupType) -> Result<(), AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name).to_string();
    if let Some(c) = input.default_cooldown {
        rules::seconds(c, "DefaultCooldown")?;
    }
    if let Some(g) = input.health_check_grace_period {
        rules::seconds(g, "HealthCheckGracePeriod")?;
    }
    if let Some(t) = &input.health_check_type {
        rules::health_check_type(t)?;
    }
    if let Some(p) = &input.termination_policies {
        rules::termination_policies(p)?;
    }
    if input.launch_configuration_name.is_some() {
        return Err(no_launch_source(input.launch_configuration_name.as_deref(), None));
    }
    let current = ops::get_group(ctx.store(), &name).await?.ok_or_else(|| AsgError::group_not_found(&name))?;
    // What the group will launch from and into, checked when either changes.
    let new_template: Option<Template> =
        match sources::named(input.launch_template.as_ref(), input.mixed_instances_policy.as_ref()) {
            Some(spec) => Some(sources::template(ctx.store(), spec).await?),
            None => None,
        };
    let network: Option<Network> = if input.vpc_zone_identifier.is_some()
        || input.availability_zones.is_some()
        || new_template.is_some()
    {
        let params = match &new_template {
            Some(t) => t.params.clone(),
            None => match launch_template_of(&current) {
                Some(spec) => sources::template(ctx.store(), spec).await?.params,
                None => Default::default(),
            },
        };
        let subnets = input
            .vpc_zone_identifier
            .clone()
            .or_else(|| (!current.vpc_zone_identifier.is_empty()).then(|| current.vpc_zone_identifier.join(",")));
        let zones =
            input.availability_zones.clone().or_else(|| subnets.is_none().then(|| current.availability_zones.clone()));
        Some(sources::network(ctx.store(), ctx.scope(), subnets.as_deref(), zones.as_deref(), &params).await?)
    } else {
        None
    };
    let now = Timestamp::now();
    ops::edit_live(ctx.store(), &name, |g| {
        let min = input.min_size.unwrap_or(g.min_size);
        let max = input.max_size.unwrap_or(g.max_size);
        // A new bound moves the desired capacity inside it, as Auto Scaling does.
        let desired = input.desired_capacity.unwrap_or_else(|| g.desired_capacity.clamp(min.min(max), max.max(min)));
        rules::sizes(min, max, desired)?;
        (g.min_size, g.max_size) = (min, max);
        change_desired(g, desired, DesiredChange::Updated { min, max, desired }, now);
        if let Some(t) = &new_template {
            if input.launch_template.is_some() {
                g.launch_template = Some(t.spec.clone());
                g.mixed_instances_policy = None;
            } else {
                g.launch_template = None;
                g.mixed_instances_policy = input.mixed_instances_policy.clone();
            }
        }
        if let Some(n) = &network {
            g.vpc_zone_identifier = n.subnets.clone();
            g.availability_zones = n.zones.clone();
            g.subnet_zones = n.subnet_zones.clone();
        }
        set(&mut g.default_cooldown, input.default_cooldown);
        set(&mut g.health_check_grace_period, input.health_check_grace_period);
        set(&mut g.health_check_type, input.health_check_type.clone());
        set(&mut g.termination_policies, input.termination_policies.clone().filter(|p| !p.is_empty()));
        set(&mut g.new_instances_protected_from_scale_in, input.new_instances_protected_from_scale_in);
        set(&mut g.capacity_rebalance, input.capacity_rebalance);
        set(&mut g.service_linked_role_arn, input.service_linked_role_arn.clone());
        if input.max_instance_lifetime.is_some() {
            g.max_instance_lifetime = input.max_instance_lifetime;
        }
        if input.default_instance_warmup.is_some() {
            g.default_instance_warmup = input.default_instance_warmup;
        }
        if input.context.is_some() {
            g.context.clone_from(&input.context);
        }
        Ok(())
    })
    .await?;
    Ok(())
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

pub async fn delete(ctx: Ctx, input: DeleteAutoScalingGroupType) -> Result<(), AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name);
    ops::delete_group(ctx.store(), name, input.force_delete.unwrap_or(false)).await?;
    Ok(())
}

pub async fn set_desired_capacity(ctx: Ctx, input: SetDesiredCapacityType) -> Result<(), AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name);
    ops::set_desired_capacity(ctx.store(), name, input.desired_capacity, input.honor_cooldown.unwrap_or(false)).await?;
    Ok(())
}

pub async fn describe(ctx: Ctx, input: AutoScalingGroupNamesType) -> Result<AutoScalingGroupsType, AwsError> {
    let names: Vec<String> =
        input.auto_scaling_group_names.unwrap_or_default().iter().map(|n| arn::name_or_arn(n).to_string()).collect();
    let filters = filters(input.filters.as_deref());
    if let Some((bad, _)) = filters.iter().find(|(f, _)| f != "tag-key" && f != "tag-value" && !f.starts_with("tag:")) {
        return Err(AsgError::validation(format!(
            "Filter name '{bad}' is not valid: use tag-key, tag-value or tag:<key>."
        ))
        .into());
    }
    let groups: Vec<AutoScalingGroupRecord> = ops::list_groups(ctx.store())
        .await?
        .into_iter()
        .filter(|g| names.is_empty() || names.contains(&g.name))
        .filter(|g| filters.iter().all(|(f, values)| matches_filter(g, f, values)))
        .collect();
    let (groups, next_token) =
        page(groups, |g| g.name.clone(), input.next_token.as_deref(), input.max_records, 50, 100)?;
    Ok(AutoScalingGroupsType {
        auto_scaling_groups: groups.iter().map(AutoScalingGroupRecord::shown).collect(),
        next_token,
    })
}

/// DescribeAutoScalingGroups' filters: `tag-key`, `tag-value`, `tag:<key>` (any value matches).
pub(super) fn matches_filter(group: &AutoScalingGroupRecord, filter: &str, values: &[String]) -> bool {
    let has = |key: Option<&str>, value: Option<&str>| {
        group.tags.iter().any(|t| {
            key.is_none_or(|k| t.key.as_deref() == Some(k)) && value.is_none_or(|v| t.value.as_deref() == Some(v))
        })
    };
    match filter {
        "tag-key" => values.iter().any(|v| has(Some(v), None)),
        "tag-value" => values.iter().any(|v| has(None, Some(v))),
        f => f.strip_prefix("tag:").is_some_and(|key| values.iter().any(|v| has(Some(key), Some(v)))),
    }
}
