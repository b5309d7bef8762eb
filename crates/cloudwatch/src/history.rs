//! An alarm's history items (DescribeAlarmHistory), in the store under
//! `cloudwatch/alarm-history/`, in the words and JSON AWS writes them.

use berth_model::cloudwatch::action::Invocation;
use berth_model::cloudwatch::alarm::{AlarmRecord, AlarmState, HistoryRecord};
use berth_model::cloudwatch::{HistoryItemType, keys};
use berth_store::documents;

/// The key and encoded value of a history item, to write in the same transaction as
/// the change it records.
pub fn entry(record: &HistoryRecord) -> Result<(String, Vec<u8>), documents::DocumentError> {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    Ok((keys::history(record.timestamp_ms, &unique[..12]), documents::encode(record)?))
}

/// "Alarm "NAME" created" / "updated", with the configuration as AWS's HistoryData shows it.
pub fn configuration(alarm: &AlarmRecord, created: bool, now_ms: i64) -> HistoryRecord {
    let shown = serde_json::to_value(alarm.to_metric_alarm()).unwrap_or_default();
    let (kind, field, verb) =
        if created { ("Create", "createdAlarm", "created") } else { ("Update", "updatedAlarm", "updated") };
    HistoryRecord {
        alarm_name: alarm.name.clone(),
        timestamp_ms: now_ms,
        item_type: HistoryItemType::ConfigurationUpdate,
        summary: format!("Alarm \"{}\" {verb}", alarm.name),
        data: serde_json::json!({ "type": kind, field: shown }).to_string(),
    }
}

/// "Alarm updated from OK to ALARM", with the old and new states.
pub fn state_change(name: &str, old: &AlarmState, new: &AlarmState) -> HistoryRecord {
    let state = |s: &AlarmState| {
        let mut v = serde_json::json!({ "stateValue": s.value.as_str(), "stateReason": s.reason });
        if let Some(data) = s.reason_data.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()) {
            v["stateReasonData"] = data;
        }
        v
    };
    HistoryRecord {
        alarm_name: name.to_string(),
        timestamp_ms: new.updated_ms,
        item_type: HistoryItemType::StateUpdate,
        summary: format!("Alarm updated from {} to {}", old.value, new.value),
        data: serde_json::json!({ "version": "1.0", "oldState": state(old), "newState": state(new) }).to_string(),
    }
}

/// An action the alarm took (or could not take), as AWS records it.
pub fn action(name: &str, now_ms: i64, summary: String, data: serde_json::Value) -> HistoryRecord {
    HistoryRecord {
        alarm_name: name.to_string(),
        timestamp_ms: now_ms,
        item_type: HistoryItemType::Action,
        summary,
        data: data.to_string(),
    }
}

/// "Successfully executed action ARN": a scaling policy handed its invocation.
pub fn invoked(i: &Invocation) -> HistoryRecord {
    let data = serde_json::json!({
        "actionState": "Succeeded",
        "stateUpdateTimestamp": berth_model::cloudwatch::evaluate::reason_date(i.timestamp_ms),
        "notificationResource": i.action_arn,
    });
    action(&i.alarm_name, i.timestamp_ms, format!("Successfully executed action {}", i.action_arn), data)
}
