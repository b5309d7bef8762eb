//! What every handler is given: the shared server state and who is calling.

use crate::auth::keyring::Keyring;
use crate::instance_changes::InstanceChanges;
use berth_model::arn::Scope;
use berth_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Server-wide state shared by all requests.
pub struct Api {
    pub store: Arc<dyn Store>,
    /// The region and account every ARN is written in.
    pub scope: Scope,
    /// The access keys requests are verified against.
    pub keyring: Keyring,
    /// When each container instance's agent last polled.
    pub heartbeats: Heartbeats,
    /// Set once the server begins shutting down: long polls answer at once instead of
    /// holding the graceful shutdown for their whole wait.
    shutting_down: tokio::sync::watch::Sender<bool>,
    /// The CloudWatch Logs engine, once the server has opened it (`set_logs`).
    logs: std::sync::OnceLock<Arc<berth_log_store::LogEngine>>,
    /// The image registry (ECR and `/v2`), once the server has opened it.
    registry: OnceLock<Arc<berth_registry::Registry>>,
    /// What the agents' long polls wait on, started by the first poll.
    instance_changes: tokio::sync::OnceCell<Arc<InstanceChanges>>,
}

impl Api {
    pub fn new(store: Arc<dyn Store>, scope: Scope, keyring: Keyring) -> Arc<Self> {
        let shutting_down = tokio::sync::watch::Sender::new(false);
        Arc::new(Self {
            store,
            scope,
            keyring,
            heartbeats: Heartbeats::default(),
            shutting_down,
            logs: std::sync::OnceLock::new(),
            registry: OnceLock::new(),
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

    pub fn begin_shutdown(&self) {
        self.shutting_down.send_replace(true);
    }

    /// Resolves once `begin_shutdown` has been called.
    pub async fn shutdown_begun(&self) {
        let mut rx = self.shutting_down.subscribe();
        let _ = rx.wait_for(|down| *down).await;
    }
}

/// The agents' heartbeats: every PollTasks is one. Kept in memory only: after a server
/// restart every agent shows disconnected until its next poll (at most
/// `agent_protocol::MAX_POLL_WAIT_SECONDS` later).
#[derive(Debug, Default)]
pub struct Heartbeats {
    last: Mutex<HashMap<String, Instant>>,
}

impl Heartbeats {
    /// An agent that polled within this long is `agentConnected`.
    pub const CONNECTED_WITHIN: Duration = Duration::from_secs(60);

    /// Records a poll by the agent of `instance_arn`.
    pub fn beat(&self, instance_arn: &str) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.insert(instance_arn.to_string(), Instant::now());
    }

    /// Whether the agent of `instance_arn` polled within `CONNECTED_WITHIN`.
    pub fn connected(&self, instance_arn: &str) -> bool {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.get(instance_arn).is_some_and(|t| t.elapsed() < Self::CONNECTED_WITHIN)
    }

    /// Forgets an instance (deregistered).
    pub fn forget(&self, instance_arn: &str) {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).remove(instance_arn);
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
    /// The context berth's own control loops act in: the account's root, no request.
    pub fn system(api: Arc<Api>) -> Self {
        let account = api.scope.account.clone();
        let caller = Caller {
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.clone(),
            account,
            access_key_id: None,
        };
        Ctx { api, caller, request_id: String::new(), host: None }
    }

    pub fn store(&self) -> &dyn Store {
        self.api.store.as_ref()
    }

    pub fn scope(&self) -> &Scope {
        &self.api.scope
    }
}
