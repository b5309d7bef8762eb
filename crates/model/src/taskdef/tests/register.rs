//! What register() stores: the seed definitions and the defaults ECS fills in.

use serde_json::{Value, json};

use super::super::{InvalidTaskDefinition, Registration, register, validate};
use super::{REGISTERED_AT, REGISTERED_BY, container, definition, registered, registered_json, request, with};
use crate::Timestamp;
use crate::arn::Scope;
use crate::ecs::{Compatibility, TaskDefinitionStatus};

fn seed_004() -> Value {
    json!({
        "family": "td-testunit",
        "networkMode": "bridge",
        "containerDefinitions": [{
            "name": "web", "essential": true, "image": "127.0.0.1:5000/testunit:v0.1",
            "cpu": 0, "memory": 128,
            "portMappings": [{"hostPort": 0, "containerPort": 8080, "protocol": "tcp"}]
        }]
    })
}

fn seed_002() -> Value {
    json!({
        "family": "web-app-task",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "web-container",
            "image": "123456789.dkr.ecr.ap-northeast-2.amazonaws.com/web-app:latest",
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "essential": true,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/web-app-task",
                    "awslogs-region": "ap-northeast-2",
                    "awslogs-stream-prefix": "ecs"
                }
            }
        }]
    })
}

fn names(attributes: &Value) -> Vec<&str> {
    attributes.as_array().expect("a list").iter().map(|a| a["name"].as_str().expect("a name")).collect()
}

#[test]
fn registers_seed_004_bridge() {
    assert_eq!(
        registered_json(&seed_004()),
        json!({
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/td-testunit:1",
            "containerDefinitions": [{
                "name": "web",
                "image": "127.0.0.1:5000/testunit:v0.1",
                "cpu": 0,
                "memory": 128,
                "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
                "essential": true,
                "environment": [],
                "mountPoints": [],
                "volumesFrom": [],
                "systemControls": []
            }],
            "family": "td-testunit",
            "networkMode": "bridge",
            "revision": 1,
            "volumes": [],
            "status": "ACTIVE",
            "requiresAttributes": [],
            "placementConstraints": [],
            "compatibilities": ["EXTERNAL", "EC2"],
            "registeredAt": REGISTERED_AT,
            "registeredBy": REGISTERED_BY
        })
    );
}

#[test]
fn registers_seed_002_fargate() {
    assert_eq!(
        registered_json(&seed_002()),
        json!({
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/web-app-task:1",
            "containerDefinitions": [{
                "name": "web-container",
                "image": "123456789.dkr.ecr.ap-northeast-2.amazonaws.com/web-app:latest",
                "cpu": 0,
                "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                "essential": true,
                "environment": [],
                "mountPoints": [],
                "volumesFrom": [],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/web-app-task",
                        "awslogs-region": "ap-northeast-2",
                        "awslogs-stream-prefix": "ecs"
                    }
                },
                "systemControls": []
            }],
            "family": "web-app-task",
            "networkMode": "awsvpc",
            "revision": 1,
            "volumes": [],
            "status": "ACTIVE",
            "requiresAttributes": [
                {"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
                {"name": "com.amazonaws.ecs.capability.docker-remote-api.1.19"},
                {"name": "com.amazonaws.ecs.capability.ecr-auth"},
                {"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"},
                {"name": "ecs.capability.task-eni"}
            ],
            "placementConstraints": [],
            "compatibilities": ["EC2", "FARGATE"],
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "registeredAt": REGISTERED_AT,
            "registeredBy": REGISTERED_BY
        })
    );
}

#[test]
fn stores_the_revision_and_registration_it_is_given() {
    let scope = Scope::new("eu-west-1", "123456789012");
    let reg = Registration {
        scope: &scope,
        revision: 42,
        registered_at: Timestamp(1.5),
        registered_by: "arn:aws:iam::123456789012:user/alice".into(),
    };
    let td = register(&request(&seed_004()), &reg).expect("valid");
    assert_eq!(
        td.task_definition_arn.as_deref(),
        Some("arn:aws:ecs:eu-west-1:123456789012:task-definition/td-testunit:42")
    );
    assert_eq!(td.revision, Some(42));
    assert_eq!(td.status, Some(TaskDefinitionStatus::Active));
    assert_eq!(td.registered_at, Some(Timestamp(1.5)));
    assert_eq!(td.registered_by.as_deref(), Some("arn:aws:iam::123456789012:user/alice"));
    assert_eq!((td.deregistered_at, td.delete_requested_at), (None, None));
}

