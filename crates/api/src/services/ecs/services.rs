//! Services: CreateService, UpdateService, DeleteService, DescribeServices, ListServices,
//! ListServicesByNamespace, ListServiceDeployments, DescribeServiceDeployments.
//!
//! The handlers record what is wanted (desired count, deployments, configuration) with
//! compare-and-swap; the service controller (berth-control) starts and stops the tasks,
//! keeps the counts, rollout states and events, and takes a deleted service from
//! DRAINING to INACTIVE.

use super::{clusters, paging};
use crate::context::Ctx;
use crate::error::AwsError;
use crate::services::elbv2;
use berth_ecs::launch::ServiceTasks;
use berth_ecs::{names, task_definitions};
use berth_model::arn::EcsResource;
use berth_model::ecs::*;
use berth_model::records::ServiceRecord;
use berth_model::service::{self as rules, NewDeployment};
use berth_model::{Timestamp, keys, launch, tags, taskdef};
use berth_store::documents::{self, Doc};

pub async fn create(ctx: Ctx, req: CreateServiceRequest) -> Result<CreateServiceResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    let cluster_rec = clusters::active(&ctx, &cluster).await?;
    let name = req.service_name.clone();
    if !names::is_valid_name(&name) {
        return Err(AwsError::ecs_invalid_parameter(
            "Service name is invalid: use 1 to 255 letters, numbers, hyphens and underscores.",
        ));
    }
    if let Some(token) = &req.client_token {
        launch::check_client_token(token, 36)?;
    }
    let strategy = req.scheduling_strategy.unwrap_or(SchedulingStrategy::Replica);
    rules::check_desired_count(strategy, req.desired_count)?;
    let desired = req.desired_count.unwrap_or(0);
    let given_td = req
        .task_definition
        .as_deref()
        .ok_or_else(|| AwsError::ecs_invalid_parameter("TaskDefinition can not be blank."))?;
    rules::check_controller(req.deployment_controller.as_ref())?;
    let deployment_configuration =
        rules::deployment_configuration(req.deployment_configuration.as_ref(), None, strategy)?;
    rules::check_grace_period(req.health_check_grace_period_seconds)?;
    rules::check_daemon_strategy(strategy, req.placement_strategy.as_deref())?;
    let capacity = launch::launch_type(
        req.launch_type,
        req.capacity_provider_strategy.as_deref().unwrap_or_default(),
        cluster_rec.default_capacity_provider_strategy.as_deref().unwrap_or_default(),
        cluster_rec.capacity_providers.as_deref().unwrap_or_default(),
    )?;
    // A service of Auto Scaling group providers keeps its strategy (the cluster's default
    // when it gave none) and shows no launch type, as on ECS.
    let (launch_type, capacity_provider_strategy) = if capacity.strategy.is_empty() || req.launch_type.is_some() {
        (capacity.launch_type, req.capacity_provider_strategy.clone())
    } else {
        (None, Some(capacity.strategy))
    };
    let service_tags = req.tags.clone().unwrap_or_default();
    tags::validate(&service_tags).map_err(AwsError::ecs_invalid_parameter)?;
    let td = task_definitions::runnable(ctx.ecs(), given_td, false).await?.task_definition;
    let td_arn = td.task_definition_arn.clone().unwrap_or_default();

    let now = Timestamp::now();
    let mut deployment = rules::new_deployment(NewDeployment {
        id: new_deployment_id(),
        task_definition: td_arn.clone(),
        desired_count: desired,
        launch_type,
        network_configuration: req.network_configuration.as_ref(),
        now,
    });
    // Stored and shown on the deployment (berth runs no Service Connect, EBS or VPC Lattice).
    deployment.service_connect_configuration = req.service_connect_configuration.clone();
    deployment.volume_configurations = req.volume_configurations.clone();
    deployment.vpc_lattice_configurations = req.vpc_lattice_configurations.clone();
    deployment.capacity_provider_strategy = capacity_provider_strategy.clone();
    let service_arn = ctx.scope().ecs(&EcsResource::Service { cluster: cluster.clone(), name: name.clone() });
    let service = Service {
        current_service_deployment: rules::service_deployment_arn(
            &service_arn,
            deployment.id.as_deref().unwrap_or_default(),
        ),
        service_arn: Some(service_arn),
        service_name: Some(name.clone()),
        cluster_arn: Some(ctx.scope().ecs(&EcsResource::Cluster(cluster.clone()))),
        load_balancers: Some(req.load_balancers.clone().unwrap_or_default()),
        service_registries: Some(req.service_registries.clone().unwrap_or_default()),
        status: Some(rules::ACTIVE.into()),
        desired_count: Some(desired),
        running_count: Some(0),
        pending_count: Some(0),
        launch_type,
        capacity_provider_strategy,
        // Fargate services show LATEST unless given a version.
        platform_version: req
            .platform_version
            .clone()
            .or_else(|| (launch_type == Some(LaunchType::Fargate)).then(|| "LATEST".to_string())),
        task_definition: Some(td_arn),
        deployment_configuration: Some(deployment_configuration),
        deployments: Some(vec![deployment.clone()]),
        role_arn: req.role.clone(),
        events: Some(vec![]),
        created_at: Some(now),
        placement_constraints: Some(req.placement_constraints.clone().unwrap_or_default()),
        placement_strategy: Some(
            req.placement_strategy
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| rules::default_placement_strategy(strategy)),
        ),
        network_configuration: req.network_configuration.clone(),
        health_check_grace_period_seconds: req.health_check_grace_period_seconds,
        scheduling_strategy: Some(strategy),
        deployment_controller: Some(
            req.deployment_controller.clone().unwrap_or(DeploymentController { r#type: DeploymentControllerType::Ecs }),
        ),
        tags: Some(service_tags),
        created_by: Some(ctx.caller.arn.clone()),
        enable_ecs_managed_tags: Some(req.enable_ecs_managed_tags.unwrap_or(false)),
        propagate_tags: Some(req.propagate_tags.unwrap_or(PropagateTags::None)),
        enable_execute_command: Some(req.enable_execute_command.unwrap_or(false)),
        availability_zone_rebalancing: req.availability_zone_rebalancing,
        ..Default::default()
    };
    // Tasks must be startable with these settings: the same checks as RunTask.
    let launcher = ServiceTasks::of(&cluster, &service, &deployment);
    launcher.check(ctx.ecs()).await?;
    let mut service = service;
    if strategy == SchedulingStrategy::Daemon {
        // One task per instance it belongs on (the controller keeps this as instances come and go).
        let n = i32::try_from(launcher.eligible(ctx.ecs()).await?.len()).unwrap_or(i32::MAX);
        service.desired_count = Some(n);
        for d in service.deployments.iter_mut().flatten() {
            d.desired_count = Some(n);
        }
    }
    rules::check_load_balancers(&td, service.load_balancers.as_deref().unwrap_or_default())?;
    check_target_groups(&ctx, &td, service.load_balancers.as_deref().unwrap_or_default()).await?;
    let mut tracking = berth_model::records::ServiceTracking::default();
    if taskdef::has_health_checks(&td) {
        tracking.health_checked.insert(deployment.id.clone().unwrap_or_default());
    }
    let record = ServiceRecord { service, client_token: req.client_token.clone(), finished: vec![], tracking };
    let stored =
        documents::modify(
            ctx.store(),
            &keys::service(&cluster, &name),
            |current: Option<ServiceRecord>| match current {
                Some(existing) if existing.service.status.as_deref() != Some(rules::INACTIVE) => {
                    if req.client_token.is_some() && existing.client_token == req.client_token {
                        Ok((documents::Change::Keep, existing))
                    } else if existing.service.status.as_deref() == Some(rules::DRAINING) {
                        Err(AwsError::ecs_invalid_parameter("Unable to Start a service that is still Draining."))
                    } else {
                        Err(AwsError::ecs_invalid_parameter("Creation of service was not idempotent."))
                    }
                }
                _ => Ok((documents::Change::Put(record.clone()), record.clone())),
            },
        )
        .await?;
    Ok(CreateServiceResponse { service: Some(stored.service) })
}

