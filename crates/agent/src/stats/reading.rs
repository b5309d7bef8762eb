//! Docker stats readings and what a task used between two of them, computed as ECS's agent
//! and `docker stats` do (pure).
//!
//! - CPU units: Δ container CPU time / Δ host CPU time × online CPUs × 1024, the average
//!   over the interval (1024 = one core busy).
//! - Memory: usage minus the inactive file cache (`total_inactive_file` on cgroup v1,
//!   `inactive_file` on v2, when below usage), as `docker stats` shows it.
//! - Network (every interface) and block I/O (read and write service bytes): the bytes
//!   moved since the previous reading.

use berth_model::agent_protocol::TaskMetrics;
use bollard::models::{ContainerBlkioStats, ContainerCpuStats, ContainerMemoryStats, ContainerStatsResponse};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// One reading of one container's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reading {
    pub cpu: Option<CpuReading>,
    pub memory_bytes: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuReading {
    /// The container's CPU time, ns.
    pub total_ns: u64,
    /// The host's CPU time (every CPU, busy or idle), ns.
    pub system_ns: u64,
    pub online_cpus: u32,
}

/// A running container's reading, with the task it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub container_id: String,
    pub task_arn: String,
    pub reading: Reading,
}

impl Reading {
    /// What Docker's stats say; missing fields count as absent (no CPU) or zero.
    pub fn from_docker(stats: &ContainerStatsResponse) -> Reading {
        let networks = stats.networks.iter().flat_map(|n| n.values());
        let (rx_bytes, tx_bytes) = networks.fold((0u64, 0u64), |(rx, tx), n| {
            (rx.saturating_add(n.rx_bytes.unwrap_or(0)), tx.saturating_add(n.tx_bytes.unwrap_or(0)))
        });
        let (read_bytes, write_bytes) = stats.blkio_stats.as_ref().map(block_io).unwrap_or_default();
        Reading {
            cpu: stats.cpu_stats.as_ref().and_then(cpu),
            memory_bytes: stats.memory_stats.as_ref().map(memory).unwrap_or(0),
            rx_bytes,
            tx_bytes,
            read_bytes,
            write_bytes,
        }
    }
}

fn cpu(stats: &ContainerCpuStats) -> Option<CpuReading> {
    let usage = stats.cpu_usage.as_ref()?;
    let total_ns = usage.total_usage?;
    let system_ns = stats.system_cpu_usage?;
    let per_cpu = usage.percpu_usage.as_ref().map_or(0, Vec::len);
    let online_cpus = match stats.online_cpus {
        Some(n) if n > 0 => n,
        _ => u32::try_from(per_cpu).unwrap_or(1).max(1),
    };
    Some(CpuReading { total_ns, system_ns, online_cpus })
}

fn memory(stats: &ContainerMemoryStats) -> u64 {
    let usage = stats.usage.unwrap_or(0);
    let cache = stats.stats.as_ref().and_then(|s| s.get("total_inactive_file").or_else(|| s.get("inactive_file")));
    match cache {
        Some(&c) if c < usage => usage - c,
        _ => usage,
    }
}

fn block_io(stats: &ContainerBlkioStats) -> (u64, u64) {
    stats.io_service_bytes_recursive.iter().flatten().fold((0u64, 0u64), |(r, w), e| {
        let v = e.value.unwrap_or(0);
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => (r.saturating_add(v), w),
            Some("write") => (r, w.saturating_add(v)),
            _ => (r, w),
        }
    })
}

/// CPU units used on average between two readings; None when either lacks CPU or the
/// counters went backwards (a restarted container) or did not move.
pub fn cpu_units(before: &CpuReading, now: &CpuReading) -> Option<f64> {
    let container = now.total_ns.checked_sub(before.total_ns)?;
    let system = now.system_ns.checked_sub(before.system_ns).filter(|s| *s > 0)?;
    Some(container as f64 / system as f64 * f64::from(now.online_cpus) * 1024.0)
}

/// A counter's increase; a counter that went backwards was reset, and counts from zero.
fn moved(before: u64, now: u64) -> u64 {
    now.checked_sub(before).unwrap_or(now)
}

