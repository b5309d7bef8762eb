//! The load balancers' CloudWatch metrics (`AWS/ApplicationELB`).
//!
//! On the hot path only relaxed atomics move: each target group's `Counters` (requests
//! forwarded to it, its targets' status classes, target response time as sum, count, min
//! and max) and each load balancer's (the answers it made itself: `HTTPCode_ELB_*`). The
//! handles hang off the snapshot (`GroupView.counters`, `ListenerView.counters`), as the
//! round robin's turn does, so a request looks nothing up. Every metric minute the
//! publisher takes (swaps to zero) every counter and turns them into datapoints (`points`,
//! pure), with the dimensions AWS publishes: {LoadBalancer} (the sums of its target
//! groups, plus its own answers), {TargetGroup, LoadBalancer}, and RequestCountPerTarget
//! also per {TargetGroup}. A load balancer's dimension value is `app/NAME/ID`, a target
//! group's `targetgroup/NAME/ID`: their ARNs after `loadbalancer/` and the account's `:`.

use crate::proxy::Shared;
use crate::snapshot::Snapshot;
use berth_model::ecs_metrics::{self, Point, Stats};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Where the minute's datapoints go (the metric store, from `berth server`).
pub type Publish = Arc<dyn Fn(Vec<Point>) + Send + Sync>;

pub const NAMESPACE: &str = "AWS/ApplicationELB";

/// One load balancer's or target group's counters since the last take.
#[derive(Debug)]
pub struct Counters {
    requests: AtomicU64,
    /// 2XX, 3XX, 4XX, 5XX.
    codes: [AtomicU64; 4],
    response_us_sum: AtomicU64,
    response_count: AtomicU64,
    response_us_min: AtomicU64,
    response_us_max: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            codes: Default::default(),
            response_us_sum: AtomicU64::new(0),
            response_count: AtomicU64::new(0),
            response_us_min: AtomicU64::new(u64::MAX),
            response_us_max: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// A request forwarded to a target of this group.
    pub fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// A response with `status`, from a target after `elapsed` (time to its response head)
    /// or, without `elapsed`, made by the load balancer itself.
    pub fn answered(&self, status: u16, elapsed: Option<Duration>) {
        if let Some(class) = class(status) {
            self.codes[class].fetch_add(1, Relaxed);
        }
        if let Some(elapsed) = elapsed {
            let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            self.response_us_sum.fetch_add(us, Relaxed);
            self.response_count.fetch_add(1, Relaxed);
            self.response_us_min.fetch_min(us, Relaxed);
            self.response_us_max.fetch_max(us, Relaxed);
        }
    }

    /// What was counted since the last take, resetting every counter.
    pub fn take(&self) -> Counts {
        let count = self.response_count.swap(0, Relaxed);
        let (sum, min, max) = (
            self.response_us_sum.swap(0, Relaxed),
            self.response_us_min.swap(u64::MAX, Relaxed),
            self.response_us_max.swap(0, Relaxed),
        );
        let seconds = |us: u64| us as f64 / 1e6;
        Counts {
            requests: self.requests.swap(0, Relaxed),
            codes: std::array::from_fn(|i| self.codes[i].swap(0, Relaxed)),
            response_time: (count > 0).then(|| Stats {
                sum: seconds(sum),
                min: seconds(min),
                max: seconds(max),
                count: count as f64,
            }),
        }
    }
}

/// 2XX → 0 … 5XX → 3; other statuses are not counted.
fn class(status: u16) -> Option<usize> {
    matches!(status, 200..=599).then(|| usize::from(status / 100 - 2))
}

/// Counted values over one minute.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub requests: u64,
    pub codes: [u64; 4],
    /// Seconds.
    pub response_time: Option<Stats>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        for (a, b) in self.codes.iter_mut().zip(other.codes) {
            *a += b;
        }
        self.response_time = match (self.response_time, other.response_time) {
            (Some(a), Some(b)) => Some(Stats {
                sum: a.sum + b.sum,
                min: a.min.min(b.min),
                max: a.max.max(b.max),
                count: a.count + b.count,
            }),
            (a, b) => a.or(b),
        };
    }
}

/// The dimension value of a load balancer or target group ARN: `app/NAME/ID`,
/// `targetgroup/NAME/ID`.
pub fn dimension_value(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource.strip_prefix("loadbalancer/").unwrap_or(resource)
}

