//! EC2's query protocol: the request is a form like the query protocol's, but lists are
//! flattened (`InstanceId.1`, `Filter.1.Value.2`, no `.member.`) under each member's
//! queryName or capitalized locationName; the answer is
//! `<OpResponse xmlns=..><requestId>..</requestId>..members..</OpResponse>` with members
//! under their locationNames, lists as `<x><item>..</item></x>`, no Result wrapper and no
//! ResponseMetadata; errors are `<Response><Errors><Error><Code>..` with `RequestID`.

use crate::error::AwsError;
use crate::protocol::query::{Params, XmlWriter};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// The form as a JSON tree (`lists` applied to `Params::tree`): `A.B=x` nests and `A.1`, `A.2` (objects whose keys are all
/// indexes) become lists in index order. Scalars stay text (`berth_model::lenient`).
pub fn tree(params: &Params) -> Value {
    lists(params.tree())
}

pub(crate) fn lists(value: Value) -> Value {
    match value {
        Value::Object(map) if !map.is_empty() && map.keys().all(|k| k.parse::<u32>().is_ok()) => {
            let mut items: Vec<(u32, Value)> =
                map.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, lists(v)))).collect();
            items.sort_by_key(|(i, _)| *i);
            Value::Array(items.into_iter().map(|(_, v)| v).collect())
        }
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, lists(v))).collect()),
        other => other,
    }
}

/// Decodes an operation's input from the form. A required member that is absent is
/// EC2's MissingParameter; one that does not fit, InvalidParameterValue.
pub fn decode<T: DeserializeOwned>(params: &Params) -> Result<T, AwsError> {
    serde_path_to_error::deserialize(super::strict::Strict::new(tree(params), super::query::RULES)).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        match super::json::missing_field(&msg) {
            Some(field) => AwsError::ec2("MissingParameter", format!("The request must contain the parameter {field}")),
            None => AwsError::ec2("InvalidParameterValue", format!("Invalid value at '{path}': {msg}")),
        }
    })
}

/// An operation's output as the children of `<OpResponse>`.
pub fn encode<T: Serialize>(output: &T) -> Result<String, AwsError> {
    let tree = serde_json::to_value(output).map_err(|e| {
        tracing::error!(error = %e, "response did not serialize");
        AwsError::internal("InternalError")
    })?;
    let mut w = XmlWriter::default();
    members(&mut w, &tree);
    Ok(w.finish())
}

fn members(w: &mut XmlWriter, value: &Value) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            element(w, k, v);
        }
    }
}

fn element(w: &mut XmlWriter, tag: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(_) => {
            w.open(tag);
            members(w, value);
            w.close(tag);
        }
        Value::Array(items) => {
            w.open(tag);
            for item in items {
                element(w, "item", item);
            }
            w.close(tag);
        }
        Value::String(s) => {
            w.leaf(tag, s);
        }
        other => {
            w.leaf(tag, &other.to_string());
        }
    }
}

/// A successful response: `<ActionResponse xmlns=..><requestId>..</requestId>result</ActionResponse>`.
pub fn encode_response(action: &str, xmlns: &str, request_id: &str, result: &str) -> String {
    let mut w = XmlWriter::default();
    w.leaf("requestId", request_id);
    format!("<{action}Response xmlns=\"{xmlns}\">{}{result}</{action}Response>", w.finish())
}

/// EC2's error document. A refusal by IAM is EC2's `UnauthorizedOperation`.
pub fn encode_error(err: &AwsError, request_id: &str) -> String {
    let code = if err.code == "AccessDenied" { "UnauthorizedOperation" } else { &err.code };
    let mut w = XmlWriter::default();
    w.open("Response").open("Errors").open("Error");
    w.leaf("Code", code).leaf("Message", &err.message);
    w.close("Error").close("Errors").leaf("RequestID", request_id).close("Response");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_lists_become_arrays_in_index_order() {
        let p = Params::parse(
            b"Action=DescribeInstances&InstanceId.2=i-b&InstanceId.1=i-a&Filter.1.Name=tag%3AName\
              &Filter.1.Value.10=j&Filter.1.Value.2=b&Filter.1.Value.1=a&MaxResults=5",
        );
        assert_eq!(
            tree(&p),
            serde_json::json!({
                "Action": "DescribeInstances", "MaxResults": "5",
                "InstanceId": ["i-a", "i-b"],
                "Filter": [{"Name": "tag:Name", "Value": ["a", "b", "j"]}]
            })
        );
    }

    #[test]
    fn responses_have_request_ids_and_items() {
        let result =
            encode(&serde_json::json!({"reservationSet": [{"reservationId": "r-1", "x": null}], "ok": true})).unwrap();
        let xml = encode_response("RunInstances", "http://ec2.amazonaws.com/doc/2016-11-15/", "rid", &result);
        assert_eq!(
            xml,
            "<RunInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>rid</requestId>\
             <ok>true</ok><reservationSet><item><reservationId>r-1</reservationId></item></reservationSet>\
             </RunInstancesResponse>"
        );
    }

    #[test]
    fn errors_are_ec2s() {
        let xml = encode_error(&AwsError::ec2("InvalidInstanceID.Malformed", "Invalid id: \"x\""), "rid");
        assert_eq!(
            xml,
            "<Response><Errors><Error><Code>InvalidInstanceID.Malformed</Code><Message>Invalid id: &quot;x&quot;</Message>\
             </Error></Errors><RequestID>rid</RequestID></Response>"
        );
    }
}
