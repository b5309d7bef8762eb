//! How long a metric-time minute lasts in real time: a test facility.
//!
//! `berth server --metric-minute-seconds N` (`BERTH_METRIC_MINUTE_SECONDS`; default 60,
//! as AWS) makes one minute of metric time last N real seconds, so that tests watch an
//! alarm with Period 60 and 3 evaluation periods fire in 3·N seconds. It scales metric
//! time only: alarm evaluation (its interval and the periods it aggregates) and the
//! publishing and bucketing of berth's own metrics (agents, load balancers). Nothing else
//! changes with it: cooldowns, scheduled actions, timeouts and what GetMetricStatistics
//! returns for a Period asked by a client stay in real seconds.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricClock {
    /// Real seconds per metric-time minute (1..=60).
    pub minute_seconds: u32,
}

impl Default for MetricClock {
    fn default() -> Self {
        MetricClock::AWS
    }
}

impl MetricClock {
    pub const AWS: MetricClock = MetricClock { minute_seconds: 60 };

    /// A clock whose minute lasts `minute_seconds` real seconds; None outside 1..=60.
    pub fn new(minute_seconds: u32) -> Option<MetricClock> {
        (1..=60).contains(&minute_seconds).then_some(MetricClock { minute_seconds })
    }

    /// One metric-time minute in real time: how often alarms are evaluated and berth's
    /// publishers flush.
    pub fn minute(&self) -> Duration {
        Duration::from_secs(u64::from(self.minute_seconds))
    }

    /// `seconds` of metric time (a Period, EvaluationPeriods × Period) in real time.
    pub fn real(&self, seconds: i64) -> Duration {
        let ms = seconds.max(0).saturating_mul(i64::from(self.minute_seconds)).saturating_mul(1000) / 60;
        Duration::from_millis(ms.max(1) as u64)
    }

    /// `seconds` of metric time in real milliseconds.
    pub fn real_ms(&self, seconds: i64) -> i64 {
        self.real(seconds).as_millis() as i64
    }

    pub fn is_aws(&self) -> bool {
        *self == MetricClock::AWS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_metric_time_into_real_time() {
        assert_eq!(MetricClock::AWS.real(300), Duration::from_secs(300));
        let fast = MetricClock::new(2).unwrap();
        assert_eq!(fast.minute(), Duration::from_secs(2));
        assert_eq!(fast.real(60), Duration::from_secs(2));
        assert_eq!(fast.real(10), Duration::from_millis(333));
        assert_eq!(fast.real_ms(180), 6_000);
        assert!(MetricClock::new(0).is_none() && MetricClock::new(61).is_none());
    }
}
