//! What RunTask, StartTask and a service's tasks may ask for: the pure checks on a
//! launch (counts, clientToken, launch type or capacity providers, network
//! configuration against the task definition's network mode, group, startedBy) and the
//! platform version a Fargate task gets. Messages are ECS's InvalidParameterException
//! ones. Pure: no I/O.

use crate::ecs::{
    CapacityProviderStrategyItem, Compatibility, LaunchType, NetworkConfiguration, NetworkMode, TaskDefinition,
};

/// Why a launch is refused (InvalidParameterException).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid(message.into()))
}

/// RunTask's count and StartTask's instances: at most this many per call.
pub const MAX_TASKS_PER_CALL: usize = 10;

/// The platform version LATEST stands for.
pub const FARGATE_PLATFORM_VERSION: &str = "1.4.0";

/// RunTask's count: 1 to `MAX_TASKS_PER_CALL`.
pub fn check_count(count: i32) -> Result<(), Invalid> {
    if !(1..=MAX_TASKS_PER_CALL as i32).contains(&count) {
        return invalid(format!("count must be between 1 and {MAX_TASKS_PER_CALL}; got {count}."));
    }
    Ok(())
}

/// StartTask's containerInstances: 1 to `MAX_TASKS_PER_CALL`.
pub fn check_instance_count(n: usize) -> Result<(), Invalid> {
    if n == 0 || n > MAX_TASKS_PER_CALL {
        return invalid(format!("Name 1 to {MAX_TASKS_PER_CALL} container instances to start the task on."));
    }
    Ok(())
}

/// clientToken: 1 to `max` characters in ASCII 33–126 (RunTask 64, CreateService 36).
pub fn check_client_token(token: &str, max: usize) -> Result<(), Invalid> {
    if token.is_empty() || token.len() > max || !token.bytes().all(|b| (33..=126).contains(&b)) {
        return invalid(format!("clientToken must be 1 to {max} characters in the ASCII range 33-126."));
    }
    Ok(())
}

/// What a launch runs on: its launch type, Fargate's provider when one is named, and the
/// strategy that shares its tasks out (`strategy`, empty for none): over FARGATE and
/// FARGATE_SPOT (launchType FARGATE is FARGATE alone), or over the cluster's Auto
/// Scaling group providers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capacity {
    pub launch_type: Option<LaunchType>,
    pub capacity_provider: Option<String>,
    pub strategy: Vec<CapacityProviderStrategyItem>,
}

/// launchType and capacityProviderStrategy: at most one. Absent both, the cluster's
/// default strategy, else EC2. A strategy of Fargate's providers means Fargate; any other
/// must name only providers associated with the cluster (`cluster_providers`), and its
/// tasks are EC2 tasks of those providers.
pub fn launch_type(
    given: Option<LaunchType>,
    strategy: &[CapacityProviderStrategyItem],
    cluster_default: &[CapacityProviderStrategyItem],
    cluster_providers: &[String],
) -> Result<Capacity, Invalid> {
    let strategy = match (given, strategy.first()) {
        (Some(_), Some(_)) => {
            return Err(Invalid(
                "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
                    .into(),
            ));
        }
        (Some(LaunchType::Fargate), None) => {
            let fargate =
                CapacityProviderStrategyItem { capacity_provider: "FARGATE".into(), weight: Some(1), base: None };
            return Ok(Capacity {
                launch_type: Some(LaunchType::Fargate),
                capacity_provider: None,
                strategy: vec![fargate],
            });
        }
        (Some(lt), None) => return Ok(Capacity { launch_type: Some(lt), ..Default::default() }),
        (None, None) if cluster_default.is_empty() => {
            return Ok(Capacity { launch_type: Some(LaunchType::Ec2), ..Default::default() });
        }
        (None, None) => cluster_default,
        (None, Some(_)) => strategy,
    };
    let refused = |e: crate::capacity_provider::validate::Refused| Invalid(e.to_string());
    crate::capacity_provider::validate::strategy(strategy).map_err(refused)?;
    crate::capacity_provider::validate::one_kind(strategy).map_err(refused)?;
    if strategy.iter().all(|i| crate::capacity_provider::is_built_in(&i.capacity_provider)) {
        let chosen = strategy.iter().find(|i| i.base.unwrap_or(0) > 0 || i.weight.unwrap_or(0) > 0);
        return Ok(Capacity {
            launch_type: Some(LaunchType::Fargate),
            capacity_provider: chosen.or(strategy.first()).map(|i| i.capacity_provider.clone()),
            strategy: strategy.to_vec(),
        });
    }
    if strategy.iter().any(|i| !cluster_providers.contains(&i.capacity_provider)) {
        return Err(Invalid(
            "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again."
                .into(),
        ));
    }
    Ok(Capacity { launch_type: Some(LaunchType::Ec2), capacity_provider: None, strategy: strategy.to_vec() })
}

