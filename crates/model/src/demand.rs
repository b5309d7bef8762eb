//! What a task reserves on the container instance it runs on: CPU units, MiB of memory
//! and the fixed host ports it binds, computed from its task definition and overrides
//! the way ECS's scheduler counts them.
//!
//! - CPU: the task-level `cpu` (override first) when set, else the sum of the
//!   containers' `cpu` (container overrides first; absent counts 0).
//! - Memory: the task-level `memory` (override first) when set, else the sum over the
//!   containers of `memoryReservation` when set (the soft limit is what ECS subtracts),
//!   else `memory`.
//! - Ports: fixed host ports, tcp and udp apart. In bridge mode a hostPort of 0 or
//!   absent is dynamic (Docker picks one) and is not accounted; in host mode the
//!   container port is the host port; awsvpc tasks bind inside their own network
//!   namespace and none binds nothing, so neither holds host ports.
//!
//! - GPUs: whole GPUs by count per container (`resourceRequirements` type GPU,
//!   container override first); the scheduler reserves ids, given to containers in
//!   definition order.
//!
//! Pure: no I/O.

use crate::ecs::{
    ContainerDefinition, NetworkMode, ResourceRequirement, ResourceType, TaskDefinition, TaskOverride,
    TransportProtocol,
};
use crate::taskdef::resources::{cpu_units, memory_mib};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// CPU units, MiB and host ports: what an instance offers, or what a task holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu: i64,
    pub memory: i64,
    #[serde(rename = "portsTcp", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ports_tcp: BTreeSet<u16>,
    #[serde(rename = "portsUdp", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ports_udp: BTreeSet<u16>,
    /// GPU ids held (a task's, once placed) or reserved in total (an instance's).
    #[serde(rename = "gpus", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub gpus: BTreeSet<String>,
}

impl Resources {
    /// Adds `other` to `self` (ports as a union).
    pub fn add(&mut self, other: &Resources) {
        self.cpu += other.cpu;
        self.memory += other.memory;
        self.ports_tcp.extend(other.ports_tcp.iter().copied());
        self.ports_udp.extend(other.ports_udp.iter().copied());
        self.gpus.extend(other.gpus.iter().cloned());
    }

    /// The sum of several reservations.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Resources>) -> Resources {
        let mut total = Resources::default();
        for r in all {
            total.add(r);
        }
        total
    }
}

/// An override that ECS refuses; the message is the one its API returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidOverride(pub String);

/// Checks a RunTask/StartTask override against the definition: every container
/// override names one of its containers, and sizes are sane.
pub fn validate_overrides(td: &TaskDefinition, overrides: Option<&TaskOverride>) -> Result<(), InvalidOverride> {
    let Some(o) = overrides else { return Ok(()) };
    let containers = td.container_definitions.as_deref().unwrap_or_default();
    for co in o.container_overrides.iter().flatten() {
        let Some(name) = co.name.as_deref() else {
            return Err(InvalidOverride("Container overrides must name their container.".into()));
        };
        if !containers.iter().any(|c| c.name.as_deref() == Some(name)) {
            return Err(InvalidOverride(format!(
                "Override for container named {name} is not a container in the TaskDefinition."
            )));
        }
        for (what, value) in [("cpu", co.cpu), ("memory", co.memory), ("memoryReservation", co.memory_reservation)] {
            if value.is_some_and(|v| v < 0) {
                return Err(InvalidOverride(format!(
                    "Invalid '{what}' override {} for container {name}: it cannot be negative.",
                    value.unwrap_or_default()
                )));
            }
        }
        let defined = container(containers, name);
        let hard = co.memory.or(defined.and_then(|c| c.memory));
        let soft = co.memory_reservation.or(defined.and_then(|c| c.memory_reservation));
        if let (Some(hard), Some(soft)) = (hard, soft)
            && hard < soft
        {
            return Err(InvalidOverride(format!(
                "Invalid memory override for container {name}: memory ({hard}) must be greater than or equal to \
                 memoryReservation ({soft})."
            )));
        }
    }
    if let Some(cpu) = &o.cpu {
        cpu_units(cpu).map_err(|e| InvalidOverride(e.0.replace("for task", "override for task")))?;
    }
    if let Some(memory) = &o.memory {
        memory_mib(memory).map_err(|e| InvalidOverride(e.0.replace("for task", "override for task")))?;
    }
    Ok(())
}

fn container<'a>(containers: &'a [ContainerDefinition], name: &str) -> Option<&'a ContainerDefinition> {
    containers.iter().find(|c| c.name.as_deref() == Some(name))
}

