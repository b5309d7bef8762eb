//! The task runner over the fake runtime and the fake server, on a paused clock: what it
//! reports, in which order, and what it does to the containers.

use super::*;
use crate::runtime::RegistryAuth;
use crate::runtime::fake::{Call, FakeRuntime};
use crate::server::fake::{self, FakeServer};
use crate::testing::*;
use berth_model::agent_protocol::TaskRoleKind;
use berth_model::ecs::ContainerCondition;
use tokio::task::JoinHandle;

struct Fixture {
    runtime: FakeRuntime,
    server: FakeServer,
    shared: Arc<Shared>,
    _data_dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let data_dir = tempfile::tempdir().unwrap();
    let (runtime, server) = (FakeRuntime::new(), FakeServer::new(INSTANCE_ARN));
    runtime.add_image(IMAGE);
    let shared = shared(&runtime, &server, data_dir.path());
    Fixture { runtime, server, shared, _data_dir: data_dir }
}

/// A running task runner and the channel the agent would feed its desired status through.
struct Runner {
    desired: watch::Sender<String>,
    handle: JoinHandle<()>,
}

impl Runner {
    fn stop(&self) {
        self.desired.send_replace(STOPPED.into());
    }

    async fn finished(self) {
        within_patience("the runner to finish", self.handle).await.unwrap();
    }
}

impl Fixture {
    fn run(&self, assignment: TaskAssignment, adopted: Vec<ContainerState>) -> Runner {
        let (desired, rx) = watch::channel(RUNNING.to_string());
        Runner { desired, handle: tokio::spawn(run(self.shared.clone(), assignment, rx, adopted)) }
    }

    fn last_report(&self) -> ReportTaskStateRequest {
        self.server.reports().pop().expect("a report")
    }

    /// The runtime id of the container named `docker_name`.
    fn id(&self, docker_name: &str) -> String {
        self.runtime.container(docker_name).expect("the container exists").id
    }
}

fn container_in<'a>(report: &'a ReportTaskStateRequest, name: &str) -> &'a Container {
    report.containers.iter().find(|c| c.name.as_deref() == Some(name)).expect("the container is reported")
}

