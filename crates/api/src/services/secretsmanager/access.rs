//! Secrets Manager's IAM table: secret operations are on the secret's ARN as the request names
//! it (`SecretId` as a full ARN, or `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME` for a
//! name or partial ARN: the table reads no store, so a name is not completed with the
//! secret's random suffix, and a policy naming `secret:NAME-??????` matches requests by full
//! ARN only; `secret:NAME*` matches both). ListSecrets and GetRandomPassword are on `*`.

use crate::authorize::{Ask, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let secret_of = |member| Ask::each(text(input, member).map(|id| secret(scope, id)));
    match op {
        "ListSecrets" | "GetRandomPassword" => Ask::any(),
        "CreateSecret" => secret_of("Name").request_tags(input.get("Tags")),
        "TagResource" => secret_of("SecretId").request_tags(input.get("Tags")),
        "UntagResource" => secret_of("SecretId").tag_keys(input.get("TagKeys")),
        _ => secret_of("SecretId"),
    }
}

/// The ARN a request's `SecretId` (a name, a partial or a full ARN) is authorized on.
pub(crate) fn secret(scope: &Scope, id: &str) -> String {
    if id.starts_with("arn:") {
        id.to_string()
    } else {
        crate::authorize::arn(scope, "secretsmanager", &format!("secret:{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::testing::{json_targets, resources as of};
    use serde_json::json;

    fn resources(op: &str, input: Value) -> Vec<String> {
        of(json_targets(asks, op, input))
    }

    #[test]
    fn secret_operations_name_the_secret() {
        let full = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
        assert_eq!(resources("GetSecretValue", json!({"SecretId": full})), [full]);
        assert_eq!(
            resources("GetSecretValue", json!({"SecretId": "db"})),
            ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db"]
        );
        assert_eq!(
            resources("CreateSecret", json!({"Name": "db"})),
            ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db"]
        );
        assert_eq!(resources("ListSecrets", json!({})), ["*"]);
    }

    #[test]
    fn untag_carries_its_tag_keys() {
        let targets = json_targets(asks, "UntagResource", json!({"SecretId": "db", "TagKeys": ["team"]}));
        assert!(targets[0].keys.iter().any(|(k, v)| k == "aws:TagKeys" && v == &["team".to_string()]), "{targets:?}");
    }
}
