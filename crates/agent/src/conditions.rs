//! Pure decisions of a task's life: which containers may start now (dependsOn), what
//! a container's exit means for the task, and how its health reads. No I/O: the task
//! runner feeds these with what the runtime observed.

use crate::runtime::{ContainerState, Health, Status};
use berth_model::ecs::{ContainerCondition, ContainerDefinition, HealthStatus};
use std::collections::BTreeMap;

/// What one dependency condition says given the dependency's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    Wait,
    /// Can never open (e.g. SUCCESS but it exited 1): the task fails to start.
    Never(String),
}

pub fn gate(condition: ContainerCondition, dependency: &str, state: Option<&ContainerState>) -> Gate {
    let Some(state) = state else { return Gate::Wait };
    let exited = state.status == Status::Exited;
    match condition {
        ContainerCondition::Start => {
            if state.status == Status::Created {
                Gate::Wait
            } else {
                Gate::Open
            }
        }
        ContainerCondition::Complete => {
            if exited {
                Gate::Open
            } else {
                Gate::Wait
            }
        }
        ContainerCondition::Success => match (exited, state.exit_code) {
            (true, Some(0)) => Gate::Open,
            (true, code) => Gate::Never(format!(
                "dependency {dependency} exited with code {} but the condition is SUCCESS",
                code.map_or("unknown".to_string(), |c| c.to_string())
            )),
            (false, _) => Gate::Wait,
        },
        ContainerCondition::Healthy => match state.health {
            Some(Health::Healthy) => Gate::Open,
            Some(Health::Unhealthy) => Gate::Never(format!("dependency {dependency} is unhealthy")),
            _ if exited => Gate::Never(format!("dependency {dependency} exited before becoming healthy")),
            _ => Gate::Wait,
        },
    }
}

/// Whether `container` may start given the states of the task's started containers.
pub fn ready_to_start(container: &ContainerDefinition, states: &BTreeMap<String, ContainerState>) -> Gate {
    for dep in container.depends_on.as_deref().unwrap_or_default() {
        match gate(dep.condition, &dep.container_name, states.get(&dep.container_name)) {
            Gate::Open => {}
            other => return other,
        }
    }
    Gate::Open
}

/// A container definition's name (registration guarantees one).
pub fn name(container: &ContainerDefinition) -> &str {
    container.name.as_deref().unwrap_or_default()
}

pub fn is_essential(container: &ContainerDefinition) -> bool {
    container.essential.unwrap_or(true)
}

/// The first essential container that has exited, if any: the task must stop.
pub fn exited_essential<'a>(
    containers: &'a [ContainerDefinition],
    states: &BTreeMap<String, ContainerState>,
) -> Option<&'a ContainerDefinition> {
    containers
        .iter()
        .filter(|c| is_essential(c))
        .find(|c| states.get(name(c)).is_some_and(|s| s.status == Status::Exited))
}

/// ECS's reason for a stopped container.
pub fn exit_reason(state: &ContainerState) -> Option<String> {
    if state.oom_killed {
        Some("OutOfMemoryError: Container killed due to memory usage".into())
    } else {
        state.error.clone().filter(|e| !e.is_empty())
    }
}

pub fn container_health(state: &ContainerState) -> HealthStatus {
    match state.health {
        Some(Health::Healthy) => HealthStatus::Healthy,
        Some(Health::Unhealthy) => HealthStatus::Unhealthy,
        Some(Health::Starting) | None => HealthStatus::Unknown,
    }
}

/// The task's health as ECS derives it: from its essential containers that have a
/// health check; UNHEALTHY if any is unhealthy, HEALTHY if all are healthy.
pub fn task_health(containers: &[ContainerDefinition], states: &BTreeMap<String, ContainerState>) -> HealthStatus {
    let checked: Vec<HealthStatus> = containers
        .iter()
        .filter(|c| is_essential(c) && c.health_check.is_some())
        .map(|c| states.get(name(c)).map_or(HealthStatus::Unknown, container_health))
        .collect();
    if checked.is_empty() {
        HealthStatus::Unknown
    } else if checked.contains(&HealthStatus::Unhealthy) {
        HealthStatus::Unhealthy
    } else if checked.iter().all(|h| *h == HealthStatus::Healthy) {
        HealthStatus::Healthy
    } else {
        HealthStatus::Unknown
    }
}

