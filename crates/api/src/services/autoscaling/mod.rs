//! Amazon EC2 Auto Scaling (query protocol, Version 2011-01-01, signing name
//! `autoscaling`): groups, their instances, scaling activities, lifecycle hooks, tags,
//! suspended processes and scaling policies, kept in the group's record in the store
//! (`berth_model::autoscaling::keys`). Handlers are thin: the rules are
//! `berth_model::autoscaling`'s, the operations `berth-autoscaling`'s; launching and
//! terminating in EC2 is the group controller's (`berth_control::auto_scaling_groups`).

use crate::context::Ctx;
use crate::error::AwsError;
use crate::protocol::dispatch;
use crate::protocol::query::Params;
use crate::route::Service;
use berth_model::autoscaling::AsgError;

pub(crate) mod access;
mod account;
mod activities;
mod groups;
mod hooks;
mod instances;
mod policies;
mod processes;
mod tags;

pub const VERSION: &str = "2011-01-01";
pub const XMLNS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

pub const SERVICE: Service =
    Service::query("autoscaling", VERSION, XMLNS, |ctx, action, params| Box::pin(call(ctx, action, params)));

/// The result XML of `action`.
pub async fn call(ctx: Ctx, action: &str, params: &Params) -> Result<String, AwsError> {
    dispatch!(query(ctx, action, params) else AwsError::invalid_action(action); {
        "CreateAutoScalingGroup" => groups::create,
        "UpdateAutoScalingGroup" => groups::update,
        "DeleteAutoScalingGroup" => groups::delete,
        "DescribeAutoScalingGroups" => groups::describe,
        "SetDesiredCapacity" => groups::set_desired_capacity,
        "DescribeAutoScalingInstances" => instances::describe,
        "TerminateInstanceInAutoScalingGroup" => instances::terminate,
        "SetInstanceProtection" => instances::set_protection,
        "SetInstanceHealth" => instances::set_health,
        "DescribeScalingActivities" => activities::describe,
        "PutLifecycleHook" => hooks::put,
        "DescribeLifecycleHooks" => hooks::describe,
        "DeleteLifecycleHook" => hooks::delete,
        "CompleteLifecycleAction" => hooks::complete,
        "DescribeLifecycleHookTypes" => hooks::types,
        "CreateOrUpdateTags" => tags::create_or_update,
        "DeleteTags" => tags::delete,
        "DescribeTags" => tags::describe,
        "SuspendProcesses" => processes::suspend,
        "ResumeProcesses" => processes::resume,
        "DescribeScalingProcessTypes" => processes::types,
        "PutScalingPolicy" => policies::put,
        "DescribePolicies" => policies::describe,
        "DeletePolicy" => policies::delete,
        "DescribeAdjustmentTypes" => policies::adjustment_types,
        "DescribeAccountLimits" => account::limits,
        "DescribeLaunchConfigurations" => account::launch_configurations,
        "DescribeTerminationPolicyTypes" => account::termination_policy_types,
    })
}

/// `NextToken` / `MaxRecords` paging over items in `key` order: the token is the last
/// returned item's key (never repeated, never empty); a token that is no item's key is
/// InvalidNextToken.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    next_token: Option<&str>,
    max_records: Option<i32>,
    default: usize,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let size = match max_records {
        None => default,
        Some(n) if n >= 1 && n as usize <= limit => n as usize,
        Some(n) => return Err(AsgError::validation(format!("MaxRecords {n} must be between 1 and {limit}.")).into()),
    };
    let start = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => items.iter().position(|i| key(i) == t).map(|p| p + 1).ok_or_else(AsgError::invalid_next_token)?,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > size).then(|| key(&rest[size - 1]));
    rest.truncate(size);
    Ok((rest, next))
}

/// A `Filters` list as (name, values) pairs.
fn filters(given: Option<&[berth_model::autoscaling::Filter]>) -> Vec<(String, Vec<String>)> {
    given
        .unwrap_or_default()
        .iter()
        .map(|f| (f.name.clone().unwrap_or_default(), f.values.clone().unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_token() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (first, next) = page(items.clone(), |s| s.clone(), None, Some(2), 50, 100).unwrap();
        assert_eq!((first.len(), next.as_deref()), (2, Some("b")));
        let (second, next) = page(items.clone(), |s| s.clone(), Some("b"), Some(2), 50, 100).unwrap();
        assert_eq!((second, next), (vec!["c".to_string()], None));
        assert_eq!(page(items.clone(), |s| s.clone(), Some("zz"), None, 50, 100).unwrap_err().code, "InvalidNextToken");
        assert!(page(items, |s| s.clone(), None, Some(101), 50, 100).is_err());
    }
}
