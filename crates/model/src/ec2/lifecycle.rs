//! Which state an instance moves to when asked to stop, start or terminate, and when a
//! terminated one disappears — pure rules, applied by berth-ec2 and the fleet controller.

use super::InstanceState as S;

/// How long a terminated instance stays describable, as in EC2 (about an hour).
pub const TERMINATED_VISIBLE_MS: i64 = 60 * 60 * 1000;

/// An instance that cannot do what was asked from the state it is in
/// (`IncorrectInstanceState`); the message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncorrectState(pub String);

/// TerminateInstances: everything not yet gone starts shutting down.
pub fn terminate(current: S) -> S {
    match current {
        S::Terminated => S::Terminated,
        _ => S::ShuttingDown,
    }
}

/// StopInstances: a running instance stops; one stopping or stopped stays so.
pub fn stop(id: &str, current: S) -> Result<S, IncorrectState> {
    match current {
        S::Running => Ok(S::Stopping),
        S::Stopping | S::Stopped => Ok(current),
        S::Pending | S::ShuttingDown | S::Terminated => {
            Err(IncorrectState(format!("This instance '{id}' is not in a state from which it can be stopped.")))
        }
    }
}

/// StartInstances: a stopped instance goes pending; one pending or running stays so.
pub fn start(id: &str, current: S) -> Result<S, IncorrectState> {
    match current {
        S::Stopped => Ok(S::Pending),
        S::Pending | S::Running => Ok(current),
        S::Stopping | S::ShuttingDown | S::Terminated => {
            Err(IncorrectState(format!("The instance '{id}' is not in a state from which it can be started.")))
        }
    }
}

/// Whether a record in `state` since `changed_at` (ms) should be removed at `now` (ms).
pub fn expired(state: S, changed_at: i64, now: i64) -> bool {
    state == S::Terminated && now.saturating_sub(changed_at) >= TERMINATED_VISIBLE_MS
}

/// Whether the instance holds its private address (everything short of terminated).
pub fn holds_address(state: S) -> bool {
    state != S::Terminated
}

/// `User initiated (2026-12-04 01:30:00 GMT)`: the StateTransitionReason EC2 writes
/// when a caller stops or terminates an instance, at `now_ms`.
pub fn user_initiated(now_ms: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    format!("User initiated ({} GMT)", at.format(&fmt).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminate_goes_through_shutting_down() {
        for s in [S::Pending, S::Running, S::Stopping, S::Stopped, S::ShuttingDown] {
            assert_eq!(terminate(s), S::ShuttingDown);
        }
        assert_eq!(terminate(S::Terminated), S::Terminated);
    }

    #[test]
    fn stop_and_start_refuse_what_ec2_refuses() {
        assert_eq!(stop("i-1", S::Running), Ok(S::Stopping));
        assert_eq!(stop("i-1", S::Stopped), Ok(S::Stopped));
        assert!(stop("i-1", S::Terminated).unwrap_err().0.contains("i-1"));
        assert_eq!(start("i-1", S::Stopped), Ok(S::Pending));
        assert_eq!(start("i-1", S::Running), Ok(S::Running));
        assert!(start("i-1", S::Stopping).is_err());
    }

    #[test]
    fn terminated_instances_expire_after_an_hour() {
        assert!(!expired(S::Terminated, 0, TERMINATED_VISIBLE_MS - 1));
        assert!(expired(S::Terminated, 0, TERMINATED_VISIBLE_MS));
        assert!(!expired(S::Stopped, 0, 10 * TERMINATED_VISIBLE_MS));
    }

    #[test]
    fn codes_and_names_are_ec2s() {
        assert_eq!((S::Running.code(), S::Running.name()), (16, "running"));
        assert_eq!(S::from_name("shutting-down"), Some(S::ShuttingDown));
        assert_eq!(S::from_code(80 | 0x100), Some(S::Stopped));
        assert_eq!(user_initiated(1_796_347_800_000), "User initiated (2026-12-04 01:30:00 GMT)");
    }
}
