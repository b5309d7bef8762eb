//! The agent protocol's IAM table: the ECS agent's own actions, which AWS's
//! AmazonEC2ContainerServiceforEC2Role grants on `*`: its long poll (and what ECS's agent
//! receives over that channel, a task's credentials and secrets) is `ecs:Poll`, its reports are
//! `ecs:SubmitTaskStateChange`, its metrics `ecs:StartTelemetrySession`. Any other operation asks `ecs:<Operation>` on `*`.

use crate::authorize::{Ask, Target};
use berth_model::arn::Scope;
use serde_json::Value;

pub fn asks(_scope: &Scope, op: &str, _input: &Value) -> Ask {
    let action = match op {
        "PollTasks" | "GetTaskCredentials" | "ResolveSecrets" => "ecs:Poll",
        "ReportTaskState" => "ecs:SubmitTaskStateChange",
        // ECS's agent sends its metrics over its telemetry session.
        "ReportTaskMetrics" => "ecs:StartTelemetrySession",
        _ => return Ask::any(),
    };
    Ask::Targets(vec![Target { action: Some(action), ..Target::any() }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_actions() {
        let scope = Scope::new("us-east-1", "123456789012");
        let action = |op| match asks(&scope, op, &Value::Null) {
            Ask::Targets(t) => t[0].action,
            other => panic!("{other:?}"),
        };
        assert_eq!(action("PollTasks"), Some("ecs:Poll"));
        assert_eq!(action("ResolveSecrets"), Some("ecs:Poll"));
        assert_eq!(action("ReportTaskState"), Some("ecs:SubmitTaskStateChange"));
        assert_eq!(action("ReportTaskMetrics"), Some("ecs:StartTelemetrySession"));
        assert_eq!(action("Other"), None);
    }
}
