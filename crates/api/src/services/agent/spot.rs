//! `InterruptSpotTasks`: an administrator reclaims FARGATE_SPOT capacity in a cluster
//! (`berth fargate-spot-interrupt`); berth-ecs's `spot` stops the tasks as ECS does.

use super::super::ecs::clusters;
use crate::context::Ctx;
use crate::error::AwsError;
use berth_ecs::names;
use berth_model::fargate::{InterruptSpotTasksRequest, InterruptSpotTasksResponse};

pub async fn interrupt(ctx: Ctx, req: InterruptSpotTasksRequest) -> Result<InterruptSpotTasksResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    clusters::active(&ctx, &cluster).await?;
    let task_arns = berth_ecs::spot::interrupt(ctx.ecs(), &cluster, &req.tasks).await?;
    tracing::info!(cluster = %cluster, tasks = task_arns.len(), "FARGATE_SPOT capacity reclaimed");
    Ok(InterruptSpotTasksResponse { task_arns })
}
