//! berth's metric storage engine: the datapoints behind the CloudWatch API.
//!
//! Datapoints stay out of the state store (which keeps alarms): every acknowledged
//! `put` has been appended to a write-ahead log under `<data-dir>/metrics/` and fsynced,
//! and concurrent puts share one fsync (group commit, `put`). In memory each metric
//! (namespace, name, dimensions) and unit has a `Series` of aggregates per second, rolled
//! up with age as AWS retains data: 1 s for 3 hours, 1 minute for 15 days, 5 minutes for
//! 63 days, 1 hour for 15 months, then deleted (`series::TIERS`). `checkpoint` writes the
//! rolled-up state to `snapshot.json` (atomically) and starts a new log, deleting the
//! logs the snapshot covers; opening reads the snapshot and replays the newer logs.
#![forbid(unsafe_code)]

pub mod series;
pub mod wal;

use serde::{Deserialize, Serialize};
use series::{Agg, Series};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

/// One metric: what CloudWatch calls a metric, its dimensions sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricId {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<(String, String)>,
}

impl MetricId {
    /// Sorts the dimensions by name, as every MetricId must have them.
    pub fn new(
        namespace: impl Into<String>,
        metric_name: impl Into<String>,
        mut dimensions: Vec<(String, String)>,
    ) -> Self {
        dimensions.sort();
        MetricId { namespace: namespace.into(), metric_name: metric_name.into(), dimensions }
    }
}

/// What one datum says: a value, a statistic set, or values with their counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Single(f64),
    Stats {
        sum: f64,
        min: f64,
        max: f64,
        count: f64,
    },
    /// `counts[i]` is how many times `values[i]` occurred (1 when `counts` is shorter).
    Values {
        values: Vec<f64>,
        counts: Vec<f64>,
    },
}

/// One datapoint as PutMetricData (or one of berth's own publishers) gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datum {
    pub id: MetricId,
    pub timestamp_ms: i64,
    pub value: Value,
    /// CloudWatch's unit (`Percent`, `Count`, ...); None is stored as `None`.
    pub unit: Option<String>,
    /// 1 (high resolution) or 60 seconds.
    pub storage_resolution: u32,
}

/// The aggregate of one period: what GetMetricStatistics' datapoints are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The period's start, ms since the epoch.
    pub timestamp_ms: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub count: f64,
    /// `(value, count)` samples, for percentiles; empty when not known (rolled-up data
    /// or statistic sets).
    pub values: Vec<(f64, f64)>,
    /// The data's unit when the period holds a single one.
    pub unit: Option<String>,
}

impl Bucket {
    fn from_agg(timestamp_ms: i64, agg: Agg) -> Bucket {
        Bucket {
            timestamp_ms,
            sum: agg.sum,
            min: agg.min,
            max: agg.max,
            count: agg.count,
            values: agg.values,
            unit: None,
        }
    }

    pub fn average(&self) -> f64 {
        if self.count > 0.0 { self.sum / self.count } else { 0.0 }
    }
}

/// ListMetrics' filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// A metric matches when it has each named dimension (with this value, if given).
    pub dimensions: Vec<(String, Option<String>)>,
    /// Only metrics with data put at or after this time (ms) (RecentlyActive PT3H).
    pub active_since_ms: Option<i64>,
}