/// What one task of `td` run with `overrides` reserves. Call `validate_overrides` first:
/// sizes that do not parse count as absent here.
pub fn demand(td: &TaskDefinition, overrides: Option<&TaskOverride>) -> Resources {
    let containers = td.container_definitions.as_deref().unwrap_or_default();
    let container_override = |name: Option<&str>| {
        overrides
            .and_then(|o| o.container_overrides.as_deref())
            .and_then(|cos| cos.iter().find(|co| co.name.is_some() && co.name.as_deref() == name))
    };
    let task_cpu = overrides.and_then(|o| o.cpu.as_deref()).or(td.cpu.as_deref()).and_then(|s| cpu_units(s).ok());
    let task_memory =
        overrides.and_then(|o| o.memory.as_deref()).or(td.memory.as_deref()).and_then(|s| memory_mib(s).ok());

    let mut cpu = 0i64;
    let mut memory = 0i64;
    for c in containers {
        let co = container_override(c.name.as_deref());
        cpu += i64::from(co.and_then(|o| o.cpu).or(c.cpu).unwrap_or(0).max(0));
        let soft = co.and_then(|o| o.memory_reservation).or(c.memory_reservation);
        let hard = co.and_then(|o| o.memory).or(c.memory);
        memory += i64::from(soft.or(hard).unwrap_or(0).max(0));
    }
    let mut out = Resources {
        cpu: task_cpu.map_or(cpu, i64::from),
        memory: task_memory.map_or(memory, i64::from),
        ..Default::default()
    };
    let mode = td.network_mode.unwrap_or(NetworkMode::Bridge);
    for c in containers {
        for m in c.port_mappings.iter().flatten() {
            let host = match mode {
                NetworkMode::Bridge => m.host_port,
                NetworkMode::Host => m.host_port.or(m.container_port),
                NetworkMode::Awsvpc | NetworkMode::None => None,
            };
            let Some(port) = host.filter(|p| *p > 0).and_then(|p| u16::try_from(p).ok()) else { continue };
            match m.protocol.unwrap_or(TransportProtocol::Tcp) {
                TransportProtocol::Tcp => out.ports_tcp.insert(port),
                TransportProtocol::Udp => out.ports_udp.insert(port),
            };
        }
    }
    out
}