/// A Fargate task's platform version: the one given, LATEST (or none) being the current one.
pub fn platform_version(launch_type: Option<LaunchType>, given: Option<String>) -> Option<String> {
    (launch_type == Some(LaunchType::Fargate))
        .then(|| given.filter(|v| v != "LATEST").unwrap_or_else(|| FARGATE_PLATFORM_VERSION.to_string()))
}

/// An awsvpc task needs an awsvpc configuration with subnets; other network modes take none.
pub fn check_network(td: &TaskDefinition, given: Option<&NetworkConfiguration>) -> Result<(), Invalid> {
    let mode = td.network_mode.unwrap_or(NetworkMode::Bridge);
    match (mode, given.and_then(|n| n.awsvpc_configuration.as_ref())) {
        (NetworkMode::Awsvpc, None) => {
            invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        }
        (NetworkMode::Awsvpc, Some(vpc)) if vpc.subnets.is_empty() => invalid("subnets can not be empty."),
        (NetworkMode::Awsvpc, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => {
            invalid("Network Configuration is not valid for the given networkMode of this task definition.")
        }
    }
}

/// The task definition must be compatible with the launch type.
pub fn check_launch_type(td: &TaskDefinition, launch_type: Option<LaunchType>) -> Result<(), Invalid> {
    let Some(lt) = launch_type else { return Ok(()) };
    let needed = match lt {
        LaunchType::Ec2 => Compatibility::Ec2,
        LaunchType::Fargate => Compatibility::Fargate,
        LaunchType::External => Compatibility::External,
        LaunchType::ManagedInstances => Compatibility::ManagedInstances,
    };
    if !td.compatibilities.iter().flatten().any(|c| *c == needed) {
        return invalid(format!("Task definition does not support launch_type {lt}."));
    }
    Ok(())
}

/// A task group: 1 to 255 characters.
pub fn check_group(group: &str) -> Result<(), Invalid> {
    if group.is_empty() || group.chars().count() > 255 {
        return invalid("group must be 1 to 255 characters.");
    }
    Ok(())
}

/// startedBy: up to 128 letters, digits, `-`, `_` and `/`.
pub fn check_started_by(by: &str) -> Result<(), Invalid> {
    if by.chars().count() > 128 || !by.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '/')) {
        return invalid("startedBy can have up to 128 letters, numbers, hyphens, forward slashes and underscores.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::AwsVpcConfiguration;

    #[test]
    fn counts_are_1_to_10() {
        assert!(check_count(1).is_ok() && check_count(10).is_ok());
        assert_eq!(check_count(0), Err(Invalid("count must be between 1 and 10; got 0.".into())));
        assert!(check_count(11).is_err());
        assert!(check_instance_count(1).is_ok() && check_instance_count(10).is_ok());
        assert!(check_instance_count(0).is_err() && check_instance_count(11).is_err());
    }

    #[test]
    fn launch_type_and_strategy_exclude_each_other() {
        let item = |p: &str| CapacityProviderStrategyItem { capacity_provider: p.into(), weight: Some(1), base: None };
        let fargate = item("FARGATE");
        assert!(launch_type(Some(LaunchType::Ec2), std::slice::from_ref(&fargate), &[], &[]).is_err());
        assert_eq!(launch_type(None, &[], &[], &[]).unwrap().launch_type, Some(LaunchType::Ec2));
        let f = launch_type(None, std::slice::from_ref(&fargate), &[], &[]).unwrap();
        assert_eq!((f.launch_type, f.capacity_provider.as_deref()), (Some(LaunchType::Fargate), Some("FARGATE")));
        assert!(launch_type(None, &[item("mine")], &[], &[]).is_err(), "not associated with the cluster");
        let mine = launch_type(None, &[item("mine")], &[], &["mine".into()]).unwrap();
        assert_eq!((mine.launch_type, mine.strategy.len()), (Some(LaunchType::Ec2), 1));
        // Neither given: the cluster's default strategy; a launch type overrides it.
        let default = [item("mine")];
        assert_eq!(launch_type(None, &[], &default, &["mine".into()]).unwrap().strategy, default);
        assert!(launch_type(Some(LaunchType::Ec2), &[], &default, &["mine".into()]).unwrap().strategy.is_empty());
        assert!(launch_type(None, &[fargate.clone(), item("mine")], &[], &["mine".into()]).is_err(), "one kind");
        // Fargate's tasks are shared out over its providers; launchType FARGATE is FARGATE alone.
        let spot = item("FARGATE_SPOT");
        assert_eq!(
            launch_type(None, &[fargate.clone(), spot.clone()], &[], &[]).unwrap().strategy,
            [fargate.clone(), spot]
        );
        let given = launch_type(Some(LaunchType::Fargate), &[], &[], &[]).unwrap();
        assert_eq!(
            (given.launch_type, given.capacity_provider, given.strategy),
            (Some(LaunchType::Fargate), None, vec![fargate])
        );
    }

    #[test]
    fn client_tokens_are_checked() {
        assert!(check_client_token("abc-123/x", 64).is_ok());
        assert!(check_client_token("", 64).is_err());
        assert!(check_client_token("has space", 64).is_err());
        assert!(check_client_token(&"x".repeat(65), 64).is_err());
        assert!(check_client_token(&"x".repeat(37), 36).is_err());
    }

    #[test]
    fn fargate_tasks_get_a_platform_version() {
        assert_eq!(platform_version(Some(LaunchType::Ec2), Some("1.3.0".into())), None);
        assert_eq!(platform_version(Some(LaunchType::Fargate), None).as_deref(), Some(FARGATE_PLATFORM_VERSION));
        assert_eq!(
            platform_version(Some(LaunchType::Fargate), Some("LATEST".into())).as_deref(),
            Some(FARGATE_PLATFORM_VERSION)
        );
        assert_eq!(platform_version(Some(LaunchType::Fargate), Some("1.3.0".into())).as_deref(), Some("1.3.0"));
    }

    #[test]
    fn network_configuration_fits_the_network_mode() {
        let td = |mode| TaskDefinition { network_mode: Some(mode), ..Default::default() };
        let vpc = |subnets: Vec<String>| NetworkConfiguration {
            awsvpc_configuration: Some(AwsVpcConfiguration { subnets, security_groups: None, assign_public_ip: None }),
        };
        assert!(check_network(&td(NetworkMode::Bridge), None).is_ok());
        assert!(check_network(&TaskDefinition::default(), Some(&vpc(vec!["s".into()]))).is_err(), "bridge by default");
        assert!(check_network(&td(NetworkMode::Awsvpc), Some(&vpc(vec!["s".into()]))).is_ok());
        assert_eq!(
            check_network(&td(NetworkMode::Awsvpc), None),
            Err(Invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.".into()))
        );
        assert_eq!(
            check_network(&td(NetworkMode::Awsvpc), Some(&vpc(vec![]))),
            Err(Invalid("subnets can not be empty.".into()))
        );
        assert!(check_network(&td(NetworkMode::Host), Some(&vpc(vec!["s".into()]))).is_err());
    }

    #[test]
    fn the_definition_must_support_the_launch_type() {
        let td = TaskDefinition { compatibilities: Some(vec![Compatibility::Ec2]), ..Default::default() };
        assert!(check_launch_type(&td, Some(LaunchType::Ec2)).is_ok());
        assert!(check_launch_type(&td, None).is_ok());
        assert_eq!(
            check_launch_type(&td, Some(LaunchType::Fargate)),
            Err(Invalid("Task definition does not support launch_type FARGATE.".into()))
        );
    }

    #[test]
    fn groups_and_started_by_are_bounded() {
        assert!(check_group("family:web").is_ok());
        assert!(check_group("").is_err() && check_group(&"g".repeat(256)).is_err());
        assert!(check_started_by("ecs-svc/123_a").is_ok());
        assert!(check_started_by("has space").is_err() && check_started_by(&"s".repeat(129)).is_err());
    }
}
