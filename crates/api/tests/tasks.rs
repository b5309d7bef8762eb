//! Integration tier for container instances and tasks: the test acts as a berth agent
//! over HTTP (RegisterContainerInstance, BerthAgent_V1.PollTasks / ReportTaskState) and
//! as an ECS client (RunTask, StopTask, Describe*/List*), against the real router and
//! a SQLite store.

mod common;

use common::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const ACCOUNT_ARN: &str = "arn:aws:ecs:us-east-1:000000000000";

fn ok(reply: &Reply) -> &Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    &reply.body
}

fn error(reply: &Reply) -> (&str, &str) {
    assert_ne!(reply.status, 200, "{}", reply.body);
    (reply.body["__type"].as_str().unwrap_or_default(), reply.body["message"].as_str().unwrap_or_default())
}

async fn cluster(addr: SocketAddr, name: &str) {
    ok(&ecs(addr, "CreateCluster", json!({"clusterName": name})).await);
}

/// Registers an instance as the berth agent does; returns its ARN.
async fn register(addr: SocketAddr, cluster: &str, instance_id: &str, cpu: i64, memory: i64) -> String {
    let reply = ecs(
        addr,
        "RegisterContainerInstance",
        json!({
            "cluster": cluster,
            "instanceIdentityDocument": json!({"instanceId": instance_id, "availabilityZone": "local-1a", "instanceType": "berth.local"}).to_string(),
            "totalResources": [
                {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
                {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375", "2376", "51678", "51679"]},
                {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []}
            ],
            "versionInfo": {"agentVersion": "0.1.0", "agentHash": "berth"},
            "attributes": [
                {"name": "ecs.os-type", "value": "linux"},
                {"name": "ecs.cpu-architecture", "value": "x86_64"},
                {"name": "com.amazonaws.ecs.capability.docker-remote-api.1.17"}
            ]
        }),
    )
    .await;
    ok(&reply)["containerInstance"]["containerInstanceArn"].as_str().unwrap().to_string()
}

/// Registers a task definition with one container; returns its ARN.
async fn taskdef(addr: SocketAddr, family: &str, container: Value) -> String {
    let mut c = json!({"name": "app", "image": "busybox", "essential": true});
    c.as_object_mut().unwrap().extend(container.as_object().unwrap().clone());
    let reply = ecs(addr, "RegisterTaskDefinition", json!({"family": family, "containerDefinitions": [c]})).await;
    ok(&reply)["taskDefinition"]["taskDefinitionArn"].as_str().unwrap().to_string()
}

async fn run(addr: SocketAddr, input: Value) -> Value {
    ok(&ecs(addr, "RunTask", input).await).clone()
}

async fn describe_instance(addr: SocketAddr, cluster: &str, arn: &str) -> Value {
    let reply = ecs(addr, "DescribeContainerInstances", json!({"cluster": cluster, "containerInstances": [arn]})).await;
    ok(&reply)["containerInstances"][0].clone()
}

async fn describe_task(addr: SocketAddr, cluster: &str, arn: &str) -> Value {
    let reply = ecs(addr, "DescribeTasks", json!({"cluster": cluster, "tasks": [arn], "include": ["TAGS"]})).await;
    ok(&reply)["tasks"][0].clone()
}

async fn describe_cluster(addr: SocketAddr, cluster: &str) -> Value {
    ok(&ecs(addr, "DescribeClusters", json!({"clusters": [cluster]})).await)["clusters"][0].clone()
}

/// A resource of a registeredResources/remainingResources list.
fn resource<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()
}

fn remaining(instance: &Value, name: &str) -> i64 {
    resource(&instance["remainingResources"], name)["integerValue"].as_i64().unwrap()
}

fn task_arns(run: &Value) -> Vec<String> {
    run["tasks"].as_array().unwrap().iter().map(|t| t["taskArn"].as_str().unwrap().to_string()).collect()
}

async fn poll(addr: SocketAddr, cluster: &str, instance: &str, after: Option<i64>, wait: u32) -> Value {
    let mut input = json!({"cluster": cluster, "containerInstance": instance, "waitSeconds": wait});
    if let Some(after) = after {
        input["afterRevision"] = json!(after);
    }
    ok(&agent(addr, "PollTasks", input).await).clone()
}

async fn report(addr: SocketAddr, cluster: &str, task: &str, status: &str, extra: Value) -> Reply {
    let mut input = json!({"cluster": cluster, "taskArn": task, "lastStatus": status});
    input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    agent(addr, "ReportTaskState", input).await
}

#[tokio::test]
async fn run_task_places_count_tasks_and_reserves_their_resources() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    let instance_id = instance.strip_prefix(&format!("{ACCOUNT_ARN}:container-instance/c/")).unwrap();
    assert!(instance_id.len() == 32 && instance_id.bytes().all(|b| b.is_ascii_hexdigit()), "{instance}");
    let td = taskdef(s.addr, "web", json!({"cpu": 128, "memory": 100})).await;

    let out = run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "count": 3, "startedBy": "me"})).await;
    assert_eq!(out["failures"], json!([]));
    let tasks = out["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    for t in tasks {
        let arn = t["taskArn"].as_str().unwrap();
        let id = arn.strip_prefix(&format!("{ACCOUNT_ARN}:task/c/")).unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{arn}");
        assert_eq!(t["lastStatus"], "PROVISIONING");
        assert_eq!(t["desiredStatus"], "RUNNING");
        assert_eq!(t["containerInstanceArn"], instance);
        assert_eq!(t["clusterArn"], format!("{ACCOUNT_ARN}:cluster/c"));
        assert_eq!(t["taskDefinitionArn"], td);
        assert_eq!(t["group"], "family:web");
        assert_eq!(t["launchType"], "EC2");
        assert_eq!(t["startedBy"], "me");
        assert_eq!(t["version"], 1);
        assert_eq!(t["availabilityZone"], "local-1a");
        assert_eq!((t["cpu"].as_str(), t["memory"].as_str()), (Some("128"), Some("100")));
        assert!(t["createdAt"].as_f64().unwrap() > 1.0e9);
        let c = &t["containers"][0];
        assert_eq!((c["name"].as_str(), c["lastStatus"].as_str()), (Some("app"), Some("PENDING")));
        assert_eq!(c["taskArn"], arn);
        assert!(c["containerArn"].as_str().unwrap().starts_with(&format!("{ACCOUNT_ARN}:container/c/{id}/")));
        assert_eq!(t["overrides"]["containerOverrides"], json!([{"name": "app"}]));
    }

    let ci = describe_instance(s.addr, "c", &instance).await;
    assert_eq!((remaining(&ci, "CPU"), remaining(&ci, "MEMORY")), (1024 - 3 * 128, 1000 - 300));
    assert_eq!(resource(&ci["registeredResources"], "MEMORY")["integerValue"], 1000);
    assert_eq!((ci["pendingTasksCount"].as_i64(), ci["runningTasksCount"].as_i64()), (Some(3), Some(0)));
    assert_eq!(ci["status"], "ACTIVE");
    assert_eq!(ci["agentConnected"], false, "no poll yet");
    assert_eq!(ci["ec2InstanceId"], "i-1");
    let c = describe_cluster(s.addr, "c").await;
    assert_eq!(c["pendingTasksCount"], 3);
    assert_eq!(c["runningTasksCount"], 0);
    assert_eq!(c["registeredContainerInstancesCount"], 1);
    let listed = ok(&ecs(s.addr, "ListTasks", json!({"cluster": "c"})).await).clone();
    assert_eq!(listed["taskArns"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_instance_keeps_the_private_ip_of_its_identity_document() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let registration = |ip: &str| {
        json!({
            "cluster": "c",
            "instanceIdentityDocument": json!({"instanceId": "i-2", "privateIp": ip}).to_string(),
            "totalResources": [{"name": "CPU", "type": "INTEGER", "integerValue": 1024},
                               {"name": "MEMORY", "type": "INTEGER", "integerValue": 1000}],
        })
    };
    let bad = ecs(s.addr, "RegisterContainerInstance", registration("10.0.3.x")).await;
    let (code, message) = error(&bad);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("instanceIdentityDocument"), "{message}");
    let (stored, _) = s.store.range("ecs/instances/c/").await.unwrap();
    assert!(stored.is_empty(), "a refused registration stores nothing");

    let arn = ok(&ecs(s.addr, "RegisterContainerInstance", registration("10.0.3.7")).await)["containerInstance"]
        ["containerInstanceArn"]
        .as_str()
        .unwrap()
        .to_string();
    let id = arn.rsplit('/').next().unwrap();
    let kv = s.store.get(&format!("ecs/instances/c/{id}")).await.unwrap().unwrap();
    let record: Value = serde_json::from_slice(&kv.value).unwrap();
    assert_eq!(record["privateIp"], "10.0.3.7", "where load balancers reach its instance targets");
}

