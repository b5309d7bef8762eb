//! CloudWatch Logs' IAM table: operations on a log group are on
//! `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, on a stream's events
//! `...:log-group:NAME:log-stream:STREAM`; DescribeLogGroups is on `*`.

use crate::authorize::{Ask, arn, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(scope: &Scope, op: &str, input: &Value) -> Ask {
    let tags = input.get("tags");
    match op {
        "TagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).request_tags(tags),
        "UntagResource" => Ask::each(text(input, "resourceArn").map(str::to_string)).tag_keys(input.get("tagKeys")),
        "ListTagsForResource" => Ask::each(text(input, "resourceArn").map(str::to_string)),
        "PutLogEvents" | "GetLogEvents" => {
            let (group, stream) = (text(input, "logGroupName"), text(input, "logStreamName"));
            Ask::each(group.zip(stream).map(|(g, s)| arn(scope, "logs", &format!("log-group:{g}:log-stream:{s}"))))
        }
        "CreateLogGroup" | "TagLogGroup" => log_group(scope, input).request_tags(tags),
        "UntagLogGroup" => log_group(scope, input).tag_keys(input.get("tags")),
        // DescribeLogGroups lists every group: AWS authorizes it on `*`.
        "DescribeLogGroups" => Ask::any(),
        _ => log_group(scope, input),
    }
}

fn log_group(scope: &Scope, input: &Value) -> Ask {
    Ask::each(text(input, "logGroupName").map(|g| arn(scope, "logs", &format!("log-group:{g}"))))
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
    fn groups_and_streams() {
        let group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web";
        assert_eq!(resources("CreateLogGroup", json!({"logGroupName": "/ecs/web"})), [group]);
        assert_eq!(resources("DescribeLogStreams", json!({"logGroupName": "/ecs/web"})), [group]);
        assert_eq!(
            resources("PutLogEvents", json!({"logGroupName": "/ecs/web", "logStreamName": "a/b"})),
            [format!("{group}:log-stream:a/b")]
        );
        assert_eq!(resources("DescribeLogGroups", json!({"logGroupNamePrefix": "/ecs"})), ["*"]);
    }
}
