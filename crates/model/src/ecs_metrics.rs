//! ECS's CloudWatch metrics, computed from what the agents measure and what the store
//! holds, the way ECS computes them (pure: no I/O, no clock).
//!
//! - Each agent reports, every sampling interval, each running task's CPU units used
//!   (1024 = one core, averaged over the interval), memory used (bytes, usage minus the
//!   inactive file cache) and the network bytes moved in the interval. `Minutes`
//!   collects them per metric minute and task.
//! - `AWS/ECS` `CPUUtilization` / `MemoryUtilization` per {ClusterName, ServiceName}: per
//!   task, its minute's average used / reserved × 100 (reserved = the task-level cpu and
//!   memory, else the sum of its containers', as placement counts it), as one statistic
//!   set over the service's tasks, so Average, Minimum, Maximum and SampleCount (the
//!   number of tasks) come out as in AWS. Per {ClusterName}: the cluster's tasks' usage
//!   / what its ACTIVE and DRAINING instances registered × 100.
//! - `CPUReservation` / `MemoryReservation` per {ClusterName}: what tasks hold on ACTIVE
//!   and DRAINING instances / what those registered × 100, every minute from the store.
//! - `ECS/ContainerInsights` per {ClusterName} and {ClusterName, ServiceName}, only for
//!   clusters whose `containerInsights` setting is `enabled` or `enhanced`: task counts
//!   (running, pending; desired for services), CPU units and MiB used and reserved,
//!   network bytes per second received and sent.

use crate::demand::Resources;
use std::collections::BTreeMap;

pub const NAMESPACE: &str = "AWS/ECS";
pub const INSIGHTS_NAMESPACE: &str = "ECS/ContainerInsights";
/// ECS managed scaling's namespace (CapacityProviderReservation).
pub const MANAGED_SCALING_NAMESPACE: &str = "AWS/ECS/ManagedScaling";

const MIB: f64 = 1024.0 * 1024.0;

/// The wall clock, ms since the epoch (what metric minutes are counted in).
pub fn now_ms() -> i64 {
    (crate::Timestamp::now().as_secs_f64() * 1000.0) as i64
}

/// The start of the metric minute `at_ms` falls in (minutes `minute_ms` long, from the epoch).
pub fn minute_of(at_ms: i64, minute_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(minute_ms.max(1))
}

/// The start of the next metric minute after `now_ms`, and how many ms away it is.
pub fn next_minute(now_ms: i64, minute_ms: i64) -> (i64, u64) {
    let next = minute_of(now_ms, minute_ms) + minute_ms.max(1);
    (next, u64::try_from(next - now_ms).unwrap_or(0))
}

/// The service a task belongs to, from its group (`service:NAME`).
pub fn service_of(group: Option<&str>) -> Option<&str> {
    group.and_then(|g| g.strip_prefix("service:"))
}

/// One task's measurement over one sampling interval, resolved against its record.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSample {
    pub cluster: String,
    pub service: Option<String>,
    pub task_id: String,
    /// What the task holds (CPU units, MiB).
    pub reserved: Resources,
    /// CPU units used on average over the interval; None for a first sample.
    pub cpu_units: Option<f64>,
    pub memory_bytes: u64,
    pub network_rx_bytes: u64,
    pub network_tx_bytes: u64,
    pub interval_ms: u64,
}

/// One task's samples of one minute, summed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskMinute {
    pub cluster: String,
    pub service: Option<String>,
    pub cpu_reserved: i64,
    pub memory_reserved_mib: i64,
    cpu_sum: f64,
    cpu_samples: u32,
    memory_sum: f64,
    memory_samples: u32,
    rx_bytes: u64,
    tx_bytes: u64,
    covered_ms: u64,
}

impl TaskMinute {
    /// CPU units used on average over the minute's samples.
    pub fn cpu_units(&self) -> Option<f64> {
        (self.cpu_samples > 0).then(|| self.cpu_sum / f64::from(self.cpu_samples))
    }

    /// MiB used on average over the minute's samples.
    pub fn memory_mib(&self) -> Option<f64> {
        (self.memory_samples > 0).then(|| self.memory_sum / f64::from(self.memory_samples) / MIB)
    }

