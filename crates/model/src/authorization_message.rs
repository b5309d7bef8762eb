//! Encoded authorization failure messages: what EC2's UnauthorizedOperation carries (sealed
//! by the server, opaque to the caller) and STS DecodeAuthorizationMessage opens, in AWS's
//! DecodedMessage form: `allowed`, `explicitDeny`, `matchedStatements`, `failures`, and the
//! `context` (principal, action, resource, the request's condition keys).

use berth_policy::{Decision, Request};
use serde_json::{Value, json};

/// What the sealed message is bound to, so that no other sealed value opens as one.
pub const SEAL_CONTEXT: &str = "authorization-message";

/// The DecodedMessage JSON for `request`, refused with `decision`. Condition keys are named
/// lowercased (as the evaluator keeps them); matched statements are not listed.
pub fn decoded(request: &Request, decision: Decision) -> String {
    let keys = request.keys();
    let id = keys.iter().find(|(key, _)| *key == "aws:userid").and_then(|(_, values)| values.first());
    let conditions: Vec<Value> = keys
        .iter()
        .map(|(key, values)| {
            let items: Vec<Value> = values.iter().map(|value| json!({ "value": value })).collect();
            json!({ "key": key, "values": { "items": items } })
        })
        .collect();
    json!({
        "allowed": decision.is_allowed(),
        "explicitDeny": matches!(decision, Decision::ExplicitDeny(_)),
        "matchedStatements": { "items": [] },
        "failures": { "items": [] },
        "context": {
            "principal": { "id": id.map_or("", String::as_str), "arn": request.principal().arn() },
            "action": request.action(),
            "resource": request.resource(),
            "conditions": { "items": conditions },
        },
    })
    .to_string()
}

/// EC2's UnauthorizedOperation message around IAM's `denial` and the sealed message.
pub fn ec2_message(denial: &str, encoded: &str) -> String {
    format!(
        "You are not authorized to perform this operation. {denial}. Encoded authorization failure message: {encoded}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_policy::{PolicyType, Principal};

    fn request() -> Request {
        Request::new(
            Principal::user("123456789012", "/", "bob"),
            "ec2:RunInstances",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
        )
        .with("aws:userid", "AIDABOB")
        .with("aws:RequestedRegion", "us-east-1")
    }

    #[test]
    fn decoded_names_the_request_and_the_decision() {
        let text = decoded(&request(), Decision::ImplicitDeny(PolicyType::IdentityBased));
        let message: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(message["allowed"], false);
        assert_eq!(message["explicitDeny"], false);
        assert_eq!(message["matchedStatements"]["items"], json!([]));
        assert_eq!(message["failures"]["items"], json!([]));
        let context = &message["context"];
        assert_eq!(context["principal"], json!({"id": "AIDABOB", "arn": "arn:aws:iam::123456789012:user/bob"}));
        assert_eq!(context["action"], "ec2:RunInstances");
        assert_eq!(context["resource"], "arn:aws:ec2:us-east-1:123456789012:instance/*");
        let conditions = context["conditions"]["items"].as_array().unwrap();
        assert!(
            conditions.contains(&json!({"key": "aws:requestedregion", "values": {"items": [{"value": "us-east-1"}]}}))
        );
        assert!(conditions.contains(&json!({"key": "aws:username", "values": {"items": [{"value": "bob"}]}})));
        let explicit: Value =
            serde_json::from_str(&decoded(&request(), Decision::ExplicitDeny(PolicyType::IdentityBased))).unwrap();
        assert_eq!(explicit["explicitDeny"], true);
    }

    #[test]
    fn ec2_message_is_aws_form() {
        assert_eq!(
            ec2_message("User: A is not authorized to perform: ec2:RunInstances on resource: R because x", "ENC"),
            "You are not authorized to perform this operation. User: A is not authorized to perform: \
             ec2:RunInstances on resource: R because x. Encoded authorization failure message: ENC"
        );
    }
}
