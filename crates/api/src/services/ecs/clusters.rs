//! Clusters: CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster,
//! UpdateClusterSettings, PutClusterCapacityProviders.
//!
//! The store keeps the `Cluster` shape as last written, without its counts; counts are
//! derived from the cluster's instances (not INACTIVE), services and tasks (RUNNING;
//! pending = not yet RUNNING) whenever a cluster is shown.

use super::{capacity_providers, paging};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::{load, names};
use berth_model::arn::EcsResource;
use berth_model::ecs::*;
use berth_model::records::{ContainerInstanceRecord, ServiceRecord};
use berth_model::task_lifecycle::TaskStatus;
use berth_model::{keys, tags};
use berth_store::Txn;
use berth_store::documents::{self, Change};

pub async fn create(ctx: Ctx, req: CreateClusterRequest) -> Result<CreateClusterResponse, AwsError> {
    let name = names::cluster_name(ctx.scope(), req.cluster_name.as_deref())?;
    let tags = req.tags.unwrap_or_default();
    tags::validate(&tags).map_err(AwsError::ecs_invalid_parameter)?;
    let settings = merge_settings(default_settings(), req.settings.unwrap_or_default())?;
    let capacity_providers = req.capacity_providers.unwrap_or_default();
    let strategy = req.default_capacity_provider_strategy.unwrap_or_default();
    let attachments = capacity_providers::for_cluster(&ctx, &name, &[], &capacity_providers, &strategy).await?;

    let fresh = Cluster {
        cluster_arn: Some(ctx.scope().ecs(&EcsResource::Cluster(name.clone()))),
        cluster_name: Some(name.clone()),
        configuration: req.configuration,
        status: Some(Cluster::ACTIVE.into()),
        tags: Some(tags),
        settings: Some(settings),
        capacity_providers: Some(capacity_providers),
        default_capacity_provider_strategy: Some(strategy),
        attachments_status: (!attachments.is_empty()).then(|| "UPDATE_COMPLETE".into()),
        attachments: Some(attachments),
        service_connect_defaults: req
            .service_connect_defaults
            .map(|d| ClusterServiceConnectDefaults { namespace: Some(d.namespace) }),
        ..Default::default()
    };
    // Creating a cluster that is already ACTIVE returns it unchanged, as ECS does, so
    // scripts can "ensure" a cluster exists.
    let cluster =
        documents::modify(ctx.store(), &keys::cluster(&name), |current: Option<Cluster>| -> Result<_, AwsError> {
            Ok(match current {
                Some(c) if c.is_active() => (Change::Keep, c),
                _ => (Change::Put(fresh.clone()), fresh.clone()),
            })
        })
        .await?;
    Ok(CreateClusterResponse { cluster: Some(shown(&ctx, cluster, ClusterField::ALL).await?) })
}

pub async fn describe(ctx: Ctx, req: DescribeClustersRequest) -> Result<DescribeClustersResponse, AwsError> {
    let wanted = req.clusters.unwrap_or_else(|| vec!["default".into()]);
    if wanted.len() > 100 {
        return Err(AwsError::ecs_invalid_parameter("At most 100 clusters can be described at once."));
    }
    let include = req.include.unwrap_or_default();
    let (mut clusters, mut failures) = (vec![], vec![]);
    for given in wanted {
        let found = match names::cluster_name(ctx.scope(), Some(&given)) {
            Ok(name) => documents::get::<Cluster>(ctx.store(), &keys::cluster(&name)).await?,
            Err(_) => None,
        };
        match found {
            Some(doc) => clusters.push(shown(&ctx, doc.value, &include).await?),
            None => failures.push(Failure {
                arn: Some(missing_arn(&ctx, &given)),
                reason: Some("MISSING".into()),
                detail: None,
            }),
        }
    }
    Ok(DescribeClustersResponse { clusters: Some(clusters), failures: Some(failures) })
}

pub async fn list(ctx: Ctx, req: ListClustersRequest) -> Result<ListClustersResponse, AwsError> {
    let arns: Vec<String> = documents::list::<Cluster>(ctx.store(), keys::CLUSTERS)
        .await?
        .into_iter()
        .filter(|d| d.value.is_active())
        .filter_map(|d| d.value.cluster_arn)
        .collect();
    let page = paging::paginate(arns, String::clone, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListClustersResponse { cluster_arns: Some(page.items), next_token: page.next_token })
}

