//! Services' pure rules: what CreateService/UpdateService accept, the defaults ECS fills
//! in, deployments as ECS shows them, and the event list (newest first, duplicates
//! suppressed, at most 100).

use crate::Timestamp;
use crate::arn::{Arn, EcsResource, Scope};
use crate::ecs::{
    Deployment, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentController, DeploymentControllerType,
    DeploymentRolloutState, LaunchType, LoadBalancer, NetworkConfiguration, PlacementStrategy, PlacementStrategyType,
    SchedulingStrategy, Service, ServiceEvent, TaskDefinition,
};

pub const ACTIVE: &str = "ACTIVE";
pub const DRAINING: &str = "DRAINING";
pub const INACTIVE: &str = "INACTIVE";
/// A deployment's status: the one new tasks are started for, and older ones being
/// drained.
pub const PRIMARY: &str = "PRIMARY";
pub const ACTIVE_DEPLOYMENT: &str = "ACTIVE";

/// A service's task group, as ECS sets it on the tasks it starts.
pub fn group(service_name: &str) -> String {
    format!("service:{service_name}")
}

/// How many events DescribeServices shows.
pub const MAX_EVENTS: usize = 100;
/// An event identical to one recorded less than this long ago is not recorded again.
pub const EVENT_DEDUP_SECS: f64 = 300.0;

/// A deployment id as ECS writes them: `ecs-svc/` and 19 digits.
pub fn deployment_id(random: u64) -> String {
    format!("ecs-svc/{:019}", random % 10_000_000_000_000_000_000)
}

/// Why a service request is refused (InvalidParameterException).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// The deployment configuration as ECS stores it: REPLICA defaults to 100/200, DAEMON to
/// 0/100; the circuit breaker is present and disabled unless given. `current` is what an
/// UpdateService starts from (its members are kept where `given` leaves them out).
pub fn deployment_configuration(
    given: Option<&DeploymentConfiguration>,
    current: Option<&DeploymentConfiguration>,
    strategy: SchedulingStrategy,
) -> Result<DeploymentConfiguration, Invalid> {
    let (min_default, max_default) = match strategy {
        SchedulingStrategy::Replica => (100, 200),
        SchedulingStrategy::Daemon => (0, 100),
    };
    let mut out = current.cloned().unwrap_or_default();
    if let Some(g) = given {
        if g.minimum_healthy_percent.is_some() {
            out.minimum_healthy_percent = g.minimum_healthy_percent;
        }
        if g.maximum_percent.is_some() {
            out.maximum_percent = g.maximum_percent;
        }
        if g.deployment_circuit_breaker.is_some() {
            out.deployment_circuit_breaker = g.deployment_circuit_breaker.clone();
        }
        if g.alarms.is_some() {
            out.alarms = g.alarms.clone();
        }
        if g.strategy.is_some() {
            out.strategy = g.strategy;
        }
        if g.bake_time_in_minutes.is_some() {
            out.bake_time_in_minutes = g.bake_time_in_minutes;
        }
    }
    let min = *out.minimum_healthy_percent.get_or_insert(min_default);
    let max = *out.maximum_percent.get_or_insert(max_default);
    out.deployment_circuit_breaker.get_or_insert(DeploymentCircuitBreaker {
        enable: false,
        rollback: false,
        reset_on_healthy_task: None,
        threshold_configuration: None,
    });
    if !(0..=100).contains(&min) {
        return Err(invalid(format!(
            "deploymentConfiguration.minimumHealthyPercent must be between 0 and 100; got {min}."
        )));
    }
    match strategy {
        SchedulingStrategy::Replica if !(100..=200).contains(&max) => {
            Err(invalid(format!("deploymentConfiguration.maximumPercent must be between 100 and 200; got {max}.")))
        }
        SchedulingStrategy::Daemon if max != 100 => {
            Err(invalid("The daemon scheduling strategy does not support a maximumPercent other than 100."))
        }
        _ => Ok(out),
    }
}

/// desiredCount: never negative, and not given at all for DAEMON services.
pub fn check_desired_count(strategy: SchedulingStrategy, given: Option<i32>) -> Result<(), Invalid> {
    match (strategy, given) {
        (_, Some(n)) if n < 0 => Err(invalid("desiredCount can not be negative.")),
        (SchedulingStrategy::Daemon, Some(_)) => {
            Err(invalid("The daemon scheduling strategy does not support a desired count for services."))
        }
        _ => Ok(()),
    }
}

