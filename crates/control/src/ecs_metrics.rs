//! Publishes ECS's CloudWatch metrics every metric minute: the minutes of agents' task
//! samples that have ended (`Api::ecs_metrics`, filled by ReportTaskMetrics) and, from
//! the store, each ACTIVE cluster's view (registered and reserved resources, task and
//! service counts, its containerInsights setting), turned into datapoints by
//! `berth_model::ecs_metrics::points` (pure) and put into the metric store. A minute is
//! published even when no agent reported, so reservation and task counts are always there.
//!
//! Samples are held in memory until their minute ends: a crash loses at most the minute
//! being collected (like ECS's, these metrics are measurements, not acknowledged writes).

use berth_metric_store::{Datum, MetricId, MetricStore, Value};
use berth_model::capacity_provider::CapacityProviderRecord;
use berth_model::ecs::{Cluster, ClusterSettingName};
use berth_model::ecs_metrics::{self, ClusterView, Minutes, Point};
use berth_model::keys;
use berth_model::metric_clock::MetricClock;
use berth_model::records::{ContainerInstanceRecord, ServiceRecord, TaskRecord};
use berth_model::task_lifecycle::TaskStatus;
use berth_store::{Store, StoreError, documents};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Runs forever: at each metric minute's end, publishes it.
pub async fn run(store: Arc<dyn Store>, minutes: Arc<Mutex<Minutes>>, clock: MetricClock, metrics: Arc<MetricStore>) {
    let minute_ms = i64::try_from(clock.minute().as_millis()).unwrap_or(60_000).max(1);
    loop {
        let (next, wait) = ecs_metrics::next_minute(ecs_metrics::now_ms(), minute_ms);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let mut ended = minutes.lock().unwrap_or_else(PoisonError::into_inner).take_before(next);
        if ended.last().is_none_or(|(m, _)| *m != next - minute_ms) {
            ended.push((next - minute_ms, vec![]));
        }
        let clusters = match views(store.as_ref()).await {
            Ok(clusters) => clusters,
            Err(e) => {
                tracing::warn!(error = %e, "ECS metrics: the clusters are unreadable; this minute is not published");
                continue;
            }
        };
        let datums: Vec<Datum> = ended
            .iter()
            .flat_map(|(minute, tasks)| ecs_metrics::points(*minute, tasks, &clusters))
            .map(datum)
            .collect();
        put(&metrics, datums).await;
    }
}

/// Puts `datums` (a blocking, fsynced write) off the async threads.
pub async fn put(metrics: &Arc<MetricStore>, datums: Vec<Datum>) {
    if datums.is_empty() {
        return;
    }
    let metrics = metrics.clone();
    match tokio::task::spawn_blocking(move || metrics.put(&datums)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "publishing metrics failed"),
        Err(e) => tracing::warn!(error = %e, "publishing metrics failed"),
    }
}

/// Where a publisher elsewhere (the load balancers' thread) sends its datapoints: each
/// batch is put from a task of the caller's runtime.
pub fn publish_to(metrics: Arc<MetricStore>) -> Arc<dyn Fn(Vec<Point>) + Send + Sync> {
    Arc::new(move |points: Vec<Point>| {
        let metrics = metrics.clone();
        tokio::spawn(async move { put(&metrics, points.into_iter().map(datum).collect()).await });
    })
}

/// A pure datapoint as the metric store takes it (standard resolution).
pub fn datum(p: Point) -> Datum {
    let Point { namespace, metric, dimensions, timestamp_ms, stats, unit } = p;
    Datum {
        id: MetricId::new(namespace, metric, dimensions),
        timestamp_ms,
        value: Value::Stats { sum: stats.sum, min: stats.min, max: stats.max, count: stats.count },
        unit: Some(unit.to_string()),
        storage_resolution: 60,
    }
}

/// Every ACTIVE cluster as the metrics see it now.
async fn views(store: &dyn Store) -> Result<BTreeMap<String, ClusterView>, StoreError> {
    let mut out = BTreeMap::new();
    for doc in documents::list_decodable::<Cluster>(store, keys::CLUSTERS).await? {
        let cluster = doc.value;
        let Some(name) = cluster.cluster_name.clone().filter(|_| cluster.is_active()) else { continue };
        let setting = cluster.settings.iter().flatten().find(|s| s.name == Some(ClusterSettingName::ContainerInsights));
        let mut view = ClusterView {
            insights: ecs_metrics::insights_enabled(setting.and_then(|s| s.value.as_deref())),
            ..Default::default()
        };
        for i in documents::list_decodable::<ContainerInstanceRecord>(store, &keys::instances_of(&name)).await? {
            let i = i.value;
            if matches!(i.status(), ContainerInstanceRecord::ACTIVE | ContainerInstanceRecord::DRAINING) {
                view.registered.add(&i.registered);
                view.reserved.add(&i.reserved());
            }
        }
        for s in documents::list_decodable::<ServiceRecord>(store, &keys::services_of(&name)).await? {
            let service = s.value.service;
            if let (Some(n), Some("ACTIVE")) = (service.service_name, service.status.as_deref()) {
                view.services.entry(n).or_default().desired = i64::from(service.desired_count.unwrap_or(0));
            }
        }
        for t in documents::list_decodable::<TaskRecord>(store, &keys::tasks_of(&name)).await? {
            let t = t.value;
            let status = TaskStatus::of(&t.task);
            let (running, pending) = (i64::from(status == TaskStatus::Running), i64::from(status.is_pending()));
            view.running += running;
            view.pending += pending;
            let Some(s) = ecs_metrics::service_of(t.task.group.as_deref()).and_then(|s| view.services.get_mut(s))
            else {
                continue;
            };
            s.running += running;
            s.pending += pending;
            if running > 0 {
                s.reserved.add(&t.placement.reserved);
            }
        }
        for provider in cluster.capacity_providers.iter().flatten() {
            let key = keys::capacity_provider(provider);
            // A provider record that cannot be read only leaves its metric out of this minute.
            if let Ok(Some(doc)) = documents::get::<CapacityProviderRecord>(store, &key).await
                && let Some(reservation) = doc.value.last_reservation
            {
                view.provider_reservations.insert(provider.clone(), reservation);
            }
        }
        out.insert(name, view);
    }
    Ok(out)
}