pub async fn delete(ctx: Ctx, req: DeleteClusterRequest) -> Result<DeleteClusterResponse, AwsError> {
    let name = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    active(&ctx, &name).await?;
    if live_services(&ctx, &name).await? > 0 {
        return Err(AwsError::ecs_cluster_contains(
            "ClusterContainsServicesException",
            "The cluster cannot be deleted while services are active. Delete its services (or scale them to 0 and delete them) first.",
        ));
    }
    let live_instances = load::instances(ctx.ecs(), &name).await?;
    if live_instances
        .iter()
        .any(|d| matches!(d.value.status(), ContainerInstanceRecord::ACTIVE | ContainerInstanceRecord::DRAINING))
    {
        return Err(AwsError::ecs_cluster_contains(
            "ClusterContainsContainerInstancesException",
            "The Cluster cannot be deleted while Container Instances are active or draining.",
        ));
    }
    let live_tasks = load::tasks(ctx.ecs(), &name).await?;
    if live_tasks.iter().any(|d| TaskStatus::of(&d.value.task) != TaskStatus::Stopped) {
        return Err(AwsError::ecs_cluster_contains(
            "ClusterContainsTasksException",
            "The Cluster cannot be deleted while Tasks are active.",
        ));
    }
    let cluster = change_active(&ctx, &name, |c| {
        c.status = Some(Cluster::INACTIVE.into());
        Ok(())
    })
    .await?;
    forget_fargate_pool(&ctx, &name).await?;
    Ok(DeleteClusterResponse { cluster: Some(shown(&ctx, cluster, &[]).await?) })
}

/// A deleted cluster's Fargate pool: the hosts end their pool agents there (the mark
/// goes) and the agents' hidden container instances go with it.
async fn forget_fargate_pool(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let mut txn = Txn::new().delete(berth_model::fleet::keys::fargate_cluster(name));
    for doc in load::all_instances(ctx.ecs(), name).await? {
        if berth_model::fargate::is_pool(&doc.value) {
            txn = txn.delete(keys::instance(name, &doc.value.id()));
        }
    }
    ctx.store().txn(txn).await?;
    Ok(())
}

pub async fn update(ctx: Ctx, req: UpdateClusterRequest) -> Result<UpdateClusterResponse, AwsError> {
    let name = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let cluster = change_active(&ctx, &name, |c| {
        if let Some(settings) = &req.settings {
            c.settings = Some(merge_settings(c.settings.take().unwrap_or_default(), settings.clone())?);
        }
        if let Some(configuration) = &req.configuration {
            c.configuration = Some(configuration.clone());
        }
        if let Some(defaults) = &req.service_connect_defaults {
            c.service_connect_defaults =
                Some(ClusterServiceConnectDefaults { namespace: Some(defaults.namespace.clone()) });
        }
        Ok(())
    })
    .await?;
    Ok(UpdateClusterResponse { cluster: Some(shown(&ctx, cluster, ClusterField::ALL).await?) })
}

pub async fn update_settings(
    ctx: Ctx,
    req: UpdateClusterSettingsRequest,
) -> Result<UpdateClusterSettingsResponse, AwsError> {
    let name = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let cluster = change_active(&ctx, &name, |c| {
        c.settings = Some(merge_settings(c.settings.take().unwrap_or_default(), req.settings.clone())?);
        Ok(())
    })
    .await?;
    Ok(UpdateClusterSettingsResponse { cluster: Some(shown(&ctx, cluster, ClusterField::ALL).await?) })
}

pub async fn put_capacity_providers(
    ctx: Ctx,
    req: PutClusterCapacityProvidersRequest,
) -> Result<PutClusterCapacityProvidersResponse, AwsError> {
    let name = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let before = active(&ctx, &name).await?.capacity_providers.unwrap_or_default();
    let attachments = capacity_providers::for_cluster(
        &ctx,
        &name,
        &before,
        &req.capacity_providers,
        &req.default_capacity_provider_strategy,
    )
    .await?;
    let cluster = change_active(&ctx, &name, |c| {
        c.capacity_providers = Some(req.capacity_providers.clone());
        c.default_capacity_provider_strategy = Some(req.default_capacity_provider_strategy.clone());
        c.attachments_status = Some("UPDATE_COMPLETE".into());
        c.attachments = Some(attachments.clone());
        Ok(())
    })
    .await?;
    Ok(PutClusterCapacityProvidersResponse { cluster: Some(shown(&ctx, cluster, ClusterField::ALL).await?) })
}

/// The ACTIVE cluster `name`, or ClusterNotFoundException. Other ECS operations that
/// act inside a cluster use this too.
pub async fn active(ctx: &Ctx, name: &str) -> Result<Cluster, AwsError> {
    match documents::get::<Cluster>(ctx.store(), &keys::cluster(name)).await? {
        Some(doc) if doc.value.is_active() => Ok(doc.value),
        _ => Err(AwsError::ecs_cluster_not_found()),
    }
}

