//! ResolveSecrets: the values a task's containers reference (`secrets`, log
//! `secretOptions`, `repositoryCredentials`), read from Parameter Store and Secrets
//! Manager for one task, answered only to the instance the task is placed on.
//!
//! Every read goes through `authorize`, the one place where "may this task's
//! executionRoleArn read X" is decided, by the evaluator every request goes through.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::names;
use berth_model::agent_protocol::{
    ContainerSecrets, RegistryCredentials, ResolveSecretsRequest, ResolveSecretsResponse, SecretUse,
    env_file_variables, secret_references, secrets_failure,
};
use berth_model::keys;
use berth_model::records::{TaskDefinitionRecord, TaskRecord};
use berth_model::secretsmanager::value_from::{self, Source};
use berth_model::ssm::names::Reference;
use berth_model::task_lifecycle::TaskStatus;
use berth_store::documents;
use std::collections::BTreeMap;

pub async fn resolve(ctx: Ctx, req: ResolveSecretsRequest) -> Result<ResolveSecretsResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let instance = names::instance_id(ctx.scope(), &cluster, &req.container_instance);
    let task = match names::task_id(ctx.scope(), &cluster, &req.task_arn) {
        Some(id) => documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id)).await?,
        None => None,
    };
    // Only the agent the task is placed on learns its secrets, and only while it runs.
    let Some(task) = task
        .map(|d| d.value)
        .filter(|t| Some(&t.placement.container_instance_id) == instance.as_ref())
        .filter(|t| TaskStatus::of(&t.task) != TaskStatus::Stopped)
    else {
        return Err(AwsError::ecs_task_not_found());
    };
    let td_arn = task.task.task_definition_arn.clone().unwrap_or_default();
    let wanted = names::task_definition(ctx.scope(), &td_arn)?;
    let key = keys::taskdef(&wanted.family, wanted.revision.unwrap_or_default());
    let Some(td) = documents::get::<TaskDefinitionRecord>(ctx.store(), &key).await? else {
        return Err(AwsError::ecs_client(format!("The task definition {td_arn} of the task is missing.")));
    };
    let mut containers: BTreeMap<String, ContainerSecrets> = BTreeMap::new();
    let execution_role = task
        .task
        .overrides
        .as_ref()
        .and_then(|o| o.execution_role_arn.clone())
        .or_else(|| td.value.task_definition.execution_role_arn.clone());
    for (container, usage, from) in secret_references(&td.value.task_definition) {
        if usage == SecretUse::EnvironmentFile && from.starts_with("arn:aws:s3:") {
            let detail = format!(
                "environment file {from}: berth has no S3; give the name or ARN of an SSM parameter holding the file"
            );
            return Ok(ResolveSecretsResponse { containers: vec![], failure: Some(secrets_failure(&detail)) });
        }
        let value = match read(&ctx, &task, execution_role.as_deref(), &from).await {
            Ok(v) => v,
            Err(Failure::Refused(detail)) => {
                return Ok(ResolveSecretsResponse { containers: vec![], failure: Some(secrets_failure(&detail)) });
            }
            Err(Failure::Server(e)) => return Err(e),
        };
        let entry = containers
            .entry(container.clone())
            .or_insert_with(|| ContainerSecrets { container_name: container.clone(), ..Default::default() });
        match usage {
            SecretUse::Environment(name) => {
                entry.environment.insert(name, value);
            }
            SecretUse::LogOption(name) => {
                entry.log_options.insert(name, value);
            }
            SecretUse::EnvironmentFile => {
                for (name, value) in env_file_variables(&value) {
                    entry.environment_files.entry(name).or_insert(value);
                }
            }
            SecretUse::RepositoryCredentials => match registry_credentials(&value) {
                Some(c) => entry.repository_credentials = Some(c),
                None => {
                    let detail = format!(
                        "the secret {from} of repositoryCredentials is not a JSON object with \"username\" and \"password\""
                    );
                    return Ok(ResolveSecretsResponse { containers: vec![], failure: Some(secrets_failure(&detail)) });
                }
            },
        }
    }
    Ok(ResolveSecretsResponse { containers: containers.into_values().collect(), failure: None })
}

