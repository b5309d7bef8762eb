//! requiresCompatibilities FARGATE.

use serde_json::{Value, json};

use super::{accept, assert_rejects, container, definition, reject, with};

/// A Fargate definition of the smallest size around one container, with `task` set on it.
pub(super) fn fargate(c: Value, task: Value) -> Value {
    let base = json!({
        "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512"
    });
    definition(vec![c], with(base, task))
}

#[test]
fn fargate_needs_awsvpc_and_a_task_size() {
    accept(&fargate(container("web"), json!({})));
    accept(&fargate(container("web"), json!({"cpu": "0.5 vCPU", "memory": "1 GB"})));
    assert_eq!(
        reject(&fargate(container("web"), json!({"networkMode": "bridge"}))),
        "Fargate only supports network mode 'awsvpc'."
    );
    assert_eq!(
        reject(&fargate(container("web"), json!({"networkMode": null}))),
        "Fargate only supports network mode 'awsvpc'."
    );
    assert_eq!(
        reject(&fargate(container("web"), json!({"cpu": null}))),
        "Fargate requires that 'cpu' be defined at the task level."
    );
    assert_eq!(
        reject(&fargate(container("web"), json!({"memory": null}))),
        "Fargate requires that 'memory' be defined at the task level."
    );
}

#[test]
fn fargate_task_sizes_come_from_the_table() {
    assert_eq!(
        reject(&fargate(container("web"), json!({"memory": "4096"}))),
        "No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS \
         documentation for the valid values."
    );
    assert_rejects(
        &fargate(container("web"), json!({"cpu": "300"})),
        "No Fargate configuration exists for given values: 300 CPU, 512 memory.",
    );
    // Fargate alongside EC2 still has to fit Fargate.
    let both = json!({"requiresCompatibilities": ["EC2", "FARGATE"], "memory": "3 GB"});
    assert_rejects(
        &fargate(container("web"), both),
        "No Fargate configuration exists for given values: 256 CPU, 3072 memory.",
    );
    // Without FARGATE any size goes.
    accept(&definition(vec![container("web")], json!({"networkMode": "awsvpc", "cpu": "300", "memory": "4096"})));
}

#[test]
fn fargate_refuses_members_only_an_ec2_host_can_honour() {
    let cases = [
        (with(container("web"), json!({"privileged": true})), json!({}), "privileged containers"),
        (
            with(container("web"), json!({"logConfiguration": {"logDriver": "json-file"}})),
            json!({}),
            "the 'json-file' log driver",
        ),
        (with(container("web"), json!({"stopTimeout": 121})), json!({}), "a 'stopTimeout' over 120 seconds"),
        (
            with(container("web"), json!({"linuxParameters": {"devices": [{"hostPath": "/dev/fuse"}]}})),
            json!({}),
            "'linuxParameters.devices'",
        ),
        (with(container("web"), json!({"resourceRequirements": [{"type": "GPU", "value": "1"}]})), json!({}), "GPUs"),
        (
            container("web"),
            json!({"placementConstraints": [{"type": "memberOf", "expression": "attribute:x == y"}]}),
            "task placement constraints",
        ),
        (container("web"), json!({"ipcMode": "host"}), "'ipcMode'"),
        (container("web"), json!({"pidMode": "host"}), "pidMode=host"),
        (
            container("web"),
            json!({"volumes": [{"name": "d", "dockerVolumeConfiguration": {"driver": "local"}}]}),
            "Docker volumes",
        ),
        (container("web"), json!({"volumes": [{"name": "d", "host": {"sourcePath": "/srv"}}]}), "host paths"),
    ];
    for (c, task, feature) in cases {
        // Accepted for EC2, refused for Fargate.
        let ec2 = with(task.clone(), json!({"networkMode": "awsvpc", "cpu": "256", "memory": "512"}));
        accept(&definition(vec![c.clone()], ec2));
        assert_rejects(&fargate(c, task), &format!("Fargate does not support {feature}"));
    }
    // What Fargate does support.
    let supported = with(
        container("web"),
        json!({
            "stopTimeout": 120, "privileged": false,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
            "linuxParameters": {"initProcessEnabled": true, "capabilities": {"add": ["SYS_PTRACE"]}}
        }),
    );
    let bind_mount = json!({"pidMode": "task", "volumes": [{"name": "scratch", "host": {}}]});
    accept(&fargate(supported, bind_mount));
}