    /// Network bytes per second received and sent over the time the samples cover.
    pub fn network_rates(&self) -> Option<(f64, f64)> {
        let seconds = self.covered_ms as f64 / 1000.0;
        (seconds > 0.0).then(|| (self.rx_bytes as f64 / seconds, self.tx_bytes as f64 / seconds))
    }

    fn cpu_utilization(&self) -> Option<f64> {
        let used = self.cpu_units()?;
        (self.cpu_reserved > 0).then(|| used / self.cpu_reserved as f64 * 100.0)
    }

    fn memory_utilization(&self) -> Option<f64> {
        let used = self.memory_mib()?;
        (self.memory_reserved_mib > 0).then(|| used / self.memory_reserved_mib as f64 * 100.0)
    }
}

/// The samples received, by metric minute (its start, epoch ms) and task.
#[derive(Debug, Default)]
pub struct Minutes {
    by_minute: BTreeMap<i64, BTreeMap<(String, String), TaskMinute>>,
}

impl Minutes {
    pub fn add(&mut self, minute_ms: i64, s: TaskSample) {
        let key = (s.cluster.clone(), s.task_id.clone());
        let t = self.by_minute.entry(minute_ms).or_default().entry(key).or_default();
        t.cluster = s.cluster;
        t.service = s.service;
        t.cpu_reserved = s.reserved.cpu;
        t.memory_reserved_mib = s.reserved.memory;
        if let Some(cpu) = s.cpu_units.filter(|c| c.is_finite() && *c >= 0.0) {
            t.cpu_sum += cpu;
            t.cpu_samples += 1;
        }
        t.memory_sum += s.memory_bytes as f64;
        t.memory_samples += 1;
        t.rx_bytes += s.network_rx_bytes;
        t.tx_bytes += s.network_tx_bytes;
        t.covered_ms += s.interval_ms;
    }

    /// Removes and returns every minute that started before `minute_ms`, oldest first.
    pub fn take_before(&mut self, minute_ms: i64) -> Vec<(i64, Vec<TaskMinute>)> {
        let later = self.by_minute.split_off(&minute_ms);
        std::mem::replace(&mut self.by_minute, later).into_iter().map(|(m, t)| (m, t.into_values().collect())).collect()
    }
}

/// A statistic set: what one datapoint carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub count: f64,
}

impl Stats {
    pub fn one(v: f64) -> Self {
        Self { sum: v, min: v, max: v, count: 1.0 }
    }

    /// The set over `values`; None when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        values.into_iter().fold(None, |acc: Option<Stats>, v| {
            Some(match acc {
                None => Stats::one(v),
                Some(s) => Stats { sum: s.sum + v, min: s.min.min(v), max: s.max.max(v), count: s.count + 1.0 },
            })
        })
    }
}

/// One datapoint to publish: a minute's statistic set of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub namespace: &'static str,
    pub metric: &'static str,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    pub timestamp_ms: i64,
    pub stats: Stats,
    pub unit: &'static str,
}

/// What the store says of a cluster's services at the end of a minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceView {
    pub desired: i64,
    pub running: i64,
    pub pending: i64,
    /// What its running tasks hold.
    pub reserved: Resources,
}

/// What the store says of a cluster at the end of a minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterView {
    /// Its containerInsights setting is `enabled` or `enhanced`.
    pub insights: bool,
    /// What its ACTIVE and DRAINING instances registered.
    pub registered: Resources,
    /// What the tasks placed on those instances hold.
    pub reserved: Resources,
    pub running: i64,
    pub pending: i64,
    pub services: BTreeMap<String, ServiceView>,
    /// Each of its capacity providers' last CapacityProviderReservation (managed scaling's M/N×100).
    pub provider_reservations: BTreeMap<String, f64>,
}

/// Whether a cluster's `containerInsights` setting value turns Container Insights on.
pub fn insights_enabled(value: Option<&str>) -> bool {
    matches!(value, Some("enabled" | "enhanced"))
}

fn dims(cluster: &str, service: Option<&str>) -> Vec<(String, String)> {
    let mut d = vec![("ClusterName".to_string(), cluster.to_string())];
    if let Some(s) = service {
        d.push(("ServiceName".to_string(), s.to_string()));
    }
    d
}

