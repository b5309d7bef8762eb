//! FARGATE_SPOT interruptions: an administrator reclaims spot capacity and the cluster's
//! spot tasks stop as ECS stops them (stopCode SpotInterruption, "Your Spot Task was
//! interrupted.", SIGTERM then the stop after each container's stopTimeout, which the
//! agent does for any stop); their services start replacements.

use crate::{Ecs, EcsError, load, names, stop};
use berth_model::fargate;

/// Interrupts the FARGATE_SPOT tasks of `cluster` that are not stopping yet (only those
/// named in `only` when it is not empty, by ARN or id). Returns the interrupted ARNs.
pub async fn interrupt(ecs: &Ecs, cluster: &str, only: &[String]) -> Result<Vec<String>, EcsError> {
    let wanted: Vec<String> = only.iter().filter_map(|given| names::task_id(ecs.scope(), cluster, given)).collect();
    let (code, reason) = fargate::spot_interruption();
    let mut out = vec![];
    for doc in load::tasks(ecs, cluster).await? {
        let task = &doc.value.task;
        let id = task.task_arn.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or_default().to_string();
        if !fargate::interruptible(task) || (!only.is_empty() && !wanted.contains(&id)) {
            continue;
        }
        let stopped = stop::request_stop(ecs, cluster, &id, Some(reason), code).await?;
        out.extend(stopped.task_arn);
    }
    Ok(out)
}
