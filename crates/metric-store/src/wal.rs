//! The write-ahead log: checksummed records appended to `wal-<generation>.log`, and group
//! commit: concurrent writers hand their records to whoever is syncing, so that one
//! write and one fsync acknowledge every batch that arrived meanwhile.
//!
//! Record: `len u32 | checksum u32 | payload` (little-endian; FNV-1a over the payload).
//! Opening stops at the first short or corrupt record (a torn tail from a crash) and
//! cuts the file there: only whole, fsynced records were acknowledged.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const HEADER: usize = 8;

fn fnv(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

pub fn frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&fnv(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

pub fn path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("wal-{generation:016}.log"))
}

/// The generations of the log files in `dir`, oldest first.
pub fn generations(dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(g) = name.strip_prefix("wal-").and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse().ok()) {
            out.push(g);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads every whole record of a log file, truncating a torn tail.
pub fn read(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let mut bytes = vec![];
    file.read_to_end(&mut bytes)?;
    let mut records = vec![];
    let mut pos = 0usize;
    while pos + HEADER <= bytes.len() {
        let len = u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        let sum = u32::from_le_bytes([bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]]);
        let Some(payload) = bytes.get(pos + HEADER..pos + HEADER + len) else { break };
        if fnv(payload) != sum {
            break;
        }
        records.push(payload.to_vec());
        pos += HEADER + len;
    }
    if pos < bytes.len() {
        file.set_len(pos as u64)?;
        file.sync_all()?;
    }
    Ok(records)
}

/// An open log file being appended to.
#[derive(Debug)]
pub struct Log {
    pub generation: u64,
    file: File,
    pub len: u64,
}

impl Log {
    pub fn create(dir: &Path, generation: u64) -> io::Result<Log> {
        let file = OpenOptions::new().create(true).append(true).open(path(dir, generation))?;
        let len = file.metadata()?.len();
        sync_dir(dir)?;
        Ok(Log { generation, file, len })
    }

    /// Appends framed records and makes them durable.
    pub fn append(&mut self, framed: &[u8]) -> io::Result<()> {
        self.file.write_all(framed)?;
        self.file.sync_data()?;
        self.len += framed.len() as u64;
        Ok(())
    }
}

/// Makes a directory's entries (created or renamed files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_cut_off_and_whole_records_survive() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), 1).unwrap();
        let mut buf = vec![];
        frame(&mut buf, b"one");
        frame(&mut buf, b"two");
        log.append(&buf).unwrap();
        let mut torn = vec![];
        frame(&mut torn, b"three");
        log.append(&torn[..torn.len() - 2]).unwrap();
        let records = read(&path(dir.path(), 1)).unwrap();
        assert_eq!(records, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(std::fs::metadata(path(dir.path(), 1)).unwrap().len(), buf.len() as u64);
        assert_eq!(generations(dir.path()).unwrap(), vec![1]);
    }
}