#[tokio::test]
async fn placement_failures_name_the_instance_and_the_resource() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let none = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "web"})).await;
    // No instances and no task definition: the definition is checked first.
    assert_eq!(error(&none).0, "ClientException");
    taskdef(s.addr, "port", json!({"memory": 10, "portMappings": [{"containerPort": 80, "hostPort": 8080}]})).await;
    let no_instances = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "port"})).await;
    assert_eq!(
        error(&no_instances),
        ("InvalidParameterException", "No Container Instances were found in your cluster.")
    );

    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    let first = run(s.addr, json!({"cluster": "c", "taskDefinition": "port"})).await;
    assert_eq!(first["tasks"].as_array().unwrap().len(), 1);
    let second = run(s.addr, json!({"cluster": "c", "taskDefinition": "port"})).await;
    assert_eq!(second["tasks"], json!([]));
    assert_eq!(second["failures"], json!([{"arn": instance, "reason": "RESOURCE:PORTS"}]));
    let ci = describe_instance(s.addr, "c", &instance).await;
    let ports = resource(&ci["remainingResources"], "PORTS")["stringSetValue"].as_array().unwrap().clone();
    assert!(ports.contains(&json!("8080")) && ports.contains(&json!("22")), "{ports:?}");

    taskdef(s.addr, "big", json!({"memory": 5000})).await;
    let big = run(s.addr, json!({"cluster": "c", "taskDefinition": "big", "count": 2})).await;
    assert_eq!(big["failures"], json!([{"arn": instance, "reason": "RESOURCE:MEMORY"}]));
    taskdef(s.addr, "hungry", json!({"memory": 10, "cpu": 4096})).await;
    let hungry = run(s.addr, json!({"cluster": "c", "taskDefinition": "hungry"})).await;
    assert_eq!(hungry["failures"], json!([{"arn": instance, "reason": "RESOURCE:CPU"}]));
}