/// Each target group exists, a listener forwards to it, and its target type suits the
/// task definition's network mode (awsvpc tasks are ip targets, bridge and host tasks
/// instance targets), as ECS checks, in its words (Terraform users meet the second
/// message when the listener is made after the service).
async fn check_target_groups(ctx: &Ctx, td: &TaskDefinition, lbs: &[LoadBalancer]) -> Result<(), AwsError> {
    let mode = td.network_mode.unwrap_or(NetworkMode::Bridge);
    for arn in lbs.iter().filter_map(|lb| lb.target_group_arn.as_deref()) {
        match elbv2::target_group_use(ctx, arn).await? {
            None => {
                return Err(AwsError::ecs_invalid_parameter(format!(
                    "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS \
                     service role being passed has the proper permissions. (No target group {arn} exists.)"
                )));
            }
            Some(group) if group.load_balancers.is_empty() => {
                return Err(AwsError::ecs_invalid_parameter(format!(
                    "The target group with targetGroupArn {arn} does not have an associated load balancer."
                )));
            }
            Some(group) => {
                let fits = match mode {
                    NetworkMode::Awsvpc => group.target_type == "ip",
                    NetworkMode::Bridge | NetworkMode::Host => group.target_type != "ip",
                    NetworkMode::None => true,
                };
                if !fits {
                    return Err(AwsError::ecs_invalid_parameter(format!(
                        "The provided target group {arn} has target type {}, which is incompatible with the {} \
                         network mode specified in the task definition.",
                        group.target_type,
                        mode.as_str()
                    )));
                }
            }
        }
    }
    Ok(())
}

