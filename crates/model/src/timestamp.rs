//! AWS JSON-protocol timestamps: epoch seconds as a JSON number (fractional allowed).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as the JSON protocols carry it: seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Timestamp(pub f64);

impl Timestamp {
    pub fn now() -> Self {
        SystemTime::now().into()
    }

    pub fn as_secs_f64(&self) -> f64 {
        self.0
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        // Millisecond precision, as AWS returns it.
        Timestamp((since.as_millis() as f64) / 1000.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        if !secs.is_finite() {
            return Err(serde::de::Error::custom("timestamp must be a finite number of epoch seconds"));
        }
        Ok(Timestamp(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_a_json_number() {
        let t = Timestamp(1795301783.316);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1795301783.316");
        assert_eq!(serde_json::from_str::<Timestamp>("1795301783.316").unwrap(), t);
        assert!(serde_json::from_str::<Timestamp>("\"2024-01-01\"").is_err());
    }

    #[test]
    fn now_has_millisecond_precision() {
        let t = Timestamp::now().0;
        assert_eq!((t * 1000.0).round() / 1000.0, t);
    }
}
