//! A task's secrets, as the ECS agent handles them: before anything is pulled the agent
//! asks the server (ResolveSecrets) for the values the task definition references; they
//! become the containers' environment variables (`secrets`), log driver options
//! (`secretOptions`) and pull credentials (`repositoryCredentials`). A value that cannot
//! be read fails the task with ECS's ResourceInitializationError. Values are kept only
//! in memory and never logged.

use crate::registry_auth::registry_of;
use crate::runtime::RegistryAuth;
use crate::server::Server;
use berth_model::agent_protocol::{ContainerSecrets, ResolveSecretsRequest, secret_references, secrets_failure};
use berth_model::ecs::TaskDefinition;
use std::time::Duration;

/// How often a transient failure (the server away) is retried before the task fails.
const ATTEMPTS: u32 = 4;

/// The resolved values of one task, by container.
#[derive(Debug, Default)]
pub struct Resolved {
    containers: Vec<ContainerSecrets>,
}

/// Resolves the task's secrets; a task definition without any needs no call. The error
/// is the task's stoppedReason.
pub async fn resolve(
    server: &dyn Server,
    cluster: &str,
    instance_arn: &str,
    task_arn: &str,
    td: &TaskDefinition,
) -> Result<Resolved, String> {
    if secret_references(td).is_empty() {
        return Ok(Resolved::default());
    }
    let request = ResolveSecretsRequest {
        cluster: cluster.to_string(),
        container_instance: instance_arn.to_string(),
        task_arn: task_arn.to_string(),
    };
    let mut backoff = Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        match server.resolve_secrets(&request).await {
            Ok(answer) => {
                return match answer.failure {
                    Some(reason) => Err(reason),
                    None => Ok(Resolved { containers: answer.containers }),
                };
            }
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!(error = %e, "resolving the task's secrets failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(e) => return Err(secrets_failure(&e.to_string())),
        }
    }
    Err(secrets_failure("the server did not answer"))
}

impl Resolved {
    fn of(&self, container: &str) -> Option<&ContainerSecrets> {
        self.containers.iter().find(|c| c.container_name == container)
    }

    /// `NAME=value` for each of the container's `secrets`.
    pub fn env(&self, container: &str) -> Vec<String> {
        self.of(container).map(|c| c.environment.iter().map(|(k, v)| format!("{k}={v}")).collect()).unwrap_or_default()
    }

    /// `NAME=value` for each variable of the container's `environmentFiles` that `defined`
    /// (its environment so far, `NAME=value` each) does not set: as on ECS, a container's
    /// `environment` wins over its env files.
    pub fn env_files(&self, container: &str, defined: &[String]) -> Vec<String> {
        let set = |name: &str| defined.iter().any(|kv| kv.split_once('=').is_some_and(|(k, _)| k == name));
        let Some(resolved) = self.of(container) else { return vec![] };
        resolved.environment_files.iter().filter(|(k, _)| !set(k)).map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// The container's repositoryCredentials, for pulling `image`.
    pub fn registry_auth(&self, container: &str, image: &str) -> Option<RegistryAuth> {
        let creds = self.of(container)?.repository_credentials.as_ref()?;
        Some(RegistryAuth {
            username: creds.username.clone(),
            password: creds.password.clone(),
            server: registry_of(image).unwrap_or("docker.io").to_string(),
        })
    }

    /// Adds each container's resolved `secretOptions` to its log configuration's options
    /// (the agent's copy of the definition, which goes nowhere else).
    pub fn apply_log_options(&self, td: &mut TaskDefinition) {
        for def in td.container_definitions.iter_mut().flatten() {
            let (Some(name), Some(log)) = (def.name.as_deref(), def.log_configuration.as_mut()) else { continue };
            let Some(resolved) = self.of(name) else { continue };
            let options = log.options.get_or_insert_with(Default::default);
            options.extend(resolved.log_options.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::agent_protocol::RegistryCredentials;
    use berth_model::ecs::{ContainerDefinition, LogConfiguration, LogDriver};

    fn resolved() -> Resolved {
        Resolved {
            containers: vec![ContainerSecrets {
                container_name: "app".into(),
                environment: [("A".to_string(), "1".to_string()), ("B".to_string(), "x=y".to_string())].into(),
                log_options: [("token".to_string(), "t0k".to_string())].into(),
                repository_credentials: Some(RegistryCredentials { username: "u".into(), password: "p".into() }),
                environment_files: [("A".to_string(), "file".to_string()), ("F".to_string(), "2".to_string())].into(),
            }],
        }
    }

    #[test]
    fn env_files_fill_in_what_the_environment_does_not_set() {
        let r = resolved();
        assert_eq!(r.env_files("app", &["A=defined".to_string()]), vec!["F=2"]);
        assert_eq!(r.env_files("app", &[]), vec!["A=file", "F=2"]);
        assert!(r.env_files("other", &[]).is_empty());
    }

    #[test]
    fn values_land_where_ecs_puts_them() {
        let r = resolved();
        assert_eq!(r.env("app"), vec!["A=1", "B=x=y"]);
        assert!(r.env("other").is_empty());
        assert_eq!(r.registry_auth("app", "ghcr.io/team/app:1").map(|a| a.server), Some("ghcr.io".into()));
        assert_eq!(r.registry_auth("app", "team/app:1").map(|a| a.server), Some("docker.io".into()));
        assert!(r.registry_auth("other", "team/app:1").is_none());
        let log = LogConfiguration {
            log_driver: LogDriver::Awslogs,
            options: Some([("awslogs-group".to_string(), "g".to_string())].into()),
            secret_options: None,
        };
        let mut td = TaskDefinition {
            container_definitions: Some(vec![
                ContainerDefinition { name: Some("app".into()), log_configuration: Some(log), ..Default::default() },
                ContainerDefinition { name: Some("side".into()), ..Default::default() },
            ]),
            ..Default::default()
        };
        r.apply_log_options(&mut td);
        let defs = td.container_definitions.unwrap();
        let options = defs[0].log_configuration.as_ref().unwrap().options.clone().unwrap();
        assert_eq!(options.get("token").map(String::as_str), Some("t0k"));
        assert_eq!(options.get("awslogs-group").map(String::as_str), Some("g"));
        assert!(defs[1].log_configuration.is_none());
    }
}
