//! Everything the agent asks of the berth server, behind one trait: berth's HTTP API in
//! production (`http.rs`), a scripted, recording fake in unit tests (`fake.rs`), as
//! `runtime/` does for Docker.

#[cfg(test)]
pub mod fake;
pub mod http;

use crate::client::ClientError;
use async_trait::async_trait;
use berth_model::agent_protocol::{
    GetTaskCredentialsRequest, GetTaskCredentialsResponse, PollTasksRequest, PollTasksResponse,
    ReportTaskMetricsRequest, ReportTaskMetricsResponse, ReportTaskStateRequest, ReportTaskStateResponse,
    ResolveSecretsRequest, ResolveSecretsResponse, RoleCredentials,
};
use berth_model::ecs::{
    CreateClusterRequest, CreateClusterResponse, RegisterContainerInstanceRequest, RegisterContainerInstanceResponse,
};
use berth_model::generated::ecr::GetAuthorizationTokenResponse;
use berth_model::generated::logs::{
    CreateLogGroupRequest, CreateLogStreamRequest, GetLogEventsRequest, GetLogEventsResponse, PutLogEventsRequest,
    PutLogEventsResponse,
};

/// The server's operations the agent calls. A transient error (`is_transient`) means
/// "retry later"; any other is the server's answer.
#[async_trait]
pub trait Server: Send + Sync + 'static {
    /// The server's endpoint URL; its image registry is on the same host.
    fn endpoint(&self) -> &str;

    // ECS: registration.
    async fn create_cluster(&self, request: &CreateClusterRequest) -> Result<CreateClusterResponse, ClientError>;
    async fn register_container_instance(
        &self,
        request: &RegisterContainerInstanceRequest,
    ) -> Result<RegisterContainerInstanceResponse, ClientError>;

    // berth's agent protocol: the long poll and the task reports.
    async fn poll_tasks(&self, request: &PollTasksRequest) -> Result<PollTasksResponse, ClientError>;
    async fn report_task_state(&self, request: &ReportTaskStateRequest)
    -> Result<ReportTaskStateResponse, ClientError>;
    /// The values of a task's secrets, read by the server from Parameter Store and
    /// Secrets Manager for this instance's task.
    async fn resolve_secrets(&self, request: &ResolveSecretsRequest) -> Result<ResolveSecretsResponse, ClientError>;
    /// What the metrics sampler measured of the instance's running tasks (`stats/`).
    async fn report_task_metrics(
        &self,
        request: &ReportTaskMetricsRequest,
    ) -> Result<ReportTaskMetricsResponse, ClientError>;

    // berth's agent protocol: a task's role credentials (task_credentials.rs).
    async fn get_task_credentials(
        &self,
        request: &GetTaskCredentialsRequest,
    ) -> Result<GetTaskCredentialsResponse, ClientError>;

    // ECR: credentials for pulling from the server's registry, asked with the agent's own
    // credentials or, for a task with an execution role, with that role's.
    async fn get_authorization_token(
        &self,
        as_role: Option<&RoleCredentials>,
    ) -> Result<GetAuthorizationTokenResponse, ClientError>;

    // CloudWatch Logs: the awslogs driver.
    async fn create_log_group(&self, request: &CreateLogGroupRequest) -> Result<(), ClientError>;
    async fn create_log_stream(&self, request: &CreateLogStreamRequest) -> Result<(), ClientError>;
    async fn get_log_events(&self, request: &GetLogEventsRequest) -> Result<GetLogEventsResponse, ClientError>;
    async fn put_log_events(&self, request: &PutLogEventsRequest) -> Result<PutLogEventsResponse, ClientError>;
}
