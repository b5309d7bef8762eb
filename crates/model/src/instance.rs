//! Container instances: what RegisterContainerInstance's resources and identity
//! document mean, and the resource lists ECS shows (registeredResources,
//! remainingResources).
//!
//! An instance registers CPU (units) and MEMORY (MiB) as INTEGER resources, and PORTS /
//! PORTS_UDP as STRINGSETs of the host ports it keeps for itself (sshd, the Docker
//! daemon, the agent): tasks never get those. GPU is a STRINGSET of device ids.
//! remainingResources is registered minus what placed tasks reserve, its PORTS the
//! reserved ports plus the ports tasks hold.

use crate::demand::Resources;
use crate::ecs::Resource;
use std::collections::BTreeSet;

/// What an instance offers, from its totalResources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// cpu and memory offered; ports_tcp/ports_udp are the host's own (never for tasks).
    pub resources: Resources,
    pub gpus: Vec<String>,
}

/// Reads totalResources; the error is InvalidParameterException's message. totalResources
/// is optional: CPU and MEMORY it does not name are the instance's own, from the EC2
/// instance type its identity document names (as ECS's agent registers them).
pub fn parse_total_resources(total: &[Resource], instance_type: Option<&str>) -> Result<Registered, String> {
    let mut out = Registered::default();
    let (mut cpu, mut memory) = (None, None);
    for r in total {
        let name = r.name.as_deref().unwrap_or_default();
        let integer = || {
            r.integer_value
                .map(i64::from)
                .or(r.long_value)
                .filter(|v| *v >= 0)
                .ok_or_else(|| format!("The {name} resource needs a non-negative integerValue (type INTEGER)."))
        };
        let ports = || -> Result<BTreeSet<u16>, String> {
            r.string_set_value
                .iter()
                .flatten()
                .map(|p| {
                    p.trim()
                        .parse::<u16>()
                        .map_err(|_| format!("'{p}' in the {name} resource is not a port (0-65535)."))
                })
                .collect()
        };
        match name {
            "CPU" => cpu = Some(integer()?),
            "MEMORY" => memory = Some(integer()?),
            "PORTS" => out.resources.ports_tcp = ports()?,
            "PORTS_UDP" => out.resources.ports_udp = ports()?,
            "GPU" => out.gpus = r.string_set_value.clone().unwrap_or_default(),
            // ECS accepts other resources; they are shown but not scheduled.
            _ => {}
        }
    }
    let own = instance_type.and_then(crate::ec2::instance_types::lookup);
    let cpu = cpu.or_else(|| own.map(|t| i64::from(crate::fleet::registered_cpu(t.vcpus))));
    let memory = memory.or_else(|| own.map(|t| i64::from(crate::fleet::registered_memory(t.memory_mib, 0))));
    match (cpu, memory) {
        (Some(cpu), Some(memory)) => {
            out.resources.cpu = cpu;
            out.resources.memory = memory;
            Ok(out)
        }
        _ => Err("totalResources must include CPU and MEMORY (type INTEGER) unless the instanceIdentityDocument \
                  names an EC2 instance type."
            .into()),
    }
}

fn integer(name: &str, value: i64) -> Resource {
    Resource {
        name: Some(name.into()),
        r#type: Some("INTEGER".into()),
        double_value: Some(0.0),
        long_value: Some(0),
        integer_value: Some(i32::try_from(value.max(0)).unwrap_or(i32::MAX)),
        string_set_value: None,
    }
}

fn string_set(name: &str, values: Vec<String>) -> Resource {
    Resource {
        name: Some(name.into()),
        r#type: Some("STRINGSET".into()),
        double_value: Some(0.0),
        long_value: Some(0),
        integer_value: Some(0),
        string_set_value: Some(values),
    }
}

fn port_strings(ports: &BTreeSet<u16>) -> Vec<String> {
    ports.iter().map(u16::to_string).collect()
}

/// registeredResources as ECS lists them: CPU, MEMORY, PORTS, PORTS_UDP (and GPU when any).
pub fn registered_resources(r: &Registered) -> Vec<Resource> {
    let mut out = vec![
        integer("CPU", r.resources.cpu),
        integer("MEMORY", r.resources.memory),
        string_set("PORTS", port_strings(&r.resources.ports_tcp)),
        string_set("PORTS_UDP", port_strings(&r.resources.ports_udp)),
    ];
    if !r.gpus.is_empty() {
        out.push(string_set("GPU", r.gpus.clone()));
    }
    out
}

/// remainingResources: registered CPU and MEMORY less what tasks reserve (never below
/// zero), and the ports no task can take (the host's own plus those tasks hold).
pub fn remaining_resources(r: &Registered, reserved: &Resources) -> Vec<Resource> {
    let union = |a: &BTreeSet<u16>, b: &BTreeSet<u16>| port_strings(&a.union(b).copied().collect());
    let mut out = vec![
        integer("CPU", r.resources.cpu - reserved.cpu),
        integer("MEMORY", r.resources.memory - reserved.memory),
        string_set("PORTS", union(&r.resources.ports_tcp, &reserved.ports_tcp)),
        string_set("PORTS_UDP", union(&r.resources.ports_udp, &reserved.ports_udp)),
    ];
    if !r.gpus.is_empty() {
        // The GPUs no task holds.
        out.push(string_set("GPU", r.gpus.iter().filter(|g| !reserved.gpus.contains(*g)).cloned().collect()));
    }
    out
}

