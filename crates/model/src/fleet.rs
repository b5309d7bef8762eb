//! Hosts: the machines that run EC2 instances. A host registers with the server, offers
//! capacity (vCPUs, memory, GPUs), heartbeats through its long poll, and runs one
//! in-process agent per instance assigned to it. This module holds the host records,
//! the host protocol's shapes (agent protocol, `BerthAgent_V1.<Op>`) and the pure rules:
//! what a host offers, which host an instance goes to (best fit), what an instance's
//! agent registers (CPU, MEMORY, GPU ids).

use crate::agent_protocol::RoleCredentials;
use crate::ec2::InstanceState;
use crate::ec2::instance_types::InstanceType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Store keys: `fleet/hosts/{id}`.
pub mod keys {
    pub const HOSTS: &str = "fleet/hosts/";

    pub fn host(id: &str) -> String {
        format!("{HOSTS}{id}")
    }

    /// Clusters that run Fargate tasks: every host runs a Fargate pool agent in each.
    pub const FARGATE_CLUSTERS: &str = "fleet/fargate-clusters/";

    pub fn fargate_cluster(cluster: &str) -> String {
        format!("{FARGATE_CLUSTERS}{cluster}")
    }
}

/// A host that has not polled for this long is lost: its instances fail their status
/// checks and their agents show disconnected (as ECS's `agentConnected`).
pub const HOST_TIMEOUT_MS: i64 = 60_000;

/// A pending instance waits this long for a host with room before it is terminated with
/// `Server.InsufficientInstanceCapacity` (hosts may still be registering at start-up).
pub const CAPACITY_WAIT_MS: i64 = 10_000;

/// EC2's state reason for an instance no host could take (the code, and the message as
/// EC2 writes state reasons: the code, then the sentence its StateReason docs give).
pub const INSUFFICIENT_CAPACITY_CODE: &str = "Server.InsufficientInstanceCapacity";
pub const INSUFFICIENT_CAPACITY_MESSAGE: &str =
    "Server.InsufficientInstanceCapacity: There was insufficient capacity available to satisfy the launch request.";

/// What a host offers, or what an instance takes of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub vcpus: u32,
    #[serde(rename = "memoryMib")]
    pub memory_mib: u64,
    pub gpus: u32,
}

impl Capacity {
    pub fn fits(&self, want: &Capacity) -> bool {
        want.vcpus <= self.vcpus && want.memory_mib <= self.memory_mib && want.gpus <= self.gpus
    }

    pub fn minus(&self, used: &Capacity) -> Capacity {
        Capacity {
            vcpus: self.vcpus.saturating_sub(used.vcpus),
            memory_mib: self.memory_mib.saturating_sub(used.memory_mib),
            gpus: self.gpus.saturating_sub(used.gpus),
        }
    }
}

/// What a host offers when it says nothing: room for three g4dn.xlarge (4 vCPU, 16 GiB,
/// 1 GPU each), or the machine's own resources where larger. The capacity is virtual:
/// each instance's containers are limited to what its type registers, not to the machine.
pub const VIRTUAL_DEFAULT: Capacity = Capacity { vcpus: 12, memory_mib: 3 * 16_384, gpus: 3 };

pub fn offered(real: Capacity) -> Capacity {
    Capacity {
        vcpus: real.vcpus.max(VIRTUAL_DEFAULT.vcpus),
        memory_mib: real.memory_mib.max(VIRTUAL_DEFAULT.memory_mib),
        gpus: real.gpus.max(VIRTUAL_DEFAULT.gpus),
    }
}

/// What an instance of `t` takes of its host.
pub fn capacity_of(t: &InstanceType) -> Capacity {
    Capacity { vcpus: t.vcpus, memory_mib: t.memory_mib, gpus: t.gpu_count() }
}

/// The state an instance moves to when its host reports `reported` (`ReportInstanceState`):
/// pending becomes running once its agent is started (EC2's running does not wait for
/// ECS), stopping stopped and shutting-down terminated once the agent is gone. Any other
/// report changes nothing (a repeated or late one, or a state the host cannot cause).
pub fn reported(current: InstanceState, reported: InstanceState) -> Option<InstanceState> {
    use InstanceState as S;
    match (current, reported) {
        (S::Pending, S::Running) | (S::Stopping, S::Stopped) | (S::ShuttingDown, S::Terminated) => Some(reported),
        _ => None,
    }
}

