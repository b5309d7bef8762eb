//! A service's load balancer targets (pure): which target each running task is
//! (bridge/host: the instance and the task's host port; awsvpc with an ip group: the
//! task's address and the container port), when to register it, and deregistering a
//! task's targets before it is stopped: the stop waits out the group's deregistration
//! delay while the target drains. Also what a task's targets say about its health.

use super::TaskView;
use berth_model::Timestamp;
use berth_model::ecs::LoadBalancer;
use berth_model::records::{ServiceRecord, ServiceTarget};
use berth_model::task_lifecycle::TaskStatus;
use std::collections::BTreeMap;

/// What the controller knows of one target group.
#[derive(Debug, Clone, Default)]
pub struct GroupFacts {
    pub target_type: String,
    pub delay_secs: f64,
    /// Health state by (id, port).
    pub states: BTreeMap<(String, i32), String>,
}

/// What a task's targets say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ElbHealth {
    /// The service has no load balancers: the task's own health decides.
    #[default]
    NotBehind,
    /// Not registered yet, or its targets are not all healthy yet.
    Pending,
    Healthy,
    /// A target failed its health checks in this group.
    Unhealthy(String),
}

/// The target a task is in a group, if the task exposes what the entry names.
pub fn target_of(t: &TaskView, lb: &LoadBalancer, group: &GroupFacts, instance_target: &str) -> Option<ServiceTarget> {
    let container = t.task.containers.iter().flatten().find(|c| c.name == lb.container_name)?;
    let container_port = lb.container_port?;
    let (id, port) = if group.target_type == "ip" {
        let ip = container.network_interfaces.iter().flatten().find_map(|n| n.private_ipv4_address.clone())?;
        (ip, container_port)
    } else {
        let binding = container.network_bindings.iter().flatten().find(|b| b.container_port == Some(container_port))?;
        (instance_target.to_string(), binding.host_port?)
    };
    Some(ServiceTarget { target_group_arn: lb.target_group_arn.clone()?, id, port })
}

/// A task's health as its registered targets show it.
pub fn elb_health(targets: Option<&Vec<ServiceTarget>>, groups: &BTreeMap<String, GroupFacts>) -> ElbHealth {
    let Some(targets) = targets.filter(|t| !t.is_empty()) else { return ElbHealth::Pending };
    let state = |t: &ServiceTarget| {
        groups.get(&t.target_group_arn).and_then(|g| g.states.get(&(t.id.clone(), t.port))).map(String::as_str)
    };
    if let Some(t) = targets.iter().find(|t| state(t) == Some("unhealthy")) {
        return ElbHealth::Unhealthy(t.target_group_arn.clone());
    }
    if targets.iter().all(|t| state(t) == Some("healthy")) { ElbHealth::Healthy } else { ElbHealth::Pending }
}

/// What to do with the target groups this step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetsPlan {
    pub register: Vec<ServiceTarget>,
    pub deregister: Vec<ServiceTarget>,
    /// The stops that may happen now (the others wait for their targets to drain).
    pub stop: Vec<(String, String)>,
}

