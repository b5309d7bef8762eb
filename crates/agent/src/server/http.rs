//! `Server` over berth's HTTP API: each operation one SigV4-signed AWS JSON request
//! through `ApiClient`, under the target prefix and signing name of its service.

use super::Server;
use crate::client::{ApiClient, ClientError};
use async_trait::async_trait;
use berth_model::agent_protocol::{
    self, GetTaskCredentialsRequest, GetTaskCredentialsResponse, PollTasksRequest, PollTasksResponse,
    ReportTaskMetricsRequest, ReportTaskMetricsResponse, ReportTaskStateRequest, ReportTaskStateResponse,
    ResolveSecretsRequest, ResolveSecretsResponse, RoleCredentials,
};
use berth_model::ecs::{
    CreateClusterRequest, CreateClusterResponse, RegisterContainerInstanceRequest, RegisterContainerInstanceResponse,
};
use berth_model::generated::ecr::{GetAuthorizationTokenRequest, GetAuthorizationTokenResponse};
use berth_model::generated::logs::{
    CreateLogGroupRequest, CreateLogStreamRequest, GetLogEventsRequest, GetLogEventsResponse, PutLogEventsRequest,
    PutLogEventsResponse,
};

const ECS: &str = "AmazonEC2ContainerServiceV20141113";
const ECR: &str = "AmazonEC2ContainerRegistry_V20150921";
const LOGS: &str = "Logs_20140328";
/// The SigV4 signing names of ECR and CloudWatch Logs (ECS and the agent protocol sign as `ecs`).
const ECR_SERVICE: &str = "ecr";
const LOGS_SERVICE: &str = "logs";

#[async_trait]
impl Server for ApiClient {
    fn endpoint(&self) -> &str {
        &self.config().endpoint
    }

    async fn create_cluster(&self, request: &CreateClusterRequest) -> Result<CreateClusterResponse, ClientError> {
        self.call(ECS, "CreateCluster", request).await
    }

    async fn register_container_instance(
        &self,
        request: &RegisterContainerInstanceRequest,
    ) -> Result<RegisterContainerInstanceResponse, ClientError> {
        self.call(ECS, "RegisterContainerInstance", request).await
    }

    async fn poll_tasks(&self, request: &PollTasksRequest) -> Result<PollTasksResponse, ClientError> {
        self.call(agent_protocol::TARGET_PREFIX, "PollTasks", request).await
    }

    async fn report_task_state(
        &self,
        request: &ReportTaskStateRequest,
    ) -> Result<ReportTaskStateResponse, ClientError> {
        self.call(agent_protocol::TARGET_PREFIX, "ReportTaskState", request).await
    }

    async fn resolve_secrets(&self, request: &ResolveSecretsRequest) -> Result<ResolveSecretsResponse, ClientError> {
        self.call(agent_protocol::TARGET_PREFIX, "ResolveSecrets", request).await
    }

    async fn report_task_metrics(
        &self,
        request: &ReportTaskMetricsRequest,
    ) -> Result<ReportTaskMetricsResponse, ClientError> {
        self.call(agent_protocol::TARGET_PREFIX, "ReportTaskMetrics", request).await
    }

    async fn get_task_credentials(
        &self,
        request: &GetTaskCredentialsRequest,
    ) -> Result<GetTaskCredentialsResponse, ClientError> {
        self.call(agent_protocol::TARGET_PREFIX, "GetTaskCredentials", request).await
    }

    async fn get_authorization_token(
        &self,
        as_role: Option<&RoleCredentials>,
    ) -> Result<GetAuthorizationTokenResponse, ClientError> {
        let request = GetAuthorizationTokenRequest::default();
        match as_role {
            Some(c) => {
                let client = self.acting_as(&c.access_key_id, &c.secret_access_key, &c.token);
                client.call_service(ECR_SERVICE, ECR, "GetAuthorizationToken", &request).await
            }
            None => self.call_service(ECR_SERVICE, ECR, "GetAuthorizationToken", &request).await,
        }
    }

    async fn create_log_group(&self, request: &CreateLogGroupRequest) -> Result<(), ClientError> {
        let _: serde_json::Value = self.call_service(LOGS_SERVICE, LOGS, "CreateLogGroup", request).await?;
        Ok(())
    }

    async fn create_log_stream(&self, request: &CreateLogStreamRequest) -> Result<(), ClientError> {
        let _: serde_json::Value = self.call_service(LOGS_SERVICE, LOGS, "CreateLogStream", request).await?;
        Ok(())
    }

    async fn get_log_events(&self, request: &GetLogEventsRequest) -> Result<GetLogEventsResponse, ClientError> {
        self.call_service(LOGS_SERVICE, LOGS, "GetLogEvents", request).await
    }

    async fn put_log_events(&self, request: &PutLogEventsRequest) -> Result<PutLogEventsResponse, ClientError> {
        self.call_service(LOGS_SERVICE, LOGS, "PutLogEvents", request).await
    }
}