#[tokio::test]
async fn polls_return_the_instances_tasks_and_wake_on_changes() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    let td = taskdef(s.addr, "web", json!({"memory": 100})).await;
    let arns = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "count": 2})).await);

    let state = poll(s.addr, "c", &instance, None, 20).await;
    assert_eq!(state["instanceStatus"], "ACTIVE");
    let tasks = state["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["taskDefinition"]["taskDefinitionArn"], td);
    assert_eq!(tasks[0]["taskDefinition"]["containerDefinitions"][0]["memory"], 100);
    let mut polled: Vec<String> = tasks.iter().map(|t| t["task"]["taskArn"].as_str().unwrap().to_string()).collect();
    polled.sort();
    let mut expected = arns.clone();
    expected.sort();
    assert_eq!(polled, expected);
    // The poll is the heartbeat.
    assert_eq!(describe_instance(s.addr, "c", &instance).await["agentConnected"], true);

    // Nothing changes: the poll waits out its waitSeconds and answers the same state.
    let revision = state["revision"].as_i64().unwrap();
    let began = Instant::now();
    let idle = poll(s.addr, "c", &instance, Some(revision), 1).await;
    assert!(began.elapsed() >= Duration::from_millis(900), "{:?}", began.elapsed());
    assert_eq!(idle["tasks"].as_array().unwrap().len(), 2);

    // A StopTask wakes a waiting poll long before its 20 seconds.
    let addr = s.addr;
    let waiting = tokio::spawn(async move {
        let began = Instant::now();
        (poll(addr, "c", &instance, Some(revision), 20).await, began.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = ok(&ecs(s.addr, "StopTask", json!({"cluster": "c", "task": arns[0]})).await).clone();
    assert_eq!(stopped["task"]["desiredStatus"], "STOPPED");
    assert_eq!(stopped["task"]["stopCode"], "UserInitiated");
    assert_eq!(stopped["task"]["stoppedReason"], "Task stopped by user");
    assert!(stopped["task"]["stoppingAt"].is_number());
    let (woken, waited) = waiting.await.unwrap();
    assert!(waited < Duration::from_secs(10), "the poll waited {waited:?}");
    assert!(woken["revision"].as_i64().unwrap() > revision);
    let stopping: Vec<&Value> =
        woken["tasks"].as_array().unwrap().iter().filter(|t| t["task"]["desiredStatus"] == "STOPPED").collect();
    assert_eq!(stopping.len(), 1, "the task to stop is still listed until it reports STOPPED");
    assert_eq!(stopping[0]["task"]["taskArn"], arns[0]);

    // Changes to another instance's tasks do not wake this one's poll.
    let other = register(s.addr, "c", "i-2", 1024, 1000).await;
    ok(&ecs(
        s.addr,
        "UpdateContainerInstancesState",
        json!({"cluster": "c", "containerInstances": [other], "status": "DRAINING"}),
    )
    .await);
    let rev = poll(s.addr, "c", &other, None, 0).await["revision"].as_i64().unwrap();
    let addr = s.addr;
    let other_poll = tokio::spawn(async move {
        let began = Instant::now();
        let _ = poll(addr, "c", &other, Some(rev), 1).await;
        began.elapsed()
    });
    ok(&ecs(s.addr, "StopTask", json!({"cluster": "c", "task": arns[1]})).await);
    assert!(other_poll.await.unwrap() >= Duration::from_millis(900));

    let unknown =
        agent(s.addr, "PollTasks", json!({"cluster": "c", "containerInstance": "0123456789abcdef0123456789abcdef"}))
            .await;
    assert_eq!(error(&unknown).0, "InvalidParameterException");
    let missing_cluster = agent(s.addr, "PollTasks", json!({"cluster": "nope", "containerInstance": "x"})).await;
    assert_eq!(error(&missing_cluster).0, "ClusterNotFoundException");
}

#[tokio::test]
async fn reports_walk_the_lifecycle_and_stopping_releases_resources() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    taskdef(
        s.addr,
        "web",
        json!({"memory": 100, "cpu": 64, "portMappings": [{"containerPort": 80, "hostPort": 8080}]}),
    )
    .await;
    let arn = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await).remove(0);

    let running = report(
        s.addr,
        "c",
        &arn,
        "RUNNING",
        json!({"containers": [{"name": "app", "lastStatus": "RUNNING", "runtimeId": "docker-1",
                               "networkBindings": [{"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}]}]}),
    )
    .await;
    assert!(ok(&running)["revision"].as_i64().unwrap() > 0);
    let task = describe_task(s.addr, "c", &arn).await;
    assert_eq!(task["lastStatus"], "RUNNING");
    assert!(task["startedAt"].is_number());
    assert_eq!(task["version"], 2);
    assert_eq!(task["containers"][0]["runtimeId"], "docker-1");
    assert_eq!(task["containers"][0]["networkBindings"][0]["hostPort"], 8080);
    let ci = describe_instance(s.addr, "c", &instance).await;
    assert_eq!((ci["runningTasksCount"].as_i64(), ci["pendingTasksCount"].as_i64()), (Some(1), Some(0)));
    assert_eq!(describe_cluster(s.addr, "c").await["runningTasksCount"], 1);

    // Backwards, and unknown statuses, are refused and change nothing.
    let back = report(s.addr, "c", &arn, "PENDING", json!({})).await;
    assert_eq!(error(&back).0, "InvalidParameterException");
    assert_eq!(error(&report(s.addr, "c", &arn, "SLEEPING", json!({})).await).0, "InvalidParameterException");
    assert_eq!(describe_task(s.addr, "c", &arn).await["lastStatus"], "RUNNING");
    let missing =
        report(s.addr, "c", &format!("{ACCOUNT_ARN}:task/c/0123456789abcdef0123456789abcdef"), "RUNNING", json!({}))
            .await;
    assert_eq!(error(&missing), ("InvalidParameterException", "The referenced task was not found."));

    let stopped = report(
        s.addr,
        "c",
        &arn,
        "STOPPED",
        json!({"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
               "containers": [{"name": "app", "lastStatus": "STOPPED", "exitCode": 3}]}),
    )
    .await;
    ok(&stopped);
    let task = describe_task(s.addr, "c", &arn).await;
    assert_eq!((task["lastStatus"].as_str(), task["desiredStatus"].as_str()), (Some("STOPPED"), Some("STOPPED")));
    assert_eq!(task["stopCode"], "EssentialContainerExited");
    assert_eq!(task["containers"][0]["exitCode"], 3);
    for field in ["stoppingAt", "stoppedAt", "executionStoppedAt"] {
        assert!(task[field].is_number(), "{field}");
    }
    let ci = describe_instance(s.addr, "c", &instance).await;
    assert_eq!((remaining(&ci, "CPU"), remaining(&ci, "MEMORY")), (1024, 1000));
    let ports = resource(&ci["remainingResources"], "PORTS")["stringSetValue"].clone();
    assert!(!ports.as_array().unwrap().contains(&json!("8080")));
    assert_eq!((ci["runningTasksCount"].as_i64(), ci["pendingTasksCount"].as_i64()), (Some(0), Some(0)));
    let c = describe_cluster(s.addr, "c").await;
    assert_eq!((c["runningTasksCount"].as_i64(), c["pendingTasksCount"].as_i64()), (Some(0), Some(0)));
    assert_eq!(poll(s.addr, "c", &instance, None, 0).await["tasks"], json!([]));

    // STOPPED is final; repeating it is harmless.
    assert_eq!(error(&report(s.addr, "c", &arn, "RUNNING", json!({})).await).0, "InvalidParameterException");
    ok(&report(s.addr, "c", &arn, "STOPPED", json!({})).await);
    let listed = ok(&ecs(s.addr, "ListTasks", json!({"cluster": "c", "desiredStatus": "STOPPED"})).await).clone();
    assert_eq!(listed["taskArns"], json!([arn]));
    assert_eq!(ok(&ecs(s.addr, "ListTasks", json!({"cluster": "c"})).await)["taskArns"], json!([]));

    // The freed port can be used again.
    assert_eq!(run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await["failures"], json!([]));
}

#[tokio::test]
async fn concurrent_run_tasks_never_over_commit() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 4096, 500).await;
    taskdef(s.addr, "web", json!({"memory": 100})).await;
    let addr = s.addr;
    let replies =
        futures_join(10, move |_| ecs(addr, "RunTask", json!({"cluster": "c", "taskDefinition": "web"}))).await;
    let (mut placed, mut refused) = (0, 0);
    for r in &replies {
        let body = ok(r);
        placed += body["tasks"].as_array().unwrap().len();
        if !body["failures"].as_array().unwrap().is_empty() {
            assert_eq!(body["failures"], json!([{"arn": instance, "reason": "RESOURCE:MEMORY"}]));
            refused += 1;
        }
    }
    assert_eq!((placed, refused), (5, 5));
    let ci = describe_instance(s.addr, "c", &instance).await;
    assert_eq!(remaining(&ci, "MEMORY"), 0);
    assert_eq!(ci["pendingTasksCount"], 5);
    assert_eq!(ok(&ecs(s.addr, "ListTasks", json!({"cluster": "c"})).await)["taskArns"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn describe_and_list_tasks_filter_and_page() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let a = register(s.addr, "c", "i-a", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 10})).await;
    taskdef(s.addr, "batch", json!({"memory": 10})).await;
    let web = task_arns(
        &run(
            s.addr,
            json!({"cluster": "c", "taskDefinition": "web", "count": 3, "tags": [{"key": "k", "value": "v"}]}),
        )
        .await,
    );
    let batch = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "batch", "startedBy": "cron"})).await);
    // The second instance registers after: first-fit put everything on the first.
    let b = register(s.addr, "c", "i-b", 1024, 1000).await;
    let start =
        ok(&ecs(s.addr, "StartTask", json!({"cluster": "c", "taskDefinition": "batch", "containerInstances": [b]}))
            .await)
        .clone();
    let on_b = task_arns(&start);
    assert_eq!(start["tasks"][0]["containerInstanceArn"], b);

    let list = |filter: Value| async move {
        let mut input = json!({"cluster": "c"});
        input.as_object_mut().unwrap().extend(filter.as_object().unwrap().clone());
        let mut arns: Vec<String> = ok(&ecs(s.addr, "ListTasks", input).await)["taskArns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        arns.sort();
        arns
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(list(json!({"family": "web"})).await, sorted(web.clone()));
    assert_eq!(list(json!({"startedBy": "cron"})).await, batch);
    assert_eq!(list(json!({"containerInstance": b})).await, on_b);
    assert_eq!(list(json!({"containerInstance": a.rsplit('/').next().unwrap()})).await.len(), 4);
    assert_eq!(list(json!({"launchType": "FARGATE"})).await, Vec::<String>::new());
    assert_eq!(list(json!({"desiredStatus": "PENDING"})).await, Vec::<String>::new());
    ok(&ecs(s.addr, "StopTask", json!({"cluster": "c", "task": web[0], "reason": "enough"})).await);
    assert_eq!(list(json!({"desiredStatus": "STOPPED"})).await, vec![web[0].clone()]);
    assert_eq!(list(json!({})).await.len(), 4);

    // Pages of 2 walk every task once.
    let mut seen = vec![];
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"cluster": "c", "maxResults": 2});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = ok(&ecs(s.addr, "ListTasks", input).await).clone();
        seen.extend(page["taskArns"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()));
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);

    let id = web[1].rsplit('/').next().unwrap();
    let described = ok(&ecs(
        s.addr,
        "DescribeTasks",
        json!({"cluster": "c", "tasks": [id, "0123456789abcdef0123456789abcdef"], "include": ["TAGS"]}),
    )
    .await)
    .clone();
    assert_eq!(described["tasks"][0]["taskArn"], web[1]);
    assert_eq!(described["tasks"][0]["tags"], json!([{"key": "k", "value": "v"}]));
    assert_eq!(
        described["failures"],
        json!([{"arn": format!("{ACCOUNT_ARN}:task/c/0123456789abcdef0123456789abcdef"), "reason": "MISSING"}])
    );
    let untagged = ok(&ecs(s.addr, "DescribeTasks", json!({"cluster": "c", "tasks": [web[1]]})).await).clone();
    assert_eq!(untagged["tasks"][0]["tags"], json!([]));
    let stopped = describe_task(s.addr, "c", &web[0]).await;
    assert_eq!(stopped["stoppedReason"], "enough");
    let empty = ecs(s.addr, "DescribeTasks", json!({"cluster": "c", "tasks": []})).await;
    assert_eq!(error(&empty).0, "InvalidParameterException");
    let wrong_cluster = ecs(s.addr, "DescribeTasks", json!({"cluster": "nope", "tasks": [id]})).await;
    assert_eq!(error(&wrong_cluster).0, "ClusterNotFoundException");
}

