//! The agent's client for the berth API: AWS JSON 1.1 requests, SigV4-signed with the
//! agent's access key like any other AWS client's.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where the server is and who the agent is to it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `http://127.0.0.1:4566`
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or did not answer: retry later.
    #[error("berth server unreachable: {0}")]
    Transport(String),
    /// The server answered with an AWS error.
    #[error("{code}: {message}")]
    Aws { status: u16, code: String, message: String },
    #[error("unexpected response from the server: {0}")]
    Protocol(String),
}

impl ClientError {
    /// Worth retrying as is: the server was unreachable or failed on its side.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Aws { status, .. } => *status >= 500,
            ClientError::Protocol(_) => false,
        }
    }
}

/// The keys a request is signed with.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// Where temporary credentials come from when the agent does not sign with a static key
/// (an EC2 instance's agent signs as its instance profile's role): asked before each
/// request, it refreshes them itself before they expire (`instance_credentials.rs`).
#[async_trait::async_trait]
pub trait CredentialSource: Send + Sync {
    async fn keys(&self) -> Result<SigningKeys, ClientError>;
}

#[derive(Clone)]
pub struct ApiClient {
    config: ClientConfig,
    http: reqwest::Client,
    /// Set when signing with temporary credentials (`acting_as`).
    session_token: Option<String>,
    /// Set when the keys come from a source rather than `config` (`with_source`).
    source: Option<Arc<dyn CredentialSource>>,
}

impl ApiClient {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            // Long polls wait up to 20 s on the server; leave room for the answer.
            .timeout(Duration::from_secs(40))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self { config, http, session_token: None, source: None })
    }

    /// A client signing with the keys `source` gives (the static keys of `config` unused).
    pub fn with_source(config: ClientConfig, source: Arc<dyn CredentialSource>) -> Result<Self, ClientError> {
        Ok(Self { source: Some(source), ..Self::new(config)? })
    }

    /// The same client signing with temporary credentials (a task's execution role).
    pub fn acting_as(&self, access_key_id: &str, secret_access_key: &str, session_token: &str) -> ApiClient {
        let config = ClientConfig {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            ..self.config.clone()
        };
        ApiClient { config, http: self.http.clone(), session_token: Some(session_token.to_string()), source: None }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Calls `<target_prefix>.<operation>` with `input` and decodes the output (signed
    /// for service `ecs`).
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        target_prefix: &str,
        operation: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        self.call_service("ecs", target_prefix, operation, input).await
    }

    /// `call` for another AWS service: `service` is the SigV4 signing name (`logs`).
    pub async fn call_service<I: Serialize, O: DeserializeOwned>(
        &self,
        service: &str,
        target_prefix: &str,
        operation: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        let body = serde_json::to_vec(input).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let url = format!("{}/", self.config.endpoint.trim_end_matches('/'));
        let target = format!("{target_prefix}.{operation}");
        let keys = match &self.source {
            Some(source) => source.keys().await?,
            None => SigningKeys {
                access_key_id: self.config.access_key_id.clone(),
                secret_access_key: self.config.secret_access_key.clone(),
                session_token: self.session_token.clone(),
            },
        };
        let headers = self.sign(&keys, service, &url, &target, &body)?;
        let mut request = self.http.post(&url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if status == 200 {
            return serde_json::from_slice(&bytes)
                .map_err(|e| ClientError::Protocol(format!("{operation} response: {e}")));
        }
        let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = error["__type"].as_str().unwrap_or("UnknownError");
        Err(ClientError::Aws {
            status,
            code: code.rsplit('#').next().unwrap_or(code).to_string(),
            message: error["message"].as_str().unwrap_or("").to_string(),
        })
    }

    /// The headers of a SigV4-signed AWS JSON 1.1 request for `service`.
    fn sign(
        &self,
        keys: &SigningKeys,
        service: &str,
        url: &str,
        target: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, ClientError> {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| ClientError::Protocol(format!("bad endpoint {url}")))?
            .to_string();
        let headers =
            [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target), ("host", host.as_str())];
        let identity: Identity = Credentials::new(
            &keys.access_key_id,
            &keys.secret_access_key,
            keys.session_token.clone(),
            None,
            "berth-agent",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?
            .into();
        let signable = SignableRequest::new("POST", url, headers.iter().copied(), SignableBody::Bytes(body))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| ClientError::Protocol(e.to_string()))?.into_parts();
        let mut out: Vec<(String, String)> =
            headers.iter().filter(|(k, _)| *k != "host").map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
        Ok(out)
    }
}
