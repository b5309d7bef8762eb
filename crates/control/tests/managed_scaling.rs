//! Managed scaling and the PROVISIONING placer over a real (in-memory) store: a cluster
//! whose default strategy is an Auto Scaling group provider, RunTask through berth-ecs,
//! passes run by hand, and what they committed read back (tasks, the group's desired
//! capacity and protection, ECS's policy on the group).

use berth_control::managed_scaling::{Settings, pass};
use berth_ecs::Ecs;
use berth_ecs::launch::provisioning;
use berth_model::arn::Scope;
use berth_model::autoscaling::AutoScalingGroupRecord;
use berth_model::capacity_provider::CapacityProviderRecord;
use berth_model::ecs::{RunTaskRequest, TaskStopCode};
use berth_model::records::{ContainerInstanceRecord, TaskRecord};
use berth_model::{Timestamp, keys};
use berth_store::{MemoryStore, Store, Txn};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000";
const GROUP_ARN: &str = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:6d2b6a6e-0000-4000-8000-000000000000:autoScalingGroupName/g";

async fn put(store: &dyn Store, key: &str, value: impl serde::Serialize) {
    store.txn(Txn::new().put(key, serde_json::to_vec(&value).unwrap())).await.unwrap();
}

async fn get<T: serde::de::DeserializeOwned>(store: &dyn Store, key: &str) -> T {
    serde_json::from_slice(&store.get(key).await.unwrap().unwrap().value).unwrap()
}

async fn tasks(store: &dyn Store) -> Vec<TaskRecord> {
    let (kvs, _) = store.range(&keys::tasks_of("c")).await.unwrap();
    kvs.into_iter().map(|kv| serde_json::from_slice(&kv.value).unwrap()).collect()
}

async fn group(store: &dyn Store) -> AutoScalingGroupRecord {
    get(store, &berth_model::autoscaling::keys::group("g")).await
}

fn settings(timeout: Duration) -> Settings {
    Settings { tick: Duration::from_secs(1), scale_in_after: Duration::from_secs(0), provisioning_timeout: timeout }
}

/// Cluster `c` with provider `cp` (managed scaling, target 100, termination protection)
/// as its default strategy, over group `g` (min 1, max 3) of g4dn.xlarge with one
/// instance `i-1` launched (not joined yet); task definition `gpu:1` needs 3000 CPU and
/// one GPU, so a g4dn.xlarge (4096 CPU, 1 GPU) runs one.
async fn setup(store: &dyn Store) {
    put(
        store,
        &keys::cluster("c"),
        json!({"clusterArn": format!("{ARN}:cluster/c"), "clusterName": "c", "status": "ACTIVE",
               "capacityProviders": ["cp"],
               "defaultCapacityProviderStrategy": [{"capacityProvider": "cp", "weight": 1, "base": 0}]}),
    )
    .await;
    put(
        store,
        &keys::taskdef("gpu", 1),
        json!({"taskDefinition": {
            "taskDefinitionArn": format!("{ARN}:task-definition/gpu:1"), "family": "gpu", "revision": 1,
            "status": "ACTIVE", "compatibilities": ["EC2"], "networkMode": "bridge",
            "containerDefinitions": [{"name": "app", "image": "busybox", "cpu": 3000, "memory": 1000, "essential": true,
                                      "resourceRequirements": [{"type": "GPU", "value": "1"}]}],
        }}),
    )
    .await;
    put(
        store,
        &berth_model::autoscaling::keys::group("g"),
        json!({"name": "g", "arn": GROUP_ARN, "min_size": 1, "max_size": 3, "desired_capacity": 1,
               "default_cooldown": 300, "health_check_type": "EC2", "health_check_grace_period": 0,
               "termination_policies": ["Default"], "new_instances_protected_from_scale_in": true,
               "created_time": Timestamp::now(), "service_linked_role_arn": "",
               "instances": [{"instance_id": "i-1", "instance_type": "g4dn.xlarge", "availability_zone": "us-east-1a",
                              "lifecycle_state": "InService", "health_status": "Healthy",
                              "protected_from_scale_in": false, "launched_at": Timestamp(0.0)}]}),
    )
    .await;
    put(
        store,
        &keys::capacity_provider("cp"),
        json!({"provider": {"name": "cp", "capacityProviderArn": format!("{ARN}:capacity-provider/cp"), "status": "ACTIVE",
                            "autoScalingGroupProvider": {"autoScalingGroupArn": GROUP_ARN,
                                "managedScaling": {"status": "ENABLED", "targetCapacity": 100, "minimumScalingStepSize": 1,
                                                   "maximumScalingStepSize": 10, "instanceWarmupPeriod": 0},
                                "managedTerminationProtection": "ENABLED"}},
               "groupName": "g", "policyName": "ECSManagedAutoScalingPolicy-test"}),
    )
    .await;
}

