//! berth's log storage engine: the events behind the CloudWatch Logs API.
//!
//! Bulk data stays out of the state store: each log stream is an append-only file under
//! `<data-dir>/logs/streams/` (see `segment`), indexed in memory by time, and every
//! acknowledged PutLogEvents batch has been fsynced. Retention is applied when reading
//! and by `apply_retention`, which rewrites the files of streams holding expired events.
//!
//! Log groups and streams (names, creation times, retention, tags) live here too, in
//! `<data-dir>/logs/meta.json`, not in the Store: a group's events and its metadata must
//! be created and deleted together, storedBytes and first/last event times change with
//! every batch (a Store transaction per PutLogEvents would cost more than the append),
//! and the logs API needs no watches or cross-object transactions with ECS objects.
//! Metadata changes are rare and written atomically (temp file, fsync, rename).
#![forbid(unsafe_code)]

pub mod pattern;
pub mod segment;
pub mod validate;

use pattern::Pattern;
use segment::{Entry, Segment};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

pub use validate::{BatchError, Verdict, check_batch};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("The specified log group already exists")]
    GroupExists,
    #[error("The specified log group does not exist.")]
    GroupNotFound,
    #[error("The specified log stream already exists")]
    StreamExists,
    #[error("The specified log stream does not exist.")]
    StreamNotFound,
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("log storage: {0}")]
    Io(#[from] io::Error),
}

/// A log group as DescribeLogGroups shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    pub name: String,
    pub creation_time: i64,
    pub retention_in_days: Option<i32>,
    pub stored_bytes: u64,
}

/// A log stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub name: String,
    pub creation_time: i64,
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    pub stored_bytes: u64,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub stream: String,
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
    /// Stable: the same event always has the same id (56 digits, as AWS's).
    pub event_id: String,
    pub key: EventKey,
}

/// Where an event sorts among all events of a group: by time, then stream, then arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub ts: i64,
    pub stream_id: u64,
    pub seq: u64,
}

impl EventKey {
    pub fn event_id(&self) -> String {
        format!("{:020}{:016}{:020}", self.ts.max(0), self.stream_id, self.seq)
    }

    /// The opaque position after this event (FilterLogEvents' nextToken).
    pub fn token(&self) -> String {
        format!("v1-{}-{}-{}", self.ts, self.stream_id, self.seq)
    }

    pub fn parse_token(token: &str) -> Option<EventKey> {
        let mut p = token.strip_prefix("v1-")?.rsplitn(3, '-');
        let seq = p.next()?.parse().ok()?;
        let stream_id = p.next()?.parse().ok()?;
        let ts = p.next()?.parse().ok()?;
        Some(EventKey { ts, stream_id, seq })
    }
}

/// A position in one stream for GetLogEvents: events strictly after (forward) or before
/// (backward) `(ts, seq)`; `seq` counts from 1 so that `(0, 0)` is before everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamPos {
    pub ts: i64,
    pub seq: u64,
}

/// GetLogEvents' tokens, as AWS hands them out: `f/` or `b/` and 56 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamToken {
    Forward(StreamPos),
    Backward(StreamPos),
}

impl StreamToken {
    pub fn encode(&self) -> String {
        let (p, pos) = match self {
            StreamToken::Forward(pos) => ('f', pos),
            StreamToken::Backward(pos) => ('b', pos),
        };
        format!("{p}/{:020}{:036}", pos.ts.max(0), pos.seq)
    }

    pub fn parse(token: &str) -> Option<StreamToken> {
        let (dir, digits) = token.split_once('/')?;
        if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let pos = StreamPos { ts: digits[..20].parse().ok()?, seq: digits[20..].parse().ok()? };
        match dir {
            "f" => Some(StreamToken::Forward(pos)),
            "b" => Some(StreamToken::Backward(pos)),
            _ => None,
        }
    }
}

fn pos_of(e: &Entry) -> StreamPos {
    StreamPos { ts: e.ts, seq: e.seq + 1 }
}

