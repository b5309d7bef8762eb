//! Readings from the Docker Engine: the running containers carrying the instance's
//! labels (one list call, whose summaries carry the labels), then one one-shot stats
//! call per container (`stream=false&one-shot=true`: Docker answers at once instead of
//! waiting a second for a second reading; the sampler keeps the previous reading
//! itself), a few at a time.

use super::{Reading, Sample};
use crate::runtime::RuntimeError;
use berth_model::agent_protocol::labels;
use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, StatsOptionsBuilder};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;

/// How many stats calls are in flight at once.
const CONCURRENT: usize = 8;

/// A reading of every running container carrying all of `wanted` labels.
pub async fn sample(docker: &Docker, wanted: &[(&str, &str)]) -> Result<Vec<Sample>, RuntimeError> {
    let filters: HashMap<&str, Vec<String>> = HashMap::from([
        ("label", wanted.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        ("status", vec!["running".to_string()]),
    ]);
    let options = ListContainersOptionsBuilder::default().filters(&filters).build();
    let running = docker.list_containers(Some(options)).await.map_err(|e| RuntimeError::Unavailable(e.to_string()))?;
    let containers = running.into_iter().filter_map(|c| {
        let task_arn = c.labels.as_ref()?.get(labels::TASK_ARN)?.clone();
        Some((c.id?, task_arn))
    });
    let samples = futures::stream::iter(containers)
        .map(|(id, task_arn)| async move {
            let options = StatsOptionsBuilder::default().stream(false).one_shot(true).build();
            // A container that stopped or went away meanwhile is simply not sampled.
            let stats = docker.stats(&id, Some(options)).try_next().await.ok().flatten()?;
            Some(Sample { container_id: id, task_arn, reading: Reading::from_docker(&stats) })
        })
        .buffer_unordered(CONCURRENT)
        .filter_map(std::future::ready)
        .collect()
        .await;
    Ok(samples)
}
