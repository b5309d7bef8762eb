//! Scaling policies (PutScalingPolicy, DescribePolicies, DeletePolicy), kept in their
//! group's record. ECS's managed scaling creates its `ECSManagedAutoScalingPolicy-…`
//! target-tracking policy through `put_scaling_policy`. Policies are stored and shown;
//! berth does not evaluate them against CloudWatch alarms.

use crate::Error;
use crate::groups::edit_live;
use berth_model::arn::Scope;
use berth_model::autoscaling::validate::{self, POLICIES_MAX};
use berth_model::autoscaling::{AsgError, PolicyARNType, PutScalingPolicyType, ScalingPolicy, arn};
use berth_store::Store;

/// PutScalingPolicy: creates the policy, or replaces the one of that name (keeping its ARN).
pub async fn put_scaling_policy(
    store: &dyn Store,
    scope: &Scope,
    input: &PutScalingPolicyType,
) -> Result<PolicyARNType, Error> {
    let kind = validate::scaling_policy(input)?;
    let group = arn::name_or_arn(&input.auto_scaling_group_name).to_string();
    let fresh = uuid::Uuid::new_v4().to_string();
    let policy_arn = edit_live(store, &group, |g| {
        let existing = g.policies.iter().position(|p| p.policy_name.as_deref() == Some(input.policy_name.as_str()));
        if existing.is_none() && g.policies.len() >= POLICIES_MAX {
            return Err(AsgError::LimitExceeded(format!(
                "The quota of {POLICIES_MAX} scaling policies per group is reached."
            )));
        }
        let policy_arn = existing
            .and_then(|i| g.policies[i].policy_arn.clone())
            .unwrap_or_else(|| arn::policy(scope, &fresh, &g.name, &input.policy_name));
        let policy = ScalingPolicy {
            auto_scaling_group_name: Some(g.name.clone()),
            policy_name: Some(input.policy_name.clone()),
            policy_arn: Some(policy_arn.clone()),
            policy_type: Some(kind.clone()),
            adjustment_type: input.adjustment_type.clone(),
            min_adjustment_step: input.min_adjustment_step,
            min_adjustment_magnitude: input.min_adjustment_magnitude,
            scaling_adjustment: input.scaling_adjustment,
            cooldown: input.cooldown,
            step_adjustments: input.step_adjustments.clone(),
            metric_aggregation_type: input.metric_aggregation_type.clone(),
            estimated_instance_warmup: input.estimated_instance_warmup,
            alarms: Some(vec![]),
            target_tracking_configuration: input.target_tracking_configuration.clone(),
            enabled: Some(input.enabled.unwrap_or(true)),
            predictive_scaling_configuration: input.predictive_scaling_configuration.clone(),
        };
        match existing {
            Some(i) => g.policies[i] = policy,
            None => g.policies.push(policy),
        }
        Ok(policy_arn)
    })
    .await?;
    Ok(PolicyARNType { policy_arn: Some(policy_arn), alarms: Some(vec![]) })
}

/// DeletePolicy: by name within the group, or by ARN. ValidationError when there is none.
pub async fn delete_policy(store: &dyn Store, group: Option<&str>, policy: &str) -> Result<(), Error> {
    let group = match group {
        Some(g) => arn::name_or_arn(g).to_string(),
        None => policy_group(policy).ok_or_else(|| {
            AsgError::validation(format!(
                "Policy '{policy}' is not a scaling policy ARN: name its AutoScalingGroupName too."
            ))
        })?,
    };
    crate::groups::edit(store, &group, |g| {
        let before = g.policies.len();
        g.policies.retain(|p| p.policy_name.as_deref() != Some(policy) && p.policy_arn.as_deref() != Some(policy));
        if g.policies.len() == before {
            return Err(AsgError::validation(format!(
                "No scaling policy found for service namespace: autoscaling, policy: {policy}"
            )));
        }
        Ok(())
    })
    .await
}

/// The group a policy ARN names (`...:autoScalingGroupName/G:policyName/P`).
fn policy_group(policy_arn: &str) -> Option<String> {
    let (_, rest) = policy_arn.split_once(":autoScalingGroupName/")?;
    let (group, _) = rest.split_once(":policyName/")?;
    Some(group.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::choose::tests::group;
    use crate::groups::{create_group, get_group};
    use berth_model::autoscaling::{PredefinedMetricSpecification, TargetTrackingConfiguration};
    use berth_store::MemoryStore;

    fn target_tracking(name: &str) -> PutScalingPolicyType {
        PutScalingPolicyType {
            auto_scaling_group_name: "g".into(),
            policy_name: name.into(),
            policy_type: Some("TargetTrackingScaling".into()),
            adjustment_type: None,
            min_adjustment_step: None,
            min_adjustment_magnitude: None,
            scaling_adjustment: None,
            cooldown: None,
            metric_aggregation_type: None,
            step_adjustments: None,
            estimated_instance_warmup: None,
            enabled: None,
            predictive_scaling_configuration: None,
            target_tracking_configuration: Some(TargetTrackingConfiguration {
                predefined_metric_specification: Some(PredefinedMetricSpecification {
                    predefined_metric_type: berth_model::autoscaling::MetricType::ASGAverageCPUUtilization,
                    resource_label: None,
                }),
                target_value: 100.0,
                disable_scale_in: Some(true),
                customized_metric_specification: None,
            }),
        }
    }

    #[tokio::test]
    async fn policies_are_put_replaced_and_deleted() {
        let store = MemoryStore::new();
        create_group(&store, &group(&["a"])).await.unwrap();
        let scope = Scope::new("us-east-1", "123456789012");
        let first =
            put_scaling_policy(&store, &scope, &target_tracking("ECSManagedAutoScalingPolicy-1")).await.unwrap();
        let again =
            put_scaling_policy(&store, &scope, &target_tracking("ECSManagedAutoScalingPolicy-1")).await.unwrap();
        assert_eq!(first.policy_arn, again.policy_arn, "replaced in place");
        let arn = first.policy_arn.unwrap();
        assert!(
            arn.contains(":scalingPolicy:")
                && arn.ends_with(":autoScalingGroupName/g:policyName/ECSManagedAutoScalingPolicy-1")
        );
        assert_eq!(get_group(&store, "g").await.unwrap().unwrap().policies.len(), 1);
        let simple =
            PutScalingPolicyType { policy_type: None, target_tracking_configuration: None, ..target_tracking("s") };
        assert!(put_scaling_policy(&store, &scope, &simple).await.is_err(), "SimpleScaling needs its adjustment");
        delete_policy(&store, None, &arn).await.unwrap();
        assert!(delete_policy(&store, Some("g"), "ECSManagedAutoScalingPolicy-1").await.is_err());
    }
}
