//! One metric's data in memory: aggregates per time bucket, and the pure arithmetic
//! over them (adding a datum, querying by period, rolling up with age).

use crate::{Bucket, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is known of the datapoints of one bucket: the statistic set, and (in the
/// finest tier only) the values themselves with their counts, for percentiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agg {
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub count: f64,
    /// `(value, count)` pairs; empty once rolled up (percentiles need the finest tier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<(f64, f64)>,
}

impl Agg {
    /// The aggregate of one datum; None when it carries no samples (empty Values).
    pub fn of(value: &Value) -> Option<Agg> {
        match value {
            Value::Single(v) => Some(Agg { sum: *v, min: *v, max: *v, count: 1.0, values: vec![(*v, 1.0)] }),
            Value::Stats { sum, min, max, count } => {
                Some(Agg { sum: *sum, min: *min, max: *max, count: *count, values: vec![] })
            }
            Value::Values { values, counts } => {
                let mut agg: Option<Agg> = None;
                for (i, v) in values.iter().enumerate() {
                    let c = counts.get(i).copied().unwrap_or(1.0);
                    let one = Agg { sum: v * c, min: *v, max: *v, count: c, values: vec![(*v, c)] };
                    match &mut agg {
                        Some(a) => a.merge(&one),
                        None => agg = Some(one),
                    }
                }
                agg
            }
        }
    }

    pub fn merge(&mut self, other: &Agg) {
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.count += other.count;
        // A statistic set has no values: a bucket that holds one cannot give percentiles.
        if self.values.is_empty() || other.values.is_empty() {
            self.values.clear();
        } else {
            self.values.extend_from_slice(&other.values);
        }
    }

    /// Whether percentiles can be computed: every sample's value is known.
    fn has_values(&self) -> bool {
        !self.values.is_empty()
    }
}

/// One unit's buckets of one metric, keyed by the bucket's start (ms since the epoch).
/// A bucket's width is its tier's resolution, which follows from its age (`TIERS`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub buckets: BTreeMap<i64, Agg>,
}

/// AWS's retention: (resolution, kept for) in ms: 1 s data for 3 hours, 1 minute for 15
/// days, 5 minutes for 63 days, 1 hour for 455 days (15 months). Data older than a
/// tier's span is rolled up into the next; beyond the last it is deleted.
pub const TIERS: [(i64, i64); 4] = [(1_000, 3 * HOUR), (60_000, 15 * DAY), (300_000, 63 * DAY), (3_600_000, 455 * DAY)];
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The resolution data of age `age_ms` is kept at; None past retention.
pub fn resolution_for_age(age_ms: i64) -> Option<i64> {
    TIERS.iter().find(|(_, span)| age_ms < *span).map(|(res, _)| *res)
}

impl Series {
    /// Adds a datum at `ts_ms` into its 1-second bucket.
    pub fn add(&mut self, ts_ms: i64, agg: &Agg) {
        let key = ts_ms.div_euclid(1_000) * 1_000;
        match self.buckets.get_mut(&key) {
            Some(b) => b.merge(agg),
            None => {
                self.buckets.insert(key, agg.clone());
            }
        }
    }

    /// Every bucket in `[start_ms, end_ms)`, grouped by `period_ms` (periods start at
    /// `start_ms` and every period after it), oldest first.
    pub fn query(&self, start_ms: i64, end_ms: i64, period_ms: i64) -> Vec<Bucket> {
        let period = period_ms.max(1);
        let mut out: Vec<Bucket> = vec![];
        let mut current: Option<(i64, Agg)> = None;
        for (ts, agg) in self.buckets.range(start_ms..end_ms.max(start_ms)) {
            // Periods run from the query's start, as CloudWatch's do (a 120 s period from
            // an odd minute is one bucket, not two halves of epoch-aligned ones).
            let slot = start_ms + (ts - start_ms).div_euclid(period) * period;
            match &mut current {
                Some((s, a)) if *s == slot => a.merge(agg),
                _ => {
                    if let Some((s, a)) = current.take() {
                        out.push(Bucket::from_agg(s, a));
                    }
                    current = Some((slot, agg.clone()));
                }
            }
        }
        if let Some((s, a)) = current {
            out.push(Bucket::from_agg(s, a));
        }
        out
    }