/// What GetLogEvents asks.
#[derive(Debug, Clone, Default)]
pub struct GetQuery {
    pub start_time: Option<i64>,
    /// Exclusive.
    pub end_time: Option<i64>,
    pub start_from_head: bool,
    pub token: Option<StreamToken>,
    pub limit: usize,
    pub max_bytes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GetResult {
    pub events: Vec<Event>,
    pub forward: StreamToken,
    pub backward: StreamToken,
}

/// What FilterLogEvents asks.
#[derive(Debug, Clone)]
pub struct FilterQuery {
    /// Exactly these streams (missing ones are skipped, as AWS does).
    pub stream_names: Option<Vec<String>>,
    pub stream_prefix: Option<String>,
    /// Inclusive.
    pub start_time: Option<i64>,
    /// Inclusive.
    pub end_time: Option<i64>,
    pub pattern: Pattern,
    /// Only events after this one (the previous page's last).
    pub after: Option<EventKey>,
    pub limit: usize,
    pub max_bytes: usize,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterResult {
    pub events: Vec<Event>,
    /// Set when more matching events may follow the returned ones.
    pub next: Option<EventKey>,
    pub searched_streams: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct MetaFile {
    #[serde(rename = "nextStreamId")]
    next_stream_id: u64,
    groups: BTreeMap<String, GroupMeta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupMeta {
    #[serde(rename = "creationTime")]
    creation_time: i64,
    #[serde(rename = "retentionInDays", default, skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<i32>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    streams: BTreeMap<String, StreamMeta>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct StreamMeta {
    id: u64,
    #[serde(rename = "creationTime")]
    creation_time: i64,
}

struct Stream {
    id: u64,
    name: String,
    creation_time: i64,
    data: RwLock<Segment>,
}

struct Group {
    creation_time: i64,
    retention_in_days: Option<i32>,
    tags: BTreeMap<String, String>,
    streams: BTreeMap<String, Arc<Stream>>,
}

struct Inner {
    next_stream_id: u64,
    groups: BTreeMap<String, Group>,
}

/// The engine: cheap to share (`Arc`), safe to call from many threads. Its calls do
/// blocking file I/O: call them from `spawn_blocking` in async code.
pub struct LogEngine {
    dir: PathBuf,
    inner: RwLock<Inner>,
    /// Serialises metadata writes (meta.json) without holding `inner` for the fsync.
    meta_lock: Mutex<()>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

impl LogEngine {
    /// Opens (creating) the engine in `dir`, indexing every stream's file.
    pub fn open(dir: &Path) -> Result<LogEngine, EngineError> {
        let streams_dir = dir.join("streams");
        std::fs::create_dir_all(&streams_dir)?;
        let meta: MetaFile = match std::fs::read(dir.join("meta.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("logs meta.json: {e}")))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => MetaFile::default(),
            Err(e) => return Err(e.into()),
        };
        let mut groups = BTreeMap::new();
        let mut known = std::collections::BTreeSet::new();
        for (name, g) in meta.groups {
            let mut streams = BTreeMap::new();
            for (sname, s) in g.streams {
                let seg = Segment::open(&stream_path(dir, s.id))?;
                known.insert(s.id);
                streams.insert(
                    sname.clone(),
                    Arc::new(Stream { id: s.id, name: sname, creation_time: s.creation_time, data: RwLock::new(seg) }),
                );
            }
            groups.insert(
                name,
                Group { creation_time: g.creation_time, retention_in_days: g.retention_in_days, tags: g.tags, streams },
            );
        }
        // Files of streams deleted before a crash let the metadata write through.
        for entry in std::fs::read_dir(&streams_dir)? {
            let path = entry?.path();
            let id = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok());
            if id.is_none_or(|id| !known.contains(&id)) {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(LogEngine {
            dir: dir.to_path_buf(),
            inner: RwLock::new(Inner { next_stream_id: meta.next_stream_id, groups }),
            meta_lock: Mutex::new(()),
        })
    }

    fn save_meta(&self) -> Result<(), EngineError> {
        let _guard = self.meta_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let meta = {
            let inner = read(&self.inner);
            MetaFile {
                next_stream_id: inner.next_stream_id,
                groups: inner
                    .groups
                    .iter()
                    .map(|(n, g)| {
                        let streams = g
                            .streams
                            .iter()
                            .map(|(sn, s)| (sn.clone(), StreamMeta { id: s.id, creation_time: s.creation_time }))
                            .collect();
                        let gm = GroupMeta {
                            creation_time: g.creation_time,
                            retention_in_days: g.retention_in_days,
                            tags: g.tags.clone(),
                            streams,
                        };
                        (n.clone(), gm)
                    })
                    .collect(),
            }
        };
        let bytes = serde_json::to_vec(&meta).map_err(|e| io::Error::other(e.to_string()))?;
        let tmp = self.dir.join("meta.json.tmp");
        {
            use std::io::Write;
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join("meta.json"))?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    pub fn create_group(&self, name: &str, now: i64, tags: BTreeMap<String, String>) -> Result<(), EngineError> {
        {
            let mut inner = write(&self.inner);
            if inner.groups.contains_key(name) {
                return Err(EngineError::GroupExists);
            }
            inner.groups.insert(
                name.to_string(),
                Group { creation_time: now, retention_in_days: None, tags, streams: BTreeMap::new() },
            );
        }
        self.save_meta()
    }

    pub fn delete_group(&self, name: &str) -> Result<(), EngineError> {
        let group = write(&self.inner).groups.remove(name).ok_or(EngineError::GroupNotFound)?;
        self.save_meta()?;
        for s in group.streams.values() {
            let _ = std::fs::remove_file(stream_path(&self.dir, s.id));
        }
        Ok(())
    }

    /// Groups whose name starts with `prefix`, by name.
    pub fn groups(&self, prefix: &str) -> Vec<GroupInfo> {
        let inner = read(&self.inner);
        inner
            .groups
            .range(prefix.to_string()..)
            .take_while(|(n, _)| n.starts_with(prefix))
            .map(|(n, g)| GroupInfo {
                name: n.clone(),
                creation_time: g.creation_time,
                retention_in_days: g.retention_in_days,
                stored_bytes: g.streams.values().map(|s| read(&s.data).stored_bytes).sum(),
            })
            .collect()
    }

    pub fn group(&self, name: &str) -> Result<GroupInfo, EngineError> {
        self.groups(name).into_iter().find(|g| g.name == name).ok_or(EngineError::GroupNotFound)
    }

    pub fn set_retention(&self, name: &str, days: Option<i32>) -> Result<(), EngineError> {
        write(&self.inner).groups.get_mut(name).ok_or(EngineError::GroupNotFound)?.retention_in_days = days;
        self.save_meta()
    }

    pub fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, EngineError> {
        Ok(read(&self.inner).groups.get(name).ok_or(EngineError::GroupNotFound)?.tags.clone())
    }

    pub fn tag(&self, name: &str, tags: BTreeMap<String, String>) -> Result<(), EngineError> {
        write(&self.inner).groups.get_mut(name).ok_or(EngineError::GroupNotFound)?.tags.extend(tags);
        self.save_meta()
    }

    pub fn untag(&self, name: &str, keys: &[String]) -> Result<(), EngineError> {
        {
            let mut inner = write(&self.inner);
            let g = inner.groups.get_mut(name).ok_or(EngineError::GroupNotFound)?;
            for k in keys {
                g.tags.remove(k);
            }
        }
        self.save_meta()
    }

    pub fn create_stream(&self, group: &str, name: &str, now: i64) -> Result<(), EngineError> {
        {
            let mut inner = write(&self.inner);
            let id = inner.next_stream_id;
            let g = inner.groups.get_mut(group).ok_or(EngineError::GroupNotFound)?;
            if g.streams.contains_key(name) {
                return Err(EngineError::StreamExists);
            }
            let seg = Segment::open(&stream_path(&self.dir, id))?;
            g.streams.insert(
                name.to_string(),
                Arc::new(Stream { id, name: name.to_string(), creation_time: now, data: RwLock::new(seg) }),
            );
            inner.next_stream_id += 1;
        }
        self.save_meta()
    }

    pub fn delete_stream(&self, group: &str, name: &str) -> Result<(), EngineError> {
        let stream = {
            let mut inner = write(&self.inner);
            let g = inner.groups.get_mut(group).ok_or(EngineError::GroupNotFound)?;
            g.streams.remove(name).ok_or(EngineError::StreamNotFound)?
        };
        self.save_meta()?;
        let _ = std::fs::remove_file(stream_path(&self.dir, stream.id));
        Ok(())
    }

    /// The group's streams, by name, those starting with `prefix`.
    pub fn streams(&self, group: &str, prefix: &str) -> Result<Vec<StreamInfo>, EngineError> {
        let inner = read(&self.inner);
        let g = inner.groups.get(group).ok_or(EngineError::GroupNotFound)?;
        let cutoff = retention_cutoff(g.retention_in_days, now_ms());
        Ok(g.streams
            .range(prefix.to_string()..)
            .take_while(|(n, _)| n.starts_with(prefix))
            .map(|(_, s)| {
                let d = read(&s.data);
                let live = &d.index[d.index.partition_point(|e| e.ts < cutoff)..];
                StreamInfo {
                    name: s.name.clone(),
                    creation_time: s.creation_time,
                    first_event_timestamp: live.first().map(|e| e.ts),
                    last_event_timestamp: live.last().map(|e| e.ts),
                    last_ingestion_time: d.last_ingestion,
                    stored_bytes: d.stored_bytes,
                }
            })
            .collect())
    }

    fn stream(&self, group: &str, name: &str) -> Result<(Arc<Stream>, Option<i32>), EngineError> {
        let inner = read(&self.inner);
        let g = inner.groups.get(group).ok_or(EngineError::GroupNotFound)?;
        let s = g.streams.get(name).ok_or(EngineError::StreamNotFound)?;
        Ok((s.clone(), g.retention_in_days))
    }

    /// PutLogEvents: checks the batch (AWS's rules) and durably appends the accepted
    /// events before returning.
    pub fn put(&self, group: &str, name: &str, events: &[(i64, &str)], now: i64) -> Result<Verdict, EngineError> {
        let (stream, retention) = self.stream(group, name)?;
        let verdict = check_batch(events, now, retention)?;
        let accepted = &events[verdict.accepted.clone()];
        if !accepted.is_empty() {
            write(&stream.data).append(accepted, now)?;
        }
        Ok(verdict)
    }

    /// GetLogEvents over one stream.
    pub fn get(&self, group: &str, name: &str, q: &GetQuery) -> Result<GetResult, EngineError> {
        let (stream, retention) = self.stream(group, name)?;
        let d = read(&stream.data);
        let lo_ts = q.start_time.unwrap_or(i64::MIN).max(retention_cutoff(retention, now_ms()));
        let lo = d.index.partition_point(|e| e.ts < lo_ts);
        let hi = match q.end_time {
            Some(end) => d.index.partition_point(|e| e.ts < end),
            None => d.index.len(),
        }
        .max(lo);
        let window = &d.index[lo..hi];
        let limit = q.limit.max(1);
        let (range, forward) = match q.token {
            Some(StreamToken::Forward(p)) => {
                let a = window.partition_point(|e| pos_of(e) <= p);
                (a..(a + limit).min(window.len()), true)
            }
            Some(StreamToken::Backward(p)) => {
                let b = window.partition_point(|e| pos_of(e) < p);
                (b.saturating_sub(limit)..b, false)
            }
            None if q.start_from_head => (0..limit.min(window.len()), true),
            None => (window.len().saturating_sub(limit)..window.len(), false),
        };
        let mut picked = &window[range];
        // The response size bound: trim from the far end of the direction read.
        let mut bytes = 0usize;
        let fit = if forward {
            picked.iter().take_while(|e| bump(&mut bytes, e, q.max_bytes)).count()
        } else {
            picked.iter().rev().take_while(|e| bump(&mut bytes, e, q.max_bytes)).count()
        };
        // At least one event, however large, so that paging always moves.
        let fit = fit.max(1).min(picked.len());
        picked = if forward { &picked[..fit] } else { &picked[picked.len() - fit..] };
        let mut reader = d.reader();
        let mut events = Vec::with_capacity(picked.len());
        for e in picked {
            events.push(event_of(&mut reader, e, stream.id, &stream.name)?);
        }
        let (forward_tok, backward_tok) = match (picked.first(), picked.last()) {
            (Some(first), Some(last)) => (StreamToken::Forward(pos_of(last)), StreamToken::Backward(pos_of(first))),
            // Nothing: hand back the token we were given (AWS's end-of-stream signal).
            _ => match q.token {
                Some(t @ StreamToken::Forward(p)) => (t, StreamToken::Backward(p)),
                Some(t @ StreamToken::Backward(p)) => (StreamToken::Forward(p), t),
                None => {
                    let p = StreamPos { ts: 0, seq: 0 };
                    (StreamToken::Forward(p), StreamToken::Backward(p))
                }
            },
        };
        Ok(GetResult { events, forward: forward_tok, backward: backward_tok })
    }

    /// FilterLogEvents over a group: matching events of the chosen streams, interleaved
    /// by time.
    pub fn filter(&self, group: &str, q: &FilterQuery) -> Result<FilterResult, EngineError> {
        let (streams, retention) = {
            let inner = read(&self.inner);
            let g = inner.groups.get(group).ok_or(EngineError::GroupNotFound)?;
            let chosen: Vec<Arc<Stream>> = match (&q.stream_names, &q.stream_prefix) {
                (Some(names), _) => names.iter().filter_map(|n| g.streams.get(n).cloned()).collect(),
                (None, Some(prefix)) => g
                    .streams
                    .range(prefix.clone()..)
                    .take_while(|(n, _)| n.starts_with(prefix.as_str()))
                    .map(|(_, s)| s.clone())
                    .collect(),
                (None, None) => g.streams.values().cloned().collect(),
            };
            (chosen, g.retention_in_days)
        };
        let lo_ts = q.start_time.unwrap_or(i64::MIN).max(retention_cutoff(retention, q.now));
        let hi_ts = q.end_time.unwrap_or(i64::MAX);
        let limit = q.limit.max(1);
        let mut found: Vec<Event> = vec![];
        let mut more = false;
        for s in &streams {
            let d = read(&s.data);
            let mut start = d.index.partition_point(|e| e.ts < lo_ts);
            if let Some(after) = q.after {
                // Events of this stream that sort after `after` in (ts, stream, seq) order.
                let from = d.index.partition_point(|e| (e.ts, s.id, e.seq) <= (after.ts, after.stream_id, after.seq));
                start = start.max(from);
            }
            let mut reader = d.reader();
            let mut n = 0;
            for e in &d.index[start..] {
                if e.ts > hi_ts {
                    break;
                }
                // Once this stream has `limit` matches, later ones cannot make the page.
                if n == limit {
                    more = true;
                    break;
                }
                let msg = reader.message(e)?;
                let text = String::from_utf8_lossy(msg);
                if q.pattern.matches(&text) {
                    let key = EventKey { ts: e.ts, stream_id: s.id, seq: e.seq };
                    found.push(Event {
                        stream: s.name.clone(),
                        timestamp: e.ts,
                        ingestion_time: e.ingest,
                        message: text.into_owned(),
                        event_id: key.event_id(),
                        key,
                    });
                    n += 1;
                }
            }
        }
        found.sort_by_key(|e| e.key);
        if found.len() > limit {
            found.truncate(limit);
            more = true;
        }
        let mut bytes = 0;
        let fit = found.iter().take_while(|e| {
            bytes += e.message.len() + 100;
            bytes <= q.max_bytes
        });
        let fit = fit.count().max(1).min(found.len());
        if fit < found.len() {
            found.truncate(fit);
            more = true;
        }
        let next = if more { found.last().map(|e| e.key) } else { None };
        Ok(FilterResult { events: found, next, searched_streams: streams.iter().map(|s| s.name.clone()).collect() })
    }

    /// Rewrites streams holding events older than their group's retention. Returns how
    /// many events were dropped.
    pub fn apply_retention(&self, now: i64) -> Result<usize, EngineError> {
        let targets: Vec<(Arc<Stream>, i64)> = {
            let inner = read(&self.inner);
            inner
                .groups
                .values()
                .filter_map(|g| g.retention_in_days.map(|d| (g, retention_cutoff(Some(d), now))))
                .flat_map(|(g, cutoff)| g.streams.values().map(move |s| (s.clone(), cutoff)))
                .collect()
        };
        let mut dropped = 0;
        for (s, cutoff) in targets {
            let needs = read(&s.data).index.first().is_some_and(|e| e.ts < cutoff);
            if needs {
                dropped += write(&s.data).drop_before(cutoff)?;
            }
        }
        Ok(dropped)
    }
}

fn bump(bytes: &mut usize, e: &Entry, max: usize) -> bool {
    *bytes += e.len as usize + 26;
    *bytes <= max.max(1)
}

fn event_of(reader: &mut segment::Reader<'_>, e: &Entry, stream_id: u64, stream: &str) -> io::Result<Event> {
    let key = EventKey { ts: e.ts, stream_id, seq: e.seq };
    Ok(Event {
        stream: stream.to_string(),
        timestamp: e.ts,
        ingestion_time: e.ingest,
        message: String::from_utf8_lossy(reader.message(e)?).into_owned(),
        event_id: key.event_id(),
        key,
    })
}

fn stream_path(dir: &Path, id: u64) -> PathBuf {
    dir.join("streams").join(format!("{id}.log"))
}

/// Events before this are past the group's retention.
pub fn retention_cutoff(days: Option<i32>, now: i64) -> i64 {
    days.map_or(i64::MIN, |d| now - i64::from(d) * DAY_MS)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests;