/// Each task's usage over the interval that ends with `samples`, given the previous
/// readings by container id. A container without a previous reading adds its memory only.
pub fn task_metrics(previous: &HashMap<String, Reading>, samples: &[Sample], interval: Duration) -> Vec<TaskMetrics> {
    let mut tasks: BTreeMap<&str, TaskMetrics> = BTreeMap::new();
    for s in samples {
        let t = tasks.entry(&s.task_arn).or_insert_with(|| TaskMetrics {
            task_arn: s.task_arn.clone(),
            interval_millis: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            ..Default::default()
        });
        let now = &s.reading;
        t.memory_bytes = t.memory_bytes.saturating_add(now.memory_bytes);
        let Some(before) = previous.get(&s.container_id) else { continue };
        if let (Some(b), Some(n)) = (&before.cpu, &now.cpu)
            && let Some(units) = cpu_units(b, n)
        {
            t.cpu_units = Some(t.cpu_units.unwrap_or(0.0) + units);
        }
        t.network_rx_bytes = t.network_rx_bytes.saturating_add(moved(before.rx_bytes, now.rx_bytes));
        t.network_tx_bytes = t.network_tx_bytes.saturating_add(moved(before.tx_bytes, now.tx_bytes));
        t.storage_read_bytes = t.storage_read_bytes.saturating_add(moved(before.read_bytes, now.read_bytes));
        t.storage_write_bytes = t.storage_write_bytes.saturating_add(moved(before.write_bytes, now.write_bytes));
    }
    tasks.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> ContainerStatsResponse {
        let text = match name {
            "busy_1" => include_str!("fixtures/busy_1.json"),
            "busy_2" => include_str!("fixtures/busy_2.json"),
            _ => unreachable!(),
        };
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_busy_container_uses_one_core_and_memory_without_its_file_cache() {
        // Recorded from `docker stats` (one-shot) of busybox `while :; do :; done`, 2 s apart,
        // on a 2-CPU cgroup v1 host.
        let (a, b) = (Reading::from_docker(&fixture("busy_1")), Reading::from_docker(&fixture("busy_2")));
        let (ca, cb) = (a.cpu.unwrap(), b.cpu.unwrap());
        assert_eq!(cb.online_cpus, 2);
        let units = cpu_units(&ca, &cb).unwrap();
        let expected = (cb.total_ns - ca.total_ns) as f64 / (cb.system_ns - ca.system_ns) as f64 * 2.0 * 1024.0;
        assert_eq!(units, expected);
        assert!((900.0..=1100.0).contains(&units), "one busy loop is about one core: {units}");
        // usage 2170880 − total_inactive_file 1605632.
        assert_eq!(b.memory_bytes, 565_248);
    }

    #[test]
    fn odd_stats_do_not_panic_and_count_as_nothing() {
        let empty = Reading::from_docker(&ContainerStatsResponse::default());
        assert_eq!(empty, Reading::default());
        // A container that stopped between the listing and the reading: Docker answers zeros.
        let stopped: ContainerStatsResponse = serde_json::from_str(
            r#"{"read":"0001-01-01T00:00:00Z","cpu_stats":{"cpu_usage":{"total_usage":0},"throttling_data":{}},
                "memory_stats":{},"blkio_stats":{"io_service_bytes_recursive":null}}"#,
        )
        .unwrap();
        let r = Reading::from_docker(&stopped);
        assert_eq!(r.cpu, None, "no system_cpu_usage");
        let before = CpuReading { total_ns: 10, system_ns: 100, online_cpus: 2 };
        let backwards = CpuReading { total_ns: 5, system_ns: 200, online_cpus: 2 };
        assert_eq!(cpu_units(&before, &backwards), None);
        assert_eq!(cpu_units(&before, &before), None, "no host time passed");
        // Memory below its cache, networks and block I/O (v2 spelling) summed.
        let v2: ContainerStatsResponse = serde_json::from_str(
            r#"{"memory_stats":{"usage":100,"stats":{"inactive_file":400}},
                "networks":{"eth0":{"rx_bytes":10,"tx_bytes":1},"eth1":{"rx_bytes":5}},
                "blkio_stats":{"io_service_bytes_recursive":[{"op":"read","value":7},{"op":"Write","value":3},
                {"op":"Total","value":10}]}}"#,
        )
        .unwrap();
        let r = Reading::from_docker(&v2);
        assert_eq!((r.memory_bytes, r.rx_bytes, r.tx_bytes, r.read_bytes, r.write_bytes), (100, 15, 1, 7, 3));
    }

    #[test]
    fn task_metrics_sum_containers_over_the_interval() {
        let cpu = |total_ns, system_ns| Some(CpuReading { total_ns, system_ns, online_cpus: 2 });
        let reading = |c, m, rx| Reading { cpu: c, memory_bytes: m, rx_bytes: rx, ..Default::default() };
        let previous = HashMap::from([
            ("a1".to_string(), reading(cpu(0, 0), 1, 100)),
            ("a2".to_string(), reading(cpu(0, 0), 1, 0)),
        ]);
        let sample = |id: &str, task: &str, r| Sample { container_id: id.into(), task_arn: task.into(), reading: r };
        let samples = vec![
            // Half of one of two CPUs: 512 units; a quarter: 256.
            sample("a1", "task/a", reading(cpu(500, 2000), 10, 150)),
            sample("a2", "task/a", reading(cpu(250, 2000), 20, 40)),
            // New since the last reading: memory only.
            sample("b1", "task/b", reading(cpu(9, 9), 5, 1000)),
        ];
        let tasks = task_metrics(&previous, &samples, Duration::from_millis(1500));
        assert_eq!(tasks.len(), 2);
        let a = &tasks[0];
        assert_eq!((a.task_arn.as_str(), a.cpu_units, a.memory_bytes), ("task/a", Some(768.0), 30));
        assert_eq!((a.network_rx_bytes, a.interval_millis), (90, 1500));
        let b = &tasks[1];
        assert_eq!((b.cpu_units, b.memory_bytes, b.network_rx_bytes), (None, 5, 0));
    }
}