/// How many GPUs each container of `td` asks for (container overrides first), by
/// container name, in definition order; containers asking none are left out.
pub fn gpus(td: &TaskDefinition, overrides: Option<&TaskOverride>) -> Vec<(String, u32)> {
    let count = |reqs: Option<&Vec<ResourceRequirement>>| {
        reqs.and_then(|rs| rs.iter().find(|r| r.r#type == ResourceType::Gpu))
            .map(|r| r.value.as_deref().unwrap_or_default().trim().parse::<u32>().unwrap_or(0))
    };
    let mut out = vec![];
    for c in td.container_definitions.iter().flatten() {
        let name = c.name.clone().unwrap_or_default();
        let co = overrides
            .and_then(|o| o.container_overrides.as_deref())
            .and_then(|cos| cos.iter().find(|co| co.name.as_deref() == Some(name.as_str())));
        let n = count(co.and_then(|o| o.resource_requirements.as_ref()))
            .or_else(|| count(c.resource_requirements.as_ref()))
            .unwrap_or(0);
        if n > 0 {
            out.push((name, n));
        }
    }
    out
}

/// Checks GPU requirements: a whole number of GPUs, at least 1.
pub fn validate_gpus(td: &TaskDefinition, overrides: Option<&TaskOverride>) -> Result<(), InvalidOverride> {
    let definitions = td.container_definitions.iter().flatten().filter_map(|c| c.resource_requirements.as_ref());
    let overridden = overrides
        .and_then(|o| o.container_overrides.as_deref())
        .into_iter()
        .flatten()
        .filter_map(|co| co.resource_requirements.as_ref());
    for r in definitions.chain(overridden).flatten().filter(|r| r.r#type == ResourceType::Gpu) {
        if !r.value.as_deref().unwrap_or_default().trim().parse::<u32>().is_ok_and(|n| (1..=64).contains(&n)) {
            return Err(InvalidOverride(format!(
                "The GPU resource requirement '{}' must be a whole number of GPUs from 1 to 64.",
                r.value.as_deref().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::{ContainerOverride, PortMapping};

    fn container(name: &str, cpu: Option<i32>, memory: Option<i32>, reservation: Option<i32>) -> ContainerDefinition {
        ContainerDefinition {
            name: Some(name.into()),
            image: Some("busybox".into()),
            cpu,
            memory,
            memory_reservation: reservation,
            ..Default::default()
        }
    }

    fn port(host: Option<i32>, container: i32, protocol: TransportProtocol) -> PortMapping {
        PortMapping { host_port: host, container_port: Some(container), protocol: Some(protocol), ..Default::default() }
    }

    fn td(containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition { container_definitions: Some(containers), ..Default::default() }
    }

    #[test]
    fn sums_containers_counting_the_soft_limit_when_set() {
        let def = td(vec![container("a", Some(256), Some(512), None), container("b", None, Some(512), Some(128))]);
        let d = demand(&def, None);
        assert_eq!((d.cpu, d.memory), (256, 640));
    }

    #[test]
    fn task_level_sizes_win_and_overrides_win_over_them() {
        let mut def = td(vec![container("a", Some(10), Some(64), None)]);
        def.cpu = Some("1024".into());
        def.memory = Some("2048".into());
        assert_eq!((demand(&def, None).cpu, demand(&def, None).memory), (1024, 2048));
        let o = TaskOverride { cpu: Some("512".into()), memory: Some("1 GB".into()), ..Default::default() };
        let d = demand(&def, Some(&o));
        assert_eq!((d.cpu, d.memory), (512, 1024));
    }

    #[test]
    fn container_overrides_replace_container_sizes() {
        let def = td(vec![container("a", Some(10), Some(64), None), container("b", Some(5), Some(32), None)]);
        let o = TaskOverride {
            container_overrides: Some(vec![ContainerOverride {
                name: Some("a".into()),
                cpu: Some(100),
                memory_reservation: Some(16),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let d = demand(&def, Some(&o));
        assert_eq!((d.cpu, d.memory), (105, 48));
    }

    #[test]
    fn fixed_host_ports_by_protocol_and_network_mode() {
        let mut c = container("a", None, Some(64), None);
        c.port_mappings = Some(vec![
            port(Some(8080), 80, TransportProtocol::Tcp),
            port(Some(0), 81, TransportProtocol::Tcp),
            port(None, 82, TransportProtocol::Tcp),
            port(Some(53), 53, TransportProtocol::Udp),
        ]);
        let mut def = td(vec![c]);
        let d = demand(&def, None);
        assert_eq!(d.ports_tcp.into_iter().collect::<Vec<_>>(), vec![8080]);
        assert_eq!(d.ports_udp.into_iter().collect::<Vec<_>>(), vec![53]);

        def.network_mode = Some(NetworkMode::Host);
        assert_eq!(demand(&def, None).ports_tcp.into_iter().collect::<Vec<_>>(), vec![82, 8080]);
        def.network_mode = Some(NetworkMode::Awsvpc);
        assert!(demand(&def, None).ports_tcp.is_empty());
    }

    #[test]
    fn overrides_must_name_containers_of_the_definition() {
        let def = td(vec![container("web", None, Some(64), None)]);
        let o = TaskOverride {
            container_overrides: Some(vec![ContainerOverride { name: Some("db".into()), ..Default::default() }]),
            ..Default::default()
        };
        assert_eq!(
            validate_overrides(&def, Some(&o)).unwrap_err().0,
            "Override for container named db is not a container in the TaskDefinition."
        );
        let bad_cpu = TaskOverride { cpu: Some("lots".into()), ..Default::default() };
        assert!(validate_overrides(&def, Some(&bad_cpu)).is_err());
        let soft_above_hard = TaskOverride {
            container_overrides: Some(vec![ContainerOverride {
                name: Some("web".into()),
                memory_reservation: Some(128),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(validate_overrides(&def, Some(&soft_above_hard)).is_err());
        assert!(validate_overrides(&def, None).is_ok());
    }

    #[test]
    fn gpus_per_container_with_overrides() {
        let gpu = |n: &str| {
            Some(vec![ResourceRequirement { value: Some(n.into()), r#type: ResourceType::Gpu, sharing_strategy: None }])
        };
        let mut a = container("a", None, Some(64), None);
        a.resource_requirements = gpu("2");
        let b = container("b", None, Some(64), None);
        let mut c = container("c", None, Some(64), None);
        c.resource_requirements = gpu("1");
        let def = td(vec![a, b, c]);
        assert_eq!(gpus(&def, None), vec![("a".to_string(), 2), ("c".to_string(), 1)]);
        let o = TaskOverride {
            container_overrides: Some(vec![ContainerOverride {
                name: Some("c".into()),
                resource_requirements: gpu("3"),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(gpus(&def, Some(&o)), vec![("a".to_string(), 2), ("c".to_string(), 3)]);
        assert!(validate_gpus(&def, Some(&o)).is_ok());
        let mut bad = container("x", None, Some(64), None);
        bad.resource_requirements = gpu("0.5");
        assert!(validate_gpus(&td(vec![bad]), None).is_err());
    }
}
