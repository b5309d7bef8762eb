//! Tasks: RunTask, StartTask, StopTask, DescribeTasks, ListTasks, and the agent-side
//! SubmitTaskStateChange / SubmitContainerStateChange.
//!
//! Placing tasks is one store transaction: every new task, and the new reservation on
//! each instance a task lands on, commit together, with compare-and-swap on those
//! instances' records. Two RunTasks racing for the same capacity cannot both win: the
//! loser's compare fails and it places again against the fresh reservations.
//!
//! Every change an agent reports goes through `report`, which applies the lifecycle
//! state machine (`berth_model::task_lifecycle`) with compare-and-swap and, when the
//! task reaches STOPPED, releases its reservation in the same transaction.

use super::{clusters, instances, names, paging, taskdefs};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::agent_protocol::ReportTaskStateRequest;
use berth_model::arn::EcsResource;
use berth_model::demand;
use berth_model::ecs::*;
use berth_model::records::{
    ClientTokenRecord, ContainerInstanceRecord, Placement, TaskDefinitionRecord, TaskRecord, TaskSummary,
};
use berth_model::task_lifecycle::{self, Provision, TaskStatus};
use berth_model::{Timestamp, keys, launch, tags};
use berth_scheduler::{Demand, InstanceSnapshot, PlacementFailure, Policy};
use berth_store::documents::{self, Doc};
use berth_store::{Compare, Revision, Txn};
use std::collections::{BTreeMap, HashMap};