#[test]
fn register_and_validate_reject_alike() {
    let scope = Scope::new("us-east-1", "000000000000");
    let reg = Registration { scope: &scope, revision: 1, registered_at: Timestamp(0.0), registered_by: String::new() };
    let bad = request(&with(seed_002(), json!({"memory": "4096"})));
    let expected = validate(&bad).expect_err("invalid");
    assert_eq!(register(&bad, &reg).expect_err("invalid"), expected);
    assert!(matches!(expected, InvalidTaskDefinition(m) if m.starts_with("No Fargate configuration")));
    assert_eq!(validate(&request(&seed_002())), Ok(()));
}

#[test]
fn stores_task_cpu_and_memory_normalized() {
    let td = registered(&with(seed_002(), json!({"cpu": "0.25 vCPU", "memory": "0.5GB"})));
    assert_eq!((td.cpu.as_deref(), td.memory.as_deref()), (Some("256"), Some("512")));
    assert!(td.compatibilities.unwrap_or_default().contains(&Compatibility::Fargate));
}

#[test]
fn leaves_an_absent_network_mode_absent() {
    let td = registered_json(&definition(vec![container("web")], json!({})));
    assert_eq!(td.get("networkMode"), None);
    assert_eq!(td["compatibilities"], json!(["EXTERNAL", "EC2"]));
}

#[test]
fn compatibilities_follow_network_mode_and_task_size() {
    let compat = |task: Value| registered_json(&definition(vec![container("web")], task))["compatibilities"].clone();
    assert_eq!(compat(json!({"networkMode": "host"})), json!(["EXTERNAL", "EC2"]));
    assert_eq!(compat(json!({"networkMode": "none"})), json!(["EXTERNAL", "EC2"]));
    // A Fargate task size is not enough without awsvpc.
    assert_eq!(compat(json!({"cpu": "256", "memory": "512"})), json!(["EXTERNAL", "EC2"]));
    assert_eq!(compat(json!({"networkMode": "awsvpc"})), json!(["EC2"]));
    assert_eq!(compat(json!({"networkMode": "awsvpc", "cpu": "256", "memory": "4096"})), json!(["EC2"]));
    // Fargate-capable without asking for it.
    assert_eq!(compat(json!({"networkMode": "awsvpc", "cpu": "1024", "memory": "2048"})), json!(["EC2", "FARGATE"]));
    assert_eq!(
        compat(json!({"networkMode": "awsvpc", "cpu": "1024", "memory": "2048", "ipcMode": "task"})),
        json!(["EC2"])
    );
}

#[test]
fn fills_container_defaults_and_keeps_what_was_sent() {
    let sent = vec![
        container("web"),
        with(container("side"), json!({"cpu": 10, "essential": false, "environment": [{"name": "A", "value": "1"}]})),
    ];
    let td = registered_json(&definition(sent, json!({})));
    let web = &td["containerDefinitions"][0];
    for (member, default) in [
        ("cpu", json!(0)),
        ("essential", json!(true)),
        ("portMappings", json!([])),
        ("environment", json!([])),
        ("mountPoints", json!([])),
        ("volumesFrom", json!([])),
        ("systemControls", json!([])),
    ] {
        assert_eq!(web[member], default, "{member}");
    }
    let side = &td["containerDefinitions"][1];
    assert_eq!((&side["cpu"], &side["essential"]), (&json!(10), &json!(false)));
    assert_eq!(side["environment"], json!([{"name": "A", "value": "1"}]));
    // Absent members with no default stay absent.
    for member in ["links", "memoryReservation", "healthCheck", "ulimits", "dockerLabels"] {
        assert_eq!(web.get(member), None, "{member}");
    }
}

