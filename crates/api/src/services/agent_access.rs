//! The agent protocol's IAM table: the ECS agent's own actions, which AWS's
//! AmazonEC2ContainerServiceforEC2Role grants on `*` (`ecs:Poll`, `ecs:SubmitTaskStateChange`).

use crate::authorize::{Ask, Target};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(_scope: &Scope, op: &str, _input: &Value) -> Ask {
    let action = match op {
        "PollTasks" => "ecs:Poll",
        _ => "ecs:SubmitTaskStateChange",
    };
    Ask::Targets(vec![Target { action: Some(action), ..Target::any() }])
}
