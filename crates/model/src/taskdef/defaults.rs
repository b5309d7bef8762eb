//! Building the stored TaskDefinition: the request copied through, the members ECS
//! computes, and the defaults ECS fills in, as `aws ecs describe-task-definition` shows them.

use super::Registration;
use super::fargate::{fargate_unsupported, is_fargate_size};
use super::validate::{Checked, network_mode};
use crate::arn::EcsResource;
use crate::ecs::{
    Attribute, Compatibility, ContainerDefinition, LogDriver, NetworkMode, RegisterTaskDefinitionRequest,
    TaskDefinition, TaskDefinitionStatus, TransportProtocol,
};

/// Health check timings Docker and ECS use when a member is absent; ECS writes them in.
const HEALTH_CHECK_INTERVAL: i32 = 30;
const HEALTH_CHECK_TIMEOUT: i32 = 5;
const HEALTH_CHECK_RETRIES: i32 = 3;

pub(crate) fn build(req: &RegisterTaskDefinitionRequest, reg: &Registration, checked: &Checked) -> TaskDefinition {
    // Destructured member by member so that a member added to the model cannot be
    // silently dropped: it fails to compile here until it is copied through.
    let RegisterTaskDefinitionRequest {
        family,
        task_role_arn,
        execution_role_arn,
        network_mode: requested_network_mode,
        container_definitions,
        volumes,
        placement_constraints,
        requires_compatibilities,
        // Stored normalized ("0.25 vCPU" -> "256"), from `checked`.
        cpu: _,
        memory: _,
        // Tags belong to the resource, not the definition: RegisterTaskDefinition's
        // response carries them beside it.
        tags: _,
        pid_mode,
        ipc_mode,
        proxy_configuration,
        inference_accelerators,
        ephemeral_storage,
        runtime_platform,
        enable_fault_injection,
        trusted_execution_configuration,
    } = req;
    let mode = network_mode(req);
    TaskDefinition {
        task_definition_arn: Some(
            reg.scope.ecs(&EcsResource::TaskDefinition { family: family.clone(), revision: reg.revision }),
        ),
        container_definitions: Some(container_definitions.iter().map(|c| container(c, mode)).collect()),
        family: Some(family.clone()),
        task_role_arn: task_role_arn.clone(),
        execution_role_arn: execution_role_arn.clone(),
        // Left absent when not sent: describe-task-definition shows no networkMode for
        // such definitions (the console calls it "<default>"), though they run as bridge.
        network_mode: *requested_network_mode,
        revision: Some(reg.revision),
        volumes: Some(volumes.clone().unwrap_or_default()),
        status: Some(TaskDefinitionStatus::Active),
        requires_attributes: Some(requires_attributes(req).into_iter().map(attribute).collect()),
        placement_constraints: Some(placement_constraints.clone().unwrap_or_default()),
        compatibilities: Some(compatibilities(req, checked)),
        runtime_platform: runtime_platform.clone(),
        requires_compatibilities: requires_compatibilities.clone(),
        cpu: checked.cpu.map(|units| units.to_string()),
        memory: checked.memory.map(|mib| mib.to_string()),
        inference_accelerators: inference_accelerators.clone(),
        pid_mode: *pid_mode,
        ipc_mode: *ipc_mode,
        proxy_configuration: proxy_configuration.clone(),
        registered_at: Some(reg.registered_at),
        deregistered_at: None,
        delete_requested_at: None,
        registered_by: Some(reg.registered_by.clone()),
        ephemeral_storage: ephemeral_storage.clone(),
        enable_fault_injection: *enable_fault_injection,
        trusted_execution_configuration: trusted_execution_configuration.clone(),
    }
}

/// A container definition with ECS's defaults filled into the members left absent.
fn container(c: &ContainerDefinition, mode: NetworkMode) -> ContainerDefinition {
    let mut c = c.clone();
    c.cpu.get_or_insert(0);
    c.essential.get_or_insert(true);
    c.port_mappings.get_or_insert_with(Vec::new);
    c.environment.get_or_insert_with(Vec::new);
    c.mount_points.get_or_insert_with(Vec::new);
    c.volumes_from.get_or_insert_with(Vec::new);
    c.system_controls.get_or_insert_with(Vec::new);
    for mapping in c.port_mappings.iter_mut().flatten() {
        mapping.protocol.get_or_insert(TransportProtocol::Tcp);
        // With awsvpc and host networking the host port is the container port; ECS
        // writes it in. In bridge mode an absent hostPort stays absent (dynamic).
        if matches!(mode, NetworkMode::Awsvpc | NetworkMode::Host) && mapping.host_port.is_none() {
            mapping.host_port = mapping.container_port;
        }
    }
    if let Some(health) = &mut c.health_check {
        // describe-task-definition shows these defaults even when they were not sent;
        // startPeriod has no default (off) and stays absent.
        health.interval.get_or_insert(HEALTH_CHECK_INTERVAL);
        health.timeout.get_or_insert(HEALTH_CHECK_TIMEOUT);
        health.retries.get_or_insert(HEALTH_CHECK_RETRIES);
    }
    c
}

