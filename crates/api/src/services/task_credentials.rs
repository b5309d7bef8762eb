//! The agent protocol's `GetTaskCredentials`: the credentials of a task's task role or
//! execution role, issued only to the agent of the instance the task is placed on. The
//! server assumes the role as ECS does, as the service principal `ecs-tasks.amazonaws.com`
//! (so the role's trust policy must allow that service), with the task id as the session
//! name: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/TASK_ID`.

use super::sts::{self, Assume};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::names;
use berth_model::agent_protocol::{
    GetTaskCredentialsRequest, GetTaskCredentialsResponse, RoleCredentials, TaskRoleKind,
};
use berth_model::keys;
use berth_model::records::{TaskDefinitionRecord, TaskRecord};
use berth_model::task_lifecycle::TaskStatus;
use berth_policy::Principal;
use berth_store::documents;

pub async fn get(ctx: Ctx, req: GetTaskCredentialsRequest) -> Result<GetTaskCredentialsResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let instance = names::instance_id(ctx.scope(), &cluster, &req.container_instance)
        .ok_or_else(AwsError::ecs_instance_not_found)?;
    let id = names::task_id(ctx.scope(), &cluster, &req.task_arn).ok_or_else(AwsError::ecs_task_not_found)?;
    let task = documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id))
        .await?
        // Only the agent running the task gets its credentials, and only while it runs
        // (a Fargate task shows no container instance: its placement names the pool agent).
        .filter(|doc| doc.value.placement.container_instance_id == instance)
        .map(|doc| doc.value.task)
        .filter(|task| TaskStatus::of(task) != TaskStatus::Stopped)
        .ok_or_else(AwsError::ecs_task_not_found)?;
    let td_arn = task.task_definition_arn.clone().unwrap_or_default();
    let wanted = names::task_definition(ctx.scope(), &td_arn)?;
    let td = documents::get::<TaskDefinitionRecord>(
        ctx.store(),
        &keys::taskdef(&wanted.family, wanted.revision.unwrap_or_default()),
    )
    .await?
    .map(|doc| doc.value.task_definition)
    .ok_or_else(|| AwsError::ecs_client(format!("The task definition {td_arn} of the task is gone.")))?;
    let overrides = task.overrides.as_ref();
    let (role_arn, member) = match req.role {
        TaskRoleKind::Task => (overrides.and_then(|o| o.task_role_arn.clone()).or(td.task_role_arn), "taskRoleArn"),
        TaskRoleKind::Execution => {
            (overrides.and_then(|o| o.execution_role_arn.clone()).or(td.execution_role_arn), "executionRoleArn")
        }
    };
    let role_arn = role_arn.ok_or_else(|| AwsError::ecs_client(format!("The task has no {member}.")))?;
    let request =
        Assume { role_arn: &role_arn, session_name: &id, duration_seconds: None, external_id: None, tags: vec![] };
    let (credentials, _, _) = sts::assume(&ctx, Principal::service(berth_model::sts::ECS_TASKS), request).await?;
    Ok(GetTaskCredentialsResponse {
        credentials: RoleCredentials {
            access_key_id: credentials.access_key_id,
            secret_access_key: credentials.secret_access_key,
            token: credentials.session_token,
            expiration: credentials.expiration,
            role_arn,
        },
    })
}
