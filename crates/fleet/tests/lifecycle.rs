//! The fleet over a MemoryStore with berth-ec2's real operations: instances are placed on
//! hosts, run, fail for capacity, drain and terminate as the host reports.

use berth_ec2::{LaunchSpec, run_instances, terminate_instances};
use berth_ecs::Ecs;
use berth_fleet::{controller, hosts};
use berth_model::arn::Scope;
use berth_model::ec2::templates::LaunchParams;
use berth_model::ec2::{InstanceRecord, InstanceState};
use berth_model::fleet::{self, RegisterHostRequest, ReportInstanceStateRequest, VIRTUAL_DEFAULT};
use berth_model::keys;
use berth_store::{MemoryStore, documents};
use std::sync::Arc;

fn ecs() -> Ecs {
    Ecs::new(Arc::new(MemoryStore::new()), Scope::new("us-east-1", "111122223333"))
}

async fn instance(ecs: &Ecs, id: &str) -> InstanceRecord {
    documents::get::<InstanceRecord>(ecs.store(), &keys::ec2_instance(id)).await.unwrap().unwrap().value
}

fn report(host: &str, id: &str, state: &str) -> ReportInstanceStateRequest {
    ReportInstanceStateRequest { host_id: host.into(), instance_id: id.into(), state: state.into() }
}

#[tokio::test]
async fn instances_are_placed_run_and_terminate_through_their_host() {
    let ecs = ecs();
    let ami = berth_model::amis::AMIS.iter().find(|a| a.gpu).unwrap().id;
    let spec = LaunchSpec {
        params: LaunchParams {
            image_id: Some(ami.into()),
            instance_type: Some("g4dn.xlarge".into()),
            ..Default::default()
        },
        min_count: 4,
        max_count: 4,
        ..Default::default()
    };
    let launched = run_instances(ecs.store(), ecs.scope(), spec).await.unwrap();
    let ids: Vec<String> = launched.instances.iter().map(|i| i.instance_id.clone()).collect();
    let now = berth_ec2::now_ms();
    let request =
        RegisterHostRequest { host_id: "h-1".into(), name: "test".into(), capacity: VIRTUAL_DEFAULT, real_gpus: false };
    hosts::register(ecs.store(), request, now).await.unwrap();

    controller::pass(&ecs, now).await.unwrap();
    let (_, assigned) = hosts::assignments(&ecs, "h-1").await.unwrap();
    assert_eq!(assigned.len(), 3, "three g4dn.xlarge fit the default host");
    assert!(assigned.iter().all(|a| a.state == "pending" && a.capacity.gpus == 1 && !a.released));
    let waiting = ids.iter().find(|id| !assigned.iter().any(|a| &a.instance_id == *id)).unwrap();
    assert_eq!(instance(&ecs, waiting).await.state, InstanceState::Pending, "it waits for room a while");

    let first = &assigned[0].instance_id;
    hosts::report(ecs.store(), &report("h-1", first, "running"), now).await.unwrap();
    let running = instance(&ecs, first).await;
    assert_eq!(running.state, InstanceState::Running);
    assert!(running.status_ok);
    let refused = hosts::report(ecs.store(), &report("h-2", first, "terminated"), now).await;
    assert!(refused.is_err(), "another host cannot report it");
    assert!(hosts::report(ecs.store(), &report("h-1", first, "bogus"), now).await.is_err());

    controller::pass(&ecs, now + fleet::CAPACITY_WAIT_MS).await.unwrap();
    let failed = instance(&ecs, waiting).await;
    assert_eq!(failed.state, InstanceState::Terminated);
    assert_eq!(failed.state_reason.unwrap().code, fleet::INSUFFICIENT_CAPACITY_CODE);

    terminate_instances(ecs.store(), std::slice::from_ref(first)).await.unwrap();
    let (_, assigned) = hosts::assignments(&ecs, "h-1").await.unwrap();
    let leaving = assigned.iter().find(|a| &a.instance_id == first).unwrap();
    assert_eq!(leaving.state, "shutting-down");
    assert!(leaving.released, "no container instance to drain");
    hosts::report(ecs.store(), &report("h-1", first, "terminated"), now).await.unwrap();
    assert_eq!(instance(&ecs, first).await.state, InstanceState::Terminated);

    // The host stops polling: its instances fail their checks, a shutting-down one ends.
    let second = &assigned.iter().find(|a| &a.instance_id != first).unwrap().instance_id;
    hosts::report(ecs.store(), &report("h-1", second, "running"), now).await.unwrap();
    controller::pass(&ecs, now + fleet::HOST_TIMEOUT_MS).await.unwrap();
    assert!(!instance(&ecs, second).await.status_ok);
    terminate_instances(ecs.store(), std::slice::from_ref(second)).await.unwrap();
    controller::pass(&ecs, now + fleet::HOST_TIMEOUT_MS).await.unwrap();
    assert_eq!(instance(&ecs, second).await.state, InstanceState::Terminated);
}

#[tokio::test]
async fn hosts_must_register_with_a_sane_id() {
    let ecs = ecs();
    let bad =
        RegisterHostRequest { host_id: "a/b".into(), name: "x".into(), capacity: VIRTUAL_DEFAULT, real_gpus: false };
    assert!(hosts::register(ecs.store(), bad, 0).await.is_err());
    assert!(hosts::heartbeat(ecs.store(), "h-unknown", 0).await.is_err());
}
