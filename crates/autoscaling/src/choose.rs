//! Auto Scaling's two choices, pure: the zone (and subnet) of the next instance — the
//! zone with the fewest instances, so that the group stays balanced — and the instance
//! to terminate when the group shrinks — from the zone with the most instances, then by
//! the group's termination policies, never a protected one.

use berth_model::Timestamp;
use berth_model::autoscaling::{AutoScalingGroupRecord, GroupInstance};
use std::collections::BTreeMap;

/// Where an instance is launched: a zone of the group and the group's subnet in it
/// (None for a group given zones without subnets: EC2's default subnet of the zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub availability_zone: String,
    pub subnet_id: Option<String>,
}

/// The zones of `n` new instances, one at a time to the zone with the fewest instances
/// counting toward capacity (ties to the zone listed first).
pub fn launch_zones(group: &AutoScalingGroupRecord, n: usize) -> Vec<Placement> {
    if group.availability_zones.is_empty() {
        return vec![];
    }
    let mut counts: Vec<(String, usize)> = group.availability_zones.iter().map(|z| (z.clone(), 0)).collect();
    for i in group.instances.iter().filter(|i| i.in_capacity()) {
        if let Some(c) = counts.iter_mut().find(|(z, _)| *z == i.availability_zone) {
            c.1 += 1;
        }
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(slot) = counts.iter_mut().min_by_key(|(_, c)| *c) else { break };
        slot.1 += 1;
        let zone = slot.0.clone();
        let subnet = group.vpc_zone_identifier.iter().find(|s| group.subnet_zones.get(*s) == Some(&zone)).cloned();
        out.push(Placement { availability_zone: zone, subnet_id: subnet });
    }
    out
}

/// The `k` instances to terminate when the group shrinks by `k`, in order. Only
/// instances counting toward capacity and not protected from scale-in are candidates;
/// fewer than `k` come back when there are not enough.
pub fn to_terminate(group: &AutoScalingGroupRecord, k: usize, now: Timestamp) -> Vec<String> {
    let mut chosen: Vec<String> = Vec::new();
    for _ in 0..k {
        let left: Vec<&GroupInstance> =
            group.instances.iter().filter(|i| i.in_capacity() && !chosen.contains(&i.instance_id)).collect();
        let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &left {
            *per_zone.entry(i.availability_zone.as_str()).or_default() += 1;
        }
        let candidates: Vec<&GroupInstance> = left.iter().copied().filter(|i| !i.protected_from_scale_in).collect();
        // The zone with the most instances among those that have a candidate; ties to
        // the zone the group lists first.
        let zone_rank = |z: &str| group.availability_zones.iter().position(|g| g == z).unwrap_or(usize::MAX);
        let Some(zone) = candidates
            .iter()
            .map(|i| i.availability_zone.as_str())
            .max_by(|a, b| per_zone[a].cmp(&per_zone[b]).then(zone_rank(b).cmp(&zone_rank(a))))
        else {
            break;
        };
        let in_zone: Vec<&GroupInstance> = candidates.into_iter().filter(|i| i.availability_zone == zone).collect();
        if let Some(pick) = by_policies(group, in_zone, now) {
            chosen.push(pick.instance_id.clone());
        }
    }
    chosen
}

/// The group's termination policies applied in order, then Default's rules, then the
/// lowest instance id: each keeps the candidates it prefers until one is left.
fn by_policies<'a>(
    group: &AutoScalingGroupRecord,
    mut left: Vec<&'a GroupInstance>,
    now: Timestamp,
) -> Option<&'a GroupInstance> {
    let policies = group.termination_policies.iter().map(String::as_str).chain(["Default"]);
    for policy in policies {
        if left.len() <= 1 {
            break;
        }
        left = match policy {
            "OldestInstance" => keep_min(left, |i| i.launched_at.as_secs_f64()),
            "NewestInstance" => keep_min(left, |i| -i.launched_at.as_secs_f64()),
            "OldestLaunchTemplate" | "OldestLaunchConfiguration" => oldest_template(group, left),
            "ClosestToNextInstanceHour" => keep_min(left, |i| to_next_hour(i, now)),
            "Default" => keep_min(oldest_template(group, left), |i| to_next_hour(i, now)),
            // AllocationStrategy (no Spot pools here) and Lambda functions keep all.
            _ => left,
        };
    }
    left.into_iter().min_by(|a, b| a.instance_id.cmp(&b.instance_id))
}

/// Instances launched from a launch template other than the group's current one go first.
fn oldest_template<'a>(group: &AutoScalingGroupRecord, left: Vec<&'a GroupInstance>) -> Vec<&'a GroupInstance> {
    let old: Vec<&GroupInstance> =
        left.iter().copied().filter(|i| i.launch_template != group.launch_template).collect();
    if old.is_empty() { left } else { old }
}

/// Seconds until the instance's next whole hour since launch (its next billing hour).
fn to_next_hour(i: &GroupInstance, now: Timestamp) -> f64 {
    let up = (now.as_secs_f64() - i.launched_at.as_secs_f64()).max(0.0);
    3600.0 - up % 3600.0
}

