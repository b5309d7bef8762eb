//! `DockerRuntime` against the real Docker engine, with the offline test images of
//! tests/images (built on first use). Every test names its containers, networks and
//! labels with its own random suffix and removes them in a guard, so these tests run in
//! parallel with each other and with anything else on the engine. Without an engine they
//! are skipped, each saying why, except on CI (`CI=true`), where that fails them.

use berth_agent::runtime::docker::DockerRuntime;
use berth_agent::runtime::{
    ContainerSpec, ContainerState, Health, HealthCheckSpec, MountSource, MountSpec, NetworkSpec, PortSpec, Protocol,
    Runtime, RuntimeError, Status, Ulimit,
};
use berth_agent::spec::{self, TaskContext, TaskNetwork};
use berth_model::agent_protocol::labels;
use berth_model::ecs::{ContainerDefinition, NetworkMode, PortMapping, TaskDefinition};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IMAGE: &str = "berth-test/busybox:latest";
const PAUSE_IMAGE: &str = "berth-test/pause:latest";
const TEST_LABEL: &str = "dev.berth.test";

/// Builds the test images once per test binary (quick when they exist).
fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/images/build.sh");
        let status = Command::new("bash").arg(script).status().expect("run tests/images/build.sh");
        assert!(status.success(), "tests/images/build.sh failed");
    });
}

/// The Docker engine for a test, or None when this machine has none: the caller then
/// returns, and the test passes as skipped with the reason printed. On CI (`CI=true`)
/// a missing engine fails the test instead: CI has Docker, and there nothing may skip.
async fn engine_or_skip() -> Option<DockerRuntime> {
    let error = match DockerRuntime::connect().await {
        Ok(rt) => {
            images();
            return Some(rt);
        }
        Err(e) => e,
    };
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let reason = format!("no Docker engine at {host}: {error}");
    assert!(!on_ci(), "{reason} (CI is set: the Docker tests must run, not skip)");
    let test = std::thread::current().name().unwrap_or("a docker test").to_string();
    // Straight to stderr in one write: the harness hides what `eprintln!` prints in
    // passing tests, and parallel tests' lines must not interleave.
    let _ = std::io::stderr().write_all(format!("{test}: skipped: {reason}\n").as_bytes());
    None
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// A suffix no other test (or test run) uses.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{:x}{:x}{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Removes what a test made, even when it fails half-way.
struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    fn new() -> Self {
        Self { containers: vec![], networks: vec![], volumes: vec![] }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Containers first: a network or volume in use cannot go.
        for c in self.containers.iter().rev() {
            let _ = Command::new("docker").args(["rm", "-f", "-v", c]).output();
        }
        for n in &self.networks {
            let _ = Command::new("docker").args(["network", "rm", n]).output();
        }
        for v in &self.volumes {
            let _ = Command::new("docker").args(["volume", "rm", "-f", v]).output();
        }
    }
}

