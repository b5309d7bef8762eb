//! One step of the scaler for one scalable target, pure: from the stored target, the
//! service's desired count, the alarms its policies act on and the time, what to do —
//! scheduled actions due (new min/max), the capacity brought within min/max, and the
//! dynamic policies whose alarms are in ALARM (the largest scale-out wins; a scale-in only
//! when nothing scales out, the most conservative one). SuspendedState is honoured. Every
//! change is an activity in AWS's words.

use super::records::{Cooldown, TargetRecord};
use super::schedule::{self, Window};
use super::tracking::{DEFAULT_COOLDOWN, Situation};
use super::zone::Zone;
use super::*;

/// What the scaler knows of an alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmView {
    pub name: String,
    pub in_alarm: bool,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub threshold: f64,
    /// The metric's latest values (the alarm's recent datapoints, or the metric store's).
    pub values: Vec<f64>,
}

/// An activity to record (its id and times are given when it is recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub description: String,
    pub cause: String,
    pub status_message: String,
}

/// What one step decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The service's new desired count.
    pub capacity: Option<i32>,
    pub bounds: Option<(i32, i32)>,
    pub activities: Vec<NewActivity>,
    pub cooldown: Option<Cooldown>,
    /// Step policies that acted (their cooldown starts now).
    pub policies_acted: Vec<String>,
    /// Scheduled actions run, with the scheduled time each ran for.
    pub scheduled_runs: Vec<(String, f64)>,
    /// The registration's bounds change has been handled.
    pub bounds_handled: bool,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        *self == Plan::default()
    }
}

fn desired_count_activity(n: i32, cause: String) -> NewActivity {
    NewActivity {
        description: format!("Setting desired count to {n}."),
        cause,
        status_message: format!("Successfully set desired count to {n}. Change successfully fulfilled by ecs."),
    }
}

/// `zone_of` gives the zone of a scheduled action's Timezone (None: unreadable, skipped).
pub fn step(
    rec: &TargetRecord,
    current: i32,
    alarms: &[AlarmView],
    now: f64,
    zone_of: &dyn Fn(Option<&str>) -> Option<Zone>,
) -> Plan {
    let mut plan = Plan::default();
    let suspended = rec.suspended();
    let (mut min, mut max) = (rec.target.min_capacity, rec.target.max_capacity);
    let mut capacity = current;
    let mut bounds_cause = rec.bounds_changed.clone();
    plan.bounds_handled = rec.bounds_changed.is_some();

    if !suspended.scheduled_scaling_suspended.unwrap_or(false) {
        for s in &rec.scheduled {
            let a = &s.action;
            let Ok(parsed) = schedule::parse(&a.schedule) else { continue };
            let Some(zone) = zone_of(a.timezone.as_deref()) else { continue };
            let window = Window {
                created: a.creation_time.as_secs_f64(),
                start: a.start_time.map(|t| t.as_secs_f64()),
                end: a.end_time.map(|t| t.as_secs_f64()),
                last_run: s.last_run.map(|t| t.as_secs_f64()),
            };
            let Some(at) = parsed.due(&zone, window, now) else { continue };
            plan.scheduled_runs.push((a.scheduled_action_name.clone(), at));
            let action = a.scalable_target_action.clone().unwrap_or_default();
            let (new_min, new_max) = (action.min_capacity.unwrap_or(min), action.max_capacity.unwrap_or(max));
            // A min above the max (or the reverse) moves the other with it.
            let (new_min, new_max) = match (action.min_capacity, action.max_capacity) {
                (Some(lo), None) if lo > new_max => (lo, lo),
                (None, Some(hi)) if hi < new_min => (hi, hi),
                _ => (new_min, new_max),
            };
            let mut said = vec![];
            if action.min_capacity.is_some() {
                said.push(format!("min capacity to {new_min}"));
            }
            if action.max_capacity.is_some() {
                said.push(format!("max capacity to {new_max}"));
            }
            let what = if said.is_empty() { "nothing".to_string() } else { said.join(" and ") };
            plan.activities.push(NewActivity {
                description: format!("Setting {what}"),
                cause: format!("scheduled action name {} was triggered", a.scheduled_action_name),
                status_message: format!("Successfully set {what}. Change successfully fulfilled by ecs."),
            });
            (min, max) = (new_min, new_max);
            plan.bounds = Some((min, max));
            bounds_cause = Some(match (action.min_capacity, action.max_capacity) {
                (Some(_), None) => format!("minimum capacity was set to {min}"),
                (None, Some(_)) => format!("maximum capacity was set to {max}"),
                _ => format!("minimum capacity was set to {min} and maximum capacity was set to {max}"),
            });
        }
    }

    if let Some(cause) = bounds_cause {
        let within = capacity.clamp(min, max);
        if within != capacity {
            capacity = within;
            plan.capacity = Some(capacity);
            plan.activities.push(desired_count_activity(capacity, cause));
        }
    }

    if plan.capacity.is_none() {
        dynamic(rec, capacity, (min, max), alarms, now, &mut plan);
    }
    plan
}

