//! The group controller's decisions, pure: given a group and what EC2 says of its
//! instances, `step` moves the group's instances through their lifecycle (Pending →
//! InService when EC2 runs them; Terminating → gone when EC2 has terminated them), marks
//! instances to leave (EC2 lost them, unhealthy, scale-in, group deletion) with their
//! activities, and says what to ask EC2 for: launches (with their zones and client
//! tokens), terminations, or that the group can now be removed. `adopt` and
//! `launch_failed` record a launch's outcome. Suspended processes are honoured: Launch,
//! Terminate, ReplaceUnhealthy (AZRebalance is honoured trivially: berth does not
//! rebalance zones on its own).

use crate::choose::{self, Placement};
use berth_model::Timestamp;
use berth_model::autoscaling::activity::{self, Context, Reason};
use berth_model::autoscaling::records::UNHEALTHY;
use berth_model::autoscaling::{AutoScalingGroupRecord, GroupInstance, LifecycleState};
use std::collections::BTreeMap;

/// How long the group waits after a failed launch before it tries again.
pub const LAUNCH_BACKOFF_SECS: f64 = 10.0;

/// An EC2 instance's state, as the controller reads it from EC2's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2State {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

/// What EC2 says of one instance: its state and, when it ended, why (its StateReason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2View {
    pub state: Ec2State,
    pub reason: Option<String>,
}

/// One instance to launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub placement: Placement,
    /// `{group uuid}-{sequence}`: the same launch asked again is the same launch.
    pub client_token: String,
    pub sequence: u64,
    pub reason: Reason,
}

/// What to ask EC2 for after the group's new state is committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub launches: Vec<Launch>,
    /// Instances the group is terminating that EC2 has not been asked to end yet.
    pub terminate: Vec<String>,
    /// The group is being deleted and has no instances left: remove it.
    pub delete: bool,
}

/// One step for `group` (changed in place). `ec2` maps instance ids to what EC2 says of
/// them (absent: EC2 no longer knows the instance); `ids` makes activity ids.
pub fn step(
    group: &mut AutoScalingGroupRecord,
    ec2: &BTreeMap<String, Ec2View>,
    now: Timestamp,
    ids: &mut dyn FnMut() -> String,
) -> Plan {
    let mut plan = Plan::default();
    follow_ec2(group, ec2, now, ids);
    if group.is_deleting() {
        let leaving: Vec<String> =
            group.instances.iter().filter(|i| i.in_capacity()).map(|i| i.instance_id.clone()).collect();
        for id in leaving {
            take_out(group, &id, now, ids(), &Reason::GroupDeleted, None);
        }
        plan.delete = group.instances.is_empty();
    } else {
        resize(group, now, ids, &mut plan);
    }
    plan.terminate = group
        .instances
        .iter()
        .filter(|i| i.is_terminating())
        .filter(|i| {
            !matches!(
                ec2.get(&i.instance_id).map(|v| v.state),
                Some(Ec2State::ShuttingDown | Ec2State::Terminated) | None
            )
        })
        .map(|i| i.instance_id.clone())
        .collect();
    plan
}

/// Instances follow what EC2 says: Pending → InService once running; one EC2 lost
/// (stopped, terminated, gone) or marked unhealthy is taken out to be replaced; a
/// terminating one EC2 has terminated leaves the group.
fn follow_ec2(
    group: &mut AutoScalingGroupRecord,
    ec2: &BTreeMap<String, Ec2View>,
    now: Timestamp,
    ids: &mut dyn FnMut() -> String,
) {
    let replace = !group.is_suspended("ReplaceUnhealthy");
    let mut gone = Vec::new();
    for i in 0..group.instances.len() {
        let inst = &group.instances[i];
        let id = inst.instance_id.clone();
        let view = ec2.get(&id);
        let lost = view.is_none_or(|v| !matches!(v.state, Ec2State::Pending | Ec2State::Running));
        if inst.is_terminating() {
            if view.is_none_or(|v| v.state == Ec2State::Terminated) {
                gone.push(id);
            }
            continue;
        }
        if !inst.in_capacity() {
            continue;
        }
        if lost {
            let never_served = inst.lifecycle_state != LifecycleState::InService;
            group.instances[i].health_status = UNHEALTHY.to_string();
            if never_served {
                // A launch that did not come up (no capacity, say): its activity failed.
                let message = view
                    .and_then(|v| v.reason.clone())
                    .unwrap_or_else(|| "Instance was terminated before it entered service.".into());
                fail_activity(group, i, now, &message);
                group.launch_retry_after = Some(Timestamp(now.as_secs_f64() + LAUNCH_BACKOFF_SECS));
            }
            if replace {
                take_out(group, &id, now, ids(), &Reason::Ec2Gone, None);
            }
            continue;
        }
        if !group.instances[i].is_healthy() {
            if replace {
                take_out(group, &id, now, ids(), &Reason::Unhealthy, None);
            }
            continue;
        }
        if inst.lifecycle_state == LifecycleState::Pending && view.is_some_and(|v| v.state == Ec2State::Running) {
            group.instances[i].lifecycle_state = LifecycleState::InService;
            finish_activity(group, i, now);
        }
    }
    for id in gone {
        if let Some(pos) = group.instances.iter().position(|i| i.instance_id == id) {
            finish_activity(group, pos, now);
            group.instances.remove(pos);
        }
    }
}

