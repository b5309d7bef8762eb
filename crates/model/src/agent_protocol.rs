//! What the berth agent and the server say to each other, beyond ECS's public operations.
//!
//! The agent registers with ECS's own `RegisterContainerInstance` and may report with
//! `SubmitTaskStateChange`; these two operations (JSON 1.1, `X-Amz-Target:
//! BerthAgent_V1.<Op>`, SigV4-signed like every request) carry what ECS's agent gets
//! over its private channels: the tasks to run, and everything the agent observed.
//!
//! The exchange is level-triggered: every poll answers with the whole desired state of
//! the instance, so an agent that missed a response, restarted, or reconnected after
//! an outage simply reconciles against the next one.

use crate::Timestamp;
use crate::ecs::{Attachment, Container, HealthStatus, Task, TaskDefinition, TaskStopCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const TARGET_PREFIX: &str = "BerthAgent_V1";

/// The longest a poll may wait for a change before answering with the unchanged state.
pub const MAX_POLL_WAIT_SECONDS: u32 = 20;

/// `PollTasks`: the agent's long poll, and its heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollTasksRequest {
    pub cluster: String,
    /// The container instance ARN `RegisterContainerInstance` returned.
    #[serde(rename = "containerInstance")]
    pub container_instance: String,
    /// The `revision` of the previous response: the server answers as soon as anything
    /// of this instance changed after it, or after `waitSeconds`. Absent: at once.
    #[serde(rename = "afterRevision", default, skip_serializing_if = "Option::is_none")]
    pub after_revision: Option<i64>,
    #[serde(rename = "waitSeconds", default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollTasksResponse {
    /// The store revision this state was read at; pass it back as `afterRevision`.
    pub revision: i64,
    /// The container instance's status (ACTIVE, DRAINING, INACTIVE after deregistration:
    /// an INACTIVE instance's agent stops asking).
    #[serde(rename = "instanceStatus")]
    pub instance_status: String,
    /// Every task placed on the instance that the agent has not yet reported STOPPED.
    pub tasks: Vec<TaskAssignment>,
}

/// A task the instance should run (desiredStatus RUNNING) or stop (STOPPED), with the
/// exact task definition revision it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAssignment {
    pub task: Task,
    #[serde(rename = "taskDefinition")]
    pub task_definition: TaskDefinition,
}

/// `ReportTaskState`: what the agent observed of one task. The server keeps what it
/// owns (desiredStatus, createdAt, overrides...) and takes the rest from the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportTaskStateRequest {
    pub cluster: String,
    #[serde(rename = "taskArn")]
    pub task_arn: String,
    /// PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING or STOPPED.
    #[serde(rename = "lastStatus")]
    pub last_status: String,
    #[serde(rename = "stopCode", default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<TaskStopCode>,
    #[serde(rename = "stoppedReason", default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    #[serde(rename = "healthStatus", default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<HealthStatus>,
    #[serde(rename = "pullStartedAt", default, skip_serializing_if = "Option::is_none")]
    pub pull_started_at: Option<Timestamp>,
    #[serde(rename = "pullStoppedAt", default, skip_serializing_if = "Option::is_none")]
    pub pull_stopped_at: Option<Timestamp>,
    #[serde(rename = "startedAt", default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(rename = "executionStoppedAt", default, skip_serializing_if = "Option::is_none")]
    pub execution_stopped_at: Option<Timestamp>,
    /// Each container as observed: name, runtimeId, lastStatus, exitCode, reason,
    /// networkBindings, networkInterfaces, healthStatus, imageDigest.
    #[serde(default)]
    pub containers: Vec<Container>,
    /// The task's network attachment (awsvpc: its ENI-like interface and IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportTaskStateResponse {
    /// The store revision after the report was applied.
    pub revision: i64,
}

/// `ResolveSecrets`: the values a task's containers need before they are created (their
/// `secrets`, logConfiguration `secretOptions` and `repositoryCredentials`), read by the
/// server from Parameter Store and Secrets Manager for that task only, and only for the
/// instance the task is placed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveSecretsRequest {
    pub cluster: String,
    #[serde(rename = "containerInstance")]
    pub container_instance: String,
    #[serde(rename = "taskArn")]
    pub task_arn: String,
}

