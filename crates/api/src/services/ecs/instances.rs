//! Container instances: RegisterContainerInstance (the agent's), DeregisterContainerInstance,
//! ListContainerInstances, DescribeContainerInstances, UpdateContainerInstancesState.
//!
//! The store keeps a `ContainerInstanceRecord` per instance: the API shape as last
//! written, what it registered, and the reservation of each task placed on it. What
//! changes with every task (remainingResources, running/pending counts) and with every
//! poll (agentConnected) is derived when an instance is shown.

use super::{clusters, paging};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::placement_view::{InstanceTasks, by_instance};
use berth_ecs::{load, names};
use berth_model::arn::EcsResource;
use berth_model::cluster_query::{self, Subject};
use berth_model::ecs::*;
use berth_model::instance::{self, Registered};
use berth_model::records::ContainerInstanceRecord;
use berth_model::{Timestamp, attributes, keys, tags};
use berth_store::documents::{self, Change};
use berth_store::{Compare, Txn};
use std::collections::HashMap;

pub async fn register(
    ctx: Ctx,
    req: RegisterContainerInstanceRequest,
) -> Result<RegisterContainerInstanceResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let identity = match req.instance_identity_document.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(doc) => instance::parse_identity_document(doc).map_err(AwsError::ecs_invalid_parameter)?,
        None => Default::default(),
    };
    let registered = instance::parse_total_resources(
        req.total_resources.as_deref().unwrap_or_default(),
        identity.instance_type.as_deref(),
    )
    .map_err(AwsError::ecs_invalid_parameter)?;
    let mut sent = req.attributes.clone().unwrap_or_default();
    for a in &sent {
        attributes::validate(a).map_err(AwsError::ecs_invalid_parameter)?;
    }
    for (name, value) in instance::standard_attributes(&identity) {
        if !sent.iter().any(|a| a.name == name) {
            sent.push(Attribute { name: name.into(), value: Some(value), target_type: None, target_id: None });
        }
    }
    if let Some(t) = &req.tags {
        tags::validate(t).map_err(AwsError::ecs_invalid_parameter)?;
    }

    // Re-registration: the ARN the agent was given before, or (an agent that lost its
    // state) the live instance with the same EC2 instance id.
    let existing = match &req.container_instance_arn {
        Some(arn) => Some(names::instance_id(ctx.scope(), &cluster, arn).ok_or_else(AwsError::ecs_instance_not_found)?),
        None => match &identity.instance_id {
            Some(ec2) => load::all_instances(ctx.ecs(), &cluster)
                .await?
                .into_iter()
                .find(|d| !d.value.is_inactive() && d.value.container_instance.ec2_instance_id.as_ref() == Some(ec2))
                .map(|d| d.value.id()),
            None => None,
        },
    };
    let update = |rec: &mut ContainerInstanceRecord| {
        let ci = &mut rec.container_instance;
        ci.registered_resources = Some(instance::registered_resources(&registered));
        ci.attributes = Some(attributes::reregistered(ci.attributes.as_deref().unwrap_or_default(), &sent));
        ci.version_info = req.version_info.clone().or(ci.version_info.take());
        if identity.instance_id.is_some() {
            ci.ec2_instance_id = identity.instance_id.clone();
        }
        if identity.private_ip.is_some() {
            rec.private_ip = identity.private_ip;
        }
        if let Some(t) = &req.tags {
            ci.tags = Some(t.clone());
        }
        ci.version = Some(ci.version.unwrap_or(0) + 1);
        rec.registered = registered.resources.clone();
        rec.gpus = registered.gpus.clone();
    };
    let record = match existing {
        Some(id) => {
            documents::modify(
                ctx.store(),
                &keys::instance(&cluster, &id),
                |current: Option<ContainerInstanceRecord>| -> Result<_, AwsError> {
                    let mut rec = current.ok_or_else(AwsError::ecs_instance_not_found)?;
                    if rec.is_inactive() {
                        return Err(AwsError::ecs_client(
                            "The container instance was deregistered (INACTIVE). Register without containerInstanceArn \
                         to join the cluster as a new instance.",
                        ));
                    }
                    update(&mut rec);
                    Ok((Change::Put(rec.clone()), rec))
                },
            )
            .await?
        }
        None => {
            let id = names::new_id();
            let mut rec = ContainerInstanceRecord {
                container_instance: ContainerInstance {
                    container_instance_arn: Some(
                        ctx.scope().ecs(&EcsResource::ContainerInstance { cluster: cluster.clone(), id: id.clone() }),
                    ),
                    status: Some(ContainerInstanceRecord::ACTIVE.into()),
                    registered_at: Some(Timestamp::now()),
                    attachments: Some(vec![]),
                    tags: Some(vec![]),
                    version: Some(0),
                    ..Default::default()
                },
                registered: Default::default(),
                gpus: vec![],
                reservations: Default::default(),
                private_ip: None,
            };
            update(&mut rec);
            let key = keys::instance(&cluster, &id);
            let txn = Txn::new().when(Compare::ModRevision(key.clone(), 0)).put(key, documents::encode(&rec)?);
            if !ctx.store().txn(txn).await?.succeeded {
                return Err(AwsError::internal("ServerException"));
            }
            rec
        }
    };
    let stats = by_instance(ctx.ecs(), &cluster).await?;
    Ok(RegisterContainerInstanceResponse { container_instance: Some(shown(&ctx, &record, &stats, &[])) })
}

