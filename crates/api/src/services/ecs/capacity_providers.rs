//! Capacity providers: CreateCapacityProvider, UpdateCapacityProvider,
//! DeleteCapacityProvider, DescribeCapacityProviders. A provider names an Auto Scaling
//! group (which must exist and not be another provider's); its rules are berth-model's
//! (`capacity_provider::validate`); berth-control's managed scaling scales its group.
//! FARGATE and FARGATE_SPOT are always there, as on ECS.

use super::paging;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::arn::{EcsResource, Scope};
use berth_model::autoscaling::AutoScalingGroupRecord;
use berth_model::capacity_provider::validate::{self, Refused};
use berth_model::capacity_provider::{self as cp, CapacityProviderRecord};
use berth_model::ecs::*;
use berth_model::records::ServiceRecord;
use berth_model::{keys, tags};
use berth_store::documents::{self, Change};

impl From<Refused> for AwsError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Client(m) => AwsError::ecs_client(m),
            Refused::InvalidParameter(m) => AwsError::ecs_invalid_parameter(m),
        }
    }
}

pub async fn create(ctx: Ctx, req: CreateCapacityProviderRequest) -> Result<CreateCapacityProviderResponse, AwsError> {
    validate::name(&req.name)?;
    if req.managed_instances_provider.is_some() || req.cluster.is_some() {
        return Err(AwsError::ecs_invalid_parameter(
            "berth serves Auto Scaling group capacity providers only: give autoScalingGroupProvider, without managedInstancesProvider or cluster.",
        ));
    }
    let Some(mut asg) = req.auto_scaling_group_provider else {
        return Err(AwsError::ecs_invalid_parameter("autoScalingGroupProvider must be specified."));
    };
    let tags = req.tags.unwrap_or_default();
    tags::validate(&tags).map_err(AwsError::ecs_invalid_parameter)?;
    if let Some(m) = &asg.managed_scaling {
        validate::managed_scaling(m)?;
    }
    let group_name = cp::group_name(ctx.scope(), &asg.auto_scaling_group_arn)
        .ok_or_else(|| invalid_group(&asg.auto_scaling_group_arn))?
        .to_string();
    let group =
        documents::get::<AutoScalingGroupRecord>(ctx.store(), &berth_model::autoscaling::keys::group(&group_name))
            .await?
            .ok_or_else(|| invalid_group(&asg.auto_scaling_group_arn))?
            .value;
    asg.auto_scaling_group_arn = group.arn.clone();
    asg.managed_scaling = Some(cp::with_defaults(asg.managed_scaling.take()));
    asg.managed_termination_protection.get_or_insert(ManagedTerminationProtection::Disabled);
    asg.managed_draining.get_or_insert(ManagedDraining::Enabled);
    check_termination_protection(&asg, &group)?;
    let others = documents::list::<CapacityProviderRecord>(ctx.store(), keys::CAPACITY_PROVIDERS).await?;
    if others.iter().any(|d| d.value.is_active() && d.value.group_name == group_name && d.value.name() != req.name) {
        return Err(AwsError::ecs_client(
            "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.",
        ));
    }
    let record = CapacityProviderRecord {
        provider: CapacityProvider {
            capacity_provider_arn: Some(ctx.scope().ecs(&EcsResource::CapacityProvider(req.name.clone()))),
            name: Some(req.name.clone()),
            status: Some(CapacityProviderStatus::Active),
            auto_scaling_group_provider: Some(asg),
            tags: Some(tags),
            r#type: Some(CapacityProviderType::Ec2Autoscaling),
            ..Default::default()
        },
        group_name,
        policy_name: None,
        empty_since: Default::default(),
        last_reservation: None,
    };
    // A deleted (INACTIVE) provider's name may be used again.
    let stored = documents::modify(ctx.store(), &keys::capacity_provider(&req.name), |current: Option<CapacityProviderRecord>| {
        match current {
            Some(c) if c.is_active() => Err(AwsError::ecs_client(
                "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.",
            )),
            _ => Ok((Change::Put(record.clone()), record.clone())),
        }
    })
    .await?;
    Ok(CreateCapacityProviderResponse { capacity_provider: Some(stored.provider) })
}

