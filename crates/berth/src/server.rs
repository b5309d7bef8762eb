//! `berth server` and `berth up`.

use crate::agent_cmd::{self, AgentOptions};
use crate::credentials;
use anyhow::Context;
use berth_api::Api;
use berth_api::auth::keyring::Keyring;
use berth_api::auth::sealer::Sealer;
use berth_model::arn::Scope;
use berth_store_etcd::{EtcdConfig, EtcdStore};
use berth_store_sqlite::SqliteStore;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Where the AWS API listens (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:4566", env = "BERTH_LISTEN")]
    pub listen: SocketAddr,
    /// Where berth keeps its state.
    #[arg(long, default_value = ".berth", env = "BERTH_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The region written into ARNs.
    #[arg(long, default_value = "us-east-1", env = "BERTH_REGION")]
    pub region: String,
    /// The account id written into ARNs.
    #[arg(long, default_value = "000000000000", env = "BERTH_ACCOUNT_ID")]
    pub account_id: String,
    /// Where load balancer listeners bind, for example 0.0.0.0 to serve other machines.
    /// By default each load balancer listens on its own loopback address (its DNSName);
    /// with this, all share the address, so listener ports must differ between them.
    #[arg(long, env = "BERTH_LB_LISTEN_ADDRESS")]
    pub lb_listen_address: Option<std::net::IpAddr>,
    /// Test-only: no STS session outlives this many seconds, so that tests can watch
    /// temporary credentials expire (STS's own minimum is 15 minutes).
    #[arg(long, env = "BERTH_TEST_SESSION_LIFETIME_SECONDS", hide = true)]
    pub test_session_lifetime_seconds: Option<u32>,
    /// Test facility: one minute of metric time lasts this many real seconds (1-60), for
    /// alarm evaluation and berth's own metrics (docs/architecture.md, CloudWatch).
    #[arg(long, default_value_t = 60, env = "BERTH_METRIC_MINUTE_SECONDS",
          value_parser = clap::value_parser!(u32).range(1..=60))]
    pub metric_minute_seconds: u32,
    /// ECS managed scaling: how long an instance of a capacity provider's group must have
    /// run no task (but daemon tasks) before it is scaled in. ECS waits about 15 minutes.
    #[arg(long, default_value_t = berth_control::managed_scaling::DEFAULT_SCALE_IN_AFTER.as_secs(), env = "BERTH_CAPACITY_SCALE_IN_AFTER_SECONDS")]
    pub capacity_scale_in_after_seconds: u64,
    /// How long a capacity provider's task may wait in PROVISIONING for capacity before
    /// it is stopped (ECS: 30 minutes).
    #[arg(long, default_value_t = berth_control::managed_scaling::DEFAULT_PROVISIONING_TIMEOUT.as_secs(), env = "BERTH_CAPACITY_PROVISIONING_TIMEOUT_SECONDS")]
    pub capacity_provisioning_timeout_seconds: u64,
    /// Where the state lives: `etcd://host:2379,host:2379[/namespace]` for an etcd
    /// cluster that several servers share (docs/architecture.md, "HA control plane");
    /// by default a SQLite database in the data dir.
    #[arg(long, env = "BERTH_STORE")]
    pub store: Option<String>,
    /// With an etcd store: the leader's lease, in seconds. When the leader dies, another
    /// server's controllers take over within about this long.
    #[arg(long, default_value_t = 3, env = "BERTH_LEADER_LEASE_SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub leader_lease_seconds: u64,
    /// The directory that servers sharing one store must share (a network file system):
    /// the key sealing secrets (`master.key`) and the image registry (`registry/`).
    /// By default the data dir.
    #[arg(long, env = "BERTH_SHARED_DIR")]
    pub shared_dir: Option<PathBuf>,
    /// Do not run EC2 instances on this machine (by default the server is a host too).
    #[arg(long, env = "BERTH_NO_HOST")]
    pub no_host: bool,
    /// The capacity this machine offers EC2 instances (`berth host`'s --cpu, --memory, --gpus).
    #[command(flatten)]
    pub host: crate::host_cmd::HostOptions,
    /// The API listener's timeouts and connection limits.
    #[command(flatten)]
    pub listener: crate::listener_args::ListenerArgs,
}

#[derive(Args, Clone)]
pub struct UpArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub agent: AgentOptions,
}

/// The API server plus a local agent for the `default` cluster, in one process.
pub async fn up(args: UpArgs) -> anyhow::Result<()> {
    serve(args.server, Some(args.agent)).await
}

