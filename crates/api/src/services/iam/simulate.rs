//! SimulatePrincipalPolicy: what enforcement would decide for a user or role, by the same
//! evaluator and the same policies (`authorize`), for each action on each resource given
//! (`*` when none), with the extra identity policies of PolicyInputList and the
//! ContextEntries as condition keys.

use crate::authorize::identity::Identity;
use crate::authorize::{Facts, Target, request};
use crate::context::Ctx;
use crate::error::AwsError;
use berth_model::iam::records::{RoleRecord, UserRecord};
use berth_model::iam::{
    EvaluationResult, IamError, PermissionsBoundaryDecisionDetail, PolicyEvaluationDecisionType,
    SimulatePolicyResponse, SimulatePrincipalPolicyRequest, keys,
};
use berth_policy::{Decision, Policy, PolicyKind, PolicyType, evaluate_bounded};
use berth_store::documents;

/// The session name a simulated role acts under.
const SESSION: &str = "SimulatePrincipalPolicy";

pub async fn principal(ctx: Ctx, req: SimulatePrincipalPolicyRequest) -> Result<SimulatePolicyResponse, AwsError> {
    let source = req.policy_source_arn.as_str();
    let account = ctx.scope().account.clone();
    // A role is simulated as a session of it, as it acts when assumed.
    let arn = match source.strip_prefix(&format!("arn:aws:iam::{account}:")) {
        Some(rest) if rest.starts_with("user/") => {
            exists::<UserRecord>(&ctx, &keys::user(name_in(rest)), source).await?;
            source.to_string()
        }
        Some(rest) if rest.starts_with("role/") => {
            exists::<RoleRecord>(&ctx, &keys::role(name_in(rest)), source).await?;
            format!("arn:aws:sts::{account}:assumed-role/{}/{SESSION}", name_in(rest))
        }
        _ => String::new(),
    };
    let identity = Identity::of(&arn).ok_or_else(|| {
        IamError::InvalidInput(format!(
            "Invalid ARN: {source}. PolicySourceArn must be the ARN of a user or role in this account."
        ))
    })?;
    let loaded = ctx.api.policies.get(&ctx.api.store, &arn, &identity).await?;
    let mut extra = Vec::new();
    for doc in req.policy_input_list.iter().flatten() {
        let policy =
            Policy::parse(doc, PolicyKind::Identity).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        extra.push(policy);
    }
    let policies: Vec<&Policy> = loaded.policies.iter().chain(&extra).collect();
    let facts = Facts { source_ip: None, region: ctx.scope().region.clone(), now: time::OffsetDateTime::now_utc() };
    let context: Vec<(String, Vec<String>)> = req
        .context_entries
        .iter()
        .flatten()
        .filter_map(|e| Some((e.context_key_name.clone()?, e.context_key_values.clone().unwrap_or_default())))
        .collect();
    let resources = req.resource_arns.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| vec!["*".to_string()]);
    let mut results = Vec::new();
    for action in &req.action_names {
        for resource in &resources {
            let target = Target { action: None, resource: resource.clone(), keys: context.clone() };
            let boundary = loaded.boundary.as_ref();
            let decision = evaluate_bounded(&request(&loaded, action, &target, &facts), &policies, boundary, None);
            let by_boundary = !matches!(
                decision,
                Decision::ExplicitDeny(PolicyType::PermissionsBoundary)
                    | Decision::ImplicitDeny(PolicyType::PermissionsBoundary)
            );
            results.push(EvaluationResult {
                eval_action_name: action.clone(),
                eval_resource_name: Some(resource.clone()),
                eval_decision: match decision {
                    Decision::Allow => PolicyEvaluationDecisionType::Allowed,
                    Decision::ExplicitDeny(_) => PolicyEvaluationDecisionType::ExplicitDeny,
                    Decision::ImplicitDeny(_) => PolicyEvaluationDecisionType::ImplicitDeny,
                },
                matched_statements: None,
                missing_context_values: Some(vec![]),
                organizations_decision_detail: None,
                permissions_boundary_decision_detail: boundary
                    .map(|_| PermissionsBoundaryDecisionDetail { allowed_by_permissions_boundary: Some(by_boundary) }),
                eval_decision_details: None,
                resource_specific_results: None,
            });
        }
    }
    Ok(SimulatePolicyResponse { evaluation_results: Some(results), is_truncated: Some(false), marker: None })
}

/// The name at the end of `user/PATH/NAME`.
fn name_in(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or_default()
}

async fn exists<T: serde::de::DeserializeOwned>(ctx: &Ctx, key: &str, arn: &str) -> Result<(), AwsError> {
    match documents::get::<T>(ctx.store(), key).await? {
        Some(_) => Ok(()),
        None => Err(IamError::NoSuchEntity(format!("The entity {arn} cannot be found.")).into()),
    }
}
