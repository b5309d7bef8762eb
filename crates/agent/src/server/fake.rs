//! An in-memory `Server` for unit tests of the agent: it records every call it gets in
//! order (with the tokio time it came at, so a paused clock shows the agent's backoffs
//! and waits), serves the poll answers a test scripts, and can be away (every call a
//! transport error, as when the server is down) until the test brings it back.
//!
//! Like a real long poll, `poll_tasks` waits while no scripted answer is queued.

use super::Server;
use crate::client::ClientError;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berth_model::agent_protocol::{
    GetTaskCredentialsRequest, GetTaskCredentialsResponse, PollTasksRequest, PollTasksResponse,
    ReportTaskMetricsRequest, ReportTaskMetricsResponse, ReportTaskStateRequest, ReportTaskStateResponse,
    ResolveSecretsRequest, ResolveSecretsResponse, RoleCredentials, TaskRoleKind,
};
use berth_model::ecs::{
    ContainerInstance, CreateClusterRequest, CreateClusterResponse, RegisterContainerInstanceRequest,
    RegisterContainerInstanceResponse,
};
use berth_model::generated::ecr::{AuthorizationData, GetAuthorizationTokenResponse};
use berth_model::generated::logs::{
    CreateLogGroupRequest, CreateLogStreamRequest, GetLogEventsRequest, GetLogEventsResponse, PutLogEventsRequest,
    PutLogEventsResponse,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::time::Instant;

pub const ENDPOINT: &str = "http://berth.test:4566";
/// The password of the registry token the fake hands out (user `AWS`, as ECR's).
pub const REGISTRY_PASSWORD: &str = "fake-registry-token";

/// One call the agent made.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    CreateCluster(CreateClusterRequest),
    RegisterContainerInstance(RegisterContainerInstanceRequest),
    PollTasks(PollTasksRequest),
    ReportTaskState(ReportTaskStateRequest),
    ResolveSecrets(ResolveSecretsRequest),
    ReportTaskMetrics(ReportTaskMetricsRequest),
    GetTaskCredentials(GetTaskCredentialsRequest),
    /// With the access key id of the role credentials it was asked with, if any.
    GetAuthorizationToken(Option<String>),
    CreateLogGroup(CreateLogGroupRequest),
    CreateLogStream(CreateLogStreamRequest),
    GetLogEvents(GetLogEventsRequest),
    PutLogEvents(PutLogEventsRequest),
}

/// A call as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub at: Instant,
    pub call: Call,
    /// False when the server was away and the call failed.
    pub answered: bool,
}

/// Cheap to clone: clones share one state, so a test keeps a handle while the agent owns
/// another (as `Arc<dyn Server>`).
#[derive(Debug, Clone)]
pub struct FakeServer {
    inner: Arc<Mutex<Inner>>,
    /// Wakes the long polls waiting for a scripted answer.
    polls: Arc<Notify>,
}

#[derive(Debug)]
struct Inner {
    instance_arn: String,
    received: Vec<Received>,
    answers: VecDeque<PollTasksResponse>,
    away: bool,
    revision: i64,
    /// What ResolveSecrets answers (nothing resolved unless a test scripts it).
    secrets: ResolveSecretsResponse,
}