pub async fn serve(args: ServerArgs, local_agent: Option<AgentOptions>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data dir {}", args.data_dir.display()))?;
    let _lock = lock_data_dir(&args.data_dir)?;
    let (store, etcd) = open_store(&args).await?;
    let shared_dir = args.shared_dir.clone().unwrap_or_else(|| args.data_dir.clone());
    std::fs::create_dir_all(&shared_dir)
        .with_context(|| format!("creating the shared dir {}", shared_dir.display()))?;
    let sealer = Sealer::load_or_create(&shared_dir.join("master.key"))?;
    let api = Api::new(store.clone(), Scope::new(&args.region, &args.account_id), Keyring::new(sealer));
    if let Some(seconds) = args.test_session_lifetime_seconds {
        tracing::warn!(seconds, "test-only: STS sessions are cut short");
        api.keyring.cap_session_lifetime_for_tests(seconds);
    }
    let registry = berth_registry::Registry::open(&shared_dir, store)
        .with_context(|| format!("opening the image registry in {}", shared_dir.join("registry").display()))?;
    registry.spawn_janitor();
    api.attach_registry(registry);
    let root = credentials::ensure_root(&api, &args.data_dir).await?;
    let logs_dir = args.data_dir.join("logs");
    let logs = berth_log_store::LogEngine::open(&logs_dir)
        .with_context(|| format!("opening the logs engine at {}", logs_dir.display()))?;
    api.set_logs(Arc::new(logs));
    tokio::spawn(apply_log_retention(api.clone()));
    let metrics_dir = args.data_dir.join("metrics");
    let metrics = berth_metric_store::MetricStore::open(&metrics_dir)
        .with_context(|| format!("opening the metric store at {}", metrics_dir.display()))?;
    api.set_metrics(Arc::new(metrics));
    let clock = berth_model::metric_clock::MetricClock::new(args.metric_minute_seconds).unwrap_or_default();
    if !clock.is_aws() {
        tracing::warn!(seconds = clock.minute_seconds, "test facility: a metric-time minute is shortened");
    }
    api.set_metric_clock(clock);
    tokio::spawn(maintain_metrics(api.clone()));

    if local_agent.is_some() {
        berth_api::ensure_cluster(&api, "default").await.context("creating the cluster `default`")?;
    }

    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Scripts and the e2e harness read this line to learn the port.
    println!("berth: listening on http://{addr}");
    println!("berth: console at http://{addr}{} (sign in with the root credential's access key)", berth_console::PATH);
    tracing::info!(%addr, data_dir = %args.data_dir.display(), "berth API server started");

    let settings = Controllers {
        clock,
        metrics: api.metrics().cloned(),
        samples: api.ecs_metrics.clone(),
        scope: api.scope.clone(),
        scale_in_after: std::time::Duration::from_secs(args.capacity_scale_in_after_seconds),
        provisioning_timeout: std::time::Duration::from_secs(args.capacity_provisioning_timeout_seconds),
    };
    match etcd {
        None => drop(settings.start(api.ecs.clone())),
        Some(etcd) => {
            let id = format!("http://{addr}");
            tokio::spawn(crate::ha::share_heartbeats(api.store.clone(), api.ecs.clone(), id.clone()));
            let ttl = std::time::Duration::from_secs(args.leader_lease_seconds);
            tokio::spawn(crate::ha::lead(etcd, api.ecs.clone(), id, ttl, move |ecs| settings.start(ecs)));
        }
    }
    let lb_metrics = api.metrics().cloned().map(|m| (clock.minute(), berth_control::ecs_metrics::publish_to(m)));
    // The load balancers' listeners, on their own loopback addresses (docs/architecture.md),
    // on a runtime of their own with one thread: a proxied request then never hops between
    // threads (listener task, pooled target connection), which costs more than the proxying.
    let (lb_store, lb_listen) = (api.store.clone(), args.lb_listen_address);
    let data_plane = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new()
        .name("berth-lb".into())
        .spawn(move || data_plane.block_on(berth_lb::run(lb_store, lb_listen, lb_metrics)))
        .context("starting the load balancers' thread")?;

    if !args.no_host {
        let local = local_agent.as_ref();
        let host = crate::host_cmd::HostConfig {
            endpoint: format!("http://{addr}"),
            access_key_id: root.access_key_id.clone(),
            secret_access_key: root.secret_access_key.clone(),
            region: args.region.clone(),
            data_dir: args.data_dir.join("host"),
            options: args.host.clone(),
            pause_image: local.map_or_else(|| berth_agent::pause_image::DEFAULT.into(), |o| o.pause_image.clone()),
            awsvpc_network: local.map_or_else(|| "berth-awsvpc".into(), |o| o.awsvpc_network.clone()),
            advertise_address: local.and_then(|o| o.advertise_address),
        };
        tokio::spawn(async move {
            if let Err(e) = crate::host_cmd::start(host).await {
                tracing::error!(error = %e, "the local host stopped: no EC2 instances run here");
            }
        });
    }
    if let Some(options) = local_agent {
        let config = agent_cmd::Connection {
            endpoint: format!("http://{addr}"),
            access_key_id: root.access_key_id,
            secret_access_key: root.secret_access_key,
            region: args.region.clone(),
        };
        let data_dir = args.data_dir.join("agent");
        tokio::spawn(async move {
            if let Err(e) = agent_cmd::start(config, "default".into(), data_dir, options).await {
                tracing::error!(error = %e, "the local agent stopped");
            }
        });
    }
    let stopping = api.clone();
    let shutdown = async move {
        crate::shutdown_signal().await;
        stopping.begin_shutdown();
    };
    // The console's routes are matched before the API's fallback (which dispatches AWS calls).
    let app = berth_api::router(api.clone()).merge(berth_console::router(api));
    berth_api::listener::serve(listener, app, args.listener.limits(), shutdown).await?;
    tracing::info!("berth stopped");
    Ok(())
}

