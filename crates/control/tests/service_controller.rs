//! The service controller's loop over a real (in-memory) store and berth-ecs's
//! placement path: objects are written as the API and agents write them, then passes are
//! run by hand and what they committed is read back.

use berth_control::service_controller::pass;
use berth_ecs::Ecs;
use berth_model::arn::Scope;
use berth_model::ecs::{Cluster, ContainerInstance, DeploymentRolloutState, SchedulingStrategy, Service, TaskStopCode};
use berth_model::records::{ContainerInstanceRecord, ServiceRecord, TaskRecord};
use berth_model::service::{self as rules, NewDeployment};
use berth_model::{Timestamp, keys};
use berth_store::{MemoryStore, Store, Txn};
use serde_json::json;
use std::sync::Arc;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000";

async fn put(store: &dyn Store, key: &str, value: impl serde::Serialize) {
    store.txn(Txn::new().put(key, serde_json::to_vec(&value).unwrap())).await.unwrap();
}

async fn get<T: serde::de::DeserializeOwned>(store: &dyn Store, key: &str) -> T {
    serde_json::from_slice(&store.get(key).await.unwrap().unwrap().value).unwrap()
}

async fn tasks(store: &dyn Store) -> Vec<(String, TaskRecord)> {
    let (kvs, _) = store.range(&keys::tasks_of("c")).await.unwrap();
    kvs.into_iter()
        .map(|kv| (kv.key.rsplit('/').next().unwrap().to_string(), serde_json::from_slice(&kv.value).unwrap()))
        .collect()
}

/// Sets a task's status as its agent's report would.
async fn report(store: &dyn Store, id: &str, status: &str, stop_code: Option<TaskStopCode>) {
    let key = keys::task("c", id);
    let mut rec: TaskRecord = get(store, &key).await;
    rec.task.last_status = Some(status.into());
    if status == "RUNNING" {
        rec.task.started_at = Some(Timestamp::now());
    }
    if let Some(code) = stop_code {
        rec.task.desired_status = Some("STOPPED".into());
        rec.task.stop_code = Some(code);
    }
    put(store, &key, rec).await;
}

async fn service(store: &dyn Store) -> Service {
    get::<ServiceRecord>(store, &keys::service("c", "web")).await.service
}

/// A cluster `c` with two instances (1024 CPU, 1024 MiB each, zones a and b), the task
/// definition `web:1` and the service `web` (desired 3), as the API would have stored them.
async fn setup(store: &dyn Store) {
    let cluster = Cluster {
        cluster_arn: Some(format!("{ARN}:cluster/c")),
        cluster_name: Some("c".into()),
        status: Some("ACTIVE".into()),
        ..Default::default()
    };
    put(store, &keys::cluster("c"), cluster).await;
    let td = json!({"taskDefinition": {
        "taskDefinitionArn": format!("{ARN}:task-definition/web:1"), "family": "web", "revision": 1,
        "status": "ACTIVE", "compatibilities": ["EC2"], "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 64, "essential": true}],
    }});
    put(store, &keys::taskdef("web", 1), td).await;
    for (id, zone) in [("0".repeat(32), "us-east-1a"), ("1".repeat(32), "us-east-1b")] {
        let instance = ContainerInstanceRecord {
            container_instance: ContainerInstance {
                container_instance_arn: Some(format!("{ARN}:container-instance/c/{id}")),
                status: Some("ACTIVE".into()),
                attributes: Some(vec![
                    serde_json::from_value(json!({"name": "ecs.availability-zone", "value": zone})).unwrap(),
                ]),
                ..Default::default()
            },
            registered: serde_json::from_value(json!({"cpu": 1024, "memory": 1024})).unwrap(),
            gpus: vec![],
            reservations: Default::default(),
            private_ip: None,
        };
        put(store, &keys::instance("c", &id), instance).await;
    }
    let deployment = rules::new_deployment(NewDeployment {
        id: "ecs-svc/0000000000000000001".into(),
        task_definition: format!("{ARN}:task-definition/web:1"),
        desired_count: 3,
        launch_type: None,
        network_configuration: None,
        now: Timestamp::now(),
    });
    let strategy = SchedulingStrategy::Replica;
    let record = ServiceRecord {
        service: Service {
            service_arn: Some(format!("{ARN}:service/c/web")),
            service_name: Some("web".into()),
            status: Some(rules::ACTIVE.into()),
            desired_count: Some(3),
            scheduling_strategy: Some(strategy),
            deployment_configuration: Some(rules::deployment_configuration(None, None, strategy).unwrap()),
            placement_strategy: Some(rules::default_placement_strategy(strategy)),
            task_definition: deployment.task_definition.clone(),
            deployments: Some(vec![deployment]),
            events: Some(vec![]),
            ..Default::default()
        },
        client_token: None,
        finished: vec![],
        tracking: Default::default(),
    };
    put(store, &keys::service("c", "web"), record).await;
}

