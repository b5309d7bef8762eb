//! What the agent tells the server about its machine when it registers: resources as
//! ECS counts them, the attributes ECS's agent sets, and its version.

use berth_model::ecs::{Attribute, RegisterContainerInstanceRequest, Resource, Tag, VersionInfo};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Ports ECS's agent always reserves on an instance (ssh, docker, the ECS agent itself).
pub const RESERVED_PORTS: [u16; 5] = [22, 2375, 2376, 51678, 51679];

/// The machine as the agent presents it.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineProfile {
    /// 1024 units per core.
    pub cpu_units: i32,
    pub memory_mib: i32,
    pub instance_id: String,
    pub instance_type: String,
    pub availability_zone: String,
    pub cpu_architecture: String,
    /// Extra attributes given on the command line.
    pub attributes: BTreeMap<String, String>,
    /// The address other machines (load balancers) reach this one's host ports at.
    pub private_ip: Option<IpAddr>,
    /// GPU ids registered as the GPU resource (an EC2 instance's, as ECS's agent with
    /// ECS_ENABLE_GPU_SUPPORT registers them).
    pub gpus: Vec<String>,
    /// The container instance's tags (ECS_CONTAINER_INSTANCE_TAGS).
    pub tags: BTreeMap<String, String>,
}

/// Memory left to the operating system and Docker rather than offered to tasks.
const MEMORY_RESERVE_MIB: i64 = 256;

/// The host's CPU units (1024 per core) and memory (MiB, less a reserve).
pub fn detect_resources() -> (i32, i32) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| parse_mem_total_kib(&s)).unwrap_or(0);
    let memory_mib = (memory / 1024 - MEMORY_RESERVE_MIB).max(0);
    (i32::try_from(cores * 1024).unwrap_or(i32::MAX), i32::try_from(memory_mib).unwrap_or(i32::MAX))
}