pub async fn update(ctx: Ctx, req: UpdateServiceRequest) -> Result<UpdateServiceResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    let cluster_rec = clusters::active(&ctx, &cluster).await?;
    let name = service_name(&ctx, &cluster, &req.service)?;
    let current = find(&ctx, &cluster, &name).await?.value;
    if let Some(given) = req.capacity_provider_strategy.as_deref().filter(|s| !s.is_empty()) {
        launch::launch_type(None, given, &[], cluster_rec.capacity_providers.as_deref().unwrap_or_default())?;
    }
    let strategy = current.service.scheduling_strategy.unwrap_or(SchedulingStrategy::Replica);
    rules::check_desired_count(strategy, req.desired_count)?;
    rules::check_daemon_strategy(strategy, req.placement_strategy.as_deref())?;
    rules::check_controller(req.deployment_controller.as_ref())?;
    rules::check_grace_period(req.health_check_grace_period_seconds)?;
    let new_td = match &req.task_definition {
        Some(given) => Some(task_definitions::runnable(ctx.ecs(), given, false).await?.task_definition),
        None => None,
    };
    let deployment_configuration = rules::deployment_configuration(
        req.deployment_configuration.as_ref(),
        current.service.deployment_configuration.as_ref(),
        strategy,
    )?;
    // The settings new tasks would get must be startable (checked once, outside the
    // compare-and-swap loop: it reads other documents).
    let mut probe = current.service.clone();
    apply_settings(&mut probe, &req);
    let probe_deployment = Deployment {
        id: Some(new_deployment_id()),
        task_definition: new_td.as_ref().and_then(|t| t.task_definition_arn.clone()).or(probe.task_definition.clone()),
        ..Default::default()
    };
    let td = ServiceTasks::of(&cluster, &probe, &probe_deployment).check(ctx.ecs()).await?;
    rules::check_load_balancers(&td, probe.load_balancers.as_deref().unwrap_or_default())?;
    if req.load_balancers.is_some() || new_td.is_some() {
        check_target_groups(&ctx, &td, probe.load_balancers.as_deref().unwrap_or_default()).await?;
    }
    let health_checked = taskdef::has_health_checks(&td);

    let stored = documents::modify(ctx.store(), &keys::service(&cluster, &name), |current: Option<ServiceRecord>| {
        let mut rec = current.ok_or_else(AwsError::ecs_service_not_found)?;
        if rec.service.status.as_deref() != Some(rules::ACTIVE) {
            return Err(AwsError::ecs_service_not_active());
        }
        let s = &mut rec.service;
        let before = (
            s.task_definition.clone(),
            s.network_configuration.clone(),
            s.launch_type,
            s.capacity_provider_strategy.clone(),
        );
        apply_settings(s, &req);
        if let Some(n) = req.desired_count {
            berth_ecs::desired_count::apply(s, n);
        }
        s.deployment_configuration = Some(deployment_configuration.clone());
        if let Some(td) = &new_td {
            s.task_definition = td.task_definition_arn.clone();
        }
        // What new tasks are made of changed: a new deployment (as a forced one).
        let changed = before
            != (
                s.task_definition.clone(),
                s.network_configuration.clone(),
                s.launch_type,
                s.capacity_provider_strategy.clone(),
            )
            || req.service_connect_configuration.is_some()
            || req.volume_configurations.is_some()
            || req.vpc_lattice_configurations.is_some();
        if changed || req.force_new_deployment == Some(true) {
            let now = Timestamp::now();
            let id = probe_deployment.id.clone().unwrap_or_default();
            let mut deployment = rules::new_deployment(NewDeployment {
                id: id.clone(),
                task_definition: s.task_definition.clone().unwrap_or_default(),
                desired_count: s.desired_count.unwrap_or(0),
                launch_type: s.launch_type,
                network_configuration: s.network_configuration.as_ref(),
                now,
            });
            deployment.service_connect_configuration = req.service_connect_configuration.clone();
            deployment.volume_configurations = req.volume_configurations.clone();
            deployment.vpc_lattice_configurations = req.vpc_lattice_configurations.clone();
            deployment.capacity_provider_strategy = s.capacity_provider_strategy.clone();
            rules::begin_deployment(s, deployment, now);
            if health_checked {
                rec.tracking.health_checked.insert(id);
            }
            rec.tracking.steady = false;
            rec.tracking.failures_in_a_row = 0;
            rec.tracking.retry_after = None;
        } else if let Some(primary) = rec.service.deployments.iter_mut().flatten().next() {
            primary.desired_count = rec.service.desired_count;
        }
        Ok((documents::Change::Put(rec.clone()), rec))
    })
    .await?;
    Ok(UpdateServiceResponse { service: Some(stored.service) })
}

