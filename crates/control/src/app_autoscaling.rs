//! Application Auto Scaling's scaler: every second, for each scalable target, it reads
//! the service's desired count and the alarms the target's policies act on, asks the pure
//! `berth_model::application_autoscaling::plan::step` what to do, sets the desired count
//! through `berth_ecs::desired_count` (UpdateService's path) and records the activities,
//! cooldowns and scheduled runs with compare-and-swap. Edge-triggered: a policy an alarm
//! invoked on its change to ALARM (`berth_model::cloudwatch::action`; the evaluator's or
//! SetAlarmState's) acts on the next step even if the alarm has left ALARM since. And
//! level-triggered: an alarm still in ALARM acts again once its cooldown allows, as
//! CloudWatch re-invokes a scaling action each period while the alarm stays in ALARM.

use berth_metric_store::{MetricId, MetricStore};
use berth_model::Timestamp;
use berth_model::application_autoscaling::plan::{self, AlarmView, Plan};
use berth_model::application_autoscaling::records::TargetRecord;
use berth_model::application_autoscaling::resource::ServiceId;
use berth_model::application_autoscaling::zone::{self, Zone};
use berth_model::application_autoscaling::{ScalingActivity, ScalingActivityStatusCode, keys};
use berth_model::cloudwatch::action::{self, Invocation};
use berth_model::cloudwatch::alarm::{AlarmMetric, AlarmRecord, AlarmStat};
use berth_model::cloudwatch::{StateValue, Statistic};
use berth_model::metric_clock::MetricClock;
use berth_model::records::ServiceRecord;
use berth_store::Store;
use berth_store::documents::{self, Change};
use std::sync::Arc;
use std::time::Duration;

pub struct Scaler {
    pub store: Arc<dyn Store>,
    pub metrics: Option<Arc<MetricStore>>,
    pub clock: MetricClock,
}

impl Scaler {
    /// Steps every target every `interval`, forever; errors are logged and retried.
    pub async fn run(self, interval: Duration) {
        loop {
            if let Err(e) = self.step_all().await {
                tracing::warn!(error = %e, "application auto scaling step failed");
            }
            tokio::time::sleep(interval).await;
        }
    }

    pub async fn step_all(&self) -> Result<(), documents::DocumentError> {
        let prefix = keys::TARGETS;
        let targets = documents::list_decodable::<TargetRecord>(self.store.as_ref(), prefix).await?;
        // The policies alarms invoked since the last step (a state change to ALARM, by the
        // evaluator or SetAlarmState), taken even when no target is left to run them.
        let invoked =
            berth_cloudwatch::alarms::pending_invocations(self.store.as_ref()).await.map_err(document_error)?;
        let mut views: Vec<AlarmView> = invoked.iter().filter_map(|(_, i)| i.as_ref()).map(invoked_view).collect();
        if !targets.is_empty() {
            // Level-triggered too: an alarm still in ALARM acts again once its cooldown allows.
            let alarms = berth_cloudwatch::list_alarms(self.store.as_ref()).await.map_err(document_error)?;
            for a in &alarms {
                if a.alarm_actions.iter().any(|arn| action::is_scaling_policy(arn)) {
                    views.push(self.view(a).await);
                }
            }
            for doc in targets {
                self.step(&doc.value, &views).await?;
            }
        }
        let taken: Vec<String> = invoked.into_iter().map(|(key, _)| key).collect();
        berth_cloudwatch::alarms::take_invocations(self.store.as_ref(), &taken).await.map_err(document_error)
    }

    async fn step(&self, rec: &TargetRecord, alarms: &[AlarmView]) -> Result<(), documents::DocumentError> {
        let Ok(service) = ServiceId::parse(&rec.target.resource_id) else { return Ok(()) };
        let key = berth_model::keys::service(&service.cluster, &service.service);
        let Some(svc) = documents::get::<ServiceRecord>(self.store.as_ref(), &key).await? else { return Ok(()) };
        let current = svc.value.service.desired_count.unwrap_or(0);
        let now = Timestamp::now().as_secs_f64();
        let mine: Vec<AlarmView> = alarms
            .iter()
            .filter(|a| rec.policies.iter().any(|p| a.alarm_actions.contains(&p.policy.policy_arn)))
            .cloned()
            .collect();
        let plan = plan::step(rec, current, &mine, now, &zone_of);
        if plan.is_empty() {
            return Ok(());
        }
        let mut outcome = None;
        if let Some(n) = plan.capacity {
            outcome = Some(
                berth_ecs::desired_count::set(self.store.as_ref(), &service.cluster, &service.service, n)
                    .await
                    .map_err(|e| documents::DocumentError::Contended { key: e.to_string() })?,
            );
        }
        let failed = matches!(outcome, Some(Err(_)));
        let activities: Vec<ScalingActivity> = plan.activities.iter().map(|a| activity(rec, a, now, failed)).collect();
        let target_key = keys::target("ecs", rec.target.scalable_dimension.as_str(), &rec.target.resource_id);
        documents::modify(self.store.as_ref(), &target_key, |current: Option<TargetRecord>| {
            let Some(mut fresh) = current else { return Ok::<_, documents::DocumentError>((Change::Keep, ())) };
            apply(&mut fresh, &plan, &activities, now);
            Ok((Change::Put(fresh), ()))
        })
        .await?;
        for a in &activities {
            tracing::info!(resource = %rec.target.resource_id, description = %a.description, cause = %a.cause, "scaling activity");
        }
        Ok(())
    }