impl FakeServer {
    /// A server that registers the agent as `instance_arn`.
    pub fn new(instance_arn: &str) -> Self {
        let inner = Inner {
            instance_arn: instance_arn.to_string(),
            received: vec![],
            answers: VecDeque::new(),
            away: false,
            revision: 0,
            secrets: ResolveSecretsResponse::default(),
        };
        Self { inner: Arc::new(Mutex::new(inner)), polls: Arc::new(Notify::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock has failed already; keep going so
        // its other assertions still report.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every call so far, answered or not, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The task reports the server took, in order.
    pub fn reports(&self) -> Vec<ReportTaskStateRequest> {
        self.received()
            .into_iter()
            .filter(|r| r.answered)
            .filter_map(|r| match r.call {
                Call::ReportTaskState(report) => Some(report),
                _ => None,
            })
            .collect()
    }

    /// The lastStatus of each report the server took, in order.
    pub fn statuses(&self) -> Vec<String> {
        self.reports().into_iter().map(|r| r.last_status).collect()
    }

    /// While away, every call fails as unreachable (and is still recorded).
    pub fn set_away(&self, away: bool) {
        self.lock().away = away;
    }

    /// Queues the answer to a coming poll: the instance ACTIVE with exactly `tasks`.
    pub fn answer_poll(&self, tasks: Vec<berth_model::agent_protocol::TaskAssignment>) {
        self.queue(|revision| PollTasksResponse { revision, instance_status: "ACTIVE".into(), tasks });
    }

    /// Queues the answer that the instance was deregistered: the agent stops.
    /// Scripts ResolveSecrets' answer.
    pub fn answer_secrets(&self, answer: ResolveSecretsResponse) {
        self.lock().secrets = answer;
    }

    pub fn answer_deregistered(&self) {
        self.queue(|revision| PollTasksResponse { revision, instance_status: "INACTIVE".into(), tasks: vec![] });
    }

    fn queue(&self, answer: impl FnOnce(i64) -> PollTasksResponse) {
        let mut inner = self.lock();
        inner.revision += 1;
        let answer = answer(inner.revision);
        inner.answers.push_back(answer);
        drop(inner);
        self.polls.notify_waiters();
    }

    /// Records the call; Err when the server is away.
    fn receive(&self, call: Call) -> Result<(), ClientError> {
        let mut inner = self.lock();
        let answered = !inner.away;
        inner.received.push(Received { at: Instant::now(), call, answered });
        if answered { Ok(()) } else { Err(ClientError::Transport("connection refused (fake server away)".into())) }
    }
}

#[async_trait]
impl Server for FakeServer {
    fn endpoint(&self) -> &str {
        ENDPOINT
    }

    async fn create_cluster(&self, request: &CreateClusterRequest) -> Result<CreateClusterResponse, ClientError> {
        self.receive(Call::CreateCluster(request.clone()))?;
        Ok(CreateClusterResponse::default())
    }

    /// Answers the instance ARN the fake was made with.
    async fn register_container_instance(
        &self,
        request: &RegisterContainerInstanceRequest,
    ) -> Result<RegisterContainerInstanceResponse, ClientError> {
        self.receive(Call::RegisterContainerInstance(request.clone()))?;
        let arn = self.lock().instance_arn.clone();
        let instance = ContainerInstance { container_instance_arn: Some(arn), ..Default::default() };
        Ok(RegisterContainerInstanceResponse { container_instance: Some(instance) })
    }

    async fn poll_tasks(&self, request: &PollTasksRequest) -> Result<PollTasksResponse, ClientError> {
        self.receive(Call::PollTasks(request.clone()))?;
        loop {
            // Registered before looking, so an answer queued in between is not missed.
            let queued = self.polls.notified();
            if let Some(answer) = self.lock().answers.pop_front() {
                return Ok(answer);
            }
            queued.await;
        }
    }

    async fn report_task_state(
        &self,
        request: &ReportTaskStateRequest,
    ) -> Result<ReportTaskStateResponse, ClientError> {
        self.receive(Call::ReportTaskState(request.clone()))?;
        Ok(ReportTaskStateResponse::default())
    }

    async fn resolve_secrets(&self, request: &ResolveSecretsRequest) -> Result<ResolveSecretsResponse, ClientError> {
        self.receive(Call::ResolveSecrets(request.clone()))?;
        Ok(self.lock().secrets.clone())
    }

    async fn report_task_metrics(
        &self,
        request: &ReportTaskMetricsRequest,
    ) -> Result<ReportTaskMetricsResponse, ClientError> {
        self.receive(Call::ReportTaskMetrics(request.clone()))?;
        Ok(ReportTaskMetricsResponse { interval_millis: 1000 })
    }

    /// Credentials named after the task (`AKID-<task id>`, secret `secret-<task id>`), for
    /// a role `arn:aws:iam::000000000000:role/<role kind>`, valid for an hour.
    async fn get_task_credentials(
        &self,
        request: &GetTaskCredentialsRequest,
    ) -> Result<GetTaskCredentialsResponse, ClientError> {
        self.receive(Call::GetTaskCredentials(request.clone()))?;
        let task = request.task_arn.rsplit('/').next().unwrap_or_default();
        let kind = match request.role {
            TaskRoleKind::Task => "task",
            TaskRoleKind::Execution => "execution",
        };
        Ok(GetTaskCredentialsResponse {
            credentials: RoleCredentials {
                access_key_id: format!("AKID-{task}"),
                secret_access_key: format!("secret-{task}"),
                token: format!("token-{task}"),
                expiration: berth_model::Timestamp(berth_model::Timestamp::now().as_secs_f64() + 3600.0),
                role_arn: format!("arn:aws:iam::000000000000:role/{kind}"),
            },
        })
    }

    async fn get_authorization_token(
        &self,
        as_role: Option<&RoleCredentials>,
    ) -> Result<GetAuthorizationTokenResponse, ClientError> {
        self.receive(Call::GetAuthorizationToken(as_role.map(|c| c.access_key_id.clone())))?;
        let data = AuthorizationData {
            authorization_token: Some(STANDARD.encode(format!("AWS:{REGISTRY_PASSWORD}"))),
            ..Default::default()
        };
        Ok(GetAuthorizationTokenResponse { authorization_data: Some(vec![data]) })
    }

    async fn create_log_group(&self, request: &CreateLogGroupRequest) -> Result<(), ClientError> {
        self.receive(Call::CreateLogGroup(request.clone()))
    }

    async fn create_log_stream(&self, request: &CreateLogStreamRequest) -> Result<(), ClientError> {
        self.receive(Call::CreateLogStream(request.clone()))
    }

    async fn get_log_events(&self, request: &GetLogEventsRequest) -> Result<GetLogEventsResponse, ClientError> {
        self.receive(Call::GetLogEvents(request.clone()))?;
        Ok(GetLogEventsResponse::default())
    }

    async fn put_log_events(&self, request: &PutLogEventsRequest) -> Result<PutLogEventsResponse, ClientError> {
        self.receive(Call::PutLogEvents(request.clone()))?;
        Ok(PutLogEventsResponse::default())
    }
}
