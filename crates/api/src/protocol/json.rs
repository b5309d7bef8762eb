//! AWS JSON 1.0/1.1: the request body is a JSON object, the operation is named by
//! `X-Amz-Target: <Prefix>.<Operation>`, the response is the output shape as JSON and
//! an error is `{"__type": CODE, "message": ...}` (botocore reads the code only there).

use super::strict::{Rules, Strict};
use crate::error::AwsError;
use serde::{Serialize, de::DeserializeOwned};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// JSON 1.0 (CloudWatch's) is answered in 1.0; everything else in 1.1.
pub const CONTENT_TYPE_1_0: &str = "application/x-amz-json-1.0";

/// The content type to answer a JSON request with: the version it was sent in.
pub fn content_type_for(headers: &http::HeaderMap) -> &'static str {
    match headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(t) if t.starts_with(CONTENT_TYPE_1_0) => CONTENT_TYPE_1_0,
        _ => CONTENT_TYPE,
    }
}

/// Whether the client speaks JSON to a former query service (`x-amzn-query-mode: true`,
/// sent for models marked awsQueryCompatible): its errors then carry `x-amzn-query-error`.
pub fn query_compatible(headers: &http::HeaderMap) -> bool {
    headers.get("x-amzn-query-mode").and_then(|v| v.to_str().ok()) == Some("true")
}

/// `x-amzn-query-error`'s value: `Code;Sender` or `Code;Receiver`.
pub fn query_error(err: &AwsError) -> String {
    format!("{};{}", err.code, if err.sender_fault { "Sender" } else { "Receiver" })
}

/// Splits `Prefix.Operation`.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    target.split_once('.').filter(|(p, o)| !p.is_empty() && !o.is_empty())
}

/// Decodes an operation's input. An empty body means `{}`, as botocore sends for
/// operations without input. Errors name the member path, so a person can find it:
/// a missing required member is InvalidParameterException, anything else that does
/// not fit the shape is SerializationException.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(Strict::new(&mut *de, Rules::default())) {
        // Nothing but whitespace may follow the object: `{..} {..}` is not one input.
        Ok(v) => de.end().map(|()| v).map_err(|e| {
            AwsError::serialization(format!(
                "The request body is not valid JSON: trailing characters after the input ({e})"
            ))
        }),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.to_string();
            if let Some(field) = missing_field(&msg) {
                let at = if path == "." { String::new() } else { format!(" in {path}") };
                return Err(AwsError::missing_parameter(format!("The required parameter '{field}' is missing{at}.")));
            }
            if let Some((value, allowed)) = unknown_variant(&msg) {
                return Err(AwsError::invalid_enum(format!(
                    "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: \
                     Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                )));
            }
            if inner.is_syntax() || inner.is_eof() {
                return Err(AwsError::serialization(format!("The request body is not valid JSON: {msg}")));
            }
            Err(AwsError::serialization(format!("Invalid value for '{path}': {msg}")))
        }
    }
}

/// serde reports a missing field as "missing field `name` at line .. column ..".
pub(super) fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// serde reports a value outside an enum as "unknown variant `V`, expected one of `A`,
/// `B` at line .." (or "expected `A` or `B`"): the value and the allowed ones.
fn unknown_variant(msg: &str) -> Option<(&str, Vec<&str>)> {
    let (value, rest) = msg.strip_prefix("unknown variant `")?.split_once('`')?;
    let expected = rest.strip_prefix(", expected ")?;
    let expected = expected.split(" at line ").next().unwrap_or(expected);
    let allowed = expected.split('`').skip(1).step_by(2).collect();
    Some((value, allowed))
}

pub fn encode<T: Serialize>(output: &T) -> Result<Vec<u8>, AwsError> {
    serde_json::to_vec(output).map_err(|e| {
        tracing::error!(error = %e, "response did not serialize");
        AwsError::internal("InternalFailure")
    })
}

