//! CreateCapacityProvider's, UpdateCapacityProvider's and the strategies' rules, with
//! ECS's messages. Pure: no I/O.

use crate::ecs::{CapacityProviderStrategyItem, ManagedScaling};

/// Why a request is refused, as ECS codes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// ClientException.
    #[error("{0}")]
    Client(String),
    /// InvalidParameterException.
    #[error("{0}")]
    InvalidParameter(String),
}

fn client(m: impl Into<String>) -> Result<(), Refused> {
    Err(Refused::Client(m.into()))
}

fn invalid(m: impl Into<String>) -> Result<(), Refused> {
    Err(Refused::InvalidParameter(m.into()))
}

/// A capacity provider's name: 1 to 255 letters, digits, `_` and `-`, not beginning with
/// `aws`, `ecs` or `fargate` (any case), which ECS keeps for its own.
pub fn name(name: &str) -> Result<(), Refused> {
    if name.is_empty() || name.len() > 255 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return invalid(
            "The capacity provider name is invalid. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.",
        );
    }
    let lower = name.to_ascii_lowercase();
    if ["aws", "ecs", "fargate"].iter().any(|p| lower.starts_with(p)) {
        return client(
            "The capacity provider name cannot start with 'aws', 'ecs', or 'fargate'. Specify a different name and try again.",
        );
    }
    Ok(())
}

/// managedScaling's ranges: targetCapacity 1-100, step sizes 1-10000 (minimum at most
/// maximum), instanceWarmupPeriod 0-10000 seconds.
pub fn managed_scaling(m: &ManagedScaling) -> Result<(), Refused> {
    if let Some(t) = m.target_capacity
        && !(1..=100).contains(&t)
    {
        return invalid(format!("managedScaling.targetCapacity must be between 1 and 100; got {t}."));
    }
    for (member, v) in [
        ("minimumScalingStepSize", m.minimum_scaling_step_size),
        ("maximumScalingStepSize", m.maximum_scaling_step_size),
    ] {
        if let Some(v) = v
            && !(1..=10_000).contains(&v)
        {
            return invalid(format!("managedScaling.{member} must be between 1 and 10000; got {v}."));
        }
    }
    if let (Some(lo), Some(hi)) = (m.minimum_scaling_step_size, m.maximum_scaling_step_size)
        && lo > hi
    {
        return invalid(format!(
            "managedScaling.minimumScalingStepSize ({lo}) must be less than or equal to maximumScalingStepSize ({hi})."
        ));
    }
    if let Some(w) = m.instance_warmup_period
        && !(0..=10_000).contains(&w)
    {
        return invalid(format!("managedScaling.instanceWarmupPeriod must be between 0 and 10000; got {w}."));
    }
    Ok(())
}

/// A capacity provider strategy's own rules: at most 20 items, each provider once,
/// weight 0-1000, base 0-100000, at most one base, and some weight above zero.
pub fn strategy(items: &[CapacityProviderStrategyItem]) -> Result<(), Refused> {
    if items.len() > 20 {
        return invalid("A capacity provider strategy can contain at most 20 capacity providers.");
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].iter().any(|o| o.capacity_provider == item.capacity_provider) {
            return invalid(format!(
                "The capacity provider strategy names '{}' more than once.",
                item.capacity_provider
            ));
        }
        if !(0..=1000).contains(&item.weight.unwrap_or(0)) || !(0..=100_000).contains(&item.base.unwrap_or(0)) {
            return invalid("A capacity provider strategy item's weight must be 0 to 1000 and its base 0 to 100000.");
        }
    }
    if items.iter().filter(|i| i.base.unwrap_or(0) > 0).count() > 1 {
        return invalid("Only one capacity provider in a strategy can have a base defined.");
    }
    if !items.is_empty() && items.iter().all(|i| i.weight.unwrap_or(0) == 0) {
        return invalid(
            "At least one capacity provider in a capacity provider strategy must have a weight greater than zero.",
        );
    }
    Ok(())
}

/// A strategy whose providers mix Fargate's with Auto Scaling group providers is refused
/// (ECS places a task on one kind of capacity).
pub fn one_kind(items: &[CapacityProviderStrategyItem]) -> Result<(), Refused> {
    let fargate = items.iter().filter(|i| super::is_built_in(&i.capacity_provider)).count();
    if fargate > 0 && fargate < items.len() {
        return invalid(
            "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(p: &str, weight: i32, base: i32) -> CapacityProviderStrategyItem {
        CapacityProviderStrategyItem { capacity_provider: p.into(), weight: Some(weight), base: Some(base) }
    }

    #[test]
    fn names_follow_ecs_rules() {
        assert!(name("gpu-asg-cp").is_ok() && name("a_1").is_ok());
        assert!(matches!(name("ecs-mine"), Err(Refused::Client(_))));
        assert!(matches!(name("AWSmine"), Err(Refused::Client(_))));
        assert!(matches!(name("Fargate2"), Err(Refused::Client(_))));
        assert!(matches!(name(""), Err(Refused::InvalidParameter(_))));
        assert!(matches!(name("a b"), Err(Refused::InvalidParameter(_))));
        assert!(name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn managed_scaling_ranges() {
        let m = |t, lo, hi, w| ManagedScaling {
            status: None,
            target_capacity: Some(t),
            minimum_scaling_step_size: Some(lo),
            maximum_scaling_step_size: Some(hi),
            instance_warmup_period: Some(w),
        };
        assert!(managed_scaling(&m(100, 1, 1, 300)).is_ok());
        assert!(managed_scaling(&m(0, 1, 1, 300)).is_err());
        assert!(managed_scaling(&m(101, 1, 1, 300)).is_err());
        assert!(managed_scaling(&m(50, 0, 1, 300)).is_err());
        assert!(managed_scaling(&m(50, 1, 10_001, 300)).is_err());
        assert!(managed_scaling(&m(50, 3, 2, 300)).is_err());
        assert!(managed_scaling(&m(50, 1, 2, 10_001)).is_err());
        assert!(managed_scaling(&m(50, 1, 2, -1)).is_err());
    }

    #[test]
    fn strategies() {
        assert!(strategy(&[item("a", 1, 2), item("b", 4, 0)]).is_ok());
        assert!(strategy(&[item("a", 1, 2), item("b", 4, 1)]).is_err());
        assert!(strategy(&[item("a", 1001, 0)]).is_err());
        assert!(strategy(&[item("a", 0, 1)]).is_err());
        assert!(strategy(&[item("a", 1, 0), item("a", 1, 0)]).is_err());
        assert!(one_kind(&[item("FARGATE", 1, 0), item("mine", 1, 0)]).is_err());
        assert!(one_kind(&[item("FARGATE", 1, 0), item("FARGATE_SPOT", 1, 0)]).is_ok());
    }
}
