//! What the store keeps for each elbv2 resource (keys in `crate::keys`): the shape as
//! described, plus what the shape does not show (attributes, tags, targets).

use super::{
    Listener, LoadBalancer, LoadBalancerAttribute, Rule, Tag, TargetGroup, TargetGroupAttribute, TargetHealth,
    TargetHealthReasonEnum, TargetHealthStateEnum,
};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// `elbv2/load-balancers/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerRecord {
    #[serde(rename = "loadBalancer")]
    pub load_balancer: LoadBalancer,
    /// When it was created (`provisioning` shows for its first moment).
    #[serde(rename = "createdAt")]
    pub created_at: Timestamp,
    #[serde(default)]
    pub attributes: Vec<LoadBalancerAttribute>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl LoadBalancerRecord {
    pub fn arn(&self) -> &str {
        self.load_balancer.load_balancer_arn.as_deref().unwrap_or_default()
    }
}

/// `elbv2/target-groups/{name}`. `LoadBalancerArns` is derived from the listeners when shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupRecord {
    #[serde(rename = "targetGroup")]
    pub target_group: TargetGroup,
    #[serde(default)]
    pub attributes: Vec<TargetGroupAttribute>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Registered targets, and deregistered ones still draining.
    #[serde(default)]
    pub targets: Vec<RegisteredTarget>,
}

impl TargetGroupRecord {
    pub fn arn(&self) -> &str {
        self.target_group.target_group_arn.as_deref().unwrap_or_default()
    }

    /// Registers `(id, port)` targets (a draining one is registered afresh), dropping
    /// deregistered targets whose delay has passed.
    pub fn register(&mut self, targets: &[(String, i32)], now: Timestamp) {
        self.targets.retain(|t| !t.gone_at(now));
        for (id, port) in targets {
            match self.targets.iter_mut().find(|t| t.is(id, *port)) {
                Some(t) if t.draining_until.is_some() => {
                    t.draining_until = None;
                    t.registered_at = now;
                    t.health = initial_health();
                }
                Some(_) => {}
                None => self.targets.push(RegisteredTarget {
                    id: id.clone(),
                    port: *port,
                    availability_zone: None,
                    registered_at: now,
                    health: initial_health(),
                    draining_until: None,
                }),
            }
        }
    }

    /// The group's deregistration delay in seconds.
    pub fn deregistration_delay(&self) -> f64 {
        super::attributes::value(
            super::attributes::TARGET_GROUP,
            &self.attributes,
            "deregistration_delay.timeout_seconds",
        )
        .parse()
        .unwrap_or(300.0)
    }

    /// Starts draining `(id, port)` targets for the deregistration delay.
    pub fn deregister(&mut self, targets: &[(String, i32)], now: Timestamp) {
        let until = Timestamp(now.as_secs_f64() + self.deregistration_delay());
        for t in self.targets.iter_mut().filter(|t| targets.iter().any(|(id, port)| t.is(id, *port))) {
            if t.draining_until.is_none() {
                t.draining_until = Some(until);
            }
        }
        self.targets.retain(|t| !t.gone_at(now));
    }
}

/// A newly registered target's health, until the first health check verdict.
pub fn initial_health() -> TargetHealth {
    TargetHealth {
        state: Some(TargetHealthStateEnum::Initial),
        reason: Some(TargetHealthReasonEnum::ElbRegistrationInProgress),
        description: Some("Target registration is in progress".into()),
    }
}

/// One registered target (an instance id or IP address and a port) and its health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredTarget {
    pub id: String,
    pub port: i32,
    #[serde(rename = "availabilityZone", default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(rename = "registeredAt")]
    pub registered_at: Timestamp,
    /// The last health the health checks established (initial until the first verdict).
    pub health: TargetHealth,
    /// Set by DeregisterTargets: the target drains until then and is gone after.
    #[serde(rename = "drainingUntil", default, skip_serializing_if = "Option::is_none")]
    pub draining_until: Option<Timestamp>,
}

impl RegisteredTarget {
    pub fn is(&self, id: &str, port: i32) -> bool {
        self.id == id && self.port == port
    }

    /// A deregistered target whose delay has passed: no longer part of the group.
    pub fn gone_at(&self, now: Timestamp) -> bool {
        self.draining_until.is_some_and(|until| until <= now)
    }
}

/// `elbv2/listeners/{load balancer id}/{listener id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRecord {
    pub listener: Listener,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ListenerRecord {
    pub fn arn(&self) -> &str {
        self.listener.listener_arn.as_deref().unwrap_or_default()
    }
}

/// `elbv2/rules/{listener id}/{rule id}`: a listener's non-default rule (the default
/// rule is the listener's DefaultActions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    pub rule: Rule,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl RuleRecord {
    pub fn arn(&self) -> &str {
        self.rule.rule_arn.as_deref().unwrap_or_default()
    }
}
