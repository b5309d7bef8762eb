//! Health state transitions (pure): consecutive check results against the target
//! group's thresholds decide when a target becomes healthy or unhealthy, with ALB's
//! reason codes.

use berth_model::elbv2::{TargetHealth, TargetHealthReasonEnum as Reason, TargetHealthStateEnum as State};

/// What one health check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Answered with a code the matcher does not accept.
    CodeMismatch(u16),
    Timeout,
    /// Refused, reset, or not HTTP.
    Failed,
}

/// Consecutive results so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streak {
    pub passed: u32,
    pub failed: u32,
}

pub fn healthy() -> TargetHealth {
    TargetHealth { state: Some(State::Healthy), reason: None, description: None }
}

fn unhealthy(outcome: &Outcome) -> TargetHealth {
    let (reason, description) = match outcome {
        Outcome::CodeMismatch(code) => {
            (Reason::TargetResponseCodeMismatch, format!("Health checks failed with these codes: [{code}]"))
        }
        Outcome::Timeout => (Reason::TargetTimeout, "Request timed out".to_string()),
        Outcome::Passed | Outcome::Failed => (Reason::TargetFailedHealthChecks, "Health checks failed".to_string()),
    };
    TargetHealth { state: Some(State::Unhealthy), reason: Some(reason), description: Some(description) }
}

/// The streak after `outcome`, and the new health when the target's state changes.
pub fn observe(
    state: &str,
    streak: Streak,
    outcome: &Outcome,
    healthy_threshold: u32,
    unhealthy_threshold: u32,
) -> (Streak, Option<TargetHealth>) {
    if *outcome == Outcome::Passed {
        let streak = Streak { passed: streak.passed + 1, failed: 0 };
        let change = (state != "healthy" && streak.passed >= healthy_threshold).then(healthy);
        (streak, change)
    } else {
        let streak = Streak { passed: 0, failed: streak.failed + 1 };
        let change = (state != "unhealthy" && streak.failed >= unhealthy_threshold).then(|| unhealthy(outcome));
        (streak, change)
    }
}

/// Whether a status code passes a matcher's ranges (from `parse_matcher`).
pub fn code_passes(code: u16, ranges: &[(u16, u16)]) -> bool {
    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &str, outcomes: &[Outcome]) -> Vec<Option<String>> {
        let mut streak = Streak::default();
        let mut state = state.to_string();
        outcomes
            .iter()
            .map(|o| {
                let (next, change) = observe(&state, streak, o, 3, 2);
                streak = next;
                change.map(|h| {
                    state = h.state.map_or("", |s| s.as_str()).to_string();
                    format!("{} {}", state, h.reason.map_or("", |r| r.as_str()))
                })
            })
            .collect()
    }

    #[test]
    fn thresholds_decide_transitions() {
        use Outcome::*;
        assert_eq!(run("initial", &[Passed, Passed, Passed]), vec![None, None, Some("healthy ".into())]);
        assert_eq!(
            run("healthy", &[CodeMismatch(500), Passed, CodeMismatch(500), CodeMismatch(500)]),
            vec![None, None, None, Some("unhealthy Target.ResponseCodeMismatch".into())]
        );
        assert_eq!(run("initial", &[Timeout, Timeout]), vec![None, Some("unhealthy Target.Timeout".into())]);
        assert_eq!(
            run("unhealthy", &[Failed, Passed, Passed, Passed, Passed]),
            vec![None, None, None, Some("healthy ".into()), None]
        );
    }

    #[test]
    fn matchers() {
        assert!(code_passes(200, &[(200, 200)]));
        assert!(code_passes(204, &[(200, 200), (202, 299)]));
        assert!(!code_passes(500, &[(200, 499)]));
    }
}
