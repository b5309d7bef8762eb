//! Every member sent comes back equal: register() copies the request through.

use serde_json::{Map, Value, json};

use super::{definition, registered_json, with};

/// Every ContainerDefinition member of the model, each with a value that passes the
/// rules in bridge mode next to a container named "sidecar" and a volume named "data".
/// Values that ECS would complete with defaults (port mapping protocol, health check
/// timings) are sent complete, so what comes back must be exactly what was sent.
fn container_members() -> Vec<(&'static str, Value)> {
    vec![
        ("name", json!("app")),
        ("image", json!("registry.example.com/team/app:2.0")),
        (
            "repositoryCredentials",
            json!({"credentialsParameter": "arn:aws:secretsmanager:us-east-1:111122223333:secret:creds"}),
        ),
        ("cpu", json!(256)),
        ("memory", json!(512)),
        ("memoryReservation", json!(256)),
        ("links", json!(["sidecar:helper"])),
        (
            "portMappings",
            json!([
                {"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"},
                {"containerPortRange": "9000-9010", "protocol": "udp"}
            ]),
        ),
        ("essential", json!(false)),
        ("restartPolicy", json!({"enabled": true, "ignoredExitCodes": [0, 143], "restartAttemptPeriod": 60})),
        ("entryPoint", json!(["/bin/sh", "-c"])),
        ("command", json!(["exec app --serve"])),
        ("environment", json!([{"name": "MODE", "value": "prod"}, {"name": "EMPTY", "value": ""}])),
        ("environmentFiles", json!([{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}])),
        ("mountPoints", json!([{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}])),
        ("volumesFrom", json!([{"sourceContainer": "sidecar", "readOnly": false}])),
        (
            "linuxParameters",
            json!({
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                "devices": [{"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["read", "write"]}],
                "initProcessEnabled": true,
                "sharedMemorySize": 64,
                "tmpfs": [{"containerPath": "/scratch", "size": 64, "mountOptions": ["rw", "noexec"]}],
                "maxSwap": 1024,
                "swappiness": 60
            }),
        ),
        ("secrets", json!([{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/token"}])),
        ("dependsOn", json!([{"containerName": "sidecar", "condition": "START"}])),
        ("startTimeout", json!(30)),
        ("stopTimeout", json!(60)),
        ("versionConsistency", json!("disabled")),
        ("hostname", json!("app.local")),
        ("user", json!("1000:1000")),
        ("workingDirectory", json!("/srv")),
        ("disableNetworking", json!(false)),
        ("privileged", json!(false)),
        ("readonlyRootFilesystem", json!(true)),
        ("dnsServers", json!(["10.0.0.2"])),
        ("dnsSearchDomains", json!(["example.internal"])),
        ("extraHosts", json!([{"hostname": "db", "ipAddress": "10.0.0.5"}])),
        ("dockerSecurityOptions", json!(["no-new-privileges"])),
        ("interactive", json!(true)),
        ("pseudoTerminal", json!(true)),
        ("dockerLabels", json!({"team": "core", "tier": "web"})),
        ("ulimits", json!([{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}])),
        (
            "logConfiguration",
            json!({
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1"},
                "secretOptions": [{"name": "token", "valueFrom": "/log/token"}]
            }),
        ),
        (
            "healthCheck",
            json!({
                "command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
                "interval": 15, "timeout": 3, "retries": 4, "startPeriod": 10
            }),
        ),
        ("systemControls", json!([{"namespace": "net.core.somaxconn", "value": "1024"}])),
        ("resourceRequirements", json!([{"value": "1", "type": "GPU"}])),
        ("firelensConfiguration", json!({"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}})),
        ("credentialSpecs", json!(["credentialspecdomainless:arn:aws:s3:::bucket/spec.json"])),
    ]
}

/// A bridge definition with `app` and a plain "sidecar", a volume "data", and task
/// memory so that no container has to set its own.
fn around(app: Value) -> Value {
    definition(
        vec![app, json!({"name": "sidecar", "image": "busybox"})],
        json!({"networkMode": "bridge", "memory": "1024", "volumes": [{"name": "data"}]}),
    )
}

#[test]
fn the_table_covers_every_container_member() {
    // The ContainerDefinition shape of botocore's ECS model has 42 members; a typo in a
    // name above would deserialize to nothing and fail the round trips below.
    let members = container_members();
    assert_eq!(members.len(), 42);
    let names: std::collections::HashSet<_> = members.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), members.len(), "no member listed twice");
}

#[test]
fn each_container_member_comes_back_equal() {
    for (member, value) in container_members() {
        let app = with(json!({"name": "app", "image": "nginx"}), json!({member: value.clone()}));
        let td = registered_json(&around(app));
        assert_eq!(td["containerDefinitions"][0][member], value, "{member}");
    }
}

#[test]
fn a_container_with_every_member_comes_back_unchanged() {
    let app = Value::Object(container_members().into_iter().map(|(m, v)| (m.to_string(), v)).collect::<Map<_, _>>());
    let td = registered_json(&around(app.clone()));
    assert_eq!(td["containerDefinitions"][0], app);
}

#[test]
fn every_task_member_comes_back_equal() {
    // Containers sent with ECS's defaults already in, so they too come back unchanged.
    let complete = |c: Value| {
        with(
            json!({"cpu": 0, "essential": true, "portMappings": [], "environment": [],
                   "mountPoints": [], "volumesFrom": [], "systemControls": []}),
            c,
        )
    };
    let sent = json!({
        "family": "full-definition",
        "taskRoleArn": "arn:aws:iam::111122223333:role/app",
        "executionRoleArn": "arn:aws:iam::111122223333:role/exec",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            complete(json!({
                "name": "app", "image": "nginx", "cpu": 512, "memory": 1024,
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
            })),
            complete(json!({"name": "envoy", "image": "envoyproxy/envoy:v1.31", "memoryReservation": 256}))
        ],
        "volumes": [
            {"name": "host", "host": {"sourcePath": "/srv/data"}},
            {"name": "scratch", "host": {}},
            {"name": "efs", "efsVolumeConfiguration": {
                "fileSystemId": "fs-1234", "rootDirectory": "/", "transitEncryption": "ENABLED",
                "transitEncryptionPort": 2049,
                "authorizationConfig": {"accessPointId": "fsap-1234", "iam": "ENABLED"}}},
            {"name": "docker", "dockerVolumeConfiguration": {
                "scope": "shared", "autoprovision": true, "driver": "local",
                "driverOpts": {"type": "nfs"}, "labels": {"team": "core"}}},
            {"name": "fsx", "fsxWindowsFileServerVolumeConfiguration": {
                "fileSystemId": "fs-5678", "rootDirectory": "share",
                "authorizationConfig": {"credentialsParameter": "arn:aws:ssm:us-east-1:111122223333:parameter/fsx", "domain": "corp"}}},
            {"name": "s3", "s3filesVolumeConfiguration": {
                "fileSystemArn": "arn:aws:s3files:us-east-1:111122223333:file-system/fs-1",
                "rootDirectory": "/", "transitEncryptionPort": 2049,
                "accessPointArn": "arn:aws:s3files:us-east-1:111122223333:access-point/ap-1"}},
            {"name": "later", "configuredAtLaunch": true}
        ],
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
        "requiresCompatibilities": ["EC2"],
        "cpu": "1024",
        "memory": "2048",
        "tags": [{"key": "team", "value": "core"}],
        "pidMode": "task",
        "ipcMode": "task",
        "proxyConfiguration": {
            "type": "APPMESH", "containerName": "envoy",
            "properties": [{"name": "AppPorts", "value": "8080"}]
        },
        "inferenceAccelerators": [{"deviceName": "device1", "deviceType": "eia2.medium"}],
        "ephemeralStorage": {"sizeInGiB": 30},
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "enableFaultInjection": true
    });
    let td = registered_json(&sent);
    let sent = sent.as_object().expect("an object");
    // Every RegisterTaskDefinition member is sent above.
    assert_eq!(sent.len(), 18);
    for (member, value) in sent {
        if member == "tags" {
            // Tags belong to the resource; the response carries them beside the definition.
            assert_eq!(td.get("tags"), None);
        } else {
            assert_eq!(&td[member], value, "{member}");
        }
    }
}
