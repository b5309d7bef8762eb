//! The CloudWatch alarms target tracking keeps, through berth-cloudwatch's alarm
//! functions (checked as CloudWatch checks PutMetricAlarm, with their history).

use crate::context::Ctx;
use crate::error::AwsError;
use berth_cloudwatch::AlarmsError;
use berth_model::application_autoscaling::alarms::AlarmSpec;
use berth_model::application_autoscaling::{AasError, Alarm};
use berth_model::cloudwatch::CwError;

/// A refusal of CloudWatch's is the policy's fault (a customized metric it cannot
/// alarm on): ValidationException with CloudWatch's words.
fn refused(e: AlarmsError) -> AwsError {
    match e {
        AlarmsError::Cw(e) => AasError::Validation(e.to_string()).into(),
        AlarmsError::Store(e) => e.into(),
    }
}

/// Creates or replaces each alarm; answers their names and ARNs.
pub async fn put(ctx: &Ctx, wanted: &[AlarmSpec]) -> Result<Vec<Alarm>, AwsError> {
    let now = berth_metric_store::now_ms();
    let mut records = vec![];
    for spec in wanted {
        let input = spec.to_input()?;
        records
            .push(berth_model::cloudwatch::alarm::validate(&input, ctx.scope(), now).map_err(|e| refused(e.into()))?);
    }
    let mut out = vec![];
    for record in records {
        let stored = berth_cloudwatch::put_alarm(ctx.store(), record).await.map_err(refused)?;
        out.push(Alarm { alarm_name: stored.name, alarm_arn: stored.arn });
    }
    Ok(out)
}

/// Deletes the alarms named; those already gone (a user deleted them) are skipped.
pub async fn delete(ctx: &Ctx, names: &[String]) -> Result<(), AwsError> {
    for name in names {
        match berth_cloudwatch::delete_alarms(ctx.store(), std::slice::from_ref(name)).await {
            Ok(()) | Err(AlarmsError::Cw(CwError::ResourceNotFound(_))) => {}
            Err(e) => return Err(refused(e)),
        }
    }
    Ok(())
}