pub async fn update(ctx: Ctx, req: UpdateCapacityProviderRequest) -> Result<UpdateCapacityProviderResponse, AwsError> {
    if req.managed_instances_provider.is_some() || req.cluster.is_some() {
        return Err(AwsError::ecs_invalid_parameter(
            "berth serves Auto Scaling group capacity providers only: give autoScalingGroupProvider.",
        ));
    }
    let Some(change) = req.auto_scaling_group_provider else {
        return Err(AwsError::ecs_invalid_parameter("autoScalingGroupProvider must be specified."));
    };
    if let Some(m) = &change.managed_scaling {
        validate::managed_scaling(m)?;
    }
    let name = provider_name(ctx.scope(), &req.name);
    let current = active(&ctx, &name).await?;
    let mut asg = current.provider.auto_scaling_group_provider.clone().unwrap_or_else(|| AutoScalingGroupProvider {
        auto_scaling_group_arn: String::new(),
        managed_scaling: None,
        managed_termination_protection: None,
        managed_draining: None,
    });
    if let Some(m) = change.managed_scaling {
        asg.managed_scaling = Some(cp::with_defaults(Some(m)));
    }
    if let Some(p) = change.managed_termination_protection {
        asg.managed_termination_protection = Some(p);
    }
    if let Some(d) = change.managed_draining {
        asg.managed_draining = Some(d);
    }
    if let Some(group) = documents::get::<AutoScalingGroupRecord>(
        ctx.store(),
        &berth_model::autoscaling::keys::group(&current.group_name),
    )
    .await?
    {
        check_termination_protection(&asg, &group.value)?;
    }
    let updated =
        documents::modify(ctx.store(), &keys::capacity_provider(&name), |c: Option<CapacityProviderRecord>| match c {
            Some(mut c) if c.is_active() => {
                c.provider.auto_scaling_group_provider = Some(asg.clone());
                c.provider.update_status = Some(CapacityProviderUpdateStatus::UpdateComplete);
                Ok((Change::Put(c.clone()), c))
            }
            _ => Err(not_found(&name)),
        })
        .await?;
    Ok(UpdateCapacityProviderResponse { capacity_provider: Some(shown(updated.provider, true)) })
}

pub async fn delete(ctx: Ctx, req: DeleteCapacityProviderRequest) -> Result<DeleteCapacityProviderResponse, AwsError> {
    let name = provider_name(ctx.scope(), &req.capacity_provider);
    if cp::is_built_in(&name) {
        return Err(AwsError::ecs_client(format!(
            "The {name} capacity provider is managed by ECS and cannot be deleted."
        )));
    }
    active(&ctx, &name).await?;
    let clusters = documents::list::<Cluster>(ctx.store(), keys::CLUSTERS).await?;
    if let Some(c) = clusters
        .iter()
        .map(|d| &d.value)
        .find(|c| c.is_active() && c.capacity_providers.iter().flatten().any(|p| *p == name))
    {
        return Err(AwsError::ecs_client(format!(
            "The specified capacity provider is in use and cannot be removed. It is associated with the cluster '{}': remove it from the cluster's capacity providers first.",
            c.cluster_name.as_deref().unwrap_or_default()
        )));
    }
    if in_use_by_services(&ctx, &name).await? {
        return Err(AwsError::ecs_client(
            "The specified capacity provider is in use by a service's capacity provider strategy and cannot be removed.",
        ));
    }
    let deleted =
        documents::modify(ctx.store(), &keys::capacity_provider(&name), |c: Option<CapacityProviderRecord>| match c {
            Some(mut c) if c.is_active() => {
                c.provider.status = Some(CapacityProviderStatus::Inactive);
                c.provider.update_status = Some(CapacityProviderUpdateStatus::DeleteComplete);
                Ok((Change::Put(c.clone()), c))
            }
            _ => Err(not_found(&name)),
        })
        .await?;
    let mut answered = shown(deleted.provider, true);
    answered.status = Some(CapacityProviderStatus::Active);
    answered.update_status = Some(CapacityProviderUpdateStatus::DeleteInProgress);
    Ok(DeleteCapacityProviderResponse { capacity_provider: Some(answered) })
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeCapacityProvidersRequest,
) -> Result<DescribeCapacityProvidersResponse, AwsError> {
    if req.cluster.is_some() {
        return Err(AwsError::ecs_invalid_parameter(
            "berth serves Auto Scaling group capacity providers only: cluster applies to Managed Instances providers.",
        ));
    }
    let with_tags = req.include.unwrap_or_default().contains(&CapacityProviderField::Tags);
    let stored = documents::list::<CapacityProviderRecord>(ctx.store(), keys::CAPACITY_PROVIDERS).await?;
    let mut all: Vec<CapacityProvider> = cp::BUILT_IN.iter().map(|n| built_in(&ctx, n)).collect();
    all.extend(stored.into_iter().map(|d| d.value.provider));
    match req.capacity_providers {
        Some(wanted) if !wanted.is_empty() => {
            if req.next_token.is_some() || req.max_results.is_some() {
                return Err(AwsError::ecs_invalid_parameter(
                    "maxResults and nextToken cannot be used when capacityProviders are named.",
                ));
            }
            let (mut found, mut failures) = (vec![], vec![]);
            for given in wanted {
                let name = provider_name(ctx.scope(), &given);
                match all.iter().find(|p| p.name.as_deref() == Some(name.as_str())) {
                    Some(p) => found.push(shown(p.clone(), with_tags)),
                    None => failures.push(Failure {
                        arn: Some(if given.starts_with("arn:") {
                            given.clone()
                        } else {
                            ctx.scope().ecs(&EcsResource::CapacityProvider(given.clone()))
                        }),
                        reason: Some("MISSING".into()),
                        detail: None,
                    }),
                }
            }
            Ok(DescribeCapacityProvidersResponse {
                capacity_providers: Some(found),
                failures: Some(failures),
                next_token: None,
            })
        }
        _ => {
            let active: Vec<CapacityProvider> = all
                .into_iter()
                .filter(|p| p.status == Some(CapacityProviderStatus::Active))
                .map(|p| shown(p, with_tags))
                .collect();
            let page = paging::paginate(
                active,
                |p| p.name.clone().unwrap_or_default(),
                false,
                req.next_token.as_deref(),
                req.max_results,
                10,
            )?;
            Ok(DescribeCapacityProvidersResponse {
                capacity_providers: Some(page.items),
                failures: Some(vec![]),
                next_token: page.next_token,
            })
        }
    }
}

