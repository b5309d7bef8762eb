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

/// The index of the chosen target among `n`, each seen through `candidate`; `turn` is
/// the group's request counter. Allocates nothing: it runs on every request.
pub fn pick(n: usize, candidate: impl Fn(usize) -> Candidate, algorithm: Algorithm, turn: usize) -> Option<usize> {
    let any_healthy = (0..n).map(&candidate).any(|c| c.healthy && !c.draining);
    let eligible = |i: &usize| {
        let c = candidate(*i);
        !c.draining && (c.healthy || !any_healthy)
    };
    let size = (0..n).filter(eligible).count();
    if size == 0 {
        return None;
    }
    let start = turn % size;
    let mut rotated = (0..n).filter(eligible).skip(start).chain((0..n).filter(eligible).take(start));
    match algorithm {
        Algorithm::RoundRobin => rotated.next(),
        Algorithm::LeastOutstandingRequests => rotated.min_by_key(|i| candidate(*i).in_flight),
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
        let picks: Vec<_> = (0..4).map(|t| pick(cs.len(), |i| cs[i], Algorithm::RoundRobin, t).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
    }

    #[test]
    fn fails_open_but_never_to_draining_targets() {
        let cs = [c(false, false, 0), c(false, true, 0), c(false, false, 0)];
        let picks: Vec<_> = (0..4).map(|t| pick(cs.len(), |i| cs[i], Algorithm::RoundRobin, t).unwrap()).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        assert_eq!(pick(1, |_| c(true, true, 0), Algorithm::RoundRobin, 0), None);
        assert_eq!(pick(0, |_| unreachable!(), Algorithm::RoundRobin, 0), None);
    }

    #[test]
    fn least_outstanding_prefers_the_idle_target() {
        let cs = [c(true, false, 3), c(true, false, 1), c(true, false, 2)];
        assert_eq!(pick(cs.len(), |i| cs[i], Algorithm::LeastOutstandingRequests, 0), Some(1));
        let tied = [c(true, false, 0), c(true, false, 0)];
        assert_eq!(pick(tied.len(), |i| tied[i], Algorithm::LeastOutstandingRequests, 1), Some(1));
    }
}
