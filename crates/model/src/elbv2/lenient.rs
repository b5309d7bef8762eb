//! The query protocol sends every scalar as a string; stored documents hold real
//! numbers and booleans. These deserializers accept both.

use serde::{Deserialize, Deserializer, de::Error};

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(i64),
    Text(String),
}

pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Num(n)) => i32::try_from(n).map(Some).map_err(D::Error::custom),
        Some(NumOrText::Text(t)) => {
            t.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("'{t}' is not an integer")))
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrText {
    Bool(bool),
    Text(String),
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<BoolOrText>::deserialize(d)? {
        None => Ok(None),
        Some(BoolOrText::Bool(b)) => Ok(Some(b)),
        Some(BoolOrText::Text(t)) => match t.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(D::Error::custom(format!("'{t}' is not a boolean"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct S {
        #[serde(default, deserialize_with = "opt_i32")]
        n: Option<i32>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
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
        assert!(serde_json::from_value::<S>(serde_json::json!({"b": "yes"})).is_err());
    }
}
