//! Which target of a group gets a request (pure): healthy targets only, or every
//! target that is not draining when none is healthy (ALB fails open); then round robin
//! or least outstanding requests.

/// A target as the balancer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub healthy: bool,
    pub draining: bool,
    pub in_flight: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    RoundRobin,
    LeastOutstandingRequests,
}

impl Algorithm {
    pub fn from_attribute(value: &str) -> Self {
        if value == "least_outstanding_requests" { Self::LeastOutstandingRequests } else { Self::RoundRobin }
    }
}

/// The index of the chosen target; `turn` is the group's request counter.
pub fn pick(candidates: &[Candidate], algorithm: Algorithm, turn: usize) -> Option<usize> {
    let healthy: Vec<usize> =
        (0..candidates.len()).filter(|i| candidates[*i].healthy && !candidates[*i].draining).collect();
    let pool =
        if healthy.is_empty() { (0..candidates.len()).filter(|i| !candidates[*i].draining).collect() } else { healthy };
    if pool.is_empty() {
        return None;
    }
    let start = turn % pool.len();
    let rotated = pool[start..].iter().chain(&pool[..start]).copied();
    match algorithm {
        Algorithm::RoundRobin => Some(pool[start]),
        Algorithm::LeastOutstandingRequests => rotated.min_by_key(|i| candidates[*i].in_flight),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(healthy: bool, draining: bool, in_flight: usize) -> Candidate {
        Candidate { healthy, draining, in_flight }
    }

    #[test]
    fn round_robin_over_healthy_targets() {
        let cs = [c(true, false, 0), c(false, false, 0), c(true, false, 0)];
        let picks: Vec<_> = (0..4).map(|t| pick(&cs, Algorithm::RoundRobin, t).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
    }

    #[test]
    fn fails_open_but_never_to_draining_targets() {
        let cs = [c(false, false, 0), c(false, true, 0), c(false, false, 0)];
        let picks: Vec<_> = (0..4).map(|t| pick(&cs, Algorithm::RoundRobin, t).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        assert_eq!(pick(&[c(true, true, 0)], Algorithm::RoundRobin, 0), None);
        assert_eq!(pick(&[], Algorithm::RoundRobin, 0), None);
    }

    #[test]
    fn least_outstanding_prefers_the_idle_target() {
        let cs = [c(true, false, 3), c(true, false, 1), c(true, false, 2)];
        assert_eq!(pick(&cs, Algorithm::LeastOutstandingRequests, 0), Some(1));
        let tied = [c(true, false, 0), c(true, false, 0)];
        assert_eq!(pick(&tied, Algorithm::LeastOutstandingRequests, 1), Some(1));
    }
}
