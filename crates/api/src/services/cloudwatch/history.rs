//! DescribeAlarmHistory: the items `berth-cloudwatch` recorded, filtered and paged.

use super::{Ctx, ms, page};
use crate::error::AwsError;
use berth_model::cloudwatch::alarm::HistoryRecord;
use berth_model::cloudwatch::{
    AlarmType, CwError, DescribeAlarmHistoryInput, DescribeAlarmHistoryOutput, ScanBy, keys,
};
use berth_store::documents;

pub async fn describe(ctx: Ctx, input: DescribeAlarmHistoryInput) -> Result<DescribeAlarmHistoryOutput, AwsError> {
    let limit = match input.max_records {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(CwError::InvalidParameterValue(format!(
                "The parameter MaxRecords must be 1 to 100; {n} is not."
            ))
            .into());
        }
    };
    let metric_alarms = input.alarm_types.as_ref().is_none_or(|t| t.contains(&AlarmType::MetricAlarm));
    let (start, end) = (input.start_date.map(ms), input.end_date.map(ms));
    let mut items: Vec<HistoryRecord> = if metric_alarms {
        documents::list_decodable::<HistoryRecord>(ctx.store(), keys::HISTORY)
            .await?
            .into_iter()
            .map(|d| d.value)
            .filter(|h| input.alarm_name.as_ref().is_none_or(|n| *n == h.alarm_name))
            .filter(|h| input.history_item_type.is_none_or(|t| t == h.item_type))
            .filter(|h| start.is_none_or(|s| h.timestamp_ms >= s) && end.is_none_or(|e| h.timestamp_ms <= e))
            .collect()
    } else {
        vec![]
    };
    // Keys sort by time; newest first unless asked otherwise.
    if input.scan_by != Some(ScanBy::TimestampAscending) {
        items.reverse();
    }
    let (shown, next_token) = page(&items, input.next_token.as_deref(), limit)?;
    Ok(DescribeAlarmHistoryOutput {
        alarm_history_items: Some(shown.iter().map(HistoryRecord::to_item).collect()),
        next_token,
    })
}