/// A host as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRecord {
    #[serde(rename = "hostId")]
    pub host_id: String,
    /// The machine's name (hostname), for people.
    pub name: String,
    pub capacity: Capacity,
    /// The machine has NVIDIA GPUs that containers really get (else they are emulated).
    #[serde(rename = "realGpus", default)]
    pub real_gpus: bool,
    /// Epoch milliseconds.
    #[serde(rename = "registeredAt")]
    pub registered_at: i64,
    #[serde(rename = "lastHeartbeat")]
    pub last_heartbeat: i64,
}

impl HostRecord {
    pub fn is_alive(&self, now_ms: i64) -> bool {
        now_ms - self.last_heartbeat < HOST_TIMEOUT_MS
    }
}

/// The host best fitting `want` among `free` (host id, capacity left): the one left with
/// the least after it, counting GPUs first (an instance without GPUs keeps off GPU room
/// while others have some), then vCPUs, then memory; ties by id. None: no host has room.
pub fn best_fit<'a>(free: &'a [(String, Capacity)], want: &Capacity) -> Option<&'a str> {
    free.iter()
        .filter(|(_, left)| left.fits(want))
        .min_by_key(|(id, left)| {
            let after = left.minus(want);
            (after.gpus, after.vcpus, after.memory_mib, id.clone())
        })
        .map(|(id, _)| id.as_str())
}

/// What is left on each live host given the instances placed on hosts (host id, what the
/// instance takes), in host id order.
pub fn free_capacity<'a>(
    hosts: &[HostRecord],
    placed: impl IntoIterator<Item = (&'a str, Capacity)>,
    now_ms: i64,
) -> Vec<(String, Capacity)> {
    let mut used: BTreeMap<&str, Capacity> = BTreeMap::new();
    for (host, take) in placed {
        let u = used.entry(host).or_default();
        u.vcpus += take.vcpus;
        u.memory_mib += take.memory_mib;
        u.gpus += take.gpus;
    }
    let mut out: Vec<(String, Capacity)> = hosts
        .iter()
        .filter(|h| h.is_alive(now_ms))
        .map(|h| (h.host_id.clone(), h.capacity.minus(&used.get(h.host_id.as_str()).copied().unwrap_or_default())))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// CPU units an instance's agent registers: 1024 per vCPU, as ECS's agent counts.
pub fn registered_cpu(vcpus: u32) -> i32 {
    i32::try_from(u64::from(vcpus) * 1024).unwrap_or(i32::MAX)
}

/// MEMORY an instance's agent registers. ECS's agent registers the memory the kernel
/// reports (MemTotal), which is less than the type's installed memory: AWS's own example
/// is an m4.large, 8 GiB installed (8192 MiB), registering 7985 MiB. berth applies that
/// ratio to every type (a g4dn.xlarge's 16 GiB registers 15970 MiB), minus
/// ECS_RESERVED_MEMORY (0 unless ecs.config sets it).
pub fn registered_memory(installed_mib: u64, reserved_mib: u64) -> i32 {
    let visible = installed_mib * 7985 / 8192;
    i32::try_from(visible.saturating_sub(reserved_mib)).unwrap_or(i32::MAX)
}

/// Emulated GPU ids of an instance, stable for the instance (so a restarted host
/// registers the same ones): `GPU-` and a UUID-like text derived from the instance id
/// and the GPU's index, as `nvidia-smi -L` prints real ones.
pub fn emulated_gpu_ids(instance_id: &str, count: u32) -> Vec<String> {
    (0..count)
        .map(|index| {
            let a = fnv1a(format!("{instance_id}/{index}/a").as_bytes());
            let b = fnv1a(format!("{instance_id}/{index}/b").as_bytes());
            let hex = format!("{a:016x}{b:016x}");
            format!("GPU-{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
        })
        .collect()
}

/// FNV-1a, 64 bits: a stable hash (std's hashers are seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// `RegisterHost`: a machine offers capacity. Registering again (same id) updates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterHostRequest {
    /// Chosen by the host and kept in its data dir, so a restarted host is the same one.
    #[serde(rename = "hostId")]
    pub host_id: String,
    pub name: String,
    pub capacity: Capacity,
    #[serde(rename = "realGpus", default)]
    pub real_gpus: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterHostResponse {
    pub host: HostRecord,
}

/// `PollHostAssignments`: the host's long poll and heartbeat; answers with every
/// instance assigned to the host that is not terminated (a host removes what it keeps of
/// any other), at once without
/// `afterRevision`, else when one changed after it or after `waitSeconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollHostAssignmentsRequest {
    #[serde(rename = "hostId")]
    pub host_id: String,
    #[serde(rename = "afterRevision", default, skip_serializing_if = "Option::is_none")]
    pub after_revision: Option<i64>,
    #[serde(rename = "waitSeconds", default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollHostAssignmentsResponse {
    pub revision: i64,
    pub instances: Vec<HostAssignment>,
    /// The ACTIVE clusters that run Fargate tasks: the host runs a Fargate pool agent
    /// (a hidden container instance) in each.
    #[serde(rename = "fargateClusters", default)]
    pub fargate_clusters: Vec<String>,
}

/// An instance a host runs, with what its agent needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostAssignment {
    #[serde(rename = "instanceId")]
    pub instance_id: String,
    /// EC2's state name: pending, running, stopping, stopped, shutting-down.
    pub state: String,
    #[serde(rename = "instanceType")]
    pub instance_type: String,
    #[serde(rename = "imageId")]
    pub image_id: String,
    #[serde(rename = "availabilityZone")]
    pub availability_zone: String,
    #[serde(rename = "privateIpAddress", default, skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    /// Decoded user data (ecs.config is read from it).
    #[serde(rename = "userData", default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// The instance has an instance profile: its agent asks for the role's credentials.
    #[serde(rename = "iamInstanceProfileArn", default, skip_serializing_if = "Option::is_none")]
    pub iam_instance_profile_arn: Option<String>,
    /// What the instance type has.
    pub capacity: Capacity,
    /// `x86_64` or `arm64`.
    #[serde(default)]
    pub architecture: String,
    /// Stopping or shutting-down: the instance's tasks are stopped (and, shutting down,
    /// its container instance deregistered), so the host may end its agent now.
    #[serde(default)]
    pub released: bool,
}