/// The container instance of EC2 instance `ec2` joining cluster `c` (a g4dn.xlarge).
async fn join(store: &dyn Store, id: &str, ec2: &str) {
    let rec: ContainerInstanceRecord = serde_json::from_value(json!({
        "containerInstance": {"containerInstanceArn": format!("{ARN}:container-instance/c/{id}"), "ec2InstanceId": ec2,
                              "status": "ACTIVE"},
        "registered": {"cpu": 4096, "memory": 15_000},
        "gpus": [format!("GPU-{id}")],
    }))
    .unwrap();
    put(store, &keys::instance("c", id), rec).await;
}

fn run(count: i32) -> RunTaskRequest {
    serde_json::from_value(json!({"cluster": "c", "taskDefinition": "gpu:1", "count": count})).unwrap()
}

#[tokio::test]
async fn waiting_tasks_scale_the_group_out_and_start_when_capacity_joins() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    setup(store.as_ref()).await;
    let ecs = Ecs::new(store.clone(), Scope::new("us-east-1", "000000000000"));

    // Nothing has joined yet: both tasks wait for the provider, neither is a failure.
    let (started, failures) = berth_ecs::launch::run(&ecs, "c", run(2)).await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(started.len(), 2);
    for t in &started {
        assert_eq!(t.last_status.as_deref(), Some("PROVISIONING"));
        assert_eq!(t.capacity_provider_name.as_deref(), Some("cp"));
        assert_eq!(t.container_instance_arn, None);
    }

    // i-1 will take one (a whole g4dn.xlarge of room), the other needs one more: M = 2, N = 1.
    pass(&ecs, &settings(Duration::from_secs(600))).await.unwrap();
    let g = group(store.as_ref()).await;
    assert_eq!(g.desired_capacity, 2, "scaled out by one");
    assert!(g.policies.iter().any(|p| p.policy_name.as_deref() == Some("ECSManagedAutoScalingPolicy-test")));
    let cp: CapacityProviderRecord = get(store.as_ref(), &keys::capacity_provider("cp")).await;
    assert_eq!(cp.last_reservation, Some(200.0));

    // i-1 joins: one task is placed there with its GPU, the other keeps waiting; the
    // instance gets the provider's name and, running a task, scale-in protection.
    join(store.as_ref(), &"a".repeat(32), "i-1").await;
    pass(&ecs, &settings(Duration::from_secs(600))).await.unwrap();
    let all = tasks(store.as_ref()).await;
    let placed: Vec<&TaskRecord> = all.iter().filter(|t| !provisioning::is_waiting(t)).collect();
    assert_eq!((placed.len(), all.len()), (1, 2));
    assert_eq!(placed[0].placement.container_instance_id, "a".repeat(32));
    assert!(
        placed[0].task.containers.as_ref().unwrap()[0]
            .gpu_ids
            .as_ref()
            .is_some_and(|g| g == &["GPU-".to_string() + &"a".repeat(32)])
    );
    let ci: ContainerInstanceRecord = get(store.as_ref(), &keys::instance("c", &"a".repeat(32))).await;
    assert_eq!(ci.container_instance.capacity_provider_name.as_deref(), Some("cp"));
    assert_eq!(ci.reservations.len(), 1);
    pass(&ecs, &settings(Duration::from_secs(600))).await.unwrap();
    assert!(group(store.as_ref()).await.instances[0].protected_from_scale_in);

    // A stop asked of a waiting task stops it at once; a wait past the timeout stops the other.
    let waiting = all.iter().find(|t| provisioning::is_waiting(t)).unwrap();
    let id = waiting.task.task_arn.as_deref().unwrap().rsplit('/').next().unwrap();
    berth_ecs::stop::request_stop(&ecs, "c", id, Some("no longer wanted"), TaskStopCode::UserInitiated).await.unwrap();
    pass(&ecs, &settings(Duration::from_secs(600))).await.unwrap();
    let stopped: TaskRecord = get(store.as_ref(), &keys::task("c", id)).await;
    assert_eq!(stopped.task.last_status.as_deref(), Some("STOPPED"));
    assert_eq!(stopped.task.stopped_reason.as_deref(), Some("no longer wanted"));

    let (late, _) = berth_ecs::launch::run(&ecs, "c", run(1)).await.unwrap();
    assert_eq!(late[0].last_status.as_deref(), Some("PROVISIONING"), "i-1 is full");
    pass(&ecs, &settings(Duration::ZERO)).await.unwrap();
    let id = late[0].task_arn.as_deref().unwrap().rsplit('/').next().unwrap();
    let timed_out: TaskRecord = get(store.as_ref(), &keys::task("c", id)).await;
    assert_eq!(timed_out.task.last_status.as_deref(), Some("STOPPED"));
    assert_eq!(timed_out.task.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert_eq!(timed_out.task.stopped_reason.as_deref(), Some(provisioning::TIMEOUT_REASON));
}

#[tokio::test]
async fn an_explicit_launch_type_ignores_the_default_strategy() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    setup(store.as_ref()).await;
    let ecs = Ecs::new(store.clone(), Scope::new("us-east-1", "000000000000"));
    let mut req = run(1);
    req.launch_type = Some(berth_model::ecs::LaunchType::Ec2);
    assert!(matches!(berth_ecs::launch::run(&ecs, "c", req).await, Err(berth_ecs::EcsError::NoContainerInstances)));
}