fn context(store: Arc<dyn Store>) -> Ecs {
    Ecs::new(store, Scope::new("us-east-1", "000000000000"))
}

/// The objects of `setup` in a fresh store, after the controller's first pass.
async fn first_pass() -> (Arc<dyn Store>, Ecs) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    setup(store.as_ref()).await;
    let ctx = context(store.clone());
    pass(&ctx).await.unwrap();
    (store, ctx)
}

#[tokio::test]
async fn keeps_the_desired_count_replaces_a_failed_task_and_carries_on_after_a_restart() {
    let (store, ctx) = first_pass().await;
    let placed = tasks(store.as_ref()).await;
    assert_eq!(placed.len(), 3);
    for (_, t) in &placed {
        assert_eq!(t.task.started_by.as_deref(), Some("ecs-svc/0000000000000000001"));
        assert_eq!(t.task.group.as_deref(), Some("service:web"));
    }
    let per_instance =
        |id: char| placed.iter().filter(|(_, t)| t.placement.container_instance_id.starts_with(id)).count();
    assert_eq!((per_instance('0'), per_instance('1')), (2, 1), "spread across zones and instances");
    let events: Vec<String> =
        service(store.as_ref()).await.events.unwrap().into_iter().filter_map(|e| e.message).collect();
    assert!(events[0].starts_with("(service web) has started 3 tasks: (task "), "{events:?}");

    // A pass with nothing new starts nothing (level-triggered, idempotent).
    pass(&ctx).await.unwrap();
    assert_eq!(tasks(store.as_ref()).await.len(), 3);
    assert_eq!(service(store.as_ref()).await.pending_count, Some(3));

    for (id, _) in &placed {
        report(store.as_ref(), id, "RUNNING", None).await;
    }
    pass(&ctx).await.unwrap();
    let s = service(store.as_ref()).await;
    assert_eq!(s.running_count, Some(3));
    assert_eq!(s.deployments.as_ref().unwrap()[0].rollout_state, Some(DeploymentRolloutState::Completed));
    assert_eq!(s.events.unwrap()[0].message.as_deref(), Some("(service web) has reached a steady state."));

    // A task that dies is replaced; after a restart (a new context over the same store)
    // the controller carries on from what is stored and starts nothing twice.
    report(store.as_ref(), &placed[0].0, "STOPPED", Some(TaskStopCode::EssentialContainerExited)).await;
    let ctx = context(store.clone());
    pass(&ctx).await.unwrap();
    pass(&ctx).await.unwrap();
    let now = tasks(store.as_ref()).await;
    assert_eq!(now.len(), 4);
    assert_eq!(now.iter().filter(|(_, t)| t.task.last_status.as_deref() != Some("STOPPED")).count(), 3);
    let s = service(store.as_ref()).await;
    assert_eq!(s.deployments.as_ref().unwrap()[0].failed_tasks, Some(1));
    assert_eq!((s.running_count, s.pending_count), (Some(2), Some(1)));
}

#[tokio::test]
async fn a_deleted_service_stops_its_tasks_and_becomes_inactive() {
    let (store, ctx) = first_pass().await;
    let key = keys::service("c", "web");
    let mut rec: ServiceRecord = get(store.as_ref(), &key).await;
    rec.service.status = Some(rules::DRAINING.into());
    rec.service.desired_count = Some(0);
    put(store.as_ref(), &key, rec).await;

    pass(&ctx).await.unwrap();
    let placed = tasks(store.as_ref()).await;
    assert!(placed.iter().all(|(_, t)| t.task.desired_status.as_deref() == Some("STOPPED")));
    assert!(placed.iter().all(|(_, t)| t.task.stop_code == Some(TaskStopCode::ServiceSchedulerInitiated)));
    assert_eq!(service(store.as_ref()).await.status.as_deref(), Some(rules::DRAINING));
    for (id, _) in &placed {
        report(store.as_ref(), id, "STOPPED", None).await;
    }
    pass(&ctx).await.unwrap();
    assert_eq!(service(store.as_ref()).await.status.as_deref(), Some(rules::INACTIVE));
}
