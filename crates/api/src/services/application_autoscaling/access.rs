//! Application Auto Scaling's IAM table: its operations name resources by resource ID,
//! not by ARN, so they are asked on `*` (as AWS's Service Authorization Reference lists
//! most of them); the tag operations are on the scalable target's ARN, with the request's
//! tags, and so is RegisterScalableTarget's tagging.

use crate::authorize::{Ask, text};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(_scope: &Scope, op: &str, input: &Value) -> Ask {
    let on_arn = || Ask::each(text(input, "ResourceARN").map(str::to_string));
    match op {
        "TagResource" => on_arn().request_tags(input.get("Tags")),
        "UntagResource" => on_arn().tag_keys(input.get("TagKeys")),
        "ListTagsForResource" => on_arn(),
        "RegisterScalableTarget" => Ask::any().request_tags(input.get("Tags")),
        _ => Ask::any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::testing::{json_targets, resources as of};
    use serde_json::json;

    #[test]
    fn tags_are_on_the_target_and_the_rest_on_any() {
        let arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/abc";
        let of = |op, input| of(json_targets(asks, op, input));
        assert_eq!(of("TagResource", json!({"ResourceARN": arn, "Tags": {"a": "b"}})), [arn]);
        assert_eq!(of("ListTagsForResource", json!({"ResourceARN": arn})), [arn]);
        assert_eq!(of("PutScalingPolicy", json!({"ResourceId": "service/c/s"})), ["*"]);
        let targets = json_targets(asks, "RegisterScalableTarget", json!({"Tags": {"team": "a"}}));
        assert!(targets[0].keys.iter().any(|(k, v)| k == "aws:RequestTag/team" && v == &["a".to_string()]));
    }
}
