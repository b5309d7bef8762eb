//! Lifecycle hooks: Put/Describe/DeleteLifecycleHook, CompleteLifecycleAction and
//! DescribeLifecycleHookTypes. Hooks are stored and shown; instances do not wait in
//! Pending:Wait / Terminating:Wait for them (berth sends no lifecycle notifications), so
//! CompleteLifecycleAction is accepted for an instance of the group and changes nothing.

use crate::context::Ctx;
use crate::error::AwsError;
use berth_autoscaling::groups as ops;
use berth_model::autoscaling::validate::{self as rules, HOOK_TRANSITIONS, HOOKS_MAX};
use berth_model::autoscaling::*;
use serde::de::IgnoredAny;

pub async fn put(ctx: Ctx, input: PutLifecycleHookType) -> Result<PutLifecycleHookAnswer, AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name).to_string();
    ops::edit_live(ctx.store(), &name, |g| {
        let at = g
            .lifecycle_hooks
            .iter()
            .position(|h| h.lifecycle_hook_name.as_deref() == Some(input.lifecycle_hook_name.as_str()));
        let hook = rules::lifecycle_hook(&input, at.map(|i| &g.lifecycle_hooks[i]))?;
        match at {
            Some(i) => g.lifecycle_hooks[i] = hook,
            None if g.lifecycle_hooks.len() >= HOOKS_MAX => {
                return Err(AsgError::LimitExceeded(format!(
                    "The quota of {HOOKS_MAX} lifecycle hooks per group is reached."
                )));
            }
            None => g.lifecycle_hooks.push(hook),
        }
        Ok(())
    })
    .await?;
    Ok(PutLifecycleHookAnswer {})
}

pub async fn describe(ctx: Ctx, input: DescribeLifecycleHooksType) -> Result<DescribeLifecycleHooksAnswer, AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name);
    let group = ops::get_group(ctx.store(), name).await?.ok_or_else(|| AsgError::group_not_found(name))?;
    let wanted = input.lifecycle_hook_names.unwrap_or_default();
    let hooks = group
        .lifecycle_hooks
        .into_iter()
        .filter(|h| wanted.is_empty() || h.lifecycle_hook_name.as_ref().is_some_and(|n| wanted.contains(n)))
        .collect();
    Ok(DescribeLifecycleHooksAnswer { lifecycle_hooks: Some(hooks) })
}

pub async fn delete(ctx: Ctx, input: DeleteLifecycleHookType) -> Result<DeleteLifecycleHookAnswer, AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name).to_string();
    ops::edit(ctx.store(), &name, |g| {
        let before = g.lifecycle_hooks.len();
        g.lifecycle_hooks.retain(|h| h.lifecycle_hook_name.as_deref() != Some(input.lifecycle_hook_name.as_str()));
        if g.lifecycle_hooks.len() == before {
            return Err(no_hook(&input.lifecycle_hook_name, &name));
        }
        Ok(())
    })
    .await?;
    Ok(DeleteLifecycleHookAnswer {})
}

fn no_hook(hook: &str, group: &str) -> AsgError {
    AsgError::validation(format!("No Lifecycle Hook found with name {hook} for Auto Scaling group {group}"))
}

pub async fn complete(ctx: Ctx, input: CompleteLifecycleActionType) -> Result<CompleteLifecycleActionAnswer, AwsError> {
    let name = arn::name_or_arn(&input.auto_scaling_group_name);
    let group = ops::get_group(ctx.store(), name).await?.ok_or_else(|| AsgError::group_not_found(name))?;
    if !group
        .lifecycle_hooks
        .iter()
        .any(|h| h.lifecycle_hook_name.as_deref() == Some(input.lifecycle_hook_name.as_str()))
    {
        return Err(no_hook(&input.lifecycle_hook_name, name).into());
    }
    if input.lifecycle_action_result != "CONTINUE" && input.lifecycle_action_result != "ABANDON" {
        return Err(AsgError::validation(format!(
            "Lifecycle action result '{}' is not valid: use CONTINUE or ABANDON.",
            input.lifecycle_action_result
        ))
        .into());
    }
    match (&input.instance_id, &input.lifecycle_action_token) {
        (Some(id), _) if group.instance(id).is_none() => Err(AsgError::instance_not_in_group(id, name).into()),
        (None, None) => Err(AsgError::validation("Either InstanceId or LifecycleActionToken is required.").into()),
        _ => Ok(CompleteLifecycleActionAnswer {}),
    }
}

pub async fn types(_ctx: Ctx, _input: IgnoredAny) -> Result<DescribeLifecycleHookTypesAnswer, AwsError> {
    Ok(DescribeLifecycleHookTypesAnswer {
        lifecycle_hook_types: Some(HOOK_TRANSITIONS.iter().map(|t| t.to_string()).collect()),
    })
}
