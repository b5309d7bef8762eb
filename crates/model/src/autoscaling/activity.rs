//! Scaling activities in Auto Scaling's words: the causes of a desired-capacity change,
//! and the activities that launch and terminate instances (Description, Cause,
//! StatusCode, Progress, start and end). Pure: the caller gives the time and the id.

use super::{Activity, ScalingActivityStatusCode};
use crate::Timestamp;

/// `2026-12-04T02:00:05Z`: whole seconds, as activity causes write times.
pub fn at(t: Timestamp) -> String {
    let text = crate::timestamp::to_iso8601(t);
    match text.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => text,
    }
}

/// Why the desired capacity changed, the first sentence of the next activities' cause.
pub enum DesiredChange<'a> {
    /// CreateAutoScalingGroup.
    Created,
    /// SetDesiredCapacity (or a berth caller such as ECS managed scaling).
    Set,
    /// UpdateAutoScalingGroup with its new bounds.
    Updated { min: i32, max: i32, desired: i32 },
    /// TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity.
    TerminatedWithDecrement(&'a str),
}

/// "At T a user request created an AutoScalingGroup changing the desired capacity from 0 to 2."
pub fn desired_cause(now: Timestamp, change: DesiredChange, from: i32, to: i32) -> String {
    let what = match change {
        DesiredChange::Created => "a user request created an AutoScalingGroup".to_string(),
        DesiredChange::Set => "a user request explicitly set group desired capacity".to_string(),
        DesiredChange::Updated { min, max, desired } => {
            format!(
                "a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired}"
            )
        }
        DesiredChange::TerminatedWithDecrement(id) => format!(
            "instance {id} was taken out of service in response to a user request, shrinking the capacity from {from} to {to}."
        ),
    };
    if what.ends_with('.') {
        return format!("At {} {what}", at(now));
    }
    format!("At {} {what} changing the desired capacity from {from} to {to}.", at(now))
}

/// Why an instance is launched or terminated: the second part of a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Desired capacity above (launch) or below (terminate) the instances there are.
    Difference { from: usize, to: usize },
    /// TerminateInstanceInAutoScalingGroup without decrementing.
    UserRequest,
    /// EC2 says the instance is terminated or stopped.
    Ec2Gone,
    /// Marked unhealthy (SetInstanceHealth, or a failed status check).
    Unhealthy,
    /// The group is being deleted.
    GroupDeleted,
}

/// What every activity carries: its id, its group, when it starts, and the desired-capacity
/// cause that precedes its own (taken from the group's `desired_cause`).
pub struct Context<'a> {
    pub id: String,
    pub group: &'a str,
    pub group_arn: &'a str,
    pub now: Timestamp,
    pub first: Option<&'a str>,
}

impl Context<'_> {
    fn activity(self, description: String, why: String, status: ScalingActivityStatusCode, progress: i32) -> Activity {
        Activity {
            activity_id: self.id,
            auto_scaling_group_name: self.group.to_string(),
            description: Some(description),
            cause: match self.first {
                Some(f) => format!("{f}  {why}"),
                None => why,
            },
            start_time: self.now,
            end_time: None,
            status_code: status,
            status_message: None,
            progress: Some(progress),
            details: None,
            auto_scaling_group_state: None,
            auto_scaling_group_arn: Some(self.group_arn.to_string()),
        }
    }
}

fn started(now: Timestamp, reason: &Reason) -> String {
    match reason {
        Reason::Difference { from, to } => format!(
            "At {} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {from} to {to}.",
            at(now)
        ),
        _ => format!(
            "At {} an instance was started in response to a difference between desired and actual capacity, increasing the capacity by 1.",
            at(now)
        ),
    }
}

/// The activity that launches `instance_id` into `subnet` / `zone`: InProgress until the
/// instance is in service.
pub fn launch(cx: Context, instance_id: &str, subnet: &str, zone: &str, reason: &Reason) -> Activity {
    let why = started(cx.now, reason);
    let mut a = cx.activity(
        format!("Launching a new EC2 instance: {instance_id}"),
        why,
        ScalingActivityStatusCode::InProgress,
        30,
    );
    a.details = Some(serde_json::json!({"Subnet ID": subnet, "Availability Zone": zone}).to_string());
    a
}