/// Registers running tasks, deregisters those to stop (holding the stop for the
/// deregistration delay) and those gone, and records it in `rec` with ECS's events.
pub fn reconcile(
    rec: &mut ServiceRecord,
    tasks: &[TaskView],
    stop: Vec<(String, String)>,
    groups: &BTreeMap<String, GroupFacts>,
    instance_targets: &BTreeMap<String, String>,
    now: Timestamp,
) -> (TargetsPlan, Vec<String>) {
    let lbs: Vec<LoadBalancer> = rec.service.load_balancers.clone().unwrap_or_default();
    let name = rec.service.service_name.clone().unwrap_or_default();
    let mut plan = TargetsPlan::default();
    let mut events = Vec::new();
    if lbs.is_empty() {
        plan.stop = stop;
        return (plan, events);
    }
    let tracking = &mut rec.tracking;
    let stopping = |t: &TaskView| {
        t.task.desired_status.as_deref() == Some("STOPPED") || TaskStatus::of(&t.task) != TaskStatus::Running
    };
    // Register running tasks not registered yet (once every entry resolves).
    let mut registered: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks.iter().filter(|t| !stopping(t)) {
        if tracking.lb_targets.contains_key(&t.id) || stop.iter().any(|(id, _)| *id == t.id) {
            continue;
        }
        let instance_target = instance_targets.get(&t.instance_id).map_or(t.instance_id.as_str(), String::as_str);
        let targets: Option<Vec<ServiceTarget>> = lbs
            .iter()
            .map(|lb| target_of(t, lb, groups.get(lb.target_group_arn.as_deref()?)?, instance_target))
            .collect();
        let Some(targets) = targets else { continue };
        for target in &targets {
            *registered.entry(target.target_group_arn.clone()).or_default() += 1;
        }
        plan.register.extend(targets.iter().cloned());
        tracking.lb_targets.insert(t.id.clone(), targets);
    }
    for (group, n) in registered {
        events.push(format!("(service {name}) registered {n} targets in (target-group {group})"));
    }
    // Stops wait for their task's targets to drain.
    let mut drained_now = 0;
    for (id, reason) in stop {
        match (tracking.lb_targets.get(&id), tracking.draining.get(&id)) {
            (None, _) => plan.stop.push((id, reason)),
            (Some(_), Some(until)) if until.as_secs_f64() <= now.as_secs_f64() => {
                tracking.lb_targets.remove(&id);
                tracking.draining.remove(&id);
                plan.stop.push((id, reason));
            }
            (Some(_), Some(_)) => {}
            (Some(targets), None) => {
                let delay = targets
                    .iter()
                    .filter_map(|t| groups.get(&t.target_group_arn).map(|g| g.delay_secs))
                    .fold(0.0, f64::max);
                plan.deregister.extend(targets.iter().cloned());
                tracking.draining.insert(id.clone(), Timestamp(now.as_secs_f64() + delay));
                drained_now += 1;
                if delay <= 0.0 {
                    tracking.lb_targets.remove(&id);
                    tracking.draining.remove(&id);
                    plan.stop.push((id, reason));
                }
            }
        }
    }
    // Tasks that stopped (or are stopping) on their own: deregister their targets.
    let gone: Vec<String> = tracking
        .lb_targets
        .keys()
        .filter(|id| !tracking.draining.contains_key(*id) && tasks.iter().find(|t| &t.id == *id).is_none_or(stopping))
        .cloned()
        .collect();
    for id in gone {
        if let Some(targets) = tracking.lb_targets.remove(&id) {
            plan.deregister.extend(targets);
            drained_now += 1;
        }
    }
    // Draining tasks that went away meanwhile.
    tracking
        .draining
        .retain(|id, _| tasks.iter().any(|t| &t.id == id && TaskStatus::of(&t.task) != TaskStatus::Stopped));
    if drained_now > 0 {
        events.push(format!("(service {name}) has begun draining connections on {drained_now} tasks."));
    }
    (plan, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::ecs::{Container, NetworkBinding, Service, Task};

    const TG: &str = "arn:tg";

    fn task(id: &str, host_port: i32) -> TaskView {
        TaskView {
            id: id.into(),
            task: Task {
                last_status: Some("RUNNING".into()),
                desired_status: Some("RUNNING".into()),
                containers: Some(vec![Container {
                    name: Some("web".into()),
                    network_bindings: Some(vec![NetworkBinding {
                        container_port: Some(8080),
                        host_port: Some(host_port),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            instance_id: "ci1".into(),
            elb: ElbHealth::NotBehind,
        }
    }

    fn service() -> ServiceRecord {
        ServiceRecord {
            service: Service {
                service_name: Some("web".into()),
                load_balancers: Some(vec![LoadBalancer {
                    target_group_arn: Some(TG.into()),
                    container_name: Some("web".into()),
                    container_port: Some(8080),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            client_token: None,
            finished: vec![],
            tracking: Default::default(),
        }
    }

    fn groups(delay: f64, state: &str) -> BTreeMap<String, GroupFacts> {
        let states = [(("i-1".to_string(), 49153), state.to_string())].into_iter().collect();
        [(TG.to_string(), GroupFacts { target_type: "instance".into(), delay_secs: delay, states })]
            .into_iter()
            .collect()
    }

    fn instances() -> BTreeMap<String, String> {
        [("ci1".to_string(), "i-1".to_string())].into_iter().collect()
    }

    #[test]
    fn running_tasks_are_registered_once() {
        let mut rec = service();
        let tasks = [task("t1", 49153)];
        let (plan, events) = reconcile(&mut rec, &tasks, vec![], &groups(5.0, "initial"), &instances(), Timestamp(0.0));
        let target = ServiceTarget { target_group_arn: TG.into(), id: "i-1".into(), port: 49153 };
        assert_eq!(plan.register, vec![target.clone()]);
        assert_eq!(events, vec![format!("(service web) registered 1 targets in (target-group {TG})")]);
        assert_eq!(elb_health(rec.tracking.lb_targets.get("t1"), &groups(5.0, "initial")), ElbHealth::Pending);
        assert_eq!(elb_health(rec.tracking.lb_targets.get("t1"), &groups(5.0, "healthy")), ElbHealth::Healthy);
        assert_eq!(
            elb_health(rec.tracking.lb_targets.get("t1"), &groups(5.0, "unhealthy")),
            ElbHealth::Unhealthy(TG.into())
        );
        let (again, events) =
            reconcile(&mut rec, &tasks, vec![], &groups(5.0, "healthy"), &instances(), Timestamp(1.0));
        assert_eq!((again, events), (TargetsPlan::default(), vec![]));
    }

    #[test]
    fn a_stop_waits_for_the_targets_to_drain() {
        let mut rec = service();
        let tasks = [task("t1", 49153)];
        let g = groups(5.0, "healthy");
        reconcile(&mut rec, &tasks, vec![], &g, &instances(), Timestamp(0.0));
        let stop = vec![("t1".to_string(), "scaling".to_string())];
        let (plan, events) = reconcile(&mut rec, &tasks, stop.clone(), &g, &instances(), Timestamp(10.0));
        assert_eq!((plan.deregister.len(), plan.stop.len()), (1, 0));
        assert_eq!(events, vec!["(service web) has begun draining connections on 1 tasks.".to_string()]);
        let (plan, _) = reconcile(&mut rec, &tasks, stop.clone(), &g, &instances(), Timestamp(12.0));
        assert_eq!((plan.deregister.len(), plan.stop.len()), (0, 0));
        let (plan, _) = reconcile(&mut rec, &tasks, stop.clone(), &g, &instances(), Timestamp(15.0));
        assert_eq!(plan.stop, stop);
        assert!(rec.tracking.lb_targets.is_empty() && rec.tracking.draining.is_empty());
    }

    #[test]
    fn tasks_stopped_elsewhere_are_deregistered_and_services_without_load_balancers_untouched() {
        let mut rec = service();
        let g = groups(5.0, "healthy");
        reconcile(&mut rec, &[task("t1", 49153)], vec![], &g, &instances(), Timestamp(0.0));
        let (plan, _) = reconcile(&mut rec, &[], vec![], &g, &instances(), Timestamp(1.0));
        assert_eq!(plan.deregister.len(), 1);
        let mut plain = service();
        plain.service.load_balancers = None;
        let stop = vec![("t1".to_string(), "x".to_string())];
        let (plan, events) = reconcile(&mut plain, &[task("t1", 1)], stop.clone(), &g, &instances(), Timestamp(0.0));
        assert_eq!((plan.stop, events.len()), (stop, 0));
    }
}
