//! RegisterTargets, DeregisterTargets, DescribeTargetHealth. A target's health is what
//! the health checks last established (stored with the target); what is shown also
//! depends on whether a listener uses the group and whether the target is draining.

use super::target_groups::load_balancers_of;
use super::{Ctx, all_listeners, all_rules, required, target_group};
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::{RegisteredTarget, TargetGroupRecord};
use berth_model::elbv2::{TargetHealthReasonEnum as Reason, TargetHealthStateEnum as State, *};
use berth_model::keys;
use berth_store::documents::{self, Change};

fn health(state: State, reason: Reason, description: &str) -> TargetHealth {
    TargetHealth { state: Some(state), reason: Some(reason), description: Some(description.into()) }
}

fn not_registered() -> TargetHealth {
    health(State::Unused, Reason::TargetNotRegistered, "Target is not registered to the target group")
}

/// The health DescribeTargetHealth shows for a target at `now`.
pub fn shown_health(target: &RegisteredTarget, in_use: bool, checks_enabled: bool, now: Timestamp) -> TargetHealth {
    match target.draining_until {
        Some(until) if until > now => {
            health(State::Draining, Reason::TargetDeregistrationInProgress, "Target deregistration is in progress")
        }
        Some(_) => not_registered(),
        None if !in_use => health(
            State::Unused,
            Reason::TargetNotInUse,
            "Target group is not configured to receive traffic from the load balancer",
        ),
        None if !checks_enabled => {
            health(State::Unavailable, Reason::TargetHealthCheckDisabled, "Health checks are disabled")
        }
        None => target.health.clone(),
    }
}

/// The (id, port) of each given target, checked against the group's target type.
fn resolve(record: &TargetGroupRecord, targets: &[TargetDescription]) -> Result<Vec<(String, i32)>, AwsError> {
    let tg = &record.target_group;
    targets
        .iter()
        .map(|t| {
            let ok = match tg.target_type {
                Some(TargetTypeEnum::Ip) => t.id.parse::<std::net::IpAddr>().is_ok(),
                _ => !t.id.is_empty() && t.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            };
            if !ok {
                return Err(AwsError::elbv2(
                    "InvalidTarget",
                    format!(
                        "The target Id '{}' is not a valid target for a target group of type {:?}",
                        t.id,
                        tg.target_type.map(|t| t.as_str())
                    ),
                ));
            }
            let port = t.port.or(tg.port).unwrap_or(80);
            if !(1..=65535).contains(&port) {
                return Err(AwsError::validation(format!("Target port '{port}' must be between 1 and 65535")));
            }
            Ok((t.id.clone(), port))
        })
        .collect()
}

fn tg_key(tg_arn: &str) -> String {
    match arn::parse(tg_arn) {
        Some(Resource::TargetGroup { name, .. }) => keys::target_group(&name),
        _ => String::new(),
    }
}

pub async fn register(ctx: Ctx, input: RegisterTargetsInput) -> Result<RegisterTargetsOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?;
    let doc = target_group(&ctx, arn).await?;
    if input.targets.is_empty() {
        return Err(AwsError::validation("At least one target must be given"));
    }
    let wanted = resolve(&doc.value, &input.targets)?;
    documents::modify(ctx.api.store.as_ref(), &tg_key(arn), |current| {
        let Some(mut record) = current.filter(|r: &TargetGroupRecord| r.arn() == arn) else {
            return Err(AwsError::elbv2_tg_not_found());
        };
        record.register(&wanted, Timestamp::now());
        if record.targets.len() > 1000 {
            return Err(AwsError::elbv2("TooManyTargets", "A target group can have at most 1000 targets"));
        }
        Ok((Change::Put(record), ()))
    })
    .await?;
    Ok(RegisterTargetsOutput {})
}

/// Deregistered targets drain for the group's deregistration delay, then are gone.
pub async fn deregister(ctx: Ctx, input: DeregisterTargetsInput) -> Result<DeregisterTargetsOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?;
    let doc = target_group(&ctx, arn).await?;
    let wanted = resolve(&doc.value, &input.targets)?;
    documents::modify(ctx.api.store.as_ref(), &tg_key(arn), |current| {
        let Some(mut record) = current.filter(|r: &TargetGroupRecord| r.arn() == arn) else {
            return Err(AwsError::elbv2_tg_not_found());
        };
        record.deregister(&wanted, Timestamp::now());
        Ok((Change::Put(record), ()))
    })
    .await?;
    Ok(DeregisterTargetsOutput {})
}

pub async fn describe_health(
    ctx: Ctx,
    input: DescribeTargetHealthInput,
) -> Result<DescribeTargetHealthOutput, AwsError> {
    let arn = required(&input.target_group_arn, "TargetGroupArn")?;
    let record = target_group(&ctx, arn).await?.value;
    let in_use = !load_balancers_of(arn, &all_listeners(&ctx).await?, &all_rules(&ctx).await?).is_empty();
    let checks = record.target_group.health_check_enabled.unwrap_or(true);
    let now = Timestamp::now();
    let target = |id: String, port: i32, availability_zone: Option<String>| TargetDescription {
        id,
        port: Some(port),
        availability_zone,
        quic_server_id: None,
    };
    let describe = |t: &RegisteredTarget| TargetHealthDescription {
        target: Some(target(t.id.clone(), t.port, t.availability_zone.clone())),
        health_check_port: Some(match record.target_group.health_check_port.as_deref() {
            Some(p) if p != "traffic-port" => p.to_string(),
            _ => t.port.to_string(),
        }),
        target_health: Some(shown_health(t, in_use, checks, now)),
        ..Default::default()
    };
    let asked = input.targets.unwrap_or_default();
    let descriptions: Vec<TargetHealthDescription> = if asked.is_empty() {
        record.targets.iter().filter(|t| !t.gone_at(now)).map(describe).collect()
    } else {
        resolve(&record, &asked)?
            .into_iter()
            .map(|(id, port)| match record.targets.iter().find(|t| t.is(&id, port)) {
                Some(t) => describe(t),
                None => TargetHealthDescription {
                    target: Some(target(id, port, None)),
                    health_check_port: Some(port.to_string()),
                    target_health: Some(not_registered()),
                    ..Default::default()
                },
            })
            .collect()
    };
    Ok(DescribeTargetHealthOutput { target_health_descriptions: Some(descriptions) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(draining_until: Option<f64>) -> RegisteredTarget {
        RegisteredTarget {
            id: "10.0.0.1".into(),
            port: 80,
            availability_zone: None,
            registered_at: Timestamp(0.0),
            health: TargetHealth { state: Some(State::Healthy), reason: None, description: None },
            draining_until: draining_until.map(Timestamp),
        }
    }

    #[test]
    fn shown_health_follows_draining_use_and_checks() {
        let now = Timestamp(100.0);
        assert_eq!(shown_health(&target(None), true, true, now).state, Some(State::Healthy));
        assert_eq!(shown_health(&target(None), false, true, now).reason, Some(Reason::TargetNotInUse));
        assert_eq!(shown_health(&target(None), true, false, now).state, Some(State::Unavailable));
        assert_eq!(shown_health(&target(Some(150.0)), true, true, now).state, Some(State::Draining));
        assert_eq!(shown_health(&target(Some(50.0)), true, true, now).state, Some(State::Unused));
        assert!(target(Some(100.0)).gone_at(now));
    }
}
