//! The rules ECS applies to a RegisterTaskDefinition request.
//!
//! Messages that AWS is known to return are reproduced word for word (clients and
//! people search for them), sometimes followed by the figures involved; where AWS's
//! wording is unknown the message names the container, the member and the value, and
//! says what would be accepted.
//!
//! Only rules AWS is known to enforce at registration are here: rejecting a definition
//! AWS would accept breaks people's existing definitions, which is worse than accepting
//! one AWS would refuse. Enumerated members (conditions, protocols, network modes, ...)
//! need no check here: the generated enums only deserialize the values AWS defines.

use std::collections::HashSet;

use super::InvalidTaskDefinition;
use super::dependencies::dependencies;
use super::fargate::fargate_rules;
use super::network::{links, port_mappings};
use super::resources::{cpu_units, memory_mib};
use crate::ecs::{Compatibility, ContainerDefinition, NetworkMode, RegisterTaskDefinitionRequest};

/// The most bytes a task definition may take (the request as JSON): "64 KiB".
const MAX_DEFINITION_BYTES: usize = 65536;
/// ECS's hard quota of container definitions per task definition.
const MAX_CONTAINERS: usize = 10;
/// Family and container names: up to 255 letters, numbers, hyphens and underscores.
const MAX_NAME_LEN: usize = 255;
const MAX_IMAGE_LEN: usize = 255;
/// Docker (20.10 and later) reserves 6 MiB for a container; a lower hard limit cannot start.
const MIN_CONTAINER_MEMORY_MIB: i32 = 6;
const MAX_PLACEMENT_CONSTRAINTS: usize = 10;

pub(crate) type Result<T = ()> = std::result::Result<T, InvalidTaskDefinition>;

pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(InvalidTaskDefinition::new(message))
}

/// What validation learned that building needs: task cpu (units) and memory (MiB).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Checked {
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
}

/// The network mode the task runs with: absent means Docker's default, bridge (Linux).
pub(crate) fn network_mode(req: &RegisterTaskDefinitionRequest) -> NetworkMode {
    req.network_mode.unwrap_or(NetworkMode::Bridge)
}

fn requires_fargate(req: &RegisterTaskDefinitionRequest) -> bool {
    req.requires_compatibilities.iter().flatten().any(|c| *c == Compatibility::Fargate)
}

pub(crate) fn check(req: &RegisterTaskDefinitionRequest) -> Result<Checked> {
    size(req)?;
    family(&req.family)?;
    let containers = &req.container_definitions;
    if containers.is_empty() {
        return fail("Container list cannot be empty.");
    }
    if containers.len() > MAX_CONTAINERS {
        return fail(format!(
            "Too many containers. A task definition can have at most {MAX_CONTAINERS} \
             container definitions; this one has {}.",
            containers.len()
        ));
    }
    let names = container_names(containers)?;
    for (c, name) in containers.iter().zip(&names) {
        image(name, c)?;
    }
    if !containers.iter().any(|c| c.essential.unwrap_or(true)) {
        return fail("Task definition doesn't have any essential container.");
    }

    let cpu = req.cpu.as_deref().map(cpu_units).transpose()?;
    let memory = req.memory.as_deref().map(memory_mib).transpose()?;
    let mode = network_mode(req);
    let fargate = requires_fargate(req);
    for (c, name) in containers.iter().zip(&names) {
        container_resources(name, c, memory.is_some(), fargate)?;
        port_mappings(name, c, mode)?;
        links(name, c, mode)?;
        health_check(name, c)?;
    }
    task_totals(containers, &names, cpu, memory)?;
    references(req, &names)?;
    dependencies(containers, &names)?;
    task_members(req)?;
    if fargate {
        fargate_rules(req, cpu, memory, mode)?;
    }
    tags(req)?;
    Ok(Checked { cpu, memory })
}

/// AWS limits a task definition to 64 KiB; measured here as the request's JSON, which is
/// what clients can measure too. The message is AWS's.
fn size(req: &RegisterTaskDefinitionRequest) -> Result {
    let len = serde_json::to_vec(req)
        .map(|json| json.len())
        .map_err(|e| InvalidTaskDefinition::new(format!("Task definition could not be measured: {e}")))?;
    if len > MAX_DEFINITION_BYTES {
        return fail(format!(
            "Actual length: '{len}'. Max allowed length is '{MAX_DEFINITION_BYTES}' bytes. \
             Shrink the task definition (environment variables and secrets are the usual bulk)."
        ));
    }
    Ok(())
}