pub async fn deregister(
    ctx: Ctx,
    req: DeregisterContainerInstanceRequest,
) -> Result<DeregisterContainerInstanceResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let id = names::instance_id(ctx.scope(), &cluster, &req.container_instance)
        .ok_or_else(AwsError::ecs_instance_not_found)?;
    let rec = berth_ecs::deregister::deregister(ctx.ecs(), &cluster, &id, req.force == Some(true)).await?;
    let stats = by_instance(ctx.ecs(), &cluster).await?;
    Ok(DeregisterContainerInstanceResponse { container_instance: Some(shown(&ctx, &rec, &stats, &[])) })
}

pub async fn list(ctx: Ctx, req: ListContainerInstancesRequest) -> Result<ListContainerInstancesResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let filter = match req.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => Some(cluster_query::parse(f).map_err(|e| AwsError::ecs_invalid_parameter(e.0))?),
        None => None,
    };
    let stats = by_instance(ctx.ecs(), &cluster).await?;
    let wanted = req.status.map(|s| s.as_str());
    let records: Vec<ContainerInstanceRecord> = load::instances(ctx.ecs(), &cluster)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|r| match wanted {
            Some(status) => r.status() == status,
            None => !r.is_inactive(),
        })
        .filter(|r| filter.as_ref().is_none_or(|f| f.eval(&|s| subject_values(&ctx, r, &stats, s))))
        .collect();
    let arns: Vec<String> =
        records.iter().filter_map(|r| r.container_instance.container_instance_arn.clone()).collect();
    let page = paging::paginate(arns, String::clone, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListContainerInstancesResponse { container_instance_arns: Some(page.items), next_token: page.next_token })
}

pub async fn describe(
    ctx: Ctx,
    req: DescribeContainerInstancesRequest,
) -> Result<DescribeContainerInstancesResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    if req.container_instances.is_empty() {
        return Err(no_instances_named());
    }
    if req.container_instances.len() > 100 {
        return Err(AwsError::ecs_invalid_parameter("Name 1 to 100 container instances to describe."));
    }
    let include = req.include.unwrap_or_default();
    let stats = by_instance(ctx.ecs(), &cluster).await?;
    let (mut found, mut failures) = (vec![], vec![]);
    for given in &req.container_instances {
        match load::instance(ctx.ecs(), &cluster, given).await? {
            Some(doc) => found.push(shown(&ctx, &doc.value, &stats, &include)),
            None => failures.push(missing(&ctx, &cluster, given)),
        }
    }
    Ok(DescribeContainerInstancesResponse { container_instances: Some(found), failures: Some(failures) })
}

