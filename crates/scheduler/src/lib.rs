//! Task placement: which container instance each task goes to. A pure function of a
//! snapshot of the cluster's instances, the tasks' demands and a placement policy (ECS's
//! strategies and constraints); no I/O, no clock, and randomness only from the policy's
//! seed, so the same input always gives the same placements.
//!
//! For each demand, in order:
//! - Candidates are the ACTIVE instances (DRAINING ones keep their tasks, get no new
//!   ones) that satisfy every constraint: `memberOf` (the cluster query language) and
//!   `distinctInstance` (no other task of the same group on the instance), and that
//!   have the CPU, memory, fixed host ports (tcp and udp apart; the instance's own
//!   registered ports count as taken) and GPUs the demand needs.
//! - Strategies rank the candidates, applied in order as ECS applies them: the first
//!   decides, the next breaks its ties, and so on; the snapshot order breaks the last
//!   ties (no strategy at all is first-fit). `spread(field)` prefers the value of
//!   `field` (an attribute, or `instanceId`/`host`: the instance itself) holding the
//!   fewest tasks of the demand's group; `binpack(cpu|memory)` prefers the instance with
//!   the least of it left; `random` picks uniformly (from the policy's seed).
//! - The snapshot is updated after each placement, so N copies of one task never
//!   over-commit an instance and later demands see earlier ones (spread, distinctInstance).
//!
//! A demand that fits nowhere fails with ECS's reason for the instance that came
//! closest: instances are compared by how far down the checks (memberOf, distinctInstance,
//! CPU, memory, ports, GPU) they got, the first such instance wins ties, and the reason is
//! the check it failed (`MemberOf`, `RESOURCE:MEMORY`...).
//!
//! Speed (10,000 instances, 100,000 placements): everything that cannot change during
//! a call is computed once per call (which instances are candidates at all: ACTIVE and
//! every memberOf that does not look at `task:group`); remaining CPU and memory live in
//! flat arrays. When the strategies are attribute spreads followed by per-instance ones
//! (binpack, spread on instanceId) — every ECS default and the common combinations —
//! candidates are kept in one ordered set per combination of spread values, keyed by the
//! per-instance strategies, with task counts per spread value: a placement looks at the
//! least-loaded values only and, within them, starts at the first instance whose key
//! can fit (binpack: the least remaining that is still enough). Other combinations
//! (random, or an attribute spread after binpack), and calls with fewer demands than it
//! takes to repay building the index, scan the candidates. Both ways give the same
//! answer (the tests compare them).
#![forbid(unsafe_code)]

mod index;
mod policy;

pub use berth_model::demand::Resources;
pub use policy::{BinpackField, Constraint, Policy, SpreadField, Strategy};
use std::collections::BTreeMap;

/// An instance's position in the snapshot slice.
pub type InstanceIndex = usize;

/// One container instance as placement sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceSnapshot {
    pub arn: String,
    /// Only ACTIVE instances receive tasks from `place` (DRAINING ones keep theirs).
    pub active: bool,
    /// What the instance registered: CPU units and MiB offered; its ports are the
    /// host's own (sshd, Docker, the agent), never given to a task.
    pub registered: Resources,
    /// What the tasks already placed on it hold (`gpus`: the GPU ids they hold).
    pub reserved: Resources,
    /// The GPU ids the instance registered.
    pub gpus: Vec<String>,
    /// Attribute name → value (None: present without a value).
    pub attributes: BTreeMap<String, Option<String>>,
    /// How many of its tasks belong to each task group.
    pub task_groups: BTreeMap<String, u32>,
    /// The rest of what memberOf expressions can ask about.
    pub ec2_instance_id: String,
    pub running_tasks_count: u32,
    pub agent_connected: bool,
    pub agent_version: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub registered_at: String,
}

/// One task to place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    pub resources: Resources,
    /// How many whole GPUs the task needs (its containers' together).
    pub gpus: u32,
    /// The task's group (`family:web`, `service:api`).
    pub group: String,
}

/// Where a demand went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub instance: InstanceIndex,
    /// The GPU ids reserved for it there, in id order (as many as it asked for).
    pub gpus: Vec<String>,
}

/// The check an instance failed, in the order they are made (later = came closer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shortfall {
    MemberOf,
    DistinctInstance,
    Cpu,
    Memory,
    Ports,
    Gpu,
}

impl Shortfall {
    /// ECS's failure reason.
    pub fn reason(self) -> &'static str {
        match self {
            Shortfall::MemberOf => "MemberOf",
            Shortfall::DistinctInstance => "DistinctInstance",
            Shortfall::Cpu => "RESOURCE:CPU",
            Shortfall::Memory => "RESOURCE:MEMORY",
            Shortfall::Ports => "RESOURCE:PORTS",
            Shortfall::Gpu => "RESOURCE:GPU",
        }
    }

    /// What the instance lacked, as a service event says it ("has insufficient memory
    /// available").
    pub fn describe(self) -> &'static str {
        match self {
            Shortfall::MemberOf => "does not match the memberOf placement constraint",
            Shortfall::DistinctInstance => "already runs a task of the group (distinctInstance)",
            Shortfall::Cpu => "has insufficient CPU units available",
            Shortfall::Memory => "has insufficient memory available",
            Shortfall::Ports => "is already using a port required by your task",
            Shortfall::Gpu => "has insufficient GPUs available",
        }
    }
}

