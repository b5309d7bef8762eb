//! ReportTaskMetrics: each interval's usage of the instance's running tasks, measured by
//! its agent (`berth_agent::stats`). Each task reported is resolved against its record —
//! only tasks placed on the reporting instance and not yet STOPPED count — and added to
//! the metric minute it arrived in (`Api::ecs_metrics`, published by
//! `berth_control::ecs_metrics`). The answer tells the agent its next interval: a third
//! of the metric minute.

use crate::context::Ctx;
use crate::error::AwsError;
use crate::services::ecs::clusters;
use berth_ecs::names;
use berth_model::agent_protocol::{ReportTaskMetricsRequest, ReportTaskMetricsResponse};
use berth_model::ecs_metrics::{self, TaskSample};
use berth_model::keys;
use berth_model::records::{ContainerInstanceRecord, TaskRecord};
use berth_store::documents;
use std::collections::HashSet;
use std::sync::PoisonError;

pub async fn report(ctx: Ctx, req: ReportTaskMetricsRequest) -> Result<ReportTaskMetricsResponse, AwsError> {
    let cluster = names::cluster_name(ctx.scope(), Some(&req.cluster))?;
    let key =
        names::instance_id(ctx.scope(), &cluster, &req.container_instance).map(|id| keys::instance(&cluster, &id));
    let instance = match key {
        Some(key) => documents::get::<ContainerInstanceRecord>(ctx.store(), &key).await?,
        None => None,
    };
    let Some(instance) = instance else {
        clusters::active(&ctx, &cluster).await?;
        return Err(AwsError::ecs_instance_not_found());
    };
    let clock = ctx.api.metric_clock();
    let minute_ms = i64::try_from(clock.minute().as_millis()).unwrap_or(60_000).max(1);
    let minute = ecs_metrics::minute_of(ecs_metrics::now_ms(), minute_ms);
    let mut seen = HashSet::new();
    let mut samples = vec![];
    for t in &req.tasks {
        let Some(id) = names::task_id(ctx.scope(), &cluster, &t.task_arn) else { continue };
        // Tasks placed elsewhere or already STOPPED (or reported twice) are not counted.
        if !instance.value.reservations.contains_key(&id) || !seen.insert(id.clone()) {
            continue;
        }
        let Some(task) = documents::get::<TaskRecord>(ctx.store(), &keys::task(&cluster, &id)).await? else {
            continue;
        };
        let service = ecs_metrics::service_of(task.value.task.group.as_deref()).map(str::to_string);
        samples.push(TaskSample {
            cluster: cluster.clone(),
            service,
            task_id: id,
            reserved: task.value.placement.reserved,
            cpu_units: t.cpu_units,
            memory_bytes: t.memory_bytes,
            network_rx_bytes: t.network_rx_bytes,
            network_tx_bytes: t.network_tx_bytes,
            interval_ms: t.interval_millis,
        });
    }
    if !samples.is_empty() {
        let mut minutes = ctx.api.ecs_metrics.lock().unwrap_or_else(PoisonError::into_inner);
        for s in samples {
            minutes.add(minute, s);
        }
    }
    Ok(ReportTaskMetricsResponse { interval_millis: u64::try_from(minute_ms / 3).unwrap_or(20_000) })
}