/// Launches or terminations toward the desired capacity.
fn resize(group: &mut AutoScalingGroupRecord, now: Timestamp, ids: &mut dyn FnMut() -> String, plan: &mut Plan) {
    let capacity = group.capacity();
    let desired = usize::try_from(group.desired_capacity).unwrap_or(0);
    if capacity < desired {
        let backing_off = group.launch_retry_after.is_some_and(|t| t.as_secs_f64() > now.as_secs_f64());
        if group.is_suspended("Launch") || backing_off {
            return;
        }
        let reason = Reason::Difference { from: capacity, to: desired };
        for (n, placement) in choose::launch_zones(group, desired - capacity).into_iter().enumerate() {
            let sequence = group.launches + n as u64;
            plan.launches.push(Launch {
                placement,
                client_token: format!("{}-{sequence}", group.uuid()),
                sequence,
                reason: reason.clone(),
            });
        }
    } else if capacity > desired {
        if group.is_suspended("Terminate") {
            return;
        }
        let reason = Reason::Difference { from: capacity, to: desired };
        let first = group.desired_cause.clone();
        for id in choose::to_terminate(group, capacity - desired, now) {
            take_out(group, &id, now, ids(), &reason, first.as_deref());
        }
    } else if group.instances.iter().all(|i| i.in_capacity() && i.lifecycle_state == LifecycleState::InService) {
        // At the desired capacity and settled: later activities have causes of their own.
        group.desired_cause = None;
    }
}

/// Marks `id` Terminating with its activity (the caller then asks EC2 to terminate it).
pub fn take_out(
    group: &mut AutoScalingGroupRecord,
    id: &str,
    now: Timestamp,
    activity_id: String,
    reason: &Reason,
    first: Option<&str>,
) {
    let (name, arn) = (group.name.clone(), group.arn.clone());
    let cx = Context { id: activity_id.clone(), group: &name, group_arn: &arn, now, first };
    group.record_activity(activity::terminate(cx, id, reason));
    if let Some(inst) = group.instance_mut(id) {
        inst.lifecycle_state = LifecycleState::Terminating;
        inst.activity_id = Some(activity_id);
    }
}

fn finish_activity(group: &mut AutoScalingGroupRecord, i: usize, now: Timestamp) {
    if let Some(id) = group.instances[i].activity_id.take()
        && let Some(a) = group.activity_mut(&id)
    {
        activity::finish(a, now);
        group.last_scaled = Some(now);
    }
}

fn fail_activity(group: &mut AutoScalingGroupRecord, i: usize, now: Timestamp, message: &str) {
    if let Some(id) = group.instances[i].activity_id.take()
        && let Some(a) = group.activity_mut(&id)
    {
        a.status_code = berth_model::autoscaling::ScalingActivityStatusCode::Failed;
        a.status_message = Some(message.to_string());
        a.description = Some(format!("{}.  Status Reason: {message}", a.description.clone().unwrap_or_default()));
        a.progress = Some(100);
        a.end_time = Some(now);
    }
}

/// What EC2 answered a launch with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub instance_id: String,
    pub instance_type: Option<String>,
}

/// Records a launch EC2 made: the instance joins the group Pending, with its activity.
/// Adopting the same instance again changes nothing (false).
pub fn adopt(
    group: &mut AutoScalingGroupRecord,
    launch: &Launch,
    launched: &Launched,
    now: Timestamp,
    activity_id: String,
) -> bool {
    group.launches = group.launches.max(launch.sequence + 1);
    if group.instance(&launched.instance_id).is_some() {
        return false;
    }
    let (name, arn, first) = (group.name.clone(), group.arn.clone(), group.desired_cause.clone());
    let cx = Context { id: activity_id.clone(), group: &name, group_arn: &arn, now, first: first.as_deref() };
    let zone = &launch.placement.availability_zone;
    let subnet = launch.placement.subnet_id.as_deref().unwrap_or_default();
    group.record_activity(activity::launch(cx, &launched.instance_id, subnet, zone, &launch.reason));
    group.instances.push(GroupInstance {
        instance_id: launched.instance_id.clone(),
        instance_type: launched.instance_type.clone(),
        availability_zone: zone.clone(),
        subnet_id: launch.placement.subnet_id.clone(),
        lifecycle_state: LifecycleState::Pending,
        health_status: berth_model::autoscaling::records::HEALTHY.to_string(),
        protected_from_scale_in: group.new_instances_protected_from_scale_in,
        launch_template: group.launch_template.clone(),
        launched_at: now,
        activity_id: Some(activity_id),
    });
    true
}

