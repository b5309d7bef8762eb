//! The agents' heartbeats (agentConnected).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The agents' heartbeats: every PollTasks is one. Kept in memory only: after a server
/// restart every agent shows disconnected until its next poll (at most
/// `agent_protocol::MAX_POLL_WAIT_SECONDS` later).
#[derive(Debug, Default)]
pub struct Heartbeats {
    last: Mutex<HashMap<String, Instant>>,
}

impl Heartbeats {
    /// An agent that polled within this long is `agentConnected`.
    pub const CONNECTED_WITHIN: Duration = Duration::from_secs(60);

    /// Records a poll by the agent of `instance_arn`.
    pub fn beat(&self, instance_arn: &str) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.insert(instance_arn.to_string(), Instant::now());
    }

    /// Whether the agent of `instance_arn` polled within `CONNECTED_WITHIN`.
    pub fn connected(&self, instance_arn: &str) -> bool {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.get(instance_arn).is_some_and(|t| t.elapsed() < Self::CONNECTED_WITHIN)
    }

    /// Every instance heard from, and how long ago its agent last polled.
    pub fn snapshot(&self) -> Vec<(String, Duration)> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.iter().map(|(arn, t)| (arn.clone(), t.elapsed())).collect()
    }

    /// Records a poll `age` ago (one another server saw), unless a later one is known.
    pub fn beat_ago(&self, instance_arn: &str, age: Duration) {
        let Some(at) = Instant::now().checked_sub(age) else { return };
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = last.entry(instance_arn.to_string()).or_insert(at);
        *seen = (*seen).max(at);
    }

    /// Forgets an instance (deregistered).
    pub fn forget(&self, instance_arn: &str) {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).remove(instance_arn);
    }
}