/// DAEMON services place one task per instance: no placement strategy.
pub fn check_daemon_strategy(strategy: SchedulingStrategy, given: Option<&[PlacementStrategy]>) -> Result<(), Invalid> {
    if strategy == SchedulingStrategy::Daemon && given.is_some_and(|s| !s.is_empty()) {
        return Err(invalid("Placement strategies are not supported with the DAEMON scheduling strategy."));
    }
    Ok(())
}

/// Only the rolling-update controller (ECS) is served; CODE_DEPLOY and EXTERNAL belong
/// to other AWS services.
pub fn check_controller(given: Option<&DeploymentController>) -> Result<(), Invalid> {
    match given.map(|c| c.r#type) {
        None | Some(DeploymentControllerType::Ecs) => Ok(()),
        Some(other) => Err(invalid(format!("The deployment controller type {other} is not supported; use ECS."))),
    }
}

pub fn check_grace_period(given: Option<i32>) -> Result<(), Invalid> {
    match given {
        Some(n) if n < 0 => Err(invalid("healthCheckGracePeriodSeconds can not be negative.")),
        _ => Ok(()),
    }
}

/// The placement strategy a REPLICA service gets when none is given: spread across
/// availability zones, then across instances. DAEMON services have none.
pub fn default_placement_strategy(strategy: SchedulingStrategy) -> Vec<PlacementStrategy> {
    match strategy {
        SchedulingStrategy::Daemon => vec![],
        SchedulingStrategy::Replica => ["attribute:ecs.availability-zone", "instanceId"]
            .into_iter()
            .map(|field| PlacementStrategy { r#type: Some(PlacementStrategyType::Spread), field: Some(field.into()) })
            .collect(),
    }
}

/// A service's loadBalancers (stored for the load-balancer controller): at most 5, each
/// naming a target group or load balancer and a container of the task definition by a
/// port it maps.
pub fn check_load_balancers(td: &TaskDefinition, lbs: &[LoadBalancer]) -> Result<(), Invalid> {
    if lbs.len() > 5 {
        return Err(invalid("A service can have at most 5 load balancers (target groups)."));
    }
    for lb in lbs {
        if lb.target_group_arn.is_none() && lb.load_balancer_name.is_none() {
            return Err(invalid("A load balancer needs a targetGroupArn or a loadBalancerName."));
        }
        let (Some(name), Some(port)) = (lb.container_name.as_deref(), lb.container_port) else {
            return Err(invalid("A load balancer needs a containerName and a containerPort."));
        };
        let container = td.container_definitions.iter().flatten().find(|c| c.name.as_deref() == Some(name));
        let Some(container) = container else {
            return Err(invalid(format!("The container {name} does not exist in the task definition.")));
        };
        if !container.port_mappings.iter().flatten().any(|m| m.container_port == Some(port)) {
            return Err(invalid(format!("The container {name} did not have a container port {port} defined.")));
        }
    }
    Ok(())
}

/// The circuit breaker trips after this many failed tasks: half the desired count,
/// at least 3 and at most 200.
pub fn failure_threshold(desired_count: i32) -> i32 {
    (desired_count / 2 + desired_count % 2).clamp(3, 200)
}

/// The deployment a new task definition (or forceNewDeployment) begins.
pub struct NewDeployment<'a> {
    pub id: String,
    pub task_definition: String,
    pub desired_count: i32,
    pub launch_type: Option<LaunchType>,
    pub network_configuration: Option<&'a NetworkConfiguration>,
    pub now: Timestamp,
}

pub fn new_deployment(d: NewDeployment<'_>) -> Deployment {
    let reason = format!("ECS deployment {} in progress.", d.id);
    Deployment {
        id: Some(d.id),
        status: Some(PRIMARY.into()),
        task_definition: Some(d.task_definition),
        desired_count: Some(d.desired_count),
        pending_count: Some(0),
        running_count: Some(0),
        failed_tasks: Some(0),
        created_at: Some(d.now),
        updated_at: Some(d.now),
        launch_type: d.launch_type,
        network_configuration: d.network_configuration.cloned(),
        rollout_state: Some(DeploymentRolloutState::InProgress),
        rollout_state_reason: Some(reason),
        ..Default::default()
    }
}

/// The service deployment ARN (ListServiceDeployments) of deployment `id` of the
/// service `service_arn`: `...:service-deployment/CLUSTER/SERVICE/DIGITS`.
pub fn service_deployment_arn(service_arn: &str, id: &str) -> Option<String> {
    let arn = Arn::parse(service_arn)?;
    let EcsResource::Service { cluster, name } = arn.ecs_resource()? else { return None };
    let digits = id.trim_start_matches("ecs-svc/").to_string();
    Some(Scope::new(arn.region, arn.account).ecs(&EcsResource::ServiceDeployment {
        cluster,
        service: name,
        id: digits,
    }))
}

/// Makes `new` the service's PRIMARY deployment (and its currentServiceDeployment): the
/// others become ACTIVE (they are drained as `new` rolls out). Service Connect, volume
/// and VPC Lattice configurations that `new` was not given are carried over from the
/// previous PRIMARY.
pub fn begin_deployment(service: &mut Service, mut new: Deployment, now: Timestamp) {
    service.current_service_deployment = service_deployment_arn(
        service.service_arn.as_deref().unwrap_or_default(),
        new.id.as_deref().unwrap_or_default(),
    );
    let deployments = service.deployments.get_or_insert_with(Vec::new);
    if let Some(previous) = deployments.first() {
        if new.service_connect_configuration.is_none() {
            new.service_connect_configuration = previous.service_connect_configuration.clone();
        }
        if new.volume_configurations.is_none() {
            new.volume_configurations = previous.volume_configurations.clone();
        }
        if new.vpc_lattice_configurations.is_none() {
            new.vpc_lattice_configurations = previous.vpc_lattice_configurations.clone();
        }
    }
    for d in deployments.iter_mut() {
        d.status = Some(ACTIVE_DEPLOYMENT.into());
        d.updated_at = Some(now);
    }
    deployments.insert(0, new);
}

/// Records `message` as the newest event, unless it repeats the newest one recorded
/// within `EVENT_DEDUP_SECS` (a placement failure retried every second is one event; a
/// steady state reached again after a deployment is a new one); keeps the newest
/// `MAX_EVENTS`. Returns whether it was recorded.
pub fn push_event(events: &mut Vec<ServiceEvent>, message: String, now: Timestamp, id: String) -> bool {
    let recent = events.first().is_some_and(|e| {
        e.message.as_deref() == Some(message.as_str())
            && e.created_at.is_some_and(|at| now.as_secs_f64() - at.as_secs_f64() < EVENT_DEDUP_SECS)
    });
    if recent {
        return false;
    }
    events.insert(0, ServiceEvent { id: Some(id), created_at: Some(now), message: Some(message) });
    events.truncate(MAX_EVENTS);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_ids_have_19_digits() {
        assert_eq!(deployment_id(42), "ecs-svc/0000000000000000042");
        assert_eq!(deployment_id(u64::MAX).len(), "ecs-svc/".len() + 19);
    }

    #[test]
    fn deployment_configuration_defaults_and_limits() {
        let c = deployment_configuration(None, None, SchedulingStrategy::Replica).unwrap();
        assert_eq!((c.minimum_healthy_percent, c.maximum_percent), (Some(100), Some(200)));
        assert_eq!(c.deployment_circuit_breaker.as_ref().map(|b| (b.enable, b.rollback)), Some((false, false)));
        let d = deployment_configuration(None, None, SchedulingStrategy::Daemon).unwrap();
        assert_eq!((d.minimum_healthy_percent, d.maximum_percent), (Some(0), Some(100)));
        let given = DeploymentConfiguration { minimum_healthy_percent: Some(50), ..Default::default() };
        let u = deployment_configuration(Some(&given), Some(&c), SchedulingStrategy::Replica).unwrap();
        assert_eq!((u.minimum_healthy_percent, u.maximum_percent), (Some(50), Some(200)));
        for (min, max) in [(-1, 200), (101, 200), (50, 99), (50, 201)] {
            let bad = DeploymentConfiguration {
                minimum_healthy_percent: Some(min),
                maximum_percent: Some(max),
                ..Default::default()
            };
            assert!(deployment_configuration(Some(&bad), None, SchedulingStrategy::Replica).is_err(), "{min}/{max}");
        }
    }

    #[test]
    fn service_settings_are_checked() {
        use SchedulingStrategy::{Daemon, Replica};
        assert!(check_desired_count(Replica, Some(3)).is_ok() && check_desired_count(Daemon, None).is_ok());
        assert_eq!(check_desired_count(Replica, Some(-1)), Err(Invalid("desiredCount can not be negative.".into())));
        assert!(check_desired_count(Daemon, Some(1)).is_err());
        let spread = PlacementStrategy { r#type: Some(PlacementStrategyType::Spread), field: Some("host".into()) };
        assert!(check_daemon_strategy(Replica, Some(std::slice::from_ref(&spread))).is_ok());
        assert!(check_daemon_strategy(Daemon, Some(&[])).is_ok());
        assert!(check_daemon_strategy(Daemon, Some(&[spread])).is_err());
        let controller = |t| DeploymentController { r#type: t };
        assert!(
            check_controller(None).is_ok()
                && check_controller(Some(&controller(DeploymentControllerType::Ecs))).is_ok()
        );
        assert!(check_controller(Some(&controller(DeploymentControllerType::CodeDeploy))).is_err());
        assert!(check_grace_period(Some(0)).is_ok() && check_grace_period(None).is_ok());
        assert!(check_grace_period(Some(-1)).is_err());
    }

    #[test]
    fn load_balancers_name_a_mapped_container_port() {
        use crate::ecs::{ContainerDefinition, PortMapping};
        let td = TaskDefinition {
            container_definitions: Some(vec![ContainerDefinition {
                name: Some("web".into()),
                port_mappings: Some(vec![PortMapping { container_port: Some(8080), ..Default::default() }]),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let lb = |name: &str, port: i32| LoadBalancer {
            target_group_arn: Some("arn:tg".into()),
            container_name: Some(name.into()),
            container_port: Some(port),
            ..Default::default()
        };
        assert!(check_load_balancers(&td, &[lb("web", 8080)]).is_ok());
        assert_eq!(
            check_load_balancers(&td, &[lb("web", 80)]),
            Err(Invalid("The container web did not have a container port 80 defined.".into()))
        );
        assert!(check_load_balancers(&td, &[lb("db", 8080)]).is_err());
        assert!(check_load_balancers(&td, &vec![lb("web", 8080); 6]).is_err());
    }

    #[test]
    fn a_new_deployment_becomes_primary_and_inherits_what_it_was_not_given() {
        let first = new_deployment(NewDeployment {
            id: "ecs-svc/1".into(),
            task_definition: "td:1".into(),
            desired_count: 1,
            launch_type: None,
            network_configuration: None,
            now: Timestamp(1.0),
        });
        let mut service = Service {
            service_arn: Some("arn:aws:ecs:r:1:service/c/web".into()),
            deployments: Some(vec![Deployment { volume_configurations: Some(vec![]), ..first.clone() }]),
            ..Default::default()
        };
        let second = Deployment { id: Some("ecs-svc/2".into()), ..first };
        begin_deployment(&mut service, second, Timestamp(2.0));
        assert_eq!(service.current_service_deployment.as_deref(), Some("arn:aws:ecs:r:1:service-deployment/c/web/2"));
        let deployments = service.deployments.unwrap();
        let statuses: Vec<_> = deployments.iter().map(|d| (d.id.as_deref(), d.status.as_deref())).collect();
        assert_eq!(statuses, [(Some("ecs-svc/2"), Some(PRIMARY)), (Some("ecs-svc/1"), Some(ACTIVE_DEPLOYMENT))]);
        assert_eq!(deployments[0].volume_configurations, Some(vec![]));
        assert_eq!(deployments[1].updated_at, Some(Timestamp(2.0)));
    }

    #[test]
    fn failure_threshold_is_half_the_desired_count_within_3_and_200() {
        assert_eq!(failure_threshold(0), 3);
        assert_eq!(failure_threshold(3), 3);
        assert_eq!(failure_threshold(9), 5);
        assert_eq!(failure_threshold(10), 5);
        assert_eq!(failure_threshold(1000), 200);
    }

    #[test]
    fn events_are_newest_first_deduplicated_and_capped() {
        let mut events = vec![];
        assert!(push_event(&mut events, "a".into(), Timestamp(1000.0), "1".into()));
        assert!(!push_event(&mut events, "a".into(), Timestamp(1100.0), "2".into()), "repeats the newest");
        assert!(push_event(&mut events, "b".into(), Timestamp(1100.0), "3".into()));
        assert!(push_event(&mut events, "a".into(), Timestamp(1110.0), "4".into()), "something happened since");
        assert!(push_event(&mut events, "a".into(), Timestamp(1500.0), "5".into()), "long enough ago");
        let ids: Vec<&str> = events.iter().filter_map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, ["5", "4", "3", "1"]);
        for i in 0..200 {
            push_event(&mut events, format!("m{i}"), Timestamp(2000.0), i.to_string());
        }
        assert_eq!(events.len(), MAX_EVENTS);
        assert_eq!(events[0].message.as_deref(), Some("m199"));
    }
}