/// Records a launch EC2 refused (`message`, e.g. its InsufficientInstanceCapacity text):
/// a Failed activity, and no launch again for `LAUNCH_BACKOFF_SECS`.
pub fn launch_failed(
    group: &mut AutoScalingGroupRecord,
    launch: &Launch,
    message: &str,
    now: Timestamp,
    activity_id: String,
) {
    group.launches = group.launches.max(launch.sequence + 1);
    let (name, arn, first) = (group.name.clone(), group.arn.clone(), group.desired_cause.clone());
    let cx = Context { id: activity_id, group: &name, group_arn: &arn, now, first: first.as_deref() };
    group.record_activity(activity::launch_failed(cx, message, &launch.reason));
    group.launch_retry_after = Some(Timestamp(now.as_secs_f64() + LAUNCH_BACKOFF_SECS));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choose::tests::{group, instance};
    use berth_model::autoscaling::ScalingActivityStatusCode;
    use berth_model::autoscaling::SuspendedProcess;

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("act-{n}")
        }
    }

    fn view(state: Ec2State) -> Ec2View {
        Ec2View { state, reason: None }
    }

    fn launched(id: &str) -> Launched {
        Launched { instance_id: id.into(), instance_type: Some("t3.micro".into()) }
    }

    #[test]
    fn a_new_group_launches_balanced_and_instances_enter_service_when_running() {
        let mut g = group(&["a", "b"]);
        g.desired_capacity = 2;
        g.desired_cause =
            Some("At T a user request created an AutoScalingGroup changing the desired capacity from 0 to 2.".into());
        let mut ids = counter();
        let now = Timestamp(2000.0);
        let plan = step(&mut g, &BTreeMap::new(), now, &mut ids);
        let zones: Vec<&str> = plan.launches.iter().map(|l| l.placement.availability_zone.as_str()).collect();
        assert_eq!(zones, ["a", "b"]);
        assert_eq!(plan.launches[1].client_token, "u-1-1");
        for (l, id) in plan.launches.iter().zip(["i-1", "i-2"]) {
            assert!(adopt(&mut g, l, &launched(id), now, ids()));
        }
        assert!(!adopt(&mut g, &plan.launches[0], &launched("i-1"), now, ids()), "adopting twice changes nothing");
        assert_eq!(g.launches, 2);
        assert_eq!(g.activities.len(), 2);
        assert!(g.activities[0].cause.starts_with("At T a user request created"));
        // Pending instances count: nothing more to launch.
        let pending: BTreeMap<String, Ec2View> =
            [("i-1".to_string(), view(Ec2State::Pending)), ("i-2".to_string(), view(Ec2State::Pending))].into();
        assert_eq!(step(&mut g, &pending, now, &mut ids), Plan::default());
        let running: BTreeMap<String, Ec2View> =
            [("i-1".to_string(), view(Ec2State::Running)), ("i-2".to_string(), view(Ec2State::Pending))].into();
        step(&mut g, &running, now, &mut ids);
        assert_eq!(g.instances[0].lifecycle_state, LifecycleState::InService);
        assert_eq!(g.instances[1].lifecycle_state, LifecycleState::Pending);
        let done = g
            .activities
            .iter()
            .find(|a| a.description.as_deref() == Some("Launching a new EC2 instance: i-1"))
            .unwrap();
        assert_eq!(done.status_code, ScalingActivityStatusCode::Successful);
    }

    #[test]
    fn scale_in_marks_terminating_then_ec2_ends_them() {
        let mut g = group(&["a", "b"]);
        g.instances = vec![instance("i-1", "a", 0.0), instance("i-2", "b", 10.0), instance("i-3", "b", 20.0)];
        g.instances[2].protected_from_scale_in = true;
        g.desired_capacity = 1;
        let mut ids = counter();
        let all_running: BTreeMap<String, Ec2View> =
            ["i-1", "i-2", "i-3"].iter().map(|i| (i.to_string(), view(Ec2State::Running))).collect();
        let plan = step(&mut g, &all_running, Timestamp(100.0), &mut ids);
        // Two go: b is fuller but i-3 is protected, so i-2 from b, then i-1 from a.
        assert_eq!(plan.terminate, ["i-1", "i-2"]);
        assert!(plan.launches.is_empty());
        assert_eq!(g.capacity(), 1);
        // Asked already (shutting-down): not asked again; terminated: gone from the group.
        let mut later = all_running.clone();
        later.insert("i-1".into(), view(Ec2State::ShuttingDown));
        later.insert("i-2".into(), view(Ec2State::Terminated));
        let plan = step(&mut g, &later, Timestamp(200.0), &mut ids);
        assert!(plan.terminate.is_empty() && plan.launches.is_empty());
        assert_eq!(g.instances.iter().map(|i| i.instance_id.as_str()).collect::<Vec<_>>(), ["i-1", "i-3"]);
        assert_eq!(g.last_scaled, Some(Timestamp(200.0)));
    }

    #[test]
    fn an_instance_ec2_lost_is_replaced_unless_replace_unhealthy_is_suspended() {
        let mut g = group(&["a", "b"]);
        g.instances = vec![instance("i-1", "a", 0.0), instance("i-2", "b", 0.0)];
        g.desired_capacity = 2;
        let mut ids = counter();
        let ec2: BTreeMap<String, Ec2View> =
            [("i-1".to_string(), view(Ec2State::Running)), ("i-2".to_string(), view(Ec2State::Terminated))].into();
        let mut suspended = g.clone();
        suspended.suspended_processes =
            vec![SuspendedProcess { process_name: Some("ReplaceUnhealthy".into()), suspension_reason: None }];
        let plan = step(&mut suspended, &ec2, Timestamp(50.0), &mut ids);
        assert!(plan.launches.is_empty());
        assert_eq!(suspended.instances[1].health_status, UNHEALTHY);
        let plan = step(&mut g, &ec2, Timestamp(50.0), &mut ids);
        assert_eq!(plan.launches.len(), 1);
        assert_eq!(plan.launches[0].placement.availability_zone, "b");
        assert!(g.activities[0].cause.contains("EC2 health check indicating it has been terminated or stopped"));
    }

    #[test]
    fn suspended_launch_and_terminate_hold_the_group() {
        let mut g = group(&["a"]);
        g.desired_capacity = 1;
        g.suspended_processes = vec![SuspendedProcess { process_name: Some("Launch".into()), suspension_reason: None }];
        assert!(step(&mut g, &BTreeMap::new(), Timestamp(0.0), &mut counter()).launches.is_empty());
        g.suspended_processes[0].process_name = Some("Terminate".into());
        g.instances = vec![instance("i-1", "a", 0.0), instance("i-2", "a", 0.0)];
        let ec2: BTreeMap<String, Ec2View> =
            ["i-1", "i-2"].iter().map(|i| (i.to_string(), view(Ec2State::Running))).collect();
        assert!(step(&mut g, &ec2, Timestamp(0.0), &mut counter()).terminate.is_empty());
    }

    #[test]
    fn failed_launches_back_off() {
        let mut g = group(&["a"]);
        g.desired_capacity = 1;
        let mut ids = counter();
        let plan = step(&mut g, &BTreeMap::new(), Timestamp(0.0), &mut ids);
        launch_failed(&mut g, &plan.launches[0], "Insufficient capacity.", Timestamp(0.0), ids());
        assert_eq!(g.activities[0].status_code, ScalingActivityStatusCode::Failed);
        assert!(step(&mut g, &BTreeMap::new(), Timestamp(5.0), &mut ids).launches.is_empty());
        let again = step(&mut g, &BTreeMap::new(), Timestamp(11.0), &mut ids);
        assert_eq!(again.launches[0].sequence, 1, "a new client token");
    }

    #[test]
    fn deletion_terminates_everything_then_removes_the_group() {
        let mut g = group(&["a"]);
        g.instances = vec![instance("i-1", "a", 0.0)];
        g.instances[0].protected_from_scale_in = true;
        g.status = Some(berth_model::autoscaling::records::DELETE_IN_PROGRESS.into());
        let mut ids = counter();
        let ec2: BTreeMap<String, Ec2View> = [("i-1".to_string(), view(Ec2State::Running))].into();
        let plan = step(&mut g, &ec2, Timestamp(0.0), &mut ids);
        assert_eq!((plan.terminate.as_slice(), plan.delete), (&["i-1".to_string()][..], false));
        let ec2: BTreeMap<String, Ec2View> = [("i-1".to_string(), view(Ec2State::Terminated))].into();
        assert!(step(&mut g, &ec2, Timestamp(1.0), &mut ids).delete);
    }
}
