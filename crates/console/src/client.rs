//! The console's way to the service layer: each read and action is the API operation itself,
//! run in process as the signed-in caller (`berth_api::in_process`), so the same handlers,
//! rules and IAM policies decide it as for the `aws` CLI.

use berth_api::error::AwsError;
use berth_api::{Api, Caller};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::Arc;

/// The JSON services the console reads, by their `X-Amz-Target` prefixes.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Ecs,
    Logs,
    Ecr,
    ApplicationAutoScaling,
}

impl Service {
    fn target_prefix(self) -> &'static str {
        match self {
            Service::Ecs => "AmazonEC2ContainerServiceV20141113",
            Service::Logs => "Logs_20140328",
            Service::Ecr => "AmazonEC2ContainerRegistry_V20150921",
            Service::ApplicationAutoScaling => "AnyScaleFrontendService",
        }
    }
}

/// One request's caller, ready to ask operations.
#[derive(Clone)]
pub struct Client {
    pub api: Arc<Api>,
    pub caller: Caller,
    pub peer: Option<IpAddr>,
}

impl Client {
    /// Runs `operation` of `service` with `input`: its typed output, or the API's error.
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        service: Service,
        operation: &str,
        input: &I,
    ) -> Result<O, AwsError> {
        let body = serde_json::to_vec(input).map_err(|_| AwsError::internal("InternalFailure"))?;
        let target = format!("{}.{operation}", service.target_prefix());
        let answer = berth_api::in_process::call_json(&self.api, &self.caller, &target, &body, self.peer).await?;
        serde_json::from_slice(&answer).map_err(|e| {
            tracing::error!(error = %e, operation, "the console could not read an API answer");
            AwsError::internal("InternalFailure")
        })
    }

    pub async fn ecs<I: Serialize, O: DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, AwsError> {
        self.call(Service::Ecs, operation, input).await
    }
}

impl Client {
    /// Every name a paged ECS list operation returns: `request` builds each page's input from
    /// the previous page's token, `page` reads a page's names and next token.
    pub async fn list_all<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: &str,
        request: impl Fn(Option<String>) -> I,
        page: impl Fn(O) -> (Option<Vec<String>>, Option<String>),
    ) -> Result<Vec<String>, AwsError> {
        let mut names = vec![];
        let mut next_token = None;
        loop {
            let (found, next) = page(self.ecs(operation, &request(next_token)).await?);
            names.extend(found.unwrap_or_default());
            match next {
                Some(token) => next_token = Some(token),
                None => return Ok(names),
            }
        }
    }
}