/// Applies `change` to the ACTIVE cluster `name` with compare-and-swap.
async fn change_active(
    ctx: &Ctx,
    name: &str,
    mut change: impl FnMut(&mut Cluster) -> Result<(), AwsError>,
) -> Result<Cluster, AwsError> {
    documents::modify(ctx.store(), &keys::cluster(name), |current: Option<Cluster>| match current {
        Some(mut c) if c.is_active() => {
            change(&mut c)?;
            Ok((Change::Put(c.clone()), c))
        }
        _ => Err(AwsError::ecs_cluster_not_found()),
    })
    .await
}

/// The ARN reported for a cluster that was asked for but not found.
fn missing_arn(ctx: &Ctx, given: &str) -> String {
    if given.starts_with("arn:") {
        given.to_string()
    } else {
        ctx.scope().ecs(&EcsResource::Cluster(given.to_string()))
    }
}

fn default_settings() -> Vec<ClusterSetting> {
    vec![ClusterSetting { name: Some(ClusterSettingName::ContainerInsights), value: Some("disabled".into()) }]
}

/// Settings replace earlier ones of the same name.
fn merge_settings(mut current: Vec<ClusterSetting>, new: Vec<ClusterSetting>) -> Result<Vec<ClusterSetting>, AwsError> {
    for setting in new {
        let (Some(name), Some(value)) = (setting.name, setting.value.as_deref()) else {
            return Err(AwsError::ecs_invalid_parameter("A cluster setting needs both a name and a value."));
        };
        if !matches!(value, "enabled" | "disabled" | "enhanced") {
            return Err(AwsError::ecs_invalid_parameter(format!(
                "The value '{value}' is not valid for the setting {name}: use enabled, enhanced or disabled."
            )));
        }
        match current.iter_mut().find(|s| s.name == Some(name)) {
            Some(existing) => existing.value = setting.value,
            None => current.push(setting),
        }
    }
    Ok(current)
}

/// How many instances, services and tasks the cluster has: derived, never stored.
struct Counts {
    instances: i32,
    services: i32,
    running_tasks: i32,
    pending_tasks: i32,
}

async fn counts(ctx: &Ctx, name: &str) -> Result<Counts, AwsError> {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let statuses: Vec<TaskStatus> =
        load::tasks(ctx.ecs(), name).await?.iter().map(|d| TaskStatus::of(&d.value.task)).collect();
    Ok(Counts {
        instances: count(load::instances(ctx.ecs(), name).await?.iter().filter(|d| !d.value.is_inactive()).count()),
        services: count(live_services(ctx, name).await?),
        running_tasks: count(statuses.iter().filter(|s| **s == TaskStatus::Running).count()),
        pending_tasks: count(statuses.iter().filter(|s| s.is_pending()).count()),
    })
}

/// How many of the cluster's services are not INACTIVE (ACTIVE or DRAINING).
async fn live_services(ctx: &Ctx, name: &str) -> Result<usize, AwsError> {
    let services = documents::list::<ServiceRecord>(ctx.store(), &keys::services_of(name)).await?;
    Ok(services.iter().filter(|d| d.value.service.status.as_deref() != Some(berth_model::service::INACTIVE)).count())
}

/// The cluster as DescribeClusters shows it: counts filled in, and the optional parts
/// present only when `include` asks for them (tags and statistics are then empty lists).
async fn shown(ctx: &Ctx, mut c: Cluster, include: &[ClusterField]) -> Result<Cluster, AwsError> {
    let name = c.cluster_name.clone().unwrap_or_default();
    let n = counts(ctx, &name).await?;
    c.registered_container_instances_count = Some(n.instances);
    c.active_services_count = Some(n.services);
    c.running_tasks_count = Some(n.running_tasks);
    c.pending_tasks_count = Some(n.pending_tasks);
    let has = |f: ClusterField| include.contains(&f);
    c.statistics = Some(if has(ClusterField::Statistics) {
        [
            ("runningEC2TasksCount", n.running_tasks),
            ("pendingEC2TasksCount", n.pending_tasks),
            ("activeEC2ServiceCount", n.services),
            ("runningFargateTasksCount", 0),
            ("pendingFargateTasksCount", 0),
            ("activeFargateServiceCount", 0),
        ]
        .into_iter()
        .map(|(k, v)| KeyValuePair { name: Some(k.into()), value: Some(v.to_string()) })
        .collect()
    } else {
        vec![]
    });
    if !has(ClusterField::Tags) {
        c.tags = Some(vec![]);
    }
    if !has(ClusterField::Configurations) {
        c.configuration = None;
    }
    if !has(ClusterField::Attachments) {
        c.attachments = None;
        c.attachments_status = None;
    } else if c.attachments.is_none() {
        c.attachments = Some(vec![]);
    }
    Ok(c)
}