pub fn encode_error(err: &AwsError) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "__type": err.code, "message": err.message }))
        .unwrap_or_else(|_| br#"{"__type":"InternalFailure"}"#.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Input {
        #[serde(rename = "family")]
        family: String,
        #[serde(rename = "count", default)]
        count: Option<i32>,
        #[serde(rename = "items", default)]
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        #[serde(rename = "port", default)]
        port: Option<i32>,
    }

    #[test]
    fn splits_targets() {
        assert_eq!(
            split_target("AmazonEC2ContainerServiceV20141113.ListClusters"),
            Some(("AmazonEC2ContainerServiceV20141113", "ListClusters"))
        );
        assert_eq!(split_target("NoDot"), None);
        assert_eq!(split_target(".Op"), None);
        assert_eq!(split_target("Prefix."), None);
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        let e = decode::<Input>(b"").unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert!(e.message.contains("'family'"), "{}", e.message);
    }

    #[test]
    fn wrong_types_name_the_member_path() {
        let e = decode::<Input>(br#"{"family":"f","items":[{"port":"80"}]}"#).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert!(e.message.contains("items[0].port"), "{}", e.message);
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Launch {
        #[serde(rename = "launchType", default)]
        launch_type: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Kind {
        #[serde(rename = "EC2")]
        Ec2,
        #[serde(rename = "FARGATE")]
        Fargate,
        #[serde(rename = "EXTERNAL")]
        External,
    }

    #[test]
    fn unknown_enum_values_list_the_allowed_ones() {
        let e = decode::<Launch>(br#"{"launchType":"EC3"}"#).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'EC3' at 'launchType' failed to satisfy constraint: \
             Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL]"
        );
        assert_eq!(unknown_variant("unknown variant `x`, expected `A` or `B`"), Some(("x", vec!["A", "B"])));
        assert_eq!(unknown_variant("invalid type: integer `1`"), None);
    }

    #[test]
    fn malformed_json_is_a_serialization_error() {
        for body in [&b"{"[..], b"{\"family\": }", b"[1,2", b"\xff\xfe"] {
            let e = decode::<Input>(body).unwrap_err();
            assert_eq!(e.code, "SerializationException", "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn trailing_input_is_refused() {
        for body in [&br#"{"family":"a"} {"family":"b"}"#[..], br#"{"family":"x"} }}}garbage"#, br#"{"family":"x"}{}"#]
        {
            let e = decode::<Input>(body).unwrap_err();
            assert_eq!(e.code, "SerializationException", "{:?}", String::from_utf8_lossy(body));
            assert!(e.message.contains("trailing"), "{}", e.message);
        }
        assert_eq!(decode::<Input>(b" {\"family\":\"f\"} \n").unwrap().family, "f");
    }

    #[test]
    fn arrays_are_not_structures() {
        let e = decode::<Input>(br#"{"family":"f","items":[[80]]}"#).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert!(e.message.contains("items[0]") && e.message.contains("sequence"), "{}", e.message);
        let e = decode::<Input>(br#"["f"]"#).unwrap_err();
        assert_eq!(e.code, "SerializationException", "{}", e.message);
        let e =
            decode::<berth_model::ecs::TagResourceRequest>(br#"{"resourceArn":"a","tags":[["k","v"]]}"#).unwrap_err();
        assert!(e.message.contains("'tags[0]'"), "{}", e.message);
        // Strings stay strings, lists stay lists: an empty string is not an empty list in JSON.
        assert!(decode::<Input>(br#"{"family":"f","items":""}"#).is_err());
        assert_eq!(decode::<Input>(br#"{"family":"f","items":[{"port":1}]}"#).unwrap().items.unwrap().len(), 1);
    }

    #[test]
    fn errors_encode_with_type_and_message() {
        let v: serde_json::Value = serde_json::from_slice(&encode_error(&AwsError::ecs_cluster_not_found())).unwrap();
        assert_eq!(v["__type"], "ClusterNotFoundException");
        assert_eq!(v["message"], "Cluster not found.");
    }
}
