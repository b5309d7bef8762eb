//! The `valueFrom` of a container's `secrets` (and of logConfiguration's
//! `secretOptions`): an SSM parameter name or ARN, or a Secrets Manager ARN, optionally
//! `arn:...:secret:NAME-XXXXXX:json-key:version-stage:version-id` with any part empty.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A parameter name or ARN, as GetParameters takes it.
    Parameter(String),
    Secret {
        secret_id: String,
        json_key: Option<String>,
        version_stage: Option<String>,
        version_id: Option<String>,
    },
}

/// Reads a valueFrom. Any ARN that is neither SSM's nor Secrets Manager's is refused.
pub fn parse(value_from: &str) -> Result<Source, String> {
    if value_from.is_empty() {
        return Err("valueFrom is empty".into());
    }
    if !value_from.starts_with("arn:") {
        return Ok(Source::Parameter(value_from.to_string()));
    }
    let parts: Vec<&str> = value_from.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "ssm", ..] => Ok(Source::Parameter(value_from.to_string())),
        ["arn", _, "secretsmanager", _, _, "secret", _name, rest @ ..] if rest.len() <= 3 => {
            let part = |i: usize| rest.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
            Ok(Source::Secret {
                secret_id: parts[..7].join(":"),
                json_key: part(0),
                version_stage: part(1),
                version_id: part(2),
            })
        }
        _ => Err(format!("{value_from} is not an SSM parameter or a Secrets Manager secret ARN")),
    }
}

/// The value of `key` in a secret string holding a JSON object (text as it is, other
/// JSON as written).
pub fn json_key(secret: &str, key: &str) -> Result<String, String> {
    let doc: Value =
        serde_json::from_str(secret).map_err(|_| format!("the secret is not JSON, so it has no key {key}"))?;
    match doc.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("retrieved secret from Secrets Manager did not contain json key {key}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form() {
        assert_eq!(parse("/app/db"), Ok(Source::Parameter("/app/db".into())));
        let ssm = "arn:aws:ssm:us-east-1:1:parameter/app/db";
        assert_eq!(parse(ssm), Ok(Source::Parameter(ssm.into())));
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:db-AbC123";
        assert_eq!(
            parse(arn),
            Ok(Source::Secret { secret_id: arn.into(), json_key: None, version_stage: None, version_id: None })
        );
        assert_eq!(
            parse(&format!("{arn}:password::")),
            Ok(Source::Secret {
                secret_id: arn.into(),
                json_key: Some("password".into()),
                version_stage: None,
                version_id: None
            })
        );
        assert_eq!(
            parse(&format!("{arn}::AWSPREVIOUS:")),
            Ok(Source::Secret {
                secret_id: arn.into(),
                json_key: None,
                version_stage: Some("AWSPREVIOUS".into()),
                version_id: None
            })
        );
        assert_eq!(
            parse(&format!("{arn}:k::v-1"))
                .map(|s| matches!(s, Source::Secret { version_id: Some(v), .. } if v == "v-1")),
            Ok(true)
        );
        assert!(parse(&format!("{arn}:a:b:c:d")).is_err());
        assert!(parse("arn:aws:s3:::bucket/key").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn json_keys() {
        assert_eq!(json_key(r#"{"password":"hunter2","port":5432}"#, "password"), Ok("hunter2".into()));
        assert_eq!(json_key(r#"{"port":5432}"#, "port"), Ok("5432".into()));
        assert!(json_key(r#"{"a":1}"#, "b").is_err());
        assert!(json_key("plain", "b").is_err());
    }
}