/// `ReportInstanceState`: the host started an instance's agent (`running`), stopped it
/// (`stopped`), or shut it down (`terminated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInstanceStateRequest {
    #[serde(rename = "hostId")]
    pub host_id: String,
    #[serde(rename = "instanceId")]
    pub instance_id: String,
    pub state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInstanceStateResponse {}

/// `GetInstanceCredentials`: the credentials of the instance profile's role, assumed as
/// `ec2.amazonaws.com` with the instance id as the session name, for the host running
/// the instance only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetInstanceCredentialsRequest {
    #[serde(rename = "hostId")]
    pub host_id: String,
    #[serde(rename = "instanceId")]
    pub instance_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetInstanceCredentialsResponse {
    pub credentials: RoleCredentials,
}

#[cfg(test)]
mod tests {
    use super::*;

    const G4DN_XLARGE: Capacity = Capacity { vcpus: 4, memory_mib: 16_384, gpus: 1 };
    const M5_LARGE: Capacity = Capacity { vcpus: 2, memory_mib: 8192, gpus: 0 };

    fn host(id: &str, capacity: Capacity, last_heartbeat: i64) -> HostRecord {
        HostRecord { host_id: id.into(), name: id.into(), capacity, real_gpus: false, registered_at: 0, last_heartbeat }
    }