fn parse_mem_total_kib(meminfo: &str) -> Option<i64> {
    meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The RegisterContainerInstance request for this machine; `existing` re-registers the
/// same container instance after a restart.
pub fn request(cluster: &str, profile: &MachineProfile, existing: Option<&str>) -> RegisterContainerInstanceRequest {
    let integer = |name: &str, value: i32| Resource {
        name: Some(name.into()),
        r#type: Some("INTEGER".into()),
        integer_value: Some(value),
        ..Default::default()
    };
    let ports = |name: &str| Resource {
        name: Some(name.into()),
        r#type: Some("STRINGSET".into()),
        string_set_value: Some(RESERVED_PORTS.iter().map(u16::to_string).collect()),
        ..Default::default()
    };
    let mut attributes: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (name, value) in [
        ("ecs.os-type", "linux"),
        ("ecs.os-family", "LINUX"),
        ("ecs.instance-type", profile.instance_type.as_str()),
        ("ecs.availability-zone", profile.availability_zone.as_str()),
        ("ecs.cpu-architecture", profile.cpu_architecture.as_str()),
        ("ecs.capability.external", "true"),
    ] {
        attributes.insert(name.into(), Some(value.into()));
    }
    for capability in CAPABILITIES {
        attributes.insert((*capability).into(), None);
    }
    for (k, v) in &profile.attributes {
        attributes.insert(k.clone(), Some(v.clone()));
    }
    let mut identity = serde_json::json!({
        "instanceId": profile.instance_id,
        "instanceType": profile.instance_type,
        "availabilityZone": profile.availability_zone,
        "architecture": profile.cpu_architecture,
    });
    if let Some(ip) = profile.private_ip {
        identity["privateIp"] = ip.to_string().into();
    }
    let mut resources = vec![
        integer("CPU", profile.cpu_units),
        integer("MEMORY", profile.memory_mib),
        ports("PORTS"),
        ports("PORTS_UDP"),
    ];
    if !profile.gpus.is_empty() {
        resources.push(Resource {
            name: Some("GPU".into()),
            r#type: Some("STRINGSET".into()),
            string_set_value: Some(profile.gpus.clone()),
            ..Default::default()
        });
    }
    let tags: Vec<Tag> =
        profile.tags.iter().map(|(k, v)| Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect();
    RegisterContainerInstanceRequest {
        cluster: Some(cluster.into()),
        instance_identity_document: Some(identity.to_string()),
        total_resources: Some(resources),
        tags: (!tags.is_empty()).then_some(tags),
        version_info: Some(VersionInfo {
            agent_version: Some(env!("CARGO_PKG_VERSION").into()),
            agent_hash: Some("berth".into()),
            docker_version: None,
        }),
        container_instance_arn: existing.map(str::to_owned),
        attributes: Some(
            attributes
                .into_iter()
                .map(|(name, value)| Attribute { name, value, target_type: None, target_id: None })
                .collect(),
        ),
        ..Default::default()
    }
}

/// The capability attributes of what this agent can run (ECS's names).
const CAPABILITIES: &[&str] = &[
    "com.amazonaws.ecs.capability.docker-remote-api.1.17",
    "com.amazonaws.ecs.capability.docker-remote-api.1.18",
    "com.amazonaws.ecs.capability.docker-remote-api.1.19",
    "com.amazonaws.ecs.capability.docker-remote-api.1.21",
    "com.amazonaws.ecs.capability.docker-remote-api.1.22",
    "com.amazonaws.ecs.capability.docker-remote-api.1.24",
    "com.amazonaws.ecs.capability.docker-remote-api.1.25",
    "com.amazonaws.ecs.capability.docker-remote-api.1.29",
    "com.amazonaws.ecs.capability.docker-remote-api.1.32",
    "com.amazonaws.ecs.capability.docker-remote-api.1.41",
    "com.amazonaws.ecs.capability.logging-driver.json-file",
    "com.amazonaws.ecs.capability.logging-driver.none",
    "com.amazonaws.ecs.capability.privileged-container",
    "com.amazonaws.ecs.capability.task-iam-role",
    "ecs.capability.container-health-check",
    "ecs.capability.container-ordering",
    "ecs.capability.task-eni",
    "ecs.capability.docker-plugin.local",
    // Secrets resolved through the server (task_secrets.rs).
    "ecs.capability.secrets.ssm.environment-variables",
    "ecs.capability.secrets.asm.environment-variables",
    "ecs.capability.secrets.ssm.bootstrap.log-driver",
    "ecs.capability.secrets.asm.bootstrap.log-driver",
    "ecs.capability.private-registry-authentication.secretsmanager",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_total_memory() {
        assert_eq!(parse_mem_total_kib("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), Some(24_576_000));
        assert_eq!(parse_mem_total_kib("garbage"), None);
    }

    #[test]
    fn registers_resources_and_attributes_as_ecs_does() {
        let profile = MachineProfile {
            cpu_units: 2048,
            memory_mib: 3840,
            instance_id: "i-0abc".into(),
            instance_type: "berth.local".into(),
            availability_zone: "us-east-1a".into(),
            cpu_architecture: "x86_64".into(),
            attributes: [("team".to_string(), "core".to_string())].into(),
            private_ip: Some("10.0.3.7".parse().unwrap()),
            gpus: vec![],
            tags: BTreeMap::new(),
        };
        let req = request("web", &profile, Some("arn:aws:ecs:us-east-1:0:container-instance/web/x"));
        let resources = req.total_resources.unwrap();
        assert_eq!(resources[0].integer_value, Some(2048));
        assert_eq!(resources[1].integer_value, Some(3840));
        assert_eq!(resources[2].string_set_value.as_ref().unwrap(), &["22", "2375", "2376", "51678", "51679"]);
        let attrs = req.attributes.unwrap();
        let get = |n: &str| attrs.iter().find(|a| a.name == n).map(|a| a.value.clone());
        assert_eq!(get("ecs.availability-zone"), Some(Some("us-east-1a".into())));
        assert_eq!(get("team"), Some(Some("core".into())));
        assert_eq!(get("ecs.capability.task-eni"), Some(None));
        assert!(req.container_instance_arn.is_some());
        let identity = berth_model::instance::parse_identity_document(&req.instance_identity_document.unwrap());
        assert_eq!(identity.unwrap().private_ip, profile.private_ip);
        assert!(req.tags.is_none());
    }

    #[test]
    fn registers_gpus_and_tags() {
        let profile = MachineProfile {
            cpu_units: 4096,
            memory_mib: 15_970,
            instance_id: "i-0abc".into(),
            instance_type: "g4dn.xlarge".into(),
            availability_zone: "us-east-1b".into(),
            cpu_architecture: "x86_64".into(),
            attributes: BTreeMap::new(),
            private_ip: None,
            gpus: vec!["GPU-1".into()],
            tags: [("team".to_string(), "ml".to_string())].into(),
        };
        let req = request("gpu", &profile, None);
        let gpu = req.total_resources.unwrap().into_iter().find(|r| r.name.as_deref() == Some("GPU")).unwrap();
        assert_eq!(gpu.string_set_value.unwrap(), vec!["GPU-1"]);
        let tags = req.tags.unwrap();
        assert_eq!((tags[0].key.as_deref(), tags[0].value.as_deref()), (Some("team"), Some("ml")));
    }
}