#[tokio::test]
async fn draining_instances_get_no_new_tasks() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let a = register(s.addr, "c", "i-a", 1024, 1000).await;
    let b = register(s.addr, "c", "i-b", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 10})).await;

    let drained = ok(&ecs(
        s.addr,
        "UpdateContainerInstancesState",
        json!({"cluster": "c", "containerInstances": [a, "0123456789abcdef0123456789abcdef"], "status": "DRAINING"}),
    )
    .await)
    .clone();
    assert_eq!(drained["containerInstances"][0]["status"], "DRAINING");
    assert_eq!(drained["failures"][0]["reason"], "MISSING");
    let out = run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "count": 3})).await;
    assert!(out["tasks"].as_array().unwrap().iter().all(|t| t["containerInstanceArn"] == b));
    let draining =
        ok(&ecs(s.addr, "ListContainerInstances", json!({"cluster": "c", "status": "DRAINING"})).await).clone();
    assert_eq!(draining["containerInstanceArns"], json!([a]));
    assert_eq!(
        ok(&ecs(s.addr, "ListContainerInstances", json!({"cluster": "c"})).await)["containerInstanceArns"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    ok(&ecs(
        s.addr,
        "UpdateContainerInstancesState",
        json!({"cluster": "c", "containerInstances": [b], "status": "DRAINING"}),
    )
    .await);
    let nowhere = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "web"})).await;
    assert_eq!(error(&nowhere).1, "No Container Instances were found in your cluster.");
    let bad = ecs(
        s.addr,
        "UpdateContainerInstancesState",
        json!({"cluster": "c", "containerInstances": [a], "status": "REGISTERING"}),
    )
    .await;
    assert_eq!(error(&bad).0, "InvalidParameterException");
    ok(&ecs(
        s.addr,
        "UpdateContainerInstancesState",
        json!({"cluster": "c", "containerInstances": [a], "status": "ACTIVE"}),
    )
    .await);
    let back = run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await;
    assert_eq!(back["tasks"][0]["containerInstanceArn"], a);
}