fn is_name_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn family(family: &str) -> Result {
    if family.is_empty() {
        return fail("Family can not be blank.");
    }
    if !is_name_chars(family) {
        return fail(format!(
            "Family contains invalid characters. Use only letters, numbers, hyphens (-) and \
             underscores (_); got \"{family}\"."
        ));
    }
    if family.len() > MAX_NAME_LEN {
        return fail(format!("Family is too long: {} characters; at most {MAX_NAME_LEN} are allowed.", family.len()));
    }
    Ok(())
}

fn container_names(containers: &[ContainerDefinition]) -> Result<Vec<&str>> {
    let mut seen = HashSet::new();
    containers
        .iter()
        .map(|c| {
            let name = c.name.as_deref().unwrap_or_default();
            if name.is_empty() {
                return fail("Container.name should not be null or empty.");
            }
            if !is_name_chars(name) {
                return fail(format!(
                    "Container.name contains invalid characters. Use only letters, numbers, \
                     hyphens (-) and underscores (_); got \"{name}\"."
                ));
            }
            if name.len() > MAX_NAME_LEN {
                return fail(format!(
                    "Container.name is too long: {} characters; at most {MAX_NAME_LEN} are allowed.",
                    name.len()
                ));
            }
            if !seen.insert(name) {
                return fail(format!(
                    "Duplicate container name '{name}'. Container names must be unique within \
                     a task definition."
                ));
            }
            Ok(name)
        })
        .collect()
}

fn image(name: &str, c: &ContainerDefinition) -> Result {
    match c.image.as_deref().map(str::trim) {
        None | Some("") => fail("Container.image should not be null or empty."),
        Some(image) if image.len() > MAX_IMAGE_LEN => fail(format!(
            "Container.image of container '{name}' is too long: {} characters; at most \
             {MAX_IMAGE_LEN} are allowed.",
            image.len()
        )),
        Some(_) => Ok(()),
    }
}

/// Container cpu and memory. Without task-level memory something must bound each
/// container's memory so EC2 placement can account for it; Fargate instead requires
/// task-level memory (checked with the other Fargate rules, with Fargate's message).
fn container_resources(name: &str, c: &ContainerDefinition, task_memory: bool, fargate: bool) -> Result {
    if let Some(cpu) = c.cpu.filter(|cpu| *cpu < 0) {
        return fail(format!(
            "Invalid 'cpu' setting for container '{name}'. It must be 0 or more CPU units; got {cpu}."
        ));
    }
    if let Some(memory) = c.memory.filter(|m| *m < MIN_CONTAINER_MEMORY_MIB) {
        return fail(format!(
            "Invalid 'memory' setting for container '{name}'. Minimum memory is \
             {MIN_CONTAINER_MEMORY_MIB} MiB; got {memory} MiB."
        ));
    }
    if let Some(reservation) = c.memory_reservation.filter(|r| *r <= 0) {
        return fail(format!(
            "Invalid 'memoryReservation' setting for container '{name}'. It must be greater \
             than 0 MiB; got {reservation}."
        ));
    }
    if let (Some(memory), Some(reservation)) = (c.memory, c.memory_reservation)
        && memory < reservation
    {
        return fail(format!(
            "Invalid setting for container '{name}'. 'memory' ({memory} MiB) must be greater \
             than or equal to 'memoryReservation' ({reservation} MiB)."
        ));
    }
    if !task_memory && !fargate && c.memory.is_none() && c.memory_reservation.is_none() {
        return fail(format!(
            "Invalid setting for container '{name}'. At least one of 'memory' or \
             'memoryReservation' must be specified."
        ));
    }
    Ok(())
}

