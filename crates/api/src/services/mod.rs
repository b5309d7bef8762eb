//! One module per AWS service, plus berth's own agent protocol (`agent`). JSON services
//! are found by their X-Amz-Target prefix, query services by the form's `Version`.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::query::{self, Params};

pub mod agent;
pub mod cloudwatch_logs;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod secretsmanager;
pub mod ssm;
pub mod sts;

pub async fn call_json(ctx: Ctx, prefix: &str, op: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    match prefix {
        ecs::TARGET_PREFIX => ecs::call(ctx, op, body).await,
        ecr::TARGET_PREFIX => ecr::call(ctx, op, body).await,
        cloudwatch_logs::TARGET_PREFIX => cloudwatch_logs::call(ctx, op, body).await,
        ssm::TARGET_PREFIX => ssm::call(ctx, op, body).await,
        secretsmanager::TARGET_PREFIX => secretsmanager::call(ctx, op, body).await,
        berth_model::agent_protocol::TARGET_PREFIX => agent::call(ctx, op, body).await,
        _ => Err(AwsError::unknown_operation(&format!("{prefix}.{op}"))),
    }
}

/// Query services share action names (elbv2 and autoscaling both have DescribeTags),
/// so the form's `Version` says which service is meant. Each answers its result XML,
/// wrapped here in `<ActionResponse>` with its namespace.
pub async fn call_query(ctx: Ctx, params: &Params) -> Result<String, AwsError> {
    let action = params.action().unwrap_or_default();
    let request_id = ctx.request_id.clone();
    let (xmlns, result) = match params.version() {
        Some(sts::VERSION) => (sts::XMLNS, sts::call(ctx, action).await?),
        Some(elbv2::VERSION) => (elbv2::XMLNS, elbv2::call(ctx, action, params).await?),
        _ => return Err(AwsError::invalid_action(action)),
    };
    Ok(query::encode_response(action, xmlns, &request_id, &result))
}
