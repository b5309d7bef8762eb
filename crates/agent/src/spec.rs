//! From a task definition to the `ContainerSpec`s the runtime creates: pure functions, no
//! I/O, so every rule below is unit-tested without Docker.
//!
//! What is mapped, and how:
//! - `command` and `environment` come from the definition with the task's container
//!   overrides applied (override environment merged over the definition's by name), as
//!   do `cpu`, `memory` and `memoryReservation`.
//! - cpu units become Docker CPU shares 1:1, with Docker's floor of 2 (what the ECS agent
//!   gives a container with 0 or no cpu units). A container without its own hard memory
//!   limit is limited to the task-level `memory` (ECS limits the task's cgroup as a whole;
//!   berth limits each such container to it); task-level `cpu` is not enforced.
//! - Labels: the definition's `dockerLabels`, then the ECS agent's five labels and
//!   berth's container-instance label, which win on a clash because a restarted agent
//!   finds its containers by them.
//! - Mount points resolve through the task's `volumes`: `host.sourcePath` is a bind mount;
//!   a `dockerVolumeConfiguration`, or a volume with no source path, is a Docker named
//!   volume, per task (`ecs-<task id>-<volume>`) for scope `task` (the default) and under
//!   its own name for scope `shared`. Driver, driver options and labels of Docker volumes
//!   are not applied (Docker creates a local volume on first use); EFS and FSx volumes are
//!   not supported and their mount points are skipped.
//! - `volumesFrom` takes the source container's mount points (as resolved above) from the
//!   same task definition, read-only when asked; volumes the source image declares with
//!   `VOLUME` are not known here and are not shared.
//! - The ECS health check's command already is Docker's `Test` form; ECS's defaults
//!   (interval 30 s, timeout 5 s, retries 3, start period 0) fill the gaps.
//! - Not mapped: `linuxParameters` (init process, capabilities, devices, tmpfs, shared
//!   memory, swap), `links`, `environmentFiles`, `logConfiguration`,
//!   `systemControls`, `dockerSecurityOptions`, GPU `resourceRequirements`, and the
//!   container metadata endpoint variables (berth serves no metadata endpoint).
//!   `secrets` are resolved by the server and added by the task runner (`task_secrets`).

use crate::runtime::{ContainerSpec, HealthCheckSpec, MountSource, MountSpec, NetworkSpec, PortSpec, Protocol, Ulimit};
use berth_model::agent_protocol::labels;
use berth_model::ecs::{
    ContainerDefinition, ContainerOverride, Scope, Task, TaskDefinition, TaskOverride, TransportProtocol, Volume,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a task's containers are built from, besides the container definition itself.
#[derive(Debug, Clone, Copy)]
pub struct TaskContext<'a> {
    /// The cluster as the agent was configured with it (the ECS agent puts this in the
    /// `com.amazonaws.ecs.cluster` label).
    pub cluster: &'a str,
    pub task_arn: &'a str,
    pub container_instance_arn: &'a str,
    pub task_definition: &'a TaskDefinition,
    pub overrides: Option<&'a TaskOverride>,
}

/// How the task's containers are networked, once the agent has set the network up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskNetwork {
    /// Docker's default bridge; the container's published ports are passed to `container_spec`.
    Bridge,
    Host,
    None,
    /// Every container joins the network namespace of the task's pause container.
    Awsvpc {
        pause_container_id: String,
    },
}

/// One port mapping that needs a host port in bridge mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortNeed {
    pub container_name: String,
    pub container_port: u16,
    /// 0: any free port from the agent's ephemeral range.
    pub host_port: u16,
    pub protocol: Protocol,
}

/// The GPUs the server reserved for `container` (the task's containers[].gpuIds), as
/// the NVIDIA container runtime reads them, as ECS's agent passes them.
pub fn gpu_env(task: &Task, container: &str) -> Option<String> {
    let ids = gpu_ids(task, container);
    (!ids.is_empty()).then(|| format!("NVIDIA_VISIBLE_DEVICES={}", ids.join(",")))
}

/// The GPU ids the server reserved for `container`.
pub fn gpu_ids(task: &Task, container: &str) -> Vec<String> {
    let found = task.containers.iter().flatten().find(|c| c.name.as_deref() == Some(container));
    found.and_then(|c| c.gpu_ids.clone()).unwrap_or_default()
}