/// Containers share the task's cpu and memory: no container's hard memory limit may
/// exceed the task's, and what the containers reserve together (cpu; memoryReservation,
/// or memory where none is set) must fit in it.
fn task_totals(containers: &[ContainerDefinition], names: &[&str], cpu: Option<u32>, memory: Option<u32>) -> Result {
    if let Some(task_cpu) = cpu {
        let sum: i64 = containers.iter().map(|c| i64::from(c.cpu.unwrap_or(0))).sum();
        if sum > i64::from(task_cpu) {
            return fail(format!(
                "The sum of all container 'cpu' values cannot be greater than the value of the \
                 task 'cpu'. The containers ask for {sum} CPU units; the task has {task_cpu}."
            ));
        }
    }
    if let Some(task_memory) = memory {
        for (c, name) in containers.iter().zip(names) {
            if let Some(m) = c.memory.filter(|m| i64::from(*m) > i64::from(task_memory)) {
                return fail(format!(
                    "The 'memory' setting for container '{name}' is greater than for the task. \
                     The container has {m} MiB; the task has {task_memory} MiB."
                ));
            }
        }
        let reserved: i64 = containers.iter().map(|c| i64::from(c.memory_reservation.or(c.memory).unwrap_or(0))).sum();
        if reserved > i64::from(task_memory) {
            return fail(format!(
                "The sum of all container memory reservations cannot be greater than the value \
                 of the task 'memory'. The containers reserve {reserved} MiB ('memoryReservation', \
                 or 'memory' where no reservation is set); the task has {task_memory} MiB."
            ));
        }
    }
    Ok(())
}

/// The health check bounds the ECS API reference documents for each member.
fn health_check(name: &str, c: &ContainerDefinition) -> Result {
    let Some(h) = &c.health_check else {
        return Ok(());
    };
    let bounds = [
        ("interval", h.interval, 5, 300, " seconds"),
        ("timeout", h.timeout, 2, 60, " seconds"),
        ("retries", h.retries, 1, 10, ""),
        ("startPeriod", h.start_period, 0, 300, " seconds"),
    ];
    for (member, value, low, high, unit) in bounds {
        if let Some(v) = value.filter(|v| !(low..=high).contains(v)) {
            return fail(format!(
                "Invalid 'healthCheck' in container '{name}': '{member}' must be between {low} \
                 and {high}{unit}; got {v}."
            ));
        }
    }
    Ok(())
}

/// Names that must refer to something declared elsewhere in the definition: mount
/// points to task volumes, volumesFrom to containers, the App Mesh proxy to a container.
fn references(req: &RegisterTaskDefinitionRequest, names: &[&str]) -> Result {
    let mut volumes = HashSet::new();
    for volume in req.volumes.iter().flatten() {
        if let Some(v) = volume.name.as_deref()
            && !volumes.insert(v)
        {
            return fail(format!("Duplicate volume name '{v}'. Volume names must be unique within a task definition."));
        }
    }
    for (c, name) in req.container_definitions.iter().zip(names) {
        for mount in c.mount_points.iter().flatten() {
            if let Some(v) = mount.source_volume.as_deref().filter(|v| !volumes.contains(v)) {
                return fail(format!(
                    "Invalid 'sourceVolume' in a mount point of container '{name}': no volume \
                     named '{v}' is declared in the task definition's 'volumes'."
                ));
            }
        }
        for from in c.volumes_from.iter().flatten() {
            if let Some(src) = from.source_container.as_deref().filter(|s| !names.contains(s)) {
                return fail(format!(
                    "Invalid 'volumesFrom' in container '{name}': no container named '{src}' \
                     is defined in this task definition."
                ));
            }
        }
    }
    if let Some(proxy) = &req.proxy_configuration
        && !names.contains(&proxy.container_name.as_str())
    {
        return fail(format!(
            "Invalid 'proxyConfiguration': no container named '{}' is defined in this task \
             definition.",
            proxy.container_name
        ));
    }
    Ok(())
}

/// Task-level members with documented bounds.
fn task_members(req: &RegisterTaskDefinitionRequest) -> Result {
    if let Some(storage) = &req.ephemeral_storage {
        let size = storage.size_in_gi_b;
        if !(21..=200).contains(&size) {
            return fail(format!("Invalid 'ephemeralStorage.sizeInGiB' {size}. It must be between 21 and 200 GiB."));
        }
    }
    let constraints = req.placement_constraints.as_ref().map_or(0, Vec::len);
    if constraints > MAX_PLACEMENT_CONSTRAINTS {
        return fail(format!(
            "Too many placement constraints: {constraints}. A task definition can have at most \
             {MAX_PLACEMENT_CONSTRAINTS}."
        ));
    }
    Ok(())
}

/// Resource tags, with the limits AWS applies to tags on every resource.
fn tags(req: &RegisterTaskDefinitionRequest) -> Result {
    crate::tags::validate(req.tags.as_deref().unwrap_or_default()).map_err(InvalidTaskDefinition::new)
}
