//! PutLogEvents' rules, as CloudWatch Logs applies them: pure, no I/O.

/// The most a batch may weigh: the messages' UTF-8 bytes plus 26 bytes per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const EVENT_OVERHEAD_BYTES: usize = 26;
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// A batch may not span more than this (ms).
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;
/// Events older than this are refused as too old (ms).
pub const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
/// Events further ahead than this are refused as too new (ms).
pub const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;

/// A batch refused as a whole (InvalidParameterException).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BatchError(pub String);

/// Which events of an acceptable batch are stored: `accepted` is the index range; the
/// rest are reported in `rejectedLogEventsInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub accepted: std::ops::Range<usize>,
    /// Index of the last event older than 14 days.
    pub too_old_end: Option<usize>,
    /// Index of the last event older than the group's retention.
    pub expired_end: Option<usize>,
    /// Index of the first event more than 2 hours ahead.
    pub too_new_start: Option<usize>,
}

impl Verdict {
    pub fn any_rejected(&self) -> bool {
        self.too_old_end.is_some() || self.expired_end.is_some() || self.too_new_start.is_some()
    }
}

/// Checks a batch of (timestamp ms, message) against AWS's limits at `now` (ms), for a
/// group keeping events `retention_days` (None: forever).
pub fn check_batch(events: &[(i64, &str)], now: i64, retention_days: Option<i32>) -> Result<Verdict, BatchError> {
    if events.is_empty() {
        return Err(BatchError("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(BatchError(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_EVENTS}"
        )));
    }
    let mut bytes = 0usize;
    for (i, (_, msg)) in events.iter().enumerate() {
        if msg.is_empty() {
            return Err(BatchError(format!(
                "1 validation error detected: Value at 'logEvents.{}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
                i + 1
            )));
        }
        bytes += msg.len() + EVENT_OVERHEAD_BYTES;
    }
    if bytes > MAX_BATCH_BYTES {
        return Err(BatchError(format!(
            "Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES} (each event counts its message's UTF-8 bytes plus {EVENT_OVERHEAD_BYTES})"
        )));
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(BatchError("Log events in a single PutLogEvents request must be in chronological order.".into()));
    }
    let (first, last) = (events[0].0, events[events.len() - 1].0);
    if last - first > MAX_BATCH_SPAN_MS {
        return Err(BatchError(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into(),
        ));
    }
    let mut v = Verdict::default();
    let too_old = now - MAX_AGE_MS;
    let expired = retention_days.map(|d| now - i64::from(d) * 24 * 3600 * 1000);
    let too_new = now + MAX_AHEAD_MS;
    // Sorted, so the rejected ones are a prefix and a suffix.
    let mut start = 0;
    for (i, (ts, _)) in events.iter().enumerate() {
        let old = *ts < too_old;
        let exp = expired.is_some_and(|e| *ts < e);
        if !(old || exp) {
            break;
        }
        if old {
            v.too_old_end = Some(i);
        }
        if exp {
            v.expired_end = Some(i);
        }
        start = i + 1;
    }
    let end = events.iter().position(|(ts, _)| *ts > too_new).unwrap_or(events.len()).max(start);
    if end < events.len() {
        v.too_new_start = Some(end);
    }
    v.accepted = start..end;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn accepts_a_normal_batch() {
        let v = check_batch(&[(NOW - 5, "a"), (NOW, "b")], NOW, None).unwrap();
        assert_eq!(v.accepted, 0..2);
        assert!(!v.any_rejected());
    }

    #[test]
    fn refuses_unsorted_empty_and_huge() {
        assert!(check_batch(&[], NOW, None).is_err());
        let e = check_batch(&[(NOW, "a"), (NOW - 1, "b")], NOW, None).unwrap_err();
        assert!(e.0.contains("chronological"));
        assert!(check_batch(&[(NOW, "")], NOW, None).is_err());
        let big = "x".repeat(MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES + 1);
        assert!(check_batch(&[(NOW, &big)], NOW, None).is_err());
        let fits = "x".repeat(MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES);
        assert!(check_batch(&[(NOW, &fits)], NOW, None).is_ok());
        let many: Vec<(i64, &str)> = (0..=MAX_BATCH_EVENTS).map(|_| (NOW, "m")).collect();
        assert!(check_batch(&many, NOW, None).is_err());
        let span = check_batch(&[(NOW - MAX_BATCH_SPAN_MS - 1, "a"), (NOW, "b")], NOW, None).unwrap_err();
        assert!(span.0.contains("24 hours"));
    }

    #[test]
    fn rejects_too_old_expired_and_too_new() {
        let day = 24 * 3600 * 1000;
        let evs = [(NOW - 15 * day, "old"), (NOW - 2 * day, "expired"), (NOW, "ok"), (NOW + 3 * 3600 * 1000, "new")];
        // The whole batch spans more than 24 h: check each rule on its own.
        let v = check_batch(&evs[..1], NOW, None).unwrap();
        assert_eq!((v.accepted.clone(), v.too_old_end), (1..1, Some(0)));
        // Retention 1 day: an event 25 h old is expired, one 1 h later is not.
        let hour = 3600 * 1000;
        let v = check_batch(&[(NOW - 25 * hour, "expired"), (NOW - 2 * hour, "ok")], NOW, Some(1)).unwrap();
        assert_eq!((v.accepted.clone(), v.expired_end, v.too_old_end), (1..2, Some(0), None));
        let v = check_batch(&evs[2..], NOW, None).unwrap();
        assert_eq!((v.accepted.clone(), v.too_new_start), (0..1, Some(1)));
    }
}