/// The value of the container-name label on an awsvpc task's pause container (the ECS
/// agent's own name for it; the `dev.berth.role` label is what berth goes by).
pub const PAUSE_CONTAINER_NAME: &str = "~internal~ecs~pause";

/// ECS's default for how long a container gets between SIGTERM and SIGKILL.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The pause container does nothing worth waiting for when it stops.
const PAUSE_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Docker refuses fewer CPU shares than this; the ECS agent gives it to containers
/// without cpu units.
const MIN_CPU_SHARES: i64 = 2;

/// The task-level memory (MiB), overrides first: the hard limit of a container without one.
fn task_memory(ctx: &TaskContext) -> Option<i64> {
    ctx.overrides
        .and_then(|o| o.memory.as_deref())
        .or(ctx.task_definition.memory.as_deref())
        .and_then(|m| m.trim().parse::<i64>().ok())
        .filter(|m| *m > 0)
}

/// The spec of one container of the task.
///
/// `host_ports` are this container's published ports, fully resolved (fixed host ports
/// and the ones the agent picked for hostPort 0); they are published in bridge mode and
/// ignored in the others, where the container binds its ports directly.
pub fn container_spec(
    ctx: &TaskContext,
    container: &ContainerDefinition,
    network: &TaskNetwork,
    host_ports: &[PortSpec],
) -> ContainerSpec {
    let name = container.name.as_deref().unwrap_or_default();
    let over = container_override(ctx, name);

    let command = over.and_then(|o| o.command.clone()).or_else(|| container.command.clone());
    let cpu = over.and_then(|o| o.cpu).or(container.cpu);
    let memory = over.and_then(|o| o.memory).or(container.memory);
    let memory_reservation = over.and_then(|o| o.memory_reservation).or(container.memory_reservation);

    let mut labels: BTreeMap<String, String> = container.docker_labels.clone().unwrap_or_default();
    labels.extend(task_labels(ctx, name));

    let network_spec = match network {
        // disableNetworking is Docker's `--network none` whatever the task's mode says.
        _ if container.disable_networking == Some(true) => NetworkSpec::None,
        TaskNetwork::Bridge => NetworkSpec::Bridge(host_ports.to_vec()),
        TaskNetwork::Host => NetworkSpec::Host,
        TaskNetwork::None => NetworkSpec::None,
        TaskNetwork::Awsvpc { pause_container_id } => NetworkSpec::Container(pause_container_id.clone()),
    };
    // Docker rejects a hostname, DNS settings or extra hosts for a container that joins
    // another's network namespace (they belong to the namespace's owner), and ECS does not
    // support them in awsvpc mode; in host mode the container has the host's name.
    let own_namespace = matches!(network_spec, NetworkSpec::Bridge(_) | NetworkSpec::None | NetworkSpec::Network(_));
    let joins_namespace = matches!(network_spec, NetworkSpec::Container(_));

    ContainerSpec {
        name: container_name(ctx.task_arn, name),
        image: container.image.clone().unwrap_or_default(),
        entrypoint: container.entry_point.clone(),
        command,
        env: environment(container, over),
        working_dir: container.working_directory.clone(),
        user: container.user.clone(),
        hostname: if own_namespace { container.hostname.clone() } else { None },
        labels,
        cpu_shares: Some(i64::from(cpu.unwrap_or(0)).max(MIN_CPU_SHARES)),
        memory_mib: memory.filter(|m| *m > 0).map(i64::from).or_else(|| task_memory(ctx)),
        memory_reservation_mib: memory_reservation.filter(|m| *m > 0).map(i64::from),
        ulimits: container
            .ulimits
            .iter()
            .flatten()
            .map(|u| Ulimit {
                name: u.name.as_str().to_string(),
                soft: i64::from(u.soft_limit),
                hard: i64::from(u.hard_limit),
            })
            .collect(),
        readonly_rootfs: container.readonly_root_filesystem.unwrap_or(false),
        privileged: container.privileged.unwrap_or(false),
        network: network_spec,
        mounts: mounts(ctx, container),
        health_check: container.health_check.as_ref().filter(|h| !h.command.is_empty()).map(|h| HealthCheckSpec {
            test: h.command.clone(),
            interval: seconds(h.interval, 30),
            timeout: seconds(h.timeout, 5),
            retries: h.retries.and_then(|r| u32::try_from(r).ok()).unwrap_or(3),
            start_period: seconds(h.start_period, 0),
        }),
        extra_hosts: if joins_namespace {
            vec![]
        } else {
            container.extra_hosts.iter().flatten().map(|h| format!("{}:{}", h.hostname, h.ip_address)).collect()
        },
        dns_servers: if joins_namespace { vec![] } else { container.dns_servers.clone().unwrap_or_default() },
        dns_search: if joins_namespace { vec![] } else { container.dns_search_domains.clone().unwrap_or_default() },
        stop_timeout: container
            .stop_timeout
            .and_then(|s| u64::try_from(s).ok())
            .map_or(DEFAULT_STOP_TIMEOUT, Duration::from_secs),
        // Set by the task runner from the task's containers[].gpuIds.
        gpus: vec![],
    }
}