    /// Rolls buckets up into the resolution their age calls for, and deletes those past
    /// retention. Returns whether anything changed. Sums, counts, minimums and maximums
    /// are kept exactly; values (for percentiles) are dropped from rolled-up buckets.
    pub fn roll_up(&mut self, now_ms: i64) -> bool {
        let mut changed = false;
        let old: Vec<i64> = self.buckets.range(..now_ms - TIERS[0].1).map(|(k, _)| *k).collect();
        for key in old {
            let Some(agg) = self.buckets.remove(&key) else { continue };
            let Some(res) = resolution_for_age(now_ms - key) else {
                changed = true;
                continue;
            };
            let target = key.div_euclid(res) * res;
            let mut agg = agg;
            if target != key || agg.has_values() {
                changed = true;
            }
            agg.values.clear();
            match self.buckets.get_mut(&target) {
                Some(b) => b.merge(&agg),
                None => {
                    self.buckets.insert(target, agg);
                }
            }
        }
        changed
    }

    pub fn last_ts(&self) -> Option<i64> {
        self.buckets.keys().next_back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(v: f64) -> Agg {
        Agg::of(&Value::Single(v)).unwrap()
    }

    #[test]
    fn values_with_counts_aggregate_as_weighted_samples() {
        let agg = Agg::of(&Value::Values { values: vec![1.0, 3.0], counts: vec![2.0, 1.0] }).unwrap();
        assert_eq!((agg.sum, agg.min, agg.max, agg.count), (5.0, 1.0, 3.0, 3.0));
        assert!(Agg::of(&Value::Values { values: vec![], counts: vec![] }).is_none());
    }

    #[test]
    fn queries_group_by_period_from_the_start() {
        let mut s = Series::default();
        for (ts, v) in [(60_000, 1.0), (61_500, 3.0), (119_999, 5.0), (120_000, 7.0)] {
            s.add(ts, &single(v));
        }
        let b = s.query(0, 180_000, 60_000);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].timestamp_ms, b[0].sum, b[0].count, b[0].min, b[0].max), (60_000, 9.0, 3.0, 1.0, 5.0));
        assert_eq!((b[1].timestamp_ms, b[1].sum), (120_000, 7.0));
        // The end is exclusive.
        assert_eq!(s.query(0, 120_000, 60_000).len(), 1);
        // A 120 s period from an odd minute is one period, starting there.
        let b = s.query(60_000, 180_000, 120_000);
        assert_eq!((b.len(), b[0].timestamp_ms, b[0].sum), (1, 60_000, 16.0));
    }

    #[test]
    fn roll_up_keeps_sums_and_drops_what_is_past_retention() {
        let now = 500 * DAY;
        let mut s = Series::default();
        s.add(now - 1_000, &single(1.0)); // 1 s tier
        s.add(now - 4 * HOUR, &single(2.0)); // minute tier
        s.add(now - 4 * HOUR + 1_000, &single(3.0));
        s.add(now - 20 * DAY, &single(4.0)); // 5 minute tier
        s.add(now - 100 * DAY, &single(5.0)); // hour tier
        s.add(now - 460 * DAY, &single(6.0)); // gone
        assert!(s.roll_up(now));
        let total: f64 = s.buckets.values().map(|a| a.sum).sum();
        assert_eq!(total, 15.0);
        assert_eq!(s.buckets.len(), 4);
        let minute = (now - 4 * HOUR).div_euclid(60_000) * 60_000;
        assert_eq!(s.buckets[&minute].count, 2.0);
        assert!(s.buckets[&minute].values.is_empty());
        assert!(!s.roll_up(now), "rolling up again changes nothing");
    }
}