pub async fn delete(ctx: Ctx, req: DeleteServiceRequest) -> Result<DeleteServiceResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let name = service_name(&ctx, &cluster, &req.service)?;
    let stored = documents::modify(ctx.store(), &keys::service(&cluster, &name), |current: Option<ServiceRecord>| {
        let mut rec = current.ok_or_else(AwsError::ecs_service_not_found)?;
        if rec.service.status.as_deref() != Some(rules::ACTIVE) {
            return Err(AwsError::ecs_service_not_active());
        }
        let replica = rec.service.scheduling_strategy != Some(SchedulingStrategy::Daemon);
        if replica && rec.service.desired_count.unwrap_or(0) > 0 && req.force != Some(true) {
            return Err(AwsError::ecs_invalid_parameter("The service cannot be stopped while it is scaled above 0."));
        }
        rec.service.status = Some(rules::DRAINING.into());
        rec.service.desired_count = Some(0);
        for d in rec.service.deployments.iter_mut().flatten() {
            d.desired_count = Some(0);
        }
        Ok((documents::Change::Put(rec.clone()), rec))
    })
    .await?;
    Ok(DeleteServiceResponse { service: Some(stored.service) })
}

pub async fn describe(ctx: Ctx, req: DescribeServicesRequest) -> Result<DescribeServicesResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    if req.services.is_empty() || req.services.len() > 10 {
        return Err(AwsError::ecs_invalid_parameter("Name 1 to 10 services to describe."));
    }
    let with_tags = req.include.unwrap_or_default().contains(&ServiceField::Tags);
    let (mut services, mut failures) = (vec![], vec![]);
    for given in &req.services {
        let found = match service_name(&ctx, &cluster, given) {
            Ok(name) => documents::get::<ServiceRecord>(ctx.store(), &keys::service(&cluster, &name)).await?,
            Err(_) => None,
        };
        match found {
            Some(doc) => {
                let mut s = doc.value.service;
                if !with_tags {
                    s.tags = None;
                }
                services.push(s);
            }
            None => failures.push(Failure {
                arn: Some(names::missing_arn(ctx.scope(), given, |name| EcsResource::Service {
                    cluster: cluster.clone(),
                    name,
                })),
                reason: Some("MISSING".into()),
                detail: None,
            }),
        }
    }
    Ok(DescribeServicesResponse { services: Some(services), failures: Some(failures) })
}