/// The network-holding container of an awsvpc task: it owns the task's network namespace
/// on `network_name`, and the task's containers join it. `image` must hold forever by its
/// own default command and exit on SIGTERM (the agent's `--pause-image`; in tests
/// `berth-test/pause:latest`, built by tests/images/build.sh).
pub fn pause_spec(ctx: &TaskContext, network_name: &str, image: &str) -> ContainerSpec {
    let mut labels = task_labels(ctx, PAUSE_CONTAINER_NAME);
    labels.insert(labels::ROLE.to_string(), "pause".to_string());
    ContainerSpec {
        name: pause_container_name(ctx.task_arn),
        image: image.to_string(),
        labels,
        cpu_shares: Some(MIN_CPU_SHARES),
        network: NetworkSpec::Network(network_name.to_string()),
        stop_timeout: PAUSE_STOP_TIMEOUT,
        ..ContainerSpec::default()
    }
}

/// The Docker name of a task's container: `ecs-<container>-<task id>`, made of Docker's
/// allowed characters (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`). Task ids are unique, so names are too.
pub fn container_name(task_arn: &str, container: &str) -> String {
    sanitize(&format!("ecs-{container}-{}", task_id(task_arn)))
}

/// The Docker name of an awsvpc task's pause container. It cannot clash with
/// `container_name`'s, whose names end with the task id.
pub fn pause_container_name(task_arn: &str) -> String {
    sanitize(&format!("ecs-{}-pause", task_id(task_arn)))
}

/// Every port mapping of the task that bridge mode publishes, in definition order. A
/// `containerPortRange` stands for each of its ports, each with a dynamic host port (as
/// ECS does); mappings without a usable container port are skipped.
pub fn host_ports_needed(td: &TaskDefinition) -> Vec<PortNeed> {
    let mut needs = vec![];
    for c in td.container_definitions.iter().flatten() {
        let container_name = c.name.clone().unwrap_or_default();
        for m in c.port_mappings.iter().flatten() {
            let protocol = match m.protocol {
                Some(TransportProtocol::Udp) => Protocol::Udp,
                _ => Protocol::Tcp,
            };
            if let Some(container_port) = m.container_port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0) {
                let host_port = m.host_port.and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
                needs.push(PortNeed { container_name: container_name.clone(), container_port, host_port, protocol });
            } else if let Some((first, last)) = m.container_port_range.as_deref().and_then(parse_range) {
                needs.extend((first..=last).map(|container_port| PortNeed {
                    container_name: container_name.clone(),
                    container_port,
                    host_port: 0,
                    protocol,
                }));
            }
        }
    }
    needs
}

/// The last part of a task ARN (`arn:aws:ecs:r:a:task/cluster/ID`), or the whole string.
fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// Makes `s` a valid Docker container or volume name: characters outside
/// `[a-zA-Z0-9_.-]` become `-`, and a name must start with a letter or digit.
fn sanitize(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        out.insert(0, 'x');
    }
    out
}

fn parse_range(range: &str) -> Option<(u16, u16)> {
    let (a, b) = range.split_once('-')?;
    let (first, last) = (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?);
    (first >= 1 && first <= last).then_some((first, last))
}

fn seconds(value: Option<i32>, default: u64) -> Duration {
    Duration::from_secs(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(default))
}

fn container_override<'a>(ctx: &TaskContext<'a>, name: &str) -> Option<&'a ContainerOverride> {
    ctx.overrides?.container_overrides.as_deref()?.iter().find(|o| o.name.as_deref() == Some(name))
}