impl ListFilter {
    pub fn matches(&self, id: &MetricId) -> bool {
        self.namespace.as_ref().is_none_or(|n| *n == id.namespace)
            && self.metric_name.as_ref().is_none_or(|n| *n == id.metric_name)
            && self.dimensions.iter().all(|(name, value)| {
                id.dimensions.iter().any(|(n, v)| n == name && value.as_ref().is_none_or(|want| want == v))
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricStoreError {
    #[error("metric storage: {0}")]
    Io(#[from] io::Error),
    #[error("metric storage: {0}")]
    Encoding(#[from] serde_json::Error),
    #[error("metric storage failed earlier and accepts no more data until restarted: {0}")]
    Broken(String),
}

pub type Result<T, E = MetricStoreError> = std::result::Result<T, E>;

/// Everything known of one metric.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Metric {
    /// One series per unit (almost always exactly one).
    units: Vec<(Option<String>, Series)>,
    /// When data was last put (wall clock, ms): ListMetrics' RecentlyActive.
    last_put_ms: i64,
}

impl Metric {
    fn add(&mut self, datum: &Datum, agg: &Agg, at_ms: i64) {
        let unit = datum.unit.as_deref().filter(|u| *u != "None");
        let index = match self.units.iter().position(|(u, _)| u.as_deref() == unit) {
            Some(i) => i,
            None => {
                self.units.push((unit.map(str::to_string), Series::default()));
                self.units.len() - 1
            }
        };
        self.units[index].1.add(datum.timestamp_ms, agg);
        self.last_put_ms = self.last_put_ms.max(at_ms);
    }
}

/// One log record: the batch and when it was put.
#[derive(Serialize, Deserialize)]
struct Record {
    at_ms: i64,
    data: Vec<Datum>,
}

/// The checkpoint file: the state after every log up to `generation`.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    generation: u64,
    metrics: Vec<(MetricId, Metric)>,
}

struct Commit {
    pending: Vec<u8>,
    pending_batches: Vec<Record>,
    next_ticket: u64,
    synced_ticket: u64,
    syncing: bool,
    broken: Option<String>,
}

/// The metric engine. Share it as `Arc<MetricStore>`; every method is blocking (disk
/// I/O), so async callers run `put` on a blocking thread.
pub struct MetricStore {
    dir: PathBuf,
    commit: Mutex<Commit>,
    synced: Condvar,
    /// Only the committing writer (or a checkpoint) holds it.
    log: Mutex<wal::Log>,
    data: RwLock<HashMap<MetricId, Metric>>,
    last_checkpoint_ms: Mutex<i64>,
}

/// After this much log, `maintain` checkpoints even before the hour is up.
const LOG_LIMIT: u64 = 64 << 20;
const CHECKPOINT_EVERY_MS: i64 = 3_600_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl MetricStore {
    /// Opens (creating) the store in `dir`: the snapshot, then every newer log replayed.
    pub fn open(dir: &Path) -> Result<MetricStore> {
        std::fs::create_dir_all(dir)?;
        let mut data = HashMap::new();
        let mut covered = 0;
        let snapshot_path = dir.join("snapshot.json");
        if snapshot_path.exists() {
            let snapshot: Snapshot = serde_json::from_slice(&std::fs::read(&snapshot_path)?)?;
            covered = snapshot.generation;
            data.extend(snapshot.metrics);
        }
        let generations = wal::generations(dir)?;
        for g in &generations {
            let path = wal::path(dir, *g);
            if *g <= covered {
                std::fs::remove_file(&path)?;
                continue;
            }
            for payload in wal::read(&path)? {
                let record: Record = serde_json::from_slice(&payload)?;
                apply(&mut data, &record);
            }
        }
        let next = generations.last().copied().unwrap_or(0).max(covered) + 1;
        let log = wal::Log::create(dir, next)?;
        Ok(MetricStore {
            dir: dir.to_path_buf(),
            commit: Mutex::new(Commit {
                pending: vec![],
                pending_batches: vec![],
                next_ticket: 0,
                synced_ticket: 0,
                syncing: false,
                broken: None,
            }),
            synced: Condvar::new(),
            log: Mutex::new(log),
            data: RwLock::new(data),
            last_checkpoint_ms: Mutex::new(now_ms()),
        })
    }

    /// Stores a batch; once it returns Ok the batch is on disk (fsynced). Concurrent
    /// callers are committed together: one waits for the fsync in progress, and the next
    /// fsync carries everything that queued meanwhile.
    pub fn put(&self, batch: &[Datum]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let record = Record { at_ms: now_ms(), data: batch.to_vec() };
        let payload = serde_json::to_vec(&record)?;
        let mut c = lock(&self.commit);
        if let Some(e) = &c.broken {
            return Err(MetricStoreError::Broken(e.clone()));
        }
        wal::frame(&mut c.pending, &payload);
        c.pending_batches.push(record);
        c.next_ticket += 1;
        let mine = c.next_ticket;
        loop {
            if c.synced_ticket >= mine {
                return Ok(());
            }
            if let Some(e) = &c.broken {
                return Err(MetricStoreError::Broken(e.clone()));
            }
            if c.syncing {
                c = self.synced.wait(c).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            c.syncing = true;
            let bytes = std::mem::take(&mut c.pending);
            let records = std::mem::take(&mut c.pending_batches);
            let upto = c.next_ticket;
            drop(c);
            let written = lock(&self.log).append(&bytes);
            if written.is_ok() {
                let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
                for record in &records {
                    apply(&mut data, record);
                }
            }
            c = lock(&self.commit);
            c.syncing = false;
            match written {
                Ok(()) => c.synced_ticket = upto,
                Err(e) => c.broken = Some(e.to_string()),
            }
            self.synced.notify_all();
        }
    }

    /// The data of `id` in `[start_ms, end_ms)` in periods of `period` (periods start
    /// at `start_ms`, as CloudWatch's do), oldest first; only data of `unit` when
    /// given (`None` matches data put without a unit).
    pub fn query(
        &self,
        id: &MetricId,
        unit: Option<&str>,
        start_ms: i64,
        end_ms: i64,
        period: Duration,
    ) -> Vec<Bucket> {
        let period_ms = (period.as_millis() as i64).max(1);
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let Some(metric) = data.get(id) else { return vec![] };
        let wanted = unit.filter(|u| *u != "None");
        let mut out: Vec<Bucket> = vec![];
        for (u, series) in &metric.units {
            if unit.is_some() && u.as_deref() != wanted {
                continue;
            }
            for mut b in series.query(start_ms, end_ms, period_ms) {
                b.unit = u.clone();
                merge_bucket(&mut out, b);
            }
        }
        out.sort_by_key(|b| b.timestamp_ms);
        out
    }

    /// The metrics matching `filter`, sorted (namespace, name, dimensions).
    pub fn list(&self, filter: &ListFilter) -> Vec<MetricId> {
        let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<MetricId> = data
            .iter()
            .filter(|(id, m)| filter.matches(id) && filter.active_since_ms.is_none_or(|t| m.last_put_ms >= t))
            .map(|(id, _)| id.clone())
            .collect();
        out.sort();
        out
    }

    /// Checkpoints when the log has grown past 64 MiB or an hour has passed since the
    /// last checkpoint. For a periodic background task.
    pub fn maintain(&self, now_ms: i64) -> Result<bool> {
        let due = { now_ms - *lock(&self.last_checkpoint_ms) >= CHECKPOINT_EVERY_MS };
        if !due && lock(&self.log).len < LOG_LIMIT {
            return Ok(false);
        }
        self.checkpoint(now_ms)?;
        Ok(true)
    }

    /// Rolls the data up (and drops what is past retention), writes it as the snapshot,
    /// and starts a new log; the logs it covers are deleted. Puts wait meanwhile.
    pub fn checkpoint(&self, now_ms: i64) -> Result<()> {
        let mut c = lock(&self.commit);
        while c.syncing {
            c = self.synced.wait(c).unwrap_or_else(PoisonError::into_inner);
        }
        // With `syncing` false and the commit lock held, memory holds exactly what the
        // current log holds.
        let mut log = lock(&self.log);
        let snapshot = {
            let mut data = self.data.write().unwrap_or_else(PoisonError::into_inner);
            data.retain(|_, m| {
                for (_, s) in &mut m.units {
                    s.roll_up(now_ms);
                }
                m.units.retain(|(_, s)| !s.buckets.is_empty());
                !m.units.is_empty()
            });
            Snapshot { generation: log.generation, metrics: data.iter().map(|(k, v)| (k.clone(), v.clone())).collect() }
        };
        let tmp = self.dir.join("snapshot.json.tmp");
        {
            let mut file = std::fs::File::create(&tmp)?;
            serde_json::to_writer(io::BufWriter::new(&mut file), &snapshot)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join("snapshot.json"))?;
        wal::sync_dir(&self.dir)?;
        let old = log.generation;
        *log = wal::Log::create(&self.dir, old + 1)?;
        for g in wal::generations(&self.dir)? {
            if g <= old {
                std::fs::remove_file(wal::path(&self.dir, g))?;
            }
        }
        *lock(&self.last_checkpoint_ms) = now_ms;
        drop(c);
        Ok(())
    }
}

fn apply(data: &mut HashMap<MetricId, Metric>, record: &Record) {
    for datum in &record.data {
        if let Some(agg) = Agg::of(&datum.value) {
            data.entry(datum.id.clone()).or_default().add(datum, &agg, record.at_ms);
        }
    }
}

/// Adds `b` into the bucket of the same period in `out` (data of several units).
fn merge_bucket(out: &mut Vec<Bucket>, b: Bucket) {
    match out.iter_mut().find(|o| o.timestamp_ms == b.timestamp_ms) {
        Some(o) => {
            let mut agg =
                Agg { sum: o.sum, min: o.min, max: o.max, count: o.count, values: std::mem::take(&mut o.values) };
            agg.merge(&Agg { sum: b.sum, min: b.min, max: b.max, count: b.count, values: b.values });
            (o.sum, o.min, o.max, o.count, o.values) = (agg.sum, agg.min, agg.max, agg.count, agg.values);
            if o.unit != b.unit {
                o.unit = None;
            }
        }
        None => out.push(b),
    }
}

#[cfg(test)]
mod tests;
