//! Where CloudWatch's alarms live in the store. (Datapoints are in berth-metric-store.)

/// `cloudwatch/alarms/{name}`: an alarm (`AlarmRecord`). Names may hold `/`; they are
/// only ever read whole or listed under `ALARMS`.
pub fn alarm(name: &str) -> String {
    format!("cloudwatch/alarms/{name}")
}

pub const ALARMS: &str = "cloudwatch/alarms/";

/// `cloudwatch/alarm-history/{timestamp_ms:015}-{unique}`: one history item
/// (`HistoryRecord`), in time order.
pub fn history(timestamp_ms: i64, unique: &str) -> String {
    format!("cloudwatch/alarm-history/{:015}-{unique}", timestamp_ms.max(0))
}

pub const HISTORY: &str = "cloudwatch/alarm-history/";

/// `cloudwatch/action-invocations/{timestamp_ms:015}-{unique}`: an alarm action waiting
/// to run (`action::Invocation`), in time order; its runner deletes it.
pub fn invocation(timestamp_ms: i64, unique: &str) -> String {
    format!("cloudwatch/action-invocations/{:015}-{unique}", timestamp_ms.max(0))
}

pub const INVOCATIONS: &str = "cloudwatch/action-invocations/";