pub async fn run(ctx: Ctx, req: RunTaskRequest) -> Result<RunTaskResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let count = req.count.unwrap_or(1);
    launch::check_count(count)?;
    if let Some(token) = &req.client_token {
        launch::check_client_token(token, 64)?;
    }
    let constraints = req.placement_constraints.clone().unwrap_or_default();
    let strategy = req.placement_strategy.clone().unwrap_or_default();
    // Malformed strategies and constraints are refused before anything is looked up.
    Policy::from_ecs(&strategy, &constraints, &[]).map_err(AwsError::ecs_invalid_parameter)?;
    let (launch_type, capacity_provider_name) =
        launch::launch_type(req.launch_type, req.capacity_provider_strategy.as_deref().unwrap_or_default())?;
    let mut spec = prepare(
        &ctx,
        &cluster,
        Common {
            task_definition: &req.task_definition,
            inactive_definition_ok: false,
            overrides: req.overrides,
            group: req.group,
            started_by: req.started_by,
            tags: req.tags,
            network_configuration: req.network_configuration,
            enable_ecs_managed_tags: req.enable_ecs_managed_tags,
            propagate_tags: req.propagate_tags,
            enable_execute_command: req.enable_execute_command,
        },
        launch_type,
    )
    .await?;
    spec.capacity_provider_name = capacity_provider_name;
    // The task definition's own constraints apply to every task of it.
    let mut policy =
        Policy::from_ecs(&strategy, &constraints, spec.td.placement_constraints.as_deref().unwrap_or_default())
            .map_err(AwsError::ecs_invalid_parameter)?;
    policy.seed = random_seed();
    spec.placement_constraints = constraints;
    spec.placement_strategy = strategy;
    spec.platform_version = launch::platform_version(launch_type, req.platform_version);
    let token_key = req.client_token.as_deref().map(|t| keys::client_token(&cluster, t));
    let demands = vec![spec.demand.clone(); count as usize];
    let (tasks, failures) = launch(&ctx, &spec, token_key.as_deref(), |_, snapshots| {
        let placed = berth_scheduler::place_in(snapshots, &demands, &policy);
        if placed.iter().any(|r| r == &Err(PlacementFailure::NoActiveInstances)) {
            return Err(AwsError::ecs_no_container_instances());
        }
        Ok(placed.into_iter().map(|r| r.map(|p| (p.instance, p.gpus)).map_err(failure)).collect())
    })
    .await?;
    Ok(RunTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn start(ctx: Ctx, req: StartTaskRequest) -> Result<StartTaskResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    launch::check_instance_count(req.container_instances.len())?;
    let spec = prepare(
        &ctx,
        &cluster,
        Common {
            task_definition: &req.task_definition,
            inactive_definition_ok: false,
            overrides: req.overrides,
            group: req.group,
            started_by: req.started_by,
            tags: req.tags,
            network_configuration: req.network_configuration,
            enable_ecs_managed_tags: req.enable_ecs_managed_tags,
            propagate_tags: req.propagate_tags,
            enable_execute_command: req.enable_execute_command,
        },
        Some(LaunchType::Ec2),
    )
    .await?;
    let wanted: Vec<(String, Option<String>)> = req
        .container_instances
        .iter()
        .map(|given| (given.clone(), names::instance_id(&ctx, &cluster, given)))
        .collect();
    let (tasks, failures) = launch(&ctx, &spec, None, |records, snapshots| {
        Ok(wanted
            .iter()
            .map(|(given, id)| {
                let missing = || Failure {
                    arn: Some(names::missing_arn(&ctx, given, |id| EcsResource::ContainerInstance {
                        cluster: cluster.clone(),
                        id,
                    })),
                    reason: Some("MISSING".into()),
                    detail: None,
                };
                let i =
                    id.as_ref().and_then(|id| records.iter().position(|r| &r.value.id() == id)).ok_or_else(missing)?;
                if records[i].value.is_inactive() {
                    return Err(Failure {
                        arn: Some(snapshots[i].arn.clone()),
                        reason: Some(ContainerInstanceRecord::INACTIVE.into()),
                        detail: None,
                    });
                }
                let gpus = berth_scheduler::place_on(&mut snapshots[i], &spec.demand).map_err(|shortfall| Failure {
                    arn: Some(snapshots[i].arn.clone()),
                    reason: Some(shortfall.reason().into()),
                    detail: None,
                })?;
                Ok((i, gpus))
            })
            .collect())
    })
    .await?;
    Ok(StartTaskResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn stop(ctx: Ctx, req: StopTaskRequest) -> Result<StopTaskResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let id = names::task_id(&ctx, &cluster, &req.task).ok_or_else(AwsError::ecs_task_not_found)?;
    let task = request_stop(&ctx, &cluster, &id, req.reason.as_deref(), TaskStopCode::UserInitiated).await?;
    Ok(StopTaskResponse { task: Some(task) })
}

/// Asks task `id` to stop (its desiredStatus becomes STOPPED; the agent does the rest),
/// with compare-and-swap. Asking twice changes nothing.
pub async fn request_stop(
    ctx: &Ctx,
    cluster: &str,
    id: &str,
    reason: Option<&str>,
    code: TaskStopCode,
) -> Result<Task, AwsError> {
    documents::modify(ctx.store(), &keys::task(cluster, id), |current: Option<TaskRecord>| {
        let mut rec = current.ok_or_else(AwsError::ecs_task_not_found)?;
        let changed = task_lifecycle::request_stop(&mut rec.task, reason, code, Timestamp::now());
        let task = rec.task.clone();
        Ok((if changed { documents::Change::Put(rec) } else { documents::Change::Keep }, task))
    })
    .await
}

pub async fn describe(ctx: Ctx, req: DescribeTasksRequest) -> Result<DescribeTasksResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    if req.tasks.is_empty() {
        return Err(AwsError::ecs_invalid_parameter("Tasks cannot be empty."));
    }
    if req.tasks.len() > 100 {
        return Err(AwsError::ecs_invalid_parameter("At most 100 tasks can be described at once."));
    }
    let with_tags = req.include.unwrap_or_default().contains(&TaskField::Tags);
    let (mut tasks, mut failures) = (vec![], vec![]);
    for given in &req.tasks {
        let found = match names::task_id(&ctx, &cluster, given) {
            Some(id) => documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id)).await?,
            None => None,
        };
        match found {
            Some(doc) => tasks.push(shown(doc.value.task, with_tags)),
            None => failures.push(Failure {
                arn: Some(names::missing_arn(&ctx, given, |id| EcsResource::Task { cluster: cluster.clone(), id })),
                reason: Some("MISSING".into()),
                detail: None,
            }),
        }
    }
    Ok(DescribeTasksResponse { tasks: Some(tasks), failures: Some(failures) })
}

pub async fn list(ctx: Ctx, req: ListTasksRequest) -> Result<ListTasksResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    // ECS never sets desiredStatus PENDING: filtering on it finds nothing.
    let desired = req.desired_status.unwrap_or(DesiredStatus::Running).as_str();
    let instance = req.container_instance.as_deref().map(|given| names::instance_id(&ctx, &cluster, given));
    let service_group = req.service_name.as_deref().map(|s| format!("service:{s}"));
    let arns: Vec<String> = load_all(&ctx, &cluster)
        .await?
        .into_iter()
        .map(|d| d.value)
        .filter(|r| {
            let t = &r.task;
            t.desired_status.as_deref() == Some(desired)
                && instance.as_ref().is_none_or(|id| id.as_ref() == Some(&r.placement.container_instance_id))
                && req.family.as_ref().is_none_or(|f| family_of(t) == Some(f.as_str()))
                && req.started_by.as_ref().is_none_or(|s| t.started_by.as_ref() == Some(s))
                && service_group.as_ref().is_none_or(|g| t.group.as_ref() == Some(g))
                && req.launch_type.is_none_or(|lt| t.launch_type == Some(lt))
        })
        .filter_map(|r| r.task.task_arn)
        .collect();
    let page = paging::paginate(arns, String::clone, false, req.next_token.as_deref(), req.max_results, 100)?;
    Ok(ListTasksResponse { task_arns: Some(page.items), next_token: page.next_token })
}