/// The order to stop containers in: dependents before what they depend on.
pub fn stop_order(containers: &[ContainerDefinition]) -> Vec<String> {
    let mut order: Vec<String> = vec![];
    let mut remaining: Vec<&ContainerDefinition> = containers.iter().collect();
    while !remaining.is_empty() {
        // A container can stop once nothing still running depends on it.
        let (free, blocked): (Vec<&ContainerDefinition>, Vec<&ContainerDefinition>) = remaining.iter().partition(|c| {
            !remaining.iter().any(|other| {
                other.depends_on.as_deref().unwrap_or_default().iter().any(|d| d.container_name == name(c))
            })
        });
        if free.is_empty() {
            // A cycle cannot be registered; stop the rest in definition order anyway.
            order.extend(blocked.iter().map(|c| name(c).to_string()));
            break;
        }
        order.extend(free.iter().map(|c| name(c).to_string()));
        remaining = blocked;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::ecs::ContainerDependency;

    fn state(status: Status, exit: Option<i64>, health: Option<Health>) -> ContainerState {
        ContainerState {
            id: "id".into(),
            name: "n".into(),
            labels: Default::default(),
            status,
            exit_code: exit,
            oom_killed: false,
            error: None,
            health,
            started_at: None,
            finished_at: None,
            ip_addresses: Default::default(),
            ports: vec![],
            image_digest: None,
        }
    }

    fn def(name: &str, essential: Option<bool>, deps: &[(&str, ContainerCondition)]) -> ContainerDefinition {
        ContainerDefinition {
            name: Some(name.into()),
            essential,
            depends_on: Some(
                deps.iter()
                    .map(|(n, c)| ContainerDependency { container_name: n.to_string(), condition: *c })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn conditions_open_wait_and_fail_as_ecs_describes() {
        use ContainerCondition::*;
        let running = state(Status::Running, None, None);
        let ok = state(Status::Exited, Some(0), None);
        let failed = state(Status::Exited, Some(1), None);
        assert_eq!(gate(Start, "d", None), Gate::Wait);
        assert_eq!(gate(Start, "d", Some(&state(Status::Created, None, None))), Gate::Wait);
        assert_eq!(gate(Start, "d", Some(&running)), Gate::Open);
        assert_eq!(gate(Complete, "d", Some(&running)), Gate::Wait);
        assert_eq!(gate(Complete, "d", Some(&failed)), Gate::Open);
        assert_eq!(gate(Success, "d", Some(&ok)), Gate::Open);
        assert!(matches!(gate(Success, "d", Some(&failed)), Gate::Never(_)));
        assert_eq!(gate(Healthy, "d", Some(&state(Status::Running, None, Some(Health::Starting)))), Gate::Wait);
        assert_eq!(gate(Healthy, "d", Some(&state(Status::Running, None, Some(Health::Healthy)))), Gate::Open);
        assert!(matches!(
            gate(Healthy, "d", Some(&state(Status::Running, None, Some(Health::Unhealthy)))),
            Gate::Never(_)
        ));
        assert!(matches!(gate(Healthy, "d", Some(&ok)), Gate::Never(_)));
    }

    #[test]
    fn an_exited_essential_container_is_found_and_non_essential_ones_ignored() {
        let defs = vec![def("web", None, &[]), def("sidecar", Some(false), &[])];
        let mut states = BTreeMap::new();
        states.insert("sidecar".to_string(), state(Status::Exited, Some(0), None));
        states.insert("web".to_string(), state(Status::Running, None, None));
        assert!(exited_essential(&defs, &states).is_none());
        states.insert("web".to_string(), state(Status::Exited, Some(3), None));
        assert_eq!(exited_essential(&defs, &states).map(name), Some("web"));
    }

    #[test]
    fn dependents_stop_first() {
        use ContainerCondition::*;
        let defs =
            vec![def("db", None, &[]), def("app", None, &[("db", Healthy)]), def("proxy", None, &[("app", Start)])];
        assert_eq!(stop_order(&defs), vec!["proxy", "app", "db"]);
    }

    #[test]
    fn task_health_follows_essential_checked_containers() {
        let mut web = def("web", None, &[]);
        web.health_check = Some(berth_model::ecs::HealthCheck {
            command: vec!["CMD".into(), "true".into()],
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
        });
        let defs = vec![web, def("plain", None, &[])];
        let mut states = BTreeMap::new();
        assert_eq!(task_health(&defs, &states), HealthStatus::Unknown);
        states.insert("web".to_string(), state(Status::Running, None, Some(Health::Healthy)));
        assert_eq!(task_health(&defs, &states), HealthStatus::Healthy);
        states.insert("web".to_string(), state(Status::Running, None, Some(Health::Unhealthy)));
        assert_eq!(task_health(&defs, &states), HealthStatus::Unhealthy);
    }
}