#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResolveSecretsResponse {
    /// Every container with something resolved, by name.
    #[serde(default)]
    pub containers: Vec<ContainerSecrets>,
    /// Set when a value could not be read: the task's stoppedReason
    /// (`ResourceInitializationError: unable to pull secrets or registry auth: ...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// One container's resolved values. Debug shows names only: values never reach a log.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerSecrets {
    #[serde(rename = "containerName")]
    pub container_name: String,
    /// `secrets`: environment variable name → value.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// logConfiguration `secretOptions`: log driver option → value.
    #[serde(rename = "logOptions", default)]
    pub log_options: BTreeMap<String, String>,
    #[serde(rename = "repositoryCredentials", default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RegistryCredentials>,
    /// `environmentFiles`: the variables of the container's env files, merged (the first
    /// file naming a variable wins).
    #[serde(rename = "environmentFiles", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_files: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for ResolveSecretsResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolveSecretsResponse")
            .field("containers", &self.containers)
            .field("failure", &self.failure)
            .finish()
    }
}

impl std::fmt::Debug for ContainerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerSecrets")
            .field("container_name", &self.container_name)
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("log_options", &self.log_options.keys().collect::<Vec<_>>())
            .field("repository_credentials", &self.repository_credentials.as_ref().map(|_| "<redacted>"))
            .field("environment_files", &self.environment_files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistryCredentials(<redacted>)")
    }
}

/// What a container of a task definition asks to have resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretUse {
    Environment(String),
    LogOption(String),
    RepositoryCredentials,
    /// An `environmentFiles` entry: ECS reads these from S3, which berth has not; berth reads
    /// them from an SSM parameter (name or ARN) whose value is the file's text.
    EnvironmentFile,
}

/// Every value a task definition's containers reference: (container, use, valueFrom).
pub fn secret_references(td: &TaskDefinition) -> Vec<(String, SecretUse, String)> {
    let mut out = vec![];
    for c in td.container_definitions.iter().flatten() {
        let name = c.name.clone().unwrap_or_default();
        for s in c.secrets.iter().flatten() {
            out.push((name.clone(), SecretUse::Environment(s.name.clone()), s.value_from.clone()));
        }
        for s in c.log_configuration.iter().flat_map(|l| l.secret_options.iter().flatten()) {
            out.push((name.clone(), SecretUse::LogOption(s.name.clone()), s.value_from.clone()));
        }
        if let Some(r) = &c.repository_credentials {
            out.push((name.clone(), SecretUse::RepositoryCredentials, r.credentials_parameter.clone()));
        }
        for f in c.environment_files.iter().flatten() {
            out.push((name.clone(), SecretUse::EnvironmentFile, f.value.clone()));
        }
    }
    out
}

/// The variables of an env file as ECS reads them: `NAME=VALUE` lines, the value taken as
/// written (no quotes or escapes processed, `=` allowed in it); blank lines and lines starting
/// with `#` are skipped, as are lines without `=` or with an empty name.
pub fn env_file_variables(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// The stoppedReason of a task whose secrets could not be read, as ECS words it.
pub fn secrets_failure(detail: &str) -> String {
    format!("ResourceInitializationError: unable to pull secrets or registry auth: {detail}")
}

/// `GetTaskCredentials`: temporary credentials of one of a task's roles, for a task placed on
/// the asking instance. The server assumes the role as `ecs-tasks.amazonaws.com` (the
/// role's trust policy must allow that service, as in AWS), with the task id as the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetTaskCredentialsRequest {
    pub cluster: String,
    #[serde(rename = "containerInstance")]
    pub container_instance: String,
    #[serde(rename = "taskArn")]
    pub task_arn: String,
    pub role: TaskRoleKind,
}

/// Which of a task's roles: `taskRoleArn` (for its containers) or `executionRoleArn` (for
/// the agent: image pulls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskRoleKind {
    #[serde(rename = "task")]
    Task,
    #[serde(rename = "execution")]
    Execution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetTaskCredentialsResponse {
    pub credentials: RoleCredentials,
}

/// A role session's credentials, with the member names of the container credentials
/// endpoint every AWS SDK reads (`Expiration` here as epoch seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleCredentials {
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    pub secret_access_key: String,
    #[serde(rename = "Token")]
    pub token: String,
    #[serde(rename = "Expiration")]
    pub expiration: Timestamp,
    #[serde(rename = "RoleArn")]
    pub role_arn: String,
}

/// `ReportTaskMetrics`: what the agent's sampler measured of each running task over its
/// last sampling interval (Docker's stats), one call per interval for all the instance's tasks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportTaskMetricsRequest {
    pub cluster: String,
    #[serde(rename = "containerInstance")]
    pub container_instance: String,
    pub tasks: Vec<TaskMetrics>,
}