pub async fn submit_task_state_change(
    ctx: Ctx,
    req: SubmitTaskStateChangeRequest,
) -> Result<SubmitTaskStateChangeResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let given = req.task.as_deref().ok_or_else(|| AwsError::ecs_invalid_parameter("task is required."))?;
    let id = names::task_id(&ctx, &cluster, given).ok_or_else(AwsError::ecs_task_not_found)?;
    report(&ctx, &cluster, &id, |current| ReportTaskStateRequest {
        cluster: cluster.clone(),
        task_arn: current.task_arn.clone().unwrap_or_default(),
        last_status: req.status.clone().or_else(|| current.last_status.clone()).unwrap_or_default(),
        stopped_reason: req.reason.clone(),
        pull_started_at: req.pull_started_at,
        pull_stopped_at: req.pull_stopped_at,
        execution_stopped_at: req.execution_stopped_at,
        containers: req
            .containers
            .iter()
            .flatten()
            .map(|c| Container {
                name: c.container_name.clone(),
                image_digest: c.image_digest.clone(),
                runtime_id: c.runtime_id.clone(),
                exit_code: c.exit_code,
                network_bindings: c.network_bindings.clone(),
                reason: c.reason.clone(),
                last_status: c.status.clone(),
                ..Default::default()
            })
            .collect(),
        attachments: req.attachments.as_ref().map(|changes| {
            let mut attachments = current.attachments.clone().unwrap_or_default();
            for change in changes {
                let id = change.attachment_arn.rsplit('/').next().unwrap_or_default();
                for a in attachments.iter_mut().filter(|a| a.id.as_deref() == Some(id)) {
                    a.status = Some(change.status.clone());
                }
            }
            attachments
        }),
        ..Default::default()
    })
    .await?;
    Ok(SubmitTaskStateChangeResponse { acknowledgment: Some("ACK".into()) })
}