pub async fn list(ctx: Ctx, req: ListServicesRequest) -> Result<ListServicesResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let arns: Vec<String> = documents::list::<ServiceRecord>(ctx.store(), &keys::services_of(&cluster))
        .await?
        .into_iter()
        .map(|d| d.value.service)
        .filter(|s| s.status.as_deref() != Some(rules::INACTIVE))
        .filter(|s| req.launch_type.is_none_or(|lt| s.launch_type == Some(lt)))
        .filter(|s| req.scheduling_strategy.is_none_or(|st| s.scheduling_strategy == Some(st)))
        .filter_map(|s| s.service_arn)
        .collect();
    // ECS answers 10 services a page unless maxResults says otherwise (at most 100).
    let max = Some(req.max_results.unwrap_or(10));
    let page = paging::paginate(arns, String::clone, false, req.next_token.as_deref(), max, 100)?;
    Ok(ListServicesResponse { service_arns: Some(page.items), next_token: page.next_token })
}

/// berth has no Cloud Map namespaces (Service Connect), so every namespace is unknown.
pub async fn list_by_namespace(
    _ctx: Ctx,
    _req: ListServicesByNamespaceRequest,
) -> Result<ListServicesByNamespaceResponse, AwsError> {
    Err(AwsError::ecs_namespace_not_found())
}

pub async fn list_deployments(
    ctx: Ctx,
    req: ListServiceDeploymentsRequest,
) -> Result<ListServiceDeploymentsResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let name = service_name(&ctx, &cluster, &req.service)?;
    let rec = find(&ctx, &cluster, &name).await?.value;
    let wanted = req.status.unwrap_or_default();
    let briefs: Vec<ServiceDeploymentBrief> = service_deployments(&rec)
        .into_iter()
        .filter(|d| wanted.is_empty() || d.status.is_some_and(|s| wanted.contains(&s)))
        .map(|d| ServiceDeploymentBrief {
            service_deployment_arn: d.service_deployment_arn,
            service_arn: d.service_arn,
            cluster_arn: d.cluster_arn,
            started_at: d.started_at,
            created_at: d.created_at,
            finished_at: d.finished_at,
            target_service_revision_arn: d.target_service_revision.and_then(|r| r.arn),
            status: d.status,
            status_reason: d.status_reason,
        })
        .collect();
    let page = paging::paginate(
        briefs,
        |b| b.service_deployment_arn.clone().unwrap_or_default(),
        false,
        req.next_token.as_deref(),
        Some(req.max_results.unwrap_or(20)),
        100,
    )?;
    Ok(ListServiceDeploymentsResponse { service_deployments: Some(page.items), next_token: page.next_token })
}

pub async fn describe_deployments(
    ctx: Ctx,
    req: DescribeServiceDeploymentsRequest,
) -> Result<DescribeServiceDeploymentsResponse, AwsError> {
    if req.service_deployment_arns.is_empty() || req.service_deployment_arns.len() > 20 {
        return Err(AwsError::ecs_invalid_parameter("Name 1 to 20 service deployment ARNs to describe."));
    }
    let (mut found, mut failures) = (vec![], vec![]);
    for given in &req.service_deployment_arns {
        let hit = match ctx.scope().ecs_resource(given) {
            Some(EcsResource::ServiceDeployment { cluster, service, .. })
                if names::is_valid_name(&cluster) && names::is_valid_name(&service) =>
            {
                documents::get::<ServiceRecord>(ctx.store(), &keys::service(&cluster, &service)).await?.and_then(
                    |doc| {
                        service_deployments(&doc.value)
                            .into_iter()
                            .find(|d| d.service_deployment_arn.as_deref() == Some(given.as_str()))
                    },
                )
            }
            _ => None,
        };
        match hit {
            Some(d) => found.push(d),
            None => failures.push(Failure { arn: Some(given.clone()), reason: Some("MISSING".into()), detail: None }),
        }
    }
    Ok(DescribeServiceDeploymentsResponse { service_deployments: Some(found), failures: Some(failures) })
}