    #[test]
    fn a_small_machine_offers_three_g4dn_xlarge() {
        let small = offered(Capacity { vcpus: 2, memory_mib: 4096, gpus: 0 });
        assert_eq!(small, VIRTUAL_DEFAULT);
        let free = vec![("h".to_string(), small)];
        let mut left = free;
        for _ in 0..3 {
            assert_eq!(best_fit(&left, &G4DN_XLARGE), Some("h"));
            left[0].1 = left[0].1.minus(&G4DN_XLARGE);
        }
        assert_eq!(best_fit(&left, &G4DN_XLARGE), None, "a fourth does not fit");
        let big = offered(Capacity { vcpus: 64, memory_mib: 256_000, gpus: 8 });
        assert_eq!(big, Capacity { vcpus: 64, memory_mib: 256_000, gpus: 8 });
    }

    #[test]
    fn best_fit_leaves_the_least_and_keeps_gpu_room() {
        let free = vec![
            ("a".to_string(), Capacity { vcpus: 16, memory_mib: 65_536, gpus: 0 }),
            ("b".to_string(), Capacity { vcpus: 4, memory_mib: 16_384, gpus: 1 }),
            ("c".to_string(), Capacity { vcpus: 8, memory_mib: 32_768, gpus: 0 }),
        ];
        assert_eq!(best_fit(&free, &M5_LARGE), Some("c"), "the tightest host without GPUs");
        assert_eq!(best_fit(&free, &G4DN_XLARGE), Some("b"), "only b has a GPU");
        let too_big = Capacity { vcpus: 32, memory_mib: 1, gpus: 0 };
        assert_eq!(best_fit(&free, &too_big), None);
        let tie = vec![("y".to_string(), M5_LARGE), ("x".to_string(), M5_LARGE)];
        assert_eq!(best_fit(&tie, &M5_LARGE), Some("x"));
    }

    #[test]
    fn free_capacity_subtracts_placed_instances_and_skips_lost_hosts() {
        let hosts = vec![host("a", VIRTUAL_DEFAULT, 100_000), host("b", VIRTUAL_DEFAULT, 1_000)];
        let free = free_capacity(&hosts, [("a", G4DN_XLARGE), ("a", G4DN_XLARGE), ("b", G4DN_XLARGE)], 100_500);
        assert_eq!(free, vec![("a".to_string(), Capacity { vcpus: 4, memory_mib: 16_384, gpus: 1 })]);
    }

    #[test]
    fn registered_resources_as_ecs_counts_them() {
        assert_eq!(registered_cpu(4), 4096);
        assert_eq!(registered_memory(8192, 0), 7985, "AWS's m4.large example");
        assert_eq!(registered_memory(16_384, 0), 15_970);
        assert_eq!(registered_memory(16_384, 256), 15_714);
        assert_eq!(registered_memory(100, 1000), 0);
    }

    #[test]
    fn emulated_gpu_ids_are_stable_distinct_and_uuid_like() {
        let ids = emulated_gpu_ids("i-0123456789abcdef0", 2);
        assert_eq!(ids, emulated_gpu_ids("i-0123456789abcdef0", 2));
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], emulated_gpu_ids("i-0123456789abcdef1", 1)[0]);
        let parts: Vec<usize> = ids[0].trim_start_matches("GPU-").split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert!(emulated_gpu_ids("i-1", 0).is_empty());
    }

    #[test]
    fn hosts_move_instances_only_forward() {
        use InstanceState as S;
        assert_eq!(reported(S::Pending, S::Running), Some(S::Running));
        assert_eq!(reported(S::Stopping, S::Stopped), Some(S::Stopped));
        assert_eq!(reported(S::ShuttingDown, S::Terminated), Some(S::Terminated));
        assert_eq!(reported(S::Running, S::Running), None);
        assert_eq!(reported(S::ShuttingDown, S::Running), None, "a late report does not revive it");
        assert_eq!(reported(S::Running, S::Terminated), None, "only EC2's API terminates");
        let g4dn = crate::ec2::instance_types::lookup("g4dn.xlarge").unwrap();
        assert_eq!(capacity_of(g4dn), G4DN_XLARGE);
    }

    #[test]
    fn hosts_are_lost_after_the_timeout() {
        let h = host("a", VIRTUAL_DEFAULT, 0);
        assert!(h.is_alive(HOST_TIMEOUT_MS - 1));
        assert!(!h.is_alive(HOST_TIMEOUT_MS));
    }
}