pub async fn submit_container_state_change(
    ctx: Ctx,
    req: SubmitContainerStateChangeRequest,
) -> Result<SubmitContainerStateChangeResponse, AwsError> {
    let cluster = names::cluster_name(&ctx, req.cluster.as_deref())?;
    clusters::active(&ctx, &cluster).await?;
    let given = req.task.as_deref().ok_or_else(|| AwsError::ecs_invalid_parameter("task is required."))?;
    let id = names::task_id(&ctx, &cluster, given).ok_or_else(AwsError::ecs_task_not_found)?;
    report(&ctx, &cluster, &id, |current| ReportTaskStateRequest {
        cluster: cluster.clone(),
        task_arn: current.task_arn.clone().unwrap_or_default(),
        last_status: current.last_status.clone().unwrap_or_default(),
        containers: vec![Container {
            name: req.container_name.clone(),
            runtime_id: req.runtime_id.clone(),
            last_status: req.status.clone(),
            exit_code: req.exit_code,
            reason: req.reason.clone(),
            network_bindings: req.network_bindings.clone(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .await?;
    Ok(SubmitContainerStateChangeResponse { acknowledgment: Some("ACK".into()) })
}

// ---- the tasks a service starts (the service controller's placement path) ----

/// What a service's tasks are started with: one deployment's task definition and the
/// service's launch settings. CreateService/UpdateService check it (`check`) with the
/// same rules RunTask applies; the service controller starts tasks with it through the
/// same placement and commit path as RunTask.
#[derive(Debug, Clone)]
pub struct ServiceTasks {
    pub cluster: String,
    pub service_name: String,
    pub task_definition: String,
    /// The deployment id: the tasks' startedBy.
    pub deployment_id: String,
    pub launch_type: Option<LaunchType>,
    pub platform_version: Option<String>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub placement_constraints: Vec<PlacementConstraint>,
    pub placement_strategy: Vec<PlacementStrategy>,
    /// The service's tags (given to the tasks with propagateTags SERVICE).
    pub tags: Vec<Tag>,
    pub propagate_tags: Option<PropagateTags>,
    pub enable_ecs_managed_tags: bool,
    pub enable_execute_command: bool,
}

/// What starting a service's tasks did: the tasks committed, and why the others could
/// not be placed.
#[derive(Debug, Default)]
pub struct Started {
    pub tasks: Vec<Task>,
    pub failures: Vec<PlacementFailure>,
}

impl ServiceTasks {
    /// The launch settings of `service` for its deployment `deployment`.
    pub fn of(cluster: &str, service: &Service, deployment: &Deployment) -> Self {
        ServiceTasks {
            cluster: cluster.to_string(),
            service_name: service.service_name.clone().unwrap_or_default(),
            task_definition: deployment.task_definition.clone().unwrap_or_default(),
            deployment_id: deployment.id.clone().unwrap_or_default(),
            launch_type: service.launch_type,
            platform_version: service.platform_version.clone(),
            network_configuration: service.network_configuration.clone(),
            placement_constraints: service.placement_constraints.clone().unwrap_or_default(),
            placement_strategy: service.placement_strategy.clone().unwrap_or_default(),
            tags: service.tags.clone().unwrap_or_default(),
            propagate_tags: service.propagate_tags,
            enable_ecs_managed_tags: service.enable_ecs_managed_tags.unwrap_or(false),
            enable_execute_command: service.enable_execute_command.unwrap_or(false),
        }
    }

    async fn prepare(&self, ctx: &Ctx) -> Result<(Launch, Policy), AwsError> {
        let (tags, propagate) = match self.propagate_tags {
            Some(PropagateTags::Service) => (Some(self.tags.clone()), None),
            other => (None, other),
        };
        let mut spec = prepare(
            ctx,
            &self.cluster,
            Common {
                task_definition: &self.task_definition,
                inactive_definition_ok: true,
                overrides: None,
                group: Some(berth_model::service::group(&self.service_name)),
                started_by: Some(self.deployment_id.clone()),
                tags,
                network_configuration: self.network_configuration.clone(),
                enable_ecs_managed_tags: Some(self.enable_ecs_managed_tags),
                propagate_tags: propagate,
                enable_execute_command: Some(self.enable_execute_command),
            },
            self.launch_type,
        )
        .await?;
        spec.platform_version = launch::platform_version(self.launch_type, self.platform_version.clone());
        if self.enable_ecs_managed_tags {
            spec.tags.push(Tag { key: Some("aws:ecs:serviceName".into()), value: Some(self.service_name.clone()) });
        }
        let policy = Policy::from_ecs(
            &self.placement_strategy,
            &self.placement_constraints,
            spec.td.placement_constraints.as_deref().unwrap_or_default(),
        )
        .map_err(AwsError::ecs_invalid_parameter)?;
        spec.placement_constraints = self.placement_constraints.clone();
        spec.placement_strategy = self.placement_strategy.clone();
        Ok((spec, policy))
    }

    /// Whether tasks could be started with these settings (the task definition exists and
    /// is ACTIVE, the network configuration fits its network mode...): CreateService's and
    /// UpdateService's checks. Returns the task definition.
    pub async fn check(&self, ctx: &Ctx) -> Result<TaskDefinition, AwsError> {
        Ok(self.prepare(ctx).await?.0.td)
    }

    /// Places and commits `count` tasks (REPLICA), as RunTask does.
    pub async fn start(&self, ctx: &Ctx, count: usize) -> Result<Started, AwsError> {
        let (spec, mut policy) = self.prepare(ctx).await?;
        policy.seed = random_seed();
        let demands = vec![spec.demand.clone(); count];
        let mut why = vec![];
        let (tasks, _) = launch(ctx, &spec, None, |_, snapshots| {
            why.clear();
            Ok(berth_scheduler::place_in(snapshots, &demands, &policy)
                .into_iter()
                .map(|r| {
                    r.map(|p| (p.instance, p.gpus)).map_err(|f| {
                        why.push(f.clone());
                        failure(f)
                    })
                })
                .collect())
        })
        .await?;
        Ok(Started { tasks, failures: why })
    }

    /// The ids of the cluster's ACTIVE instances that satisfy the service's placement
    /// constraints (and its task definition's): where a DAEMON service runs a task.
    pub async fn eligible(&self, ctx: &Ctx) -> Result<Vec<String>, AwsError> {
        let (_, policy) = self.prepare(ctx).await?;
        let (records, snapshots) = snapshots(ctx, &self.cluster).await?;
        Ok(records
            .iter()
            .zip(&snapshots)
            .filter(|(_, s)| s.active && policy.admits(s))
            .map(|(r, _)| r.value.id())
            .collect())
    }

    /// Starts one task on each of the instances `instance_ids` that it fits (DAEMON).
    pub async fn start_on(&self, ctx: &Ctx, instance_ids: &[String]) -> Result<Started, AwsError> {
        let (spec, _) = self.prepare(ctx).await?;
        let mut why = vec![];
        let (tasks, _) = launch(ctx, &spec, None, |records, snapshots| {
            why.clear();
            Ok(instance_ids
                .iter()
                .filter_map(|id| records.iter().position(|r| &r.value.id() == id))
                .map(|i| {
                    berth_scheduler::place_on(&mut snapshots[i], &spec.demand).map(|gpus| (i, gpus)).map_err(
                        |shortfall| {
                            let f =
                                PlacementFailure::Insufficient { instance_arn: snapshots[i].arn.clone(), shortfall };
                            why.push(f.clone());
                            failure(f)
                        },
                    )
                })
                .collect())
        })
        .await?;
        Ok(Started { tasks, failures: why })
    }
}

// ---- shared with instances, clusters and the agent protocol ----

/// Every task record of the cluster, STOPPED ones included, in id order.
pub async fn load_all(ctx: &Ctx, cluster: &str) -> Result<Vec<Doc<TaskRecord>>, AwsError> {
    documents::list(ctx.store(), &keys::tasks_of(cluster)).await.map_err(AwsError::from)
}

/// The not-yet-STOPPED tasks of one instance, counted as ECS shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceTasks {
    /// lastStatus RUNNING.
    pub running: i32,
    /// lastStatus before RUNNING (PROVISIONING, PENDING, ACTIVATING).
    pub pending: i32,
    /// Task group → number of not-yet-STOPPED tasks.
    pub groups: BTreeMap<String, u32>,
}

/// Each instance's not-yet-STOPPED tasks, by instance id.
pub async fn by_instance(ctx: &Ctx, cluster: &str) -> Result<HashMap<String, InstanceTasks>, AwsError> {
    let mut out: HashMap<String, InstanceTasks> = HashMap::new();
    for doc in documents::list::<TaskSummary>(ctx.store(), &keys::tasks_of(cluster)).await? {
        let TaskSummary { task, placement } = doc.value;
        let status = task.last_status.as_deref().and_then(TaskStatus::parse).unwrap_or(TaskStatus::Provisioning);
        if status == TaskStatus::Stopped {
            continue;
        }
        let entry = out.entry(placement.container_instance_id).or_default();
        if status == TaskStatus::Running {
            entry.running += 1;
        } else if status.is_pending() {
            entry.pending += 1;
        }
        if let Some(group) = task.group {
            *entry.groups.entry(group).or_default() += 1;
        }
    }
    Ok(out)
}

/// Applies what an agent observed to task `task_id` (the report is built from the
/// current task by `make`), with compare-and-swap; reaching STOPPED releases the task's
/// reservation on its instance in the same transaction. Returns the store revision
/// after the change (the current one when there was nothing to change).
pub async fn report(
    ctx: &Ctx,
    cluster: &str,
    task_id: &str,
    mut make: impl FnMut(&Task) -> ReportTaskStateRequest,
) -> Result<Revision, AwsError> {
    let store = ctx.store();
    let key = keys::task(cluster, task_id);
    for _ in 0..documents::MAX_ATTEMPTS {
        let doc = documents::get::<TaskRecord>(store, &key).await?.ok_or_else(AwsError::ecs_task_not_found)?;
        let mut rec = doc.value;
        let report = make(&rec.task);
        let applied = task_lifecycle::apply_report(&mut rec.task, &report, Timestamp::now())
            .map_err(|e| AwsError::ecs_invalid_parameter(e.0))?;
        if !applied.changed {
            return Ok(store.revision().await?);
        }
        let mut txn =
            Txn::new().when(Compare::ModRevision(key.clone(), doc.mod_revision)).put(&key, documents::encode(&rec)?);
        if applied.stopped {
            let instance_key = keys::instance(cluster, &rec.placement.container_instance_id);
            if let Some(idoc) = documents::get::<ContainerInstanceRecord>(store, &instance_key).await? {
                let mut irec = idoc.value;
                if irec.reservations.remove(task_id).is_some() {
                    irec.bump();
                    txn = txn
                        .when(Compare::ModRevision(instance_key.clone(), idoc.mod_revision))
                        .put(instance_key, documents::encode(&irec)?);
                }
            }
        }
        let result = store.txn(txn).await?;
        if result.succeeded {
            return Ok(result.revision);
        }
    }
    Err(AwsError::internal("ServerException"))
}

/// The task as DescribeTasks shows it: tags only when asked for.
fn shown(mut task: Task, with_tags: bool) -> Task {
    if !with_tags {
        task.tags = Some(vec![]);
    }
    task
}

/// The family of the task's definition (from its ARN).
fn family_of(task: &Task) -> Option<&str> {
    let arn = task.task_definition_arn.as_deref()?;
    let (_, spec) = arn.rsplit_once("task-definition/")?;
    spec.rsplit_once(':').map(|(family, _)| family)
}

// ---- placing tasks ----

/// The members RunTask and StartTask share (and a service's tasks).
struct Common<'a> {
    task_definition: &'a str,
    /// A service keeps running (and scaling) its deployments' task definitions after they
    /// are deregistered, as ECS does; RunTask and StartTask need an ACTIVE one.
    inactive_definition_ok: bool,
    overrides: Option<TaskOverride>,
    group: Option<String>,
    started_by: Option<String>,
    tags: Option<Vec<Tag>>,
    network_configuration: Option<NetworkConfiguration>,
    enable_ecs_managed_tags: Option<bool>,
    propagate_tags: Option<PropagateTags>,
    enable_execute_command: Option<bool>,
}

/// Everything the tasks of one call are made of, validated.
struct Launch {
    cluster: String,
    cluster_arn: String,
    td: TaskDefinition,
    overrides: Option<TaskOverride>,
    demand: Demand,
    /// GPUs per container (by name, definition order): how a task's GPU ids are shared out.
    gpus: Vec<(String, u32)>,
    started_by: Option<String>,
    launch_type: Option<LaunchType>,
    capacity_provider_name: Option<String>,
    platform_version: Option<String>,
    tags: Vec<Tag>,
    network_configuration: Option<NetworkConfiguration>,
    placement_constraints: Vec<PlacementConstraint>,
    placement_strategy: Vec<PlacementStrategy>,
    enable_execute_command: bool,
}

async fn prepare(ctx: &Ctx, cluster: &str, c: Common<'_>, launch_type: Option<LaunchType>) -> Result<Launch, AwsError> {
    let record = runnable_task_definition(ctx, c.task_definition, c.inactive_definition_ok).await?;
    let td = record.task_definition;
    demand::validate_overrides(&td, c.overrides.as_ref()).map_err(|e| AwsError::ecs_invalid_parameter(e.0))?;

    launch::check_network(&td, c.network_configuration.as_ref())?;
    launch::check_launch_type(&td, launch_type)?;
    let family = td.family.clone().unwrap_or_default();
    let group = c.group.unwrap_or_else(|| format!("family:{family}"));
    launch::check_group(&group)?;
    if let Some(by) = &c.started_by {
        launch::check_started_by(by)?;
    }

    let given_tags = c.tags.unwrap_or_default();
    tags::validate(&given_tags).map_err(AwsError::ecs_invalid_parameter)?;
    let mut task_tags = match c.propagate_tags {
        Some(PropagateTags::TaskDefinition) => {
            tags::merge(&record.tags, &given_tags).map_err(AwsError::ecs_invalid_parameter)?
        }
        Some(PropagateTags::Service) => {
            return Err(AwsError::ecs_invalid_parameter(
                "propagateTags SERVICE is only valid for tasks a service starts; use TASK_DEFINITION or NONE.",
            ));
        }
        _ => given_tags,
    };
    if c.enable_ecs_managed_tags == Some(true) {
        task_tags.push(Tag { key: Some("aws:ecs:clusterName".into()), value: Some(cluster.to_string()) });
    }

    demand::validate_gpus(&td, c.overrides.as_ref()).map_err(|e| AwsError::ecs_invalid_parameter(e.0))?;
    let resources = demand::demand(&td, c.overrides.as_ref());
    let gpus = demand::gpus(&td, c.overrides.as_ref());
    Ok(Launch {
        cluster: cluster.to_string(),
        cluster_arn: ctx.scope().ecs(&EcsResource::Cluster(cluster.to_string())),
        overrides: c.overrides,
        demand: Demand { resources, group, gpus: gpus.iter().map(|(_, n)| n).sum() },
        gpus,
        started_by: c.started_by,
        launch_type,
        capacity_provider_name: None,
        platform_version: None,
        tags: task_tags,
        network_configuration: c.network_configuration,
        placement_constraints: vec![],
        placement_strategy: vec![],
        enable_execute_command: c.enable_execute_command.unwrap_or(false),
        td,
    })
}

/// The task definition RunTask/StartTask/CreateService names, which must be ACTIVE (or
/// INACTIVE too, with `inactive_ok`).
pub(crate) async fn runnable_task_definition(
    ctx: &Ctx,
    given: &str,
    inactive_ok: bool,
) -> Result<TaskDefinitionRecord, AwsError> {
    names::task_definition(ctx, given)?;
    let doc = match taskdefs::find(ctx, given).await {
        Err(e) if e.code == "ClientException" => return Err(AwsError::ecs_client("TaskDefinition not found.")),
        other => other?,
    };
    let status = doc.value.task_definition.status;
    if status != Some(TaskDefinitionStatus::Active) && !(inactive_ok && status == Some(TaskDefinitionStatus::Inactive))
    {
        return Err(AwsError::ecs_invalid_parameter("TaskDefinition is inactive"));
    }
    Ok(doc.value)
}

/// The seed of the random placement strategy (placement itself stays a pure function).
fn random_seed() -> u64 {
    u64::from_str_radix(&names::new_id()[..16], 16).unwrap_or(0)
}

/// Shares the task's GPU ids out to its containers in definition order, as ECS shows
/// them (containers[].gpuIds); the agent hands them to the container.
fn give_gpus(task: &mut Task, wanted: &[(String, u32)], ids: &[String]) {
    let mut ids = ids.iter();
    for (name, n) in wanted {
        let mine: Vec<String> = ids.by_ref().take(*n as usize).cloned().collect();
        if let Some(c) = task.containers.iter_mut().flatten().find(|c| c.name.as_deref() == Some(name.as_str())) {
            c.gpu_ids = Some(mine);
        }
    }
}

fn failure(f: PlacementFailure) -> Failure {
    match f {
        PlacementFailure::Insufficient { instance_arn, shortfall } => {
            Failure { arn: Some(instance_arn), reason: Some(shortfall.reason().into()), detail: None }
        }
        PlacementFailure::NoActiveInstances => Failure {
            arn: None,
            reason: Some("No Container Instances were found in your cluster.".into()),
            detail: None,
        },
    }
}

/// What a placement decision returns per task: the index of its instance and the GPU
/// ids reserved there, or a failure.
type Decisions = Vec<Result<(usize, Vec<String>), Failure>>;

/// Places the tasks `decide` chooses against a fresh read of the cluster's instances,
/// and commits them with the instances' new reservations in one transaction; on a
/// conflict it reads and decides again. With a client token, the first answer is
/// stored and returned to every retry.
async fn launch(
    ctx: &Ctx,
    spec: &Launch,
    token_key: Option<&str>,
    mut decide: impl FnMut(&[Doc<ContainerInstanceRecord>], &mut [InstanceSnapshot]) -> Result<Decisions, AwsError>,
) -> Result<(Vec<Task>, Vec<Failure>), AwsError> {
    let store = ctx.store();
    for _ in 0..documents::MAX_ATTEMPTS {
        if let Some(key) = token_key
            && let Some(earlier) = documents::get::<ClientTokenRecord>(store, key).await?
        {
            return answered(ctx, &spec.cluster, earlier.value).await;
        }
        let (records, mut snapshots) = snapshots(ctx, &spec.cluster).await?;
        let decisions = decide(&records, &mut snapshots)?;

        let now = Timestamp::now();
        let mut txn = Txn::new();
        let mut touched: BTreeMap<usize, ContainerInstanceRecord> = BTreeMap::new();
        let (mut tasks, mut failures) = (vec![], vec![]);
        for decision in decisions {
            let (i, gpus) = match decision {
                Ok(placed) => placed,
                Err(f) => {
                    if !failures.contains(&f) {
                        failures.push(f);
                    }
                    continue;
                }
            };
            let instance = &records[i].value;
            let id = names::new_id();
            let task_arn = ctx.scope().ecs(&EcsResource::Task { cluster: spec.cluster.clone(), id: id.clone() });
            let mut reserved = spec.demand.resources.clone();
            reserved.gpus = gpus.iter().cloned().collect();
            let reserved = &reserved;
            let mut task = task_lifecycle::provision(
                Provision {
                    task_arn,
                    cluster_arn: spec.cluster_arn.clone(),
                    container_instance_arn: snapshots[i].arn.clone(),
                    task_definition: &spec.td,
                    overrides: spec.overrides.as_ref(),
                    reserved,
                    group: spec.demand.group.clone(),
                    started_by: spec.started_by.clone(),
                    launch_type: spec.launch_type,
                    capacity_provider_name: spec.capacity_provider_name.clone(),
                    platform_version: spec.platform_version.clone(),
                    tags: spec.tags.clone(),
                    availability_zone: instance.attribute("ecs.availability-zone").map(Into::into),
                    attributes: instance
                        .attribute("ecs.cpu-architecture")
                        .map(|v| Attribute {
                            name: "ecs.cpu-architecture".into(),
                            value: Some(v.into()),
                            target_type: None,
                            target_id: None,
                        })
                        .into_iter()
                        .collect(),
                    awsvpc: spec.network_configuration.as_ref().and_then(|n| n.awsvpc_configuration.as_ref()),
                    enable_execute_command: spec.enable_execute_command,
                    created_at: now,
                },
                names::new_id,
            );
            give_gpus(&mut task, &spec.gpus, &gpus);
            touched.entry(i).or_insert_with(|| instance.clone()).reservations.insert(id.clone(), reserved.clone());
            let record = TaskRecord {
                task,
                placement: Placement { container_instance_id: instance.id(), reserved: reserved.clone() },
                placement_constraints: spec.placement_constraints.clone(),
                placement_strategy: spec.placement_strategy.clone(),
                network_configuration: spec.network_configuration.clone(),
            };
            let key = keys::task(&spec.cluster, &id);
            txn = txn.when(Compare::ModRevision(key.clone(), 0)).put(key, documents::encode(&record)?);
            tasks.push(record.task);
        }
        for (i, mut rec) in touched {
            rec.bump();
            let key = keys::instance(&spec.cluster, &rec.id());
            txn =
                txn.when(Compare::ModRevision(key.clone(), records[i].mod_revision)).put(key, documents::encode(&rec)?);
        }
        if let Some(key) = token_key {
            let answer = ClientTokenRecord {
                task_arns: tasks.iter().filter_map(|t| t.task_arn.clone()).collect(),
                failures: failures.clone(),
            };
            txn = txn.when(Compare::ModRevision(key.to_string(), 0)).put(key, documents::encode(&answer)?);
        }
        if txn.success.is_empty() || store.txn(txn).await?.succeeded {
            return Ok((tasks, failures));
        }
    }
    tracing::error!(cluster = spec.cluster, "placement gave up after {} conflicting attempts", documents::MAX_ATTEMPTS);
    Err(AwsError::internal("ServerException"))
}

/// The cluster's instances as stored, and as placement sees them (same order).
async fn snapshots(
    ctx: &Ctx,
    cluster: &str,
) -> Result<(Vec<Doc<ContainerInstanceRecord>>, Vec<InstanceSnapshot>), AwsError> {
    let records = instances::load_all(ctx, cluster).await?;
    let stats = by_instance(ctx, cluster).await?;
    let snapshots = records.iter().map(|d| instances::snapshot(ctx, &d.value, &stats)).collect();
    Ok((records, snapshots))
}

/// The answer stored for a client token, with the tasks as they are now.
async fn answered(ctx: &Ctx, cluster: &str, earlier: ClientTokenRecord) -> Result<(Vec<Task>, Vec<Failure>), AwsError> {
    let mut tasks = vec![];
    for arn in &earlier.task_arns {
        let Some(id) = names::task_id(ctx, cluster, arn) else { continue };
        if let Some(doc) = documents::get::<TaskRecord>(ctx.store(), &keys::task(cluster, &id)).await? {
            tasks.push(doc.value.task);
        }
    }
    Ok((tasks, earlier.failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_comes_from_the_definition_arn() {
        let task = Task {
            task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/web-app:12".into()),
            ..Default::default()
        };
        assert_eq!(family_of(&task), Some("web-app"));
        assert_eq!(family_of(&Task::default()), None);
    }

    #[test]
    fn gpu_ids_are_shared_out_in_container_order() {
        let container = |n: &str| Container { name: Some(n.into()), ..Default::default() };
        let mut task =
            Task { containers: Some(vec![container("a"), container("b"), container("c")]), ..Default::default() };
        let ids = ["g0".to_string(), "g1".into(), "g2".into()];
        give_gpus(&mut task, &[("a".into(), 2), ("c".into(), 1)], &ids);
        let got: Vec<Option<Vec<String>>> = task.containers.unwrap().into_iter().map(|c| c.gpu_ids).collect();
        assert_eq!(got, [Some(vec!["g0".into(), "g1".into()]), None, Some(vec!["g2".into()])]);
    }

    #[test]
    fn placement_failures_carry_ecs_reasons() {
        let f = failure(PlacementFailure::Insufficient {
            instance_arn: "arn:i".into(),
            shortfall: berth_scheduler::Shortfall::Ports,
        });
        assert_eq!((f.arn.as_deref(), f.reason.as_deref()), (Some("arn:i"), Some("RESOURCE:PORTS")));
    }
}
