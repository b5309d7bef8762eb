//! PutMetricAlarm, DescribeAlarms(ForMetric), DeleteAlarms, SetAlarmState and
//! Enable/DisableAlarmActions, through `berth-cloudwatch` (which records history).

use super::data::Empty;
use super::{Ctx, now_ms, page};
use crate::error::AwsError;
use berth_model::cloudwatch::alarm::{self, AlarmMetric, AlarmRecord, AlarmStat, AlarmState};
use berth_model::cloudwatch::{
    AlarmType, CwError, DeleteAlarmsInput, DescribeAlarmsForMetricInput, DescribeAlarmsForMetricOutput,
    DescribeAlarmsInput, DescribeAlarmsOutput, DisableAlarmActionsInput, EnableAlarmActionsInput, PutMetricAlarmInput,
    SetAlarmStateInput,
};

pub async fn put(ctx: Ctx, input: PutMetricAlarmInput) -> Result<Empty, AwsError> {
    let record = alarm::validate(&input, ctx.scope(), now_ms())?;
    berth_cloudwatch::put_alarm(ctx.store(), record).await?;
    Ok(Empty {})
}

fn check_names(names: &[String]) -> Result<(), CwError> {
    if names.len() > 100 {
        return Err(CwError::InvalidParameterValue(format!(
            "The collection AlarmNames must not have a size greater than 100; it has {}.",
            names.len()
        )));
    }
    Ok(())
}

pub async fn describe(ctx: Ctx, input: DescribeAlarmsInput) -> Result<DescribeAlarmsOutput, AwsError> {
    let names = input.alarm_names.unwrap_or_default();
    check_names(&names)?;
    if !names.is_empty() && input.alarm_name_prefix.is_some() {
        return Err(CwError::InvalidParameterCombination(
            "AlarmNames and AlarmNamePrefix cannot be specified together.".into(),
        )
        .into());
    }
    let limit = match input.max_records {
        None => 50,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(CwError::InvalidParameterValue(format!(
                "The parameter MaxRecords must be 1 to 100; {n} is not."
            ))
            .into());
        }
    };
    // Without AlarmTypes AWS describes metric alarms only; berth has no composite alarms.
    let metric_alarms = input.alarm_types.as_ref().is_none_or(|t| t.contains(&AlarmType::MetricAlarm));
    let all = if metric_alarms { berth_cloudwatch::list_alarms(ctx.store()).await? } else { vec![] };
    let matching: Vec<AlarmRecord> = all
        .into_iter()
        .filter(|a| names.is_empty() || names.contains(&a.name))
        .filter(|a| input.alarm_name_prefix.as_ref().is_none_or(|p| a.name.starts_with(p.as_str())))
        .filter(|a| input.state_value.is_none_or(|s| a.state.value == s))
        .filter(|a| input.action_prefix.as_ref().is_none_or(|p| a.actions().any(|x| x.starts_with(p.as_str()))))
        .collect();
    let (shown, next_token) = page(&matching, input.next_token.as_deref(), limit)?;
    Ok(DescribeAlarmsOutput {
        metric_alarms: Some(shown.iter().map(AlarmRecord::to_metric_alarm).collect()),
        composite_alarms: Some(vec![]),
        next_token,
        ..Default::default()
    })
}

pub async fn for_metric(
    ctx: Ctx,
    input: DescribeAlarmsForMetricInput,
) -> Result<DescribeAlarmsForMetricOutput, AwsError> {
    let mut dims = input.dimensions.clone().unwrap_or_default();
    dims.sort_by(|a, b| a.name.cmp(&b.name));
    let alarms = berth_cloudwatch::list_alarms(ctx.store()).await?;
    let matching = alarms.iter().filter(|a| {
        let AlarmMetric::Single(m) = &a.metric else { return false };
        let mut theirs = m.dimensions.clone();
        theirs.sort_by(|a, b| a.name.cmp(&b.name));
        m.namespace == input.namespace
            && m.metric_name == input.metric_name
            && (input.dimensions.is_none() || theirs == dims)
            && input.period.is_none_or(|p| p == m.period)
            && input.unit.is_none_or(|u| m.unit == Some(u))
            && input.statistic.is_none_or(|s| m.stat == AlarmStat::Statistic(s))
            && input.extended_statistic.as_ref().is_none_or(|p| m.stat == AlarmStat::Extended(p.clone()))
    });
    Ok(DescribeAlarmsForMetricOutput { metric_alarms: Some(matching.map(AlarmRecord::to_metric_alarm).collect()) })
}

pub async fn delete(ctx: Ctx, input: DeleteAlarmsInput) -> Result<Empty, AwsError> {
    check_names(&input.alarm_names)?;
    berth_cloudwatch::delete_alarms(ctx.store(), &input.alarm_names).await?;
    Ok(Empty {})
}

pub async fn set_state(ctx: Ctx, input: SetAlarmStateInput) -> Result<Empty, AwsError> {
    if input.state_reason.chars().count() > 1023 {
        return Err(CwError::InvalidParameterValue(
            "The parameter StateReason must be at most 1023 characters long.".into(),
        )
        .into());
    }
    if let Some(data) = &input.state_reason_data {
        if data.chars().count() > 4000 {
            return Err(CwError::InvalidParameterValue(
                "The parameter StateReasonData must be at most 4000 characters long.".into(),
            )
            .into());
        }
        if serde_json::from_str::<serde_json::Value>(data).is_err() {
            return Err(CwError::InvalidFormat("Unable to parse StateReasonData as JSON.".into()).into());
        }
    }
    let now = now_ms();
    let state = AlarmState {
        value: input.state_value,
        reason: input.state_reason,
        reason_data: input.state_reason_data,
        updated_ms: now,
        transitioned_ms: now,
    };
    berth_cloudwatch::set_state(ctx.store(), &input.alarm_name, state).await?;
    Ok(Empty {})
}

async fn set_actions(ctx: &Ctx, names: &[String], enabled: bool) -> Result<Empty, AwsError> {
    check_names(names)?;
    for name in names {
        // Like AWS, names that are no alarm are passed over.
        match berth_cloudwatch::update_alarm(ctx.store(), name, |a| {
            let changed = a.actions_enabled != enabled;
            a.actions_enabled = enabled;
            Ok(changed)
        })
        .await
        {
            Ok(_) | Err(berth_cloudwatch::AlarmsError::Cw(CwError::ResourceNotFound(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Empty {})
}

pub async fn enable_actions(ctx: Ctx, input: EnableAlarmActionsInput) -> Result<Empty, AwsError> {
    set_actions(&ctx, &input.alarm_names, true).await
}

pub async fn disable_actions(ctx: Ctx, input: DisableAlarmActionsInput) -> Result<Empty, AwsError> {
    set_actions(&ctx, &input.alarm_names, false).await
}
