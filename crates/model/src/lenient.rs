//! The query protocol sends every scalar as text; stored documents hold real numbers
//! and booleans. The generated shapes of query services decode their numeric and
//! boolean members through these, which accept both.

use serde::{Deserialize, Deserializer, de::Error};
use std::fmt::Display;
use std::str::FromStr;

#[derive(Deserialize)]
#[serde(untagged)]
enum ValueOrText<T> {
    Value(T),
    Text(String),
}

fn from_text<T: FromStr<Err: Display>, E: Error>(text: &str) -> Result<T, E> {
    text.trim().parse().map_err(|e| E::custom(format!("'{text}' is not a valid value: {e}")))
}

pub fn scalar<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr<Err: Display>,
{
    match ValueOrText::<T>::deserialize(d)? {
        ValueOrText::Value(v) => Ok(v),
        ValueOrText::Text(t) => from_text(&t),
    }
}

pub fn opt_scalar<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr<Err: Display>,
{
    match Option::<ValueOrText<T>>::deserialize(d)? {
        None => Ok(None),
        Some(ValueOrText::Value(v)) => Ok(Some(v)),
        Some(ValueOrText::Text(t)) => from_text(&t).map(Some),
    }
}

/// A list of scalars (CloudWatch's Values and Counts), each text or a value.
pub fn opt_scalars<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr<Err: Display>,
{
    let Some(items) = Option::<Vec<ValueOrText<T>>>::deserialize(d)? else { return Ok(None) };
    items
        .into_iter()
        .map(|item| match item {
            ValueOrText::Value(v) => Ok(v),
            ValueOrText::Text(t) => from_text(&t),
        })
        .collect::<Result<Vec<T>, D::Error>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct S {
        #[serde(default, deserialize_with = "opt_scalar")]
        n: Option<i32>,
        #[serde(default, deserialize_with = "opt_scalar")]
        b: Option<bool>,
    }

    #[derive(Deserialize)]
    struct Required {
        #[serde(deserialize_with = "scalar")]
        n: i64,
    }

    #[test]
    fn numbers_and_booleans_come_as_text_or_as_themselves() {
        let s: S = serde_json::from_value(serde_json::json!({"n": "80", "b": "true"})).unwrap();
        assert_eq!((s.n, s.b), (Some(80), Some(true)));
        let s: S = serde_json::from_value(serde_json::json!({"n": 80, "b": false})).unwrap();
        assert_eq!((s.n, s.b), (Some(80), Some(false)));
        let s: S = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!((s.n, s.b), (None, None));
        assert!(serde_json::from_value::<S>(serde_json::json!({"n": "eighty"})).is_err());
        assert!(serde_json::from_value::<S>(serde_json::json!({"n": "99999999999"})).is_err());
        assert!(serde_json::from_value::<S>(serde_json::json!({"n": 99999999999i64})).is_err());
        assert!(serde_json::from_value::<S>(serde_json::json!({"b": "yes"})).is_err());
        let r: Required = serde_json::from_value(serde_json::json!({"n": " 7 "})).unwrap();
        assert_eq!(r.n, 7);
        assert!(serde_json::from_value::<Required>(serde_json::json!({})).is_err());
    }
}
