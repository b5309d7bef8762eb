//! Parameter Store's IAM table: parameter operations are on the parameter's ARN
//! (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`, no account for AWS's public `/aws/...`
//! ones), a selector (`name:3`, `name:label`) naming the parameter itself; GetParametersByPath
//! on the path's ARN; DescribeParameters on `*`.

use crate::authorize::{Ask, strings, text};
use berth_model::arn::Scope;
use berth_model::ssm::names;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let one = |member| Ask::each(text(input, member).map(|name| parameter(scope, name)));
    match op {
        "DescribeParameters" => Ask::any(),
        "GetParameters" | "DeleteParameters" => {
            Ask::each(strings(input.get("Names")).iter().map(|name| parameter(scope, name)))
        }
        "GetParametersByPath" => one("Path"),
        "PutParameter" => one("Name").request_tags(input.get("Tags")),
        "AddTagsToResource" => one("ResourceId").request_tags(input.get("Tags")),
        "RemoveTagsFromResource" => one("ResourceId").tag_keys(input.get("TagKeys")),
        "ListTagsForResource" => one("ResourceId"),
        _ => one("Name"),
    }
}

/// The ARN of the parameter `name` (a name, a name with a selector, or an ARN already).
pub(crate) fn parameter(scope: &Scope, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_string();
    }
    let name = name.split(':').next().unwrap_or(name);
    names::arn(&scope.region, &scope.account, name)
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
    fn parameter_operations_name_the_parameter() {
        let db = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db";
        assert_eq!(resources("GetParameter", json!({"Name": "/app/db"})), [db]);
        assert_eq!(resources("GetParameter", json!({"Name": "/app/db:3"})), [db], "a selector names the parameter");
        assert_eq!(resources("GetParameter", json!({"Name": db})), [db]);
        assert_eq!(resources("PutParameter", json!({"Name": "/app/db", "Value": "x"})), [db]);
        assert_eq!(
            resources("GetParameters", json!({"Names": ["/app/db", "plain"]})),
            [db, "arn:aws:ssm:us-east-1:123456789012:parameter/plain"]
        );
        assert_eq!(
            resources("GetParametersByPath", json!({"Path": "/app"})),
            ["arn:aws:ssm:us-east-1:123456789012:parameter/app"]
        );
        assert_eq!(
            resources("GetParameter", json!({"Name": "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"})),
            ["arn:aws:ssm:us-east-1::parameter/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"]
        );
        assert_eq!(resources("AddTagsToResource", json!({"ResourceType": "Parameter", "ResourceId": "/app/db"})), [db]);
        assert_eq!(resources("DescribeParameters", json!({})), ["*"]);
    }

    #[test]
    fn put_parameter_carries_its_request_tags() {
        let targets = json_targets(asks, "PutParameter", json!({"Name": "p", "Tags": [{"Key": "team", "Value": "a"}]}));
        assert!(
            targets[0].keys.iter().any(|(k, v)| k == "aws:RequestTag/team" && v == &["a".to_string()]),
            "{targets:?}"
        );
    }
}