/// The launch types the definition can run on, in the order AWS lists them.
///
/// What AWS returns: bridge/host/none definitions get ["EXTERNAL", "EC2"] (ECS Anywhere
/// supports every network mode except awsvpc); awsvpc definitions get ["EC2"], plus
/// "FARGATE" when Fargate could run it: task cpu and memory form a Fargate size and no
/// member needs an EC2 host. This holds whatever requiresCompatibilities says; that
/// member only adds the checks of the launch types it names. MANAGED_INSTANCES, which
/// newer AWS responses may list too, is left out: berth has no such capacity.
fn compatibilities(req: &RegisterTaskDefinitionRequest, checked: &Checked) -> Vec<Compatibility> {
    let mode = network_mode(req);
    let mut out = Vec::new();
    if mode != NetworkMode::Awsvpc {
        out.push(Compatibility::External);
    }
    out.push(Compatibility::Ec2);
    let fargate_size = match (checked.cpu, checked.memory) {
        (Some(cpu), Some(memory)) => is_fargate_size(cpu, memory),
        _ => false,
    };
    if mode == NetworkMode::Awsvpc && fargate_size && fargate_unsupported(req).is_none() {
        out.push(Compatibility::Fargate);
    }
    out
}

const DOCKER_REMOTE_API_1_18: &str = "com.amazonaws.ecs.capability.docker-remote-api.1.18";
const DOCKER_REMOTE_API_1_19: &str = "com.amazonaws.ecs.capability.docker-remote-api.1.19";

/// The container-instance attributes the definition needs, as ECS computes them for
/// requiresAttributes: only those whose trigger is well established from AWS's output.
/// Each appears once, in the order first needed.
fn requires_attributes(req: &RegisterTaskDefinitionRequest) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    let execution_role = req.execution_role_arn.as_deref().is_some_and(|r| !r.is_empty());
    for c in &req.container_definitions {
        if let Some(log) = &c.log_configuration {
            add(&format!("com.amazonaws.ecs.capability.logging-driver.{}", log.log_driver.as_str()));
            if log.log_driver == LogDriver::Awslogs {
                add(DOCKER_REMOTE_API_1_19);
                if execution_role {
                    add("ecs.capability.execution-role-awslogs");
                }
            }
        }
        if c.image.as_deref().is_some_and(is_private_ecr) {
            add("com.amazonaws.ecs.capability.ecr-auth");
            if execution_role {
                add("ecs.capability.execution-role-ecr-pull");
            }
        }
        if c.privileged == Some(true) {
            add("com.amazonaws.ecs.capability.privileged-container");
        }
        if c.health_check.is_some() {
            add("ecs.capability.container-health-check");
        }
        if c.depends_on.as_ref().is_some_and(|d| !d.is_empty()) {
            add("ecs.capability.container-ordering");
        }
        for secret in c.secrets.iter().flatten() {
            if secret.value_from.contains(":secretsmanager:") {
                add("ecs.capability.secrets.asm.environment-variables");
            } else {
                add("ecs.capability.secrets.ssm.environment-variables");
            }
        }
        if c.environment_files.as_ref().is_some_and(|f| !f.is_empty()) {
            add("ecs.capability.env-files.s3");
        }
        if let Some(firelens) = &c.firelens_configuration {
            add(&format!("ecs.capability.firelens.{}", firelens.r#type.as_str()));
        }
    }
    if req.task_role_arn.as_deref().is_some_and(|r| !r.is_empty()) {
        add("com.amazonaws.ecs.capability.task-iam-role");
    }
    if network_mode(req) == NetworkMode::Awsvpc {
        add(DOCKER_REMOTE_API_1_18);
        add("ecs.capability.task-eni");
    }
    names
}

fn attribute(name: String) -> Attribute {
    Attribute { name, value: None, target_type: None, target_id: None }
}

/// Whether the image lives in a private ECR registry
/// (`ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/...`), which the agent pulls with
/// ECR credentials. Public ECR (public.ecr.aws) and other registries need none.
pub(crate) fn is_private_ecr(image: &str) -> bool {
    let Some((registry, _)) = image.split_once('/') else {
        return false;
    };
    (registry.contains(".dkr.ecr.") || registry.contains(".dkr.ecr-fips."))
        && (registry.ends_with(".amazonaws.com") || registry.ends_with(".amazonaws.com.cn"))
}