// ---- helpers ----

/// The stored service, whatever its status (ServiceNotFoundException when absent).
async fn find(ctx: &Ctx, cluster: &str, name: &str) -> Result<Doc<ServiceRecord>, AwsError> {
    documents::get::<ServiceRecord>(ctx.store(), &keys::service(cluster, name))
        .await?
        .ok_or_else(AwsError::ecs_service_not_found)
}

/// A service given by name or ARN (of this cluster) as the name its key is made of.
fn service_name(ctx: &Ctx, cluster: &str, given: &str) -> Result<String, AwsError> {
    let name = if given.starts_with("arn:") {
        match ctx.scope().ecs_resource(given) {
            Some(EcsResource::Service { cluster: c, name }) if c == cluster => name,
            _ => return Err(AwsError::ecs_service_not_found()),
        }
    } else {
        given.to_string()
    };
    if !names::is_valid_name(&name) {
        return Err(AwsError::ecs_service_not_found());
    }
    Ok(name)
}

fn new_deployment_id() -> String {
    rules::deployment_id(u64::from_str_radix(&names::new_id()[..16], 16).unwrap_or(0))
}

/// UpdateService's members that are stored as given.
fn apply_settings(s: &mut Service, req: &UpdateServiceRequest) {
    macro_rules! set {
        ($($field:ident),*) => {
            $(if req.$field.is_some() {
                s.$field = req.$field.clone();
            })*
        };
    }
    set!(
        capacity_provider_strategy,
        network_configuration,
        placement_constraints,
        placement_strategy,
        platform_version,
        health_check_grace_period_seconds,
        enable_execute_command,
        enable_ecs_managed_tags,
        load_balancers,
        propagate_tags,
        service_registries,
        availability_zone_rebalancing
    );
}

/// The service's deployments as ListServiceDeployments/DescribeServiceDeployments show
/// them: the current ones, then the finished ones, newest first.
fn service_deployments(rec: &ServiceRecord) -> Vec<ServiceDeployment> {
    let current = rec.service.deployments.iter().flatten().map(|d| {
        let primary = d.status.as_deref() == Some(rules::PRIMARY);
        let status = match (d.rollout_state, primary) {
            (Some(DeploymentRolloutState::Completed), _) => ServiceDeploymentStatus::Successful,
            // Failed and still PRIMARY: no rollback (the service keeps trying).
            (Some(DeploymentRolloutState::Failed), true) => ServiceDeploymentStatus::Stopped,
            (Some(DeploymentRolloutState::Failed), false) => ServiceDeploymentStatus::RollbackInProgress,
            (_, true) => ServiceDeploymentStatus::InProgress,
            (_, false) => ServiceDeploymentStatus::StopRequested,
        };
        (d, status, None)
    });
    let finished = rec.finished.iter().map(|f| (&f.deployment, f.status, Some(f.finished_at)));
    current
        .chain(finished)
        .map(|(d, status, finished_at)| ServiceDeployment {
            service_deployment_arn: rules::service_deployment_arn(
                rec.service.service_arn.as_deref().unwrap_or_default(),
                d.id.as_deref().unwrap_or_default(),
            ),
            service_arn: rec.service.service_arn.clone(),
            cluster_arn: rec.service.cluster_arn.clone(),
            created_at: d.created_at,
            started_at: d.created_at,
            finished_at,
            updated_at: d.updated_at,
            target_service_revision: Some(ServiceRevisionSummary {
                arn: d.task_definition.clone(),
                requested_task_count: d.desired_count,
                running_task_count: d.running_count,
                pending_task_count: d.pending_count,
                ..Default::default()
            }),
            status: Some(status),
            status_reason: d.rollout_state_reason.clone(),
            deployment_configuration: rec.service.deployment_configuration.clone(),
            ..Default::default()
        })
        .collect()
}
