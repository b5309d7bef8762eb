//! Suspend/ResumeProcesses and DescribeScalingProcessTypes. The group controller honours
//! Launch, Terminate and ReplaceUnhealthy; the others are stored and shown.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::validate::{self as rules, PROCESSES};
use berth_model::autoscaling::*;
use serde::de::IgnoredAny;

/// The processes a request names, or all of them when it names none.
fn named(input: &ScalingProcessQuery) -> Result<Vec<String>, AwsError> {
    let given = input.scaling_processes.clone().unwrap_or_default();
    rules::processes(&given)?;
    Ok(if given.is_empty() { PROCESSES.iter().map(|p| p.to_string()).collect() } else { given })
}

pub async fn suspend(ctx: Ctx, input: ScalingProcessQuery) -> Result<(), AwsError> {
    let processes = named(&input)?;
    ops::edit_live(ctx.store(), arn::name_or_arn(&input.auto_scaling_group_name), |g| {
        for p in &processes {
            if !g.is_suspended(p) {
                g.suspended_processes.push(SuspendedProcess {
                    process_name: Some(p.clone()),
                    suspension_reason: Some(
                        "User suspended at ".to_string()
                            + &berth_model::timestamp::to_iso8601(berth_model::Timestamp::now()),
                    ),
                });
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}

pub async fn resume(ctx: Ctx, input: ScalingProcessQuery) -> Result<(), AwsError> {
    let processes = named(&input)?;
    ops::edit_live(ctx.store(), arn::name_or_arn(&input.auto_scaling_group_name), |g| {
        g.suspended_processes.retain(|s| s.process_name.as_ref().is_none_or(|p| !processes.contains(p)));
        Ok(())
    })
    .await?;
    Ok(())
}

pub async fn types(_ctx: Ctx, _input: IgnoredAny) -> Result<ProcessesType, AwsError> {
    Ok(ProcessesType {
        processes: Some(PROCESSES.iter().map(|p| ProcessType { process_name: p.to_string() }).collect()),
    })
}