/// Every datapoint of one minute: `tasks` are the minute's task measurements, `clusters`
/// the store's view of every cluster at the minute's end.
pub fn points(minute_ms: i64, tasks: &[TaskMinute], clusters: &BTreeMap<String, ClusterView>) -> Vec<Point> {
    let mut out = vec![];
    let mut managed = vec![];
    let mut push = |namespace, metric, cluster: &str, service: Option<&str>, stats: Option<Stats>, unit| {
        if let Some(stats) = stats {
            out.push(Point {
                namespace,
                metric,
                dimensions: dims(cluster, service),
                timestamp_ms: minute_ms,
                stats,
                unit,
            });
        }
    };
    let pct = |part: f64, whole: i64| (whole > 0).then(|| Stats::one(part / whole as f64 * 100.0));
    for (name, view) in clusters {
        let mine: Vec<&TaskMinute> = tasks.iter().filter(|t| &t.cluster == name).collect();
        let (cpu_used, mem_used) = (sum(&mine, TaskMinute::cpu_units), sum(&mine, TaskMinute::memory_mib));
        push(NAMESPACE, "CPUReservation", name, None, pct(view.reserved.cpu as f64, view.registered.cpu), "Percent");
        let memory_reservation = pct(view.reserved.memory as f64, view.registered.memory);
        push(NAMESPACE, "MemoryReservation", name, None, memory_reservation, "Percent");
        for (provider, reservation) in &view.provider_reservations {
            managed.push(Point {
                namespace: MANAGED_SCALING_NAMESPACE,
                metric: "CapacityProviderReservation",
                dimensions: vec![
                    ("CapacityProviderName".to_string(), provider.clone()),
                    ("ClusterName".to_string(), name.clone()),
                ],
                timestamp_ms: minute_ms,
                stats: Stats::one(*reservation),
                unit: "Percent",
            });
        }
        if !mine.is_empty() {
            push(NAMESPACE, "CPUUtilization", name, None, pct(cpu_used, view.registered.cpu), "Percent");
            push(NAMESPACE, "MemoryUtilization", name, None, pct(mem_used, view.registered.memory), "Percent");
        }
        let services: BTreeMap<&str, Vec<&TaskMinute>> = mine.iter().fold(BTreeMap::new(), |mut m, t| {
            if let Some(s) = t.service.as_deref() {
                m.entry(s).or_insert_with(Vec::new).push(*t);
            }
            m
        });
        for (service, tasks) in &services {
            let cpu = Stats::of(tasks.iter().filter_map(|t| t.cpu_utilization()));
            let memory = Stats::of(tasks.iter().filter_map(|t| t.memory_utilization()));
            push(NAMESPACE, "CPUUtilization", name, Some(service), cpu, "Percent");
            push(NAMESPACE, "MemoryUtilization", name, Some(service), memory, "Percent");
        }
        if !view.insights {
            continue;
        }
        let none = vec![];
        let all = std::iter::once((None, &mine, view.running, view.pending, None, &view.reserved));
        let each = view.services.iter().map(|(s, v)| {
            let tasks = services.get(s.as_str()).unwrap_or(&none);
            (Some(s.as_str()), tasks, v.running, v.pending, Some(v.desired), &v.reserved)
        });
        for (service, tasks, running, pending, desired, reserved) in all.chain(each) {
            let count = |n: i64| Some(Stats::one(n as f64));
            push(INSIGHTS_NAMESPACE, "RunningTaskCount", name, service, count(running), "Count");
            push(INSIGHTS_NAMESPACE, "PendingTaskCount", name, service, count(pending), "Count");
            push(INSIGHTS_NAMESPACE, "DesiredTaskCount", name, service, desired.and_then(count), "Count");
            push(INSIGHTS_NAMESPACE, "CpuReserved", name, service, count(reserved.cpu), "None");
            push(INSIGHTS_NAMESPACE, "MemoryReserved", name, service, count(reserved.memory), "Megabytes");
            if tasks.is_empty() {
                continue;
            }
            let rates: Vec<(f64, f64)> = tasks.iter().filter_map(|t| t.network_rates()).collect();
            let cpu = Stats::one(sum(tasks, TaskMinute::cpu_units));
            let memory = Stats::one(sum(tasks, TaskMinute::memory_mib));
            push(INSIGHTS_NAMESPACE, "CpuUtilized", name, service, Some(cpu), "None");
            push(INSIGHTS_NAMESPACE, "MemoryUtilized", name, service, Some(memory), "Megabytes");
            let rx = Stats::one(rates.iter().map(|r| r.0).sum());
            let tx = Stats::one(rates.iter().map(|r| r.1).sum());
            push(INSIGHTS_NAMESPACE, "NetworkRxBytes", name, service, Some(rx), "Bytes/Second");
            push(INSIGHTS_NAMESPACE, "NetworkTxBytes", name, service, Some(tx), "Bytes/Second");
        }
    }
    out.extend(managed);
    out
}