#[tokio::test(start_paused = true)]
async fn a_task_goes_pending_running_stopped_with_its_reports_in_order() {
    let f = fixture();
    let runner = f.run(assignment("t1", vec![container("web")]), vec![]);
    until_reported(&f.server, RUNNING).await;
    let id = f.id(&docker_name("t1", "web"));
    let running = f.last_report();
    assert_eq!(container_in(&running, "web").runtime_id.as_deref(), Some(id.as_str()));
    assert_eq!(container_in(&running, "web").last_status.as_deref(), Some(RUNNING));
    assert!(running.pull_started_at.is_some() && running.pull_stopped_at.is_some() && running.started_at.is_some());

    runner.stop();
    runner.finished().await;
    assert_eq!(f.server.statuses(), ["PENDING", "ACTIVATING", RUNNING, "STOPPING", STOPPED]);
    let stopped = f.last_report();
    assert_eq!((stopped.stop_code, stopped.stopped_reason.as_deref()), (None, None), "the server's reason stands");
    assert!(stopped.execution_stopped_at.is_some());
    let web = container_in(&stopped, "web");
    assert_eq!((web.last_status.as_deref(), web.exit_code), (Some(STOPPED), Some(143)));

    let actions = actions(&f.runtime);
    assert!(matches!(&actions[1], Call::Create(spec) if spec.name == docker_name("t1", "web")), "{actions:?}");
    assert_eq!(
        [&actions[..1], &actions[2..]].concat(),
        [
            Call::EnsureImage { image: IMAGE.into(), auth: None, pulled: false },
            Call::Start(id.clone()),
            Call::Stop { id: id.clone(), timeout: spec::DEFAULT_STOP_TIMEOUT },
            Call::Remove(id),
        ]
    );
    assert!(f.runtime.containers().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_essential_exit_stops_the_task_with_ecs_stop_code_and_a_non_essential_one_does_not() {
    let f = fixture();
    let side = ContainerDefinition { essential: Some(false), ..container("side") };
    let runner = f.run(assignment("t1", vec![container("web"), side]), vec![]);
    until_reported(&f.server, RUNNING).await;

    f.runtime.exit(&docker_name("t1", "side"), 0);
    until("the side container's exit to be reported", || {
        f.server.reports().iter().any(|r| container_in(r, "side").exit_code == Some(0))
    })
    .await;
    assert_eq!(f.last_report().last_status, RUNNING);

    f.runtime.exit(&docker_name("t1", "web"), 2);
    runner.finished().await;
    assert_eq!(f.server.statuses(), ["PENDING", "ACTIVATING", RUNNING, RUNNING, "STOPPING", STOPPED]);
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert_eq!(stopped.stopped_reason.as_deref(), Some("Essential container in task exited"));
    assert_eq!(container_in(&stopped, "web").exit_code, Some(2));
    assert!(f.runtime.containers().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_desired_stop_stops_dependents_first_each_with_its_stop_timeout() {
    let f = fixture();
    let app = ContainerDefinition { stop_timeout: Some(5), ..depending("app", "db", ContainerCondition::Start) };
    let runner = f.run(assignment("t1", vec![container("db"), app]), vec![]);
    until_reported(&f.server, RUNNING).await;
    let (db, app) = (f.id(&docker_name("t1", "db")), f.id(&docker_name("t1", "app")));
    f.runtime.ignore_sigterm(&docker_name("t1", "app"));
    f.runtime.clear_calls();

    runner.stop();
    runner.finished().await;
    let stops: Vec<Call> = actions(&f.runtime).into_iter().filter(|c| matches!(c, Call::Stop { .. })).collect();
    assert_eq!(
        stops,
        [
            Call::Stop { id: app, timeout: Duration::from_secs(5) },
            Call::Stop { id: db, timeout: spec::DEFAULT_STOP_TIMEOUT },
        ]
    );
    let received = f.server.received();
    let at = |status: &str| {
        received
            .iter()
            .find_map(|r| match &r.call {
                fake::Call::ReportTaskState(report) if report.last_status == status => Some(r.at),
                _ => None,
            })
            .expect("reported")
    };
    let stopping_took = at(STOPPED) - at("STOPPING");
    assert!(
        stopping_took >= Duration::from_secs(5) && stopping_took < Duration::from_secs(6),
        "app's 5 s stopTimeout ran out before STOPPED: {stopping_took:?}"
    );
    let stopped = f.last_report();
    assert_eq!(container_in(&stopped, "app").exit_code, Some(137), "killed after ignoring SIGTERM");
    assert_eq!(container_in(&stopped, "db").exit_code, Some(143));
}

#[tokio::test(start_paused = true)]
async fn reports_are_retried_with_backoff_while_the_server_is_away() {
    let f = fixture();
    f.server.set_away(true);
    let _runner = f.run(assignment("t1", vec![container("web")]), vec![]);
    until("four attempts at PENDING", || f.server.received().len() >= 4).await;
    assert!(actions(&f.runtime).is_empty(), "nothing is pulled before PENDING is reported");
    let received = f.server.received();
    assert!(
        received
            .iter()
            .all(|r| !r.answered && matches!(&r.call, fake::Call::ReportTaskState(r) if r.last_status == "PENDING"))
    );
    let gaps: Vec<u128> = received.windows(2).map(|w| (w[1].at - w[0].at).as_millis()).collect();
    assert_eq!(gaps, [200, 400, 800], "the backoff doubles");

    f.server.set_away(false);
    until_reported(&f.server, RUNNING).await;
    assert_eq!(f.server.statuses(), ["PENDING", "ACTIVATING", RUNNING]);
}

#[tokio::test(start_paused = true)]
async fn a_container_starts_only_once_its_dependency_succeeded() {
    let f = fixture();
    let init = ContainerDefinition { essential: Some(false), ..container("init") };
    let _runner = f.run(assignment("t1", vec![depending("app", "init", ContainerCondition::Success), init]), vec![]);
    let init = docker_name("t1", "init");
    until("init to start", || f.runtime.container(&init).is_some_and(|c| c.state.status == Status::Running)).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let app = f.id(&docker_name("t1", "app"));
    assert!(!actions(&f.runtime).contains(&Call::Start(app.clone())), "app waits for init");
    assert_eq!(f.server.statuses(), ["PENDING", "ACTIVATING"]);

    f.runtime.exit(&init, 0);
    until_reported(&f.server, RUNNING).await;
    let starts: Vec<Call> = actions(&f.runtime).into_iter().filter(|c| matches!(c, Call::Start(_))).collect();
    assert_eq!(starts, [Call::Start(f.id(&init)), Call::Start(app)]);
    let running = f.last_report();
    assert_eq!(container_in(&running, "init").last_status.as_deref(), Some(STOPPED));
    assert_eq!(container_in(&running, "app").last_status.as_deref(), Some(RUNNING));
}

#[tokio::test(start_paused = true)]
async fn a_dependency_that_cannot_succeed_fails_the_task_to_start() {
    let f = fixture();
    let init = ContainerDefinition { essential: Some(false), ..container("init") };
    let runner = f.run(assignment("t1", vec![init, depending("app", "init", ContainerCondition::Success)]), vec![]);
    let init = docker_name("t1", "init");
    until("init to start", || f.runtime.container(&init).is_some_and(|c| c.state.status == Status::Running)).await;
    f.runtime.exit(&init, 1);
    runner.finished().await;
    assert_eq!(f.server.statuses(), ["PENDING", "ACTIVATING", "STOPPING", STOPPED]);
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert_eq!(
        stopped.stopped_reason.as_deref(),
        Some("app: dependency init exited with code 1 but the condition is SUCCESS")
    );
    let starts = actions(&f.runtime).into_iter().filter(|c| matches!(c, Call::Start(_))).count();
    assert_eq!(starts, 1, "app never started");
}

#[tokio::test(start_paused = true)]
async fn a_failed_pull_fails_the_task_to_start() {
    let f = fixture();
    f.runtime.fail_pull("gone:1", "manifest unknown");
    let web = ContainerDefinition { image: Some("gone:1".into()), ..container("web") };
    f.run(assignment("t1", vec![web]), vec![]).finished().await;
    assert_eq!(f.server.statuses(), ["PENDING", STOPPED], "nothing was created: no STOPPING");
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert_eq!(stopped.stopped_reason.as_deref(), Some("CannotPullContainerError: manifest unknown"));
}

#[tokio::test(start_paused = true)]
async fn images_of_the_servers_registry_are_pulled_with_its_token() {
    let f = fixture();
    let image = "berth.test:4566/team/app:1";
    let web = ContainerDefinition { image: Some(image.into()), ..container("web") };
    let _runner = f.run(assignment("t1", vec![web]), vec![]);
    until_reported(&f.server, RUNNING).await;
    let auth = RegistryAuth {
        username: "AWS".into(),
        password: fake::REGISTRY_PASSWORD.into(),
        server: "berth.test:4566".into(),
    };
    assert_eq!(actions(&f.runtime)[0], Call::EnsureImage { image: image.into(), auth: Some(auth), pulled: true });
    assert!(f.server.received().iter().any(|r| r.call == fake::Call::GetAuthorizationToken(None)));
}

/// The registry calls the fake server received, in order.
fn registry_calls(server: &FakeServer) -> Vec<fake::Call> {
    let wanted = |c: &fake::Call| matches!(c, fake::Call::GetTaskCredentials(_) | fake::Call::GetAuthorizationToken(_));
    server.received().into_iter().map(|r| r.call).filter(wanted).collect()
}

#[tokio::test(start_paused = true)]
async fn a_task_with_an_execution_role_asks_for_the_registry_token_as_that_role() {
    let f = fixture();
    let web = ContainerDefinition { image: Some("berth.test:4566/team/app:1".into()), ..container("web") };
    let mut task = assignment("t1", vec![web]);
    task.task_definition.execution_role_arn = Some("arn:aws:iam::000000000000:role/exec".into());
    let _runner = f.run(task, vec![]);
    until_reported(&f.server, RUNNING).await;
    let calls = registry_calls(&f.server);
    assert!(
        matches!(&calls[0], fake::Call::GetTaskCredentials(r) if r.role == TaskRoleKind::Execution && r.task_arn == task_arn("t1")),
        "{calls:?}"
    );
    assert_eq!(calls[1], fake::Call::GetAuthorizationToken(Some("AKID-t1".into())));
}

#[tokio::test(start_paused = true)]
async fn an_execution_role_is_not_asked_for_images_of_other_registries() {
    let f = fixture();
    let mut task = assignment("t1", vec![container("web")]);
    task.task_definition.execution_role_arn = Some("arn:aws:iam::000000000000:role/exec".into());
    let _runner = f.run(task, vec![]);
    until_reported(&f.server, RUNNING).await;
    assert!(registry_calls(&f.server).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_task_role_without_the_credentials_endpoint_fails_the_task_to_start() {
    let f = fixture();
    let mut task = assignment("t1", vec![container("web")]);
    task.task_definition.task_role_arn = Some("arn:aws:iam::000000000000:role/app".into());
    f.run(task, vec![]).finished().await;
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert!(stopped.stopped_reason.unwrap_or_default().contains("task credentials endpoint is not running"));
}

#[tokio::test(start_paused = true)]
async fn an_adopted_task_is_watched_without_being_started_again() {
    let f = fixture();
    let mut task = assignment("t1", vec![container("web")]);
    task.task.last_status = Some(RUNNING.into());
    let id = leave_running(&f.runtime, INSTANCE_ARN, &task, "web");
    let adopted = f.runtime.container(&id).map(|c| c.state).into_iter().collect();
    let runner = f.run(task, adopted);
    until_reported(&f.server, RUNNING).await;
    assert!(actions(&f.runtime).is_empty(), "adopting touches nothing");
    assert_eq!(container_in(&f.last_report(), "web").runtime_id.as_deref(), Some(id.as_str()));

    f.runtime.exit(&id, 0);
    runner.finished().await;
    assert_eq!(f.server.statuses(), [RUNNING, "STOPPING", STOPPED]);
    assert_eq!(f.last_report().stop_code, Some(TaskStopCode::EssentialContainerExited));
}

#[tokio::test(start_paused = true)]
async fn a_started_task_whose_containers_vanished_is_reported_stopped() {
    let f = fixture();
    let mut task = assignment("t1", vec![container("web")]);
    task.task.last_status = Some(RUNNING.into());
    f.run(task, vec![]).finished().await;
    assert_eq!(f.server.statuses(), [STOPPED]);
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::EssentialContainerExited));
    assert_eq!(
        stopped.stopped_reason.as_deref(),
        Some("The task's containers disappeared while the agent was not running")
    );
    assert!(actions(&f.runtime).is_empty(), "nothing is started again");
}

fn with_secrets(name: &str) -> ContainerDefinition {
    use berth_model::ecs::{RepositoryCredentials, Secret};
    ContainerDefinition {
        image: Some("private.example:5000/app:1".into()),
        secrets: Some(vec![Secret { name: "DB_PASSWORD".into(), value_from: "/app/db".into() }]),
        repository_credentials: Some(RepositoryCredentials {
            credentials_parameter: "arn:aws:secretsmanager:us-east-1:000000000000:secret:reg-AbC123".into(),
        }),
        ..container(name)
    }
}

#[tokio::test(start_paused = true)]
async fn secrets_become_environment_and_pull_credentials() {
    use berth_model::agent_protocol::{ContainerSecrets, RegistryCredentials, ResolveSecretsResponse};
    let f = fixture();
    f.server.answer_secrets(ResolveSecretsResponse {
        containers: vec![ContainerSecrets {
            container_name: "web".into(),
            environment: [("DB_PASSWORD".to_string(), "hunter2".to_string())].into(),
            log_options: Default::default(),
            repository_credentials: Some(RegistryCredentials { username: "robot".into(), password: "pw".into() }),
            environment_files: Default::default(),
        }],
        failure: None,
    });
    let _runner = f.run(assignment("t1", vec![with_secrets("web")]), vec![]);
    until_reported(&f.server, RUNNING).await;
    let asked = f.server.received().into_iter().any(|r| {
        matches!(r.call, fake::Call::ResolveSecrets(req) if req.task_arn == task_arn("t1") && req.container_instance == INSTANCE_ARN)
    });
    assert!(asked, "the agent asked the server for this task's secrets");
    let auth = RegistryAuth { username: "robot".into(), password: "pw".into(), server: "private.example:5000".into() };
    assert_eq!(
        actions(&f.runtime)[0],
        Call::EnsureImage { image: "private.example:5000/app:1".into(), auth: Some(auth), pulled: true }
    );
    let created = f.runtime.container(&docker_name("t1", "web")).unwrap();
    assert!(created.spec.env.contains(&"DB_PASSWORD=hunter2".to_string()), "{:?}", created.spec.env);
    let reports = format!("{:?}", f.server.reports());
    assert!(!reports.contains("hunter2"), "a value never goes into a report");
}

#[tokio::test(start_paused = true)]
async fn a_secret_that_cannot_be_read_fails_the_task_before_anything_is_pulled() {
    use berth_model::agent_protocol::ResolveSecretsResponse;
    let f = fixture();
    let reason = "ResourceInitializationError: unable to pull secrets or registry auth: invalid parameters: /app/db";
    f.server.answer_secrets(ResolveSecretsResponse { containers: vec![], failure: Some(reason.into()) });
    f.run(assignment("t1", vec![with_secrets("web")]), vec![]).finished().await;
    assert_eq!(f.server.statuses(), ["PENDING", STOPPED]);
    let stopped = f.last_report();
    assert_eq!(stopped.stop_code, Some(TaskStopCode::TaskFailedToStart));
    assert_eq!(stopped.stopped_reason.as_deref(), Some(reason));
    assert!(!actions(&f.runtime).iter().any(|c| matches!(c, Call::EnsureImage { .. })), "nothing pulled");
}

#[tokio::test(start_paused = true)]
async fn a_task_without_secrets_never_asks_for_them() {
    let f = fixture();
    let _runner = f.run(assignment("t1", vec![container("web")]), vec![]);
    until_reported(&f.server, RUNNING).await;
    assert!(!f.server.received().iter().any(|r| matches!(r.call, fake::Call::ResolveSecrets(_))));
}