#[tokio::test]
async fn deregistering_refuses_while_tasks_run_unless_forced() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 10})).await;
    let arn = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await).remove(0);

    let refused =
        ecs(s.addr, "DeregisterContainerInstance", json!({"cluster": "c", "containerInstance": instance})).await;
    assert_eq!(error(&refused), ("InvalidParameterException", "Found running tasks on the instance."));
    let busy = ecs(s.addr, "DeleteCluster", json!({"cluster": "c"})).await;
    assert_eq!(error(&busy).0, "ClusterContainsContainerInstancesException");

    let forced = ecs(
        s.addr,
        "DeregisterContainerInstance",
        json!({"cluster": "c", "containerInstance": instance, "force": true}),
    )
    .await;
    assert_eq!(ok(&forced)["containerInstance"]["status"], "INACTIVE");
    let task = describe_task(s.addr, "c", &arn).await;
    assert_eq!((task["lastStatus"].as_str(), task["desiredStatus"].as_str()), (Some("STOPPED"), Some("STOPPED")));
    let state = poll(s.addr, "c", &instance, None, 0).await;
    assert_eq!((state["instanceStatus"].as_str(), state["tasks"].clone()), (Some("INACTIVE"), json!([])));
    assert_eq!(
        ok(&ecs(s.addr, "ListContainerInstances", json!({"cluster": "c"})).await)["containerInstanceArns"],
        json!([])
    );
    // Still describable; no longer counted; re-registering its ARN is refused.
    assert_eq!(describe_instance(s.addr, "c", &instance).await["status"], "INACTIVE");
    assert_eq!(describe_cluster(s.addr, "c").await["registeredContainerInstancesCount"], 0);
    let again = ecs(
        s.addr,
        "RegisterContainerInstance",
        json!({"cluster": "c", "containerInstanceArn": instance, "totalResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 1}, {"name": "MEMORY", "type": "INTEGER", "integerValue": 1}]}),
    )
    .await;
    assert_eq!(error(&again).0, "ClientException");

    // Nothing live remains: the cluster can go. The agent still learns it is INACTIVE.
    assert_eq!(ok(&ecs(s.addr, "DeleteCluster", json!({"cluster": "c"})).await)["cluster"]["status"], "INACTIVE");
    assert_eq!(poll(s.addr, "c", &instance, None, 0).await["instanceStatus"], "INACTIVE");
    let gone =
        agent(s.addr, "PollTasks", json!({"cluster": "c", "containerInstance": "0123456789abcdef0123456789abcdef"}))
            .await;
    assert_eq!(error(&gone).0, "ClusterNotFoundException");
}

#[tokio::test]
async fn delete_cluster_waits_for_tasks_to_stop() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 10})).await;
    let arn = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await).remove(0);
    let refused =
        ecs(s.addr, "DeregisterContainerInstance", json!({"cluster": "c", "containerInstance": instance})).await;
    assert_eq!(error(&refused).0, "InvalidParameterException");
    let busy = ecs(s.addr, "DeleteCluster", json!({"cluster": "c"})).await;
    assert_eq!(error(&busy).0, "ClusterContainsContainerInstancesException");
    // The agent reports the task STOPPED; then the instance can go, and the cluster.
    ok(&report(s.addr, "c", &arn, "STOPPED", json!({})).await);
    ok(&ecs(s.addr, "DeregisterContainerInstance", json!({"cluster": "c", "containerInstance": instance})).await);
    ok(&ecs(s.addr, "DeleteCluster", json!({"cluster": "c"})).await);
}

