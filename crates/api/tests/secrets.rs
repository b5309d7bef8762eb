//! Integration tier for Parameter Store, Secrets Manager and the agent protocol's
//! ResolveSecrets: the real router over a MemoryStore, spoken to over HTTP.

mod common;

use common::*;
use serde_json::{Value, json};
use std::net::SocketAddr;

async fn call(addr: SocketAddr, service: &str, prefix: &str, op: &str, input: Value) -> Reply {
    let target = format!("{prefix}.{op}");
    let headers = [("X-Amz-Target", target.as_str()), ("Content-Type", "application/x-amz-json-1.1")];
    let body = input.to_string();
    send(addr, &signed(addr, service, &headers, body.as_bytes()), body.as_bytes()).await
}

async fn ssm(addr: SocketAddr, op: &str, input: Value) -> Reply {
    call(addr, "ssm", "AmazonSSM", op, input).await
}

async fn sm(addr: SocketAddr, op: &str, input: Value) -> Reply {
    call(addr, "secretsmanager", "secretsmanager", op, input).await
}

fn ok(reply: &Reply) -> &Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    &reply.body
}

fn code(reply: &Reply) -> &str {
    assert_eq!(reply.status, 400, "{}", reply.body);
    reply.body["__type"].as_str().unwrap_or_default()
}

/// Every byte stored under `prefix`, as text.
async fn stored(server: &Server, prefix: &str) -> String {
    let (kvs, _) = server.store.range(prefix).await.unwrap();
    kvs.iter().map(|kv| String::from_utf8_lossy(&kv.value).to_string()).collect()
}

#[tokio::test]
async fn values_are_sealed_at_rest_and_never_described() {
    let s = start().await;
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "/app/plain", "Value": "plain-value-1", "Type": "String"})).await);
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "/app/secure", "Value": "secure-value-2", "Type": "SecureString"}))
        .await);
    ok(&sm(s.addr, "CreateSecret", json!({"Name": "db", "SecretString": "secret-value-3"})).await);
    let at_rest = stored(&s, "ssm/").await + &stored(&s, "secretsmanager/").await;
    for value in ["plain-value-1", "secure-value-2", "secret-value-3"] {
        assert!(!at_rest.contains(value), "{value} is stored in the clear");
    }
    let read = ok(&ssm(s.addr, "GetParameter", json!({"Name": "/app/secure", "WithDecryption": true})).await).clone();
    assert_eq!(read["Parameter"]["Value"], "secure-value-2");
    let described = ok(&sm(s.addr, "DescribeSecret", json!({"SecretId": "db"})).await).to_string()
        + &ok(&sm(s.addr, "ListSecrets", json!({})).await).to_string()
        + &ok(&ssm(s.addr, "DescribeParameters", json!({})).await).to_string();
    assert!(!described.contains("value-"), "{described}");
}

#[tokio::test]
async fn refused_writes_leave_the_store_as_it_was() {
    let s = start().await;
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "p", "Value": "1", "Type": "String"})).await);
    let before = stored(&s, "ssm/").await;
    assert_eq!(
        code(&ssm(s.addr, "PutParameter", json!({"Name": "p", "Value": "2", "Type": "String"})).await),
        "ParameterAlreadyExists"
    );
    assert_eq!(
        code(&ssm(s.addr, "PutParameter", json!({"Name": "p", "Value": "x".repeat(4097), "Overwrite": true})).await),
        "ValidationException"
    );
    assert_eq!(
        code(&ssm(s.addr, "LabelParameterVersion", json!({"Name": "p", "ParameterVersion": 4, "Labels": ["l"]})).await),
        "ParameterVersionNotFound"
    );
    assert_eq!(stored(&s, "ssm/").await, before);
    assert_eq!(code(&ssm(s.addr, "GetParameter", json!({"Name": "nope"})).await), "ParameterNotFound");
    assert_eq!(code(&sm(s.addr, "GetSecretValue", json!({"SecretId": "nope"})).await), "ResourceNotFoundException");
}

async fn register(addr: SocketAddr, cluster: &str, instance_id: &str) -> String {
    let doc = json!({"instanceId": instance_id, "availabilityZone": "local-1a", "instanceType": "berth.local"});
    let reply = ecs(
        addr,
        "RegisterContainerInstance",
        json!({
            "cluster": cluster,
            "instanceIdentityDocument": doc.to_string(),
            "totalResources": [
                {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": 1024}
            ]
        }),
    )
    .await;
    ok(&reply)["containerInstance"]["containerInstanceArn"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn resolve_secrets_answers_the_tasks_instance_only() {
    let s = start().await;
    ok(&ecs(s.addr, "CreateCluster", json!({"clusterName": "c"})).await);
    let a = register(s.addr, "c", "i-a").await;
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "/app/host", "Value": "db.internal", "Type": "SecureString"}))
        .await);
    let secret = ok(
        &sm(s.addr, "CreateSecret", json!({"Name": "creds", "SecretString": "{\"password\":\"pw1\"}"})).await
    )["ARN"]
        .as_str()
        .unwrap()
        .to_string();
    let container = json!({
        "name": "app", "image": "busybox", "memory": 64, "essential": true,
        "secrets": [{"name": "HOST", "valueFrom": "/app/host"}, {"name": "PW", "valueFrom": format!("{secret}:password::")}],
        "logConfiguration": {"logDriver": "awslogs", "secretOptions": [{"name": "token", "valueFrom": secret.clone()}]}
    });
    let td = ok(
        &ecs(s.addr, "RegisterTaskDefinition", json!({"family": "f", "containerDefinitions": [container]})).await
    )["taskDefinition"]["taskDefinitionArn"]
        .clone();
    let task = ok(&ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": td})).await)["tasks"][0]["taskArn"]
        .as_str()
        .unwrap()
        .to_string();
    let b = register(s.addr, "c", "i-b").await;

    let answer =
        ok(&agent(s.addr, "ResolveSecrets", json!({"cluster": "c", "containerInstance": a, "taskArn": task})).await)
            .clone();
    assert_eq!(answer["containers"][0]["containerName"], "app");
    assert_eq!(answer["containers"][0]["environment"], json!({"HOST": "db.internal", "PW": "pw1"}));
    assert_eq!(answer["containers"][0]["logOptions"], json!({"token": "{\"password\":\"pw1\"}"}));
    assert!(answer.get("failure").is_none());

    let other = agent(s.addr, "ResolveSecrets", json!({"cluster": "c", "containerInstance": b, "taskArn": task})).await;
    assert_eq!(code(&other), "InvalidParameterException", "another instance learns nothing");
    let described = ok(&ecs(s.addr, "DescribeTasks", json!({"cluster": "c", "tasks": [task]})).await).to_string();
    assert!(!described.contains("pw1") && !described.contains("db.internal"));

    ok(&ssm(s.addr, "DeleteParameter", json!({"Name": "/app/host"})).await);
    let failed =
        ok(&agent(s.addr, "ResolveSecrets", json!({"cluster": "c", "containerInstance": a, "taskArn": task})).await)
            .clone();
    let reason = failed["failure"].as_str().unwrap();
    assert!(reason.starts_with("ResourceInitializationError: unable to pull secrets or registry auth: "), "{reason}");
    assert!(reason.contains("ParameterNotFound") && reason.contains("/app/host"), "{reason}");
    assert_eq!(failed["containers"], json!([]));
}