/// The status of a response the proxy wrote itself (`HTTP/1.1 503 ...`); 0 if unreadable.
pub fn status_of(response: &[u8]) -> u16 {
    response.get(9..12).and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Every group's and balancer's counters, by ARN (`Shared::metric_counters`).
pub struct Registered {
    pub groups: Vec<(String, Arc<Counters>)>,
    pub balancers: Vec<(String, Arc<Counters>)>,
}

/// Takes every counter, with each group's load balancer and its targets' health as the
/// snapshot has them. A group no listener routes to is left out (it counts nothing).
pub fn take(registered: &Registered, snapshot: &Snapshot) -> (Vec<BalancerMinute>, Vec<GroupMinute>) {
    let balancers = registered.balancers.iter().map(|(arn, c)| BalancerMinute { arn: arn.clone(), own: c.take() });
    let groups = registered.groups.iter().filter_map(|(arn, c)| {
        let counts = c.take();
        let group = snapshot.groups.get(arn)?;
        let load_balancer = group.load_balancer.clone()?;
        let state = |s: &str| group.targets.iter().filter(|t| t.state == s).count() as u32;
        Some(GroupMinute {
            arn: arn.clone(),
            load_balancer,
            counts,
            targets: group.targets.len() as u32,
            healthy: state("healthy"),
            unhealthy: state("unhealthy"),
        })
    });
    (balancers.collect(), groups.collect())
}

/// Every metric minute, the minute that just ended goes to `publish`, stamped with its
/// start (minutes are `minute` long, counted from the epoch).
pub async fn run(shared: Arc<Shared>, minute: Duration, publish: Publish) {
    let minute_ms = i64::try_from(minute.as_millis()).unwrap_or(60_000).max(1);
    loop {
        let (next, wait) = ecs_metrics::next_minute(ecs_metrics::now_ms(), minute_ms);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (balancers, groups) = take(&shared.metric_counters(), &shared.snapshot());
        let points = points(next - minute_ms, &balancers, &groups);
        if !points.is_empty() {
            publish(points);
        }
    }
}

/// One target group's minute: its counts and its targets' health now.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMinute {
    pub arn: String,
    pub load_balancer: String,
    pub counts: Counts,
    pub targets: u32,
    pub healthy: u32,
    pub unhealthy: u32,
}

/// One load balancer's own answers over the minute.
#[derive(Debug, Clone, PartialEq)]
pub struct BalancerMinute {
    pub arn: String,
    pub own: Counts,
}

const TARGET_CODES: [&str; 4] = [
    "HTTPCode_Target_2XX_Count",
    "HTTPCode_Target_3XX_Count",
    "HTTPCode_Target_4XX_Count",
    "HTTPCode_Target_5XX_Count",
];
const ELB_CODES: [&str; 4] =
    ["HTTPCode_ELB_2XX_Count", "HTTPCode_ELB_3XX_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count"];

/// Datapoints of one minute under one set of dimensions.
struct Out<'a> {
    points: &'a mut Vec<Point>,
    minute_ms: i64,
    dimensions: Vec<(String, String)>,
}

impl Out<'_> {
    fn push(&mut self, metric: &'static str, stats: Stats, unit: &'static str) {
        let p = Point {
            namespace: NAMESPACE,
            metric,
            dimensions: self.dimensions.clone(),
            timestamp_ms: self.minute_ms,
            stats,
            unit,
        };
        self.points.push(p);
    }

    /// Counts are published when non-zero, as AWS does.
    fn counts(&mut self, counts: &Counts, from_targets: bool) {
        if from_targets && counts.requests > 0 {
            self.push("RequestCount", Stats::one(counts.requests as f64), "Count");
        }
        let names = if from_targets { TARGET_CODES } else { ELB_CODES };
        for (name, n) in names.into_iter().zip(counts.codes) {
            if n > 0 {
                self.push(name, Stats::one(n as f64), "Count");
            }
        }
        if let Some(rt) = counts.response_time.filter(|_| from_targets) {
            self.push("TargetResponseTime", rt, "Seconds");
        }
    }
}

fn dimensions(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut d: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    d.sort();
    d
}

