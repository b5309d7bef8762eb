//! ECR's IAM table: repository operations are on the repository's ARN
//! (`arn:aws:ecr:REGION:ACCOUNT:repository/NAME`); GetAuthorizationToken, DescribeRegistry
//! and the like on `*`. The registry's `/v2` asks the same actions (`authorize::registry`).

use crate::authorize::{Ask, strings, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    match op {
        "GetAuthorizationToken" => Ask::any(),
        "DescribeRepositories" => {
            Ask::each(strings(input.get("repositoryNames")).iter().map(|name| repository(scope, name)))
        }
        "CreateRepository" => {
            Ask::each(text(input, "repositoryName").map(|name| repository(scope, name))).request_tags(input.get("tags"))
        }
        "TagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).request_tags(input.get("tags")),
        "UntagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).tag_keys(input.get("tagKeys")),
        "ListTagsForResource" => Ask::each(text(input, "resourceArn").map(str::to_string)),
        _ => Ask::each(text(input, "repositoryName").map(|name| repository(scope, name))),
    }
}

/// A repository's ARN.
pub fn repository(scope: &Scope, name: &str) -> String {
    crate::authorize::arn(scope, "ecr", &format!("repository/{name}"))
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
    fn repository_operations_name_the_repository() {
        let repo = "arn:aws:ecr:us-east-1:123456789012:repository/team/web";
        assert_eq!(resources("BatchGetImage", json!({"repositoryName": "team/web"})), [repo]);
        assert_eq!(resources("PutImage", json!({"repositoryName": "team/web"})), [repo]);
        assert_eq!(resources("CreateRepository", json!({"repositoryName": "team/web"})), [repo]);
        assert_eq!(resources("DescribeRepositories", json!({"repositoryNames": ["team/web"]})), [repo]);
        assert_eq!(resources("DescribeRepositories", json!({})), ["*"]);
        assert_eq!(resources("GetAuthorizationToken", json!({})), ["*"]);
    }
}
