//! Fargate: the task sizes it offers and the members it cannot honour.

use super::validate::{Result, fail};
use crate::ecs::{LogDriver, NetworkMode, PidMode, RegisterTaskDefinitionRequest, ResourceType};

/// Fargate stops a container at most 120 seconds after SIGTERM.
const FARGATE_MAX_STOP_TIMEOUT: i32 = 120;

/// Whether Fargate offers this task size (cpu units, memory MiB).
///
/// The table from the ECS developer guide ("Task CPU and memory"): each cpu value allows
/// a memory range in fixed steps.
pub(crate) fn is_fargate_size(cpu: u32, memory: u32) -> bool {
    let (low, high, step) = match cpu {
        256 => return matches!(memory, 512 | 1024 | 2048),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return false,
    };
    (low..=high).contains(&memory) && (memory - low).is_multiple_of(step)
}

/// requiresCompatibilities FARGATE: awsvpc, a task size Fargate offers, and nothing
/// only an EC2 host can provide.
pub(crate) fn fargate_rules(
    req: &RegisterTaskDefinitionRequest,
    cpu: Option<u32>,
    memory: Option<u32>,
    mode: NetworkMode,
) -> Result {
    if mode != NetworkMode::Awsvpc {
        return fail("Fargate only supports network mode 'awsvpc'.");
    }
    let Some(cpu) = cpu else {
        return fail("Fargate requires that 'cpu' be defined at the task level.");
    };
    let Some(memory) = memory else {
        return fail("Fargate requires that 'memory' be defined at the task level.");
    };
    if !is_fargate_size(cpu, memory) {
        // ECS's own words (its table is in the developer guide, "Task CPU and memory").
        return fail(format!(
            "No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. \
             See the Amazon ECS documentation for the valid values."
        ));
    }
    if let Some(feature) = fargate_unsupported(req) {
        return fail(format!(
            "Fargate does not support {feature}. Remove it, or remove FARGATE from \
             'requiresCompatibilities'."
        ));
    }
    Ok(())
}

/// The first member that only an EC2 (or external) host can honour, described for a
/// message; None when Fargate can run the definition as far as its members go. These
/// are the members the ECS developer guide marks as not supported on Fargate.
pub(crate) fn fargate_unsupported(req: &RegisterTaskDefinitionRequest) -> Option<String> {
    if req.placement_constraints.as_ref().is_some_and(|p| !p.is_empty()) {
        return Some("task placement constraints ('placementConstraints')".into());
    }
    if req.ipc_mode.is_some() {
        return Some("'ipcMode'".into());
    }
    if req.pid_mode == Some(PidMode::Host) {
        return Some("pidMode=host".into());
    }
    if req.inference_accelerators.as_ref().is_some_and(|a| !a.is_empty()) {
        return Some("'inferenceAccelerators'".into());
    }
    for volume in req.volumes.iter().flatten() {
        let v = volume.name.as_deref().unwrap_or_default();
        if volume.docker_volume_configuration.is_some() {
            return Some(format!("Docker volumes ('dockerVolumeConfiguration' on volume '{v}')"));
        }
        if volume.host.as_ref().is_some_and(|h| h.source_path.is_some()) {
            return Some(format!("host paths ('host.sourcePath' on volume '{v}')"));
        }
    }
    for c in &req.container_definitions {
        let name = c.name.as_deref().unwrap_or_default();
        if c.privileged == Some(true) {
            return Some(format!("privileged containers ('privileged' on container '{name}')"));
        }
        if let Some(log) = &c.log_configuration {
            let supported = [LogDriver::Awslogs, LogDriver::Splunk, LogDriver::Awsfirelens];
            if !supported.contains(&log.log_driver) {
                return Some(format!(
                    "the '{}' log driver (container '{name}'; Fargate supports awslogs, splunk \
                     and awsfirelens)",
                    log.log_driver.as_str()
                ));
            }
        }
        if let Some(t) = c.stop_timeout.filter(|t| *t > FARGATE_MAX_STOP_TIMEOUT) {
            return Some(format!(
                "a 'stopTimeout' over {FARGATE_MAX_STOP_TIMEOUT} seconds ({t} on container '{name}')"
            ));
        }
        if c.resource_requirements.iter().flatten().any(|r| r.r#type == ResourceType::Gpu) {
            return Some(format!("GPUs ('resourceRequirements' of type GPU on container '{name}')"));
        }
        if let Some(linux) = &c.linux_parameters {
            let host_only = [
                ("devices", linux.devices.as_ref().is_some_and(|d| !d.is_empty())),
                ("sharedMemorySize", linux.shared_memory_size.is_some()),
                ("tmpfs", linux.tmpfs.as_ref().is_some_and(|t| !t.is_empty())),
                ("maxSwap", linux.max_swap.is_some()),
                ("swappiness", linux.swappiness.is_some()),
            ];
            if let Some((member, _)) = host_only.iter().find(|(_, set)| *set) {
                return Some(format!("'linuxParameters.{member}' (container '{name}')"));
            }
        }
    }
    None
}