#[tokio::test]
async fn attributes_are_put_listed_filtered_and_deleted() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let a = register(s.addr, "c", "i-a", 1024, 1000).await;
    let b = register(s.addr, "c", "i-b", 1024, 1000).await;
    let put = ecs(
        s.addr,
        "PutAttributes",
        json!({"cluster": "c", "attributes": [{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": a}]}),
    )
    .await;
    assert_eq!(ok(&put)["attributes"][0]["name"], "stack");

    let listed = ok(&ecs(
        s.addr,
        "ListAttributes",
        json!({"cluster": "c", "targetType": "container-instance", "attributeName": "stack"}),
    )
    .await)
    .clone();
    assert_eq!(
        listed["attributes"],
        json!([{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": a}])
    );
    let all =
        ok(&ecs(s.addr, "ListAttributes", json!({"cluster": "c", "targetType": "container-instance"})).await).clone();
    assert!(all["attributes"].as_array().unwrap().len() >= 7);
    let value_only = ecs(
        s.addr,
        "ListAttributes",
        json!({"cluster": "c", "targetType": "container-instance", "attributeValue": "x"}),
    )
    .await;
    assert_eq!(error(&value_only).0, "InvalidParameterException");

    let filtered = |filter: &str| {
        let filter = filter.to_string();
        async move {
            ok(&ecs(s.addr, "ListContainerInstances", json!({"cluster": "c", "filter": filter})).await)["containerInstanceArns"]
                .clone()
        }
    };
    assert_eq!(filtered("attribute:stack == prod").await, json!([a]));
    assert_eq!(filtered("attribute:stack exists").await, json!([a]));
    assert_eq!(filtered("attribute:stack !exists").await, json!([b]));
    assert_eq!(filtered("ec2InstanceId == i-b or attribute:stack == prod").await.as_array().unwrap().len(), 2);
    assert_eq!(filtered("attribute:ecs.availability-zone in [local-1a, local-1b]").await.as_array().unwrap().len(), 2);
    let bad = ecs(s.addr, "ListContainerInstances", json!({"cluster": "c", "filter": "attribute:stack =="})).await;
    assert_eq!(error(&bad).0, "InvalidParameterException");

    let attr = |name: String, target: &str| json!({"name": name, "targetId": target});
    let too_many: Vec<Value> = (0..10).map(|i| attr(format!("custom{i}"), &a)).collect();
    let limit = ecs(s.addr, "PutAttributes", json!({"cluster": "c", "attributes": too_many})).await;
    assert_eq!(error(&limit).0, "AttributeLimitExceededException");
    let unknown = ecs(
        s.addr,
        "PutAttributes",
        json!({"cluster": "c", "attributes": [attr("x".into(), "0123456789abcdef0123456789abcdef")]}),
    )
    .await;
    assert_eq!(error(&unknown).0, "TargetNotFoundException");
    let invalid =
        ecs(s.addr, "PutAttributes", json!({"cluster": "c", "attributes": [attr("bad name".into(), &a)]})).await;
    assert_eq!(error(&invalid).0, "InvalidParameterException");

    ok(&ecs(s.addr, "DeleteAttributes", json!({"cluster": "c", "attributes": [{"name": "stack", "targetId": a}]}))
        .await);
    assert_eq!(filtered("attribute:stack exists").await, json!([]));
}

#[tokio::test]
async fn reregistration_keeps_the_instance() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let arn = register(s.addr, "c", "i-1", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 100})).await;
    run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await;
    ok(&ecs(
        s.addr,
        "PutAttributes",
        json!({"cluster": "c", "attributes": [{"name": "stack", "value": "prod", "targetId": arn}]}),
    )
    .await);

    let again = ok(&ecs(
        s.addr,
        "RegisterContainerInstance",
        json!({"cluster": "c", "containerInstanceArn": arn, "totalResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048}, {"name": "MEMORY", "type": "INTEGER", "integerValue": 2000}],
            "attributes": [{"name": "ecs.os-type", "value": "linux"}]}),
    )
    .await)
    .clone();
    let ci = &again["containerInstance"];
    assert_eq!(ci["containerInstanceArn"], arn);
    assert_eq!(resource(&ci["registeredResources"], "CPU")["integerValue"], 2048);
    assert_eq!(remaining(ci, "MEMORY"), 1900, "the running task's reservation is kept");
    let names: Vec<&str> = ci["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"stack") && names.contains(&"ecs.os-type"), "{names:?}");
    // An agent that lost its state registers with the same EC2 instance id: same instance.
    assert_eq!(register(s.addr, "c", "i-1", 1024, 1000).await, arn);
    assert_ne!(register(s.addr, "c", "i-2", 1024, 1000).await, arn);

    let bad = ecs(s.addr, "RegisterContainerInstance", json!({"cluster": "c", "totalResources": []})).await;
    assert_eq!(error(&bad).0, "InvalidParameterException");
    let no_cluster = ecs(s.addr, "RegisterContainerInstance", json!({"cluster": "nope"})).await;
    assert_eq!(error(&no_cluster).0, "ClusterNotFoundException");
}

#[tokio::test]
async fn run_task_options_are_validated_and_recorded() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 4096, 4000).await;
    let td = taskdef(s.addr, "web", json!({"memory": 100})).await;

    let bad_count = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "web", "count": 11})).await;
    assert_eq!(error(&bad_count).0, "InvalidParameterException");
    let bad_override = ecs(
        s.addr,
        "RunTask",
        json!({"cluster": "c", "taskDefinition": "web", "overrides": {"containerOverrides": [{"name": "db"}]}}),
    )
    .await;
    assert_eq!(
        error(&bad_override),
        ("InvalidParameterException", "Override for container named db is not a container in the TaskDefinition.")
    );
    let unknown_td = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "nope:3"})).await;
    assert_eq!(error(&unknown_td), ("ClientException", "TaskDefinition not found."));

    // Overrides change the reservation and are echoed; group and tags are kept.
    let out = run(
        s.addr,
        json!({"cluster": "c", "taskDefinition": td, "group": "batch", "enableECSManagedTags": true,
               "tags": [{"key": "team", "value": "core"}],
               "overrides": {"containerOverrides": [{"name": "app", "memory": 300, "command": ["sleep", "1"]}]},
               "placementStrategy": [{"type": "binpack", "field": "memory"}]}),
    )
    .await;
    let t = &out["tasks"][0];
    assert_eq!(t["group"], "batch");
    assert_eq!(t["memory"], "300");
    assert_eq!(t["overrides"]["containerOverrides"][0]["command"], json!(["sleep", "1"]));
    let tags = t["tags"].as_array().unwrap();
    assert!(tags.contains(&json!({"key": "team", "value": "core"})));
    assert!(tags.contains(&json!({"key": "aws:ecs:clusterName", "value": "c"})));
    assert_eq!(remaining(&describe_instance(s.addr, "c", &instance).await, "MEMORY"), 3700);

    // The same clientToken answers with the same tasks.
    let first = run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "count": 2, "clientToken": "tok-1"})).await;
    let second =
        run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "count": 2, "clientToken": "tok-1"})).await;
    assert_eq!(task_arns(&first), task_arns(&second));
    assert_eq!(
        ok(&ecs(s.addr, "ListTasks", json!({"cluster": "c", "family": "web"})).await)["taskArns"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // awsvpc needs a network configuration, and gets a PRECREATED ENI attachment.
    let vpc_td = ecs(
        s.addr,
        "RegisterTaskDefinition",
        json!({"family": "vpc", "networkMode": "awsvpc", "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 10}]}),
    )
    .await;
    ok(&vpc_td);
    let no_net = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "vpc"})).await;
    assert_eq!(
        error(&no_net),
        ("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    );
    let vpc = run(
        s.addr,
        json!({"cluster": "c", "taskDefinition": "vpc",
               "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}),
    )
    .await;
    let eni = &vpc["tasks"][0]["attachments"][0];
    assert_eq!((eni["type"].as_str(), eni["status"].as_str()), (Some("ElasticNetworkInterface"), Some("PRECREATED")));
    assert_eq!(eni["details"], json!([{"name": "subnetId", "value": "subnet-1"}]));
    let net_for_bridge = ecs(
        s.addr,
        "RunTask",
        json!({"cluster": "c", "taskDefinition": "web", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s"]}}}),
    )
    .await;
    assert_eq!(error(&net_for_bridge).0, "InvalidParameterException");

    // Launch types the definition does not support are refused.
    let fargate =
        ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": "web", "launchType": "FARGATE"})).await;
    assert_eq!(error(&fargate), ("InvalidParameterException", "Task definition does not support launch_type FARGATE."));
    let external = run(s.addr, json!({"cluster": "c", "taskDefinition": "web", "launchType": "EXTERNAL"})).await;
    assert_eq!(external["tasks"][0]["launchType"], "EXTERNAL");

    // An inactive revision cannot start new tasks.
    ok(&ecs(s.addr, "DeregisterTaskDefinition", json!({"taskDefinition": td})).await);
    let inactive = ecs(s.addr, "RunTask", json!({"cluster": "c", "taskDefinition": td})).await;
    assert_eq!(error(&inactive).1, "TaskDefinition is inactive");
}

#[tokio::test]
async fn ecs_state_change_operations_share_the_report_path() {
    let s = start().await;
    cluster(s.addr, "c").await;
    let instance = register(s.addr, "c", "i-1", 1024, 1000).await;
    taskdef(s.addr, "web", json!({"memory": 100})).await;
    let arn = task_arns(&run(s.addr, json!({"cluster": "c", "taskDefinition": "web"})).await).remove(0);

    let container = ok(&ecs(
        s.addr,
        "SubmitContainerStateChange",
        json!({"cluster": "c", "task": arn, "containerName": "app", "status": "RUNNING", "runtimeId": "abc"}),
    )
    .await)
    .clone();
    assert_eq!(container["acknowledgment"], "ACK");
    let task = describe_task(s.addr, "c", &arn).await;
    assert_eq!(task["containers"][0]["lastStatus"], "RUNNING");
    assert_eq!(task["lastStatus"], "PROVISIONING");

    let submitted = ecs(
        s.addr,
        "SubmitTaskStateChange",
        json!({"cluster": "c", "task": arn, "status": "RUNNING",
               "containers": [{"containerName": "app", "status": "RUNNING", "runtimeId": "abc"}]}),
    )
    .await;
    assert_eq!(ok(&submitted)["acknowledgment"], "ACK");
    assert_eq!(describe_task(s.addr, "c", &arn).await["lastStatus"], "RUNNING");
    let back = ecs(s.addr, "SubmitTaskStateChange", json!({"cluster": "c", "task": arn, "status": "PENDING"})).await;
    assert_eq!(error(&back).0, "InvalidParameterException");

    ok(&ecs(
        s.addr,
        "SubmitTaskStateChange",
        json!({"cluster": "c", "task": arn, "status": "STOPPED", "reason": "done", "executionStoppedAt": 1700000000.5}),
    )
    .await);
    let task = describe_task(s.addr, "c", &arn).await;
    assert_eq!((task["lastStatus"].as_str(), task["stoppedReason"].as_str()), (Some("STOPPED"), Some("done")));
    assert_eq!(task["executionStoppedAt"], 1700000000.5);
    assert_eq!(remaining(&describe_instance(s.addr, "c", &instance).await, "MEMORY"), 1000);
}

#[tokio::test]
async fn gpus_are_reserved_per_container_and_released_when_stopped() {
    let s = start().await;
    cluster(s.addr, "g").await;
    let reply = ecs(
        s.addr,
        "RegisterContainerInstance",
        json!({
            "cluster": "g",
            "instanceIdentityDocument": json!({"instanceId": "i-gpu", "availabilityZone": "local-1a", "instanceType": "g4dn.12xlarge"}).to_string(),
            "totalResources": [
                {"name": "CPU", "type": "INTEGER", "integerValue": 4096},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": 4096},
                {"name": "GPU", "type": "STRINGSET", "stringSetValue": ["0", "1", "2"]}
            ]
        }),
    )
    .await;
    let instance = ok(&reply)["containerInstance"]["containerInstanceArn"].as_str().unwrap().to_string();
    let gpu = |n: &str| json!([{"type": "GPU", "value": n}]);
    let td = ecs(
        s.addr,
        "RegisterTaskDefinition",
        json!({"family": "train", "containerDefinitions": [
            {"name": "a", "image": "busybox", "memory": 10, "resourceRequirements": gpu("2")},
            {"name": "b", "image": "busybox", "memory": 10},
        ]}),
    )
    .await;
    ok(&td);
    let first = run(s.addr, json!({"cluster": "g", "taskDefinition": "train"})).await;
    let containers = first["tasks"][0]["containers"].as_array().unwrap();
    let ids = |name: &str| containers.iter().find(|c| c["name"] == name).unwrap()["gpuIds"].clone();
    assert_eq!((ids("a"), ids("b")), (json!(["0", "1"]), Value::Null));
    let second = run(s.addr, json!({"cluster": "g", "taskDefinition": "train"})).await;
    assert_eq!(second["failures"], json!([{"arn": instance, "reason": "RESOURCE:GPU"}]));
    let ci = describe_instance(s.addr, "g", &instance).await;
    assert_eq!(resource(&ci["remainingResources"], "GPU")["stringSetValue"], json!(["2"]));

    let arn = task_arns(&first)[0].clone();
    ok(&report(s.addr, "g", &arn, "STOPPED", json!({})).await);
    let third = run(s.addr, json!({"cluster": "g", "taskDefinition": "train"})).await;
    assert_eq!(third["tasks"][0]["containers"][0]["gpuIds"], json!(["0", "1"]));
    let bad = ecs(
        s.addr,
        "RunTask",
        json!({"cluster": "g", "taskDefinition": "train", "overrides": {"containerOverrides": [
            {"name": "a", "resourceRequirements": gpu("half")}
        ]}}),
    )
    .await;
    assert_eq!(error(&bad).0, "InvalidParameterException");
}

#[tokio::test]
async fn run_task_applies_strategies_and_constraints() {
    let s = start().await;
    cluster(s.addr, "p").await;
    let small = register(s.addr, "p", "i-small", 4096, 1000).await;
    let big = register(s.addr, "p", "i-big", 4096, 4000).await;
    taskdef(s.addr, "w", json!({"memory": 100})).await;
    let hosts = |r: &Value| -> Vec<String> {
        r["tasks"].as_array().unwrap().iter().map(|t| t["containerInstanceArn"].as_str().unwrap().to_string()).collect()
    };
    let packed = run(
        s.addr,
        json!({"cluster": "p", "taskDefinition": "w", "count": 3,
               "placementStrategy": [{"type": "binpack", "field": "memory"}]}),
    )
    .await;
    assert_eq!(hosts(&packed), [small.clone(), small.clone(), small.clone()]);
    let spread = run(
        s.addr,
        json!({"cluster": "p", "taskDefinition": "w", "count": 2, "group": "spread",
               "placementStrategy": [{"type": "spread", "field": "instanceId"}]}),
    )
    .await;
    let mut got = hosts(&spread);
    got.sort();
    let mut both = vec![small.clone(), big.clone()];
    both.sort();
    assert_eq!(got, both);
    let only_big = run(
        s.addr,
        json!({"cluster": "p", "taskDefinition": "w", "count": 2,
               "placementConstraints": [{"type": "memberOf", "expression": "ec2InstanceId == i-big"}]}),
    )
    .await;
    assert_eq!(hosts(&only_big), [big.clone(), big]);
    let nowhere = run(
        s.addr,
        json!({"cluster": "p", "taskDefinition": "w",
               "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == windows"}]}),
    )
    .await;
    assert_eq!(nowhere["failures"][0]["reason"], "MemberOf");
    let bad = ecs(
        s.addr,
        "RunTask",
        json!({"cluster": "p", "taskDefinition": "w",
               "placementConstraints": [{"type": "memberOf", "expression": "attribute:x exists"},
                                        {"type": "memberOf", "expression": "attribute:x =="}]}),
    )
    .await;
    let (code, message) = error(&bad);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.starts_with("placementConstraints[1]: Invalid expression") && message.contains("position 14"),
        "{message}"
    );
}