/// The ACTIVE capacity provider `name` (Fargate's included), or ClientException.
pub async fn active(ctx: &Ctx, name: &str) -> Result<CapacityProviderRecord, AwsError> {
    match documents::get::<CapacityProviderRecord>(ctx.store(), &keys::capacity_provider(name)).await? {
        Some(d) if d.value.is_active() => Ok(d.value),
        _ => Err(not_found(name)),
    }
}

/// Whether `s` is ACTIVE (not being deleted) and names provider `name` in its strategy.
fn uses(s: &Service, name: &str) -> bool {
    s.status.as_deref() == Some(berth_model::service::ACTIVE)
        && s.capacity_provider_strategy.iter().flatten().any(|i| i.capacity_provider == name)
}

/// Whether an ACTIVE service anywhere names `name` in its strategy.
async fn in_use_by_services(ctx: &Ctx, name: &str) -> Result<bool, AwsError> {
    let services = documents::list::<ServiceRecord>(ctx.store(), keys::SERVICES).await?;
    Ok(services.iter().map(|d| &d.value.service).any(|s| uses(s, name)))
}

/// Managed termination protection needs managed scaling and the group's scale-in protection.
fn check_termination_protection(
    asg: &AutoScalingGroupProvider,
    group: &AutoScalingGroupRecord,
) -> Result<(), AwsError> {
    if asg.managed_termination_protection != Some(ManagedTerminationProtection::Enabled) {
        return Ok(());
    }
    if !group.new_instances_protected_from_scale_in {
        return Err(AwsError::ecs_client(
            "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.",
        ));
    }
    let scaling = asg.managed_scaling.as_ref().and_then(|m| m.status);
    if scaling != Some(ManagedScalingStatus::Enabled) {
        return Err(AwsError::ecs_client(
            "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, managed scaling must be enabled.",
        ));
    }
    Ok(())
}

/// A provider as DescribeCapacityProviders shows it: tags only when asked for.
fn shown(mut p: CapacityProvider, with_tags: bool) -> CapacityProvider {
    if !with_tags {
        p.tags = None;
    }
    p
}

fn built_in(ctx: &Ctx, name: &str) -> CapacityProvider {
    CapacityProvider {
        capacity_provider_arn: Some(ctx.scope().ecs(&EcsResource::CapacityProvider(name.to_string()))),
        name: Some(name.to_string()),
        status: Some(CapacityProviderStatus::Active),
        tags: Some(vec![]),
        r#type: Some(if name == "FARGATE" { CapacityProviderType::Fargate } else { CapacityProviderType::FargateSpot }),
        ..Default::default()
    }
}