/// The labels that tie a container to its task and to this agent.
fn task_labels(ctx: &TaskContext, container: &str) -> BTreeMap<String, String> {
    let td = ctx.task_definition;
    BTreeMap::from([
        (labels::CLUSTER.to_string(), ctx.cluster.to_string()),
        (labels::TASK_ARN.to_string(), ctx.task_arn.to_string()),
        (labels::CONTAINER_NAME.to_string(), container.to_string()),
        (labels::TASK_DEFINITION_FAMILY.to_string(), td.family.clone().unwrap_or_default()),
        (labels::TASK_DEFINITION_VERSION.to_string(), td.revision.map(|r| r.to_string()).unwrap_or_default()),
        (labels::CONTAINER_INSTANCE.to_string(), ctx.container_instance_arn.to_string()),
    ])
}

/// `KEY=value` pairs: the definition's, with the override's replacing same-named ones
/// in place and adding the rest after them. Unnamed entries are dropped.
fn environment(container: &ContainerDefinition, over: Option<&ContainerOverride>) -> Vec<String> {
    let mut env: Vec<(String, String)> = vec![];
    let defined = container.environment.iter().flatten();
    let overridden = over.and_then(|o| o.environment.as_ref()).into_iter().flatten();
    for kv in defined.chain(overridden) {
        let Some(name) = kv.name.as_deref().filter(|n| !n.is_empty()) else { continue };
        let value = kv.value.clone().unwrap_or_default();
        match env.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => env.push((name.to_string(), value)),
        }
    }
    env.into_iter().map(|(n, v)| format!("{n}={v}")).collect()
}

fn mounts(ctx: &TaskContext, container: &ContainerDefinition) -> Vec<MountSpec> {
    let mut mounts = own_mounts(ctx, container);
    let definitions = ctx.task_definition.container_definitions.as_deref().unwrap_or_default();
    for from in container.volumes_from.iter().flatten() {
        let Some(source) = definitions.iter().find(|c| c.name.is_some() && c.name == from.source_container) else {
            continue;
        };
        for mut m in own_mounts(ctx, source) {
            // Docker refuses two mounts on one path; the container's own mount wins.
            if mounts.iter().any(|own| own.target == m.target) {
                continue;
            }
            m.read_only |= from.read_only == Some(true);
            mounts.push(m);
        }
    }
    mounts
}

/// The container's `mountPoints`, resolved through the task's volumes.
fn own_mounts(ctx: &TaskContext, container: &ContainerDefinition) -> Vec<MountSpec> {
    let volumes = ctx.task_definition.volumes.as_deref().unwrap_or_default();
    container
        .mount_points
        .iter()
        .flatten()
        .filter_map(|mp| {
            let target = mp.container_path.clone().filter(|p| !p.is_empty())?;
            let volume = volumes.iter().find(|v| v.name.is_some() && v.name == mp.source_volume)?;
            Some(MountSpec { source: volume_source(ctx, volume)?, target, read_only: mp.read_only.unwrap_or(false) })
        })
        .collect()
}

