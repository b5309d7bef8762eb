//! The agent loop over the fake runtime and the fake server, on a paused clock:
//! registration, re-adoption after a restart, and desired states from the polls.

use super::*;
use crate::port_book::DEFAULT_RANGE;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::server::fake::{self, FakeServer};
use crate::testing::*;

const OTHER_INSTANCE_ARN: &str = "arn:aws:ecs:us-east-1:000000000000:container-instance/web/instance-2";

fn config(data_dir: &std::path::Path) -> AgentConfig {
    AgentConfig {
        cluster: CLUSTER.into(),
        data_dir: data_dir.to_path_buf(),
        profile: MachineProfile {
            cpu_units: 2048,
            memory_mib: 4096,
            instance_id: "i-0test".into(),
            instance_type: "berth.local".into(),
            availability_zone: "us-east-1a".into(),
            cpu_architecture: "x86_64".into(),
            attributes: BTreeMap::new(),
            private_ip: None,
            gpus: vec![],
            tags: BTreeMap::new(),
        },
        pause_image: PAUSE_IMAGE.into(),
        awsvpc_network: AWSVPC_NETWORK.into(),
    }
}

fn start(
    data_dir: &std::path::Path,
    runtime: &FakeRuntime,
    server: &FakeServer,
) -> JoinHandle<Result<String, AgentError>> {
    let ports = PortBook::new(DEFAULT_RANGE, |_, _| true);
    tokio::spawn(Agent::new(config(data_dir), Arc::new(server.clone()), Arc::new(runtime.clone()), ports).run())
}

fn calls_of(server: &FakeServer, matching: impl Fn(&fake::Call) -> bool) -> Vec<fake::Received> {
    server.received().into_iter().filter(|r| matching(&r.call)).collect()
}

#[tokio::test(start_paused = true)]
async fn a_restarted_agent_adopts_the_containers_of_its_tasks_and_removes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, server) = (FakeRuntime::new(), FakeServer::new(INSTANCE_ARN));
    let mut kept = assignment("kept", vec![container("web")]);
    kept.task.last_status = Some("RUNNING".into());
    let kept_id = leave_running(&runtime, INSTANCE_ARN, &kept, "web");
    let gone_id = leave_running(&runtime, INSTANCE_ARN, &assignment("gone", vec![container("web")]), "web");
    let others_id = leave_running(&runtime, OTHER_INSTANCE_ARN, &assignment("others", vec![container("web")]), "web");
    server.answer_poll(vec![kept]);

    let agent = start(dir.path(), &runtime, &server);
    until("the kept task reported and the other removed", || {
        !server.reports().is_empty() && runtime.container(&gone_id).is_none()
    })
    .await;
    let report = server.reports().remove(0);
    assert_eq!((report.task_arn, report.last_status.as_str()), (task_arn("kept"), "RUNNING"));
    assert_eq!(report.containers[0].runtime_id.as_deref(), Some(kept_id.as_str()));
    assert_eq!(
        actions(&runtime),
        [Call::Stop { id: gone_id.clone(), timeout: Duration::from_secs(10) }, Call::Remove(gone_id)],
        "nothing is created or started again; only the task no longer placed here is removed"
    );
    assert!(runtime.container(&kept_id).is_some() && runtime.container(&others_id).is_some());
    assert!(
        runtime.calls().contains(&Call::List(vec![(labels::CONTAINER_INSTANCE.into(), INSTANCE_ARN.into())])),
        "only this instance's containers are looked at"
    );

    server.answer_deregistered();
    assert_eq!(within_patience("the agent to stop", agent).await.unwrap().unwrap(), INSTANCE_ARN);
}

#[tokio::test(start_paused = true)]
async fn registration_is_retried_while_the_server_is_away_and_reuses_the_remembered_instance() {
    let dir = tempfile::tempdir().unwrap();
    let remembered = AgentState { cluster: CLUSTER.into(), container_instance_arn: INSTANCE_ARN.into() };
    save_state(&dir.path().join("agent.json"), &remembered).unwrap();
    let (runtime, server) = (FakeRuntime::new(), FakeServer::new(INSTANCE_ARN));
    server.set_away(true);

    let agent = start(dir.path(), &runtime, &server);
    until("three registration attempts", || server.received().len() >= 3).await;
    server.set_away(false);
    until("the first poll", || !calls_of(&server, |c| matches!(c, fake::Call::PollTasks(_))).is_empty()).await;

    let registrations = calls_of(&server, |c| matches!(c, fake::Call::RegisterContainerInstance(_)));
    let gaps: Vec<u128> = registrations.windows(2).map(|w| (w[1].at - w[0].at).as_millis()).collect();
    assert_eq!(&gaps[..2], [200, 400], "the backoff doubles");
    assert!(registrations.iter().all(|r| matches!(&r.call,
        fake::Call::RegisterContainerInstance(req) if req.container_instance_arn.as_deref() == Some(INSTANCE_ARN))));
    assert!(calls_of(&server, |c| matches!(c, fake::Call::CreateCluster(_))).is_empty(), "only for `default`");
    let polls = calls_of(&server, |c| matches!(c, fake::Call::PollTasks(_)));
    assert!(
        matches!(&polls[0].call, fake::Call::PollTasks(p) if p.container_instance == INSTANCE_ARN && p.after_revision.is_none())
    );

    server.answer_deregistered();
    within_patience("the agent to stop", agent).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_task_the_server_stops_is_stopped_once_and_never_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, server) = (FakeRuntime::new(), FakeServer::new(INSTANCE_ARN));
    runtime.add_image(IMAGE);
    let task = assignment("t1", vec![container("web")]);
    server.answer_poll(vec![task.clone()]);
    let agent = start(dir.path(), &runtime, &server);
    until_reported(&server, "RUNNING").await;

    let mut stopping = task;
    stopping.task.desired_status = Some("STOPPED".into());
    server.answer_poll(vec![stopping.clone()]);
    until("the task's containers removed", || {
        server.statuses().iter().any(|s| s == "STOPPED") && runtime.containers().is_empty()
    })
    .await;
    // The server has not taken in the STOPPED report yet: it still lists the task.
    server.answer_poll(vec![stopping.clone()]);
    server.answer_poll(vec![stopping]);
    server.answer_deregistered();
    within_patience("the agent to stop", agent).await.unwrap().unwrap();

    assert_eq!(server.statuses(), ["PENDING", "ACTIVATING", "RUNNING", "STOPPING", "STOPPED"]);
    let creates = actions(&runtime).into_iter().filter(|c| matches!(c, Call::Create(_))).count();
    assert_eq!(creates, 1);
    let polls = calls_of(&server, |c| matches!(c, fake::Call::PollTasks(_)));
    let after: Vec<Option<i64>> = polls
        .iter()
        .map(|r| match &r.call {
            fake::Call::PollTasks(p) => p.after_revision,
            _ => None,
        })
        .collect();
    assert_eq!(after, [None, Some(1), Some(2), Some(3), Some(4)], "each poll passes the last revision back");
}