/// One task's usage over one interval, summed over its containers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskMetrics {
    #[serde(rename = "taskArn")]
    pub task_arn: String,
    /// CPU units used on average over the interval (1024 = one core); absent when no
    /// container had an earlier sample to measure from.
    #[serde(rename = "cpuUnits", default, skip_serializing_if = "Option::is_none")]
    pub cpu_units: Option<f64>,
    /// Memory in use now, as `docker stats` counts it (usage minus the inactive file cache).
    #[serde(rename = "memoryBytes", default)]
    pub memory_bytes: u64,
    /// Bytes moved during the interval.
    #[serde(rename = "networkRxBytes", default)]
    pub network_rx_bytes: u64,
    #[serde(rename = "networkTxBytes", default)]
    pub network_tx_bytes: u64,
    #[serde(rename = "storageReadBytes", default)]
    pub storage_read_bytes: u64,
    #[serde(rename = "storageWriteBytes", default)]
    pub storage_write_bytes: u64,
    /// How long the interval was.
    #[serde(rename = "intervalMillis", default)]
    pub interval_millis: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportTaskMetricsResponse {
    /// How long the agent waits before its next sample: a third of the server's metric minute.
    #[serde(rename = "intervalMillis")]
    pub interval_millis: u64,
}

/// The sampling interval an agent uses until the server has told it one (a third of AWS's minute).
pub const DEFAULT_METRICS_INTERVAL_MILLIS: u64 = 20_000;

/// Docker labels on every container the agent creates. The first five are the ECS
/// agent's own, so tools that read them keep working; the last two let a restarted
/// agent find its containers (and no other agent's) again.
pub mod labels {
    pub const CLUSTER: &str = "com.amazonaws.ecs.cluster";
    pub const TASK_ARN: &str = "com.amazonaws.ecs.task-arn";
    pub const CONTAINER_NAME: &str = "com.amazonaws.ecs.container-name";
    pub const TASK_DEFINITION_FAMILY: &str = "com.amazonaws.ecs.task-definition-family";
    pub const TASK_DEFINITION_VERSION: &str = "com.amazonaws.ecs.task-definition-version";
    /// The container instance ARN the container belongs to.
    pub const CONTAINER_INSTANCE: &str = "dev.berth.container-instance";
    /// "pause" on the network-holding container of an awsvpc task; absent otherwise.
    pub const ROLE: &str = "dev.berth.role";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::{ContainerDefinition, LogConfiguration, LogDriver, RepositoryCredentials, Secret};

    #[test]
    fn env_files_are_read_as_ecs_reads_them() {
        let text = "# comment\nA=1\n\n  # indented comment\nB=x=y\nC=\"quoted\"\r\nnoequals\n=novalue\n D =spaced\n";
        let vars = env_file_variables(text);
        let want = [("A", "1"), ("B", "x=y"), ("C", "\"quoted\""), ("D", "spaced")];
        assert_eq!(vars, want.map(|(k, v)| (k.to_string(), v.to_string())));
    }

    #[test]
    fn lists_every_reference_and_never_debugs_values() {
        let secret = |n: &str, v: &str| Secret { name: n.into(), value_from: v.into() };
        let td = TaskDefinition {
            container_definitions: Some(vec![ContainerDefinition {
                name: Some("app".into()),
                secrets: Some(vec![secret("DB", "/app/db")]),
                log_configuration: Some(LogConfiguration {
                    log_driver: LogDriver::Awslogs,
                    options: None,
                    secret_options: Some(vec![secret("token", "/log/token")]),
                }),
                repository_credentials: Some(RepositoryCredentials { credentials_parameter: "arn:reg".into() }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(
            secret_references(&td),
            vec![
                ("app".into(), SecretUse::Environment("DB".into()), "/app/db".into()),
                ("app".into(), SecretUse::LogOption("token".into()), "/log/token".into()),
                ("app".into(), SecretUse::RepositoryCredentials, "arn:reg".into()),
            ]
        );
        let c = ContainerSecrets {
            container_name: "app".into(),
            environment: [("DB".to_string(), "hunter2".to_string())].into(),
            log_options: Default::default(),
            repository_credentials: Some(RegistryCredentials { username: "u".into(), password: "pw-hunter3".into() }),
            environment_files: [("FROM_FILE".to_string(), "hunter4".to_string())].into(),
        };
        let shown = format!("{:?}", ResolveSecretsResponse { containers: vec![c], failure: None });
        assert!(shown.contains("DB") && shown.contains("FROM_FILE"), "{shown}");
        assert!(!shown.contains("hunter2") && !shown.contains("hunter3") && !shown.contains("hunter4"), "{shown}");
    }
}
