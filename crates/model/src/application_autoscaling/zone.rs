//! Time zones for scheduled actions (`Timezone`: an IANA name), from the system's
//! compiled zone files (TZif, as in /usr/share/zoneinfo). Parsing is pure; reading the
//! file is `load`'s alone. Past the file's last transition the last offset holds.

use super::AasError;

/// UTC offsets (seconds) over time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Zone {
    /// (UTC second a new offset starts, that offset), ascending.
    transitions: Vec<(i64, i32)>,
    initial: i32,
}

impl Zone {
    pub fn utc() -> Self {
        Zone::default()
    }

    /// A zone with one fixed offset (tests, and `Etc/GMT±N` without a file).
    pub fn fixed(offset: i32) -> Self {
        Zone { transitions: vec![], initial: offset }
    }

    /// The offset in force at UTC second `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }

    /// The UTC second of local wall time `local` (seconds since the epoch as if UTC);
    /// a time in a gap (a clock moved forward) comes out shifted by the gap.
    pub fn to_utc(&self, local: i64) -> i64 {
        let first = local - i64::from(self.offset_at(local));
        let second = local - i64::from(self.offset_at(first));
        if i64::from(self.offset_at(second)) == local - second { second } else { first }
    }

    /// A TZif file (versions 1 to 4; the 64-bit block when there is one).
    pub fn parse(data: &[u8]) -> Option<Zone> {
        let header = Header::read(data)?;
        if data[4] >= b'2' {
            let rest = data.get(header.v1_len()..)?;
            let header2 = Header::read(rest)?;
            return header2.zone(&rest[44..], 8);
        }
        header.zone(&data[44..], 4)
    }
}

struct Header {
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

impl Header {
    fn read(d: &[u8]) -> Option<Header> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let n = |i: usize| be32(d, 20 + 4 * i).map(|v| v as usize);
        Some(Header { isutcnt: n(0)?, isstdcnt: n(1)?, leapcnt: n(2)?, timecnt: n(3)?, typecnt: n(4)?, charcnt: n(5)? })
    }

    fn data_len(&self, time_size: usize) -> usize {
        self.timecnt * time_size
            + self.timecnt
            + self.typecnt * 6
            + self.charcnt
            + self.leapcnt * (time_size + 4)
            + self.isstdcnt
            + self.isutcnt
    }

    fn v1_len(&self) -> usize {
        44 + self.data_len(4)
    }

    fn zone(&self, d: &[u8], time_size: usize) -> Option<Zone> {
        if d.len() < self.data_len(time_size) || self.typecnt == 0 {
            return None;
        }
        let time = |i: usize| -> Option<i64> {
            let at = i * time_size;
            Some(if time_size == 8 {
                i64::from_be_bytes(d.get(at..at + 8)?.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
            })
        };
        let indices = self.timecnt * time_size;
        let types = indices + self.timecnt;
        let offset_of = |t: usize| -> Option<i32> {
            Some(i32::from_be_bytes(d.get(types + 6 * t..types + 6 * t + 4)?.try_into().ok()?))
        };
        let mut transitions = Vec::with_capacity(self.timecnt);
        for i in 0..self.timecnt {
            let t = usize::from(*d.get(indices + i)?);
            if t >= self.typecnt {
                return None;
            }
            transitions.push((time(i)?, offset_of(t)?));
        }
        Some(Zone { transitions, initial: offset_of(0)? })
    }
}

/// A Timezone name as AWS takes it (an IANA name such as `America/New_York`, `UTC`):
/// the path of its file under the zone directory, or an error.
pub fn file_name(name: &str) -> Result<&str, AasError> {
    let valid = !name.is_empty()
        && name.len() <= 1600
        && !name.starts_with('/')
        && name.split('/').all(|p| !p.is_empty() && p != "." && p != "..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if valid { Ok(name) } else { Err(unknown(name)) }
}

/// Where the system's compiled zone files are.
pub const ZONE_DIR: &str = "/usr/share/zoneinfo";

/// The zone a Timezone names (UTC when none), read from `ZONE_DIR`: the one file read of
/// this module, shared by the API's check and the scaler.
pub fn load(name: Option<&str>) -> Result<Zone, AasError> {
    let Some(name) = name.filter(|n| !matches!(*n, "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT")) else {
        return Ok(Zone::utc());
    };
    let data = std::fs::read(std::path::Path::new(ZONE_DIR).join(file_name(name)?)).map_err(|_| unknown(name))?;
    Zone::parse(&data).ok_or_else(|| unknown(name))
}

pub fn unknown(name: &str) -> AasError {
    AasError::Validation(format!("Invalid timezone {name}: use an IANA time zone name such as America/New_York or UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_local_times() {
        let z = Zone { transitions: vec![(1000, 3600), (5000, 0)], initial: 0 };
        assert_eq!(z.offset_at(999), 0);
        assert_eq!(z.offset_at(1000), 3600);
        assert_eq!(z.offset_at(6000), 0);
        assert_eq!(z.to_utc(1100 + 3600), 1100);
        assert_eq!(Zone::fixed(-18000).to_utc(0), 18000, "UTC-5: local midnight is 05:00 UTC");
    }

    #[test]
    fn a_system_zone_file_parses_when_present() {
        // 2026-07-01T12:00:00Z: New York is on daylight time (UTC-4), in January on UTC-5.
        let Ok(data) = std::fs::read("/usr/share/zoneinfo/America/New_York") else { return };
        let z = Zone::parse(&data).unwrap();
        assert_eq!(z.offset_at(1_782_907_200), -4 * 3600);
        assert_eq!(z.offset_at(1_767_268_800), -5 * 3600);
        assert!(Zone::parse(b"nonsense").is_none());
        assert!(Zone::parse(&data[..30]).is_none());
    }

    #[test]
    fn names() {
        assert!(file_name("America/New_York").is_ok());
        assert!(file_name("Etc/GMT+5").is_ok());
        for bad in ["../etc/passwd", "/etc/x", "", "a//b", "a b"] {
            assert!(file_name(bad).is_err(), "{bad}");
        }
    }
}
