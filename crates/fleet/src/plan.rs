//! What the fleet controller does next, decided from a snapshot of the instances and
//! hosts (pure, no I/O): place pending instances on hosts (best fit), fail those no host
//! can take, follow hosts that are lost, drain instances that stop or shut down.
//! (Terminated records expire by `berth_ec2::expire_terminated`, which the controller runs.)

use berth_model::ec2::instance_types;
use berth_model::ec2::{InstanceRecord, InstanceState};
use berth_model::fleet::{self, Capacity, HostRecord};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A pending instance without a host goes to this one.
    Assign { instance_id: String, host_id: String },
    /// No host has had room for it since it was launched: terminated,
    /// `Server.InsufficientInstanceCapacity`.
    InsufficientCapacity { instance_id: String },
    /// A pending instance whose host is lost goes back to be placed again.
    Unassign { instance_id: String },
    /// The instance's status checks (`status_ok`): its host is alive and it runs.
    SetStatus { instance_id: String, ok: bool },
    /// Stopping or shutting down on a live host: stop its tasks (and deregister its
    /// container instance when shutting down); the host ends the agent after that.
    Drain { instance_id: String },
    /// Stopping or shutting down without a live host to do it: done at once
    /// (`stopped`, or `terminated` with its container instance deregistered).
    Finish { instance_id: String, state: InstanceState },
}

/// The actions for `instances` given `hosts`, at `now_ms`.
pub fn plan(instances: &[InstanceRecord], hosts: &[HostRecord], now_ms: i64) -> Vec<Action> {
    let alive: BTreeMap<&str, &HostRecord> =
        hosts.iter().filter(|h| h.is_alive(now_ms)).map(|h| (h.host_id.as_str(), h)).collect();
    let placed = instances.iter().filter(|i| takes_room(i.state)).filter_map(|i| {
        let host = i.host.as_deref()?;
        Some((host, capacity(i)?))
    });
    let mut free = fleet::free_capacity(hosts, placed, now_ms);

    let mut waiting: Vec<&InstanceRecord> =
        instances.iter().filter(|i| i.state == InstanceState::Pending && i.host.is_none()).collect();
    waiting.sort_by(|a, b| {
        (a.launch_time, a.ami_launch_index, &a.instance_id).cmp(&(b.launch_time, b.ami_launch_index, &b.instance_id))
    });

    let mut actions = vec![];
    for i in waiting {
        let id = i.instance_id.clone();
        let Some(want) = capacity(i) else {
            actions.push(Action::InsufficientCapacity { instance_id: id });
            continue;
        };
        match fleet::best_fit(&free, &want).map(str::to_owned) {
            Some(host_id) => {
                if let Some((_, left)) = free.iter_mut().find(|(h, _)| *h == host_id) {
                    *left = left.minus(&want);
                }
                actions.push(Action::Assign { instance_id: id, host_id });
            }
            None if now_ms - waiting_since(i) >= fleet::CAPACITY_WAIT_MS => {
                actions.push(Action::InsufficientCapacity { instance_id: id });
            }
            None => {}
        }
    }

    for i in instances {
        let id = || i.instance_id.clone();
        let host_alive = i.host.as_deref().is_some_and(|h| alive.contains_key(h));
        match i.state {
            InstanceState::Pending if i.host.is_some() && !host_alive => {
                actions.push(Action::Unassign { instance_id: id() });
            }
            InstanceState::Stopping | InstanceState::ShuttingDown if host_alive => {
                actions.push(Action::Drain { instance_id: id() });
            }
            InstanceState::Stopping => {
                actions.push(Action::Finish { instance_id: id(), state: InstanceState::Stopped });
            }
            InstanceState::ShuttingDown => {
                actions.push(Action::Finish { instance_id: id(), state: InstanceState::Terminated });
            }
            _ => {}
        }
        let ok = host_alive && i.state == InstanceState::Running;
        if ok != i.status_ok {
            actions.push(Action::SetStatus { instance_id: id(), ok });
        }
    }
    actions
}

/// Whether an instance in `state` holds room on its host.
fn takes_room(state: InstanceState) -> bool {
    !matches!(state, InstanceState::Stopped | InstanceState::Terminated)
}

fn capacity(i: &InstanceRecord) -> Option<Capacity> {
    instance_types::lookup(&i.instance_type).map(fleet::capacity_of)
}

/// Since when a pending instance has waited for a host (its launch, or its start).
fn waiting_since(i: &InstanceRecord) -> i64 {
    i.state_changed_at.max(i.launch_time)
}

#[cfg(test)]
mod tests;
