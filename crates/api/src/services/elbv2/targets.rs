//! RegisterTargets, DeregisterTargets, DescribeTargetHealth. A target's health is what
//! the health checks last established (stored with the target); what is shown also
//! depends on whether a listener uses the group and whether the target is draining.

use super::target_groups::load_balancers_of;
use super::{Ctx, all_listeners, all_rules, required, target_group, to_value};
use crate::error::AwsError;
use berth_model::Timestamp;
use berth_model::elbv2::arn::{self, Resource};
use berth_model::elbv2::records::{RegisteredTarget, TargetGroupRecord};
use berth_model::elbv2::{TargetDescription, TargetHealth, TargetHealthDescription};
use berth_model::keys;
use berth_store::documents::{self, Change};
use serde::Deserialize;
use serde_json::{Value, json};

fn health(state: &str, reason: Option<&str>, description: Option<&str>) -> TargetHealth {
    TargetHealth { state: state.into(), reason: reason.map(Into::into), description: description.map(Into::into) }
}

/// The health DescribeTargetHealth shows for a target at `now`.
pub fn shown_health(target: &RegisteredTarget, in_use: bool, checks_enabled: bool, now: Timestamp) -> TargetHealth {
    match target.draining_until {
        Some(until) if until > now => {
            health("draining", Some("Target.DeregistrationInProgress"), Some("Target deregistration is in progress"))
        }
        Some(_) => health("unused", Some("Target.NotRegistered"), Some("Target is not registered to the target group")),
        None if !in_use => health(
            "unused",
            Some("Target.NotInUse"),
            Some("Target group is not configured to receive traffic from the load balancer"),
        ),
        None if !checks_enabled => {
            health("unavailable", Some("Target.HealthCheckDisabled"), Some("Health checks are disabled"))
        }
        None => target.health.clone(),
    }
}

#[derive(Deserialize)]
pub struct TargetsInput {
    #[serde(rename = "TargetGroupArn", default)]
    arn: String,
    #[serde(rename = "Targets", default)]
    targets: Vec<TargetDescription>,
}

/// The (id, port) of each given target, checked against the group's target type.
fn resolve(record: &TargetGroupRecord, targets: &[TargetDescription]) -> Result<Vec<(String, i32)>, AwsError> {
    let tg = &record.target_group;
    targets
        .iter()
        .map(|t| {
            let ok = match tg.target_type.as_deref() {
                Some("ip") => t.id.parse::<std::net::IpAddr>().is_ok(),
                _ => !t.id.is_empty() && t.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            };
            if !ok {
                return Err(AwsError::elbv2(
                    "InvalidTarget",
                    format!(
                        "The target Id '{}' is not a valid target for a target group of type {:?}",
                        t.id, tg.target_type
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

pub async fn register(ctx: Ctx, input: TargetsInput) -> Result<Value, AwsError> {
    let arn = required(&input.arn, "TargetGroupArn")?;
    let doc = target_group(&ctx, arn).await?;
    if input.targets.is_empty() {
        return Err(AwsError::validation("At least one target must be given"));
    }
    let wanted = resolve(&doc.value, &input.targets)?;
    documents::modify(ctx.api.store.as_ref(), &tg_key(arn), |current| {
        let Some(mut record) = current.filter(|r: &TargetGroupRecord| r.target_group.target_group_arn == arn) else {
            return Err(AwsError::elbv2_tg_not_found());
        };
        record.register(&wanted, Timestamp::now());
        if record.targets.len() > 1000 {
            return Err(AwsError::elbv2("TooManyTargets", "A target group can have at most 1000 targets"));
        }
        Ok((Change::Put(record), ()))
    })
    .await?;
    Ok(json!({}))
}

/// Deregistered targets drain for the group's deregistration delay, then are gone.
pub async fn deregister(ctx: Ctx, input: TargetsInput) -> Result<Value, AwsError> {
    let arn = required(&input.arn, "TargetGroupArn")?;
    let doc = target_group(&ctx, arn).await?;
    let wanted = resolve(&doc.value, &input.targets)?;
    documents::modify(ctx.api.store.as_ref(), &tg_key(arn), |current| {
        let Some(mut record) = current.filter(|r: &TargetGroupRecord| r.target_group.target_group_arn == arn) else {
            return Err(AwsError::elbv2_tg_not_found());
        };
        record.deregister(&wanted, Timestamp::now());
        Ok((Change::Put(record), ()))
    })
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
pub struct DescribeHealthInput {
    #[serde(rename = "TargetGroupArn", default)]
    arn: String,
    #[serde(rename = "Targets", default)]
    targets: Vec<TargetDescription>,
}

pub async fn describe_health(ctx: Ctx, input: DescribeHealthInput) -> Result<Value, AwsError> {
    let arn = required(&input.arn, "TargetGroupArn")?;
    let record = target_group(&ctx, arn).await?.value;
    let in_use = !load_balancers_of(arn, &all_listeners(&ctx).await?, &all_rules(&ctx).await?).is_empty();
    let checks = record.target_group.health_check_enabled.unwrap_or(true);
    let now = Timestamp::now();
    let describe = |t: &RegisteredTarget| TargetHealthDescription {
        target: TargetDescription {
            id: t.id.clone(),
            port: Some(t.port),
            availability_zone: t.availability_zone.clone(),
        },
        health_check_port: Some(match record.target_group.health_check_port.as_deref() {
            Some(p) if p != "traffic-port" => p.to_string(),
            _ => t.port.to_string(),
        }),
        target_health: shown_health(t, in_use, checks, now),
    };
    let descriptions: Vec<TargetHealthDescription> = if input.targets.is_empty() {
        record.targets.iter().filter(|t| !t.gone_at(now)).map(describe).collect()
    } else {
        resolve(&record, &input.targets)?
            .into_iter()
            .map(|(id, port)| match record.targets.iter().find(|t| t.is(&id, port)) {
                Some(t) => describe(t),
                None => TargetHealthDescription {
                    target: TargetDescription { id, port: Some(port), availability_zone: None },
                    health_check_port: Some(port.to_string()),
                    target_health: health(
                        "unused",
                        Some("Target.NotRegistered"),
                        Some("Target is not registered to the target group"),
                    ),
                },
            })
            .collect()
    };
    Ok(json!({"TargetHealthDescriptions": to_value(&descriptions)?}))
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
            health: health("healthy", None, None),
            draining_until: draining_until.map(Timestamp),
        }
    }

    #[test]
    fn shown_health_follows_draining_use_and_checks() {
        let now = Timestamp(100.0);
        assert_eq!(shown_health(&target(None), true, true, now).state, "healthy");
        assert_eq!(shown_health(&target(None), false, true, now).reason.as_deref(), Some("Target.NotInUse"));
        assert_eq!(shown_health(&target(None), true, false, now).state, "unavailable");
        assert_eq!(shown_health(&target(Some(150.0)), true, true, now).state, "draining");
        assert_eq!(shown_health(&target(Some(50.0)), true, true, now).state, "unused");
        assert!(target(Some(100.0)).gone_at(now));
    }
}
