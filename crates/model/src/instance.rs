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

/// Reads totalResources; the error is InvalidParameterException's message.
pub fn parse_total_resources(total: &[Resource]) -> Result<Registered, String> {
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
    match (cpu, memory) {
        (Some(cpu), Some(memory)) => {
            out.resources.cpu = cpu;
            out.resources.memory = memory;
            Ok(out)
        }
        _ => Err("totalResources must include CPU and MEMORY (type INTEGER).".into()),
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
        let r = parse_total_resources(&[
            int("CPU", 2048),
            int("MEMORY", 3900),
            set("PORTS", &["22", "2375", "51678"]),
            set("PORTS_UDP", &[]),
            set("GPU", &["gpu0"]),
        ])
        .unwrap();
        assert_eq!((r.resources.cpu, r.resources.memory), (2048, 3900));
        assert_eq!(r.resources.ports_tcp.len(), 3);
        assert_eq!(r.gpus, ["gpu0"]);
        assert!(parse_total_resources(&[int("CPU", 1)]).is_err());
        assert!(parse_total_resources(&[int("CPU", 1), int("MEMORY", 1), set("PORTS", &["http"])]).is_err());
        assert!(parse_total_resources(&[int("CPU", -1), int("MEMORY", 1)]).is_err());
    }

    #[test]
    fn remaining_subtracts_reservations_and_adds_held_ports() {
        let r = parse_total_resources(&[int("CPU", 1024), int("MEMORY", 512), set("PORTS", &["22"])]).unwrap();
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
