//! Credentials for pulling task images from berth's own registry: as the ECS agent
//! does with ECR, the agent asks the server for a registry token
//! (GetAuthorizationToken, signed with its own key) when an image's registry is the
//! server it talks to, and pulls anonymously otherwise. A task with an execution role
//! asks for the token with that role's credentials (`execution_role`), so the registry
//! authorizes the pull for the role, as ECR does for ECS.

use crate::client::ClientError;
use crate::runtime::RegistryAuth;
use crate::server::Server;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berth_model::agent_protocol::{GetTaskCredentialsRequest, RoleCredentials, TaskRoleKind};

/// The registry part of an image reference (`host[:port]` before the first `/`), as
/// docker reads it: only when it looks like a host (has `.` or `:`, or is localhost).
pub fn registry_of(image: &str) -> Option<&str> {
    let (first, _) = image.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
}

/// `host:port` of an endpoint URL such as `http://127.0.0.1:4566/`.
fn endpoint_host(endpoint: &str) -> &str {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Whether `image` lives in the registry of the server at `endpoint`.
pub fn is_servers_registry(image: &str, endpoint: &str) -> bool {
    registry_of(image).is_some_and(|r| r.eq_ignore_ascii_case(endpoint_host(endpoint)))
}

/// The credentials to pull `image` with: a fresh registry token when the image is in
/// the server's registry (asked as `as_role` when given), else None.
pub async fn for_image(
    server: &dyn Server,
    image: &str,
    as_role: Option<&RoleCredentials>,
) -> Result<Option<RegistryAuth>, ClientError> {
    let endpoint = server.endpoint();
    if !is_servers_registry(image, endpoint) {
        return Ok(None);
    }
    let out = server.get_authorization_token(as_role).await?;
    let token = out
        .authorization_data
        .and_then(|d| d.into_iter().next())
        .and_then(|d| d.authorization_token)
        .ok_or_else(|| ClientError::Protocol("GetAuthorizationToken returned no token".into()))?;
    let decoded = STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ClientError::Protocol("the registry token is not base64 text".into()))?;
    let (username, password) =
        decoded.split_once(':').ok_or_else(|| ClientError::Protocol("the registry token has no ':'".into()))?;
    Ok(Some(RegistryAuth {
        username: username.to_string(),
        password: password.to_string(),
        server: endpoint_host(endpoint).to_string(),
    }))
}

/// The credentials of the execution role of `task_arn` (placed on `instance_arn`).
pub async fn execution_role(
    server: &dyn Server,
    cluster: &str,
    instance_arn: &str,
    task_arn: &str,
) -> Result<RoleCredentials, ClientError> {
    let request = GetTaskCredentialsRequest {
        cluster: cluster.to_string(),
        container_instance: instance_arn.to_string(),
        task_arn: task_arn.to_string(),
        role: TaskRoleKind::Execution,
    };
    Ok(server.get_task_credentials(&request).await?.credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_servers_registry() {
        let endpoint = "http://127.0.0.1:4566";
        assert!(is_servers_registry("127.0.0.1:4566/app:1", endpoint));
        assert!(is_servers_registry("127.0.0.1:4566/team/app@sha256:00", "http://127.0.0.1:4566/"));
        assert!(!is_servers_registry("127.0.0.1:5000/app:1", endpoint));
        assert!(!is_servers_registry("busybox:latest", endpoint));
        assert!(!is_servers_registry("library/busybox", endpoint));
        assert_eq!(registry_of("localhost/x"), Some("localhost"));
        assert_eq!(registry_of("ghcr.io/a/b:1"), Some("ghcr.io"));
    }
}