fn volume_source(ctx: &TaskContext, volume: &Volume) -> Option<MountSource> {
    if volume.efs_volume_configuration.is_some()
        || volume.fsx_windows_file_server_volume_configuration.is_some()
        || volume.s3files_volume_configuration.is_some()
    {
        return None;
    }
    if let Some(path) = volume.host.as_ref().and_then(|h| h.source_path.clone()).filter(|p| !p.is_empty()) {
        return Some(MountSource::HostPath(path));
    }
    let name = volume.name.as_deref()?;
    let shared = volume.docker_volume_configuration.as_ref().and_then(|d| d.scope) == Some(Scope::Shared);
    Some(MountSource::Volume(if shared {
        name.to_string()
    } else {
        sanitize(&format!("ecs-{}-{name}", task_id(ctx.task_arn)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::ecs::{
        ContainerOverride, DockerVolumeConfiguration, HealthCheck, HostEntry, HostVolumeProperties, KeyValuePair,
        MountPoint, NetworkMode, PortMapping, Ulimit as EcsUlimit, UlimitName, VolumeFrom,
    };

    const TASK: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
    const INSTANCE: &str = "arn:aws:ecs:us-east-1:000000000000:container-instance/default/abc";

    fn kv(name: &str, value: &str) -> KeyValuePair {
        KeyValuePair { name: Some(name.into()), value: Some(value.into()) }
    }

    fn web() -> ContainerDefinition {
        ContainerDefinition {
            name: Some("web".into()),
            image: Some("nginx:1.27".into()),
            cpu: Some(256),
            memory: Some(512),
            memory_reservation: Some(128),
            port_mappings: Some(vec![
                PortMapping { container_port: Some(80), host_port: Some(0), ..Default::default() },
                PortMapping {
                    container_port: Some(53),
                    protocol: Some(TransportProtocol::Udp),
                    host_port: Some(5353),
                    ..Default::default()
                },
            ]),
            entry_point: Some(vec!["/docker-entrypoint.sh".into()]),
            command: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
            environment: Some(vec![kv("A", "1"), kv("B", "2")]),
            hostname: Some("web-host".into()),
            user: Some("nobody".into()),
            working_directory: Some("/srv".into()),
            privileged: Some(true),
            readonly_root_filesystem: Some(true),
            dns_servers: Some(vec!["10.0.0.2".into()]),
            dns_search_domains: Some(vec!["example.internal".into()]),
            extra_hosts: Some(vec![HostEntry { hostname: "db".into(), ip_address: "10.0.0.9".into() }]),
            docker_labels: Some(BTreeMap::from([
                ("team".to_string(), "blue".to_string()),
                (labels::CLUSTER.to_string(), "spoofed".to_string()),
            ])),
            ulimits: Some(vec![EcsUlimit { name: UlimitName::Nofile, soft_limit: 1024, hard_limit: 4096 }]),
            stop_timeout: Some(10),
            ..Default::default()
        }
    }

    fn task_def(mode: NetworkMode, containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition {
            family: Some("shop".into()),
            revision: Some(7),
            network_mode: Some(mode),
            container_definitions: Some(containers),
            ..Default::default()
        }
    }

    fn ctx<'a>(td: &'a TaskDefinition, overrides: Option<&'a TaskOverride>) -> TaskContext<'a> {
        TaskContext {
            cluster: "default",
            task_arn: TASK,
            container_instance_arn: INSTANCE,
            task_definition: td,
            overrides,
        }
    }

    #[test]
    fn bridge_container_maps_every_field() {
        let td = task_def(NetworkMode::Bridge, vec![web()]);
        let ports = [
            PortSpec { container_port: 80, host_port: 49200, protocol: Protocol::Tcp },
            PortSpec { container_port: 53, host_port: 5353, protocol: Protocol::Udp },
        ];
        let spec = container_spec(&ctx(&td, None), &web(), &TaskNetwork::Bridge, &ports);

        assert_eq!(spec.name, "ecs-web-0123456789abcdef0123456789abcdef");
        assert_eq!(spec.image, "nginx:1.27");
        assert_eq!(spec.entrypoint, Some(vec!["/docker-entrypoint.sh".to_string()]));
        assert_eq!(spec.command, Some(vec!["nginx".to_string(), "-g".into(), "daemon off;".into()]));
        assert_eq!(spec.env, vec!["A=1", "B=2"]);
        assert_eq!(spec.working_dir.as_deref(), Some("/srv"));
        assert_eq!(spec.user.as_deref(), Some("nobody"));
        assert_eq!(spec.hostname.as_deref(), Some("web-host"));
        assert_eq!(spec.cpu_shares, Some(256));
        assert_eq!(spec.memory_mib, Some(512));
        assert_eq!(spec.memory_reservation_mib, Some(128));
        assert_eq!(spec.ulimits, vec![Ulimit { name: "nofile".into(), soft: 1024, hard: 4096 }]);
        assert!(spec.readonly_rootfs && spec.privileged);
        assert_eq!(spec.network, NetworkSpec::Bridge(ports.to_vec()));
        assert_eq!(spec.extra_hosts, vec!["db:10.0.0.9"]);
        assert_eq!(spec.dns_servers, vec!["10.0.0.2"]);
        assert_eq!(spec.dns_search, vec!["example.internal"]);
        assert_eq!(spec.stop_timeout, Duration::from_secs(10));
        assert_eq!(spec.health_check, None);
    }

    #[test]
    fn labels_are_ecs_agents_and_win_over_docker_labels() {
        let td = task_def(NetworkMode::Bridge, vec![web()]);
        let spec = container_spec(&ctx(&td, None), &web(), &TaskNetwork::Bridge, &[]);
        let expected = BTreeMap::from([
            ("team".to_string(), "blue".to_string()),
            (labels::CLUSTER.to_string(), "default".to_string()),
            (labels::TASK_ARN.to_string(), TASK.to_string()),
            (labels::CONTAINER_NAME.to_string(), "web".to_string()),
            (labels::TASK_DEFINITION_FAMILY.to_string(), "shop".to_string()),
            (labels::TASK_DEFINITION_VERSION.to_string(), "7".to_string()),
            (labels::CONTAINER_INSTANCE.to_string(), INSTANCE.to_string()),
        ]);
        assert_eq!(spec.labels, expected);
        assert!(!spec.labels.contains_key(labels::ROLE));
    }

    #[test]
    fn overrides_apply_to_their_container_only() {
        let mut other = web();
        other.name = Some("sidecar".into());
        let td = task_def(NetworkMode::Bridge, vec![web(), other.clone()]);
        let overrides = TaskOverride {
            container_overrides: Some(vec![ContainerOverride {
                name: Some("web".into()),
                command: Some(vec!["echo".into(), "hi".into()]),
                environment: Some(vec![kv("B", "two"), kv("C", "3")]),
                cpu: Some(0),
                memory: Some(1024),
                memory_reservation: Some(256),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let c = ctx(&td, Some(&overrides));
        let spec = container_spec(&c, &web(), &TaskNetwork::Bridge, &[]);
        assert_eq!(spec.command, Some(vec!["echo".to_string(), "hi".into()]));
        assert_eq!(spec.env, vec!["A=1", "B=two", "C=3"], "merged by name, definition order first");
        assert_eq!(spec.cpu_shares, Some(2), "0 cpu units is Docker's minimum of 2 shares");
        assert_eq!(spec.memory_mib, Some(1024));
        assert_eq!(spec.memory_reservation_mib, Some(256));

        let untouched = container_spec(&c, &other, &TaskNetwork::Bridge, &[]);
        assert_eq!(untouched.env, vec!["A=1", "B=2"]);
        assert_eq!(untouched.cpu_shares, Some(256));
        assert_eq!(untouched.name, "ecs-sidecar-0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn a_container_without_a_limit_gets_the_task_memory() {
        let c = ContainerDefinition { name: Some("app".into()), image: Some("busybox".into()), ..Default::default() };
        let mut td = task_def(NetworkMode::Awsvpc, vec![c.clone()]);
        td.memory = Some("512".into());
        assert_eq!(container_spec(&ctx(&td, None), &c, &TaskNetwork::None, &[]).memory_mib, Some(512));
        let overrides = TaskOverride { memory: Some("1024".into()), ..Default::default() };
        assert_eq!(container_spec(&ctx(&td, Some(&overrides)), &c, &TaskNetwork::None, &[]).memory_mib, Some(1024));
        let own = ContainerDefinition { memory: Some(300), ..c };
        assert_eq!(container_spec(&ctx(&td, None), &own, &TaskNetwork::None, &[]).memory_mib, Some(300));
    }

    #[test]
    fn minimal_container_gets_the_defaults() {
        let c = ContainerDefinition { name: Some("app".into()), image: Some("busybox".into()), ..Default::default() };
        let td = task_def(NetworkMode::Bridge, vec![c.clone()]);
        let spec = container_spec(&ctx(&td, None), &c, &TaskNetwork::Bridge, &[]);
        assert_eq!(spec.cpu_shares, Some(2));
        assert_eq!(spec.memory_mib, None);
        assert_eq!(spec.memory_reservation_mib, None);
        assert_eq!(spec.stop_timeout, DEFAULT_STOP_TIMEOUT);
        assert_eq!(spec.command, None);
        assert_eq!(spec.entrypoint, None);
        assert!(spec.env.is_empty() && spec.mounts.is_empty() && spec.ulimits.is_empty());
        assert!(!spec.privileged && !spec.readonly_rootfs);
        assert_eq!(spec.network, NetworkSpec::Bridge(vec![]));
    }

    #[test]
    fn awsvpc_containers_join_the_pause_container_without_their_own_names() {
        let td = task_def(NetworkMode::Awsvpc, vec![web()]);
        let c = ctx(&td, None);
        let network = TaskNetwork::Awsvpc { pause_container_id: "cafe".into() };
        let spec = container_spec(&c, &web(), &network, &[]);
        assert_eq!(spec.network, NetworkSpec::Container("cafe".into()));
        assert_eq!(spec.hostname, None);
        assert!(spec.dns_servers.is_empty() && spec.dns_search.is_empty() && spec.extra_hosts.is_empty());

        let pause = pause_spec(&c, "berth-awsvpc", "registry.local/pause:3");
        assert_eq!(pause.name, "ecs-0123456789abcdef0123456789abcdef-pause");
        assert_eq!(pause.image, "registry.local/pause:3");
        assert_eq!(pause.command, None, "the pause image's own command holds the namespace");
        assert_eq!(pause.network, NetworkSpec::Network("berth-awsvpc".into()));
        assert_eq!(pause.labels.get(labels::ROLE).map(String::as_str), Some("pause"));
        assert_eq!(pause.labels.get(labels::TASK_ARN).map(String::as_str), Some(TASK));
        assert_eq!(pause.labels.get(labels::CONTAINER_NAME).map(String::as_str), Some(PAUSE_CONTAINER_NAME));
        assert_eq!(pause.labels.get(labels::CONTAINER_INSTANCE).map(String::as_str), Some(INSTANCE));
        assert_ne!(pause.name, container_name(TASK, "pause"));
    }

    #[test]
    fn host_none_and_disabled_networking() {
        let td = task_def(NetworkMode::Host, vec![web()]);
        let ports = [PortSpec { container_port: 80, host_port: 80, protocol: Protocol::Tcp }];
        let spec = container_spec(&ctx(&td, None), &web(), &TaskNetwork::Host, &ports);
        assert_eq!(spec.network, NetworkSpec::Host);
        assert_eq!(spec.hostname, None, "a host-mode container has the host's name");
        assert_eq!(spec.dns_servers, vec!["10.0.0.2"]);

        let spec = container_spec(&ctx(&td, None), &web(), &TaskNetwork::None, &[]);
        assert_eq!(spec.network, NetworkSpec::None);

        let mut quiet = web();
        quiet.disable_networking = Some(true);
        let spec = container_spec(&ctx(&td, None), &quiet, &TaskNetwork::Bridge, &ports);
        assert_eq!(spec.network, NetworkSpec::None);
    }

    #[test]
    fn health_check_converts_with_ecs_defaults() {
        let mut c = web();
        c.health_check = Some(HealthCheck {
            command: vec!["CMD-SHELL".into(), "curl -f http://localhost/ || exit 1".into()],
            interval: None,
            timeout: Some(2),
            retries: None,
            start_period: Some(15),
        });
        let td = task_def(NetworkMode::Bridge, vec![c.clone()]);
        let spec = container_spec(&ctx(&td, None), &c, &TaskNetwork::Bridge, &[]);
        assert_eq!(
            spec.health_check,
            Some(HealthCheckSpec {
                test: vec!["CMD-SHELL".into(), "curl -f http://localhost/ || exit 1".into()],
                interval: Duration::from_secs(30),
                timeout: Duration::from_secs(2),
                retries: 3,
                start_period: Duration::from_secs(15),
            })
        );

        c.health_check =
            Some(HealthCheck { command: vec![], interval: None, timeout: None, retries: None, start_period: None });
        assert_eq!(container_spec(&ctx(&td, None), &c, &TaskNetwork::Bridge, &[]).health_check, None);
    }

    #[test]
    fn volumes_resolve_to_binds_and_named_volumes() {
        let volume = |name: &str| Volume { name: Some(name.into()), ..Default::default() };
        let mut td = task_def(NetworkMode::Bridge, vec![]);
        td.volumes = Some(vec![
            Volume { host: Some(HostVolumeProperties { source_path: Some("/var/log/app".into()) }), ..volume("logs") },
            Volume {
                docker_volume_configuration: Some(DockerVolumeConfiguration {
                    scope: Some(Scope::Shared),
                    ..Default::default()
                }),
                ..volume("cache")
            },
            Volume {
                docker_volume_configuration: Some(DockerVolumeConfiguration {
                    scope: Some(Scope::Task),
                    ..Default::default()
                }),
                ..volume("scratch")
            },
            volume("empty"),
        ]);
        let mp = |source: &str, path: &str, ro: Option<bool>| MountPoint {
            source_volume: Some(source.into()),
            container_path: Some(path.into()),
            read_only: ro,
        };
        let c = ContainerDefinition {
            name: Some("app".into()),
            mount_points: Some(vec![
                mp("logs", "/logs", Some(true)),
                mp("cache", "/cache", None),
                mp("scratch", "/scratch", Some(false)),
                mp("empty", "/empty", None),
                mp("missing", "/missing", None),
            ]),
            ..Default::default()
        };
        let reader = ContainerDefinition {
            name: Some("reader".into()),
            mount_points: Some(vec![mp("cache", "/cache", None)]),
            volumes_from: Some(vec![VolumeFrom { source_container: Some("app".into()), read_only: Some(true) }]),
            ..Default::default()
        };
        td.container_definitions = Some(vec![c.clone(), reader.clone()]);
        let task_volume = |v: &str| MountSource::Volume(format!("ecs-0123456789abcdef0123456789abcdef-{v}"));

        let spec = container_spec(&ctx(&td, None), &c, &TaskNetwork::Bridge, &[]);
        assert_eq!(
            spec.mounts,
            vec![
                MountSpec {
                    source: MountSource::HostPath("/var/log/app".into()),
                    target: "/logs".into(),
                    read_only: true
                },
                MountSpec { source: MountSource::Volume("cache".into()), target: "/cache".into(), read_only: false },
                MountSpec { source: task_volume("scratch"), target: "/scratch".into(), read_only: false },
                MountSpec { source: task_volume("empty"), target: "/empty".into(), read_only: false },
            ],
            "the mount of an undeclared volume is skipped"
        );

        let spec = container_spec(&ctx(&td, None), &reader, &TaskNetwork::Bridge, &[]);
        let targets: Vec<(&str, bool)> = spec.mounts.iter().map(|m| (m.target.as_str(), m.read_only)).collect();
        assert_eq!(
            targets,
            vec![("/cache", false), ("/logs", true), ("/scratch", true), ("/empty", true)],
            "volumesFrom adds the source's mounts read-only, its own /cache mount stays"
        );
    }

    #[test]
    fn names_are_sanitized_for_docker() {
        assert_eq!(container_name(TASK, "web"), "ecs-web-0123456789abcdef0123456789abcdef");
        assert_eq!(container_name("weird arn/x y", "a:b/c"), "ecs-a-b-c-x-y");
        assert_eq!(container_name("no-slashes", "é"), "ecs---no-slashes");
        assert_eq!(sanitize("-x"), "x-x");
        assert_eq!(sanitize("_ok.name-1"), "x_ok.name-1");
        let name = container_name(TASK, "with space");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)), "{name}");
    }

    #[test]
    fn host_ports_needed_lists_bridge_mappings() {
        let mut db = ContainerDefinition {
            name: Some("db".into()),
            port_mappings: Some(vec![
                PortMapping { container_port: Some(5432), host_port: None, ..Default::default() },
                PortMapping {
                    container_port_range: Some("7000-7002".into()),
                    protocol: Some(TransportProtocol::Udp),
                    ..Default::default()
                },
                PortMapping { container_port: Some(70000), ..Default::default() },
            ]),
            ..Default::default()
        };
        let td = task_def(NetworkMode::Bridge, vec![web(), db.clone()]);
        let need = |c: &str, container_port: u16, host_port: u16, protocol: Protocol| PortNeed {
            container_name: c.into(),
            container_port,
            host_port,
            protocol,
        };
        assert_eq!(
            host_ports_needed(&td),
            vec![
                need("web", 80, 0, Protocol::Tcp),
                need("web", 53, 5353, Protocol::Udp),
                need("db", 5432, 0, Protocol::Tcp),
                need("db", 7000, 0, Protocol::Udp),
                need("db", 7001, 0, Protocol::Udp),
                need("db", 7002, 0, Protocol::Udp),
            ]
        );
        db.port_mappings = None;
        assert!(host_ports_needed(&task_def(NetworkMode::Bridge, vec![db])).is_empty());
    }

    #[test]
    fn gpu_ids_become_nvidia_visible_devices() {
        use berth_model::ecs::Container;
        let task = Task {
            containers: Some(vec![
                Container {
                    name: Some("train".into()),
                    gpu_ids: Some(vec!["0".into(), "2".into()]),
                    ..Default::default()
                },
                Container { name: Some("side".into()), ..Default::default() },
            ]),
            ..Default::default()
        };
        assert_eq!(gpu_env(&task, "train").as_deref(), Some("NVIDIA_VISIBLE_DEVICES=0,2"));
        assert_eq!(gpu_env(&task, "side"), None);
        assert_eq!(gpu_env(&task, "other"), None);
    }
}