fn spec(name: &str, command: &[&str]) -> ContainerSpec {
    ContainerSpec {
        name: name.to_string(),
        image: IMAGE.to_string(),
        command: Some(command.iter().map(|s| s.to_string()).collect()),
        labels: BTreeMap::from([(TEST_LABEL.to_string(), name.to_string())]),
        stop_timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

/// A process that runs until told to stop and stops at once.
const SERVE_FOREVER: &[&str] = &["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

async fn create_and_start(rt: &DockerRuntime, cleanup: &mut Cleanup, spec: &ContainerSpec) -> String {
    let id = rt.create(spec).await.expect("create");
    cleanup.containers.push(id.clone());
    rt.start(&id).await.expect("start");
    id
}

/// Inspects until `done` holds, for up to `timeout`.
async fn wait_for(
    rt: &DockerRuntime,
    id: &str,
    timeout: Duration,
    done: impl Fn(&ContainerState) -> bool,
) -> ContainerState {
    let deadline = Instant::now() + timeout;
    loop {
        let state = rt.inspect(id).await.expect("inspect").expect("container exists");
        if done(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "timed out waiting; last state: {state:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// HTTP/1.0 GET of `/`, retried while the server comes up; returns the whole response.
async fn http_get(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt = async {
            let mut stream = TcpStream::connect(addr).await?;
            stream.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n").await?;
            let mut response = String::new();
            stream.read_to_string(&mut response).await?;
            Ok::<_, std::io::Error>(response)
        };
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(response)) if response.starts_with("HTTP/") => return response,
            other => {
                assert!(Instant::now() < deadline, "no HTTP answer from {addr}: {other:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn docker_logs(id: &str) -> String {
    let out = Command::new("docker").args(["logs", id]).output().expect("docker logs");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn docker_inspect(id: &str, format: &str) -> String {
    let out = Command::new("docker").args(["inspect", "-f", format, id]).output().expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn an_absent_daemon_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/docker.sock", dir.path().display());
    match DockerRuntime::connect_with_host(&host).await {
        Err(RuntimeError::Unavailable(message)) => assert!(!message.is_empty()),
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("connected to {host}"),
    }
}

#[tokio::test]
async fn negotiates_the_daemons_api_version() {
    let Some(rt) = engine_or_skip().await else { return };
    let daemon = rt.client().version().await.unwrap().api_version.unwrap();
    let daemon: Vec<usize> = daemon.split('.').map(|n| n.parse().unwrap()).collect();
    let ours = rt.client().client_version();
    assert!(
        [ours.major_version, ours.minor_version] <= [daemon[0], daemon[1]],
        "we speak {}.{}, newer than the daemon's {daemon:?}",
        ours.major_version,
        ours.minor_version
    );
}

#[tokio::test]
async fn serves_http_on_a_published_port() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let name = format!("berth-test-http-{}", unique());
    let host_port = free_port();
    let mut s = spec(&name, &["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]);
    s.network = NetworkSpec::Bridge(vec![
        PortSpec { container_port: 8080, host_port, protocol: Protocol::Tcp },
        PortSpec { container_port: 9999, host_port: free_port(), protocol: Protocol::Udp },
    ]);
    let id = create_and_start(&rt, &mut cleanup, &s).await;

    let response = http_get(&format!("127.0.0.1:{host_port}")).await;
    assert!(response.contains("hello from berth-test/busybox"), "{response}");

    let state = rt.inspect(&id).await.unwrap().unwrap();
    assert_eq!(state.status, Status::Running);
    assert_eq!(state.name, name);
    assert!(state.ports.contains(&PortSpec { container_port: 8080, host_port, protocol: Protocol::Tcp }), "{state:?}");
    assert!(state.ports.iter().any(|p| p.container_port == 9999 && p.protocol == Protocol::Udp), "{state:?}");
    assert!(state.ip_addresses.contains_key("bridge"), "{state:?}");
    assert!(state.started_at.is_some() && state.finished_at.is_none(), "{state:?}");
    assert_eq!(state.exit_code, None);
    assert!(state.image_digest.as_deref().is_some_and(|d| d.starts_with("sha256:")), "{state:?}");
    assert_eq!(state.labels.get(TEST_LABEL), Some(&name));

    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    let state = rt.inspect(&id).await.unwrap().unwrap();
    assert_eq!(state.status, Status::Exited);
    assert!(state.finished_at.is_some());
}

#[tokio::test]
async fn exit_code_is_observed() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let id =
        create_and_start(&rt, &mut cleanup, &spec(&format!("berth-test-exit-{}", unique()), &["sh", "-c", "exit 3"]))
            .await;
    let state = wait_for(&rt, &id, Duration::from_secs(20), |s| s.status == Status::Exited).await;
    assert_eq!(state.exit_code, Some(3));
    assert!(!state.oom_killed);
    assert_eq!(state.error, None);
    let (started, finished) = (state.started_at.unwrap(), state.finished_at.unwrap());
    assert!(finished >= started && started > 1.0e9, "{started} {finished}");
}

#[tokio::test]
async fn memory_limit_kills_a_hog() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let mut s = spec(
        &format!("berth-test-oom-{}", unique()),
        &["sh", "-c", r#"x=$(head -c 20000000 /dev/zero | tr "\0" a); echo ${#x}"#],
    );
    s.memory_mib = Some(6);
    let id = create_and_start(&rt, &mut cleanup, &s).await;
    let state = wait_for(&rt, &id, Duration::from_secs(60), |s| s.status == Status::Exited).await;
    // Which process the kernel picks (and whether Docker notices) varies; either sign will do.
    assert!(state.exit_code == Some(137) || state.oom_killed, "{state:?} logs: {}", docker_logs(&id));
}

#[tokio::test]
async fn missing_executable_fails_the_start() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let s = spec(&format!("berth-test-noexec-{}", unique()), &["/no/such/program"]);
    let id = rt.create(&s).await.expect("create succeeds: the executable is only looked for at start");
    cleanup.containers.push(id.clone());
    match rt.start(&id).await {
        Err(RuntimeError::Container(message)) => {
            assert!(message.contains("no such file") || message.contains("not found"), "{message}")
        }
        other => panic!("expected a container error, got {other:?}"),
    }
    let state = rt.inspect(&id).await.unwrap().unwrap();
    assert_ne!(state.status, Status::Running);
    assert!(state.error.is_some(), "{state:?}");
}

#[tokio::test]
async fn a_taken_host_port_fails_the_start() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let host_port = free_port();
    let mut first = spec(&format!("berth-test-port-a-{}", unique()), SERVE_FOREVER);
    first.network = NetworkSpec::Bridge(vec![PortSpec { container_port: 80, host_port, protocol: Protocol::Tcp }]);
    create_and_start(&rt, &mut cleanup, &first).await;

    let mut second = first.clone();
    second.name = format!("berth-test-port-b-{}", unique());
    let id = rt.create(&second).await.unwrap();
    cleanup.containers.push(id.clone());
    match rt.start(&id).await {
        Err(RuntimeError::Container(message)) => assert!(message.contains("allocated"), "{message}"),
        other => panic!("expected a container error, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_image_fails_the_pull_fast() {
    let Some(rt) = engine_or_skip().await else { return };
    let image = format!("berth-test/does-not-exist-{}:1", unique());
    let result = tokio::time::timeout(Duration::from_secs(90), rt.ensure_image(&image, None))
        .await
        .expect("the pull gives up instead of hanging");
    match result {
        Err(RuntimeError::Pull(message)) => assert!(!message.is_empty()),
        other => panic!("expected a pull error, got {other:?}"),
    }

    // Creating from an absent image is the container's failure, not the daemon's.
    match rt.create(&ContainerSpec { image, ..spec(&format!("berth-test-noimage-{}", unique()), &["true"]) }).await {
        Err(RuntimeError::Container(message)) => assert!(message.contains("No such image"), "{message}"),
        other => panic!("expected a container error, got {other:?}"),
    }
}

#[tokio::test]
async fn present_image_needs_no_pull() {
    let Some(rt) = engine_or_skip().await else { return };
    let digest = rt.ensure_image(IMAGE, None).await.unwrap();
    let id = docker_inspect(IMAGE, "{{.Id}}");
    assert_eq!(digest.as_deref(), Some(id.as_str()), "a local build has no repo digest: its id stands in");
}

#[tokio::test]
async fn health_checks_report_healthy_and_unhealthy() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let check = |cmd: &str| HealthCheckSpec {
        test: vec!["CMD-SHELL".into(), cmd.into()],
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        retries: 1,
        start_period: Duration::ZERO,
    };
    let mut good = spec(&format!("berth-test-healthy-{}", unique()), SERVE_FOREVER);
    good.health_check = Some(check("test -d /www"));
    let mut bad = spec(&format!("berth-test-unhealthy-{}", unique()), SERVE_FOREVER);
    bad.health_check = Some(check("exit 1"));
    let good = create_and_start(&rt, &mut cleanup, &good).await;
    let bad = create_and_start(&rt, &mut cleanup, &bad).await;

    let state = rt.inspect(&good).await.unwrap().unwrap();
    assert!(matches!(state.health, Some(Health::Starting | Health::Healthy)), "{state:?}");
    wait_for(&rt, &good, Duration::from_secs(30), |s| s.health == Some(Health::Healthy)).await;
    wait_for(&rt, &bad, Duration::from_secs(30), |s| s.health == Some(Health::Unhealthy)).await;

    let plain =
        create_and_start(&rt, &mut cleanup, &spec(&format!("berth-test-nocheck-{}", unique()), SERVE_FOREVER)).await;
    assert_eq!(rt.inspect(&plain).await.unwrap().unwrap().health, None);
}

/// The awsvpc shape, built by `spec` from a task definition: the pause container owns the
/// task's address on a berth network; the app container serves on it from inside.
#[tokio::test]
async fn awsvpc_containers_share_the_pause_containers_address() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let suffix = unique();
    let network = format!("berth-test-net-{suffix}");
    cleanup.networks.push(network.clone());
    rt.ensure_network(&network).await.unwrap();
    rt.ensure_network(&network).await.expect("a second ensure finds the network");
    let count = Command::new("docker").args(["network", "ls", "-q", "--filter", &format!("name=^{network}$")]).output();
    assert_eq!(String::from_utf8_lossy(&count.unwrap().stdout).lines().count(), 1);

    let app = ContainerDefinition {
        name: Some("web".into()),
        image: Some(IMAGE.into()),
        command: Some(["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"].map(String::from).to_vec()),
        hostname: Some("ignored-in-awsvpc".into()),
        port_mappings: Some(vec![PortMapping { container_port: Some(8080), ..Default::default() }]),
        ..Default::default()
    };
    let td = TaskDefinition {
        family: Some("berth-test".into()),
        revision: Some(1),
        network_mode: Some(NetworkMode::Awsvpc),
        container_definitions: Some(vec![app.clone()]),
        ..Default::default()
    };
    let task_arn = format!("arn:aws:ecs:us-east-1:000000000000:task/test/{suffix}");
    let ctx = TaskContext {
        cluster: "test",
        task_arn: &task_arn,
        container_instance_arn: "arn:aws:ecs:us-east-1:000000000000:container-instance/test/i",
        task_definition: &td,
        overrides: None,
    };

    let pause = create_and_start(&rt, &mut cleanup, &spec::pause_spec(&ctx, &network, PAUSE_IMAGE)).await;
    let pause_state = rt.inspect(&pause).await.unwrap().unwrap();
    let ip = pause_state.ip_addresses.get(&network).cloned().expect("the pause container has the task's address");
    assert_eq!(pause_state.labels.get(labels::ROLE).map(String::as_str), Some("pause"));

    let network_spec = TaskNetwork::Awsvpc { pause_container_id: pause.clone() };
    let web = create_and_start(&rt, &mut cleanup, &spec::container_spec(&ctx, &app, &network_spec, &[])).await;
    let response = http_get(&format!("{ip}:8080")).await;
    assert!(response.contains("hello from berth-test/busybox"), "{response}");
    let web_state = rt.inspect(&web).await.unwrap().unwrap();
    assert!(web_state.ip_addresses.is_empty(), "the address is the pause container's: {web_state:?}");
    assert_eq!(web_state.name, spec::container_name(&task_arn, "web"));

    let found = rt.list(&[(labels::TASK_ARN, task_arn.as_str())]).await.unwrap();
    assert_eq!(found.len(), 2);

    // httpd as PID 1 ignores SIGTERM and waits for the SIGKILL; the pause image stops at once.
    rt.stop(&web, Duration::from_secs(1)).await.unwrap();
    let started = Instant::now();
    rt.stop(&pause, Duration::from_secs(10)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert_eq!(rt.inspect(&pause).await.unwrap().unwrap().exit_code, Some(0));
}

#[tokio::test]
async fn events_report_a_death() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let mut events = rt.events().await.unwrap();
    let id = create_and_start(
        &rt,
        &mut cleanup,
        &spec(&format!("berth-test-events-{}", unique()), &["sh", "-c", "sleep 1"]),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline.into(), events.recv())
            .await
            .expect("an event for the container within 30 s")
            .expect("the stream stays open");
        if event.container_id == id && rt.inspect(&id).await.unwrap().unwrap().status == Status::Exited {
            break;
        }
    }
}

/// Health changes arrive as events too (Docker's `health_status: healthy` action).
#[tokio::test]
async fn events_report_health_changes() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let mut events = rt.events().await.unwrap();
    let mut s = spec(&format!("berth-test-health-events-{}", unique()), SERVE_FOREVER);
    s.health_check = Some(HealthCheckSpec {
        test: vec!["CMD".into(), "true".into()],
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        retries: 1,
        start_period: Duration::ZERO,
    });
    let id = create_and_start(&rt, &mut cleanup, &s).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline.into(), events.recv())
            .await
            .expect("a health event within 30 s")
            .expect("the stream stays open");
        if event.container_id == id && rt.inspect(&id).await.unwrap().unwrap().health == Some(Health::Healthy) {
            break;
        }
    }
}

#[tokio::test]
async fn list_finds_exactly_the_labelled_containers() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let run = unique();
    let mut made = vec![];
    for (i, role) in ["a", "b", "a"].iter().enumerate() {
        let mut s = spec(&format!("berth-test-list-{run}-{i}"), &["true"]);
        s.labels =
            BTreeMap::from([("dev.berth.test-run".to_string(), run.clone()), ("role".to_string(), role.to_string())]);
        let id = rt.create(&s).await.unwrap();
        cleanup.containers.push(id.clone());
        made.push(id);
    }
    rt.start(&made[0]).await.unwrap();

    let mut all: Vec<String> =
        rt.list(&[("dev.berth.test-run", &run)]).await.unwrap().into_iter().map(|s| s.id).collect();
    all.sort();
    let mut expected = made.clone();
    expected.sort();
    assert_eq!(all, expected, "running, exited and never started alike");

    let mut a: Vec<String> =
        rt.list(&[("dev.berth.test-run", &run), ("role", "a")]).await.unwrap().into_iter().map(|s| s.id).collect();
    a.sort();
    let mut expected_a = vec![made[0].clone(), made[2].clone()];
    expected_a.sort();
    assert_eq!(a, expected_a);
    assert!(rt.list(&[("dev.berth.test-run", "nobody")]).await.unwrap().is_empty());
}

#[tokio::test]
async fn stop_and_remove_are_forgiving() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let id = rt.create(&spec(&format!("berth-test-rm-{}", unique()), SERVE_FOREVER)).await.unwrap();
    cleanup.containers.push(id.clone());
    rt.stop(&id, Duration::from_secs(1)).await.expect("stopping a never-started container");
    assert_eq!(rt.inspect(&id).await.unwrap().unwrap().status, Status::Created);

    rt.start(&id).await.unwrap();
    rt.start(&id).await.expect("starting a running container");
    match rt.remove(&id).await {
        Err(RuntimeError::Container(_)) => {}
        other => panic!("removing a running container: {other:?}"),
    }
    rt.stop(&id, Duration::from_secs(10)).await.unwrap();
    rt.stop(&id, Duration::from_secs(10)).await.expect("stopping a stopped container");
    assert_eq!(rt.inspect(&id).await.unwrap().unwrap().exit_code, Some(0), "the trap exits 0 on SIGTERM");
    rt.remove(&id).await.unwrap();
    rt.remove(&id).await.expect("removing a removed container");
    assert_eq!(rt.inspect(&id).await.unwrap(), None);
    assert!(matches!(rt.stop(&id, Duration::from_secs(1)).await, Err(RuntimeError::NotFound(_))));
    assert!(matches!(rt.start(&id).await, Err(RuntimeError::NotFound(_))));
}

