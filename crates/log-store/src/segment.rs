//! One stream's events on disk: an append-only file of checksummed records, and the
//! in-memory time index built from it when the engine opens.
//!
//! Record: `len u32 | checksum u32 | timestamp i64 | ingestion i64 | seq u64 | message`
//! (little-endian; `len` is the message's byte length; the checksum is FNV-1a over
//! everything after it). A crash can leave a torn record at the end: opening stops at
//! the first short or corrupt record and truncates the file there. Only whole batches
//! that were fsynced were acknowledged, so nothing acknowledged is lost.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const HEADER: usize = 32;

/// Where one event is, sorted in the index by `(ts, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub ts: i64,
    pub seq: u64,
    pub ingest: i64,
    pub offset: u64,
    pub len: u32,
}

impl Entry {
    pub fn key(&self) -> (i64, u64) {
        (self.ts, self.seq)
    }
}

fn fnv(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in *p {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

pub fn encode(out: &mut Vec<u8>, ts: i64, ingest: i64, seq: u64, msg: &[u8]) {
    let (t, i, s) = (ts.to_le_bytes(), ingest.to_le_bytes(), seq.to_le_bytes());
    out.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    out.extend_from_slice(&fnv(&[&t, &i, &s, msg]).to_le_bytes());
    out.extend_from_slice(&t);
    out.extend_from_slice(&i);
    out.extend_from_slice(&s);
    out.extend_from_slice(msg);
}

/// A stream's file and index.
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    file: File,
    pub len: u64,
    /// Sorted by `(ts, seq)`.
    pub index: Vec<Entry>,
    pub next_seq: u64,
    /// The messages' bytes (CloudWatch's storedBytes).
    pub stored_bytes: u64,
    pub last_ingestion: Option<i64>,
}

impl Segment {
    /// Opens (creating if absent) and indexes the file, dropping a torn tail.
    pub fn open(path: &Path) -> io::Result<Segment> {
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let mut bytes = vec![];
        file.read_to_end(&mut bytes)?;
        let mut index = vec![];
        let (mut pos, mut next_seq, mut stored, mut last_ingestion) = (0usize, 0u64, 0u64, None);
        while pos + HEADER <= bytes.len() {
            let h = &bytes[pos..pos + HEADER];
            let len = u32::from_le_bytes(h[0..4].try_into().unwrap_or_default()) as usize;
            if pos + HEADER + len > bytes.len() {
                break;
            }
            let sum = u32::from_le_bytes(h[4..8].try_into().unwrap_or_default());
            let msg = &bytes[pos + HEADER..pos + HEADER + len];
            if fnv(&[&h[8..16], &h[16..24], &h[24..32], msg]) != sum {
                break;
            }
            let ts = i64::from_le_bytes(h[8..16].try_into().unwrap_or_default());
            let ingest = i64::from_le_bytes(h[16..24].try_into().unwrap_or_default());
            let seq = u64::from_le_bytes(h[24..32].try_into().unwrap_or_default());
            index.push(Entry { ts, seq, ingest, offset: pos as u64, len: len as u32 });
            next_seq = next_seq.max(seq + 1);
            stored += len as u64;
            last_ingestion = Some(last_ingestion.map_or(ingest, |l: i64| l.max(ingest)));
            pos += HEADER + len;
        }
        if pos < bytes.len() {
            tracing_free_warn(path, bytes.len() - pos);
            file.set_len(pos as u64)?;
            file.sync_all()?;
        }
        index.sort_by_key(Entry::key);
        Ok(Segment {
            path: path.to_path_buf(),
            file,
            len: pos as u64,
            index,
            next_seq,
            stored_bytes: stored,
            last_ingestion,
        })
    }

    /// Appends a batch (sorted by timestamp) with one write and one fsync.
    pub fn append(&mut self, events: &[(i64, &str)], ingest: i64) -> io::Result<()> {
        let mut buf = Vec::with_capacity(events.iter().map(|(_, m)| m.len() + HEADER).sum());
        let mut entries = Vec::with_capacity(events.len());
        let mut offset = self.len;
        for (ts, msg) in events {
            let seq = self.next_seq;
            self.next_seq += 1;
            encode(&mut buf, *ts, ingest, seq, msg.as_bytes());
            entries.push(Entry { ts: *ts, seq, ingest, offset, len: msg.len() as u32 });
            offset += (HEADER + msg.len()) as u64;
        }
        if let Err(e) = self.file.write_all(&buf).and_then(|_| self.file.sync_data()) {
            // Nothing of a failed batch may be visible or acknowledged: cut it off again.
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len = offset;
        for e in entries {
            self.stored_bytes += u64::from(e.len);
            // Usually in order: push; a batch older than the newest event is inserted.
            if self.index.last().is_none_or(|l| l.key() <= e.key()) {
                self.index.push(e);
            } else {
                let at = self.index.partition_point(|x| x.key() < e.key());
                self.index.insert(at, e);
            }
        }
        self.last_ingestion = Some(ingest);
        Ok(())
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader { file: &self.file, buf: vec![], buf_off: 0 }
    }

    /// Rewrites the file without the events older than `cutoff` (retention).
    /// Returns how many were dropped.
    pub fn drop_before(&mut self, cutoff: i64) -> io::Result<usize> {
        let keep_from = self.index.partition_point(|e| e.ts < cutoff);
        if keep_from == 0 {
            return Ok(0);
        }
        let tmp = self.path.with_extension("compact");
        let mut out = Vec::new();
        {
            let mut r = self.reader();
            let mut kept: Vec<&Entry> = self.index[keep_from..].iter().collect();
            kept.sort_by_key(|e| e.offset);
            for e in kept {
                let msg = r.message(e)?.to_vec();
                encode(&mut out, e.ts, e.ingest, e.seq, &msg);
            }
        }
        let mut f = File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        let fresh = Segment::open(&self.path)?;
        let next_seq = self.next_seq;
        *self = fresh;
        self.next_seq = self.next_seq.max(next_seq);
        Ok(keep_from)
    }
}

fn tracing_free_warn(path: &Path, bytes: usize) {
    eprintln!("berth-log-store: {}: dropping a torn tail of {bytes} bytes", path.display());
}

/// Reads messages by entry, through a buffer so that sequential entries cost one
/// `pread` per megabyte rather than one per event.
pub struct Reader<'a> {
    file: &'a File,
    buf: Vec<u8>,
    buf_off: u64,
}

const CHUNK: usize = 1 << 20;

impl Reader<'_> {
    pub fn message(&mut self, e: &Entry) -> io::Result<&[u8]> {
        let start = e.offset + HEADER as u64;
        let end = start + u64::from(e.len);
        if start < self.buf_off || end > self.buf_off + self.buf.len() as u64 {
            let want = (e.len as usize).max(CHUNK);
            self.buf.resize(want, 0);
            let mut got = 0;
            while got < want {
                let n = self.file.read_at(&mut self.buf[got..], start + got as u64)?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            self.buf.truncate(got);
            self.buf_off = start;
            if (got as u64) < u64::from(e.len) {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "log record beyond the end of its file"));
            }
        }
        let at = (start - self.buf_off) as usize;
        Ok(&self.buf[at..at + e.len as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_reopen_and_drop_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut s = Segment::open(&path).unwrap();
        s.append(&[(10, "a"), (20, "bb")], 100).unwrap();
        s.append(&[(5, "late")], 101).unwrap();
        let keys: Vec<_> = s.index.iter().map(|e| (e.ts, e.seq)).collect();
        assert_eq!(keys, vec![(5, 2), (10, 0), (20, 1)]);
        drop(s);
        // A torn record at the end (a crash mid-write).
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2, 3]).unwrap();
        drop(f);
        let s = Segment::open(&path).unwrap();
        assert_eq!(s.index.len(), 3);
        assert_eq!(s.next_seq, 3);
        assert_eq!(s.stored_bytes, 7);
        let mut r = s.reader();
        assert_eq!(r.message(&s.index[0]).unwrap(), b"late");
        assert_eq!(r.message(&s.index[2]).unwrap(), b"bb");
    }

    #[test]
    fn retention_rewrites_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut s = Segment::open(&path).unwrap();
        s.append(&[(1, "old"), (2, "old2"), (30, "new")], 100).unwrap();
        assert_eq!(s.drop_before(10).unwrap(), 2);
        assert_eq!(s.index.len(), 1);
        s.append(&[(40, "newer")], 101).unwrap();
        let s = Segment::open(&path).unwrap();
        let seqs: Vec<_> = s.index.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2, 3]);
        assert_eq!(s.reader().message(&s.index[1]).unwrap(), b"newer");
    }
}