/// Every datapoint of one minute: per load balancer the sums of its groups and its own
/// answers, per group its counts and its targets' health (for every group a listener
/// routes to, also without requests).
pub fn points(minute_ms: i64, balancers: &[BalancerMinute], groups: &[GroupMinute]) -> Vec<Point> {
    let mut points = vec![];
    for lb in balancers {
        let mut sum = Counts::default();
        for g in groups.iter().filter(|g| g.load_balancer == lb.arn) {
            sum.add(&g.counts);
        }
        let dims = dimensions(&[("LoadBalancer", dimension_value(&lb.arn))]);
        let mut out = Out { points: &mut points, minute_ms, dimensions: dims };
        out.counts(&sum, true);
        out.counts(&lb.own, false);
    }
    for g in groups {
        let (lb, tg) = (dimension_value(&g.load_balancer), dimension_value(&g.arn));
        let dims = dimensions(&[("TargetGroup", tg), ("LoadBalancer", lb)]);
        let mut out = Out { points: &mut points, minute_ms, dimensions: dims };
        out.counts(&g.counts, true);
        out.push("HealthyHostCount", Stats::one(f64::from(g.healthy)), "Count");
        out.push("UnHealthyHostCount", Stats::one(f64::from(g.unhealthy)), "Count");
        if g.counts.requests > 0 {
            // Over the healthy targets, or over all of them when none is healthy.
            let over = if g.healthy > 0 { g.healthy } else { g.targets.max(1) };
            let per = Stats::one(g.counts.requests as f64 / f64::from(over));
            out.push("RequestCountPerTarget", per, "Count");
            Out { points: &mut points, minute_ms, dimensions: dimensions(&[("TargetGroup", tg)]) }.push(
                "RequestCountPerTarget",
                per,
                "Count",
            );
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067";

    fn find<'a>(points: &'a [Point], metric: &str, dims: &[(&str, &str)]) -> Option<&'a Point> {
        points.iter().find(|p| p.metric == metric && p.dimensions == dimensions(dims))
    }

    #[test]
    fn dimension_values_are_the_arns_resources() {
        assert_eq!(dimension_value(LB), "app/web/50dc6c495c0c9188");
        assert_eq!(dimension_value(TG), "targetgroup/blue/73e2d6bc24d8a067");
        assert_eq!(dimension_value("not an arn"), "not an arn");
    }

    #[test]
    fn counters_become_datapoints_and_reset() {
        let group = Counters::default();
        for ms in [10, 30, 20] {
            group.request();
            group.answered(200, Some(Duration::from_millis(ms)));
        }
        group.request();
        group.answered(503, Some(Duration::from_millis(5)));
        group.answered(99, None);
        let own = Counters::default();
        own.answered(503, None);
        own.answered(404, None);
        let counts = group.take();
        assert_eq!((counts.requests, counts.codes), (4, [3, 0, 0, 1]));
        let rt = counts.response_time.unwrap();
        assert_eq!((rt.count, rt.min, rt.max), (4.0, 0.005, 0.03));
        assert!((rt.sum - 0.065).abs() < 1e-9);
        assert_eq!(group.take(), Counts::default(), "taking resets");

        let g = GroupMinute { arn: TG.into(), load_balancer: LB.into(), counts, targets: 3, healthy: 2, unhealthy: 1 };
        let b = BalancerMinute { arn: LB.into(), own: own.take() };
        let points = points(60_000, &[b], &[g]);
        let lb = [("LoadBalancer", "app/web/50dc6c495c0c9188")];
        let both = [("LoadBalancer", lb[0].1), ("TargetGroup", "targetgroup/blue/73e2d6bc24d8a067")];
        let value = |m, d: &[(&str, &str)]| find(&points, m, d).map(|p| p.stats.sum);
        assert_eq!(value("RequestCount", &lb), Some(4.0));
        assert_eq!(value("RequestCount", &both), Some(4.0));
        assert_eq!(value("HTTPCode_Target_2XX_Count", &lb), Some(3.0));
        assert_eq!(value("HTTPCode_Target_5XX_Count", &both), Some(1.0));
        assert_eq!(value("HTTPCode_ELB_5XX_Count", &lb), Some(1.0));
        assert_eq!(value("HTTPCode_ELB_4XX_Count", &lb), Some(1.0));
        assert_eq!(value("HTTPCode_ELB_4XX_Count", &both), None);
        assert_eq!(value("HTTPCode_Target_3XX_Count", &lb), None, "zero counts are not published");
        assert_eq!(find(&points, "TargetResponseTime", &lb).unwrap().stats.count, 4.0);
        assert_eq!(value("HealthyHostCount", &both), Some(2.0));
        assert_eq!(value("UnHealthyHostCount", &both), Some(1.0));
        assert_eq!(value("RequestCountPerTarget", &both), Some(2.0));
        assert_eq!(value("RequestCountPerTarget", &both[1..]), Some(2.0));
        assert!(points.iter().all(|p| p.timestamp_ms == 60_000 && p.namespace == NAMESPACE));
    }

    #[test]
    fn an_idle_group_still_reports_its_hosts_and_no_healthy_target_divides_by_all() {
        let idle = GroupMinute {
            arn: TG.into(),
            load_balancer: LB.into(),
            counts: Counts::default(),
            targets: 2,
            healthy: 0,
            unhealthy: 2,
        };
        let points_idle = points(0, &[], std::slice::from_ref(&idle));
        assert_eq!(points_idle.len(), 2, "{points_idle:?}");
        let busy = GroupMinute { counts: Counts { requests: 6, ..Default::default() }, ..idle };
        let p = points(0, &[], &[busy]);
        assert_eq!(find(&p, "RequestCountPerTarget", &[("TargetGroup", dimension_value(TG))]).unwrap().stats.sum, 3.0);
    }
}