/// A launch that EC2 refused (e.g. InsufficientInstanceCapacity): Failed at once.
pub fn launch_failed(cx: Context, message: &str, reason: &Reason) -> Activity {
    let (now, why) = (cx.now, started(cx.now, reason));
    let mut a = cx.activity(
        format!("Launching a new EC2 instance.  Status Reason: {message}"),
        why,
        ScalingActivityStatusCode::Failed,
        100,
    );
    a.status_message = Some(message.to_string());
    a.end_time = Some(now);
    a
}

/// The activity that terminates `instance_id`: InProgress until EC2 says terminated.
pub fn terminate(cx: Context, instance_id: &str, reason: &Reason) -> Activity {
    let t = at(cx.now);
    let why = match reason {
        Reason::Difference { from, to } => format!(
            "At {t} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {from} to {to}.  At {t} instance {instance_id} was selected for termination."
        ),
        Reason::UserRequest => {
            format!("At {t} instance {instance_id} was taken out of service in response to a user request.")
        }
        Reason::Ec2Gone => format!(
            "At {t} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped."
        ),
        Reason::Unhealthy => format!("At {t} an instance was taken out of service in response to a user health-check."),
        Reason::GroupDeleted => format!(
            "At {t} an instance was taken out of service in response to a user request to delete the AutoScalingGroup."
        ),
    };
    cx.activity(format!("Terminating EC2 instance: {instance_id}"), why, ScalingActivityStatusCode::InProgress, 0)
}

/// An activity that reached its end: Successful, 100 %.
pub fn finish(activity: &mut Activity, now: Timestamp) {
    activity.status_code = ScalingActivityStatusCode::Successful;
    activity.progress = Some(100);
    activity.end_time = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp(1_796_349_600.0); // 2026-12-04T02:00:00Z

    #[test]
    fn causes_read_as_auto_scaling_writes_them() {
        assert_eq!(at(Timestamp(1_796_349_600.25)), "2026-12-04T02:00:00Z");
        let first = desired_cause(T, DesiredChange::Created, 0, 2);
        assert_eq!(
            first,
            "At 2026-12-04T02:00:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 2."
        );
        let cx =
            Context { id: "a".into(), group: "g", group_arn: "arn", now: Timestamp(T.0 + 5.0), first: Some(&first) };
        let a = launch(cx, "i-1", "subnet-1", "us-east-1a", &Reason::Difference { from: 0, to: 2 });
        assert_eq!(a.details.as_deref(), Some(r#"{"Availability Zone":"us-east-1a","Subnet ID":"subnet-1"}"#));
        assert_eq!(a.description.as_deref(), Some("Launching a new EC2 instance: i-1"));
        assert_eq!(
            a.cause,
            "At 2026-12-04T02:00:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 2.  \
             At 2026-12-04T02:00:05Z an instance was started in response to a difference between desired and actual capacity, \
             increasing the capacity from 0 to 2."
        );
        assert_eq!(a.status_code, ScalingActivityStatusCode::InProgress);
        assert_eq!(
            desired_cause(T, DesiredChange::Updated { min: 1, max: 3, desired: 2 }, 1, 2),
            "At 2026-12-04T02:00:00Z a user request update of AutoScalingGroup constraints to min: 1, max: 3, desired: 2 \
             changing the desired capacity from 1 to 2."
        );
    }

    #[test]
    fn terminations_name_the_instance_and_finish() {
        let cx = Context { id: "a".into(), group: "g", group_arn: "arn", now: T, first: None };
        let mut a = terminate(cx, "i-9", &Reason::Difference { from: 3, to: 1 });
        assert_eq!(a.description.as_deref(), Some("Terminating EC2 instance: i-9"));
        assert!(a.cause.ends_with("At 2026-12-04T02:00:00Z instance i-9 was selected for termination."), "{}", a.cause);
        finish(&mut a, T);
        assert_eq!(
            (a.status_code, a.progress, a.end_time),
            (ScalingActivityStatusCode::Successful, Some(100), Some(T))
        );
        let user = desired_cause(T, DesiredChange::TerminatedWithDecrement("i-9"), 2, 1);
        assert_eq!(
            user,
            "At 2026-12-04T02:00:00Z instance i-9 was taken out of service in response to a user request, shrinking the capacity from 2 to 1."
        );
    }
}