fn sum(tasks: &[&TaskMinute], value: fn(&TaskMinute) -> Option<f64>) -> f64 {
    tasks.iter().filter_map(|t| value(t)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_provider_reservation_is_published_per_cluster_and_provider() {
        let view = ClusterView {
            provider_reservations: BTreeMap::from([("gpu-cp".to_string(), 150.0)]),
            ..Default::default()
        };
        let points = points(60_000, &[], &BTreeMap::from([("c".to_string(), view)]));
        let p = points.iter().find(|p| p.metric == "CapacityProviderReservation").expect("published");
        assert_eq!(p.namespace, "AWS/ECS/ManagedScaling");
        assert_eq!(
            p.dimensions,
            vec![("CapacityProviderName".into(), "gpu-cp".into()), ("ClusterName".into(), "c".into())]
        );
        assert_eq!((p.stats.sum, p.stats.count, p.timestamp_ms, p.unit), (150.0, 1.0, 60_000, "Percent"));
    }

    fn sample(task: &str, service: Option<&str>, cpu: Option<f64>, memory_mib: u64) -> TaskSample {
        TaskSample {
            cluster: "c".into(),
            service: service.map(Into::into),
            task_id: task.into(),
            reserved: Resources { cpu: 256, memory: 512, ..Default::default() },
            cpu_units: cpu,
            memory_bytes: memory_mib * 1024 * 1024,
            network_rx_bytes: 2000,
            network_tx_bytes: 1000,
            interval_ms: 1000,
        }
    }

    fn find<'a>(points: &'a [Point], ns: &str, metric: &str, service: Option<&str>) -> Option<&'a Point> {
        points.iter().find(|p| p.namespace == ns && p.metric == metric && p.dimensions == dims("c", service))
    }

    fn view(insights: bool) -> BTreeMap<String, ClusterView> {
        let mut services = BTreeMap::new();
        let reserved = Resources { cpu: 512, memory: 1024, ..Default::default() };
        services
            .insert("web".to_string(), ServiceView { desired: 3, running: 2, pending: 1, reserved: reserved.clone() });
        let cluster = ClusterView {
            insights,
            registered: Resources { cpu: 2048, memory: 4096, ..Default::default() },
            reserved,
            running: 2,
            pending: 1,
            services,
            provider_reservations: BTreeMap::new(),
        };
        BTreeMap::from([("c".to_string(), cluster)])
    }

    #[test]
    fn service_utilization_is_a_statistic_set_over_tasks_of_their_minute_averages() {
        let mut m = Minutes::default();
        // Task a: 128 then 256 units (avg 192 of 256 = 75 %); task b: 64 (25 %); a first
        // sample without CPU is left out of the average but counts for memory.
        m.add(60_000, sample("a", Some("web"), Some(128.0), 128));
        m.add(60_000, sample("a", Some("web"), Some(256.0), 384));
        m.add(60_000, sample("b", Some("web"), None, 64));
        m.add(60_000, sample("b", Some("web"), Some(64.0), 64));
        m.add(120_000, sample("a", Some("web"), Some(1.0), 1));
        let minutes = m.take_before(120_000);
        assert_eq!(minutes.len(), 1);
        let (minute, tasks) = &minutes[0];
        let points = points(*minute, tasks, &view(false));
        let cpu = find(&points, NAMESPACE, "CPUUtilization", Some("web")).unwrap();
        assert_eq!(cpu.stats, Stats { sum: 100.0, min: 25.0, max: 75.0, count: 2.0 });
        assert_eq!(cpu.timestamp_ms, 60_000);
        let memory = find(&points, NAMESPACE, "MemoryUtilization", Some("web")).unwrap();
        // a: 256 MiB of 512 = 50 %, b: 64 of 512 = 12.5 %.
        assert_eq!(memory.stats, Stats { sum: 62.5, min: 12.5, max: 50.0, count: 2.0 });
        // The cluster: used over registered, 192 + 64 of 2048 units, 320 of 4096 MiB.
        let cluster_cpu = find(&points, NAMESPACE, "CPUUtilization", None).unwrap();
        assert_eq!(cluster_cpu.stats, Stats::one(12.5));
        assert_eq!(find(&points, NAMESPACE, "MemoryUtilization", None).unwrap().stats, Stats::one(7.8125));
        // The later minute is still collecting.
        assert_eq!(m.take_before(120_000), vec![]);
        assert_eq!(m.take_before(180_000).len(), 1);
    }

    #[test]
    fn reservation_is_published_without_reports_and_insights_only_when_enabled() {
        let points_off = points(0, &[], &view(false));
        assert_eq!(find(&points_off, NAMESPACE, "CPUReservation", None).unwrap().stats, Stats::one(25.0));
        assert_eq!(find(&points_off, NAMESPACE, "MemoryReservation", None).unwrap().stats, Stats::one(25.0));
        assert!(find(&points_off, NAMESPACE, "CPUUtilization", None).is_none());
        assert!(points_off.iter().all(|p| p.namespace == NAMESPACE), "{points_off:?}");

        let on = points(0, &[], &view(true));
        let value = |metric, service| find(&on, INSIGHTS_NAMESPACE, metric, service).map(|p| p.stats.sum);
        assert_eq!(value("RunningTaskCount", None), Some(2.0));
        assert_eq!(value("DesiredTaskCount", None), None);
        assert_eq!(value("DesiredTaskCount", Some("web")), Some(3.0));
        assert_eq!(value("PendingTaskCount", Some("web")), Some(1.0));
        assert_eq!(value("CpuReserved", Some("web")), Some(512.0));
        assert_eq!(value("MemoryReserved", None), Some(1024.0));
        assert_eq!(value("CpuUtilized", Some("web")), None, "no task reported");
    }

    #[test]
    fn insights_sum_usage_and_network_rates_over_tasks() {
        let mut m = Minutes::default();
        m.add(0, sample("a", Some("web"), Some(100.0), 10));
        m.add(0, sample("b", Some("web"), Some(50.0), 20));
        m.add(0, sample("c", None, Some(10.0), 5));
        let (_, tasks) = m.take_before(1).remove(0);
        let on = points(0, &tasks, &view(true));
        let value = |metric, service| find(&on, INSIGHTS_NAMESPACE, metric, service).map(|p| p.stats.sum);
        assert_eq!(value("CpuUtilized", Some("web")), Some(150.0));
        assert_eq!(value("CpuUtilized", None), Some(160.0));
        assert_eq!(value("MemoryUtilized", Some("web")), Some(30.0));
        // 2000 bytes received in one second by each task.
        assert_eq!(value("NetworkRxBytes", Some("web")), Some(4000.0));
        assert_eq!(value("NetworkTxBytes", None), Some(3000.0));
    }

    #[test]
    fn tasks_without_a_reservation_or_odd_values_publish_no_utilization() {
        let mut m = Minutes::default();
        let mut s = sample("a", Some("web"), Some(f64::NAN), 1);
        s.reserved = Resources::default();
        m.add(0, s);
        let (_, tasks) = m.take_before(1).remove(0);
        let points = points(0, &tasks, &view(false));
        assert!(find(&points, NAMESPACE, "CPUUtilization", Some("web")).is_none());
        assert!(find(&points, NAMESPACE, "MemoryUtilization", Some("web")).is_none());
        assert_eq!(service_of(Some("service:web")), Some("web"));
        assert_eq!(service_of(Some("family:web")), None);
        assert!(insights_enabled(Some("enhanced")) && !insights_enabled(Some("disabled")));
        assert_eq!((minute_of(125_000, 60_000), minute_of(-1, 60_000)), (120_000, -60_000));
        assert_eq!(next_minute(125_000, 60_000), (180_000, 55_000));
        assert_eq!(next_minute(4_000, 2_000), (6_000, 2_000));
    }
}