pub async fn update_state(
    ctx: Ctx,
    req: UpdateContainerInstancesStateRequest,
) -> Result<UpdateContainerInstancesStateResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let status = match req.status {
        ContainerInstanceStatus::Active => ContainerInstanceRecord::ACTIVE,
        ContainerInstanceStatus::Draining => ContainerInstanceRecord::DRAINING,
        other => {
            return Err(AwsError::ecs_invalid_parameter(format!(
                "Container instances can only be set to ACTIVE or DRAINING, not {other}."
            )));
        }
    };
    if req.container_instances.is_empty() {
        return Err(no_instances_named());
    }
    if req.container_instances.len() > 10 {
        return Err(AwsError::ecs_invalid_parameter("Name 1 to 10 container instances to update."));
    }
    let (mut updated, mut failures) = (vec![], vec![]);
    for given in &req.container_instances {
        let Some(id) = names::instance_id(ctx.scope(), &cluster, given) else {
            failures.push(missing(&ctx, &cluster, given));
            continue;
        };
        let result = documents::modify(
            ctx.store(),
            &keys::instance(&cluster, &id),
            |current: Option<ContainerInstanceRecord>| -> Result<_, AwsError> {
                let Some(mut rec) = current else { return Ok((Change::Keep, None)) };
                if rec.is_inactive() || rec.status() == status {
                    return Ok((Change::Keep, Some(rec)));
                }
                rec.container_instance.status = Some(status.into());
                rec.bump();
                Ok((Change::Put(rec.clone()), Some(rec)))
            },
        )
        .await?;
        match result {
            None => failures.push(missing(&ctx, &cluster, given)),
            Some(rec) if rec.is_inactive() => failures.push(Failure {
                arn: rec.container_instance.container_instance_arn.clone(),
                reason: Some(ContainerInstanceRecord::INACTIVE.into()),
                detail: Some("The container instance is deregistered.".into()),
            }),
            Some(rec) => updated.push(rec),
        }
    }
    let stats = by_instance(ctx.ecs(), &cluster).await?;
    Ok(UpdateContainerInstancesStateResponse {
        container_instances: Some(updated.iter().map(|r| shown(&ctx, r, &stats, &[])).collect()),
        failures: Some(failures),
    })
}

/// The instance as the API shows it: remaining resources, task counts and connectivity
/// derived; tags and health only when `include` asks for them.
fn shown(
    ctx: &Ctx,
    rec: &ContainerInstanceRecord,
    stats: &HashMap<String, InstanceTasks>,
    include: &[ContainerInstanceField],
) -> ContainerInstance {
    let mut ci = rec.container_instance.clone();
    let registered = Registered { resources: rec.registered.clone(), gpus: rec.gpus.clone() };
    ci.remaining_resources = Some(instance::remaining_resources(&registered, &rec.reserved()));
    let counts = stats.get(&rec.id());
    ci.running_tasks_count = Some(counts.map_or(0, |c| c.running));
    ci.pending_tasks_count = Some(counts.map_or(0, |c| c.pending));
    let connected = ctx.ecs().connected(rec);
    ci.agent_connected = Some(connected);
    if !include.contains(&ContainerInstanceField::Tags) {
        ci.tags = Some(vec![]);
    }
    ci.health_status = include.contains(&ContainerInstanceField::ContainerInstanceHealth).then(|| {
        let state = if connected { InstanceHealthCheckState::Ok } else { InstanceHealthCheckState::InsufficientData };
        ContainerInstanceHealthStatus {
            overall_status: Some(state),
            details: Some(vec![InstanceHealthCheckResult {
                r#type: Some(InstanceHealthCheckType::ContainerRuntime),
                status: Some(state),
                ..Default::default()
            }]),
        }
    });
    ci
}

/// What the cluster query language sees of an instance.
fn subject_values(
    ctx: &Ctx,
    rec: &ContainerInstanceRecord,
    stats: &HashMap<String, InstanceTasks>,
    subject: &Subject,
) -> Vec<String> {
    let ci = &rec.container_instance;
    let counts = stats.get(&rec.id());
    match subject {
        Subject::AgentConnected => vec![ctx.ecs().connected(rec).to_string()],
        Subject::AgentVersion => ci.version_info.as_ref().and_then(|v| v.agent_version.clone()).into_iter().collect(),
        Subject::Attribute(name) => ci
            .attributes
            .iter()
            .flatten()
            .filter(|a| &a.name == name)
            .map(|a| a.value.clone().unwrap_or_default())
            .collect(),
        Subject::Ec2InstanceId => ci.ec2_instance_id.clone().into_iter().collect(),
        Subject::RegisteredAt => ci.registered_at.map(cluster_query::iso8601).into_iter().collect(),
        Subject::RunningTasksCount => vec![counts.map_or(0, |c| c.running).to_string()],
        Subject::TaskGroup => counts.map(|c| c.groups.keys().cloned().collect()).unwrap_or_default(),
    }
}

fn missing(ctx: &Ctx, cluster: &str, given: &str) -> Failure {
    Failure {
        arn: Some(names::missing_arn(ctx.scope(), given, |id| EcsResource::ContainerInstance {
            cluster: cluster.into(),
            id,
        })),
        reason: Some("MISSING".into()),
        detail: None,
    }
}

/// An empty containerInstances list, in AWS's code and words.
fn no_instances_named() -> AwsError {
    AwsError::ecs_client("Container Instances cannot be empty.")
}