/// Opens the store `--store` names (SQLite in the data dir by default); the etcd store
/// is returned a second time, as itself, for the leader election.
async fn open_store(args: &ServerArgs) -> anyhow::Result<(Arc<dyn berth_store::Store>, Option<EtcdStore>)> {
    match args.store.as_deref().map(EtcdConfig::parse) {
        Some(Some(config)) => {
            let config = config.map_err(anyhow::Error::msg)?;
            let etcd = EtcdStore::connect(&config)
                .await
                .with_context(|| format!("connecting to etcd at {}", config.endpoints.join(",")))?;
            Ok((Arc::new(etcd.clone()), Some(etcd)))
        }
        Some(None) => anyhow::bail!(
            "--store {}: name an etcd cluster as etcd://host:2379,host:2379 (or leave --store out for SQLite in the data dir)",
            args.store.as_deref().unwrap_or_default()
        ),
        None => {
            let path = args.data_dir.join("state.db");
            let store =
                SqliteStore::open(&path).with_context(|| format!("opening the state store at {}", path.display()))?;
            Ok((Arc::new(store), None))
        }
    }
}

/// The control loops: on the one server of a SQLite store, on the elected leader of an
/// etcd one (given an `Ecs` over the fenced store then).
struct Controllers {
    clock: berth_model::metric_clock::MetricClock,
    metrics: Option<Arc<berth_metric_store::MetricStore>>,
    /// The usage samples agents report to this server.
    samples: Arc<std::sync::Mutex<berth_model::ecs_metrics::Minutes>>,
    scope: Scope,
    scale_in_after: std::time::Duration,
    provisioning_timeout: std::time::Duration,
}

impl Controllers {
    fn start(&self, ecs: berth_ecs::Ecs) -> Vec<tokio::task::JoinHandle<()>> {
        let (store, clock) = (ecs.store.clone(), self.clock);
        let mut tasks = vec![
            tokio::spawn(berth_control::task_reaper::run(
                store.clone(),
                berth_control::task_reaper::RETENTION,
                std::time::Duration::from_secs(60),
            )),
            tokio::spawn(berth_control::service_controller::run(ecs.clone(), std::time::Duration::from_secs(1))),
        ];
        let scaler =
            berth_control::app_autoscaling::Scaler { store: store.clone(), metrics: self.metrics.clone(), clock };
        tasks.push(tokio::spawn(scaler.run(std::time::Duration::from_secs(1))));
        if let Some(metrics) = self.metrics.clone() {
            tasks.push(tokio::spawn(berth_control::alarms::run(store.clone(), metrics.clone(), clock)));
            let samples = self.samples.clone();
            tasks.push(tokio::spawn(berth_control::ecs_metrics::run(store.clone(), samples, clock, metrics)));
        }
        tasks.push(tokio::spawn(berth_fleet::controller::run(ecs.clone(), std::time::Duration::from_secs(1))));
        tasks.push(tokio::spawn(berth_control::managed_scaling::run(
            ecs.clone(),
            berth_control::managed_scaling::Settings {
                tick: std::time::Duration::from_secs(1),
                scale_in_after: self.scale_in_after,
                provisioning_timeout: self.provisioning_timeout,
            },
        )));
        tasks.push(tokio::spawn(berth_control::auto_scaling_groups::run(
            store,
            self.scope.clone(),
            std::time::Duration::from_secs(2),
        )));
        tasks
    }
}

/// Checkpoints the metric store (rolling old data up, dropping what is past retention)
/// when its log has grown or an hour has passed; checked every minute.
async fn maintain_metrics(api: Arc<Api>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let Some(store) = api.metrics().cloned() else { return };
        match tokio::task::spawn_blocking(move || store.maintain(berth_metric_store::now_ms())).await {
            Ok(Ok(true)) => tracing::info!("metric store checkpointed"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "checkpointing the metric store failed"),
            Err(e) => tracing::warn!(error = %e, "checkpointing the metric store panicked"),
        }
    }
}

/// Drops log events past their group's retention, hourly (reads hide them meanwhile).
async fn apply_log_retention(api: Arc<Api>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let Some(engine) = api.logs().cloned() else { return };
        match tokio::task::spawn_blocking(move || engine.apply_retention(berth_log_store::now_ms())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(events = n, "log retention applied"),
            Ok(Err(e)) => tracing::warn!(error = %e, "applying log retention failed"),
            Err(e) => tracing::warn!(error = %e, "applying log retention panicked"),
        }
    }
}

/// Holds an exclusive lock on the data dir for as long as the server runs: a second
/// server on the same state would not see the first one's commits (watches, caches).
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = data_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            anyhow::bail!("another berth server is already using the data dir {}", data_dir.display())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}