enum Failure {
    /// Not there, not what the reference says, or not for this task: the task fails.
    Refused(String),
    /// berth could not answer: the agent retries.
    Server(AwsError),
}

/// The value `from` (a valueFrom) names, read for `task` as its execution role.
async fn read(ctx: &Ctx, task: &TaskRecord, execution_role: Option<&str>, from: &str) -> Result<String, Failure> {
    let source = value_from::parse(from).map_err(|e| Failure::Refused(format!("invalid valueFrom: {e}")))?;
    authorize(ctx, task, execution_role, &source).await.map_err(Failure::Refused)?;
    let fail = |service: &str, e: AwsError| {
        if e.status.is_server_error() {
            Failure::Server(e)
        } else {
            Failure::Refused(format!(
                "execution resource retrieval failed: unable to retrieve secret from {service}: {}: {}",
                e.code, e.message
            ))
        }
    };
    match source {
        Source::Parameter(name) => {
            let reference = Reference::parse(ctx.scope(), &name).map_err(|e| fail("ssm", e.into()))?;
            let p = crate::services::ssm::resolve(ctx, &reference, true).await.map_err(|e| fail("ssm", e))?;
            Ok(p.value.unwrap_or_default())
        }
        Source::Secret { secret_id, json_key, version_stage, version_id } => {
            let text = crate::services::secretsmanager::current_text(
                ctx,
                &secret_id,
                version_id.as_deref(),
                version_stage.as_deref(),
            )
            .await
            .map_err(|e| fail("asm", e))?;
            match json_key {
                None => Ok(text),
                Some(key) => value_from::json_key(&text, &key).map_err(|e| {
                    Failure::Refused(format!(
                        "execution resource retrieval failed: unable to retrieve secret from asm: {e}"
                    ))
                }),
            }
        }
    }
}

/// Whether `task` may read `source`: as on ECS, the task's execution role reads its secrets,
/// so its policies must allow `ssm:GetParameters` on the parameter or
/// `secretsmanager:GetSecretValue` on the secret. The role is evaluated as the session the
/// agent would hold (`assumed-role/ROLE/TASK_ID`), by the evaluator every request passes.
async fn authorize(ctx: &Ctx, task: &TaskRecord, execution_role: Option<&str>, source: &Source) -> Result<(), String> {
    let Some(role_arn) = execution_role else {
        return Err("execution resource retrieval failed: the task definition has no executionRoleArn, \
                    and secrets are read with the task execution role's credentials"
            .into());
    };
    let Some(role) = role_arn.strip_prefix(&format!("arn:aws:iam::{}:role/", ctx.scope().account)) else {
        return Err(format!("execution resource retrieval failed: {role_arn} is not a role of this account"));
    };
    let role_name = role.rsplit('/').next().unwrap_or(role);
    let task_id = task.task.task_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default();
    let session = format!("arn:aws:sts::{}:assumed-role/{role_name}/{task_id}", ctx.scope().account);
    // The same resources as the services' own IAM tables name for GetParameters / GetSecretValue.
    let (action, resource) = match source {
        Source::Parameter(name) => ("ssm:GetParameters", crate::services::ssm::access::parameter(ctx.scope(), name)),
        Source::Secret { secret_id, .. } => {
            ("secretsmanager:GetSecretValue", crate::services::secretsmanager::access::secret(ctx.scope(), secret_id))
        }
    };
    crate::authorize::may(&ctx.api, &session, action, &resource, None)
        .await
        .map_err(|denied| format!("execution resource retrieval failed: AccessDeniedException: {denied}"))
}

/// `{"username": ..., "password": ...}`, as ECS reads repositoryCredentials.
fn registry_credentials(secret: &str) -> Option<RegistryCredentials> {
    let doc: serde_json::Value = serde_json::from_str(secret).ok()?;
    Some(RegistryCredentials {
        username: doc.get("username")?.as_str()?.to_string(),
        password: doc.get("password")?.as_str()?.to_string(),
    })
}