/// The name a caller gives: a name, or the provider's ARN.
pub fn provider_name(scope: &Scope, given: &str) -> String {
    match scope.ecs_resource(given) {
        Some(EcsResource::CapacityProvider(name)) => name,
        // A name, or an ARN that names nothing here (no provider's name holds a colon).
        _ => given.to_string(),
    }
}

fn not_found(name: &str) -> AwsError {
    AwsError::ecs_client(format!("The specified capacity provider '{name}' does not exist."))
}

fn invalid_group(given: &str) -> AwsError {
    AwsError::ecs_client(format!(
        "The specified Auto Scaling group '{given}' could not be found. Specify a valid Auto Scaling group ARN and try again."
    ))
}

/// What a cluster's capacity providers (CreateCluster, PutClusterCapacityProviders) must
/// be: Fargate's or ACTIVE providers, none associated with another cluster, none that a
/// service of the cluster still names being removed, and a default strategy over them.
/// Returns the cluster's attachments: ECS's managed scaling policy (`as_policy`) of each
/// provider with managed scaling, whose policy name is kept on the provider.
pub async fn for_cluster(
    ctx: &Ctx,
    cluster: &str,
    before: &[String],
    providers: &[String],
    strategy: &[CapacityProviderStrategyItem],
) -> Result<Vec<Attachment>, AwsError> {
    let clusters = documents::list::<Cluster>(ctx.store(), keys::CLUSTERS).await?;
    let mut attachments = vec![];
    for (i, name) in providers.iter().enumerate() {
        if providers[..i].contains(name) {
            return Err(AwsError::ecs_invalid_parameter(format!(
                "The capacity provider '{name}' is named more than once."
            )));
        }
        if cp::is_built_in(name) {
            continue;
        }
        let rec = active(ctx, name).await.map_err(|_| {
            AwsError::ecs_invalid_parameter(format!(
                "The specified capacity provider '{name}' does not exist. Specify a valid capacity provider and try again."
            ))
        })?;
        if let Some(other) = clusters.iter().map(|d| &d.value).find(|c| {
            c.is_active()
                && c.cluster_name.as_deref() != Some(cluster)
                && c.capacity_providers.iter().flatten().any(|p| p == name)
        }) {
            return Err(AwsError::ecs_client(format!(
                "The specified capacity provider '{name}' is already associated with the cluster '{}'. A capacity provider that uses an Auto Scaling group can be associated with only one cluster.",
                other.cluster_name.as_deref().unwrap_or_default()
            )));
        }
        if rec.scaling_enabled() {
            let policy = policy_name(ctx, name).await?;
            attachments.push(Attachment {
                id: Some(uuid::Uuid::new_v4().to_string()),
                r#type: Some("as_policy".into()),
                status: Some("CREATED".into()),
                details: Some(vec![
                    KeyValuePair { name: Some("capacityProviderName".into()), value: Some(name.clone()) },
                    KeyValuePair { name: Some("scalingPolicyName".into()), value: Some(policy) },
                ]),
            });
        }
    }
    validate::strategy(strategy)?;
    validate::one_kind(strategy)?;
    if let Some(item) = strategy.iter().find(|i| !providers.contains(&i.capacity_provider)) {
        return Err(AwsError::ecs_invalid_parameter(format!(
            "The default capacity provider strategy names '{}', which is not one of the cluster's capacity providers.",
            item.capacity_provider
        )));
    }
    let services = documents::list::<ServiceRecord>(ctx.store(), &keys::services_of(cluster)).await?;
    for removed in before.iter().filter(|p| !providers.contains(p)) {
        let used = services.iter().map(|d| &d.value.service).any(|s| uses(s, removed));
        if used {
            return Err(AwsError::ecs_resource_in_use(format!(
                "The specified capacity provider '{removed}' is in use and cannot be removed."
            )));
        }
    }
    Ok(attachments)
}

/// ECS's scaling policy name for provider `name` (`ECSManagedAutoScalingPolicy-<uuid>`),
/// chosen once and kept on the provider.
async fn policy_name(ctx: &Ctx, name: &str) -> Result<String, AwsError> {
    documents::modify(ctx.store(), &keys::capacity_provider(name), |c: Option<CapacityProviderRecord>| {
        let mut c = c.ok_or_else(|| not_found(name))?;
        if let Some(p) = &c.policy_name {
            return Ok((Change::Keep, p.clone()));
        }
        let p = format!("ECSManagedAutoScalingPolicy-{}", uuid::Uuid::new_v4());
        c.policy_name = Some(p.clone());
        Ok((Change::Put(c), p))
    })
    .await
}