#[test]
fn fills_port_mapping_defaults_by_network_mode() {
    let ports = json!({"portMappings": [
        {"containerPort": 80},
        {"containerPort": 53, "protocol": "udp"},
        {"containerPortRange": "9000-9010"}
    ]});
    let mapped = |mode: &str| {
        registered_json(&definition(
            vec![with(container("web"), ports.clone())],
            json!({"networkMode": mode}),
        ))["containerDefinitions"][0]["portMappings"]
            .clone()
    };
    let direct = json!([
        {"containerPort": 80, "hostPort": 80, "protocol": "tcp"},
        {"containerPort": 53, "hostPort": 53, "protocol": "udp"},
        {"containerPortRange": "9000-9010", "protocol": "tcp"}
    ]);
    assert_eq!(mapped("awsvpc"), direct);
    assert_eq!(mapped("host"), direct);
    assert_eq!(
        mapped("bridge"),
        json!([
            {"containerPort": 80, "protocol": "tcp"},
            {"containerPort": 53, "protocol": "udp"},
            {"containerPortRange": "9000-9010", "protocol": "tcp"}
        ])
    );
}

#[test]
fn fills_health_check_timing_defaults() {
    let checked = |h: Value| {
        registered_json(&definition(
            vec![with(container("web"), json!({"healthCheck": h}))],
            json!({}),
        ))["containerDefinitions"][0]["healthCheck"]
            .clone()
    };
    assert_eq!(
        checked(json!({"command": ["CMD", "true"]})),
        json!({"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3})
    );
    let full = json!({"command": ["CMD", "true"], "interval": 10, "timeout": 2, "retries": 5, "startPeriod": 60});
    assert_eq!(checked(full.clone()), full);
}

#[test]
fn computes_requires_attributes() {
    let c = with(
        container("app"),
        json!({
            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc",
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
            "healthCheck": {"command": ["CMD", "true"]},
            "dependsOn": [{"containerName": "log_router", "condition": "START"}],
            "secrets": [
                {"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db"},
                {"name": "KEY", "valueFrom": "/app/key"}
            ],
            "environmentFiles": [{"type": "s3", "value": "arn:aws:s3:::bucket/app.env"}],
            "privileged": true
        }),
    );
    let router = with(
        container("log_router"),
        json!({"image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
               "firelensConfiguration": {"type": "fluentbit"}}),
    );
    let task = json!({
        "networkMode": "bridge",
        "taskRoleArn": "arn:aws:iam::111122223333:role/app",
        "executionRoleArn": "arn:aws:iam::111122223333:role/exec"
    });
    let td = registered_json(&definition(vec![c, router], task));
    assert_eq!(
        names(&td["requiresAttributes"]),
        [
            "com.amazonaws.ecs.capability.logging-driver.awslogs",
            "com.amazonaws.ecs.capability.docker-remote-api.1.19",
            "ecs.capability.execution-role-awslogs",
            "com.amazonaws.ecs.capability.ecr-auth",
            "ecs.capability.execution-role-ecr-pull",
            "com.amazonaws.ecs.capability.privileged-container",
            "ecs.capability.container-health-check",
            "ecs.capability.container-ordering",
            "ecs.capability.secrets.asm.environment-variables",
            "ecs.capability.secrets.ssm.environment-variables",
            "ecs.capability.env-files.s3",
            "ecs.capability.firelens.fluentbit",
            "com.amazonaws.ecs.capability.task-iam-role",
        ]
    );
    // Each is a bare name.
    assert_eq!(td["requiresAttributes"][0], json!({"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}));
}

#[test]
fn only_private_ecr_images_need_ecr_auth() {
    use super::super::defaults::is_private_ecr;
    for image in [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
        "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app",
    ] {
        assert!(is_private_ecr(image), "{image}");
    }
    for image in [
        "nginx",
        "nginx:1.27",
        "public.ecr.aws/nginx/nginx:latest",
        "127.0.0.1:5000/testunit:v0.1",
        "ghcr.io/owner/app:1",
        "evil.com/123.dkr.ecr.us-east-1.amazonaws.com",
    ] {
        assert!(!is_private_ecr(image), "{image}");
    }
}
