//! AWS timestamps: the JSON protocols carry epoch seconds as a number (fractional
//! allowed); the query protocol writes ISO 8601 text (`iso8601`, `opt_iso8601`).

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

/// `2023-11-14T22:13:20.250Z`: UTC with milliseconds, as the query protocol writes it.
pub fn to_iso8601(t: Timestamp) -> String {
    let nanos = (t.as_secs_f64() * 1e3).round() as i128 * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(&format).unwrap_or_default()
}

/// ISO 8601 text (any offset, any fraction), as query-protocol clients and earlier
/// stored documents send it.
pub fn from_iso8601(text: &str) -> Option<Timestamp> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    // Milliseconds, as `From<SystemTime>` counts them, so that a written time reads back equal.
    Some(Timestamp((at.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0))
}

/// A timestamp member of a query-protocol shape: written as ISO 8601 text, read from
/// that text or from epoch seconds.
pub mod iso8601 {
    use super::*;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrSeconds {
        Text(String),
        Seconds(Timestamp),
    }

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_iso8601(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        match TextOrSeconds::deserialize(d)? {
            TextOrSeconds::Seconds(t) => Ok(t),
            TextOrSeconds::Text(text) => from_iso8601(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not an ISO 8601 timestamp"))),
        }
    }
}

/// `iso8601` for an optional member.
pub mod opt_iso8601 {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => iso8601::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "iso8601")] Timestamp);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
    }
}

/// `iso8601` for an optional list of timestamps (GetMetricData's Timestamps).
pub mod opt_iso8601_list {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "iso8601")] Timestamp);

    pub fn serialize<S: Serializer>(t: &Option<Vec<Timestamp>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(list) => s.collect_seq(list.iter().map(|t| Wrapped(*t))),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Timestamp>>, D::Error> {
        Ok(Option::<Vec<Wrapped>>::deserialize(d)?.map(|v| v.into_iter().map(|w| w.0).collect()))
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
    fn query_timestamps_are_iso8601_text() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct S {
            #[serde(with = "iso8601")]
            at: Timestamp,
            #[serde(default, with = "opt_iso8601", skip_serializing_if = "Option::is_none")]
            maybe: Option<Timestamp>,
        }
        let s = S { at: Timestamp(1_700_000_000.25), maybe: None };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!({"at": "2023-11-14T22:13:20.250Z"}));
        assert_eq!(serde_json::from_value::<S>(json).unwrap(), s);
        let both: S = serde_json::from_value(serde_json::json!({"at": 1.5, "maybe": "1970-01-01T00:00:02Z"})).unwrap();
        assert_eq!(both, S { at: Timestamp(1.5), maybe: Some(Timestamp(2.0)) });
        assert!(serde_json::from_value::<S>(serde_json::json!({"at": "yesterday"})).is_err());
    }

    #[test]
    fn now_has_millisecond_precision() {
        let t = Timestamp::now().0;
        assert_eq!((t * 1000.0).round() / 1000.0, t);
    }
}
