//! Creating, replacing, deleting and changing the state of alarms, each with its history
//! item in the same store transaction.

use crate::history;
use berth_model::cloudwatch::action::{self, Invocation};
use berth_model::cloudwatch::alarm::{AlarmRecord, AlarmState, HistoryRecord};
use berth_model::cloudwatch::{CwError, keys};
use berth_store::documents::{self, Doc, DocumentError};
use berth_store::{Compare, Store, Txn};

#[derive(Debug, thiserror::Error)]
pub enum AlarmsError {
    #[error(transparent)]
    Cw(#[from] CwError),
    #[error(transparent)]
    Store(#[from] DocumentError),
}

impl From<berth_store::StoreError> for AlarmsError {
    fn from(e: berth_store::StoreError) -> Self {
        AlarmsError::Store(e.into())
    }
}

pub async fn get_alarm(store: &dyn Store, name: &str) -> Result<Option<AlarmRecord>, AlarmsError> {
    Ok(documents::get::<AlarmRecord>(store, &keys::alarm(name)).await?.map(|d| d.value))
}

/// Every alarm, in name order.
pub async fn list_alarms(store: &dyn Store) -> Result<Vec<AlarmRecord>, AlarmsError> {
    Ok(documents::list::<AlarmRecord>(store, keys::ALARMS).await?.into_iter().map(|d| d.value).collect())
}

/// Writes `alarm` (from `berth_model::cloudwatch::alarm::validate`), creating it or
/// replacing the configuration of the alarm of that name, whose state is kept (as AWS
/// does: an update does not reset the state; the next evaluation moves it) and whose tags
/// are kept when the request gives none. Records "created" / "updated" in its history.
pub async fn put_alarm(store: &dyn Store, mut alarm: AlarmRecord) -> Result<AlarmRecord, AlarmsError> {
    let key = keys::alarm(&alarm.name);
    for _ in 0..documents::MAX_ATTEMPTS {
        let current = documents::get::<AlarmRecord>(store, &key).await?;
        let seen = current.as_ref().map_or(0, |d| d.mod_revision);
        if let Some(Doc { value: old, .. }) = &current {
            alarm.state = old.state.clone();
            if alarm.tags.is_empty() {
                alarm.tags = old.tags.clone();
            }
        }
        let item = history::configuration(&alarm, current.is_none(), alarm.configuration_updated_ms);
        if commit(store, &key, seen, &alarm, &[item]).await? {
            return Ok(alarm);
        }
    }
    Err(DocumentError::Contended { key }.into())
}

/// Changes an existing alarm with `change` (compare-and-swap, retried on conflicts);
/// when the state value changes, the history gets "Alarm updated from X to Y". `change`
/// returns false to leave the alarm as it is. ResourceNotFound when there is no alarm.
pub async fn update_alarm(
    store: &dyn Store,
    name: &str,
    mut change: impl FnMut(&mut AlarmRecord) -> Result<bool, CwError>,
) -> Result<AlarmRecord, AlarmsError> {
    let key = keys::alarm(name);
    for _ in 0..documents::MAX_ATTEMPTS {
        let Some(Doc { value: old, mod_revision }) = documents::get::<AlarmRecord>(store, &key).await? else {
            return Err(CwError::ResourceNotFound(format!("Alarm {name} does not exist.")).into());
        };
        let mut alarm = old.clone();
        if !change(&mut alarm)? {
            return Ok(old);
        }
        let mut items: Vec<HistoryRecord> = vec![];
        if alarm.state.value != old.state.value {
            items.push(history::state_change(name, &old.state, &alarm.state));
        }
        let invocations = action::invocations(old.state.value, &alarm);
        items.extend(invocations.iter().map(history::invoked));
        if commit_with(store, &key, mod_revision, &alarm, &items, &invocations).await? {
            return Ok(alarm);
        }
    }
    Err(DocumentError::Contended { key }.into())
}

/// Sets an alarm's state (SetAlarmState, the evaluator): `updated_ms` is `state.updated_ms`;
/// the transition time moves only when the value changes.
pub async fn set_state(store: &dyn Store, name: &str, mut state: AlarmState) -> Result<AlarmRecord, AlarmsError> {
    update_alarm(store, name, |alarm| {
        state.transitioned_ms =
            if state.value == alarm.state.value { alarm.state.transitioned_ms } else { state.updated_ms };
        let changed = alarm.state != state;
        alarm.state = state.clone();
        Ok(changed)
    })
    .await
}

/// Deletes the named alarms, all or none: ResourceNotFound names those that do not exist.
pub async fn delete_alarms(store: &dyn Store, names: &[String]) -> Result<(), AlarmsError> {
    for _ in 0..documents::MAX_ATTEMPTS {
        let mut txn = Txn::new();
        let mut missing = vec![];
        for name in names {
            let key = keys::alarm(name);
            match store.get(&key).await? {
                Some(kv) => txn = txn.when(Compare::ModRevision(key.clone(), kv.mod_revision)).delete(key),
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            return Err(CwError::ResourceNotFound(format!(
                "{} alarm(s) not found: {}",
                missing.len(),
                missing.join(", ")
            ))
            .into());
        }
        if store.txn(txn).await?.succeeded {
            return Ok(());
        }
    }
    Err(DocumentError::Contended { key: keys::ALARMS.into() }.into())
}

/// Writes the alarm and its history items if the alarm is still at `seen`.
async fn commit(
    store: &dyn Store,
    key: &str,
    seen: berth_store::Revision,
    alarm: &AlarmRecord,
    items: &[HistoryRecord],
) -> Result<bool, AlarmsError> {
    commit_with(store, key, seen, alarm, items, &[]).await
}

/// `commit`, with the alarm actions the change invokes (for their runner to take).
async fn commit_with(
    store: &dyn Store,
    key: &str,
    seen: berth_store::Revision,
    alarm: &AlarmRecord,
    items: &[HistoryRecord],
    invocations: &[Invocation],
) -> Result<bool, AlarmsError> {
    let mut txn = Txn::new().when(Compare::ModRevision(key.to_string(), seen)).put(key, documents::encode(alarm)?);
    for item in items {
        let (k, v) = history::entry(item)?;
        txn = txn.put(k, v);
    }
    for i in invocations {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        txn = txn.put(keys::invocation(i.timestamp_ms, &unique[..12]), documents::encode(i)?);
    }
    Ok(store.txn(txn).await?.succeeded)
}

/// The alarm actions invoked and not yet taken, oldest first, with their keys (one that
/// does not decode has None, to be taken all the same).
pub async fn pending_invocations(store: &dyn Store) -> Result<Vec<(String, Option<Invocation>)>, AlarmsError> {
    let (kvs, _) = store.range(keys::INVOCATIONS).await?;
    Ok(kvs.iter().map(|kv| (kv.key.clone(), documents::decodable::<Invocation>(kv).map(|d| d.value))).collect())
}

/// Forgets invocations once their runner has taken them.
pub async fn take_invocations(store: &dyn Store, taken: &[String]) -> Result<(), AlarmsError> {
    for chunk in taken.chunks(100) {
        store.txn(chunk.iter().fold(Txn::new(), |t, k| t.delete(k.clone()))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_model::arn::Scope;
    use berth_model::cloudwatch::alarm::{HistoryRecord, validate};
    use berth_model::cloudwatch::{HistoryItemType, PutMetricAlarmInput, StateValue};
    use berth_store::MemoryStore;

    fn alarm(threshold: f64, now_ms: i64) -> AlarmRecord {
        let input: PutMetricAlarmInput = serde_json::from_value(serde_json::json!({
            "AlarmName": "TargetTracking-service/default/web-AlarmHigh-1",
            "MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "Average",
            "Period": 60, "EvaluationPeriods": 3, "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "Tags": [{"Key": "team", "Value": "a"}]
        }))
        .unwrap();
        validate(&input, &Scope::new("us-east-1", "000000000000"), now_ms).unwrap()
    }

    async fn history(store: &dyn Store) -> Vec<HistoryRecord> {
        documents::list(store, keys::HISTORY).await.unwrap().into_iter().map(|d| d.value).collect()
    }

    #[tokio::test]
    async fn replacing_an_alarm_keeps_its_state_and_records_history() {
        let store = MemoryStore::new();
        let a = put_alarm(&store, alarm(70.0, 1_000)).await.unwrap();
        let alarming = AlarmState {
            value: StateValue::Alarm,
            reason: "Threshold Crossed".into(),
            reason_data: Some("{\"version\":\"1.0\"}".into()),
            updated_ms: 2_000,
            transitioned_ms: 0,
        };
        let set = set_state(&store, &a.name, alarming).await.unwrap();
        assert_eq!(set.state.transitioned_ms, 2_000);
        let mut replacement = alarm(80.0, 3_000);
        replacement.tags.clear();
        let b = put_alarm(&store, replacement).await.unwrap();
        assert_eq!(b.state.value, StateValue::Alarm);
        assert_eq!(b.threshold, Some(80.0));
        assert_eq!(b.tags.len(), 1, "tags are kept when the update gives none");
        let items = history(&store).await;
        let kinds: Vec<_> = items.iter().map(|h| (h.item_type, h.summary.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (
                    HistoryItemType::ConfigurationUpdate,
                    "Alarm \"TargetTracking-service/default/web-AlarmHigh-1\" created"
                ),
                (HistoryItemType::StateUpdate, "Alarm updated from INSUFFICIENT_DATA to ALARM"),
                (
                    HistoryItemType::ConfigurationUpdate,
                    "Alarm \"TargetTracking-service/default/web-AlarmHigh-1\" updated"
                ),
            ]
        );
        let data: serde_json::Value = serde_json::from_str(&items[1].data).unwrap();
        assert_eq!(data["newState"]["stateValue"], "ALARM");
        assert_eq!(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    }

    #[tokio::test]
    async fn deleting_is_all_or_nothing() {
        let store = MemoryStore::new();
        let a = put_alarm(&store, alarm(70.0, 1_000)).await.unwrap();
        let err = delete_alarms(&store, &[a.name.clone(), "nope".into()]).await.unwrap_err();
        assert!(matches!(err, AlarmsError::Cw(CwError::ResourceNotFound(_))), "{err}");
        assert!(get_alarm(&store, &a.name).await.unwrap().is_some());
        delete_alarms(&store, std::slice::from_ref(&a.name)).await.unwrap();
        assert!(list_alarms(&store).await.unwrap().is_empty());
        let err = set_state(&store, &a.name, a.state.clone()).await.unwrap_err();
        assert!(matches!(err, AlarmsError::Cw(CwError::ResourceNotFound(_))));
    }
}
