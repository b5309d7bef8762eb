//! What every handler is given: the shared server state and who is calling.

use crate::auth::keyring::Keyring;
use crate::authorize::PolicyCache;
use crate::instance_changes::InstanceChanges;
use berth_ecs::Ecs;
use berth_model::arn::Scope;
use berth_store::Store;
use std::sync::{Arc, OnceLock};

/// Server-wide state shared by all requests.
pub struct Api {
    pub store: Arc<dyn Store>,
    /// The region and account every ARN is written in.
    pub scope: Scope,
    /// The access keys requests are verified against.
    pub keyring: Keyring,
    /// ECS's domain operations over the same store and scope (and the agents'
    /// heartbeats), shared with the control loops.
    pub ecs: Ecs,
    /// Principals' parsed policies, for authorization (`authorize`).
    pub policies: Arc<PolicyCache>,
    /// The agents' task metrics of the current metric minutes (ReportTaskMetrics), until
    /// `berth_control::ecs_metrics` publishes them.
    pub ecs_metrics: Arc<std::sync::Mutex<berth_model::ecs_metrics::Minutes>>,
    /// Set once the server begins shutting down: long polls answer at once instead of
    /// holding the graceful shutdown for their whole wait.
    shutting_down: tokio::sync::watch::Sender<bool>,
    /// The CloudWatch Logs engine, once the server has opened it (`set_logs`).
    logs: std::sync::OnceLock<Arc<berth_log_store::LogEngine>>,
    /// The image registry (ECR and `/v2`), once the server has opened it.
    registry: OnceLock<Arc<berth_registry::Registry>>,
    /// CloudWatch's datapoints, once the server has opened the store (`set_metrics`).
    metrics: OnceLock<Arc<berth_metric_store::MetricStore>>,
    /// How long a metric-time minute lasts (`--metric-minute-seconds`; AWS's by default).
    metric_clock: OnceLock<berth_model::metric_clock::MetricClock>,
    /// What the agents' long polls wait on, started by the first poll.
    instance_changes: tokio::sync::OnceCell<Arc<InstanceChanges>>,
}

impl Api {
    pub fn new(store: Arc<dyn Store>, scope: Scope, keyring: Keyring) -> Arc<Self> {
        let shutting_down = tokio::sync::watch::Sender::new(false);
        Arc::new(Self {
            ecs: Ecs::new(store.clone(), scope.clone()),
            store,
            scope,
            keyring,
            policies: Arc::default(),
            ecs_metrics: Arc::default(),
            shutting_down,
            logs: std::sync::OnceLock::new(),
            registry: OnceLock::new(),
            metrics: OnceLock::new(),
            metric_clock: OnceLock::new(),
            instance_changes: tokio::sync::OnceCell::new(),
        })
    }

    /// Which container instances changed when (one store watch for every poll).
    pub(crate) async fn instance_changes(&self) -> Result<&Arc<InstanceChanges>, berth_store::StoreError> {
        self.instance_changes.get_or_try_init(|| InstanceChanges::start(self.store.as_ref())).await
    }

    /// Serves the CloudWatch Logs API from `engine` (set once, at start-up).
    pub fn set_logs(&self, engine: Arc<berth_log_store::LogEngine>) {
        let _ = self.logs.set(engine);
    }

    pub fn logs(&self) -> Option<&Arc<berth_log_store::LogEngine>> {
        self.logs.get()
    }

    /// Serves `registry` as ECR and on `/v2` (attach before building the router).
    pub fn attach_registry(&self, registry: Arc<berth_registry::Registry>) {
        let _ = self.registry.set(registry);
    }

    pub fn registry(&self) -> Option<&Arc<berth_registry::Registry>> {
        self.registry.get()
    }

    /// Serves CloudWatch's metrics from `store` (set once, at start-up).
    pub fn set_metrics(&self, store: Arc<berth_metric_store::MetricStore>) {
        let _ = self.metrics.set(store);
    }

    pub fn metrics(&self) -> Option<&Arc<berth_metric_store::MetricStore>> {
        self.metrics.get()
    }

    /// Sets the metric clock (set once, at start-up; AWS's 60-second minute otherwise).
    pub fn set_metric_clock(&self, clock: berth_model::metric_clock::MetricClock) {
        let _ = self.metric_clock.set(clock);
    }

    pub fn metric_clock(&self) -> berth_model::metric_clock::MetricClock {
        self.metric_clock.get().copied().unwrap_or_default()
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.send_replace(true);
    }

    /// Resolves once `begin_shutdown` has been called.
    pub async fn shutdown_begun(&self) {
        let mut rx = self.shutting_down.subscribe();
        let _ = rx.wait_for(|down| *down).await;
    }
}

/// The identity a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    /// `arn:aws:iam::ACCOUNT:root` for the root credential.
    pub arn: String,
    pub user_id: String,
    /// The access key the request was signed with.
    pub access_key_id: Option<String>,
}

/// One request's context: cheap to clone, so handlers take it by value.
#[derive(Clone)]
pub struct Ctx {
    pub api: Arc<Api>,
    pub caller: Caller,
    pub request_id: String,
    /// The request's Host header: where clients reach this server (ECR's repositoryUri).
    pub host: Option<String>,
}

impl Ctx {
    pub fn store(&self) -> &dyn Store {
        self.api.store.as_ref()
    }

    pub fn scope(&self) -> &Scope {
        &self.api.scope
    }

    pub fn ecs(&self) -> &Ecs {
        &self.api.ecs
    }
}