fn keep_min(left: Vec<&GroupInstance>, key: impl Fn(&GroupInstance) -> f64) -> Vec<&GroupInstance> {
    let best = left.iter().map(|i| key(i)).fold(f64::INFINITY, f64::min);
    left.into_iter().filter(|i| key(i) <= best).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use berth_model::autoscaling::{LaunchTemplateSpecification, LifecycleState, records::HEALTHY};

    pub(crate) fn group(zones: &[&str]) -> AutoScalingGroupRecord {
        let subnets: Vec<String> = zones.iter().map(|z| format!("subnet-{z}")).collect();
        AutoScalingGroupRecord {
            name: "g".into(),
            arn: "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:u-1:autoScalingGroupName/g".into(),
            launch_template: Some(LaunchTemplateSpecification {
                launch_template_id: Some("lt-1".into()),
                launch_template_name: None,
                version: Some("2".into()),
            }),
            mixed_instances_policy: None,
            min_size: 0,
            max_size: 10,
            desired_capacity: 0,
            default_cooldown: 300,
            vpc_zone_identifier: subnets.clone(),
            availability_zones: zones.iter().map(|z| z.to_string()).collect(),
            subnet_zones: subnets.iter().cloned().zip(zones.iter().map(|z| z.to_string())).collect(),
            health_check_type: "EC2".into(),
            health_check_grace_period: 0,
            termination_policies: vec!["Default".into()],
            new_instances_protected_from_scale_in: false,
            capacity_rebalance: false,
            max_instance_lifetime: None,
            default_instance_warmup: None,
            context: None,
            tags: vec![],
            instances: vec![],
            status: None,
            created_time: Timestamp(1000.0),
            service_linked_role_arn: String::new(),
            lifecycle_hooks: vec![],
            suspended_processes: vec![],
            policies: vec![],
            activities: vec![],
            desired_cause: None,
            last_scaled: None,
            launches: 0,
            launch_retry_after: None,
        }
    }

    pub(crate) fn instance(id: &str, zone: &str, launched_at: f64) -> GroupInstance {
        GroupInstance {
            instance_id: id.into(),
            instance_type: Some("t3.micro".into()),
            availability_zone: zone.into(),
            subnet_id: Some(format!("subnet-{zone}")),
            lifecycle_state: LifecycleState::InService,
            health_status: HEALTHY.into(),
            protected_from_scale_in: false,
            launch_template: Some(LaunchTemplateSpecification {
                launch_template_id: Some("lt-1".into()),
                launch_template_name: None,
                version: Some("2".into()),
            }),
            launched_at: Timestamp(launched_at),
            activity_id: None,
        }
    }

    #[test]
    fn launches_fill_the_emptiest_zone_first() {
        let mut g = group(&["a", "b", "c"]);
        let zones = |g: &AutoScalingGroupRecord, n| {
            launch_zones(g, n).into_iter().map(|p| p.availability_zone).collect::<Vec<_>>()
        };
        assert_eq!(zones(&g, 4), ["a", "b", "c", "a"]);
        g.instances = vec![instance("i-1", "a", 0.0), instance("i-2", "a", 0.0), instance("i-3", "c", 0.0)];
        assert_eq!(zones(&g, 2), ["b", "b"]);
        assert_eq!(launch_zones(&g, 1)[0].subnet_id.as_deref(), Some("subnet-b"));
        // Leaving instances do not count.
        g.instances[0].lifecycle_state = LifecycleState::Terminating;
        g.instances[1].lifecycle_state = LifecycleState::Terminating;
        assert_eq!(zones(&g, 1), ["a"]);
    }

    #[test]
    fn scale_in_takes_from_the_fullest_zone_and_never_a_protected_instance() {
        let mut g = group(&["a", "b"]);
        g.instances = vec![instance("i-1", "a", 100.0), instance("i-2", "b", 200.0), instance("i-3", "b", 300.0)];
        let now = Timestamp(4000.0);
        // Zone b has two; of those, Default picks the one closest to its next hour:
        // i-2 is up 3800 s (3400 s to go), i-3 3700 s (3500 s to go).
        assert_eq!(to_terminate(&g, 1, now), ["i-2"]);
        assert_eq!(to_terminate(&g, 2, now), ["i-2", "i-1"]);
        g.instances[1].protected_from_scale_in = true;
        assert_eq!(to_terminate(&g, 1, now), ["i-3"]);
        g.instances[2].protected_from_scale_in = true;
        g.instances[0].protected_from_scale_in = true;
        assert!(to_terminate(&g, 1, now).is_empty(), "all protected: nothing");
    }

    #[test]
    fn termination_policies_apply_in_order() {
        let mut g = group(&["a"]);
        g.instances = vec![instance("i-1", "a", 100.0), instance("i-2", "a", 50.0), instance("i-3", "a", 300.0)];
        let now = Timestamp(5000.0);
        g.termination_policies = vec!["OldestInstance".into()];
        assert_eq!(to_terminate(&g, 1, now), ["i-2"]);
        g.termination_policies = vec!["NewestInstance".into()];
        assert_eq!(to_terminate(&g, 1, now), ["i-3"]);
        // An instance from an older launch template goes first under Default.
        g.termination_policies = vec!["Default".into()];
        g.instances[0].launch_template.as_mut().unwrap().version = Some("1".into());
        assert_eq!(to_terminate(&g, 1, now), ["i-1"]);
    }
}
