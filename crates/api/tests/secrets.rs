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

/// A task execution role (trusting ecs-tasks) with the inline policies `(name, url-encoded document)`.
async fn execution_role(addr: SocketAddr, name: &str, policies: &[(&str, &str)]) -> String {
    let created = iam(addr, &format!("Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument=%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%22ecs-tasks.amazonaws.com%22%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%5D%7D")).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    for (policy, document) in policies {
        let put =
            iam(addr, &format!("Action=PutRolePolicy&RoleName={name}&PolicyName={policy}&PolicyDocument={document}"))
                .await;
        assert_eq!(put.status, 200, "{:?}", put.body);
    }
    format!("arn:aws:iam::000000000000:role/{name}")
}

/// Reads /app/* parameters.
const READ_APP_PARAMETERS: &str = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22ssm%3AGetParameters%22%2C%20%22Resource%22%3A%20%22arn%3Aaws%3Assm%3Aus-east-1%3A%2A%3Aparameter%2Fapp%2F%2A%22%7D%5D%7D";
/// Reads every secret.
const READ_SECRETS: &str = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22secretsmanager%3AGetSecretValue%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%7D";

#[tokio::test]
async fn resolve_secrets_answers_the_tasks_instance_only() {
    let s = start().await;
    ok(&ecs(s.addr, "CreateCluster", json!({"clusterName": "c"})).await);
    let role = execution_role(s.addr, "exec", &[("ssm", READ_APP_PARAMETERS), ("sm", READ_SECRETS)]).await;
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
    let td = ok(&ecs(
        s.addr,
        "RegisterTaskDefinition",
        json!({"family": "f", "executionRoleArn": role, "containerDefinitions": [container]}),
    )
    .await)["taskDefinition"]["taskDefinitionArn"]
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

/// What a task's execution role may not read, and a task with none, fail the task with ECS's
/// reason and the evaluator's AccessDenied message; nothing is answered.
#[tokio::test]
async fn resolve_secrets_reads_as_the_execution_role() {
    let s = start().await;
    ok(&ecs(s.addr, "CreateCluster", json!({"clusterName": "c"})).await);
    let a = register(s.addr, "c", "i-a").await;
    let role = execution_role(s.addr, "params-only", &[("ssm", READ_APP_PARAMETERS)]).await;
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "/app/host", "Value": "db.internal", "Type": "String"})).await);
    ok(&ssm(s.addr, "PutParameter", json!({"Name": "/other/host", "Value": "elsewhere", "Type": "String"})).await);
    let secret = ok(&sm(s.addr, "CreateSecret", json!({"Name": "creds", "SecretString": "pw1"})).await)["ARN"].clone();
    let (addr, a) = (s.addr, &a);
    let run = |secrets: Value, role: Option<String>| async move {
        let container = json!({"name": "app", "image": "busybox", "memory": 64, "secrets": secrets});
        let mut td = json!({"family": "f", "containerDefinitions": [container]});
        if let Some(role) = role {
            td["executionRoleArn"] = json!(role);
        }
        let td = ok(&ecs(addr, "RegisterTaskDefinition", td).await)["taskDefinition"]["taskDefinitionArn"].clone();
        let task =
            ok(&ecs(addr, "RunTask", json!({"cluster": "c", "taskDefinition": td})).await)["tasks"][0]["taskArn"]
                .clone();
        ok(&agent(addr, "ResolveSecrets", json!({"cluster": "c", "containerInstance": a, "taskArn": task})).await)
            .clone()
    };
    let allowed = run(json!([{"name": "HOST", "valueFrom": "/app/host"}]), Some(role.clone())).await;
    assert_eq!(allowed["containers"][0]["environment"], json!({"HOST": "db.internal"}));

    for (secrets, denied) in [
        (json!([{"name": "H", "valueFrom": "/other/host"}]), "ssm:GetParameters"),
        (json!([{"name": "PW", "valueFrom": secret}]), "secretsmanager:GetSecretValue"),
    ] {
        let refused = run(secrets, Some(role.clone())).await;
        let reason = refused["failure"].as_str().unwrap();
        assert!(
            reason.starts_with("ResourceInitializationError: unable to pull secrets or registry auth: "),
            "{reason}"
        );
        assert!(
            reason.contains("assumed-role/params-only/")
                && reason.contains(&format!("not authorized to perform: {denied}")),
            "{reason}"
        );
        assert_eq!(refused["containers"], json!([]));
    }
    let without_role = run(json!([{"name": "HOST", "valueFrom": "/app/host"}]), None).await;
    assert!(without_role["failure"].as_str().unwrap().contains("no executionRoleArn"), "{without_role}");
}
