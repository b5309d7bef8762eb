//! The stored scalable target: the target as DescribeScalableTargets shows it, its tags,
//! policies, scheduled actions, the activities it recorded, and what the scaler
//! remembers between its steps (cooldowns, when a scheduled action last ran).

use super::*;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many activities a target keeps (the oldest are forgotten first).
pub const MAX_ACTIVITIES: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub target: ScalableTarget,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub policies: Vec<PolicyRecord>,
    #[serde(default)]
    pub scheduled: Vec<ScheduledRecord>,
    /// Newest first.
    #[serde(default)]
    pub activities: Vec<ScalingActivity>,
    #[serde(default)]
    pub cooldown: Cooldown,
    /// Min or max changed (a registration, a scheduled action): the scaler brings the
    /// capacity within them, giving this cause.
    #[serde(default)]
    pub bounds_changed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub policy: ScalingPolicy,
    /// When a step scaling policy last changed the capacity.
    #[serde(default)]
    pub last_action: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledRecord {
    pub action: ScheduledAction,
    /// The latest scheduled time it ran for (a time is run once).
    #[serde(default)]
    pub last_run: Option<Timestamp>,
}

/// What target tracking remembers of its last scale-out and scale-in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cooldown {
    /// When the last scale-out happened and the capacity it started from.
    pub scale_out: Option<(Timestamp, i32)>,
    pub scale_in: Option<Timestamp>,
}

impl TargetRecord {
    pub fn policy(&self, name: &str) -> Option<&PolicyRecord> {
        self.policies.iter().find(|p| p.policy.policy_name == name)
    }

    /// Records an activity, newest first, keeping at most `MAX_ACTIVITIES`.
    pub fn record(&mut self, activity: ScalingActivity) {
        self.activities.insert(0, activity);
        self.activities.truncate(MAX_ACTIVITIES);
    }

    pub fn suspended(&self) -> SuspendedState {
        self.target.suspended_state.clone().unwrap_or_default()
    }
}