    /// An alarm as the plan sees it: its latest values from its StateReasonData's
    /// `recentDatapoints`, else from the metric store (single-metric alarms).
    async fn view(&self, a: &AlarmRecord) -> AlarmView {
        let mut values = recent_datapoints(a.state.reason_data.as_deref());
        if values.is_empty()
            && let (AlarmMetric::Single(m), Some(store)) = (&a.metric, self.metrics.clone())
            && let AlarmStat::Statistic(stat) = m.stat
        {
            let id = MetricId::new(
                m.namespace.clone(),
                m.metric_name.clone(),
                m.dimensions.iter().map(|d| (d.name.clone(), d.value.clone())).collect(),
            );
            let period = self.clock.real(i64::from(m.period));
            let end = berth_metric_store::now_ms();
            let start = end - 3 * period.as_millis() as i64;
            let buckets = tokio::task::spawn_blocking(move || store.query(&id, None, start, end, period))
                .await
                .unwrap_or_default();
            values = buckets
                .iter()
                .map(|b| match stat {
                    Statistic::Average => b.average(),
                    Statistic::Sum => b.sum,
                    Statistic::Minimum => b.min,
                    Statistic::Maximum => b.max,
                    Statistic::SampleCount => b.count,
                })
                .collect();
        }
        AlarmView {
            name: a.name.clone(),
            in_alarm: a.state.value == StateValue::Alarm,
            actions_enabled: a.actions_enabled,
            alarm_actions: a.alarm_actions.clone(),
            threshold: a.threshold.unwrap_or(0.0),
            values,
        }
    }
}

fn document_error(e: berth_cloudwatch::AlarmsError) -> documents::DocumentError {
    match e {
        berth_cloudwatch::AlarmsError::Store(e) => e,
        other => documents::DocumentError::Contended { key: other.to_string() },
    }
}

/// An invoked policy as the plan sees its alarm: in ALARM, with the datapoints of the
/// state change that invoked it.
fn invoked_view(i: &Invocation) -> AlarmView {
    AlarmView {
        name: i.alarm_name.clone(),
        in_alarm: true,
        actions_enabled: true,
        alarm_actions: vec![i.action_arn.clone()],
        threshold: i.threshold.unwrap_or(0.0),
        values: recent_datapoints(i.reason_data.as_deref()),
    }
}

/// The values of AWS's StateReasonData `{"recentDatapoints": [..]}`, oldest first.
fn recent_datapoints(reason_data: Option<&str>) -> Vec<f64> {
    let Some(data) = reason_data.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()) else { return vec![] };
    data.get("recentDatapoints")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default()
}

/// The zone of a Timezone; None when it cannot be read (the action waits).
fn zone_of(name: Option<&str>) -> Option<Zone> {
    zone::load(name).ok()
}

fn activity(rec: &TargetRecord, a: &plan::NewActivity, now: f64, failed: bool) -> ScalingActivity {
    let (status_code, status_message) = if failed && a.description.starts_with("Setting desired count") {
        (
            ScalingActivityStatusCode::Failed,
            "Failed to set desired count: the ECS service is not an ACTIVE replica service.".to_string(),
        )
    } else {
        (ScalingActivityStatusCode::Successful, a.status_message.clone())
    };
    ScalingActivity {
        activity_id: uuid::Uuid::new_v4().to_string(),
        service_namespace: rec.target.service_namespace,
        resource_id: rec.target.resource_id.clone(),
        scalable_dimension: rec.target.scalable_dimension,
        description: a.description.clone(),
        cause: a.cause.clone(),
        start_time: Timestamp(now),
        end_time: Some(Timestamp::now()),
        status_code,
        status_message: Some(status_message),
        details: None,
        not_scaled_reasons: None,
    }
}

/// What a plan changes in the stored target (applied to the freshest copy).
fn apply(rec: &mut TargetRecord, plan: &Plan, activities: &[ScalingActivity], now: f64) {
    if let Some((min, max)) = plan.bounds {
        rec.target.min_capacity = min;
        rec.target.max_capacity = max;
    }
    if plan.bounds_handled {
        rec.bounds_changed = None;
    }
    if let Some(c) = &plan.cooldown {
        rec.cooldown = c.clone();
    }
    for name in &plan.policies_acted {
        if let Some(p) = rec.policies.iter_mut().find(|p| &p.policy.policy_name == name) {
            p.last_action = Some(Timestamp(now));
        }
    }
    for (name, at) in &plan.scheduled_runs {
        if let Some(s) = rec.scheduled.iter_mut().find(|s| &s.action.scheduled_action_name == name) {
            s.last_run = Some(Timestamp(*at));
        }
    }
    for a in activities {
        rec.record(a.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_datapoints_from_state_reason_data() {
        let data = r#"{"version":"1.0","queryDate":"x","recentDatapoints":[91.0,95.5],"threshold":70.0}"#;
        assert_eq!(recent_datapoints(Some(data)), [91.0, 95.5]);
        assert!(recent_datapoints(Some("not json")).is_empty());
        assert!(recent_datapoints(None).is_empty());
    }

    #[test]
    fn zones_from_the_system_or_utc() {
        assert_eq!(zone_of(None), Some(Zone::utc()));
        assert_eq!(zone_of(Some("UTC")), Some(Zone::utc()));
        assert_eq!(zone_of(Some("../../etc/passwd")), None);
    }
}
