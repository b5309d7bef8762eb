//! The sampling loop: read, compute each task's usage since the previous reading, report
//! it in one call, wait the interval the server's answer names.

use super::reading::{self, Reading};
use crate::runtime::Runtime;
use crate::server::Server;
use berth_model::agent_protocol::{DEFAULT_METRICS_INTERVAL_MILLIS, ReportTaskMetricsRequest, labels};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The interval a server may ask for, bounded so that a bad answer neither floods nor starves it.
const SHORTEST: Duration = Duration::from_millis(200);
const LONGEST: Duration = Duration::from_secs(60);

/// ECS's agent setting that turns task metrics off (`true`), honoured the same way.
pub const DISABLE: &str = "ECS_DISABLE_METRICS";

/// Samples the instance's running containers until the agent stops; returns at once when
/// the runtime has no stats or `ECS_DISABLE_METRICS=true`.
pub async fn run(runtime: Arc<dyn Runtime>, server: Arc<dyn Server>, cluster: String, instance_arn: String) {
    if std::env::var(DISABLE).is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
        tracing::info!("{DISABLE}=true: no task metrics");
        return;
    }
    let mut interval = Duration::from_millis(DEFAULT_METRICS_INTERVAL_MILLIS);
    let mut previous: HashMap<String, Reading> = HashMap::new();
    let mut last = Instant::now();
    // The first report, empty or not, tells the interval.
    let mut told = false;
    loop {
        let samples = match runtime.sample(&[(labels::CONTAINER_INSTANCE, &instance_arn)]).await {
            Ok(Some(samples)) => samples,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(error = %e, "no container stats this interval");
                tokio::time::sleep(interval).await;
                continue;
            }
        };
        let now = Instant::now();
        let tasks = reading::task_metrics(&previous, &samples, now - last);
        last = now;
        previous = samples.into_iter().map(|s| (s.container_id, s.reading)).collect();
        if !tasks.is_empty() || !told {
            let request =
                ReportTaskMetricsRequest { cluster: cluster.clone(), container_instance: instance_arn.clone(), tasks };
            match server.report_task_metrics(&request).await {
                Ok(answer) => {
                    told = true;
                    interval = Duration::from_millis(answer.interval_millis).clamp(SHORTEST, LONGEST);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reporting task metrics failed; the interval's samples are dropped")
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}