/// Why a demand was not placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementFailure {
    /// The snapshot holds no ACTIVE instance.
    NoActiveInstances,
    /// No instance had room; the closest one and what it lacked.
    Insufficient { instance_arn: String, shortfall: Shortfall },
}

impl PlacementFailure {
    /// The sentence a service event gives (ECS's wording).
    pub fn message(&self, service: &str) -> String {
        match self {
            PlacementFailure::NoActiveInstances => {
                format!(
                    "({service}) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster."
                )
            }
            PlacementFailure::Insufficient { instance_arn, shortfall } => {
                let id = instance_arn.rsplit('/').next().unwrap_or(instance_arn);
                format!(
                    "({service}) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance {id}) {}.",
                    shortfall.describe()
                )
            }
        }
    }
}

impl InstanceSnapshot {
    pub fn remaining_cpu(&self) -> i64 {
        self.registered.cpu - self.reserved.cpu
    }

    pub fn remaining_memory(&self) -> i64 {
        self.registered.memory - self.reserved.memory
    }

    /// GPUs no task holds.
    pub fn free_gpus(&self) -> usize {
        self.gpus.iter().filter(|g| !self.reserved.gpus.contains(*g)).count()
    }

    /// Whether `demand` fits on what is left, regardless of the instance's status and of
    /// constraints.
    pub fn check(&self, demand: &Demand) -> Result<(), Shortfall> {
        let r = &demand.resources;
        if r.cpu > self.remaining_cpu() {
            return Err(Shortfall::Cpu);
        }
        if r.memory > self.remaining_memory() {
            return Err(Shortfall::Memory);
        }
        self.check_ports_and_gpus(demand)
    }

    fn check_ports_and_gpus(&self, demand: &Demand) -> Result<(), Shortfall> {
        let r = &demand.resources;
        let taken_tcp = |p: &u16| self.registered.ports_tcp.contains(p) || self.reserved.ports_tcp.contains(p);
        let taken_udp = |p: &u16| self.registered.ports_udp.contains(p) || self.reserved.ports_udp.contains(p);
        if r.ports_tcp.iter().any(taken_tcp) || r.ports_udp.iter().any(taken_udp) {
            return Err(Shortfall::Ports);
        }
        if demand.gpus > 0 && (self.free_gpus() as u64) < u64::from(demand.gpus) {
            return Err(Shortfall::Gpu);
        }
        Ok(())
    }

    /// Records `demand` as placed here; returns the GPU ids it gets (the first free ones).
    pub fn reserve(&mut self, demand: &Demand) -> Vec<String> {
        let gpus: Vec<String> = if demand.gpus == 0 {
            vec![]
        } else {
            let mut free: Vec<&String> = self.gpus.iter().filter(|g| !self.reserved.gpus.contains(*g)).collect();
            free.sort();
            free.into_iter().take(demand.gpus as usize).cloned().collect()
        };
        self.reserved.add(&demand.resources);
        self.reserved.gpus.extend(gpus.iter().cloned());
        match self.task_groups.get_mut(&demand.group) {
            Some(n) => *n += 1,
            None => {
                self.task_groups.insert(demand.group.clone(), 1);
            }
        }
        gpus
    }

    /// The values a cluster-query subject has on this instance.
    pub fn subject_values(&self, subject: &berth_model::cluster_query::Subject) -> Vec<String> {
        use berth_model::cluster_query::Subject;
        match subject {
            Subject::AgentConnected => vec![self.agent_connected.to_string()],
            Subject::AgentVersion => vec![self.agent_version.clone()],
            Subject::Attribute(name) => {
                self.attributes.get(name).map(|v| v.clone().unwrap_or_default()).into_iter().collect()
            }
            Subject::Ec2InstanceId => vec![self.ec2_instance_id.clone()],
            Subject::RegisteredAt => vec![self.registered_at.clone()],
            Subject::RunningTasksCount => vec![self.running_tasks_count.to_string()],
            Subject::TaskGroup => self.task_groups.iter().filter(|(_, n)| **n > 0).map(|(g, _)| g.clone()).collect(),
        }
    }
}

/// Places each demand in order under `policy`. The result has one entry per demand:
/// where it went, or why it failed.
pub fn place(
    instances: &[InstanceSnapshot],
    demands: &[Demand],
    policy: &Policy,
) -> Vec<Result<Placed, PlacementFailure>> {
    let mut snapshot = instances.to_vec();
    place_in(&mut snapshot, demands, policy)
}

/// `place`, updating `instances` with each placement (their `reserved` and
/// `task_groups` then show the result).
pub fn place_in(
    instances: &mut [InstanceSnapshot],
    demands: &[Demand],
    policy: &Policy,
) -> Vec<Result<Placed, PlacementFailure>> {
    index::Engine::new(instances, policy, index::Mode::Auto, demands.len()).place_all(demands)
}

/// Places `demand` on exactly `instance` if it fits there (StartTask: the caller chose
/// the instance, and decides whether its status allows it). Returns its GPU ids.
pub fn place_on(instance: &mut InstanceSnapshot, demand: &Demand) -> Result<Vec<String>, Shortfall> {
    instance.check(demand)?;
    Ok(instance.reserve(demand))
}

#[cfg(test)]
mod tests;