struct Proposal {
    capacity: i32,
    cause: String,
    step_policy: Option<String>,
}

fn dynamic(rec: &TargetRecord, current: i32, (min, max): (i32, i32), alarms: &[AlarmView], now: f64, plan: &mut Plan) {
    let suspended = rec.suspended();
    let (out_ok, in_ok) = (
        !suspended.dynamic_scaling_out_suspended.unwrap_or(false),
        !suspended.dynamic_scaling_in_suspended.unwrap_or(false),
    );
    let mut outs: Vec<Proposal> = vec![];
    let mut ins: Vec<Proposal> = vec![];
    let cause = |alarm: &AlarmView, policy: &str| {
        format!("monitor alarm {} in state ALARM triggered policy {policy}", alarm.name)
    };
    for p in &rec.policies {
        let policy = &p.policy;
        let firing: Vec<&AlarmView> = alarms
            .iter()
            .filter(|a| a.in_alarm && a.actions_enabled && a.alarm_actions.contains(&policy.policy_arn))
            .collect();
        if let Some(config) = &policy.target_tracking_scaling_policy_configuration {
            for alarm in firing {
                let s = Situation {
                    current,
                    min,
                    max,
                    target: config.target_value,
                    metric: alarm.values.last().copied(),
                    now,
                    scale_out_cooldown: f64::from(config.scale_out_cooldown.unwrap_or(DEFAULT_COOLDOWN)),
                    scale_in_cooldown: f64::from(config.scale_in_cooldown.unwrap_or(DEFAULT_COOLDOWN)),
                    disable_scale_in: config.disable_scale_in.unwrap_or(false),
                    cooldown: &rec.cooldown,
                };
                match alarms::side_of(&alarm.name) {
                    Some(alarms::Side::High) if out_ok => {
                        if let Some(n) = s.scale_out() {
                            outs.push(Proposal {
                                capacity: n,
                                cause: cause(alarm, &policy.policy_name),
                                step_policy: None,
                            });
                        }
                    }
                    Some(alarms::Side::Low) if in_ok => {
                        if let Some(n) = s.scale_in() {
                            ins.push(Proposal {
                                capacity: n,
                                cause: cause(alarm, &policy.policy_name),
                                step_policy: None,
                            });
                        }
                    }
                    _ => {}
                }
            }
        } else if let Some(config) = &policy.step_scaling_policy_configuration {
            let cooldown = f64::from(config.cooldown.unwrap_or(DEFAULT_COOLDOWN));
            if p.last_action.is_some_and(|t| now < t.as_secs_f64() + cooldown) {
                continue;
            }
            for alarm in firing {
                // Without datapoints (SetAlarmState) the breach is taken as 0: the step starting at the threshold.
                let metric = step::aggregate(config.metric_aggregation_type, &alarm.values).unwrap_or(alarm.threshold);
                let Some(adjustment) = step::adjustment(config, metric - alarm.threshold) else { continue };
                let n = step::apply(config, current, min, max, adjustment);
                let proposal = Proposal {
                    capacity: n,
                    cause: cause(alarm, &policy.policy_name),
                    step_policy: Some(policy.policy_name.clone()),
                };
                if n > current && out_ok {
                    outs.push(proposal);
                } else if n < current && in_ok {
                    ins.push(proposal);
                }
            }
        }
    }
    let chosen = match outs.into_iter().max_by_key(|p| p.capacity) {
        Some(p) => Some((p, true)),
        None => ins.into_iter().max_by_key(|p| p.capacity).map(|p| (p, false)),
    };
    let Some((p, out)) = chosen else { return };
    plan.capacity = Some(p.capacity);
    plan.activities.push(desired_count_activity(p.capacity, p.cause));
    if let Some(name) = p.step_policy {
        plan.policies_acted.push(name);
    } else {
        let mut cooldown = rec.cooldown.clone();
        let at = crate::Timestamp(now);
        if out {
            // In cooldown the base stays the capacity the first scale-out started from.
            let base = match cooldown.scale_out {
                Some((_, base)) if plan_in_cooldown(rec, now) => base,
                _ => current,
            };
            cooldown.scale_out = Some((at, base));
        } else {
            cooldown.scale_in = Some(at);
        }
        plan.cooldown = Some(cooldown);
    }
}

fn plan_in_cooldown(rec: &TargetRecord, now: f64) -> bool {
    let longest = rec
        .policies
        .iter()
        .filter_map(|p| p.policy.target_tracking_scaling_policy_configuration.as_ref())
        .map(|c| f64::from(c.scale_out_cooldown.unwrap_or(DEFAULT_COOLDOWN)))
        .fold(0.0, f64::max);
    rec.cooldown.scale_out.is_some_and(|(at, _)| now < at.as_secs_f64() + longest)
}

#[cfg(test)]
mod tests;