/// Every field of the spec reaches the container: read back from inside it and from
/// `docker inspect`.
#[tokio::test]
async fn create_applies_the_whole_spec() {
    let Some(rt) = engine_or_skip().await else { return };
    let mut cleanup = Cleanup::new();
    let suffix = unique();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("greeting"), "from the host").unwrap();
    let missing_dir = dir.path().join("made-by-docker");
    let volume = format!("berth-test-vol-{suffix}");
    cleanup.volumes.push(volume.clone());

    let script = r#"echo "env=$GREETING"; echo "pwd=$(pwd)"; echo "uid=$(id -u)"; echo "host=$(hostname)";
echo "nofile=$(ulimit -n)"; grep -q '10.1.2.3.*db.internal' /etc/hosts && echo hosts=ok;
grep -q 'nameserver 10.9.9.9' /etc/resolv.conf && echo dns=ok; grep -q 'search berth.test' /etc/resolv.conf && echo search=ok;
echo "bind=$(cat /host/greeting)"; touch /host/x 2>/dev/null || echo bind=ro; touch /vol/x && echo vol=rw;
test -d /made && echo made=ok; touch /rootfs 2>/dev/null || echo rootfs=ro"#;
    let s = ContainerSpec {
        name: format!("berth-test-spec-{suffix}"),
        image: IMAGE.into(),
        entrypoint: Some(vec!["sh".into(), "-c".into()]),
        command: Some(vec![script.into()]),
        env: vec!["GREETING=hi there".into()],
        working_dir: Some("/www".into()),
        user: Some("nobody".into()),
        hostname: Some("berth-host".into()),
        labels: BTreeMap::from([(TEST_LABEL.to_string(), suffix.clone())]),
        cpu_shares: Some(512),
        memory_mib: Some(64),
        memory_reservation_mib: Some(32),
        ulimits: vec![Ulimit { name: "nofile".into(), soft: 1234, hard: 2345 }],
        readonly_rootfs: true,
        privileged: false,
        network: NetworkSpec::Bridge(vec![]),
        mounts: vec![
            MountSpec {
                source: MountSource::HostPath(dir.path().display().to_string()),
                target: "/host".into(),
                read_only: true,
            },
            MountSpec { source: MountSource::Volume(volume.clone()), target: "/vol".into(), read_only: false },
            MountSpec {
                source: MountSource::HostPath(missing_dir.display().to_string()),
                target: "/made".into(),
                read_only: false,
            },
        ],
        health_check: None,
        extra_hosts: vec!["db.internal:10.1.2.3".into()],
        dns_servers: vec!["10.9.9.9".into()],
        dns_search: vec!["berth.test".into()],
        stop_timeout: Duration::from_secs(7),
        gpus: vec![],
    };
    // The volume is owned by root: let `nobody` write to it.
    let prepare = Command::new("docker")
        .args(["run", "--rm", "-v", &format!("{volume}:/vol"), IMAGE, "chmod", "777", "/vol"])
        .output()
        .unwrap();
    assert!(prepare.status.success(), "{prepare:?}");

    let id = create_and_start(&rt, &mut cleanup, &s).await;
    let state = wait_for(&rt, &id, Duration::from_secs(20), |s| s.status == Status::Exited).await;
    let logs = docker_logs(&id);
    assert_eq!(state.exit_code, Some(0), "{logs}");
    for line in [
        "env=hi there",
        "pwd=/www",
        "uid=65534",
        "host=berth-host",
        "nofile=1234",
        "hosts=ok",
        "dns=ok",
        "search=ok",
        "bind=from the host",
        "bind=ro",
        "vol=rw",
        "made=ok",
        "rootfs=ro",
    ] {
        assert!(logs.lines().any(|l| l == line), "missing {line:?} in:\n{logs}");
    }
    assert_eq!(
        docker_inspect(
            &id,
            "{{.HostConfig.CpuShares}} {{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} \
             {{.Config.StopTimeout}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}}"
        ),
        format!("512 {} {} 7 true false", 64 << 20, 32 << 20)
    );
}

#[tokio::test]
async fn the_built_in_pause_image_holds_until_sigterm() {
    let Some(rt) = engine_or_skip().await else { return };
    berth_agent::pause_image::ensure(&rt, berth_agent::pause_image::DEFAULT).await.expect("import the pause image");
    let mut cleanup = Cleanup::new();
    let mut pause = spec(&format!("berth-test-pause-{}", unique()), &[]);
    pause.image = berth_agent::pause_image::DEFAULT.to_string();
    pause.command = None;
    let id = create_and_start(&rt, &mut cleanup, &pause).await;
    let state = wait_for(&rt, &id, Duration::from_secs(10), |s| s.status == Status::Running).await;
    assert_eq!(state.status, Status::Running);
    // SIGTERM ends it at once (a 20 s timeout would show as a SIGKILL, exit 137).
    rt.stop(&id, Duration::from_secs(20)).await.expect("stop");
    let state = wait_for(&rt, &id, Duration::from_secs(5), |s| s.status == Status::Exited).await;
    assert_eq!(state.exit_code, Some(0));
}