/// The parts of an instance identity document berth uses. The berth agent writes
/// `{"instanceId", "availabilityZone", "instanceType", "privateIp"}`; EC2's own
/// documents have the same members.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct IdentityDocument {
    #[serde(rename = "instanceId", default)]
    pub instance_id: Option<String>,
    #[serde(rename = "availabilityZone", default)]
    pub availability_zone: Option<String>,
    #[serde(rename = "instanceType", default)]
    pub instance_type: Option<String>,
    /// Where load balancers reach the tasks' host ports on this instance.
    #[serde(rename = "privateIp", default)]
    pub private_ip: Option<std::net::IpAddr>,
    #[serde(rename = "imageId", default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
}

/// The standard attributes ECS shows on every container instance, as ECS's agent
/// registers them: what the identity document says of the instance, and the operating
/// system (berth runs Linux containers only). Attributes the request names win.
pub fn standard_attributes(identity: &IdentityDocument) -> Vec<(&'static str, String)> {
    let from_identity = [
        ("ecs.ami-id", &identity.image_id),
        ("ecs.availability-zone", &identity.availability_zone),
        ("ecs.instance-type", &identity.instance_type),
        ("ecs.cpu-architecture", &identity.architecture),
    ];
    let mut out: Vec<(&'static str, String)> =
        from_identity.into_iter().filter_map(|(name, value)| Some((name, value.clone()?))).collect();
    out.extend([("ecs.os-type", "linux".to_string()), ("ecs.os-family", "LINUX".to_string())]);
    out
}

pub fn parse_identity_document(text: &str) -> Result<IdentityDocument, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("The instanceIdentityDocument is not a JSON identity document: {e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(name: &str, v: i32) -> Resource {
        Resource {
            name: Some(name.into()),
            r#type: Some("INTEGER".into()),
            integer_value: Some(v),
            ..Default::default()
        }
    }

    fn set(name: &str, v: &[&str]) -> Resource {
        Resource {
            name: Some(name.into()),
            r#type: Some("STRINGSET".into()),
            string_set_value: Some(v.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn parses_what_the_agent_registers() {
        let r = parse_total_resources(
            &[
                int("CPU", 2048),
                int("MEMORY", 3900),
                set("PORTS", &["22", "2375", "51678"]),
                set("PORTS_UDP", &[]),
                set("GPU", &["gpu0"]),
            ],
            None,
        )
        .unwrap();
        assert_eq!((r.resources.cpu, r.resources.memory), (2048, 3900));
        assert_eq!(r.resources.ports_tcp.len(), 3);
        assert_eq!(r.gpus, ["gpu0"]);
        assert!(parse_total_resources(&[int("CPU", 1)], None).is_err());
        assert!(parse_total_resources(&[int("CPU", 1), int("MEMORY", 1), set("PORTS", &["http"])], None).is_err());
        assert!(parse_total_resources(&[int("CPU", -1), int("MEMORY", 1)], None).is_err());
    }

    #[test]
    fn standard_attributes_come_from_the_identity_document() {
        let doc = parse_identity_document(
            r#"{"instanceId":"i-1","imageId":"ami-0abc","availabilityZone":"us-east-1a","instanceType":"m4.large","architecture":"x86_64"}"#,
        )
        .unwrap();
        assert_eq!(
            standard_attributes(&doc),
            [
                ("ecs.ami-id", "ami-0abc".to_string()),
                ("ecs.availability-zone", "us-east-1a".to_string()),
                ("ecs.instance-type", "m4.large".to_string()),
                ("ecs.cpu-architecture", "x86_64".to_string()),
                ("ecs.os-type", "linux".to_string()),
                ("ecs.os-family", "LINUX".to_string()),
            ]
        );
        let names: Vec<_> = standard_attributes(&IdentityDocument::default()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["ecs.os-type", "ecs.os-family"]);
    }

    #[test]
    fn absent_resources_are_the_instance_types() {
        // An m5.large (2 vCPU, 8 GiB): 2048 units and the 7985 MiB its agent registers.
        let r = parse_total_resources(&[], Some("m5.large")).unwrap();
        assert_eq!((r.resources.cpu, r.resources.memory), (2048, 7985));
        let r = parse_total_resources(&[int("MEMORY", 1000)], Some("m5.large")).unwrap();
        assert_eq!((r.resources.cpu, r.resources.memory), (2048, 1000));
        assert!(parse_total_resources(&[], None).is_err());
        assert!(parse_total_resources(&[], Some("no.such-type")).is_err());
    }

    #[test]
    fn remaining_subtracts_reservations_and_adds_held_ports() {
        let r = parse_total_resources(&[int("CPU", 1024), int("MEMORY", 512), set("PORTS", &["22"])], None).unwrap();
        let reserved =
            Resources { cpu: 256, memory: 600, ports_tcp: [80].into(), ports_udp: [53].into(), ..Default::default() };
        let rem = remaining_resources(&r, &reserved);
        assert_eq!(rem[0].integer_value, Some(768));
        assert_eq!(rem[1].integer_value, Some(0));
        assert_eq!(rem[2].string_set_value.as_deref(), Some(&["22".to_string(), "80".to_string()][..]));
        assert_eq!(rem[3].string_set_value.as_deref(), Some(&["53".to_string()][..]));
        assert_eq!(registered_resources(&r)[0].integer_value, Some(1024));
    }

    #[test]
    fn reads_identity_documents() {
        let doc = parse_identity_document(r#"{"instanceId":"i-abc","availabilityZone":"local-1a","extra":1}"#).unwrap();
        assert_eq!(doc.instance_id.as_deref(), Some("i-abc"));
        assert_eq!(doc.availability_zone.as_deref(), Some("local-1a"));
        assert!(parse_identity_document("not json").is_err());
    }
}
